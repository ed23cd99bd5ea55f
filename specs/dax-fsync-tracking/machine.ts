/**
 * DAX fsync dirty tracking: DIRTY/TOWRITE tags on DAX radix-tree entries.
 *
 * Source: seed 001 (linux-ext4 / linux-nvdimm, January 2016): Ross Zwisler's "dax: add support for
 * fsync/sync" v8 and Jan Kara's review, with Ross's race diagram for the v2 design that
 * write-protected and cleaned entries (`pgoff_mkclean`).
 *
 * Promise: after fsync (or msync) returns, every store made through a DAX mapping before it was
 * called is durable: fault handlers tag the page's radix-tree entry DIRTY, and fsync flushes the
 * cache lines of every entry it tagged TOWRITE.
 *
 * Threads are parallel regions of `running`: writers W0, W1, ... (each its own process and
 * mapping, running a program of loads and stores; a store that faults stays in its state while
 * the fault is handled, as the CPU retries it) and fsync callers F0, F1, ... (one fsync each).
 * Each kernel step is one state, so every interleaving of the threads is explored; a step is
 * atomic exactly where the kernel holds tree_lock or a page-table lock (tracking.ts,
 * writeback.ts). There is no power failure: the property looks at the media at the
 * moment fsync returns, which is what a crash right after it would find.
 *
 * Kernel modelled (audited, issue 13): the v8 / v9 designs and their variants are Ross
 * Zwisler's patches on Linux 4.5-rc (fs/dax.c `__dax_fault`, `__dax_pmd_fault`, `dax_radix_entry`,
 * `dax_pfn_mkwrite`, `dax_writeback_mapping_range`, `dax_writeback_one`; mm/memory.c
 * `wp_pfn_shared` → `wp_page_reuse`, which in 4.5 makes the PTE writable whatever
 * `dax_pfn_mkwrite` found, since it only looks for VM_FAULT_ERROR). The entry-lock designs are
 * Linux 4.10 (Jan Kara's entry locks: `grab_mapping_entry`, `dax_insert_mapping_entry`,
 * `dax_pfn_mkwrite` which without an entry returns VM_FAULT_NOPAGE and leaves the PTE read-only,
 * and with one makes it writable itself through `finish_mkwrite_fault` under the entry lock;
 * `dax_writeback_one` with `dax_mapping_entry_mkclean`). In both, `vm_insert_mixed` installs a
 * write fault's PTE read-only (no write bit in a write-notify vma's `vm_page_prot`), so the
 * retried store goes through `wp_pfn_shared`. Linux 4.10 clears TOWRITE when it locks the entry,
 * before the flush: that is the `entry-lock-towrite-early` configuration; `entry-lock` clears it
 * after the flush. Not modelled: 4.10's `grab_mapping_entry` makes a PMD fault over a PTE entry
 * fall back to PTEs (-EEXIST); the model's entry-lock designs transfer the tags instead.
 */
import { and, not, setup, stateIn } from 'xstate';
import type { Property } from '../../checker/system.ts';
import type { MachineView } from '../../checker/xstate/compile.ts';
import { mutator } from '../../checker/xstate/mutator.ts';
import {
  cpuStore,
  daxFaultRadix,
  daxPfnMkwrite,
  daxPmdFaultRadix,
  evictLine,
  hasTrackingEntry,
  isCacheDirty,
  isTrackingEntryUnlocked,
  trackingBounds,
  trackingContext,
  TrackingLayout,
  vmfInsertPfnPmd,
  vmInsertMixed,
  wpPageReuse,
  writableOverCleanEntry,
  type TrackingContext,
  type TrackingDesign,
} from './tracking.ts';
import {
  findGetEntriesTag,
  fsyncCall,
  gatheredEntryChanged,
  gatheredIsLocked,
  gatheredIsTowrite,
  hadStoresToSync,
  hasFinishStep,
  hasTowriteEntry,
  pgoffMkclean,
  storesNotDurable,
  tagPagesForWriteback,
  wbCachePmem,
  writebackFinish,
  writebackLookup,
  writebackSkip,
  writeProtects,
} from './writeback.ts';
import type { BuiltSpec, Spec } from '../common/spec.ts';
import { fsyncTrackingConfigs, type FsyncTrackingConfig, type WriterProgram } from './configs.ts';
import { fsyncTrackingRenderer } from './describe.ts';

