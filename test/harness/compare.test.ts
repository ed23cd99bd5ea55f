/**
 * Reading the kernel's results and comparing them with the model, on serial logs captured from
 * real replays (test/harness/fixtures/, from `daxcheck replay --smoke` on Linux 6.1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, decodeWord, isMissing, kernelBlocks, MISSING, pageKind, parseSerial } from '../../src/replay/compare.ts';
import { verdict } from '../../src/replay/run.ts';
import { planReplay, type ReplayPlan } from '../../src/replay/program.ts';
import { NAMES } from '../../models/invariants.ts';
import { traceOf } from './helpers.ts';
import type { DaxRunConfig } from '../../specs/common/spec.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'latin1');
/** The log without the line that starts with `start` (the serial console ends lines with CRLF). */
const drop = (log: string, start: string) => {
  const out = log.split('\n').filter((l) => !l.startsWith(start));
  expect(out.length, `a line starting '${start}'`).toBe(log.split('\n').length - 1);
  return out.join('\n');
};

async function planOf(spec: string, config: string, property: string): Promise<ReplayPlan> {
  const p = planReplay(await traceOf(spec, config, property), `${spec}/${config}`);
  if ('reason' in p) throw new Error(p.reason);
  return p;
}

describe('parsing the serial console', () => {
  it('reads step results, statx, the crash, and the inspection', () => {
    const obs = parseSerial(fixture('chinner-ext4-run.txt'));
    parseSerial(fixture('chinner-ext4-inspect.txt'), obs);
    expect(obs.steps.get(1)).toEqual({ errno: '0' });
    expect(obs.dax.get(1)).toBe(1);
    expect(obs.crashes).toEqual([13]);
    expect(obs.size).toBe(8192);
    expect(obs.allocated).toBe(4096);
    expect(obs.extents).toEqual([{ logical: 0, length: 4096, flags: 1 }]);
    expect(obs.inspected).toBe(true);
  });
  it('ignores kernel messages and tolerates a line broken by one', () => {
    const obs = parseSerial('[    1.2] random kernel line\nDAXCHECK step 4 err errno=EOPNOTSUPP\r\nnoise DAXCHECK step 5 sigbus\nDAXCHECK step\n');
    expect(obs.steps.get(4)).toEqual({ errno: 'EOPNOTSUPP' });
    expect(obs.steps.get(5)).toEqual({ errno: 'SIGBUS' });
    expect(obs.steps.size).toBe(2);
  });
  it('decodes words into the model’s symbols', () => {
    expect(decodeWord('0000000000000000')).toBe('0');
    expect(decodeWord('dac0de0000000002')).toBe('HDR');
    expect(decodeWord('dac0de0000000003')).toBe('DATA0');
    expect(decodeWord('dac0de0000000009')).toBe('→blk1');
    expect(decodeWord('00000000deadbeef')).toBe('0x00000000deadbeef');
  });
  it('classifies pages by FIEMAP flags', () => {
    const obs = parseSerial('DAXCHECK extent logical=0 length=4096 flags=0x800\nDAXCHECK extent logical=4096 length=4096 flags=0x1\n');
    expect([0, 1, 2].map((p) => pageKind(obs, p))).toEqual(['unwritten', 'written', 'hole']);
  });
});

describe("comparing Chinner's counterexample with what ext4 did", async () => {
  const p = await planOf('baseline', 'trusting', NAMES.pointer);
  const run = fixture('chinner-ext4-run.txt');
  const inspect = fixture('chinner-ext4-inspect.txt');

  it('matches as recorded', () => {
    expect(compare(p, parseSerial(run + inspect))).toEqual([]);
  });
  it('sees a block that survived when the model says it is lost', () => {
    const altered = inspect
      .replace('extent logical=0 length=4096 flags=0x1', 'extent logical=0 length=8192 flags=0x1')
      .replace('words 1 0000000000000000', 'words 1 dac0de0000000003')
      .replace('blocks512=8', 'blocks512=16');
    const diffs = compare(p, parseSerial(run + altered));
    expect(diffs).toContain('after recovery: block 1 is hole in the model, written on the kernel');
    expect(diffs).toContain('after recovery: block 1 word 0 is 0 in the model, DATA0 on the kernel');
    expect(diffs).toContain('after recovery: model 4096 bytes allocated, kernel 8192 (statx blocks)');
  });
  it('sees an errno the model does not predict', () => {
    const diffs = compare(p, parseSerial(run.replace('DAXCHECK step 3 ok', 'DAXCHECK step 3 err errno=EOPNOTSUPP') + inspect));
    expect(diffs).toEqual([expect.stringMatching(/^step 3 \(T0\.mmap: mmap 0 0 shared\): model succeeds, kernel EOPNOTSUPP$/)]);
  });
  it('sees a crash at the wrong step and a missing inspection', () => {
    const diffs = compare(p, parseSerial(run.replace('DAXCHECK crash 13', 'DAXCHECK crash 12')));
    expect(diffs).toContain('power failures at steps [12], the trace has them at [13]');
    expect(diffs).toContain(`${MISSING}'DAXCHECK inspected': no inspection after recovery (see the serial log)`);
  });
  it('sees a file that is not DAX', () => {
    const diffs = compare(p, parseSerial(run.replace('statx 1 dax=1', 'statx 1 dax=0') + inspect));
    expect(diffs.join('\n')).toMatch(/model S_DAX set, statx says not DAX/);
  });
});

