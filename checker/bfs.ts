/**
 * Exhaustive breadth-first exploration of a transition system.
 *
 * Every reachable state is visited once; every enabled event of every state is tried in index
 * order, so two runs visit the same states in the same order. Because the search is breadth-first,
 * the first state found that violates an invariant (or reaches a goal) lies at the smallest
 * possible depth, and its parent chain is a shortest counterexample (or witness).
 *
 * The search runs to the end even after a violation: the state count is part of what a
 * configuration records, and the other properties still need their verdicts. It stops early only
 * when told to (a state limit, the memory budget, an interrupt), and then says so: a property
 * that was not decided is "unknown", never "holds".
 */
import { makeCodec } from './codec.ts';
import { checkRss, CompactStore, MemoryLimitError, REFUSED, StateStore, type RssLimit } from './store.ts';
import { canonicalizer, fixesStates, realPath } from './symmetry.ts';
import { Tally, type Measured } from './tally.ts';
import type { Measure, Property, TransitionSystem } from './system.ts';
import { actorMask, findFairLasso, stateGraph, type StateGraph } from './liveness.ts';

export interface ExploreOptions {
  /** Stop before storing more than this many states. */
  maxStates?: number;
  /** Memory budget of the state store in bytes. */
  maxBytes?: number;
  /**
   * Memory budget of the whole process in bytes (resident memory: the stores, worker threads,
   * everything else): exploration stops, as for maxBytes, before it would go past.
   */
  maxRss?: number;
  /** What maxRss is, in the message when it stops exploration. */
  maxRssLabel?: string;
  /** Quantities to measure over every transition (the largest value is reported). */
  measures?: Measure<unknown>[];
  /** Polled between states; return true to stop (e.g. after Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called about every `progressEveryMs` with the running totals. */
  onProgress?: (p: { states: number; transitions: number; depth: number; seconds: number }) => void;
  progressEveryMs?: number;
  /**
   * Explore only shard `index` of `count` (0-based), alone: breadth-first as usual until the first
   * level with at least `splitAt` states (default 1000 × count) — the same prefix in every shard —
   * then expand only this shard's states of that level (every count-th, in BFS order) and all
   * they lead to. The level's other states stay stored, so reaching one does not expand it here.
   * Every reachable state lies in the prefix or below some state of the split level, so the
   * shards together cover the state space; states below several shards' parts are explored by
   * each of them (see `ShardFigures`).
   */
  shard?: { index: number; count: number; splitAt?: number };
  /**
   * Symmetry reduction where the system declares interchangeable parts (checker/symmetry.ts):
   * one representative per class of symmetric states is stored. Paths are real ones.
   */
  symmetry?: boolean;
  /**
   * Hash compaction (checker/store.ts `CompactStore`): store a 63-bit fingerprint per state rather
   * than the state; far more states fit in the same memory, at a small probability of missing
   * some (`ExploreResult.omissionProbability`).
   */
  compact?: boolean;
  /** About how many states to expect (a sizing hint, e.g. the manifest's count): room is made at once. */
  expectedStates?: number;
}

/** What a shard run shares with the other shards of its set, and what is its own. */
export interface ShardFigures {
  index: number;
  count: number;
  /** False when the search ended before any level was large enough to split: the run is whole. */
  split: boolean;
  /** BFS depth of the split level. */
  depth: number;
  /** States of the levels up to and including the split level: every shard stores them. */
  sharedStates: number;
  /** Transitions taken expanding the levels before the split level: every shard takes them. */
  sharedTransitions: number;
  /** States of the split level this shard expanded. */
  frontier: number;
}

export type StopReason = 'max-states' | 'memory' | 'interrupted';

export interface PropertyOutcome<V> {
  property: Property<V>;
  /** Index of the first violating / witnessing state, or -1. For leads-to: where the lasso's cycle starts. */
  state: number;
  /** A leads-to property's counterexample: a path whose events from `loopStart` on repeat forever. */
  lasso?: Path & { loopStart: number };
  /** Why a verdict could not be decided although exploration was complete (e.g. liveness under hash compaction). */
  undecided?: string;
}