/** Spec name: the CLI name and the folder under specs/. */
export const SPEC_NAME = 'dax-fsync-tracking';

/** The properties, as sentences. */
export const PROPERTY = {
  fsync: 'after fsync returns, every store made before fsync was called is durable',
  tracked: 'a writable, dirty page-table entry always has a DIRTY radix-tree entry',
  overlap: 'two fsyncs are inside dax_writeback_mapping_range at once',
  flushed: 'an fsync returns with a store made before it durable',
  finishes: 'every thread finishes',
  deadlock: 'no thread waits forever',
} as const;

export type TrackingEvent = { type: string; p?: number };
type View = MachineView<TrackingContext>;

/** Params of writer steps: mapping m, page i; of fsync steps: caller f. */
type At = { m: number; i: number };
type Fx = { f: number };

/** States of an fsync caller between the call and the return. */
const IN_WRITEBACK = ['tag', 'scan', 'lookup', 'wrprotect', 'flush', 'finish'] as const;

/**
 * The guards read the state by field names and values (`s.pte(m, i) === 'writable'`), through a
 * view made once: guards run for every event tried in every state.
 */
function guards(T: TrackingLayout) {
  const s = T.view();
  type Ctx = { context: TrackingContext };
  return {
    isPteAbsent: ({ context }: Ctx, p: At) => s.at(context).pte(p.m, p.i) === 'absent',
    /** Does a radix-tree entry track page i (its PTE entry or the PMD entry covering it)? */
    hasTrackingEntry: ({ context }: Ctx, p: At) => hasTrackingEntry(s.at(context), T, p.i),
    isPteReadOnly: ({ context }: Ctx, p: At) => s.at(context).pte(p.m, p.i) === 'read-only',
    isPteWritable: ({ context }: Ctx, p: At) => s.at(context).pte(p.m, p.i) === 'writable',
    isPteMapped: ({ context }: Ctx, p: At) => s.at(context).pte(p.m, p.i) !== 'absent',
    isPmdAbsent: ({ context }: Ctx, p: At) => s.at(context).pmd(p.m) === 'absent',
    isPmdWritable: ({ context }: Ctx, p: At) => s.at(context).pmd(p.m) === 'writable',
    isPmdMapped: ({ context }: Ctx, p: At) => s.at(context).pmd(p.m) !== 'absent',
    /** With the entry lock: may the fault path take the entry tracking page i (or the PMD's)? */
    isEntryUnlocked: ({ context }: Ctx, p: { i: number; pmd: boolean }) => isTrackingEntryUnlocked(s.at(context), T, p.i, p.pmd),
    hasTowriteEntry: ({ context }: Ctx) => hasTowriteEntry(s.at(context), T),
    /** `*slot != entry`: was the gathered entry replaced or deleted? */
    isGatheredEntryChanged: ({ context }: Ctx, p: Fx) => gatheredEntryChanged(s.at(context), p.f),
    isGatheredTowrite: ({ context }: Ctx, p: Fx) => gatheredIsTowrite(s.at(context), p.f),
    isGatheredUnlocked: ({ context }: Ctx, p: Fx) => !gatheredIsLocked(s.at(context), p.f),
    isCacheLineDirty: ({ context, event }: Ctx & { event: TrackingEvent }) => isCacheDirty(s.at(context), event.p!),
  };
}

