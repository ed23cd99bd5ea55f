/**
 * What is specific to the no-sync spec: Chinner's deadlock comes out as a cycle of waits in
 * kernel terms, the prefaulting write is free of it, seed 004's split loses a block mapped
 * no-sync (and with a reflink leaves a dangling pointer), and the fault's cost with and without a
 * journal commit.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig, type ConfigRun } from '../../src/check.ts';
import { renderTrace } from '../../src/render.ts';
import type { DurableState } from '../../models/describe.ts';
import { NAMES } from '../../models/invariants.ts';
import { noSyncFlag } from '../../specs/nosync-flag/machine.ts';
import { DATA_NAMES } from '../../specs/nosync-flag/data.ts';
import { DEADLOCK_NAMES } from '../../specs/nosync-flag/deadlock.ts';
import type { NoSyncConfig } from '../../specs/nosync-flag/configs.ts';
import { checkRandomStates } from '../checker/agreement.ts';

const config = (name: string): NoSyncConfig => noSyncFlag.configs.find((c) => c.name === name)!;
const run = (name: string) => checkConfig(noSyncFlag, config(name), undefined);
const result = (r: ConfigRun, property: string) => r.results.find((x) => x.property === property)!;

describe("Chinner's deadlock (seed 002, 2016-09-15)", () => {
  it('write-fault: the trace ends with T0 asleep in the fault and a cycle of waits through lock_page', async () => {
    const r = result(await run('write-fault'), NAMES.deadlock);
    expect(r.verdict).toBe('violated');
    const steps = r.trace!.steps;
    expect(steps.map((s) => s.event)).toEqual(['T0.inode_lock', 'T0.ext4_write_begin', 'T0.dax_iomap_fault']);
    expect(steps[1].text).toMatch(/ext4_write_begin.*ext4_journal_start.*lock_page\(file2 page 0\)/);
    expect(steps[2].text).toMatch(/copy_from_user faults on the user buffer with the page lock and the handle held/);
    expect(steps[2].text).toMatch(/jbd2_log_wait_commit sleeps, mmap_lock and MMAPLOCK still held/);
    const waits = r.trace!.waits!;
    expect(waits.at(-1)).toBe('cycle: T0 → jbd2 → T0');
    const t0 = waits.find((w) => w.startsWith('T0 '))!;
    const jbd2 = waits.find((w) => w.startsWith('jbd2 '))!;
    expect(t0).toMatch(/holds .*the page lock of file2 page 0 \(ext4_write_begin\).*mmap_lock for read.*waits in jbd2_log_wait_commit for transaction 2/);
    for (const fn of ['jbd2_journal_commit_transaction', 'journal_submit_data_buffers', 'journal_submit_inode_data_buffers', 'generic_writepages', 'ext4_writepages', 'mpage_prepare_extent_to_map', 'lock_page']) {
      expect(jbd2).toContain(fn);
    }
    expect(jbd2).toMatch(/T0 holds that page lock$/);
    // mmap_lock is held across the wait: the rest of the process cannot mmap either.
    expect(waits).toContain("T1 waits in vm_mmap_pgoff for mmap_lock (down_write), held for read by T0's page fault");
    const text = renderTrace(r);
    expect(text).toMatch(/shortest path to a deadlock \(no-deadlock: "no thread waits forever"\), 3 steps/);
    expect(text).toMatch(/cycle of waits:\n {4}T0 holds/);
  });

  it('write-fault-handle: with jbd2 idle the commit waits in T_LOCKED for the handle write_begin holds', async () => {
    const r = await run('write-fault-handle');
    const d = result(r, NAMES.deadlock);
    expect(d.trace!.steps.at(-1)!.event).toBe('jbd2.jbd2_journal_commit_transaction');
    expect(d.trace!.waits!.find((w) => w.startsWith('jbd2 '))).toMatch(/T_LOCKED and waits in jbd2_journal_commit_transaction for its t_updates to reach 0/);
    expect(d.trace!.waits!.at(-1)).toBe('cycle: T0 → jbd2 → T0');
    // Chinner's page-lock wait is reachable here too, only not on the shortest path.
    expect(result(r, DEADLOCK_NAMES.pageLockWait).verdict).toBe('reachable');
  });

  it('write-fault-retry: dropping mmap_lock frees T1 but not the page lock', async () => {
    const d = result(await run('write-fault-retry'), NAMES.deadlock);
    expect(d.verdict).toBe('violated');
    expect(d.trace!.steps.at(-1)!.event).toBe('T1.mmap');
    expect(d.trace!.waits!.some((w) => w.startsWith('T1 '))).toBe(false);
    expect(d.trace!.waits!.find((w) => w.startsWith('T0 '))).not.toMatch(/mmap_lock/);
    expect(d.trace!.waits!.at(-1)).toBe('cycle: T0 → jbd2 → T0');
  });

  it('prefault: faulting the buffer in before ext4_write_begin leaves no cycle, and every thread finishes', async () => {
    for (const name of ['prefault', 'prefault-idle']) {
      const r = await run(name);
      expect(result(r, NAMES.deadlock).verdict).toBe('holds');
      expect(result(r, DEADLOCK_NAMES.order).verdict).toBe('holds');
      const w = result(r, NAMES.finishes).trace!.steps;
      const fault = w.findIndex((s) => s.event === 'T0.dax_iomap_fault');
      const begin = w.findIndex((s) => s.event === 'T0.ext4_write_begin');
      expect(w[fault].text).toMatch(/iov_iter_fault_in_readable/);
      expect(fault).toBeLessThan(begin);
    }
  });

  it('the deadlock machine agrees with XState from random states', () => {
    const b = noSyncFlag.build(config('write-fault'));
    const r = checkRandomStates(b.machine, b.events, { runs: 150, bounds: b.bounds });
    expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
  });
});

describe('seed 004: a tree split under a block mapped no-sync', () => {
  it('leaf-split: the next fault writes leaf 0 and block 0, synced and flushed, is gone after the crash', async () => {
    const r = await run('leaf-split');
    expect(result(r, DATA_NAMES.moved).verdict).toBe('reachable');
    const promise = result(r, DATA_NAMES.promise);
    expect(promise.verdict).toBe('violated');
    const steps = promise.trace!.steps;
    const at = (re: RegExp) => steps.findIndex((s) => re.test(s.text));
    const leaf0 = at(/dax_iomap_fault\(write, block 0\).*leaf 0 written in place/);
    const moved = at(/extent tree split: the mapping of block 0 moves to leaf 1/);
    const lost = at(/dax_iomap_fault\(write, block 1\).*block 0's record, which the split moved to leaf 1, is gone from leaf 0/);
    expect([leaf0 >= 0, leaf0 < moved, moved < lost, lost === steps.length - 1]).toEqual([true, true, true, true]);
    const belief = result(r, NAMES.belief);
    expect(belief.verdict).toBe('violated');
    const durable = belief.trace!.durableAfterCrash as DurableState;
    expect(durable.blocks[0].extent).toBe('hole');
    expect(durable.records[0].found).toBe('no record');
    expect(belief.trace!.steps.some((s) => /fsync|msync/.test(s.event))).toBe(false);
  });

  it('leaf-reflink-split: the copy-on-write fault drops block 1 and the pointer to it dangles', async () => {
    const r = await run('leaf-reflink-split');
    const p = result(r, NAMES.pointer);
    expect(p.verdict).toBe('violated');
    const texts = p.trace!.steps.map((s) => s.text);
    expect(texts.some((t) => /ioctl\(FICLONE\)/.test(t))).toBe(true);
    expect(texts.some((t) => /mapping of block 1 moves to leaf 1/.test(t))).toBe(true);
    expect(texts.some((t) => /block 0 shared with another file: copied .*leaf 0 written in place.*block 1 is no longer durably part of the file/.test(t))).toBe(true);
    const durable = p.trace!.durableAfterCrash as DurableState;
    expect(durable.blocks[0].words[1]).toBe('→blk1');
    expect(durable.blocks[1].extent).toBe('hole');
    expect(durable.records[0].found).toBe('dangling pointer');
  });

  it('each fix keeps the promise and the data pointer', async () => {
    for (const name of ['leaf-split-resync', 'leaf-split-fallback', 'commit-split']) {
      const r = await run(name);
      expect([name, result(r, NAMES.pointer).verdict, result(r, NAMES.belief).verdict, result(r, DATA_NAMES.promise).verdict]).toEqual([name, 'holds', 'holds', 'holds']);
      expect(result(r, DATA_NAMES.moved).verdict).toBe('reachable');
    }
  });
});

describe('fault cost (seed 000\'s prediction)', () => {
  it('a fault that commits pays for every unrelated dirty object: 3, 4, 6, 10 items at N = 1, 2, 4, 8', async () => {
    const got: number[] = [];
    for (const n of [1, 2, 4, 8]) got.push((await run(`fault-cost-commit-${n}`)).measures.find((m) => m.name === 'fault-cost')!.max!);
    expect(got).toEqual([3, 4, 6, 10]);
  });

  it('a fault that writes one leaf costs 2 items whatever N is', async () => {
    const got: number[] = [];
    for (const n of [1, 2, 4, 8]) got.push((await run(`fault-cost-leaf-${n}`)).measures.find((m) => m.name === 'fault-cost')!.max!);
    expect(got).toEqual([2, 2, 2, 2]);
  });
});

describe('hole punch on a no-sync mapping (Piggin: "invalidate all such mappings before ... hole punch")', () => {
  it('with the invalidation the promise holds: the punch drops the entry and the next fault syncs again', async () => {
    const r = await run('punch');
    expect(result(r, DATA_NAMES.promise).verdict).toBe('holds');
    expect(result(r, NAMES.coherent).verdict).toBe('holds');
    // The punch deletes the record itself: the dangling pointer is the punch's doing, not the fault's.
    const steps = result(r, NAMES.pointer).trace!.steps.map((s) => s.text);
    expect(steps.some((t) => /PUNCH_HOLE.*unmap_mapping_range drops 1 page-table entry/.test(t))).toBe(true);
  });

  it('without it a writable no-sync entry outlives the block the punch freed', async () => {
    const run_ = await run('punch-no-invalidate');
    expect(result(run_, NAMES.coherent).verdict).toBe('violated');
    const r = result(run_, DATA_NAMES.promise);
    expect(r.verdict).toBe('violated');
    const steps = r.trace!.steps.map((s) => s.text);
    expect(steps.some((t) => /unmap_mapping_range/.test(t))).toBe(false);
    expect(steps.at(-1)).toMatch(/PUNCH_HOLE\): block 1 freed \(running transaction\)/);
  });
});