describe('a line missing from the serial log is an error that names it, never a check skipped', async () => {
  const p = await planOf('baseline', 'trusting', NAMES.pointer);
  const run = fixture('chinner-ext4-run.txt');
  const inspect = fixture('chinner-ext4-inspect.txt');
  /** The differences of a replay whose log is `log`, which must all be missing lines, and its outcome. */
  const missingOf = (log: string) => {
    const obs = parseSerial(log);
    const diffs = compare(p, obs);
    expect(diffs.length).toBeGreaterThan(0);
    expect(diffs.filter((d) => !isMissing(d))).toEqual([]);
    expect(verdict(p, 'ext4', obs)).toMatchObject({ outcome: 'error', known: null });
    return diffs;
  };
  it('the fixtures have every line', () => {
    expect(verdict(p, 'ext4', parseSerial(run + inspect))).toEqual({ outcome: 'match', differences: [], known: null });
  });
  it('no S_DAX after an open that succeeded', () => {
    expect(missingOf(drop(run, 'DAXCHECK statx 1 dax=1') + inspect)).toEqual([
      `${MISSING}'DAXCHECK statx 1 dax=…' after step 1 (T0.open: open 0): S_DAX not checked`,
    ]);
  });
  it('statx failed after the open', () => {
    expect(missingOf(run.replace('DAXCHECK statx 1 dax=1', 'DAXCHECK statx 1 err errno=EIO') + inspect)).toEqual([
      `${MISSING}'DAXCHECK statx 1 dax=…' after step 1 (T0.open: open 0) (statx failed: EIO): S_DAX not checked`,
    ]);
  });
  it('no allocation (blocks512=) after recovery', () => {
    expect(missingOf(run + inspect.replace(' blocks512=8', ''))).toEqual([
      `${MISSING}blocks512= on the 'DAXCHECK inspect' line after recovery: the allocation (statx blocks) not checked`,
    ]);
  });
  it('no S_DAX (dax=) after recovery', () => {
    expect(missingOf(run + inspect.replace(' dax=1', ''))).toEqual([`${MISSING}dax= on the 'DAXCHECK inspect' line after recovery: S_DAX not checked`]);
  });
  it('no inspect line at all', () => {
    expect(missingOf(run + drop(inspect, 'DAXCHECK inspect size='))).toContain(
      `${MISSING}'DAXCHECK inspect size=… blocks512=… dax=…' after recovery: file size, allocation and S_DAX not checked`,
    );
  });
  it('FIEMAP failed: the extents are unknown, not holes', () => {
    expect(missingOf(run + inspect.replace('DAXCHECK extent logical=0 length=4096 flags=0x1', 'DAXCHECK fiemap err errno=EOPNOTSUPP'))).toEqual([
      `${MISSING}'DAXCHECK extent …' after recovery (FIEMAP failed: EOPNOTSUPP): extents not checked`,
    ]);
  });
  it("a page's words", () => {
    expect(missingOf(run + drop(inspect, 'DAXCHECK words 1 '))).toEqual([
      `${MISSING}'DAXCHECK words 1 …' (2 words) after recovery: the words of page 1 not checked`,
    ]);
  });
  it("a step's result", () => {
    expect(missingOf(drop(run, 'DAXCHECK step 3 ok') + inspect)).toEqual([
      `${MISSING}'DAXCHECK step 3 …', the result of step 3 (T0.mmap: mmap 0 0 shared)`,
    ]);
  });
  it('S_DAX that differs is a mismatch, and so is one the kernel cannot tell', () => {
    expect(verdict(p, 'ext4', parseSerial(run.replace('statx 1 dax=1', 'statx 1 dax=0') + inspect)).outcome).toBe('mismatch');
    const unknown = compare(p, parseSerial(run + inspect.replace(' dax=1', ' dax=-1')));
    expect(unknown).toEqual(['after recovery: model S_DAX set, statx says unknown (STATX_ATTR_DAX not supported)']);
  });
});

