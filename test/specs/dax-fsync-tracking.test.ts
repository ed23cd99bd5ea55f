/**
 * The DAX fsync dirty-tracking spec (seed 001): each review finding's counterexample has the shape
 * the mail describes, read off the trace, and the designs that fix a finding do not show it.
 * Verdicts and state counts themselves are pinned by verdicts.test.ts through the manifest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { compileMachine } from '../../checker/xstate/compile.ts';
import { checkConfig, type ConfigRun } from '../../src/check.ts';
import type { Trace, TraceStep } from '../../src/trace.ts';
import { daxFsyncTracking, PROPERTY } from '../../specs/dax-fsync-tracking/machine.ts';

const runs = new Map<string, ConfigRun>();
async function run(name: string): Promise<ConfigRun> {
  let r = runs.get(name);
  if (!r) {
    const config = daxFsyncTracking.configs.find((c) => c.name === name);
    if (!config) throw new Error(`no configuration ${name}`);
    r = await checkConfig(daxFsyncTracking, config, undefined);
    runs.set(name, r);
  }
  return r;
}

function result(r: ConfigRun, property: string) {
  const x = r.results.find((p) => p.property === property);
  if (!x) throw new Error(`no property "${property}"`);
  return x;
}

function counterexample(r: ConfigRun): Trace {
  const x = result(r, PROPERTY.fsync);
  expect(x.verdict).toBe('violated');
  return x.trace!;
}

/** Every state field after the whole trace. */
function finalState(t: Trace): Record<string, string> {
  const s = { ...t.initialState };
  for (const step of t.steps) for (const c of step.changes) s[c.field] = c.after;
  return s;
}

/** Index of the first step matching, from `from`; -1 if none. */
const find = (steps: TraceStep[], test: (s: TraceStep) => boolean, from = 0) => {
  for (let k = from; k < steps.length; k++) if (test(steps[k])) return k;
  return -1;
};
const is = (actor: string, kind: string) => (s: TraceStep) => s.actor === actor && s.event === `${actor}.${kind}`;
const did = (s: TraceStep, action: string) => s.actions.some((a) => a.type === action);