function actions(T: TrackingLayout, d: TrackingDesign) {
  const act = <P>(fn: (c: TrackingContext, e: TrackingEvent, p: P) => void) => mutator<TrackingContext, TrackingEvent, P>(fn);
  return {
    /** A CPU load: changes nothing (it is a step so the program can go on). */
    load: act<At & { pmd: boolean }>(() => {}),
    store: act<At & { pmd: boolean }>((c, _e, p) => void cpuStore(c, T, p.m, p.i, p.pmd)),
    __dax_fault: act<At & { write: boolean }>((c, _e, p) => void daxFaultRadix(c, T, d, p.i, p.write)),
    vm_insert_mixed: act<At & { write: boolean }>((c, _e, p) => vmInsertMixed(c, T, d, p.m, p.i, p.write)),
    dax_pfn_mkwrite: act<At>((c, _e, p) => void daxPfnMkwrite(c, T, d, p.i)),
    /** 4.10's dax_pfn_mkwrite without an entry: VM_FAULT_NOPAGE, nothing changes, the store faults again. */
    dax_pfn_mkwrite_no_entry: act<At>(() => {}),
    wp_page_reuse: act<At>((c, _e, p) => wpPageReuse(c, T, d, p.m, p.i)),
    __dax_pmd_fault: act<At & { write: boolean }>((c, _e, p) => void daxPmdFaultRadix(c, T, d, p.i, p.write)),
    vmf_insert_pfn_pmd: act<At & { write: boolean }>((c, _e, p) => vmfInsertPfnPmd(c, T, d, p.m, p.i, p.write)),

    fsync: act<Fx>((c, _e, p) => fsyncCall(c, T, p.f)),
    tag_pages_for_writeback: act<Fx>((c) => void tagPagesForWriteback(c, T)),
    find_get_entries_tag: act<Fx>((c, _e, p) => void findGetEntriesTag(c, T, p.f)),
    /** wmb_pmem and return 0: changes nothing, but it is the moment the promise is judged. */
    fsync_return: act<Fx>(() => {}),
    dax_writeback_one: act<Fx>((c, _e, p) => writebackLookup(c, T, d, p.f)),
    dax_writeback_one_skip: act<Fx & { reason: 'changed' | 'towrite' }>((c, _e, p) => writebackSkip(c, T, p.f)),
    pgoff_mkclean: act<Fx & { last: boolean }>((c, _e, p) => void pgoffMkclean(c, T, p.f, p.last)),
    wb_cache_pmem: act<Fx & { last: boolean }>((c, _e, p) => void wbCachePmem(c, T, p.f, p.last)),
    radix_tree_tag_clear: act<Fx>((c, _e, p) => writebackFinish(c, T, d, p.f)),

    cpu_evict: act((c, e) => void evictLine(c, T, e.p!)),
  };
}

type Ref = { type: string; params?: Record<string, unknown> };
type Guard = Ref | ReturnType<typeof and> | ReturnType<typeof not>;

/**
 * Writer m's region: one state per access of its program, plus a state per fault in progress.
 * Fault transitions are generated only where the fault can happen: a first access to a
 * page-table entry can find it absent; a store can find it read-only after a load, or whenever
 * writeback write-protects (designs that clean with pgoff_mkclean). Should that reasoning miss a
 * case, the writer is stuck and the deadlock property says so.
 */
