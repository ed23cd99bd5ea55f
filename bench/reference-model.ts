/**
 * The reference model of ../shared/bench/MODEL.md ("journaled DAX write + crash") as a daxcheck
 * spec: an XState machine explored by the same compiler and explorer as every proposal.
 *
 * T threads each fault, store and flush each of B blocks; any thread may fsync (commit the
 * journal); the hardware may evict a dirty line; a crash keeps only the durable part. Spin runs
 * the same model (../shared/bench/gen-promela.cjs), so the state counts must agree exactly.
 */
import { setup } from 'xstate';
import { mutator } from '../checker/xstate/mutator.ts';
import type { Property } from '../checker/system.ts';
import { bytePermutation, type Symmetry } from '../checker/symmetry.ts';
import { compileMachine, type MachineView } from '../checker/xstate/compile.ts';

export type RefContext = { stage: Uint8Array; alloc: Uint8Array; cache: Uint8Array; pdata: Uint8Array };
type Ev = { type: 'FAULT' | 'STORE' | 'FLUSH'; t: number; b: number } | { type: 'FSYNC'; t: number } | { type: 'EVICT'; b: number } | { type: 'CRASH' };

export function referenceModel(T: number, B: number) {
  const at = (e: { t: number; b: number }) => e.t * B + e.b;
  const machine = setup({
    types: {} as { context: RefContext; events: Ev },
    guards: {
      stageIs: ({ context, event }, p: { stage: number }) => context.stage[at(event as { t: number; b: number })] === p.stage,
      isCacheDirty: ({ context, event }) => context.cache[(event as { b: number }).b] !== 0,
    },
    actions: {
      fault: mutator<RefContext, Ev>((c, e) => {
        const { t, b } = e as { t: number; b: number };
        c.stage[t * B + b] = 1;
        if (c.alloc[b] === 0) c.alloc[b] = 1;
      }),
      store: mutator<RefContext, Ev>((c, e) => {
        const { t, b } = e as { t: number; b: number };
        c.stage[t * B + b] = 2;
        c.cache[b] = t + 1;
      }),
      flush: mutator<RefContext, Ev>((c, e) => {
        const { t, b } = e as { t: number; b: number };
        c.stage[t * B + b] = 3;
        if (c.cache[b] !== 0) {
          c.pdata[b] = c.cache[b];
          c.cache[b] = 0;
        }
      }),
      fsync: mutator<RefContext, Ev>((c) => {
        for (let b = 0; b < B; b++) if (c.alloc[b] === 1) c.alloc[b] = 2;
      }),
      evict: mutator<RefContext, Ev>((c, e) => {
        const { b } = e as { b: number };
        c.pdata[b] = c.cache[b];
        c.cache[b] = 0;
      }),
      crash: mutator<RefContext, Ev>((c) => {
        c.stage.fill(0);
        c.cache.fill(0);
        for (let b = 0; b < B; b++) if (c.alloc[b] === 1) c.alloc[b] = 0;
      }),
    },
  }).createMachine({
    id: `reference-T${T}-B${B}`,
    initial: 'running',
    context: {
      stage: new Uint8Array(T * B),
      alloc: new Uint8Array(B),
      cache: new Uint8Array(B),
      pdata: new Uint8Array(B),
    },
    states: {
      running: {
        on: {
          FAULT: { guard: { type: 'stageIs', params: { stage: 0 } }, actions: 'fault' },
          STORE: { guard: { type: 'stageIs', params: { stage: 1 } }, actions: 'store' },
          FLUSH: { guard: { type: 'stageIs', params: { stage: 2 } }, actions: 'flush' },
          FSYNC: { actions: 'fsync' },
          EVICT: { guard: 'isCacheDirty', actions: 'evict' },
          CRASH: { target: 'crashed', actions: 'crash' },
        },
      },
      crashed: {},
    },
  });
  const events: Ev[] = [];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      events.push({ type: 'FAULT', t, b }, { type: 'STORE', t, b }, { type: 'FLUSH', t, b });
    }
    events.push({ type: 'FSYNC', t });
  }
  for (let b = 0; b < B; b++) events.push({ type: 'EVICT', b });
  events.push({ type: 'CRASH' });
  const bounds = { stage: 3, alloc: 2, cache: T, pdata: T };
  const properties: Property<MachineView<RefContext>>[] = [
    {
      kind: 'always',
      id: 'durable-data-has-alloc',
      name: 'durable data implies a durable allocation',
      holds: (v) => {
        if (!v.matches('crashed')) return true;
        const c = v.context;
        for (let b = 0; b < B; b++) if (c.pdata[b] !== 0 && c.alloc[b] !== 2) return false;
        return true;
      },
    },
  ];
  return { machine, events, bounds, properties };
}

/** Loader for the parallel explorer's workers: the compiled reference model and its property. */
export function loadReference(T: number, B: number) {
  const m = referenceModel(T, B);
  const system = compileMachine<RefContext>(m.machine, { events: m.events, bounds: m.bounds });
  system.symmetry = referenceSymmetry(system, T, B);
  return { system, properties: m.properties };
}

/**
 * The reference model's threads and blocks are interchangeable, separately (T! × B! permutations):
 * every event exists for every thread and block, the initial state is all zeros, a thread's data
 * is the value t + 1 in cache and pdata, and the invariant speaks of every block alike. Used only
 * with the explorer's `symmetry` option (the bench explores without it).
 */
export function referenceSymmetry(system: ReturnType<typeof compileMachine<RefContext>>, T: number, B: number): Symmetry {
  const at = (name: string) => system.fieldOffset(name);
  const perms = (n: number): number[][] => (n <= 1 ? [[0]] : perms(n - 1).flatMap((p) => [...Array(n).keys()].map((i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
  const out: Symmetry['permutations'] = [];
  for (const pt of perms(T)) {
    for (const pb of perms(B)) {
      if (pt.every((x, i) => x === i) && pb.every((x, i) => x === i)) continue;
      const source = Int32Array.from({ length: system.stateBytes }, (_, i) => i);
      const values: (Uint8Array | null)[] = new Array(system.stateBytes).fill(null);
      // Thread t's data is t + 1; 0 is none.
      const data = Uint8Array.from({ length: 256 }, (_, v) => (v >= 1 && v <= T ? pt[v - 1] + 1 : v));
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) source[at('stage') + pt[t] * B + pb[b]] = at('stage') + t * B + b;
      for (let b = 0; b < B; b++) {
        for (const f of ['alloc', 'cache', 'pdata']) source[at(f) + pb[b]] = at(f) + b;
        values[at('cache') + pb[b]] = data;
        values[at('pdata') + pb[b]] = data;
      }
      out.push(bytePermutation(source, values, (id) => id));
    }
  }
  return { description: `threads 0..${T - 1} and blocks 0..${B - 1}, each set interchangeable`, permutations: out };
}
