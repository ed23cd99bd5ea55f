/**
 * The parallel explorer: breadth-first search over several worker threads, each owning the states
 * whose hash falls in its partition (as distributed Spin and Stern–Dill's Murφ do).
 *
 * Level by level, in two phases. Expand: each worker's part of the level is cut into chunks; a
 * worker expands its own from the front, storing at once the successors it owns, and when they
 * are gone takes the others' from the back (work stealing: a worker on a faster or less busy
 * core does more). Successors not stored at once go to their owners' outboxes. Absorb: each
 * worker stores what it was shipped. A worker's states are stored in one order whoever expanded
 * what: the successors of its own frontier, in state order (those of the chunks it expanded
 * first, stored at once, then those of the chunks taken from it), then those of the other
 * workers' frontiers, in worker then state order. So a run with W workers gives the same
 * states, indices, counts and traces every time, whatever the chunk size; the state space, the
 * verdicts and the counterexamples' lengths are those of the sequential explorer
 * (test/checker/engines).
 *
 * The phases overlap: one request (`step`) has a worker absorb a level and go on to expand the
 * next, whose part it publishes in shared memory (`board`). A worker that has absorbed its share
 * starts on its own chunks while the others still absorb theirs, and takes their chunks once
 * they have published. Without this, the level waited for the slowest absorb: a worker's
 * shipped successors can be stored only by it, and when one core ran slower (often, on the
 * machines measured) the other was idle 0.4 to 1.3 s of a 12 s run. So a level is done when
 * the step after its expansion returns; a stop is taken between steps, after absorbing the level
 * being expanded, so every level explored is complete.
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
      /** Per worker, the chunks of its part of the level not yet taken. */
      claim: SharedArrayBuffer;
      /** What the workers publish to each other (the board: its layout is below). */
      board: SharedArrayBuffer;
      chunkStates?: number;
      slow: boolean;
      maxRss?: number;
      maxRssLabel?: string;
    }
  | { type: 'seed' }
  /** Absorb the level expanded last (if any), then expand the next (if `expand`). */
  | { type: 'step'; absorb: { inboxes: SharedArrayBuffer[]; runs: Int32Array } | null; expand: boolean; sources: SharedArrayBuffer[]; generations: number[] }
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
  /** Chunks of other workers' frontiers this one expanded. */
  stolen: number;
};

/**
 * What the workers share besides keys and outboxes (`board`, an Int32Array over shared memory).
 * Word FAILED: set when a worker failed, so that none waits for it. Then per worker: the level it
 * has published (PUBLISHED: the level's number plus one), its part of that level (FIRST and END
 * state, chunk SIZE) and how many times its keys have MOVED to a larger buffer. Then per
 * property, the lowest level at which a state was found for it: no state deeper can be the
 * first, so workers stop checking it there.
 */
export const FAILED = 0;
export const PUBLISHED = 0;
export const FIRST = 1;
export const END = 2;
export const SIZE = 3;
export const MOVES = 4;
const FIELDS = 5;
/** Where worker `w`'s `field` is on the board. */
export const board = (w: number, field: number) => 1 + w * FIELDS + field;
/** After the workers' fields, per property: the lowest level at which a worker found a state for it (none: 2^31 - 1). */
export const decided = (W: number, property: number) => 1 + W * FIELDS + property;
const boardWords = (W: number, properties: number) => 1 + W * FIELDS + properties;

/** A state found for a property: its BFS level, its owner and its index there (-1: none). */
export interface Found {
  level: number;
  owner: number;
  index: number;
}

/** What a worker's store holds after a phase: states added, the count, where the keys are and how many times they moved. */
type StoreFigures = { added: number; count: number; keys: SharedArrayBuffer; moves: number };

/** A worker's expansion of its part of a level: states stored at once, outboxes, and per chunk where its successors are. */
type Expansion = { added: number; outboxes: SharedArrayBuffer[]; spans: Int32Array };

export type ToMain =
  | { type: 'ready' }
  | ({ type: 'seeded' } & StoreFigures)
  | ({ type: 'stepped'; first: number; size: number; chunks: number; expansion: Expansion } & StoreFigures)
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
  /** States per chunk of a level (tests: 1 makes every state a chunk); by default from the level's size. */
  chunkStates?: number;
  /** Tests: this worker pauses after each chunk and each batch it absorbs, so that the others take its chunks and start on the next level before it. */
  slowWorker?: number;
}

/** Each worker's part of the level expanded: its first state, chunk size and chunk count. */
type Parts = { first: number; size: number; chunks: number }[];

/**
 * The order in which worker v stores what it was shipped: the successors of the chunks of its
 * own part of the level that others took, then those of the other workers' parts (worker 0, 1,
 * ..., v skipped), chunk by chunk in state order. Returns (sender, start, end, owner, first)
 * quintuples, one per chunk with successors for v: words [start, end) of the sender's outbox to
 * v hold them, and the chunk is the owner's that begins at state `first`. `spans` of each
 * sender: per chunk it expanded, the chunk's owner and number, a start per destination and an
 * end per destination.
 */
