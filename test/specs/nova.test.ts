/**
 * NOVA (seed 003): the trusting application keeps its promise through the persistent COW cache;
 * each buggy variant is found; a fault's cost does not grow with unrelated dirty work.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { NAMES } from '../../models/invariants.ts';
import { findSpec } from '../../specs/index.ts';
import { NOVA_NAMES } from '../../specs/nova/machine.ts';
import { checkRandomStates, checkSequences } from '../checker/agreement.ts';

const spec = findSpec('nova')!;
const config = (name: string) => spec.configs.find((c) => c.name === name)!;
const run = (name: string) => checkConfig(spec, config(name), undefined);
const result = (r: Awaited<ReturnType<typeof run>>, p: string) => r.results.find((x) => x.property === p)!;

describe('NOVA-style MAP_SYNC', () => {
  it('keeps the trusting application\'s promise; recovery migrates the COW cache into the file map', async () => {
    const r = await run('trusting');
    for (const p of [NAMES.pointer, NAMES.belief, NAMES.stale, NOVA_NAMES.backed]) expect(result(r, p).verdict, p).toBe('holds');
    const w = result(r, NAMES.survives).trace!;
    expect(w.steps.some((s) => /fsync|jbd2/.test(s.event))).toBe(false);
    expect(w.steps.at(-1)!.text).toMatch(/NOVA recovery: .*COW cache migrated into the file map by pointer swaps \(block 0 → pmem block 0, block 1 → pmem block 1\)/);
    expect(result(r, NOVA_NAMES.writeback).verdict).toBe('reachable');
  });

  it('a fault writes one cache entry at most, for N = 1, 2, 4, 8 unrelated dirty objects (MAP_SYNC\'s grows)', async () => {
    const nova = [];
    const mapSync = [];
    const ms = findSpec('map-sync')!;
    for (const n of [1, 2, 4, 8]) {
      nova.push((await run(`fault-cost-${n}`)).measures.find((m) => m.name === 'fault-cost')!.max);
      const c = ms.configs.find((x) => x.name === `fault-cost-${n}`)!;
      mapSync.push((await checkConfig(ms, c, undefined)).measures.find((m) => m.name === 'fault-cost')!.max);
    }
    expect(nova).toEqual([1, 1, 1, 1]);
    expect(mapSync[3]! > mapSync[0]!).toBe(true);
  });

  it('finds the cache entry that becomes durable only at writeback: a dangling pointer', async () => {
    const r = await run('entry-at-writeback');
    const c = result(r, NAMES.pointer);
    expect(c.verdict).toBe('violated');
    const texts = c.trace!.steps.map((s) => s.text);
    expect(texts.some((t) => /kept in memory only/.test(t))).toBe(true);
    expect(texts.some((t) => /copies in memory only, lost: block 1/.test(t))).toBe(true);
    expect(c.trace!.durableAfterCrash!.text).toMatch(/record 0: dangling pointer/);
  });

  it('finds the non-atomic swap: a crash between retiring the entry and swapping the pointer', async () => {
    const r = await run('two-step-swap');
    const c = result(r, NAMES.belief);
    expect(c.verdict).toBe('violated');
    const steps = c.trace!.steps;
    const retire = steps.findIndex((s) => /retired \(durable\) before the file map points at the copy/.test(s.text));
    const crash = steps.findIndex((s) => s.event === 'power_fail');
    expect(retire).toBeGreaterThanOrEqual(0);
    expect(crash).toBe(retire + 1);
  });

  it('finds the copy whose cache entry is durable before its contents: stale data after recovery', async () => {
    const r = await run('copy-not-flushed');
    const c = result(r, NAMES.stale);
    expect(c.verdict).toBe('violated');
    expect(c.trace!.steps.some((s) => /cached stores, not yet on the media/.test(s.text))).toBe(true);
    expect(c.trace!.durableAfterCrash!.text).toMatch(/stale/);
  });

  it('the rebuilt machine agrees with XState on the two-step design too', () => {
    const b = spec.build(config('two-step-swap'));
    expect(checkSequences(b.machine, b.events, { runs: 100, maxLength: 40, bounds: b.bounds }).failed).toBe(false);
    expect(checkRandomStates(b.machine, b.events, { runs: 100, bounds: b.bounds }).failed).toBe(false);
  });
});