export interface ExploreResult<V> {
  /** True when every reachable state was expanded. */
  complete: boolean;
  stopReason?: StopReason;
  stopMessage?: string;
  states: number;
  transitions: number;
  /** BFS depth of the deepest state. */
  depth: number;
  seconds: number;
  statesPerSecond: number;
  bytesPerState: number;
  /** Bits of a packed state. */
  stateBits: number;
  outcomes: PropertyOutcome<V>[];
  /** Each measure's largest value over the transitions explored (null if none counted). */
  measures: Measured[];
  /** Number of transitions taken per event. */
  eventFires: Float64Array;
  /** Number of transitions taken per rule of the system. */
  ruleFires: Float64Array;
  /** Shortest path from an initial state to state `index`. */
  path(index: number): Path;
  /** Stored state `index` (0 ≤ index < states), as stored (a representative under symmetry). Sequential engine only. */
  state?(index: number): Uint8Array;
  /** With `shard`: what this shard shares with the others. */
  shard?: ShardFigures;
  /** What symmetry reduction took as interchangeable, when it was used. */
  symmetry?: string;
  /**
   * With `compact`: an upper bound of the probability that a state was not explored because its
   * fingerprint equalled another's. Violations found are certain (their traces are real); that a
   * property holds is then only probable.
   */
  omissionProbability?: number;
  /** Parallel explorer: units of a level a worker took from another's range (work stealing). */
  stolenChunks?: number;
}

export interface Path {
  /** Events taken, `events[i]` leads from `states[i]` to `states[i+1]`. */
  events: number[];
  /** Unpacked state vectors, `states[0]` initial. */
  states: Uint8Array[];
}

/** Thrown when the system produces a value its bounds do not allow: a bug in the model. */
export class ModelError extends Error {}

