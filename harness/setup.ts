/**
 * `npm run replay:setup`: everything a replay on a real kernel needs, from Debian's packages only.
 * `npm run replay:setup -- --packages-only`: step 1 alone, which is also what the tests need
 * (gcc and libc6-dev build the replayer, cpio reads the initramfs back); `.ci/run` runs it before
 * `npm test`.
 *
 *  1. Debian packages: qemu-system-x86, busybox-static, xfsprogs, e2fsprogs, kmod, cpio, gcc,
 *     libc6-dev (apt-get, only those missing).
 *  2. The kernel: the cloud kernel package linux-image-cloud-amd64 currently depends on (looked up
 *     with apt-cache, fetched with apt-get download, unpacked with dpkg -x, modules indexed with
 *     depmod -b). It has FS_DAX built in; the NVDIMM drivers and XFS are modules.
 *  3. The replayer (harness/replayer.c), built static.
 *  4. The initramfs: busybox, harness/guest/init, the replayer, the modules; and a second archive
 *     with mke2fs and mkfs.xfs, used only to make the golden images.
 *  5. Golden images, one per filesystem: the emulated NVDIMM switched to fsdax, the filesystem
 *     made in the guest, an empty file created and synced (the model's initial state).
 *
 * Idempotent: each part is redone only when what it is made from changed (harness/work/setup.json).
 * Nothing is downloaded except through apt. Writes only under harness/work/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  ftruncateSync,
  closeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { boot, buildReplayer, guestSourcesHash, FILESYSTEMS, HARNESS_DIR, IMAGE_MB, kernelImage, paths, tail, type Fs, GUEST_EXIT } from '../src/replay/vm.ts';

const PACKAGES: { pkg: string; provides: string }[] = [
  { pkg: 'qemu-system-x86', provides: 'qemu-system-x86_64' },
  { pkg: 'busybox-static', provides: 'a static busybox for the guest' },
  { pkg: 'xfsprogs', provides: 'mkfs.xfs' },
  { pkg: 'e2fsprogs', provides: 'mke2fs' },
  { pkg: 'kmod', provides: 'depmod' },
  { pkg: 'cpio', provides: 'cpio' },
  { pkg: 'gcc', provides: 'gcc' },
  { pkg: 'libc6-dev', provides: 'the static C library' },
];
/** Modules the guest loads, with their dependencies (from modules.dep), in load order. */
const WANTED_MODULES = ['libnvdimm', 'nd_btt', 'nd_pmem', 'nfit', 'libcrc32c', 'xfs'];
const BUSYBOX_APPLETS = ['sh', 'mount', 'umount', 'cat', 'echo', 'sleep', 'mkdir', 'insmod', 'sync', 'test', '[', 'ls', 'dmesg'];

class SetupError extends Error {}

const t0 = performance.now();
const log = (msg: string) => process.stderr.write(`replay:setup: ${msg}\n`);
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

function run(cmd: string, args: string[], opts: { cwd?: string; what: string }): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw new SetupError(`${opts.what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new SetupError(`${opts.what} failed (${cmd} exited ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  return r.stdout;
}

const sha = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};

type Stamp = { kernel?: string; base?: string; tools?: string; golden?: Partial<Record<Fs, string>>; sources?: string };
function readStamp(): Stamp {
  try {
    return JSON.parse(readFileSync(paths.setupStamp, 'utf8')) as Stamp;
  } catch {
    return {};
  }
}
function writeStamp(s: Stamp) {
  writeFileSync(paths.setupStamp, JSON.stringify(s, null, 2) + '\n');
}

let aptUpdated = false;
function aptGet(args: string[], what: string) {
  if (process.getuid?.() !== 0) throw new SetupError(`${what} needs root (apt-get ${args.join(' ')})`);
  if (!aptUpdated && args[0] !== 'update') {
    log('apt-get update ...');
    run('apt-get', ['update'], { what: 'apt-get update' });
    aptUpdated = true;
  }
  run('apt-get', args, { what });
}

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function packages() {
  const missing = PACKAGES.filter((p) => !installed(p.pkg));
  if (!missing.length) return;
  log(`installing from Debian: ${missing.map((p) => p.pkg).join(' ')}`);
  aptGet(['install', '-y', '--no-install-recommends', ...missing.map((p) => p.pkg)], 'apt-get install');
  for (const p of missing) if (!installed(p.pkg)) throw new SetupError(`package ${p.pkg} (${p.provides}) is still missing after apt-get install`);
}