function absorbOrder(expanded: Expansion[], v: number, W: number, parts: Parts): Int32Array {
  const base = parts.map((_, o) => parts.slice(0, o).reduce((a, p) => a + p.chunks, 0));
  const count = base[W - 1] + parts[W - 1].chunks;
  const sender = new Int32Array(count);
  const start = new Int32Array(count);
  const end = new Int32Array(count);
  const record = 2 + 2 * W;
  expanded.forEach((e, x) => {
    for (let r = 0; r < e.spans.length; r += record) {
      const c = base[e.spans[r]] + e.spans[r + 1];
      sender[c] = x;
      start[c] = e.spans[r + 2 + v];
      end[c] = e.spans[r + 2 + W + v];
    }
  });
  const runs: number[] = [];
  const owners = [v, ...parts.keys()].filter((o, k) => k === 0 || o !== v);
  for (const o of owners) {
    for (let k = 0; k < parts[o].chunks; k++) {
      const c = base[o] + k;
      if (end[c] > start[c]) runs.push(sender[c], start[c], end[c], o, parts[o].first + k * parts[o].size);
    }
  }
  return Int32Array.from(runs);
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
  try {
    const maxBytes = Math.floor((options.maxBytes ?? 8 * 1024 ** 3) / W);
    // A sizing hint for each worker's store: its share of the expected states, with room for an uneven split.
    const expectedStates = options.expectedStates ? Math.ceil((options.expectedStates / W) * 1.01) : 0;
    // Per worker, the chunks of its part of the level not yet taken: the next from the front (low 16 bits), the end (high 16 bits).
    const claim = new SharedArrayBuffer(4 * W);
    const board = new SharedArrayBuffer(4 * boardWords(W, properties.length));
    new Int32Array(board).fill(0x7fffffff, decided(W, 0));
    await everyReply(peers.map((p, worker) => p.ask({ type: 'init', loader, worker, workers: W, maxBytes, symmetry: !!canon, expectedStates, claim, board, chunkStates: options.chunkStates, slow: worker === options.slowWorker, maxRss: options.maxRss, maxRssLabel: options.maxRssLabel }, 'ready')));
    // The workers themselves (a thread, its heap, the spec loaded again) count against the limit.
    const limit: RssLimit | undefined = options.maxRss !== undefined ? { bytes: options.maxRss, share: 1, label: options.maxRssLabel } : undefined;
    try {
      checkRss(limit);
    } catch (err) {
      throw new WorkerError(`${(err as Error).message} with ${W} workers started, before exploring`, true);
    }
    let stores: StoreFigures[] = await everyReply(peers.map((p) => p.ask({ type: 'seed' }, 'seeded')));
    states = stores.reduce((n, r) => n + r.added, 0);
    // Each step absorbs the level expanded by the one before (`pending`) and expands the next:
    // a level is done when the step after its expansion returns. A stop (interrupt, limit) is
    // taken between steps, and the level being expanded is still absorbed, so every level
    // explored is complete.
    type Pending = { expansions: Expansion[]; parts: Parts };
    let pending: Pending | null = null;
    let expand = states > 0;
    let lastProgress = performance.now();
    for (;;) {
      if (expand) {
        if (options.shouldStop?.()) {
          stopReason = 'interrupted';
          expand = false;
        } else {
          try {
            checkRss(limit);
          } catch (err) {
            throw new WorkerError((err as Error).message, true);
          }
          if (states >= maxStates) {
            stopReason = 'max-states';
            stopMessage = `stopped at --max-states ${maxStates} (the parallel explorer stops between levels, after the one it was exploring)`;
            expand = false;
          }
        }
      }
      if (!expand && !pending) break;
      const absorbing: Pending | null = pending;
      const sources = stores.map((r) => r.keys);
      const generations = stores.map((r) => r.moves);
      const stepped: Extract<ToMain, { type: 'stepped' }>[] = await everyReply(
        peers.map((p, v) => p.ask({ type: 'step', absorb: absorbing && { inboxes: absorbing.expansions.map((e) => e.outboxes[v]), runs: absorbOrder(absorbing.expansions, v, W, absorbing.parts) }, expand, sources, generations }, 'stepped')),
      );
      stores = stepped;
      if (absorbing) {
        // The level just completed: what was stored at once while expanding the one before, and what was shipped.
        const level = absorbing.expansions.reduce((n, e) => n + e.added, 0) + stepped.reduce((n, r) => n + r.added, 0);
        states += level;
        if (level > 0) depth++;
        // An empty level: its expansion, just done, found nothing.
        else expand = false;
      }
      pending = expand ? { expansions: stepped.map((r) => r.expansion), parts: stepped.map(({ first, size, chunks }) => ({ first, size, chunks })) } : null;
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
  const bytes = finished.reduce((n, f) => n + f.bytes, 0);
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
