/**
 * x86 persistency for the application's own instructions, after Px86 (Raad, Wickerson, Neiger,
 * Vafeiadis, "Persistency semantics of the Intel-x86 architecture", POPL 2020). Opt-in: only
 * configurations whose application asks for it (`appOptions.persistency: 'px86'`) have these
 * steps and this state; every other configuration keeps the one-step "clwb + sfence" of
 * models/userspace.ts.
 *
 * Each modelled word is its own cache line (layout.ts WORD_STRIDE), so "line w of block b" is
 * word w of block b. The rules, per cache line x and thread t:
 *  - a store (`mov`) lands in the CPU cache: x is dirty;
 *  - `clwb x` / `clflushopt x` are ordered after t's earlier stores to x, but not before anything
 *    later except a fence: the value x holds at the flush is guaranteed persistent only once a
 *    later `sfence`/`mfence` of t has executed. Until then the line may or may not reach the
 *    media (the flush may already have happened, or not), exactly like any dirty line;
 *  - `clflush x` is ordered with t's earlier and later stores (and other clflushes): no later
 *    store of t can persist before it, so it takes effect when it executes;
 *  - a non-temporal store (`movnti`) bypasses the cache into t's write-combining (WC) buffer; it
 *    is guaranteed persistent after t's next fence; until then it may or may not have drained; a
 *    `clwb` of the line does not drain the WC buffer (there is no cached copy to write back);
 *  - stores to one line persist in order: at a power failure a line holds a prefix of its stores
 *    after the last guaranteed point. The crash image decides each dirty line: its guaranteed
 *    value (`power.drop`) or its latest store (`power.keep`). With one word per line those are all
 *    the prefixes while a line holds at most one unguaranteed value, the store history this model
 *    keeps (depth 1); a store that would need a deeper history (a second, different value over a
 *    dirty line) stops the exploration with a model error rather than lose crash images.
 * Across lines nothing is ordered without a fence: each dirty line is decided on its own.
 *
 * Platforms: on ADR a dirty line or a WC buffer entry may be lost. On eADR every store that
 * reached the cache persists; whether the WC buffers are drained too is the configuration's
 * `wcBuffers` assumption: `volatile` (the default: a non-temporal store is durable only once it
 * is globally visible, i.e. after a fence, which is why PMDK still fences non-temporal stores on
 * eADR) or `drained` (the platform's power-fail flush drains the WC buffers with the caches).
 * Where a CPU flush reaches no persistence domain (page cache, virtualized NVDIMM, memory a
 * proposal keeps behind a mapping) flushes and fences do nothing, as userFlush.
 */
import { kernelAction, type ActionText } from './action.ts';
import { firstDirtyWord, powerFail } from './crash.ts';
import { fields } from './fields.ts';
import { cpuFlushPersists } from './fs.ts';
import { ptePhys } from './faults.ts';
import { EADR, MAX_WORD_VALUE, WORD_STRIDE, type DaxContext, type Dimensions, type Layout } from './layout.ts';
import type { FieldSymmetry } from './symmetry.ts';
import type { FieldInfo } from '../specs/common/spec.ts';
import { isPteMapped, userStore } from './userspace.ts';
import { mmapAddress, wordName } from './describe.ts';

/** The application's flush instructions: cache-line flushes and fences. */
export const LINE_FLUSHES = ['clwb', 'clflushopt', 'clflush'] as const;
export const FENCES = ['sfence', 'mfence'] as const;
export type LineFlush = (typeof LINE_FLUSHES)[number];
export type Fence = (typeof FENCES)[number];
export type Instruction = LineFlush | Fence;

/** What happens to write-combining buffers at a power failure on eADR (see the module comment). */
export type WcBuffers = 'volatile' | 'drained';

