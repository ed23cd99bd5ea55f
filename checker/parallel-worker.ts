/**
 * One worker of the parallel explorer (checker/parallel.ts). It owns the states whose hash falls
 * in its partition and keeps them in its own store, whose keys live in shared memory so that the
 * other workers can expand them too.
 *
 * A level has two phases. Expand: each worker takes the chunks of its own frontier from the
 * front, storing at once the successors it owns and shipping the others to their owners'
 * outboxes; when its own are taken, it takes the other workers' chunks from the back (so a worker
 * on a faster or less busy core does more), shipping all their successors. Absorb: each worker
 * stores what it was shipped, in the order parallel.ts gives, which does not depend on who
 * expanded which chunk: every run gives the same states and indices.
 *
 * One request (`step`) absorbs a level and expands the next: a worker that has stored what it
 * was shipped publishes its part of the next level (shared memory) and starts on it at once,
 * while others may still be absorbing; it takes their chunks once they have published theirs.
 * So a worker on a faster core is not idle while a slower one absorbs. What it ships meanwhile
 * to a worker still reading its outbox waits in a private buffer until that one has published.
 */
import { parentPort } from 'node:worker_threads';
import { generateRange, generationBuffers, hashAndTouch, RECENT, RECENT_BLOCK, recentSlot, type Generation } from './bfs.ts';
import { makeCodec } from './codec.ts';
import { checkRss, MemoryLimitError, StateStore, type RssLimit } from './store.ts';
import { canonicalizer } from './symmetry.ts';
import { Tally } from './tally.ts';
import { ruleKey, type Measure, type Property, type TransitionSystem } from './system.ts';
import { board as at, decided, END, FAILED, FIRST, MOVES, PUBLISHED, SIZE, type Found, type ToMain, type ToWorker } from './parallel.ts';

/**
 * Words of one shipped successor beyond its key: one, the parent's place in its chunk (high 16
 * bits) and the event (low 16 bits). Who sends a chunk's successors says which chunk
 * (parallel.ts, absorbOrder), so the parent's global id need not travel: a quarter fewer words
 * to write and read for a key of two words.
 */
const EXTRA = 1;

/** Successors generated per `generateRange` call, and looked up per `lookupBatch` call. */
const BATCH = 1 << 15;

async function main() {
  const port = parentPort!;
  let ctx: Awaited<ReturnType<typeof init>> | undefined;
  port.on('message', async (msg: ToWorker) => {
    try {
      if (msg.type === 'init') {
        ctx = await init(msg);
        post({ type: 'ready' });
      } else if (msg.type === 'seed') post({ type: 'seeded', ...ctx!.seed() });
      else if (msg.type === 'step') post({ type: 'stepped', ...ctx!.step(msg.absorb, msg.expand, msg.sources, msg.generations) });
      else if (msg.type === 'finish') post({ type: 'finished', ...ctx!.finish() });
      else if (msg.type === 'node') post({ type: 'node', ...ctx!.node(msg.index) });
      else if (msg.type === 'release') ctx = undefined;
    } catch (err) {
      const memory = err instanceof MemoryLimitError || (err instanceof RangeError && /allocat|Array buffer/i.test(err.message));
      post({ type: 'error', message: (err as Error).message, memory });
    }
  });
  function post(m: ToMain) {
    port.postMessage(m);
  }
}

/** Another worker's keys (or this one's), read where they are. */
class SharedKeys {
  constructor(
    readonly keys: Int32Array,
    private readonly K: number,
  ) {}
  keyOffset(i: number): number {
    return i * this.K;
  }
}

/** States per chunk of a worker's part of a level at most (a small part is cut finer, to share it out). */
const CHUNK = 1024;