const PROPERTY_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Refuses properties whose ids are not short kebab-case or not unique: reports and manifests key by id. */
export function checkPropertyIds(systemName: string, properties: Property<unknown>[]): void {
  const seen = new Map<string, string>();
  for (const p of properties) {
    if (typeof p.id !== 'string' || !PROPERTY_ID.test(p.id)) {
      throw new ModelError(`${systemName}: property "${p.name}" has id ${JSON.stringify(p.id)}; an id is kebab-case, e.g. "pointer-after-alloc"`);
    }
    const other = seen.get(p.id);
    if (other !== undefined) throw new ModelError(`${systemName}: two properties have the id '${p.id}': "${other}" and "${p.name}"`);
    seen.set(p.id, p.name);
  }
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024 * 1024;

export async function explore<V>(
  system: TransitionSystem<V>,
  properties: Property<V>[],
  options: ExploreOptions = {},
): Promise<ExploreResult<V>> {
  const started = performance.now();
  const codec = makeCodec(system.maxValues);
  const K = codec.words;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  // A sizing hint that does not fit the memory budget is dropped: the store then grows as it goes.
  const expected = options.expectedStates && options.expectedStates * (K * 4 + 6) * 2.5 < maxBytes ? options.expectedStates : 0;
  const rssLimit: RssLimit | undefined = options.maxRss !== undefined ? { bytes: options.maxRss, share: 1, label: options.maxRssLabel } : undefined;
  const store = options.compact ? new CompactStore(K, maxBytes) : new StateStore(K, maxBytes, expected, rssLimit);
  // Compaction rebuilds paths from the initial states: which one each initial index is.
  const initialOf = new Map<number, Uint8Array>();
  const maxStates = options.maxStates ?? Infinity;
  const E = system.eventCount;
  if (E > 0xffff) throw new ModelError(`${system.name}: ${E} events; at most 65535 are supported`);
  checkPropertyIds(system.name, properties as Property<unknown>[]);
  if (properties.filter((p) => p.kind === 'deadlock').length > 30) throw new ModelError('at most 30 deadlock properties');
  const buffers = generationBuffers(system as TransitionSystem<unknown>);
  const { src } = buffers;
  const key = new Int32Array(K);
  const canon = options.symmetry && system.symmetry ? canonicalizer(system.symmetry, system.stateBytes) : null;
  if (canon && !fixesStates(system.symmetry!, system.initialStates())) {
    throw new ModelError(`${system.name}: the declared symmetry (${system.symmetry!.description}) does not map the initial state to itself`);
  }
  const succKeys = new Int32Array(E * K);
  const succHash = new Int32Array(E);
  let sink = 0;

  const always = properties.flatMap((p, i) => (p.kind === 'always' ? [{ p, i }] : []));
  const sometimes = properties.flatMap((p, i) => (p.kind === 'sometimes' ? [{ p, i }] : []));
  const deadlocks = properties.flatMap((p, i) => (p.kind === 'deadlock' ? [{ p, i }] : []));
  const outcomes: PropertyOutcome<V>[] = properties.map((property) => ({ property, state: -1 }));
  const progressEvent = deadlocks.map(({ p }) => {
    const flags = new Uint8Array(E);
    if (p.kind === 'deadlock') for (let e = 0; e < E; e++) flags[e] = p.isProgress(e) ? 1 : 0;
    return flags;
  });

  let depth = 0;
  /** Bytes of the largest lookup batch (counted with the store's). */
  let batchMax = 0;
  let stopReason: StopReason | undefined;
  let stopMessage: string | undefined;

  const encodeOrThrow = (state: Uint8Array) => {
    const bad = codec.encode(state, key, 0);
    if (bad >= 0) {
      throw new ModelError(
        `${system.name}: ${system.byteLabel(bad)} = ${state[bad]} exceeds its declared bound ${system.maxValues[bad]}`,
      );
    }
  };
  // Properties not yet violated or witnessed: once all are decided, new states are not looked at.
  let undecided = always.length + sometimes.length;
  let expansion: Expansion | undefined;
  const measures = (options.measures ?? []) as Measure<V>[];
  const tally = new Tally(system, measures);
  /** Property checks on a state seen for the first time. */
  const checkNew = (index: number, state: Uint8Array) => {
    if (undecided === 0) return;
    const view = system.view(state);
    for (const { p, i } of always) {
      if (outcomes[i].state < 0 && p.kind === 'always' && !p.holds(view)) {
        outcomes[i].state = index;
        undecided--;
      }
    }
    for (const { p, i } of sometimes) {
      if (outcomes[i].state < 0 && p.kind === 'sometimes' && p.reached(view)) {
        outcomes[i].state = index;
        undecided--;
      }
    }
    if (undecided === 0 && expansion) expansion.checking = false;
  };

  // Sharding: the split level [splitStart, splitEnd), of which this shard expands every count-th state.
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new Error(`shard ${shard.index}/${shard.count}: the index must be from 0 to count - 1`);
  }
  const splitAt = shard ? Math.max(1, shard.splitAt ?? 1000 * shard.count) : Infinity;
  let splitStart = -1;
  let splitEnd = -1;
  let splitDepth = 0;
  let sharedTransitions = 0;

  try {
    for (const init of system.initialStates()) {
      if (store.count >= maxStates) {
        stopReason = 'max-states';
        break;
      }
      encodeOrThrow(init);
      const index = store.intern(key, -1, 0);
      if (index >= 0) {
        initialOf.set(index, init.slice());
        checkNew(index, init);
      }
    }

    let levelEnd = store.count;
    if (shard && store.count >= splitAt) {
      splitStart = 0;
      splitEnd = store.count;
    }
    // Interrupts are polled every 100 ms (letting signal handlers run); progress is reported at
    // its own pace.
    let lastPoll = performance.now();
    let lastProgress = lastPoll;
    const progressEvery = options.progressEveryMs ?? 250;
    const pollEvery = Math.min(100, progressEvery);
    // The expansion itself runs in a plain function over a chunk of states (`expandChunk`), so that
    // the hot loop holds its variables in registers: this async function only handles levels,
    // polling and progress between chunks.
    const x: Expansion = {
      system: system as TransitionSystem<unknown>,
      codec,
      store,
      K,
      E,
      ...buffers,
      succKeys,
      succHash,
      canon,
      tally: tally as Tally<unknown>,
      fastTally: measures.length === 0,
      eventFires: tally.eventFires,
      maxStates,
      checking: undecided > 0,
      checkNew: checkNew as (index: number, state: Uint8Array) => void,
      deadlockCount: deadlocks.length,
      deadlockMask: 2 ** deadlocks.length - 1,
      progressEvent,
      onDeadlockCandidate: (i: number, progress: number) => {
        let view: V | undefined;
        for (let d = 0; d < deadlocks.length; d++) {
          const { p, i: pi } = deadlocks[d];
          if (outcomes[pi].state >= 0 || p.kind !== 'deadlock') continue;
          if (progress & (1 << d)) continue;
          view ??= system.view(src);
          if (!p.isDone(view)) outcomes[pi].state = i;
        }
      },
      encodeOrThrow: (state: Uint8Array) => {
        const bad = codec.encode(state, key, 0);
        if (bad >= 0) throw new ModelError(`${system.name}: ${system.byteLabel(bad)} = ${state[bad]} exceeds its declared bound ${system.maxValues[bad]}`);
      },
      transitions: 0,
      sink: 0,
      oneEnd: new Int32Array(1),
      oneProgress: new Int32Array(1),
    };
    expansion = x;
    // The batched lookup (StateStore.lookupBatch) where the store keeps every key.
    let batch = store instanceof StateStore ? makeBatch(K, E, Math.max(4096, 2 * E)) : null;
    batchMax = batch ? batchBytes(batch) : 0;
    for (let i = 0; i < store.count && !stopReason; ) {
      if (i === levelEnd) {
        depth++;
        levelEnd = store.count;
        store.release(i);
        if (shard && splitStart < 0 && levelEnd - i >= splitAt) {
          splitStart = i;
          splitEnd = levelEnd;
          splitDepth = depth;
          sharedTransitions = tally.transitions + x.transitions;
        }
      }
      // Whatever else grows (the heap, a measure's tally) counts against the process's limit.
      checkRss(rssLimit);
      const now = performance.now();
      if (now - lastPoll >= pollEvery) {
        lastPoll = now;
        if (now - lastProgress >= progressEvery) {
          lastProgress = now;
          options.onProgress?.({ states: store.count, transitions: tally.transitions + x.transitions, depth, seconds: (now - started) / 1000 });
        }
        // Give signal handlers (Ctrl-C) a chance to run.
        await new Promise((r) => setImmediate(r));
        if (options.shouldStop?.()) {
          stopReason = 'interrupted';
          break;
        }
      }
      // Up to 1024 states, within the level.
      const to = Math.min(levelEnd, i + 1024);
      let next: number;
      if (splitStart >= 0 && i < splitEnd) {
        // The split level: only this shard's states.
        next = i;
        for (; next < to; next++) {
          if ((next - splitStart) % shard!.count !== shard!.index) continue;
          if (expandChunk(x, next, next + 1) < 0) {
            next = -1;
            break;
          }
        }
      } else if (batch !== null) {
        next = expandBatch(x, batch, i, levelEnd);
        // A batch that filled up before the level ended: the next one is twice as large.
        if (next >= 0 && next < levelEnd && batch.capacity < BATCH_SUCCESSORS) {
          batch = makeBatch(K, E, Math.max(2 * E, Math.min(BATCH_SUCCESSORS, batch.capacity * 2)), batch.recent);
          batchMax = Math.max(batchMax, batchBytes(batch));
        }
      } else next = expandChunk(x, i, to);
      if (next < 0) {
        stopReason = 'max-states';
        stopMessage = `stopped at --max-states ${maxStates}`;
        break;
      }
      i = next;
    }
    tally.transitions += x.transitions;
    sink ^= x.sink;
  } catch (err) {
    if (err instanceof MemoryLimitError) {
      stopReason = 'memory';
      stopMessage = `stopped: ${err.message}`;
    } else if (err instanceof RangeError && /allocat|Array buffer/i.test(err.message)) {
      stopReason = 'memory';
      stopMessage = `stopped: out of memory (${err.message})`;
    } else {
      throw err;
    }
  }

  if (sink === 0x7fffffff) stopMessage ??= ''; // keeps the touch loads from being optimised away
  // Liveness, on the whole graph once every state is known (checker/liveness.ts).
  const livenessIdx = properties.flatMap((p, i) => (p.kind === 'leads-to' ? [i] : []));
  if (livenessIdx.length && !stopReason) {
    const why =
      store instanceof CompactStore
        ? 'hash compaction keeps no states to build the graph from'
        : canon
          ? 'symmetry reduction merges the actors fairness names'
          : splitStart >= 0
            ? 'a shard explores only part of the graph'
            : null;
    if (why) for (const i of livenessIdx) outcomes[i].undecided = `liveness is not checked here: ${why}`;
    else {
      const stateStore = store as StateStore;
      let graph: StateGraph | null = null;
      try {
        graph = stateGraph(system, codec, stateStore.keys, stateStore.count);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        for (const i of livenessIdx) outcomes[i].undecided = `liveness is not checked here: out of memory for the graph's edges (${err.message})`;
      }
      if (graph) {
        const N = stateStore.count;
        const decode = (i: number) => {
          const out = new Uint8Array(system.stateBytes);
          codec.decode(stateStore.keys, i * K, out);
          return out;
        };
        const pathTo = (index: number) => {
          const chain: number[] = [];
          for (let x = index; x >= 0; x = stateStore.parent[x]) chain.push(x);
          chain.reverse();
          return { states: chain, events: chain.slice(1).map((x) => stateStore.via[x]) };
        };
        for (const i of livenessIdx) {
          const prop = properties[i];
          if (prop.kind !== 'leads-to') continue;
          const p = new Uint8Array(N);
          const q = new Uint8Array(N);
          const buf = new Uint8Array(system.stateBytes);
          for (let x = 0; x < N; x++) {
            codec.decode(stateStore.keys, x * K, buf);
            const view = system.view(buf);
            p[x] = prop.p(view) ? 1 : 0;
            q[x] = prop.q(view) ? 1 : 0;
          }
          const mask = actorMask(prop.fairness, system.eventCount);
          let lasso: ReturnType<typeof findFairLasso> = null;
          try {
            lasso = findFairLasso(graph, p, q, mask, prop.fairness.actors.length, pathTo);
          } catch (err) {
            if (!(err instanceof RangeError)) throw err;
            outcomes[i].undecided = `liveness is not checked here: out of memory for the search (${err.message})`;
          }
          if (lasso) {
            outcomes[i].state = lasso.states[lasso.loopStart];
            outcomes[i].lasso = { events: lasso.events, states: lasso.states.map(decode), loopStart: lasso.loopStart };
          }
        }
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const states = store.count;
  const path = (index: number): Path => {
    const chain: number[] = [];
    for (let s = index; s >= 0; s = store.parent[s]) chain.push(s);
    chain.reverse();
    const events = chain.slice(1).map((s) => store.via[s]);
    let statesOut: Uint8Array[];
    if (store instanceof StateStore) {
      statesOut = chain.map((s) => {
        const out = new Uint8Array(system.stateBytes);
        codec.decode(store.keys, s * K, out);
        return out;
      });
    } else {
      // Compaction keeps no keys: run the events again from the initial state.
      statesOut = [initialOf.get(chain[0])!.slice()];
      for (const e of events) {
        const next = new Uint8Array(system.stateBytes);
        if (system.step(statesOut[statesOut.length - 1], e, next) < 0) throw new Error(`${system.name}: internal error: a compacted path does not replay`);
        if (canon) canon(next);
        statesOut.push(next);
      }
    }
    const stored = { events, states: statesOut };
    return canon ? realPath(system as TransitionSystem<unknown>, system.symmetry!, stored) : stored;
  };
  const shardFigures: ShardFigures | undefined = shard && {
    index: shard.index,
    count: shard.count,
    split: splitStart >= 0,
    depth: splitDepth,
    sharedStates: splitStart >= 0 ? splitEnd : states,
    sharedTransitions: splitStart >= 0 ? sharedTransitions : tally.transitions,
    frontier: splitStart >= 0 ? Math.ceil((splitEnd - splitStart - shard.index) / shard.count) : 0,
  };
  return {
    ...runFigures({ stopReason, stopMessage, states, transitions: tally.transitions, depth, seconds, bytes: store.bytes() + batchMax, stateBits: codec.bits }),
    ...(shard ? { shard: shardFigures } : {}),
    ...(canon ? { symmetry: system.symmetry!.description } : {}),
    ...(store instanceof CompactStore ? { omissionProbability: store.omissionProbability() } : {}),
    outcomes,
    measures: tally.measured,
    eventFires: tally.eventFires,
    ruleFires: tally.ruleFires.slice(0, system.ruleCount),
    path,
    ...(store instanceof StateStore
      ? {
          state: (index: number) => {
            const out = new Uint8Array(system.stateBytes);
            codec.decode(store.keys, index * K, out);
            return out;
          },
        }
      : {}),
  };
}

/** The figures of a run both explorers report the same way. */
export function runFigures(r: {
  stopReason: StopReason | undefined;
  stopMessage: string | undefined;
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  bytes: number;
  stateBits: number;
}) {
  return {
    complete: !r.stopReason,
    stopReason: r.stopReason,
    stopMessage: r.stopMessage ?? (r.stopReason === 'interrupted' ? 'interrupted' : undefined),
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: r.seconds,
    statesPerSecond: r.seconds > 0 ? Math.round(r.states / r.seconds) : r.states,
    bytesPerState: r.states > 0 ? Math.round((r.bytes / r.states) * 10) / 10 : 0,
    stateBits: r.stateBits,
  };
}

/** What `expandChunk` works with: everything the hot loop reads, in one object. */
/** Where `generateRange` reads the keys of the states it expands. */
export interface KeySource {
  keys: Int32Array;
  keyOffset(i: number): number;
}

/** What `generateRange` works with: the system, its codec and buffers, the tally. */
export interface Generation {
  system: TransitionSystem<unknown>;
  codec: ReturnType<typeof makeCodec>;
  store: KeySource;
  K: number;
  E: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** The system gives every successor at once (TransitionSystem.successors); else one `step` per event. */
  batched: boolean;
  /** A state's successors: their buffer, a view of each, their events and rules. */
  succStates: Uint8Array;
  succSlots: Uint8Array[];
  succEvent: Uint16Array;
  succRule: Int32Array;
  canon: ((s: Uint8Array) => boolean) | null;
  tally: Tally<unknown>;
  /** No measures: count transitions here, not through the tally. */
  fastTally: boolean;
  eventFires: Float64Array;
  deadlockCount: number;
  progressEvent: Uint8Array[];
  encodeOrThrow: (state: Uint8Array) => void;
  /** Transitions counted here (fast path), added to the tally's at the end. */
  transitions: number;
}

/**
 * A Generation's buffers for `system` (the sequential explorer's and each parallel worker's):
 * the successors' states, events and rules, and the decoded source and successor.
 */
export function generationBuffers(system: TransitionSystem<unknown>) {
  const E = Math.max(1, system.eventCount);
  const succStates = new Uint8Array(E * system.stateBytes);
  return {
    src: new Uint8Array(system.stateBytes),
    dst: new Uint8Array(system.stateBytes),
    batched: typeof system.successors === 'function',
    succStates,
    succSlots: Array.from({ length: E }, (_, k) => succStates.subarray(k * system.stateBytes, (k + 1) * system.stateBytes)),
    succEvent: new Uint16Array(E),
    succRule: new Int32Array(E),
  };
}

interface Expansion extends Generation {
  store: StateStore | CompactStore;
  succKeys: Int32Array;
  succHash: Int32Array;
  maxStates: number;
  /** Some property is still undecided: new states are checked (cleared once all are decided). */
  checking: boolean;
  checkNew: (index: number, state: Uint8Array) => void;
  /** One bit per deadlock property. */
  deadlockMask: number;
  onDeadlockCandidate: (i: number, progress: number) => void;
  sink: number;
  /** `generateRange`'s outputs for one state (`expandChunk`). */
  oneEnd: Int32Array;
  oneProgress: Int32Array;
}

/**
 * Generates every successor of states `from`, `from + 1`, ... (each decoded into x.src in turn)
 * while there is room for a state's successors within `capacity`, up to `to`: keys into `keys`,
 * events into `events`, in order, counted and reduced under symmetry; for the k-th state, where
 * its successors end (`ends[k]`) and its deadlock progress bits (`progress[k]`). Returns the
 * first state not expanded. One call for many states: the hot loop's variables are read once.
 * The parallel explorer's workers generate with it too (checker/parallel-worker.ts).
 */
export function generateRange(x: Generation, from: number, to: number, keys: Int32Array, events: Uint16Array, ends: Int32Array, progressOut: Int32Array, capacity: number): number {
  const { system, codec, store, K, E, src, batched, succStates, succSlots, succRule, succEvent, canon, tally, fastTally, eventFires, deadlockCount, progressEvent } = x;
  let ruleFires = tally.ruleFires;
  let transitions = 0;
  let m = 0;
  let i = from;
  for (; i < to && m + E <= capacity; i++) {
    codec.decode(store.keys, store.keyOffset(i), src);
    let progress = 0;
    // Every successor at once (TransitionSystem.successors), or one step per event into the same buffers.
    let n = 0;
    if (batched) n = system.successors!(src, succStates, succEvent, succRule);
    else {
      for (let e = 0; e < E; e++) {
        const rule = system.step(src, e, succSlots[n]);
        if (rule < 0) continue;
        succEvent[n] = e;
        succRule[n] = rule;
        n++;
      }
    }
    for (let j = 0; j < n; j++) {
      const e = succEvent[j];
      events[m] = e;
      const rule = succRule[j];
      const s = succSlots[j];
      if (fastTally && rule < ruleFires.length) {
        transitions++;
        eventFires[e]++;
        ruleFires[rule]++;
      } else {
        tally.count(src, e, rule, s);
        ruleFires = tally.ruleFires;
      }
      if (canon !== null) canon(s);
      for (let d = 0; d < deadlockCount; d++) if (progressEvent[d][e]) progress |= 1 << d;
      if (codec.encode(s, keys, m * K) >= 0) x.encodeOrThrow(s);
      m++;
    }
    ends[i - from] = m;
    progressOut[i - from] = progress;
  }
  x.transitions += transitions;
  return i;
}

/**
 * Expands states [from, to): every successor of each, generated first, then all looked up (see
 * StateStore.touch). Returns `to`, or -1 when --max-states refused a new state.
 */
function expandChunk(x: Expansion, from: number, to: number): number {
  const { codec, store, K, E, dst, succKeys, succEvent, succHash, maxStates, checking, deadlockCount } = x;
  let sink = 0;
  for (let i = from; i < to; i++) {
    generateRange(x, i, i + 1, succKeys, succEvent, x.oneEnd, x.oneProgress, E);
    const n = x.oneEnd[0];
    const progress = x.oneProgress[0];
    let touched = 0;
    for (let j = 0; j < n; j++) {
      const h = store.hashAt(succKeys, j * K);
      succHash[j] = h;
      touched ^= store.touch(h);
    }
    sink ^= touched;
    for (let j = 0; j < n; j++) {
      const index = store.internAt(succKeys, j * K, succHash[j], i, succEvent[j], store.count < maxStates);
      if (index === REFUSED) {
        x.sink ^= sink;
        return -1;
      }
      if (index >= 0 && checking) {
        codec.decode(succKeys, j * K, dst);
        x.checkNew(index, dst);
      }
    }
    if (deadlockCount > 0) x.onDeadlockCandidate(i, progress);
  }
  x.sink ^= sink;
  return to;
}


/**
 * Expands states [from, to) of one level with the state store's batched lookup
 * (StateStore.lookupBatch): the successors of as many states as the batch holds are generated
 * first, then looked up together in slot order, then the new ones are stored in the order they
 * were generated: the same indices, parents and events as `expandChunk` gives. Returns the first
 * state not expanded (at most `to`), or -1 when --max-states refused a new state.
 */
function expandBatch(x: Expansion, b: Batch, from: number, to: number): number {
  const store = x.store as StateStore;
  const { codec, K, dst, maxStates, checking, deadlockCount } = x;
  const { keys, events, hashes, isNew, stateEnd, progress, missKeys, missHashes, missAt, missNew } = b;
  const i = generateRange(x, from, to, keys, events, stateEnd, progress, b.capacity);
  const m = i > from ? stateEnd[i - from - 1] : 0;
  // A successor found in the cache of recent ones was looked up before, or comes earlier in
  // this batch: not new. The others (35 % on the bench model) are looked up.
  const recent = b.recent;
  let misses = 0;
  let sink = 0;
  for (let from = 0; from < m; from += RECENT_BLOCK) {
    const to = Math.min(m, from + RECENT_BLOCK);
    sink ^= hashAndTouch(keys, K, from, to, hashes, recent, K, 0);
    for (let j = from; j < to; j++) {
      const at = j * K;
      const r = recentSlot(hashes[j]) * K;
      let diff = 0;
      for (let w = 0; w < K; w++) diff |= recent[r + w] ^ keys[at + w];
      // An entry is never all zero (a stored key's last word never is).
      isNew[j] = 0;
      if (diff === 0) continue;
      const to = misses * K;
      for (let w = 0; w < K; w++) {
        recent[r + w] = keys[at + w];
        missKeys[to + w] = keys[at + w];
      }
      missHashes[misses] = hashes[j];
      missAt[misses++] = j;
    }
  }
  x.sink ^= sink;
  store.lookupBatch(missKeys, missHashes, misses, missNew);
  for (let k = 0; k < misses; k++) isNew[missAt[k]] = missNew[k];
  let j = 0;
  for (let s = from; s < i; s++) {
    const end = stateEnd[s - from];
    for (; j < end; j++) {
      if (isNew[j] === 0) continue;
      if (store.count >= maxStates) return -1;
      const index = store.append(keys, j * K, s, events[j]);
      if (checking) {
        codec.decode(keys, j * K, dst);
        x.checkNew(index, dst);
      }
    }
    if (deadlockCount > 0 && (progress[s - from] & x.deadlockMask) !== x.deadlockMask) {
      codec.decode(store.keys, store.keyOffset(s), x.src);
      x.onDeadlockCandidate(s, progress[s - from]);
    }
  }
  return i;
}

/** The buffers of `expandBatch`: one batch of successors. */
interface Batch {
  capacity: number;
  keys: Int32Array;
  events: Uint16Array;
  hashes: Int32Array;
  isNew: Uint8Array;
  /** Per state of the batch: where its successors end, and its deadlock progress bits. */
  stateEnd: Int32Array;
  progress: Int32Array;
  /** The successors not found in `recent`, which are looked up: keys, hashes, places in the batch, whether new. */
  missKeys: Int32Array;
  missHashes: Int32Array;
  missAt: Int32Array;
  missNew: Uint8Array;
  /** Keys of successors looked up lately (RECENT of them, by hash; kept from batch to batch). */
  recent: Int32Array;
}

function makeBatch(K: number, E: number, capacity: number, recent: Int32Array = new Int32Array(RECENT * K)): Batch {
  return {
    missKeys: new Int32Array(capacity * K),
    missHashes: new Int32Array(capacity),
    missAt: new Int32Array(capacity),
    missNew: new Uint8Array(capacity),
    recent,
    capacity,
    keys: new Int32Array(capacity * K),
    events: new Uint16Array(capacity),
    hashes: new Int32Array(capacity),
    isNew: new Uint8Array(capacity),
    stateEnd: new Int32Array(capacity),
    progress: new Int32Array(capacity),
  };
}

/** Bytes of a batch's buffers (counted in the run's bytes per state). */
function batchBytes(b: Batch): number {
  return (
    b.keys.byteLength + b.events.byteLength + b.hashes.byteLength + b.isNew.byteLength + b.stateEnd.byteLength + b.progress.byteLength +
    b.missKeys.byteLength + b.missHashes.byteLength + b.missAt.byteLength + b.missNew.byteLength + b.recent.byteLength
  );
}

/**
 * Entries of a cache of recent successors (a power of two), `expandBatch`'s and each parallel
 * worker's: 128 KB for a key of two words (256 KB in a worker, which keeps two more words per
 * entry), which stays in the processor's cache; 1 MB, with a few more hits, was slower. On the
 * bench model 65 % of the successors are found there: a state reached again from a sibling a few
 * states on.
 */
export const RECENT = 1 << 14;
/** The cache entry of a hash: its bits above the lowest two (the store's slots use the low ones). */
export const recentSlot = (h: number): number => (h >>> 2) & (RECENT - 1);
/** Successors whose cache entries are loaded together before they are compared. */
export const RECENT_BLOCK = 256;

/**
 * Hashes keys [from, to) into `hashes` and loads word `word` of each one's cache entry
 * (`stride` words each) in a loop whose loads are independent, so the memory serves them
 * together and the comparisons that follow find them in the processor's cache (as
 * StateStore.lookupBatch does). Returns what was loaded, folded, to keep the loads.
 */
export function hashAndTouch(keys: Int32Array, K: number, from: number, to: number, hashes: Int32Array, recent: Int32Array, stride: number, word: number): number {
  let sink = 0;
  for (let j = from; j < to; j++) {
    const h = StateStore.hashAt(keys, j * K, K);
    hashes[j] = h;
    sink ^= recent[recentSlot(h) * stride + word];
  }
  return sink;
}

/** Successors per batch of `expandBatch`: it starts small (small systems) and doubles up to this. */
const BATCH_SUCCESSORS = 1 << 16;