describe('generic/470 on XFS: 1 MiB allocated', async () => {
  const p = await planOf('map-sync', 'generic-470', NAMES.survives);
  const obs = parseSerial(fixture('generic-470-xfs-run.txt') + fixture('generic-470-xfs-inspect.txt'));
  it('matches, with every page of every block written', () => {
    expect(compare(p, obs)).toEqual([]);
    expect(obs.allocated).toBe(1024 * 1024);
    expect(kernelBlocks(p, obs).map((b) => b.extent)).toEqual(['written', 'written', 'written', 'written']);
  });
  it('one page of a block lost shows as a mixed block', () => {
    const altered = fixture('generic-470-xfs-inspect.txt').replace(/words 70 \S+/, 'words 70 0000000000000000');
    const diffs = compare(p, parseSerial(fixture('generic-470-xfs-run.txt') + altered));
    expect(diffs).toEqual(['after recovery: block 1 word 0 is DATA0 in the model, mixed(DATA0|0) on the kernel']);
  });
});

describe('known kernel behaviour: ext4 converts a small unwritten extent whole', async () => {
  const { knownDivergence } = await import('../../src/replay/known.ts');
  const p = await planOf('baseline', 'fallocate-trusting', NAMES.pointer);
  const obs = parseSerial(fixture('fallocate-ext4-run.txt') + fixture('fallocate-ext4-inspect.txt'));
  const diffs = compare(p, obs);
  it('the replay on ext4 differs from the model exactly in block 1', () => {
    expect(diffs).toEqual([
      'after recovery: block 1 is unwritten in the model, written on the kernel',
      'after recovery: block 1 word 0 is 0 in the model, DATA0 on the kernel',
    ]);
  });
  it('which the ext4-zeroout rule explains on ext4, and only there', () => {
    expect(knownDivergence(p, 'ext4', diffs, obs)?.id).toBe('ext4-zeroout');
    expect(knownDivergence(p, 'xfs', diffs, obs)).toBeNull();
    expect(verdict(p, 'ext4', obs)).toMatchObject({ outcome: 'known', known: { id: 'ext4-zeroout' } });
    expect(verdict(p, 'xfs', obs).outcome).toBe('mismatch');
  });
  it('the converted block may read zero: the zeroed extent without the later store', () => {
    const zero = parseSerial(fixture('fallocate-ext4-run.txt') + fixture('fallocate-ext4-inspect.txt').replace('words 1 dac0de0000000003', 'words 1 0000000000000000'));
    expect(compare(p, zero)).toEqual(['after recovery: block 1 is unwritten in the model, written on the kernel']);
    expect(verdict(p, 'ext4', zero).outcome).toBe('known');
  });
  // The stale-contents property guards against exactly this: a block that comes back written
  // with data nobody stored there. Zeroout zeroes the extent; it never exposes old contents.
  const withBlock1Word = (word: number, hex: string) => {
    const words = ['dac0de0000000003', '0000000000000000'];
    words[word] = hex;
    const inspect = fixture('fallocate-ext4-inspect.txt').replace('words 1 dac0de0000000003 0000000000000000', `words 1 ${words.join(' ')}`);
    return parseSerial(fixture('fallocate-ext4-run.txt') + inspect);
  };
  it('foreign data in the converted block is a mismatch, not ext4-zeroout', () => {
    const foreign = withBlock1Word(0, 'feedfacecafebeef');
    const d = compare(p, foreign);
    expect(d).toContain('after recovery: block 1 word 0 is 0 in the model, 0xfeedfacecafebeef on the kernel');
    expect(knownDivergence(p, 'ext4', d, foreign)).toBeNull();
    expect(verdict(p, 'ext4', foreign)).toMatchObject({ outcome: 'mismatch', known: null });
  });
  it("another block's or another word's value is foreign too", () => {
    // HDR (2) was stored to block 0 word 0 and →blk1 (9) to block 0 word 1; DATA0 (3) to block 1 word 0, not word 1.
    for (const [word, hex] of [[0, 'dac0de0000000002'], [1, 'dac0de0000000009'], [1, 'dac0de0000000003'], [0, 'dac0de0000000004']] as const) {
      const o = withBlock1Word(word, hex);
      expect(verdict(p, 'ext4', o).outcome, `block 1 word ${word} = ${hex}`).toBe('mismatch');
    }
  });
  it('needs a write into the small preallocated range: without one, nothing is converted', () => {
    const unwrittenRange = { ...p, ops: new Map([...p.ops].filter(([, op]) => !/^(fault|store) /.test(op))) };
    expect(knownDivergence(unwrittenRange, 'ext4', diffs, obs)).toBeNull();
  });
  it('a missing line is an error even where the rule would explain the rest', () => {
    const o = parseSerial(drop(fixture('fallocate-ext4-run.txt'), 'DAXCHECK statx 1 dax=1') + fixture('fallocate-ext4-inspect.txt'));
    expect(verdict(p, 'ext4', o).outcome).toBe('error');
    expect(knownDivergence(p, 'ext4', compare(p, o), o)).toBeNull();
  });
  it('a difference the rule does not explain leaves it a mismatch', () => {
    expect(knownDivergence(p, 'ext4', [...diffs, 'after recovery: model file size 8192, kernel 0'], obs)).toBeNull();
    expect(knownDivergence(p, 'ext4', ['after recovery: block 0 is unwritten in the model, written on the kernel', 'after recovery: block 1 word 1 is 0 in the model, HDR on the kernel'], obs)).toBeNull();
  });
  it('does not apply without a small fallocate', async () => {
    const chinner = await planOf('baseline', 'trusting', NAMES.pointer);
    expect(knownDivergence(chinner, 'ext4', diffs, obs)).toBeNull();
  });
});

