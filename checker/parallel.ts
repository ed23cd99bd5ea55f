/**
 * The parallel explorer: breadth-first search over several worker threads, each owning the states
 * whose hash falls in its partition (as distributed Spin and Stern–Dill's Murφ do).
 *
 * Level by level, in two phases. Expand: the level is one list of states (`frontier`: global
 * ids), cut into units, the units into one range per worker; a worker expands its own range's
 * units from the front, and when they are gone takes the others' from the back (work stealing:
 * a worker on a faster or less busy core does more). Every successor goes to its owner's outbox.
 * Absorb: each worker stores what it was shipped, in unit order whoever expanded what, so a
 * state's parent is the first in the level to reach it, as in the sequential explorer. A run
 * with W workers gives the same states, indices, counts and traces every time, whatever the
 * unit size; the state space, the verdicts and the counterexamples' lengths are those of the
 * sequential explorer (test/checker/engines).
 *
 * The next level's frontier is ordered by where each state's parent is in this one, as the
 * sequential explorer's is: children of one parent side by side, whichever worker owns each. A
 * worker expanding a unit thus generates a state reached from two siblings (the other order of
 * two independent steps) twice within a few states, and its cache of recent successors finds it
 * the second time. When a worker's part of a level was its own states (owner order), siblings
 * were split between workers and such a state was looked up twice: 67.8 million lookups on the
 * bench model against 44.0 million for the sequential explorer, each a memory miss. (Storing
 * at once the successors a worker owns of its own units, as it did, made a state's parent the
 * first in its owner's range rather than in the level: the next level's order then split such
 * states from their siblings, and 58 million were looked up.)
 *
 * Workers build their own copy of the system from a loader (a module and an exported function),
 * since functions cannot be sent to a thread. The caller's copy renders traces.
 */
import { Worker } from 'node:worker_threads';
import { makeCodec } from './codec.ts';
import { checkPropertyIds, explore, ModelError, runFigures, type ExploreOptions, type ExploreResult, type Path, type PropertyOutcome, type StopReason } from './bfs.ts';
import { checkRss, type RssLimit } from './store.ts';
import { canonicalizer, fixesStates, realPath } from './symmetry.ts';
import { ruleOfKey, type Property, type TransitionSystem } from './system.ts';

/** Where a worker finds the system: `(await import(module))[export](...args)` returns { system, properties, measures }. */
export interface Loader {
  module: string;
  export: string;
  args: unknown[];
}

export type ToWorker =
  | {
      type: 'init';
      loader: Loader;
      worker: number;
      workers: number;
      maxBytes: number;
      symmetry: boolean;
      expectedStates: number;
      /** Per worker, the units of its range of the level not yet taken. */
      claim: SharedArrayBuffer;
      /** Per property, the lowest level at which a worker found a state for it. */
      board: SharedArrayBuffer;
      slow: boolean;
      maxRss?: number;
      maxRssLabel?: string;
    }
  | { type: 'seed' }
  /**
   * Expand the level: its `states` global ids in `frontier`, cut into units of `unitSize`; worker
   * w's range of units begins at `ranges[w]` (`ranges[W]`: the number of units); every worker's
   * keys in `sources`.
   */
  | { type: 'expand'; frontier: SharedArrayBuffer; states: number; unitSize: number; ranges: Int32Array; sources: SharedArrayBuffer[] }
  /** Store what was shipped to this worker of the level just expanded, in this order (absorbOrder). */
  | { type: 'absorb'; inboxes: SharedArrayBuffer[]; runs: Int32Array }
  | { type: 'finish' }
  | { type: 'node'; index: number }
  /** The run is over: drop its store and buffers, and wait for the next `init`. */
  | { type: 'release' };

type Finished = {
  states: number;
  transitions: number;
  eventFires: number[];
  ruleFires: [string, number][];
  measures: { name: string; unit: string; max: number | null; transitions: number }[];
  found: Found[];
  bytes: number;
  /** Units of other workers' ranges this one expanded. */
  stolen: number;
};

/** A state found for a property: its BFS level, its owner and its index there (-1: none). */
export interface Found {
  level: number;
  owner: number;
  index: number;
}

