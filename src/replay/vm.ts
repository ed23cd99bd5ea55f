/**
 * The replay rig: where its files live (all under harness/work/, which nothing else writes), the
 * QEMU command line, and booting one VM with a timeout.
 *
 * The rig is Debian's cloud kernel under QEMU's software emulation (TCG; the machines' /dev/kvm
 * cannot run it) with an emulated NVDIMM whose memory is a file on the host. A guest program
 * ends QEMU through the isa-debug-exit port at the exact step where the trace's power fails.
 * Because TCG emulates no CPU caches and the NVDIMM memory is the host file itself, every store
 * reaches the "media" at once: the rig is an eADR platform (../shared/REPLAY-NOTES.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../paths.ts';

export type Fs = 'ext4' | 'xfs';
/** The filesystems a replay runs on, by default all of them. */
export const FILESYSTEMS: Fs[] = ['ext4', 'xfs'];

/** The repository's harness/ folder. */
export const HARNESS_DIR = repoPath('harness/');
/** Everything the rig writes lives here (gitignored). */
export const WORK_DIR = join(HARNESS_DIR, 'work');

export const paths = {
  work: WORK_DIR,
  kernelRoot: join(WORK_DIR, 'kernel'),
  replayer: join(WORK_DIR, 'replayer'),
  /** busybox, /init, the replayer and the kernel modules. */
  baseCpio: join(WORK_DIR, 'base.cpio'),
  /** mke2fs and mkfs.xfs with their libraries, appended only for the golden boot. */
  toolsCpio: join(WORK_DIR, 'tools.cpio'),
  golden: (fs: Fs) => join(WORK_DIR, `golden-${fs}.img`),
  runs: join(WORK_DIR, 'runs'),
  host: join(WORK_DIR, 'host'),
  setupStamp: join(WORK_DIR, 'setup.json'),
};

/** NVDIMM sizes: mkfs.xfs refuses a filesystem under 300 MB. */
export const IMAGE_MB: Record<Fs, number> = { ext4: 256, xfs: 512 };

/** Exit codes the guest asks QEMU for through isa-debug-exit; QEMU exits with (code << 1) | 1. */
export const GUEST_EXIT = { crash: 3, done: 5, fail: 7 } as const;

/** The unpacked kernel image, or null when setup has not run. */
export function kernelImage(): string | null {
  if (!existsSync(paths.kernelRoot)) return null;
  for (const d of readdirSync(paths.kernelRoot).sort()) {
    const boot = join(paths.kernelRoot, d, 'boot');
    if (!existsSync(boot)) continue;
    const v = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
    if (v) return join(boot, v);
  }
  return null;
}

/** Hash of the guest's sources (replayer and /init): the initramfs is built from them. */
export function guestSourcesHash(): string {
  const h = createHash('sha256');
  for (const f of ['replayer.c', join('guest', 'init')]) h.update(readFileSync(join(HARNESS_DIR, f)));
  return h.digest('hex').slice(0, 16);
}

/** What is missing for a replay on the VM; empty when `npm run replay:setup` has done its work. */
export function rigMissing(filesystems: Fs[]): string[] {
  const missing: string[] = [];
  if (!kernelImage()) missing.push('the kernel');
  if (!existsSync(paths.baseCpio)) missing.push('the initramfs');
  else {
    let built: string | undefined;
    try {
      built = (JSON.parse(readFileSync(paths.setupStamp, 'utf8')) as { sources?: string }).sources;
    } catch {
      built = undefined;
    }
    if (built !== guestSourcesHash()) missing.push('an initramfs built from the current harness/replayer.c and harness/guest/init');
  }
  for (const fs of filesystems) if (!existsSync(paths.golden(fs))) missing.push(`the golden ${fs} image`);
  if (!onPath('qemu-system-x86_64')) missing.push('qemu-system-x86_64');
  return missing;
}

/** Is `cmd` an executable on PATH? */
export function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