describe('MAP_SHARED|MAP_SYNC on Linux 6.1: the flag is honoured, as map-sync/unvalidated models', async () => {
  // The fixture is the replay of the trusting application's steps with MAP_SHARED|MAP_SYNC and a
  // crash after the pointer store. An older model said the kernel drops the flag (as a kernel
  // before 4.15 does: baseline/map-sync-on-old-kernel); the kernel kept the data.
  const { predictOnRig } = await import('../../src/replay/model.ts');
  const { findSpec } = await import('../../specs/index.ts');
  const old = await traceOf('baseline', 'map-sync-on-old-kernel', NAMES.pointer);
  const labels = old.steps.map((s) => s.event);
  // The old kernel's model is baseline/trusting's except for the flags: the same steps, so its
  // plan gives the replay's step numbers and operations.
  const dropped = await planOf('baseline', 'trusting', NAMES.pointer);
  const mapSync = findSpec('map-sync')!;
  const unvalidated = mapSync.configs.find((c) => c.name === 'unvalidated') as DaxRunConfig;
  const honoured = predictOnRig(mapSync, unvalidated, labels);
  if ('reason' in honoured) throw new Error(honoured.reason);
  const run = fixture('unvalidated-ext4-run.txt');
  const inspect = fixture('unvalidated-ext4-inspect.txt');
  const obs = parseSerial(run + inspect);
  it('the old-kernel steps are the trusting application\'s', () => {
    expect(dropped.labels).toEqual(labels);
  });
  it('a kernel that dropped the flag would have lost block 1, which ext4 kept', () => {
    expect(compare(dropped, obs)).toContain('after recovery: block 1 is hole in the model, written on the kernel');
  });
  it('map-sync/unvalidated, along the same steps, predicts exactly what ext4 did', () => {
    expect(unvalidated.mmapFlags).toBe('shared_sync_unvalidated');
    expect(compare({ ...dropped, prediction: honoured }, obs)).toEqual([]);
  });
  it('a different outcome on the kernel is a mismatch', () => {
    const other = inspect.replace('words 0 dac0de0000000002', 'words 0 0000000000000000');
    expect(compare({ ...dropped, prediction: honoured }, parseSerial(run + other))).not.toEqual([]);
  });
  it('the old-kernel configuration is not replayed on the rig, and says why', () => {
    const r = planReplay(old, 'baseline/map-sync-on-old-kernel');
    expect('reason' in r && r.reason).toMatch(/older than MAP_SYNC/);
  });
});

describe('the second file g after recovery (issue 13): fsync(g) after an allocating append, on ext4', async () => {
  const p = await planOf('baseline', 'other-file-fsync', NAMES.finishes);
  const run = fixture('other-file-fsync-ext4-run.txt');
  const inspect = fixture('other-file-fsync-ext4-inspect.txt');
  const observe = (i = inspect) => parseSerial(i, parseSerial(run));

  it("matches as recorded: f's blocks and g's append both survived the crash", () => {
    const obs = observe();
    expect(obs.g).toEqual({ size: 8192, allocated: 8192 });
    expect(compare(p, obs)).toEqual([]);
  });

  it("sees a g that lost its append when the model says g's fsync committed it", () => {
    const diffs = compare(p, observe(inspect.replace('inspect-g size=8192 blocks512=16', 'inspect-g size=4096 blocks512=8')));
    expect(diffs).toEqual([
      "after recovery: model g's size 8192, kernel 4096",
      'after recovery: model g has 8192 bytes allocated, kernel 4096 (statx blocks)',
    ]);
  });

  it("no inspect-g line is a line missing, never g left unchecked", () => {
    const diffs = compare(p, observe(drop(inspect, 'DAXCHECK inspect-g')));
    expect(diffs.length).toBe(1);
    expect(isMissing(diffs[0])).toBe(true);
    expect(diffs[0]).toContain('inspect-g');
    expect(verdict(p, 'ext4', observe(drop(inspect, 'DAXCHECK inspect-g'))).outcome).toBe('error');
  });
});