async function init(msg: Extract<ToWorker, { type: 'init' }>) {
  const { loader, worker: me, workers: W, maxBytes, symmetry, expectedStates, claim, slow, maxRss, maxRssLabel, chunkStates } = msg;
  const mod = (await import(loader.module)) as Record<string, (...args: unknown[]) => unknown>;
  const loaded = (await mod[loader.export](...loader.args)) as {
    system: TransitionSystem<unknown>;
    properties: Property<unknown>[];
    measures?: Measure<unknown>[];
  };
  const system = loaded.system;
  const properties = loaded.properties;
  const measures = loaded.measures ?? [];
  const codec = makeCodec(system.maxValues);
  const K = codec.words;
  const E = system.eventCount;
  const stride = K + EXTRA;
  // Every worker allocates at the same time: each asks as if all did.
  const rssLimit: RssLimit | undefined = maxRss !== undefined ? { bytes: maxRss, share: W, label: maxRssLabel } : undefined;
  const store = new StateStore(K, maxBytes, expectedStates && expectedStates * (K * 4 + 6) * 2.5 < maxBytes ? expectedStates : 0, rssLimit, true);
  const key = new Int32Array(K);
  const canon = symmetry && system.symmetry ? canonicalizer(system.symmetry, system.stateBytes) : null;
  const claims = new Int32Array(claim);
  const board = new Int32Array(msg.board);
  let level = 0;
  /** Where the level after the one being expanded begins in the store. */
  let nextStart = 0;
  /** How many times the store's keys moved to a larger buffer (others read them where they are). */
  let moves = 0;
  let lastKeys = null as Int32Array | null;
  const keysMoved = () => {
    if (store.keys !== lastKeys) {
      if (lastKeys !== null) moves++;
      lastKeys = store.keys;
    }
    return moves;
  };
  const tally = new Tally(system, measures);
  /** The first state (level, owner, local index) violating or witnessing each property this worker saw. */
  const found: Found[] = properties.map(() => ({ level: -1, owner: -1, index: -1 }));
  const better = (f: Found, lv: number, owner: number, index: number) =>
    f.index < 0 || lv < f.level || (lv === f.level && (owner < f.owner || (owner === f.owner && index < f.index)));
  const deadlocks = properties.flatMap((p, i) => (p.kind === 'deadlock' ? [{ p, i }] : []));
  const deadlockMask = 2 ** deadlocks.length - 1;
  const progressEvent = deadlocks.map(({ p }) => {
    const flags = new Uint8Array(E);
    if (p.kind === 'deadlock') for (let e = 0; e < E; e++) flags[e] = p.isProgress(e) ? 1 : 0;
    return flags;
  });

  const encodeOrThrow = (s: Uint8Array) => {
    const bad = codec.encode(s, key, 0);
    if (bad >= 0) throw new Error(`${system.name}: ${system.byteLabel(bad)} = ${s[bad]} exceeds its declared bound ${system.maxValues[bad]}`);
  };
  // Properties judged on every new state (always, sometimes).
  const judged = properties.flatMap((p, i) => (p.kind === 'deadlock' ? [] : [{ p, i }]));
  /**
   * Whether a new state at BFS depth `depth` can still be the first for some property: not once
   * this worker has found one, nor once any worker has found one at a lower level (the board
   * keeps each property's lowest level found; at that level another owner may still come first).
   */
  const undecided = (i: number, depth: number) => found[i].index < 0 && Atomics.load(board, decided(W, i)) >= depth;
  const anyUndecided = (depth: number) => judged.some(({ i }) => undecided(i, depth));
  let checking = anyUndecided(0);
  const scratch = new Uint8Array(system.stateBytes);
  /** Property checks on a new state (local index) at BFS depth `depth`. */
  const checkNew = (index: number, depth: number) => {
    codec.decode(store.keys, index * K, scratch);
    let view: unknown;
    for (let k = 0; k < judged.length; k++) {
      const { p, i } = judged[k];
      if (!undecided(i, depth)) continue;
      view ??= system.view(scratch);
      const hit = p.kind === 'always' ? !p.holds(view) : p.kind === 'sometimes' && p.reached(view);
      if (hit) {
        found[i] = { level: depth, owner: me, index };
        for (let v = Atomics.load(board, decided(W, i)); v > depth; v = Atomics.load(board, decided(W, i))) {
          if (Atomics.compareExchange(board, decided(W, i), v, depth) === v) break;
        }
        checking = anyUndecided(depth);
      }
    }
  };

  const gen: Generation = {
    system,
    codec,
    store,
    K,
    E,
    ...generationBuffers(system),
    canon,
    tally,
    fastTally: measures.length === 0,
    eventFires: tally.eventFires,
    deadlockCount: deadlocks.length,
    progressEvent,
    encodeOrThrow,
    transitions: 0,
  };
  const capacity = Math.max(BATCH, 2 * E);
  const batch = {
    keys: new Int32Array(capacity * K),
    events: new Uint16Array(capacity),
    ends: new Int32Array(capacity),
    progress: new Int32Array(capacity),
    /** Successors of a run of states of this worker's own chunk that it owns, as in an outbox. */
    own: new Int32Array(capacity * stride),
    hashes: new Int32Array(capacity),
    isNew: new Uint8Array(capacity),
    /** Per successor generated: its hash, and the word shipped with it (parent's place, event). */
    succHashes: new Int32Array(capacity),
    words: new Int32Array(capacity),
  };
  const batchBytes = capacity * (K * 4 + 2 + 4 + 4 + stride * 4 + 4 + 1 + 4 + 4);

  /**
   * Outboxes, one per destination worker (this one's own included), over shared memory: the
   * owner reads them in place, and they are used again the next level. Growing one means a new
   * buffer, a copy and fresh pages, so each is sized at once for two successors per state of this
   * worker's share of the expected states: memory is only taken where it is written. The widest
   * level of the bench model ships 0.83 per state to a worker: half a successor per state, the
   * size before, made them grow there (0.4 s of copying and faults in a 12 s run).
   */
  const outboxWords = Math.max(1 << 14, Math.min(1 << 28, Math.ceil(2 * (expectedStates || 0) * stride)));
  const boxes: Int32Array[] = Array.from({ length: W }, () => new Int32Array(new SharedArrayBuffer(outboxWords * 4)));
  /**
   * When this worker starts a level while another is still absorbing the last one (reading this
   * worker's outbox to it), what it ships to that worker is written here (private, used again
   * every level) and moved into the outbox once that worker has published its part: a second
   * outbox per destination would cost its pages (a page touched for the first time costs about
   * 14 µs; a second set of outboxes made 64,000 more page faults in a 12 s run).
   */
  const early: Int32Array[] = Array.from({ length: W }, () => new Int32Array(1 << 16));
  /** Per destination: 1 while its successors go to `early`. */
  const waiting = new Uint8Array(W);
  /** Where each destination's successors are written now (its outbox, its `early`, or the own batch). */
  const out: Int32Array[] = boxes.slice();
  const outLen = new Int32Array(W);
  /** The most words the outboxes held at once (counted in the bytes per state). */
  let outboxPeak = 0;
  let stolen = 0;
  /** Keeps the cache loads of expandChunk from being optimised away. */
  let touched = 0;
  /**
   * Successors this worker shipped or stored lately, by hash (direct-mapped, RECENT entries):
   * per entry the key, the level it was generated in, and where its chunk comes in its owner's
   * absorb order (`rank`). 46 % of the successors of the bench model are found here: a state
   * reached again from a sibling a few states on. One found from an earlier level is stored by
   * now; one from this level is skipped only when it comes earlier in the owner's absorb order
   * (or earlier in the same chunk), so the first occurrence, the one stored with its parent, is
   * the same whoever expanded which chunk. A skipped successor is neither written, shipped, nor
   * looked up in its owner's index.
   */
  const recentStride = K + 2;
  const recent = new Int32Array(RECENT * recentStride);
  /** Per destination, where the chunk being expanded comes in that destination's absorb order (see rank). */
  const ranks = new Int32Array(W);
  /** Tests (ParallelOptions.slowWorker): a pause after each chunk expanded and each batch absorbed. */
  const pause = slow ? new Int32Array(new SharedArrayBuffer(4)) : null;

  /** A buffer like `old` (shared or not) of at least `words` words, holding its first `n`. */
  const larger = (old: Int32Array, words: number, n: number): Int32Array => {
    const length = Math.max(words, old.length * 2);
    checkRss(rssLimit, length * 4);
    const grown = old.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
    grown.set(old.subarray(0, n));
    return grown;
  };

  /**
   * Moves what `early` holds for `dest` into its outbox when `dest` has published the level
   * being expanded (it has absorbed the last one). Returns whether it had.
   */
  const settle = (dest: number): boolean => {
    if (Atomics.load(board, at(dest, PUBLISHED)) < level + 1) return false;
    const n = outLen[dest];
    if (boxes[dest].length < n) boxes[dest] = larger(boxes[dest], n, 0);
    boxes[dest].set(early[dest].subarray(0, n));
    out[dest] = boxes[dest];
    waiting[dest] = 0;
    return true;
  };

  /** Makes room after the first `n` words written for `dest`; returns where to write. */
  const grow = (dest: number, n: number): Int32Array => {
    if (waiting[dest] && settle(dest) && n + stride <= out[dest].length) return out[dest];
    const grown = larger(out[dest], n + stride, n);
    if (waiting[dest]) early[dest] = grown;
    else boxes[dest] = grown;
    return (out[dest] = grown);
  };

  /**
   * Expands states [from, to) of `o`'s frontier; with `insert` (this worker's own chunk) the
   * successors it owns are looked up and stored at once, in order. Returns how many were new.
   */
  const expandChunk = (source: SharedKeys, o: number, chunk: number, from: number, to: number, insert: boolean): number => {
    const { keys, events, ends, progress, own, words, succHashes: hashes } = batch;
    for (let d = 0; d < W; d++) ranks[d] = rank(o, d, chunk);
    let added = 0;
    for (let i = from; i < to; ) {
      checkRss(rssLimit);
      gen.store = source;
      const next = generateRange(gen, i, to, keys, events, ends, progress, capacity);
      // Every successor is written the same way, to out[its owner]; for this worker's own chunk,
      // out[me] is the batch looked up below (no branch on which, a coin toss the processor
      // would mispredict half the time). The batch holds as many successors as generateRange
      // gives at most, so only outboxes grow.
      const selfBox = out[me];
      const selfLen = outLen[me];
      if (insert) {
        out[me] = own;
        outLen[me] = 0;
      }
      // Per successor, its parent's place in the chunk and its event (the word shipped with it).
      let j = 0;
      for (let s = i; s < next; s++) {
        const end = ends[s - i];
        const parent = (s - from) << 16;
        for (; j < end; j++) words[j] = parent | events[j];
        // Deadlock: no progress event enabled in a state that is not done.
        if (deadlocks.length > 0 && (progress[s - i] & deadlockMask) !== deadlockMask) deadlockCandidate(source, o, s, progress[s - i]);
      }
      const m = j;
      let sink = 0;
      for (let b = 0; b < m; b += RECENT_BLOCK) {
        const e = Math.min(m, b + RECENT_BLOCK);
        sink ^= hashAndTouch(keys, K, b, e, hashes, recent, recentStride, K);
        for (let j = b; j < e; j++) {
          const at = j * K;
          const h = hashes[j];
          const dest = owner(h, W);
          const r = recentSlot(h) * recentStride;
          let diff = 0;
          for (let w = 0; w < K; w++) diff |= recent[r + w] ^ keys[at + w];
          // An entry's key is never all zero (a stored key's last word never is).
          if (diff === 0 && (recent[r + K] < level || recent[r + K + 1] <= ranks[dest])) continue;
          for (let w = 0; w < K; w++) recent[r + w] = keys[at + w];
          recent[r + K] = level;
          recent[r + K + 1] = ranks[dest];
          let box = out[dest];
          const n = outLen[dest];
          if (n + stride > box.length) box = grow(dest, n);
          for (let w = 0; w < K; w++) box[n + w] = keys[at + w];
          box[n + K] = words[j];
          outLen[dest] = n + stride;
        }
      }
      if (sink === 0x7fffffff) touched++;
      if (insert) {
        const mine = outLen[me] / stride;
        out[me] = selfBox;
        outLen[me] = selfLen;
        if (mine > 0) added += storeNew(own, mine, from, o);
      }
      i = next;
    }
    return added;
  };

  /**
   * Looks up `m` successors in outbox layout (key, then parent and event) of the chunk of `o`'s
   * part of the level that begins at state `first`, and stores the new ones in that order,
   * checking the properties on each. Returns how many.
   */
  const storeNew = (box: Int32Array, m: number, first: number, o: number): number => {
    const { hashes, isNew } = batch;
    for (let k = 0; k < m; k++) hashes[k] = StateStore.hashAt(box, k * stride, K);
    store.lookupBatch(box, hashes, m, isNew, stride);
    let added = 0;
    for (let k = 0; k < m; k++) {
      if (isNew[k] === 0) continue;
      const at = k * stride;
      const w = box[at + K];
      const index = store.append(box, at, (first + (w >>> 16)) * W + o, w & 0xffff);
      added++;
      if (checking) checkNew(index, level + 1);
    }
    return added;
  };

  /** A state of the level (owner o, index s) with no progress event enabled: deadlocked unless done. */
  const deadlockCandidate = (source: SharedKeys, o: number, s: number, progress: number) => {
    let view: unknown;
    for (let d = 0; d < deadlocks.length; d++) {
      const { p, i: pi } = deadlocks[d];
      if (p.kind !== 'deadlock' || progress & (1 << d) || !better(found[pi], level, o, s)) continue;
      if (view === undefined) {
        codec.decode(source.keys, s * K, scratch);
        view = system.view(scratch);
      }
      if (!p.isDone(view)) found[pi] = { level, owner: o, index: s };
    }
  };

  /** What the main thread needs after the store changed: how many states, and where the keys are. */
  const storeFigures = (added: number) => ({ added, count: store.count, keys: store.keys.buffer as SharedArrayBuffer, moves: keysMoved() });

  /**
   * Stores the successors of the level just expanded that this worker owns: `runs` are
   * (sender, start, end, owner, first) quintuples, one per chunk, in the order to store them:
   * words [start, end) of the sender's outbox (`inboxes`) hold the successors of the chunk of
   * the owner's part of the level that begins at state `first`. Looked up a batch at a time
   * (StateStore.lookupBatch), the new ones stored in that order. Returns how many were new.
   */
  const absorb = (inboxes: SharedArrayBuffer[], runs: Int32Array): number => {
    let added = 0;
    checking &&= anyUndecided(level + 1);
    const boxes = inboxes.map((b) => new Int32Array(b));
    for (let r = 0; r < runs.length; r += 5) {
      const box = boxes[runs[r]];
      const end = runs[r + 2];
      for (let from = runs[r + 1]; from < end; from += capacity * stride) {
        const m = Math.min(capacity, (end - from) / stride);
        added += storeNew(box.subarray(from), m, runs[r + 4], runs[r + 3]);
        if (pause) Atomics.wait(pause, 0, 0, 2);
      }
    }
    level++;
    return added;
  };

  /**
   * Publishes this worker's part of the level about to be expanded (the states stored since the
   * last expansion began), cut into chunks; an empty part when `empty` (this worker failed).
   * Returns its first state, the chunk size and the number of chunks.
   */
  const publish = (empty: boolean): { first: number; size: number; chunks: number } => {
    const first = nextStart;
    const end = empty ? first : store.count;
    nextStart = end;
    const n = end - first;
    // At most 65,535 chunks (a claim's halves) of at most 65,535 states (a parent's place in its chunk).
    const size = Math.min(0xffff, Math.max(chunkStates ?? Math.max(64, Math.min(CHUNK, Math.ceil(n / 8))), Math.ceil(n / 0xffff)));
    const chunks = Math.ceil(n / size);
    board[at(me, FIRST)] = first;
    board[at(me, END)] = end;
    board[at(me, SIZE)] = size;
    board[at(me, MOVES)] = keysMoved();
    Atomics.store(claims, me, chunks << 16);
    // Release: whoever reads the level number reads the fields above, and the keys, as written.
    Atomics.store(board, at(me, PUBLISHED), level + 1);
    Atomics.notify(board, at(me, PUBLISHED));
    return { first, size, chunks };
  };

  /** Waits until worker `o` has published the level being expanded; false if a worker failed. */
  const awaitPublished = (o: number): boolean => {
    const want = level + 1;
    for (;;) {
      const v = Atomics.load(board, at(o, PUBLISHED));
      if (v >= want) return true;
      if (Atomics.load(board, FAILED) !== 0) return false;
      Atomics.wait(board, at(o, PUBLISHED), v, 20);
    }
  };

  /**
   * Expands this worker's chunks of the level from the front, then takes the other workers'
   * from the back until none is left (`claims`, shared, holds per worker the next chunk from the
   * front in its low 16 bits and the end of those not taken in its high 16 bits). Another
   * worker's chunks are taken only once it has published its part, and only when its keys are
   * still where `sources` says (else it expands all of its own).
   *
   * Successors of its own chunks that this worker owns are looked up and stored at once; it
   * takes its chunks in order, so they are stored in expansion order. Every other successor goes
   * to its owner's outbox, this worker's own too for a chunk taken from another. Returns the
   * outboxes and, per chunk expanded, where its successors are in each: (owner, chunk, then a
   * start per destination, then an end per destination).
   */
  const expand = (sources: SharedArrayBuffer[], generations: number[]) => {
    checking &&= anyUndecided(level + 1);
    for (let d = 0; d < W; d++) {
      waiting[d] = d !== me && Atomics.load(board, at(d, PUBLISHED)) < level + 1 ? 1 : 0;
      out[d] = waiting[d] ? early[d] : boxes[d];
    }
    outLen.fill(0);
    const spans: number[] = [];
    let added = 0;
    for (let k = 0; k < W; k++) {
      const o = (me + k) % W;
      if (o !== me && (!awaitPublished(o) || Atomics.load(board, at(o, MOVES)) !== generations[o])) continue;
      const source = new SharedKeys(o === me ? store.keys : new Int32Array(sources[o]), K);
      const first = board[at(o, FIRST)];
      const end = board[at(o, END)];
      const size = board[at(o, SIZE)];
      for (;;) {
        const v = Atomics.load(claims, o);
        const lo = v & 0xffff;
        const hi = v >>> 16;
        if (lo >= hi) break;
        const chunk = o === me ? lo : hi - 1;
        const next = o === me ? lo + 1 + (hi << 16) : lo + ((hi - 1) << 16);
        if (Atomics.compareExchange(claims, o, v, next | 0) !== v) continue;
        for (let d = 0; d < W; d++) if (waiting[d]) settle(d);
        const from = first + chunk * size;
        spans.push(o, chunk);
        for (let w = 0; w < W; w++) spans.push(outLen[w]);
        added += expandChunk(source, o, chunk, from, Math.min(end, from + size), o === me);
        for (let w = 0; w < W; w++) spans.push(outLen[w]);
        if (o !== me) stolen++;
        if (pause) Atomics.wait(pause, 0, 0, 2);
      }
    }
    // Every other worker has published by now (this one waited for each before taking its
    // chunks), unless one failed.
    for (let d = 0; d < W; d++) if (waiting[d]) settle(d);
    let words = 0;
    for (let w = 0; w < W; w++) words += outLen[w];
    outboxPeak = Math.max(outboxPeak, words);
    // The shared buffers are handed over (no copy); this worker writes to them again only after
    // their owners have absorbed them.
    return { added, outboxes: boxes.map((o) => o.buffer as SharedArrayBuffer), spans: Int32Array.from(spans) };
  };

  return {
    /** Initial states: keep those we own. */
    seed() {
      let added = 0;
      for (const init of system.initialStates()) {
        encodeOrThrow(init);
        const h = StateStore.hashAt(key, 0, K);
        if (owner(h, W) !== me) continue;
        const index = store.internAt(key, 0, h, -1, 0, true);
        if (index < 0) continue;
        added++;
        if (checking) checkNew(index, 0);
      }
      return storeFigures(added);
    },

    /**
     * Stores what this worker was shipped of the level just expanded (`absorbing`, absent before
     * the first level), then, with `expand`, publishes its part of the next level and expands
     * it. Returns how many states the absorb added, this worker's part of the level (first
     * state, chunk size, chunk count), and the expansion (states stored at once, outboxes, spans).
     */
    step(absorbing: { inboxes: SharedArrayBuffer[]; runs: Int32Array } | null, expanding: boolean, sources: SharedArrayBuffer[], generations: number[]) {
      let absorbed = 0;
      let part = { first: 0, size: 0, chunks: 0 };
      try {
        if (absorbing) absorbed = absorb(absorbing.inboxes, absorbing.runs);
      } catch (err) {
        // No worker may wait for a part this one will not publish.
        if (expanding) publish(true);
        Atomics.store(board, FAILED, 1);
        Atomics.notify(board, at(me, PUBLISHED));
        throw err;
      }
      if (expanding) part = publish(false);
      const expansion = expanding ? expand(sources, generations) : { added: 0, outboxes: [], spans: new Int32Array(0) };
      return { ...storeFigures(absorbed), ...part, expansion };
    },

    finish() {
      tally.transitions += gen.transitions;
      gen.transitions = 0;
      return {
        states: store.count,
        transitions: tally.transitions,
        eventFires: Array.from(tally.eventFires),
        // Rule numbers are this worker's own; their keys are the same in every worker.
        ruleFires: [...tally.ruleFires.keys()].filter((r) => tally.ruleFires[r] > 0).map((r) => [ruleKey(system, r), tally.ruleFires[r]] as [string, number]),
        measures: tally.measured,
        found,
        bytes: store.bytes() + batchBytes + recent.byteLength + outboxPeak * 4 + early.reduce((n, e) => n + e.byteLength, 0),
        stolen,
      };
    },

    /** A stored state: its packed key, parent (global id) and the event that reached it. */
    node(index: number) {
      return { key: Array.from(store.keys.subarray(index * K, index * K + K)), parent: store.parent[index], via: store.via[index] };
    },
  };
}


/**
 * Where the chunk `chunk` of owner `o`'s part of a level comes in destination `d`'s absorb order
 * (parallel.ts, absorbOrder): d's own chunks first, then the other owners' in owner order, each
 * in chunk order. Lower is earlier.
 */
function rank(o: number, d: number, chunk: number): number {
  return ((o === d ? 0 : o + 1) << 16) | chunk;
}

/** Owner of a hash: its top bits (the store's slots use the low ones, which must stay spread). */
function owner(h: number, W: number): number {
  return ((h >>> 16) * W) >>> 16;
}

main();