/** The fsync caller whose return ends the trace, and the other one. */
function returningCaller(t: Trace): { returner: string; other: string } {
  const last = t.steps[t.steps.length - 1];
  expect(last.event).toMatch(/^F\d\.fsync_return$/);
  expect(last.text).toMatch(/fsync returns 0, but index \d's v\d .* not durable/);
  return { returner: last.actor, other: last.actor === 'F0' ? 'F1' : 'F0' };
}

beforeAll(async () => {
  for (const c of daxFsyncTracking.configs.filter((x) => x.default)) await run(c.name);
});

describe('finding 1: a DIRTY PTE entry replaced by a clean PMD entry (v8)', () => {
  it('a PMD fault deletes the dirty PTE entry, and the next fsync tags and flushes nothing', async () => {
    const t = counterexample(await run('v8-pmd'));
    const steps = t.steps;
    const dirtied = find(steps, (s) => did(s, 'dax_pfn_mkwrite') || did(s, '__dax_fault'));
    const stored = find(steps, (s) => did(s, 'store'));
    const replaced = find(steps, (s) => did(s, '__dax_pmd_fault'));
    const called = find(steps, (s) => did(s, 'fsync'));
    expect([dirtied >= 0, dirtied < stored, stored < replaced, replaced < called]).toEqual([true, true, true, true]);
    expect(steps[replaced].text).toMatch(/radix_tree_delete\(PTE entry, DIRTY\), PMD entry inserted with no tags/);
    const { returner } = returningCaller(t);
    const tag = steps[find(steps, is(returner, 'tag_pages_for_writeback'))];
    expect(tag.text).toMatch(/no DIRTY entry, nothing tagged/);
    // Nothing was ever written back.
    expect(steps.some((s) => did(s, 'wb_cache_pmem'))).toBe(false);
  });

  it('is also seen by the structural property: a writable dirty PTE beside a clean PMD entry', async () => {
    const x = result(await run('v8-pmd'), PROPERTY.tracked);
    expect(x.verdict).toBe('violated');
    expect(x.trace!.steps.at(-1)!.actions[0].type).toBe('__dax_pmd_fault');
    const end = finalState(x.trace!);
    expect(end['PTE 0.0']).toBe('writable, dirty');
    expect(end['radix 0']).toMatch(/^PMD entry .*, clean$/);
  });

  it('is gone when the tags are transferred (v9 with fsyncs that do not overlap)', async () => {
    const r = await run('v9-serial-fsync');
    expect(result(r, PROPERTY.fsync).verdict).toBe('holds');
    expect(result(r, PROPERTY.tracked).verdict).toBe('holds');
  });
});

describe('finding 2: TOWRITE cleared before the flush (v8)', () => {
  it('the second fsync returns before the first has flushed anything', async () => {
    const t = counterexample(await run('v8-concurrent-fsync'));
    const steps = t.steps;
    const { returner, other } = returningCaller(t);
    // Both were called after the store they owe.
    const stored = find(steps, (s) => did(s, 'store'));
    expect(find(steps, is(returner, 'fsync'))).toBeGreaterThan(stored);
    // The returner's tag found TOWRITE already set by the other fsync...
    expect(steps[find(steps, is(returner, 'tag_pages_for_writeback'))].text).toMatch(/already TOWRITE \(another fsync tagged it\)/);
    // ...which then cleared it before flushing...
    const cleared = find(steps, is(other, 'dax_writeback_one'));
    expect(steps[cleared].text).toMatch(/radix_tree_tag_clear\(TOWRITE\) before anything is flushed/);
    // ...and has not flushed when the returner returns.
    expect(find(steps, is(other, 'wb_cache_pmem'))).toBe(-1);
    expect(cleared).toBeLessThan(steps.length - 1);
    expect(t.steps.at(-1)!.outcome).toEqual({ returned: 0, notDurable: [{ index: 0, stored: 1, durable: 0 }] });
  });

  it('v8 without huge pages tracks every writable PTE: only the TOWRITE race is left', async () => {
    expect(result(await run('v8-concurrent-fsync'), PROPERTY.tracked).verdict).toBe('holds');
  });
});

describe('finding 3: entries cleaned after the flush without write-protection', () => {
  it('a store after the flush takes no fault, the entry ends clean, and the next fsync flushes nothing', async () => {
    const t = counterexample(await run('clean-without-wrprotect'));
    const steps = t.steps;
    const flushed = find(steps, (s) => did(s, 'wb_cache_pmem'));
    const store = find(steps, (s) => did(s, 'store'), flushed);
    expect(flushed).toBeGreaterThanOrEqual(0);
    expect(store).toBeGreaterThan(flushed);
    // No fault of any kind between the flush and that store: the PTE stayed writable.
    expect(steps.slice(flushed, store).some((s) => /__dax_fault|wp_pfn_shared|__dax_pmd_fault/.test(s.event))).toBe(false);
    expect(steps[store].text).toMatch(/through writable PTE 0\.0: cache line dirty, no fault/);
    const clean = find(steps, (s) => did(s, 'radix_tree_tag_clear'));
    expect(steps[clean].text).toMatch(/TOWRITE and DIRTY/);
    const end = finalState(t);
    expect(end['PTE 0.0']).toBe('writable, dirty');
    expect(end['radix 0']).toBe('PTE entry, clean');
    expect(end['cache 0.0']).toBe('v1 (dirty)');
  });
});

describe("finding 4: write-protect and clean without locking (Ross Zwisler's race diagram)", () => {
  it('wp_pfn_shared tags DIRTY, writeback cleans, wp_page_reuse makes the PTE writable: the trace ends with a writable dirty PTE beside a clean entry', async () => {
    const t = counterexample(await run('pgoff-mkclean'));
    const steps = t.steps;
    const tagDirty = find(steps, is('W0', 'wp_pfn_shared'));
    const mkclean = find(steps, (s) => did(s, 'pgoff_mkclean'), tagDirty);
    const reuse = find(steps, is('W0', 'wp_page_reuse'), tagDirty);
    const clearDirty = find(steps, (s) => did(s, 'radix_tree_tag_clear') && /DIRTY/.test(s.text), tagDirty);
    expect(steps[tagDirty].text).toMatch(/wp_pfn_shared\(\) → pfn_mkwrite\(\) → dax_pfn_mkwrite\(\) → dax_radix_entry\(index 0, NO_SECTOR\) → radix_tree_tag_set\(DIRTY\)/);
    expect(steps[reuse].text).toMatch(/return up to wp_pfn_shared\(\) → wp_page_reuse\(\) → pte_mkdirty\(\)/);
    // The writeback ran between the two halves of the fault: pgoff_mkclean found nothing to
    // write-protect, and the DIRTY tag the fault had just set was cleared.
    expect([tagDirty < mkclean, mkclean < reuse, tagDirty < clearDirty]).toEqual([true, true, true]);
    expect(steps[mkclean].text).toMatch(/no writable or dirty page-table entry to clean/);
    const end = finalState(t);
    expect(end['PTE 0.0']).toBe('writable, dirty');
    expect(end['radix 0']).toBe('PTE entry, clean');
  });

  it('the structural property fails on the same race, at the moment the DIRTY tag is cleared', async () => {
    const x = result(await run('pgoff-mkclean'), PROPERTY.tracked);
    expect(x.verdict).toBe('violated');
    const steps = x.trace!.steps;
    expect(steps.some((s) => s.event === 'W0.wp_pfn_shared')).toBe(true);
    expect(steps.some((s) => s.event === 'W0.wp_page_reuse')).toBe(true);
    const end = finalState(x.trace!);
    expect(end['PTE 0.0']).toBe('writable, dirty');
    expect(end['radix 0']).toBe('PTE entry, clean');
  });
});

describe('v2 as posted (DIRTY and TOWRITE cleared at the lookup, flush, then pgoff_mkclean)', () => {
  it('is racy before it gets to pgoff_mkclean: a concurrent fsync finds neither tag and returns first', async () => {
    const t = counterexample(await run('v2-as-posted'));
    const { returner, other } = returningCaller(t);
    const steps = t.steps;
    expect(steps[find(steps, is(other, 'dax_writeback_one'))].text).toMatch(/radix_tree_tag_clear\(TOWRITE and DIRTY\) before anything is flushed/);
    expect(steps[find(steps, is(returner, 'tag_pages_for_writeback'))].text).toMatch(/no DIRTY entry, nothing tagged/);
    expect(find(steps, is(other, 'wb_cache_pmem'))).toBe(-1);
  });
});

describe('v9 (tags transferred, TOWRITE cleared after the flush, entries never cleaned)', () => {
  it('two fsyncs really overlap', async () => {
    const w = result(await run('v9'), PROPERTY.overlap);
    expect(w.verdict).toBe('reachable');
    const steps = w.trace!.steps;
    expect(new Set(steps.filter((s) => s.event.endsWith('.fsync')).map((s) => s.actor))).toEqual(new Set(['F0', 'F1']));
    expect(steps.some((s) => s.event.endsWith('.fsync_return'))).toBe(false);
  });

  it("is still violated: after one fsync's flush a store, a concurrent fsync whose TOWRITE tag the first then clears", async () => {
    const t = counterexample(await run('v9'));
    const steps = t.steps;
    const { returner, other } = returningCaller(t);
    const flush = find(steps, is(other, 'wb_cache_pmem'));
    const store = find(steps, (s) => did(s, 'store'), flush);
    const call = find(steps, is(returner, 'fsync'));
    const tag = find(steps, is(returner, 'tag_pages_for_writeback'));
    const clear = find(steps, is(other, 'radix_tree_tag_clear'));
    expect([flush >= 0, flush < store, store < call, call < tag, tag < clear, clear === steps.length - 2]).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(steps[tag].text).toMatch(/already TOWRITE/);
    expect(steps[clear].text).toMatch(/radix_tree_tag_clear\(index 0, TOWRITE\)/);
    // Every writable PTE is tracked by a DIRTY entry all along: the tags are right, the TOWRITE
    // protocol between two fsyncs is not.
    expect(result(await run('v9'), PROPERTY.tracked).verdict).toBe('holds');
  });
});

describe('the entry lock (fault path and write-protect-and-clean)', () => {
  it('holds, and its fsyncs overlap and really flush', async () => {
    const r = await run('entry-lock');
    expect(result(r, PROPERTY.fsync).verdict).toBe('holds');
    expect(result(r, PROPERTY.deadlock).verdict).toBe('holds');
    expect(result(r, PROPERTY.overlap).verdict).toBe('reachable');
    const w = result(r, PROPERTY.flushed).trace!;
    expect(w.steps.some((s) => did(s, 'wb_cache_pmem') && /written back to pmem/.test(s.text))).toBe(true);
  });

  it('never lets writeback past its lookup while a fault is between dax_pfn_mkwrite and wp_page_reuse', async () => {
    // The state Ross Zwisler's race needs: W0 has tagged DIRTY and not yet made its PTE writable
    // while an fsync is write-protecting, flushing or cleaning. Reachable without the lock,
    // unreachable with it.
    const racing = async (name: string) => {
      const config = daxFsyncTracking.configs.find((c) => c.name === name)!;
      const built = daxFsyncTracking.build(config);
      const sys = compileMachine(built.machine, { events: built.events, bounds: built.bounds });
      const between = (v: { matches(p: string): boolean }) =>
        sys.stateNodes().some((n) => /^dax-fsync-tracking\.running\.W0\.[^.]*_wp$/.test(n.id) && v.matches(n.id.replace(/^dax-fsync-tracking\./, '')));
      const writingBack = (v: { matches(p: string): boolean }) =>
        [0, 1].some((f) => ['wrprotect', 'flush', 'finish'].some((s) => v.matches(`running.F${f}.${s}`)));
      const r = await explore(sys, [{ kind: 'sometimes', id: 'race-window', name: 'race window', reached: (v) => between(v) && writingBack(v) }]);
      expect(r.complete).toBe(true);
      return r.outcomes[0].state >= 0;
    };
    expect(await racing('pgoff-mkclean')).toBe(true);
    expect(await racing('entry-lock')).toBe(false);
  });

  it('clearing TOWRITE when the entry is locked, before the flush, lets a concurrent fsync return early', async () => {
    const t = counterexample(await run('entry-lock-towrite-early'));
    const steps = t.steps;
    const { returner, other } = returningCaller(t);
    const locked = find(steps, is(other, 'dax_writeback_one'));
    expect(steps[locked].text).toMatch(/radix_tree_tag_clear\(TOWRITE\) before anything is flushed; entry locked/);
    expect(find(steps, is(other, 'wb_cache_pmem'))).toBe(-1);
    expect(steps[find(steps, is(returner, 'tag_pages_for_writeback'))].text).toMatch(/already TOWRITE/);
  });
});

describe('the entry-lock design (Linux 4.10): dax_pfn_mkwrite without an entry', () => {
  it('returns VM_FAULT_NOPAGE and leaves the PTE read-only; the store faults again instead of going through', async () => {
    const { initialTransition, transition } = await import('xstate');
    const { TrackingLayout } = await import('../../specs/dax-fsync-tracking/tracking.ts');
    const config = daxFsyncTracking.configs.find((c) => c.name === 'entry-lock')!;
    const built = daxFsyncTracking.build(config);
    const T = new TrackingLayout({ pages: 2, pmdPages: 2, mappings: 2, fsyncs: 2, maxVersion: 2 });
    type Snap = { context: import('../../models/layout.ts').DaxContext; value: unknown };
    let [snap] = initialTransition(built.machine) as unknown as [Snap];
    const step = (type: string) => {
      [snap] = transition(built.machine, snap as never, { type } as never) as unknown as [Snap];
    };
    // W0 loads page 0: a read fault maps PTE 0.0 read-only over a clean PTE entry.
    step('W0.__dax_fault');
    step('W0.vm_insert_mixed');
    const at = () => T.view().at(snap.context);
    expect([at().pte(0, 0), at().radixEntry(0)]).toEqual(['read-only', 'PTE entry']);
    // The entry is gone (as after a truncate or punch that has not yet unmapped the page).
    const context = { durable: snap.context.durable.slice(), volatile: snap.context.volatile.slice(), ghost: snap.context.ghost.slice() };
    T.view().at(context).radixEntry.set(0, 'absent');
    snap = built.machine.resolveState({ value: snap.value as never, context }) as unknown as Snap;
    // The store hits the read-only PTE: wp_pfn_shared → dax_pfn_mkwrite finds no entry.
    step('W0.wp_pfn_shared');
    step('W0.wp_page_reuse');
    expect(at().pte(0, 0)).toBe('read-only');
    expect(at().radixEntry(0)).toBe('absent');
    // The store is still pending: the writer has not moved past it.
    step('W0.store');
    expect(at().dirty(0, 0)).toBe(0);
  });
});
