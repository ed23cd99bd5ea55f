/**
 * `daxcheck replay` as a user runs it, without a VM: bad input is refused with one line and exit
 * 2 before anything boots; --dry-run shows the program; --host checks error paths on the host.
 * A VM that hangs is killed after the timeout (a stand-in QEMU that never exits).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/replay/vm.ts';
import { main } from '../../src/cli.ts';
import { MAP_SYNC_NAMES } from '../../specs/map-sync/machine.ts';
import { NAMES } from '../../models/invariants.ts';
import { traceOf } from './helpers.ts';
import { gccStatic, requires } from '../requires.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');
/** The real binary in its own process: exit code and streams as a user sees them. */
const spawnRun = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, 'replay', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/** The same command in this process (main() is what bin/daxcheck.mjs runs): much faster. */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['replay', ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}
const dir = mkdtempSync(join(tmpdir(), 'daxcheck-replay-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('daxcheck replay: bad input is one line on stderr and exit 2, before anything boots', async () => {
  const chinner = await traceOf('baseline', 'trusting', NAMES.pointer);
  const past = JSON.parse(JSON.stringify(chinner));
  past.steps.find((s: { event: string }) => s.event === 'T0.store').actions[0].params.w = 40;
  const unknown = JSON.parse(JSON.stringify(chinner));
  unknown.steps[2].event = 'T0.reboot';
  const cases: [string, string[], RegExp][] = [
    ['malformed JSON', [file('bad.json', '{"spec": "baseline", "steps": [')], /not valid JSON/],
    ['a missing file', [join(dir, 'missing.json')], /cannot read the trace/],
    ['an offset past the file', [file('past.json', JSON.stringify(past))], /word 40 is past the end/],
    ['an unknown operation', [file('unknown.json', JSON.stringify(unknown))], /has no event 'T0\.reboot'/],
    ['a huge step count', [file('huge.json', JSON.stringify({ ...chinner, steps: Array(5000).fill(chinner.steps[0]) }))], /5000 steps; at most 400/],
    ['an unknown spec', ['nope'], /unknown spec 'nope'/],
    ['an unknown filesystem', ['--smoke', '--fs', 'btrfs'], /--fs must be ext4 or xfs/],
    ['nothing to replay', [], /name a spec, a trace file, or --smoke/],
    ['a silly timeout', ['--smoke', '--timeout', '0'], /--timeout must be a positive integer/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await run(args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    });
  }
});

describe('the real binary', () => {
  it('refuses a malformed trace with one line, no stack trace, exit 2', () => {
    const r = spawnRun([file('bad2.json', '{{{')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^daxcheck: the trace .*bad2\.json is not valid JSON: .*\n$/);
  });
});

describe('daxcheck replay --dry-run', () => {
  it('prints the program and the prediction of each smoke trace without booting', async () => {
    const r = await run(['--smoke', '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('baseline/trusting/0-always: a data pointer never precedes a durable allocation');
    expect(r.out).toMatch(/model after recovery: file size 8192; block 0: written → pmem block \d \[HDR, →blk1\]; block 1: hole \[0, 0\]/);
    expect(r.out).toMatch(/step \d+ syncfs 0/);
    // The write(2) and second-file cases (issue 13).
    expect(r.out).toMatch(/step \d+ write 0 0 1 3/);
    expect(r.out).toContain('files 2');
    expect(r.out).toMatch(/step \d+ fsync_g 0/);
    // The Px86 eADR case (issue 13 point 6): the application's own instructions.
    expect(r.out).toContain('map-sync/px86-clwb-eadr/');
    expect(r.out).toMatch(/step \d+ clwb 0 0 1 0\n\s+step \d+ sfence 0/);
  });
});

requires(gccStatic()).describe('daxcheck replay --host: error paths on the host, no VM', async () => {
  const refused = await traceOf('map-sync', 'non-dax', MAP_SYNC_NAMES.refused);
  const dax = await traceOf('map-sync', 'trusting', NAMES.survives);
  it("mmap(MAP_SYNC) on the host's non-DAX filesystem fails with EOPNOTSUPP, as the model says", async () => {
    const r = await run(['--host', file('refused.json', JSON.stringify(refused))]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/map-sync\/non-dax\/refused\s+match/);
  });
  it('a trace of a DAX configuration is not run on the host, and says why', async () => {
    const r = await run(['--host', file('dax.json', JSON.stringify(dax))]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/map-sync\/trusting\/dax\s+n\/a/);
    expect(r.out).toMatch(/the host has no DAX/);
  });
});

describe('a VM that hangs', () => {
  it('is killed after the timeout, and its serial log is kept', async () => {
    const fake = mkdtempSync(join(tmpdir(), 'daxcheck-fake-qemu-'));
    // Stands in for QEMU: writes to the serial log it is given, then hangs.
    writeFileSync(
      join(fake, 'qemu-system-x86_64'),
      '#!/bin/sh\nfor a in "$@"; do case "$a" in file:*) echo "DAXCHECK start segment=0" > "${a#file:}";; esac; done\nexec sleep 60\n',
    );
    chmodSync(join(fake, 'qemu-system-x86_64'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${fake}:${saved}`;
    try {
      const t0 = performance.now();
      const r = await boot({ image: '/dev/null', fs: 'ext4', initrd: '/dev/null', kernel: '/dev/null', params: { phase: 'run' }, log: join(fake, 'serial.log'), timeoutMs: 800 });
      expect(r.timedOut).toBe(true);
      expect(r.status).toBeNull();
      expect(r.serial).toContain('DAXCHECK start segment=0');
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('the rig lock', () => {
  it('lets one replay process use the rig at a time, and forgets a process that is gone', async () => {
    const { lockRig, paths } = await import('../../src/replay/vm.ts');
    // In a directory of its own: a real replay may hold harness/work/'s lock right now.
    const saved = paths.work;
    paths.work = mkdtempSync(join(tmpdir(), 'daxcheck-lock-'));
    const lockFile = join(paths.work, 'replay.lock');
    try {
      const first = lockRig();
      expect(first).toHaveProperty('release');
      expect(readFileSync(lockFile, 'utf8')).toBe(String(process.pid));
      writeFileSync(lockFile, '1'); // pid 1 is alive
      expect(lockRig()).toEqual({ heldBy: 1 });
      writeFileSync(lockFile, '999999999'); // no such process
      const again = lockRig();
      expect(again).toHaveProperty('release');
      (again as { release: () => void }).release();
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      rmSync(paths.work, { recursive: true, force: true });
      paths.work = saved;
    }
  });
});