function writerRegion(m: number, w: WriterProgram, d: TrackingDesign) {
  const W = `W${m}`;
  const types = new Set<string>();
  const on = (t: string) => (types.add(`${W}.${t}`), `${W}.${t}`);
  const states: Record<string, unknown> = {};
  const pmd = w.mapping === 'pmd';
  // What this writer has done to each page-table entry so far (for a PMD mapping, key 0).
  const seen = new Map<number, 'load' | 'store'>();
  const locked = (i: number, g: Guard): Guard =>
    d.entryLock ? and([{ type: 'isEntryUnlocked', params: { i, pmd } }, g as never]) : g;

  w.program.forEach((a, k) => {
    const here = `s${k}_${a.op}${a.index}`;
    const next = k + 1 < w.program.length ? `s${k + 1}_${w.program[k + 1].op}${w.program[k + 1].index}` : 'done';
    const at = { m, i: a.index };
    const key = pmd ? 0 : a.index;
    const before = seen.get(key);
    if (before !== 'store') seen.set(key, a.op);
    const mayBeAbsent = before === undefined;
    // Read-only: after a load, or whenever writeback write-protects (even between a write
    // fault and the store it retries).
    // vm_insert_mixed installs a write fault's PTE read-only too, so the retried store finds it so.
    const mayBeReadOnly = before === 'load' || (a.op === 'store' && mayBeAbsent) || writeProtects(d) !== 'no';
    const write = a.op === 'store';
    const faulting = `${here}_fault`;
    const transitions: Record<string, unknown> = {};

    // A load that faults completes with the fault; only a later load finds the entry present.
    const plain = write || !mayBeAbsent;
    if (!pmd) {
      if (plain) {
        transitions[on(a.op)] = {
          guard: { type: write ? 'isPteWritable' : 'isPteMapped', params: at },
          target: next,
          actions: { type: a.op, params: { ...at, pmd } },
        };
      }
      if (mayBeAbsent) {
        transitions[on('__dax_fault')] = {
          guard: locked(a.index, { type: 'isPteAbsent', params: at }),
          target: faulting,
          actions: { type: '__dax_fault', params: { ...at, write } },
        };
        // A read fault completes the load; a write fault returns and the store is retried.
        states[faulting] = {
          on: { [on('vm_insert_mixed')]: { target: write ? here : next, actions: { type: 'vm_insert_mixed', params: { ...at, write } } } },
        };
      }
      if (write && mayBeReadOnly) {
        const reuse = `${here}_wp`;
        const readOnly = { type: 'isPteReadOnly', params: at };
        transitions[on('wp_pfn_shared')] = d.entryLock
          ? [
              // 4.10: dax_pfn_mkwrite tags and locks the entry it finds; without one it returns
              // VM_FAULT_NOPAGE at once, wp_pfn_shared returns too, and the PTE stays read-only.
              { guard: locked(a.index, and([readOnly, { type: 'hasTrackingEntry', params: at }])), target: reuse, actions: { type: 'dax_pfn_mkwrite', params: at } },
              { guard: locked(a.index, and([readOnly, not({ type: 'hasTrackingEntry', params: at })])), target: here, actions: { type: 'dax_pfn_mkwrite_no_entry', params: at } },
            ]
          : { guard: locked(a.index, readOnly), target: reuse, actions: { type: 'dax_pfn_mkwrite', params: at } };
        states[reuse] = { on: { [on('wp_page_reuse')]: { target: here, actions: { type: 'wp_page_reuse', params: at } } } };
      }
    } else {
      if (plain) {
        transitions[on(a.op)] = {
          guard: { type: write ? 'isPmdWritable' : 'isPmdMapped', params: at },
          target: next,
          actions: { type: a.op, params: { ...at, pmd } },
        };
      }
      if (mayBeAbsent || (write && mayBeReadOnly)) {
        // Absent: __dax_pmd_fault; read-only and written: wp_huge_pmd → __dax_pmd_fault(write).
        const g: Guard = write ? not({ type: 'isPmdWritable', params: at }) : { type: 'isPmdAbsent', params: at };
        transitions[on('__dax_pmd_fault')] = {
          guard: locked(a.index, g),
          target: faulting,
          actions: { type: '__dax_pmd_fault', params: { ...at, write } },
        };
        states[faulting] = {
          on: { [on('vmf_insert_pfn_pmd')]: { target: write ? here : next, actions: { type: 'vmf_insert_pfn_pmd', params: { ...at, write } } } },
        };
      }
    }
    states[here] = { on: transitions };
  });
  states.done = {};
  const first = w.program.length ? `s0_${w.program[0].op}${w.program[0].index}` : 'done';
  return { region: { initial: first, states }, eventTypes: [...types] };
}

/**
 * Fsync caller f's region: fsync(fd) → dax_writeback_mapping_range → return. With `serial`,
 * caller f calls only after caller f - 1 has returned: the same as one thread calling fsync
 * several times in a row.
 */