export interface BootOptions {
  image: string;
  fs: Fs;
  /** Initramfs archives, concatenated into one (the kernel unpacks each in turn). */
  initrd: string;
  /** daxcheck.* kernel parameters. */
  params: Record<string, string | number>;
  /** Serial console log. */
  log: string;
  timeoutMs: number;
  /** The kernel image; the rig's by default (tests pass their own). */
  kernel?: string;
}

export interface BootResult {
  /** QEMU's exit status, null when it was killed. */
  status: number | null;
  timedOut: boolean;
  seconds: number;
  /** The serial console. */
  serial: string;
  stderr: string;
}

/** The QEMU command line (REPLAY-NOTES: the line that worked, plus isa-debug-exit). */
export function qemuArgs(o: Omit<BootOptions, 'timeoutMs'>): string[] {
  const kernel = o.kernel ?? kernelImage();
  if (!kernel) throw new Error('no kernel: run npm run replay:setup');
  const append = [
    'console=ttyS0',
    'quiet',
    'loglevel=3',
    'panic=-1',
    'daxcheck.vm=1',
    ...Object.entries(o.params).map(([k, v]) => `daxcheck.${k}=${v}`),
  ].join(' ');
  return [
    '-machine', 'pc,nvdimm=on',
    '-accel', 'tcg',
    '-cpu', 'max',
    '-smp', '1',
    '-m', '512M,slots=2,maxmem=4G',
    '-object', `memory-backend-file,id=mem1,share=on,mem-path=${o.image},size=${IMAGE_MB[o.fs]}M`,
    '-device', 'nvdimm,id=nv1,memdev=mem1',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-kernel', kernel,
    '-initrd', o.initrd,
    '-append', append,
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${o.log}`,
    '-no-reboot',
    '-nodefaults',
  ];
}

/** Boots the VM once and waits for QEMU to exit; kills it (by its own pid) after the timeout. */
export function boot(o: BootOptions): Promise<BootResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', qemuArgs(o), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 65536) stderr += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      let serial = '';
      try {
        serial = readFileSync(o.log, 'latin1');
      } catch {
        serial = '';
      }
      resolve({ status, timedOut, seconds: (performance.now() - t0) / 1000, serial, stderr });
    });
  });
}

/** The last lines of a serial log, for error messages. */
export function tail(text: string, lines = 25): string {
  return text.replace(/\r/g, '').split('\n').slice(-lines).join('\n');
}

/**
 * Builds harness/replayer.c (static) into harness/work/replayer unless the build there is of the
 * same source. Returns null when built, else why it could not be.
 */
export function buildReplayer(): string | null {
  const src = join(HARNESS_DIR, 'replayer.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const stamp = paths.replayer + '.src-hash';
  if (existsSync(paths.replayer) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return null;
  mkdirSync(paths.work, { recursive: true });
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', paths.replayer, src], { encoding: 'utf8' });
  if (r.error) return `cannot run gcc (${r.error.message}): install gcc and libc6-dev, or run npm run replay:setup`;
  if (r.status !== 0) return `gcc failed to build harness/replayer.c: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`;
  writeFileSync(stamp, hash);
  return null;
}

/**
 * Takes the rig for this process: replays share harness/work/runs/ and the CPU (TCG is CPU
 * bound, two VMs at once take twice as long each). Returns a release function, or null with the
 * pid of the process that has it.
 */
export function lockRig(): { release: () => void } | { heldBy: number } {
  mkdirSync(paths.work, { recursive: true });
  const file = join(paths.work, 'replay.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return { release: () => rmSync(file, { force: true }) };
    } catch {
      const pid = Number(readFileSync(file, 'utf8'));
      let alive = false;
      try {
        alive = Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive && pid !== process.pid) return { heldBy: pid };
      rmSync(file, { force: true }); // left by a process that is gone
    }
  }
  return { heldBy: -1 };
}
