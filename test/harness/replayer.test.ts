/**
 * The C replayer on the host (no VM): it checks its own input whatever generated it, runs the
 * operations, and never touches the debug-exit port outside the daxcheck VM.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildReplayer, paths } from '../../src/replay/vm.ts';
import { gccStatic, requires } from '../requires.ts';

requires(gccStatic()).describe('harness/replayer.c', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxcheck-replayer-'));
  const header = 'daxcheck-program 1\nblocks 2\npages 1\nwords 2\nsegments 1\nsegment 0\n';
  const run = (program: string, ...extra: string[]) => {
    expect(buildReplayer()).toBeNull();
    const prog = join(dir, 'program.txt');
    const file = join(dir, 'log');
    writeFileSync(prog, program);
    writeFileSync(file, '');
    const r = spawnSync(paths.replayer, ['run', prog, '0', file, ...extra, '--host'], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout };
  };

  it('runs a program and reports each call, MAP_SYNC refused on a non-DAX file', () => {
    const r = run(header + 'step 1 open 0\nstep 2 ftruncate 0 8192\nstep 3 mmap 0 0 shared_validate_sync\nstep 4 mmap 0 0 shared\nstep 5 fault 0 0 1\nstep 6 store 0 0 1 1 3\nstep 7 flush 0 0 1\nstep 8 fsync 0\ncrash 9\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('DAXCHECK statx 1 dax=0');
    expect(r.out).toContain('DAXCHECK step 3 err errno=EOPNOTSUPP');
    for (const n of [1, 2, 4, 5, 6, 7, 8]) expect(r.out).toContain(`DAXCHECK step ${n} ok`);
    expect(r.out).toContain('DAXCHECK crash 9');
  });
  it('reports SIGBUS for a store beyond the end of the file', () => {
    const r = run(header + 'step 1 open 0\nstep 2 mmap 0 0 shared\nstep 3 store 0 0 1 0 3\ncrash 4\n');
    expect(r.out).toContain('DAXCHECK step 3 sigbus');
  });
  it('runs the Px86 instructions: movnti, clwb, clflushopt, clflush, sfence, mfence', () => {
    const r = run(
      header +
        'step 1 open 0\nstep 2 ftruncate 0 8192\nstep 3 mmap 0 0 shared\nstep 4 movnti 0 0 0 0 2\nstep 5 sfence 0\nstep 6 store 0 0 1 1 3\n' +
        'step 7 clwb 0 0 1 1\nstep 8 clflushopt 0 0 1 1\nstep 9 clflush 0 0 1 1\nstep 10 mfence 0\nstep 11 fsync 0\ncrash 12\n',
    );
    expect(r.code).toBe(0);
    for (let n = 1; n <= 11; n++) expect(r.out).toContain(`DAXCHECK step ${n} ok`);
    // A line flush this CPU lacks is done with clflush, and the log says so.
    const start = /DAXCHECK start segment=0 clwb=(\d) clflushopt=(\d)/.exec(r.out)!;
    expect(r.out.includes('clwb-as-clflush')).toBe(start[1] === '0');
    expect(r.out.includes('clflushopt-as-clflush')).toBe(start[2] === '0');
  });
  const refused: [string, string, RegExp][] = [
    ['a Px86 flush without its word', header + 'step 1 clwb 0 0 0\ncrash 2\n', /'clwb' takes 4 arguments/],
    ['a fence of no thread', header + 'step 1 sfence 9\ncrash 2\n', /thread must be 0\.\.3/],
    ['not a program', 'hello\n', /not a daxcheck program/],
    ['a block past the file', header + 'step 1 store 0 0 9 0 2\ncrash 2\n', /block must be 0\.\.1, got '9'/],
    ['a word past the block', header + 'step 1 store 0 0 0 99 2\ncrash 2\n', /word must be 0\.\.1/],
    ['an unknown operation', header + 'step 1 reboot 0\ncrash 2\n', /unknown operation 'reboot'/],
    ['a huge file', 'daxcheck-program 1\nblocks 64\npages 4096\nwords 2\nsegments 1\nsegment 0\ncrash 1\n', /the file would have 262144 pages; at most 4096/],
    ['a truncate past the file', header + 'step 1 open 0\nstep 2 ftruncate 0 99999999\ncrash 3\n', /size must be 0\.\.8192/],
    ['no crash or end', header + 'step 1 open 0\n', /segment 0 has no closing 'crash' or 'end' line/],
    ['an overlong line', header + `step 1 open ${'0'.repeat(400)}\ncrash 2\n`, /longer than 255 characters/],
  ];
  for (const [what, program, message] of refused) {
    it(`refuses ${what} before running any step`, () => {
      const r = run(program);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(message);
      expect(r.out).not.toMatch(/DAXCHECK step \d+ ok/);
    });
  }
  it('never writes the debug-exit port outside the daxcheck VM', () => {
    const r = spawnSync(paths.replayer, ['poweroff', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('refusing to write the debug-exit port outside the daxcheck VM');
  });
});