/** The state Px86 adds, packed only into layouts of configurations that ask for it. */
export function persistencyFields(d: Dimensions) {
  return fields({
    flushPending: {
      part: 'volatile',
      shape: [d.threads, d.phys, d.words],
      max: MAX_WORD_VALUE + 1,
      doc: "value + 1 of cache line (p, w) as thread t's clwb/clflushopt found it, guaranteed durable by t's next sfence/mfence (0: none pending)",
    },
    wcBuffer: {
      part: 'volatile',
      shape: [d.threads, d.phys, d.words],
      max: 1,
      doc: "thread t's write-combining buffer holds a non-temporal store to line (p, w) that no fence has drained",
    },
  });
}

/** How the Px86 fields move when threads are renamed (models/symmetry.ts). */
export const PERSISTENCY_SYMMETRY: Record<string, FieldSymmetry> = {
  flushPending: { index: ['thread', 'phys', 'word'], values: 'word+1' },
  wcBuffer: { index: ['thread', 'phys', 'word'] },
};

type At = { t: number; m: number; b: number; w: number };

/** The Px86 instructions of the application, as guards and actions of the shared model's machines. */
export function persistency(L: Layout, wcBuffers: WcBuffers = 'volatile') {
  const PENDING = L.packing.field('flushPending').offset;
  const WC = L.packing.field('wcBuffer').offset;
  const lines = L.P * L.W;
  const pendAt = (t: number, i: number) => PENDING + t * lines + i;
  const wcAt = (t: number, i: number) => WC + t * lines + i;
  const dirty = (c: DaxContext, i: number) => c.volatile[L.vDirty + i] === 1;
  /** Is the line's unpersisted value in some thread's WC buffer (not in the cache)? */
  const inWc = (c: DaxContext, i: number) => {
    if (!dirty(c, i)) return false;
    for (let t = 0; t < L.T; t++) if (c.volatile[wcAt(t, i)]) return true;
    return false;
  };
  /** Line i reached the media: every flush or buffer entry that was waiting for it is satisfied. */
  const persist = (c: DaxContext, i: number) => {
    c.durable[L.dPmem + i] = c.volatile[L.vCache + i];
    c.volatile[L.vDirty + i] = 0;
    c.volatile[L.vCache + i] = 0;
    for (let t = 0; t < L.T; t++) {
      c.volatile[pendAt(t, i)] = 0;
      c.volatile[wcAt(t, i)] = 0;
    }
  };
  /** Does a flush through mapping m of block b reach the persistence domain at all (as userFlush)? */
  const flushReaches = (c: DaxContext, m: number, b: number) =>
    isPteMapped(c, L, m, b) && cpuFlushPersists(c, L) && !L.hooks.mapsOwnMemory?.(c, L, m);
  const lineOf = (c: DaxContext, p: At) => L.word(ptePhys(c, L, p.m, p.b), p.w);

  /** A store (`nt`: movnti) of thread t, with the Px86 bookkeeping of the line it lands in. */
  const store = (c: DaxContext, p: At & { value: number }, nt: boolean) => {
    if (!flushReaches(c, p.m, p.b)) {
      userStore(c, L, p.m, p.b, p.w, p.value);
      return;
    }
    const i = lineOf(c, p);
    if (dirty(c, i) && c.volatile[L.vCache + i] !== p.value) {
      throw new Error(
        `model error: Px86 store history: line ${p.w} of block ${p.b} already holds an unguaranteed store (${wordName(c.volatile[L.vCache + i])}); a second value (${wordName(p.value)}) needs a deeper history than this model keeps`,
      );
    }
    // A clean line was written back since any flush or buffer entry on it: they are satisfied.
    if (!dirty(c, i)) for (let t = 0; t < L.T; t++) c.volatile[pendAt(t, i)] = c.volatile[wcAt(t, i)] = 0;
    userStore(c, L, p.m, p.b, p.w, p.value);
    if (nt) c.volatile[wcAt(p.t, i)] = 1;
  };

  /** clwb / clflushopt: the line's value now, guaranteed at thread t's next fence. */
  const flushOpt = (c: DaxContext, p: At) => {
    if (!flushReaches(c, p.m, p.b)) return;
    const i = lineOf(c, p);
    if (!dirty(c, i) || inWc(c, i)) return;
    c.volatile[pendAt(p.t, i)] = c.volatile[L.vCache + i] + 1;
  };

  /** clflush: ordered with the thread's stores, so it takes effect when it executes. */
  const clflush = (c: DaxContext, p: At) => {
    if (!flushReaches(c, p.m, p.b)) return;
    const i = lineOf(c, p);
    if (dirty(c, i) && !inWc(c, i)) persist(c, i);
  };

  /** sfence / mfence of thread t: its pending flushes and its WC buffer reach the media. */
  const fence = (c: DaxContext, t: number) => {
    for (let i = 0; i < lines; i++) {
      if (c.volatile[wcAt(t, i)]) {
        c.volatile[wcAt(t, i)] = 0;
        if (dirty(c, i)) persist(c, i);
      }
      const v = c.volatile[pendAt(t, i)];
      if (!v) continue;
      c.volatile[pendAt(t, i)] = 0;
      if (!dirty(c, i)) continue;
      // The store history of depth 1 (see `store`) means the line still holds what was flushed.
      if (c.volatile[L.vCache + i] !== v - 1) throw new Error('model error: Px86 fence found a line changed since its flush');
      persist(c, i);
    }
  };

  // ---- words of the trace
  const cleaned = (before: DaxContext, after: DaxContext) => {
    let n = 0;
    for (let i = 0; i < lines; i++) if (dirty(before, i) && !dirty(after, i)) n++;
    return n;
  };
  const line = (p: At) => `line ${p.w} of block ${p.b}`;
  const addr = (p: At) => `${mmapAddress(p.m)} + 0x${(p.b * 4096 + p.w * WORD_STRIDE).toString(16)}`;
  const noDomain = (c: DaxContext, p: At) =>
    !isPteMapped(c, L, p.m, p.b)
      ? 'no mapping'
      : !c.durable[L.dSdax]
        ? 'the data is in the page cache: a CPU flush does not make it durable'
        : !cpuFlushPersists(c, L)
          ? "reaches only the host's page cache (virtualized NVDIMM), not durable"
          : 'the mapping is not persistent memory: nothing durable';
  const flushText =
    (insn: LineFlush): ActionText<At> =>
    ({ params: p, before, after }) => {
      const head = `${insn}(${line(p)})`;
      if (!flushReaches(before, p.m, p.b)) return `${head} → ${noDomain(before, p)}`;
      const i = lineOf(before, p);
      if (!dirty(before, i)) return `${head} → line clean, nothing to write back`;
      if (inWc(before, i)) return `${head} → the line's data is in a write-combining buffer, not the cache: nothing to write back`;
      if (insn === 'clflush') return `${head} → written back to pmem (clflush is ordered with the thread's stores)`;
      void after;
      return `${head} → write-back started: durable only after this thread's next sfence/mfence`;
    };
  const fenceText =
    (insn: Fence): ActionText<{ t: number }> =>
    ({ before, after }) => {
      const n = cleaned(before, after);
      return `${insn} → ${n ? `${n} line${n === 1 ? '' : 's'} (flushed or in the write-combining buffer) now durable` : 'nothing pending'}`;
    };

  const actions = {
    /** A store with Px86 bookkeeping (replaces the shared `store` in Px86 configurations). */
    store: kernelAction<At & { value: number }>((c, _e, p) => store(c, p, false)),
    movnti: kernelAction<At & { value: number }>(
      (c, _e, p) => store(c, p, true),
      ({ params: p, before }) =>
        `movnti ${wordName(p.value)} → block ${p.b} word ${p.w} (${addr(p)}): ${
          flushReaches(before, p.m, p.b) ? `in T${p.t}'s write-combining buffer, durable only after a fence` : noDomain(before, p)
        }`,
    ),
    clwb: kernelAction<At>((c, _e, p) => flushOpt(c, p), flushText('clwb')),
    clflushopt: kernelAction<At>((c, _e, p) => flushOpt(c, p), flushText('clflushopt')),
    clflush: kernelAction<At>((c, _e, p) => clflush(c, p), flushText('clflush')),
    sfence: kernelAction<{ t: number }>((c, _e, p) => fence(c, p.t), fenceText('sfence')),
    mfence: kernelAction<{ t: number }>((c, _e, p) => fence(c, p.t), fenceText('mfence')),
    /** The power fails (models/crash.ts); the trace also says which dirty lines sit in WC buffers. */
    power_fail: kernelAction(
      (c) => powerFail(c, L),
      (a, shared) => {
        const text = shared(a);
        const held: string[] = [];
        for (let i = 0; i < lines; i++) if (inWc(a.before, i)) held.push(`pmem block ${Math.floor(i / L.W)} word ${i % L.W}`);
        return held.length ? `${text}; of these in write-combining buffers, not the cache: ${held.join(', ')}` : text;
      },
    ),
    /** At a power failure on eADR with volatile WC buffers: the lowest dirty line, in a WC buffer, was lost. */
    wc_buffer_lost: kernelAction(
      (c) => {
        const i = firstDirtyWord(c, L);
        c.volatile[L.vDirty + i] = 0;
        c.volatile[L.vCache + i] = 0;
      },
      ({ before }) => {
        const i = firstDirtyWord(before, L);
        return `pmem block ${Math.floor(i / L.W)} word ${i % L.W} (${wordName(before.volatile[L.vCache + i])}) was still in a write-combining buffer: lost (eADR flushes caches, not WC buffers)`;
      },
    ),
  };

  const guards = {
    /**
     * After a power failure on eADR: is the lowest dirty line's data in a write-combining buffer
     * that the platform does not drain, so it may be lost?
     */
    mayLoseWcLine: (a: { context: DaxContext }) => {
      const c = a.context;
      if (wcBuffers !== 'volatile' || c.durable[L.dPlatform] !== EADR || !cpuFlushPersists(c, L)) return false;
      const i = firstDirtyWord(c, L);
      return i >= 0 && inWc(c, i);
    },
  };

  /**
   * The Px86 state as named fields of a rendered state, beside the shared ones (`cache p.w`):
   * `clwb pending T0 p.w` while a flush waits for its fence, `WC buffer T0 p.w` while a
   * non-temporal store waits in the buffer. Only lines with something pending are shown.
   */
  const state = (c: DaxContext, shared: Record<string, string>) => {
    const out = { ...shared };
    for (let t = 0; t < L.T; t++) {
      for (let i = 0; i < lines; i++) {
        const where = `T${t} ${Math.floor(i / L.W)}.${i % L.W}`;
        const v = c.volatile[pendAt(t, i)];
        const done = dirty(c, i) ? '' : ', line since written back';
        if (v) out[`clwb pending ${where}`] = `${wordName(v - 1)} (durable at T${t}'s next fence${done})`;
        if (c.volatile[wcAt(t, i)]) out[`WC buffer ${where}`] = `holds the line (durable at T${t}'s next fence${done})`;
      }
    }
    return out;
  };
  const fieldInfo = (c: DaxContext, shared: Record<string, FieldInfo>) => {
    const out = { ...shared };
    for (const name of Object.keys(state(c, {}))) out[name] = { kind: 'cache', durable: `pmem ${name.split(' ').at(-1)}` };
    return out;
  };
  const render = { state, fields: fieldInfo };

  /** The rules as plain functions on a context (for tests and other models). */
  const ops = { store, clwb: flushOpt, clflushopt: flushOpt, clflush, fence, inWc };
  return { actions, guards, ops, render };
}