function fsyncRegion(f: number, d: TrackingDesign, serial: boolean) {
  const F = `F${f}`;
  const types: string[] = [];
  const on = (t: string) => (types.includes(`${F}.${t}`) || types.push(`${F}.${t}`), `${F}.${t}`);
  const p = { f };
  const finish = hasFinishStep(d);
  const wp = writeProtects(d);
  // Where the loop goes once the entry's last step is done.
  const afterEntry = finish ? 'finish' : 'scan';
  // With the entry lock, dax_writeback_one waits while the entry is locked before it looks at it.
  const unlocked = (g?: Guard): Guard | undefined => {
    if (!d.entryLock) return g;
    const u = { type: 'isGatheredUnlocked', params: p };
    return g ? and([u, g as never]) : u;
  };
  const states: Record<string, unknown> = {
    idle: {
      on: {
        [on('fsync')]: {
          ...(serial && f > 0 ? { guard: stateIn(`#${SPEC_NAME}.running.F${f - 1}.done`) } : {}),
          target: 'tag',
          actions: { type: 'fsync', params: p },
        },
      },
    },
    tag: { on: { [on('tag_pages_for_writeback')]: { target: 'scan', actions: { type: 'tag_pages_for_writeback', params: p } } } },
    scan: {
      on: {
        [on('find_get_entries_tag')]: { guard: 'hasTowriteEntry', target: 'lookup', actions: { type: 'find_get_entries_tag', params: p } },
        [on('fsync_return')]: { guard: not('hasTowriteEntry'), target: 'done', actions: { type: 'fsync_return', params: p } },
      },
    },
    lookup: {
      on: {
        [on('dax_writeback_one')]: [
          {
            guard: unlocked({ type: 'isGatheredEntryChanged', params: p }),
            target: 'scan',
            actions: { type: 'dax_writeback_one_skip', params: { f, reason: 'changed' } },
          },
          {
            guard: unlocked(not({ type: 'isGatheredTowrite', params: p })),
            target: 'scan',
            actions: { type: 'dax_writeback_one_skip', params: { f, reason: 'towrite' } },
          },
          {
            ...(d.entryLock ? { guard: unlocked() } : {}),
            target: wp === 'before-flush' ? 'wrprotect' : 'flush',
            actions: { type: 'dax_writeback_one', params: p },
          },
        ],
      },
    },
    flush: {
      on: {
        [on('wb_cache_pmem')]: {
          target: wp === 'after-flush' ? 'wrprotect' : afterEntry,
          actions: { type: 'wb_cache_pmem', params: { f, last: wp !== 'after-flush' && !finish } },
        },
      },
    },
    done: {},
  };
  if (wp !== 'no') {
    states.wrprotect = {
      on: {
        [on('pgoff_mkclean')]: {
          target: wp === 'before-flush' ? 'flush' : afterEntry,
          actions: { type: 'pgoff_mkclean', params: { f, last: wp === 'after-flush' && !finish } },
        },
      },
    };
  }
  if (finish) {
    states.finish = { on: { [on('radix_tree_tag_clear')]: { target: 'scan', actions: { type: 'radix_tree_tag_clear', params: p } } } };
  }
  return { region: { initial: 'idle', states }, eventTypes: types };
}

function properties(T: TrackingLayout, cfg: FsyncTrackingConfig, eventTypes: string[]): Property<View>[] {
  const F = cfg.fsyncs;
  const returned = (v: View, f: number) => v.matches(`running.F${f}.done`);
  const states = IN_WRITEBACK.filter((s) => (s !== 'wrprotect' || writeProtects(cfg.design) !== 'no') && (s !== 'finish' || hasFinishStep(cfg.design)));
  const inside = (v: View, f: number) => states.some((s) => v.matches(`running.F${f}.${s}`));
  const regions = [...cfg.writers.map((_, m) => `W${m}`), ...Array.from({ length: F }, (_, f) => `F${f}`)];
  const s = T.view();
  const props: Property<View>[] = [
    {
      kind: 'always',
      id: 'fsync-covers-prior-stores',
      name: PROPERTY.fsync,
      holds: (v) => {
        s.at(v.context);
        for (let f = 0; f < F; f++) if (returned(v, f) && storesNotDurable(s, T, f).length) return false;
        return true;
      },
    },
    { kind: 'always', id: 'dirty-pte-tracked', name: PROPERTY.tracked, holds: (v) => writableOverCleanEntry(s.at(v.context), T).length === 0 },
  ];
  if (F >= 2) {
    props.push({
      kind: 'sometimes',
      id: 'fsyncs-overlap',
      name: PROPERTY.overlap,
      reached: (v) => {
        let n = 0;
        for (let f = 0; f < F; f++) if (inside(v, f)) n++;
        return n >= 2;
      },
    });
  }
  props.push(
    {
      kind: 'sometimes',
      id: 'fsync-flushes-store',
      name: PROPERTY.flushed,
      reached: (v) => {
        s.at(v.context);
        for (let f = 0; f < F; f++) if (returned(v, f) && hadStoresToSync(s, T, f) && !storesNotDurable(s, T, f).length) return true;
        return false;
      },
    },
    { kind: 'sometimes', id: 'every-thread-finishes', name: PROPERTY.finishes, reached: (v) => regions.every((r) => v.matches(`running.${r}.done`)) },
    {
      kind: 'deadlock',
      id: 'no-deadlock',
      name: PROPERTY.deadlock,
      isProgress: (e) => /^[WF]\d+\./.test(eventTypes[e]),
      isDone: (v) => regions.every((r) => v.matches(`running.${r}.done`)),
    },
  );
  return props;
}