/** The versioned cloud kernel package, e.g. linux-image-6.1.0-56-cloud-amd64. */
function kernelPackage(): string {
  const look = () => {
    const r = spawnSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { encoding: 'utf8' });
    return /Depends:\s+(linux-image-[0-9][^\s]*-cloud-amd64)/.exec(r.stdout ?? '')?.[1];
  };
  let name = look();
  if (!name && !aptUpdated) {
    aptGet(['update'], 'apt-get update');
    aptUpdated = true;
    name = look();
  }
  if (!name) throw new SetupError('apt-cache does not know linux-image-cloud-amd64: no cloud kernel package to use');
  return name;
}

function kernelIn(stamp: Stamp): string {
  const pkg = kernelPackage();
  const dir = join(paths.kernelRoot, pkg);
  if (stamp.kernel === pkg && kernelImage()?.startsWith(dir)) return dir;
  log(`kernel: ${pkg} (apt-get download, dpkg -x, depmod)`);
  rmSync(paths.kernelRoot, { recursive: true, force: true });
  const dl = join(paths.kernelRoot, 'download');
  mkdirSync(dl, { recursive: true });
  chmodSync(dl, 0o777); // apt's sandbox user must be able to write there
  if (process.getuid?.() !== 0) throw new SetupError('downloading the kernel package needs root (apt-get download)');
  const r = spawnSync('apt-get', ['download', pkg], { cwd: dl, encoding: 'utf8' });
  if (r.status !== 0) throw new SetupError(`apt-get download ${pkg} failed: ${(r.stderr || '').trim().split('\n').slice(-2).join(' / ')}`);
  const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
  if (!deb) throw new SetupError(`apt-get download ${pkg} produced no .deb`);
  run('dpkg', ['-x', join(dl, deb), dir], { what: 'unpacking the kernel package' });
  rmSync(dl, { recursive: true, force: true });
  const version = readdirSync(join(dir, 'lib', 'modules'))[0];
  run('depmod', ['-b', dir, version], { what: 'depmod' });
  stamp.kernel = pkg;
  stamp.base = undefined;
  stamp.golden = {};
  writeStamp(stamp);
  return dir;
}

/** Module files to load, dependencies first. */
function moduleOrder(kdir: string): string[] {
  const version = readdirSync(join(kdir, 'lib', 'modules'))[0];
  const mdir = join(kdir, 'lib', 'modules', version);
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(mdir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod) deps.set(mod, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((p) => [p.split('/').pop()!.replace(/\.ko(\.\w+)?$/, ''), p]));
  const order: string[] = [];
  const visit = (p: string) => {
    if (order.includes(p)) return;
    for (const d of deps.get(p) ?? []) visit(d);
    order.push(p);
  };
  for (const name of WANTED_MODULES) {
    const p = byName.get(name);
    if (!p) throw new SetupError(`the kernel has no module ${name}`);
    visit(p);
  }
  return order.map((p) => join(mdir, p));
}

function replayerBinary(): Buffer {
  const problem = buildReplayer();
  if (problem) throw new SetupError(problem);
  return readFileSync(paths.replayer);
}

function which(cmd: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new SetupError(`${cmd} not found`);
  return realpathSync(r.stdout.trim());
}

function makeCpio(stage: string, out: string) {
  execFileSync('sh', ['-c', `find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > '${out}'`], { cwd: stage });
}

function baseInitramfs(kdir: string, stamp: Stamp, replayer: Buffer) {
  const init = readFileSync(join(HARNESS_DIR, 'guest', 'init'));
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) throw new SetupError('/bin/busybox is missing (package busybox-static)');
  const mods = moduleOrder(kdir);
  const hash = sha(init, replayer, readFileSync(busybox), mods.join('\n'));
  if (stamp.base === hash && existsSync(paths.baseCpio) && stamp.sources === guestSourcesHash()) return;
  log('building the initramfs');
  const stage = join(paths.work, 'stage-base');
  rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'mnt', 'tmp', 'modules']) mkdirSync(join(stage, d), { recursive: true });
  copyFileSync(busybox, join(stage, 'bin', 'busybox'));
  chmodSync(join(stage, 'bin', 'busybox'), 0o755);
  for (const a of BUSYBOX_APPLETS) symlinkSync('busybox', join(stage, 'bin', a));
  writeFileSync(join(stage, 'init'), init, { mode: 0o755 });
  writeFileSync(join(stage, 'replayer'), replayer, { mode: 0o755 });
  for (const m of mods) copyFileSync(m, join(stage, 'modules', m.split('/').pop()!));
  writeFileSync(join(stage, 'modules.order'), mods.map((m) => m.split('/').pop()).join('\n') + '\n');
  // The kernel opens /dev/console for /init before anything is mounted.
  run('mknod', [join(stage, 'dev', 'console'), 'c', '5', '1'], { what: 'mknod /dev/console' });
  makeCpio(stage, paths.baseCpio);
  rmSync(stage, { recursive: true, force: true });
  stamp.base = hash;
  // What `daxcheck replay` checks to know the initramfs is current (src/replay/vm.ts rigMissing).
  stamp.sources = guestSourcesHash();
  writeStamp(stamp);
}