/**
 * What a worker's store holds after a phase: states added, the count, where the level being
 * stored begins, where the keys are, and per state stored since, its parent's place in the
 * frontier.
 */
type StoreFigures = { added: number; count: number; levelStart: number; keys: SharedArrayBuffer; parents: SharedArrayBuffer };

/** A worker's expansion of a level: outboxes, and per unit it expanded where its successors are. */
type Expansion = { outboxes: SharedArrayBuffer[]; spans: Int32Array };

export type ToMain =
  | { type: 'ready' }
  | ({ type: 'seeded' } & StoreFigures)
  | ({ type: 'expanded' } & Expansion)
  | ({ type: 'absorbed' } & StoreFigures)
  | ({ type: 'finished' } & Finished)
  | { type: 'node'; key: number[]; parent: number; via: number }
  | { type: 'error'; message: string; memory: boolean };

class WorkerError extends Error {
  constructor(message: string, readonly memory: boolean) {
    super(message);
  }
}

/** A worker thread with a request/reply interface (one request at a time). */
class Peer {
  private readonly worker: Worker;
  private waiting: ((m: ToMain) => void) | null = null;
  private failed: WorkerError | null = null;
  constructor() {
    this.worker = new Worker(new URL('./parallel-worker.mjs', import.meta.url));
    started++;
    this.worker.on('message', (m: ToMain) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    this.worker.on('error', (err) => {
      this.failed = new WorkerError(err.message, false);
      const w = this.waiting;
      this.waiting = null;
      w?.({ type: 'error', message: err.message, memory: false });
    });
  }
  async ask<T extends ToMain['type']>(msg: ToWorker, expect: T): Promise<Extract<ToMain, { type: T }>> {
    if (this.failed) throw this.failed;
    const reply = await new Promise<ToMain>((resolve) => {
      this.waiting = resolve;
      this.worker.postMessage(msg);
    });
    if (reply.type === 'error') throw new WorkerError(reply.message, reply.memory);
    if (reply.type !== expect) throw new Error(`parallel explorer: expected ${expect}, got ${reply.type}`);
    return reply as Extract<ToMain, { type: T }>;
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
  /** Back to the pool: the worker drops its run, and no longer keeps the process alive. */
  rest(): void {
    this.worker.postMessage({ type: 'release' } satisfies ToWorker);
    this.worker.unref();
  }
  /** Out of the pool, for a run: it keeps the process alive while it works. */
  wake(): this {
    this.worker.ref();
    return this;
  }
}

/**
 * Workers at rest between runs. `check --workers 2` explores one configuration after another:
 * starting two threads and loading the spec in each took about 0.4 s per configuration, so the
 * 101 default configurations took 50 s with two workers and 5 s with one. A worker that ran
 * without failing is kept (its run's memory dropped) and taken again by the next run, which
 * loads its spec in it (a module already loaded is not read again). At rest, a worker does not
 * keep the process alive.
 */
const pool: Peer[] = [];
/** Worker threads started in this process (tests: the pool's reuse). */
let started = 0;
/**
 * Stops the workers at rest: the next run starts its own. The bench calls it before each run,
 * so that every run it measures pays for starting its threads, as a single run does.
 */
export async function closeRestingWorkers(): Promise<void> {
  await Promise.all(pool.splice(0).map((p) => p.close()));
}

/** Worker threads started in this process, and those at rest in the pool (tests). */
export const workerThreads = (): { started: number; resting: number } => ({ started, resting: pool.length });

/**
 * Every worker's reply. When one fails, the others' replies are still awaited before the failure
 * is thrown: a reply left pending would answer the next request (the run stops and asks each
 * worker for its figures).
 */
async function everyReply<T>(asks: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(asks);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export interface ParallelOptions {
  workers: number;
  /** States per unit of a level (tests: 1 makes every state a unit); by default from the level's size. */
  chunkStates?: number;
  /** Tests: this worker pauses after each unit and each batch it absorbs, so that the others take its units. */
  slowWorker?: number;
}

/** States per unit of a level at most (a small level is cut finer, to share it out). */
const UNIT = 1024;

/**
 * The order in which worker v stores what it was shipped of a level cut into `units` units:
 * unit by unit. Returns (sender, start, end, unit) quadruples, one per unit with successors for
 * v: words [start, end) of the sender's outbox to v hold them. `spans` of each sender: per unit
 * it expanded, the unit, a start per destination and an end per destination.
 */
function absorbOrder(expanded: Expansion[], v: number, W: number, units: number): Int32Array {
  const sender = new Int32Array(units);
  const from = new Int32Array(units);
  const to = new Int32Array(units);
  const record = 1 + 2 * W;
  expanded.forEach((e, x) => {
    for (let r = 0; r < e.spans.length; r += record) {
      const u = e.spans[r];
      sender[u] = x;
      from[u] = e.spans[r + 1 + v];
      to[u] = e.spans[r + 1 + W + v];
    }
  });
  const runs: number[] = [];
  for (let u = 0; u < units; u++) if (to[u] > from[u]) runs.push(sender[u], from[u], to[u], u);
  return Int32Array.from(runs);
}

/**
 * The next level in the order of where each state's parent is in this one, those of one parent
 * in worker then store order: their global ids, written into `into` (grown when too small, and
 * returned). Each worker stored its part in unit order, so its parents' places never decrease:
 * the level is their merge. (The main thread does it while the workers wait: 0.18 s of an 8 s
 * run on the bench model with two workers; a counting sort over the places took 0.20 s, a merge
 * without branches 0.20 s.)
 */
function nextFrontier(stores: StoreFigures[], W: number, into: Int32Array): { frontier: Int32Array; states: number } {
  let states = 0;
  for (const r of stores) states += r.count - r.levelStart;
  if (into.length < states) into = new Int32Array(new SharedArrayBuffer(4 * Math.max(states, into.length * 2)));
  const parents = stores.map((r) => new Int32Array(r.parents));
  const ends = Int32Array.from(stores, (r) => r.count - r.levelStart);
  if (W === 2) {
    // Two workers (the usual case): a plain two-way merge.
    const [p0, p1] = parents;
    const [n0, n1] = ends;
    const s0 = stores[0].levelStart;
    const s1 = stores[1].levelStart;
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < n0 && j < n1) into[k++] = p1[j] < p0[i] ? (s1 + j++) * 2 + 1 : (s0 + i++) * 2;
    while (i < n0) into[k++] = (s0 + i++) * 2;
    while (j < n1) into[k++] = (s1 + j++) * 2 + 1;
    return { frontier: into, states };
  }
  const next = new Int32Array(W);
  for (let k = 0; k < states; k++) {
    let d = -1;
    let best = 0x7fffffff;
    for (let w = 0; w < W; w++) {
      if (next[w] < ends[w] && parents[w][next[w]] < best) {
        best = parents[w][next[w]];
        d = w;
      }
    }
    into[k] = (stores[d].levelStart + next[d]++) * W + d;
  }
  return { frontier: into, states };
}

/**
 * Explores with `workers` threads. `system` and `properties` are the caller's copies (for
 * decoding states and labels); the workers load theirs with `loader`.
 */
export async function exploreParallel<V>(
  system: TransitionSystem<V>,
  properties: Property<V>[],
  loader: Loader,
  options: ExploreOptions & ParallelOptions,
): Promise<ExploreResult<V>> {
  checkPropertyIds(system.name, properties as Property<unknown>[]);
  // Liveness needs every edge of the graph, which the workers do not keep: the sequential
  // explorer checks such systems (same verdicts, counts and traces).
  if (properties.some((p) => p.kind === 'leads-to')) {
    const { workers: _w, ...rest } = options;
    return explore(system, properties, rest);
  }
  const started = performance.now();
  const W = options.workers;
  const codec = makeCodec(system.maxValues);
  const K = codec.words;
  const maxStates = options.maxStates ?? Infinity;
  const canon = options.symmetry && system.symmetry ? canonicalizer(system.symmetry, system.stateBytes) : null;
  if (canon && !fixesStates(system.symmetry!, system.initialStates())) {
    throw new ModelError(`${system.name}: the declared symmetry (${system.symmetry!.description}) does not map the initial state to itself`);
  }
  const peers = Array.from({ length: W }, () => (pool.pop() ?? new Peer()).wake());
  let stopReason: StopReason | undefined;
  let stopMessage: string | undefined;
  let states = 0;
  let depth = 0;
  /** The two frontiers (held here: counted in the bytes per state). */
  let frontierBytes = 0;
  try {
    const maxBytes = Math.floor((options.maxBytes ?? 8 * 1024 ** 3) / W);
    // A sizing hint for each worker's store: its share of the expected states, with room for an uneven split.
    const expectedStates = options.expectedStates ? Math.ceil((options.expectedStates / W) * 1.01) : 0;
    // Per worker, the units of its range not yet taken: the next from the front (low 16 bits), the end (high 16 bits).
    const claim = new SharedArrayBuffer(4 * W);
    const claims = new Int32Array(claim);
    // What the workers share besides keys, outboxes and claims: per property, the lowest level at
    // which a state was found for it (none: 2^31 - 1). No state deeper can be the first, so
    // workers stop checking it there.
    const board = new SharedArrayBuffer(4 * Math.max(1, properties.length));
    new Int32Array(board).fill(0x7fffffff);
    await everyReply(peers.map((p, worker) => p.ask({ type: 'init', loader, worker, workers: W, maxBytes, symmetry: !!canon, expectedStates, claim, board, slow: worker === options.slowWorker, maxRss: options.maxRss, maxRssLabel: options.maxRssLabel }, 'ready')));
    // The workers themselves (a thread, its heap, the spec loaded again) count against the limit.
    const limit: RssLimit | undefined = options.maxRss !== undefined ? { bytes: options.maxRss, share: 1, label: options.maxRssLabel } : undefined;
    try {
      checkRss(limit);
    } catch (err) {
      throw new WorkerError(`${(err as Error).message} with ${W} workers started, before exploring`, true);
    }
    let stores: StoreFigures[] = await everyReply(peers.map((p) => p.ask({ type: 'seed' }, 'seeded')));
    states = stores.reduce((n, r) => n + r.added, 0);
    // Two frontiers, the one expanded and the next (whose parents are in the first), used in turn.
    let buffers: Int32Array[] = [new Int32Array(new SharedArrayBuffer(4 * 1024)), new Int32Array(new SharedArrayBuffer(4 * 1024))];
    let lastProgress = performance.now();
    for (let turn = 0; ; turn = 1 - turn) {
      const next = nextFrontier(stores, W, buffers[turn]);
      buffers[turn] = next.frontier;
      frontierBytes = Math.max(frontierBytes, buffers[0].byteLength + buffers[1].byteLength);
      const n = next.states;
      if (n === 0) break;
      // A stop (interrupt, limit) is taken between levels: every level explored is complete.
      if (options.shouldStop?.()) {
        stopReason = 'interrupted';
        break;
      }
      try {
        checkRss(limit);
      } catch (err) {
        throw new WorkerError((err as Error).message, true);
      }
      if (states >= maxStates) {
        stopReason = 'max-states';
        stopMessage = `stopped at --max-states ${maxStates} (the parallel explorer stops between levels, after the one it was exploring)`;
        break;
      }
      // Units of at most UNIT states (at most 65,535 of at most 65,535 states: a claim's halves,
      // a parent's place in its unit), eight per worker at least where the level allows.
      const unitSize = Math.min(0xffff, Math.max(options.chunkStates ?? Math.max(64, Math.min(UNIT, Math.ceil(n / (8 * W)))), Math.ceil(n / 0xffff)));
      const units = Math.ceil(n / unitSize);
      const ranges = Int32Array.from({ length: W + 1 }, (_, w) => Math.floor((w * units) / W));
      for (let w = 0; w < W; w++) Atomics.store(claims, w, ranges[w] | (ranges[w + 1] << 16));
      const sources = stores.map((r) => r.keys);
      const expanded = await everyReply(peers.map((p) => p.ask({ type: 'expand', frontier: next.frontier.buffer as SharedArrayBuffer, states: n, unitSize, ranges, sources }, 'expanded')));
      stores = await everyReply(peers.map((p, v) => p.ask({ type: 'absorb', inboxes: expanded.map((e) => e.outboxes[v]), runs: absorbOrder(expanded, v, W, units) }, 'absorbed')));
      const level = stores.reduce((k, r) => k + r.added, 0);
      states += level;
      if (level > 0) depth++;
      const now = performance.now();
      if (options.onProgress && now - lastProgress >= (options.progressEveryMs ?? 250)) {
        lastProgress = now;
        options.onProgress({ states, transitions: 0, depth, seconds: (now - started) / 1000 });
      }
    }
  } catch (err) {
    if (err instanceof WorkerError && err.memory) {
      stopReason = 'memory';
      stopMessage = `stopped: ${err.message}`;
    } else {
      await Promise.all(peers.map((p) => p.close()));
      throw err;
    }
  }

  const finished = await everyReply(peers.map((p) => p.ask({ type: 'finish' }, 'finished')));
  const seconds = (performance.now() - started) / 1000;
  const transitions = finished.reduce((n, f) => n + f.transitions, 0);
  states = finished.reduce((n, f) => n + f.states, 0);
  const eventFires = new Float64Array(system.eventCount);
  for (const f of finished) f.eventFires.forEach((n, e) => (eventFires[e] += n));
  const ruleCounts: [number, number][] = [];
  for (const f of finished) for (const [key, n] of f.ruleFires) ruleCounts.push([ruleOfKey(system as TransitionSystem<unknown>, key), n]);
  const ruleFires = new Float64Array(system.ruleCount);
  for (const [r, n] of ruleCounts) ruleFires[r] += n;
  const measures = finished[0].measures.map((m, k) => {
    const all = finished.map((f) => f.measures[k]);
    const maxes = all.map((x) => x.max).filter((x): x is number => x !== null);
    return { name: m.name, unit: m.unit, max: maxes.length ? Math.max(...maxes) : null, transitions: all.reduce((n, x) => n + x.transitions, 0) };
  });
  // The shortest witness of each property: the lowest level, then the lowest owner and index.
  const outcomes: PropertyOutcome<V>[] = properties.map((property, i) => {
    let best: Found | null = null;
    for (const f of finished) {
      const x = f.found[i];
      if (x.index >= 0 && (best === null || x.level < best.level || (x.level === best.level && (x.owner < best.owner || (x.owner === best.owner && x.index < best.index))))) best = x;
    }
    return { property, state: best === null ? -1 : best.index * W + best.owner };
  });

  // Paths are rebuilt by asking the owners for each state's parent, then decoded here.
  const nodes = new Map<number, { key: number[]; parent: number; via: number }>();
  const node = async (gid: number) => {
    let n = nodes.get(gid);
    if (!n) {
      const r = await peers[gid % W].ask({ type: 'node', index: Math.floor(gid / W) }, 'node');
      n = { key: r.key, parent: r.parent, via: r.via };
      nodes.set(gid, n);
    }
    return n;
  };
  const paths = new Map<number, Path>();
  for (const o of outcomes) {
    if (o.state < 0 || paths.has(o.state)) continue;
    const chain: { key: number[]; via: number }[] = [];
    for (let g = o.state; g >= 0; ) {
      const n = await node(g);
      chain.push({ key: n.key, via: n.via });
      g = n.parent;
    }
    chain.reverse();
    const stored = {
      events: chain.slice(1).map((c) => c.via),
      states: chain.map((c) => {
        const out = new Uint8Array(system.stateBytes);
        codec.decode(Int32Array.from(c.key), 0, out);
        return out;
      }),
    };
    paths.set(o.state, canon ? realPath(system as TransitionSystem<unknown>, system.symmetry!, stored) : stored);
  }
  // Workers that failed (a memory limit) are not kept: they go, with what they hold.
  if (stopReason === 'memory') await Promise.all(peers.map((p) => p.close()));
  else {
    for (const p of peers) p.rest();
    pool.push(...peers);
  }
  const bytes = finished.reduce((n, f) => n + f.bytes, frontierBytes);
  return {
    ...runFigures({ stopReason, stopMessage, states, transitions, depth, seconds, bytes, stateBits: codec.bits }),
    ...(canon ? { symmetry: system.symmetry!.description } : {}),
    stolenChunks: finished.reduce((n, f) => n + f.stolen, 0),
    outcomes,
    measures,
    eventFires,
    ruleFires,
    path: (index) => {
      const p = paths.get(index);
      if (!p) throw new Error(`parallel explorer: no path kept for state ${index}`);
      return p;
    },
  };
}