/**
 * The layout a configuration needs: its mappings, fsync callers and most stores to one page. The
 * file is two pages in one PMD: the smallest file where a PMD entry covers more than one PTE index.
 */
export function layoutFor(cfg: FsyncTrackingConfig): TrackingLayout {
  const pages = 2;
  const stores = new Array<number>(pages).fill(0);
  for (const w of cfg.writers) for (const a of w.program) if (a.op === 'store') stores[a.index]++;
  return new TrackingLayout({ pages, pmdPages: 2, mappings: cfg.writers.length, fsyncs: cfg.fsyncs, maxVersion: Math.max(1, ...stores) });
}

export function buildFsyncTracking(cfg: FsyncTrackingConfig): BuiltSpec<TrackingContext> {
  const T = layoutFor(cfg);
  const d = cfg.design;
  for (const w of cfg.writers) {
    for (const a of w.program) {
      if (a.index < 0 || a.index >= T.dims.pages) throw new Error(`${SPEC_NAME}/${cfg.name}: page ${a.index} is outside the file`);
    }
  }
  const regions: Record<string, unknown> = {};
  const threadEvents: string[] = [];
  cfg.writers.forEach((w, m) => {
    const { region, eventTypes } = writerRegion(m, w, d);
    regions[`W${m}`] = region;
    threadEvents.push(...eventTypes);
  });
  for (let f = 0; f < cfg.fsyncs; f++) {
    const { region, eventTypes } = fsyncRegion(f, d, cfg.serialFsyncs ?? false);
    regions[`F${f}`] = region;
    threadEvents.push(...eventTypes);
  }

  const machine = setup({
    types: {} as { context: TrackingContext; events: TrackingEvent },
    guards: guards(T),
    actions: actions(T, d),
  }).createMachine({
    id: SPEC_NAME,
    initial: 'running',
    context: trackingContext(T),
    states: {
      running: {
        type: 'parallel',
        states: regions as never,
        on: cfg.evict ? ({ 'cpu.evict': { guard: 'isCacheLineDirty', actions: 'cpu_evict' } } as never) : {},
      },
    },
  });

  // The event alphabet, in the order the explorer tries it: threads, then the CPU's evictions.
  const events: TrackingEvent[] = threadEvents.map((type) => ({ type }));
  if (cfg.evict) for (let i = 0; i < T.dims.pages; i++) events.push({ type: 'cpu.evict', p: i });
  const eventTypes = events.map((e) => e.type);
  return {
    machine,
    events,
    bounds: trackingBounds(T),
    properties: properties(T, cfg, eventTypes),
    render: fsyncTrackingRenderer(T, cfg),
  };
}

export const daxFsyncTracking: Spec<FsyncTrackingConfig, TrackingContext> = {
  name: SPEC_NAME,
  title: 'DAX fsync dirty tracking (DIRTY/TOWRITE tags on radix-tree entries)',
  sources: ['001'],
  promise:
    'After fsync or msync returns, every store made through a DAX mapping before it was called is durable: faults tag the page\'s radix-tree entry DIRTY, and fsync flushes the cache lines of every entry it tagged TOWRITE.',
  capabilities: {
    'no fsync needed after userspace flushes': 'no',
    'fsync cost': 'flushes only pages written through a mapping since they were tracked (v8/v9: every page ever written)',
    'extra cost in a page fault': 'a radix-tree tag; with write-protection, a fault after every fsync',
    'works on files without DAX': 'yes (the page cache tracks its own dirty pages)',
  },
  configs: fsyncTrackingConfigs,
  build: buildFsyncTracking,
};