/** mke2fs and mkfs.xfs with the shared libraries ldd names, for the golden boot only. */
function toolsInitramfs(stamp: Stamp) {
  const tools = [which('mke2fs'), which('mkfs.xfs')];
  const files = new Set<string>(tools);
  for (const t of tools) {
    for (const line of run('ldd', [t], { what: `ldd ${t}` }).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) files.add(m[1]);
    }
  }
  if (existsSync('/etc/mke2fs.conf')) files.add('/etc/mke2fs.conf');
  const list = [...files].sort();
  const hash = sha(...list, ...list.map((f) => readFileSync(f)));
  if (stamp.tools === hash && existsSync(paths.toolsCpio)) return;
  log('building the mkfs archive');
  const stage = join(paths.work, 'stage-tools');
  rmSync(stage, { recursive: true, force: true });
  for (const f of list) {
    // Tools go where the guest's /init calls them; libraries keep the path ldd gave.
    const dest = tools.includes(f) ? join(stage, 'usr', 'sbin', f.split('/').pop()!) : join(stage, f);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(f, dest);
    chmodSync(dest, 0o755);
  }
  makeCpio(stage, paths.toolsCpio);
  rmSync(stage, { recursive: true, force: true });
  stamp.tools = hash;
  stamp.golden = {};
  writeStamp(stamp);
}

async function golden(fs: Fs, stamp: Stamp) {
  const img = paths.golden(fs);
  // The golden image depends on the kernel, the mkfs tools and /init's golden phase (not on the
  // replayer): rebuilding the initramfs for a new replayer keeps the images.
  const hash = sha(stamp.kernel ?? '', stamp.tools ?? '', readFileSync(join(HARNESS_DIR, 'guest', 'init')));
  if (stamp.golden?.[fs] === hash && existsSync(img)) return;
  log(`golden ${fs} image (${IMAGE_MB[fs]} MB NVDIMM: fsdax namespace, mkfs, empty file)`);
  rmSync(img, { force: true });
  const tmp = img + '.new';
  const fd = openSync(tmp, 'w');
  ftruncateSync(fd, IMAGE_MB[fs] * 1024 * 1024);
  closeSync(fd);
  const initrd = join(paths.work, 'golden-initrd.cpio');
  writeFileSync(initrd, Buffer.concat([readFileSync(paths.baseCpio), readFileSync(paths.toolsCpio)]));
  const logFile = join(paths.work, `golden-${fs}.log`);
  const r = await boot({ image: tmp, fs, initrd, params: { phase: 'golden', fs, dax: 1 }, log: logFile, timeoutMs: 180_000 });
  rmSync(initrd, { force: true });
  if (r.status !== GUEST_EXIT.done || !r.serial.includes('DAXCHECK golden ok')) {
    throw new SetupError(
      `making the golden ${fs} image failed (${r.timedOut ? 'timed out' : `QEMU exit ${r.status}`}); serial log ${logFile}:\n${tail(r.serial)}${r.stderr ? `\nqemu: ${r.stderr.trim()}` : ''}`,
    );
  }
  if (!/DAXCHECK queue-dax 1/.test(r.serial)) throw new SetupError(`the fsdax namespace does not support DAX (serial log ${logFile})`);
  execFileSync('mv', [tmp, img]);
  stamp.golden = { ...stamp.golden, [fs]: hash };
  writeStamp(stamp);
  log(`golden ${fs} image ready in ${r.seconds.toFixed(1)} s`);
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--packages-only');
  if (unknown.length) throw new SetupError(`unknown argument ${unknown[0]} (usage: npm run replay:setup [-- --packages-only])`);
  if (args.includes('--packages-only')) {
    packages();
    log(`packages ready (${elapsed()}): ${PACKAGES.map((p) => p.pkg).join(' ')}`);
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new SetupError('the replay rig needs x86_64 Linux');
  mkdirSync(paths.work, { recursive: true });
  const stamp = readStamp();
  packages();
  const kdir = kernelIn(stamp);
  const replayer = replayerBinary();
  baseInitramfs(kdir, stamp, replayer);
  toolsInitramfs(stamp);
  for (const fs of FILESYSTEMS) await golden(fs, stamp);
  log(`ready (${elapsed()}): kernel ${stamp.kernel}, golden images ${FILESYSTEMS.join(', ')} in ${paths.work}`);
}

main().catch((err) => {
  if (err instanceof SetupError) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
