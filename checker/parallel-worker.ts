/**
 * One worker of the parallel explorer (checker/parallel.ts). It owns the states whose hash falls
 * in its partition and keeps them in its own store, whose keys live in shared memory so that the
 * other workers can expand them too.
 *
 * A level has two phases, each one request. Expand: the level is one list of states (`frontier`,
 * their global ids, in the order parallel.ts gives: children of the same parent together) cut
 * into units; each worker takes the units of its own range from the front and, when they are
 * taken, the other workers' units from the back (so a worker on a faster or less busy core does
 * more), shipping every successor to its owner's outbox (its own included). Absorb: each worker
 * stores what it was shipped in unit order, which does not depend on who expanded which unit:
 * every run gives the same states and indices, and each state's parent is the first in the
 * level that reaches it, as in the sequential explorer. For each state it stores, it notes where
 * its parent is in the frontier: parallel.ts orders the next level by that.
 */
import { parentPort } from 'node:worker_threads';
import { generateRange, generationBuffers, hashAndTouch, RECENT, RECENT_BLOCK, recentSlot, type Generation } from './bfs.ts';
import { makeCodec } from './codec.ts';
import { checkRss, MemoryLimitError, StateStore, type RssLimit } from './store.ts';
import { canonicalizer } from './symmetry.ts';
import { Tally } from './tally.ts';
import { ruleKey, type Measure, type Property, type TransitionSystem } from './system.ts';
import type { Found, ToMain, ToWorker } from './parallel.ts';

/**
 * Words of one shipped successor beyond its key: one, the parent's place in its unit (high 16
 * bits) and the event (low 16 bits). Who sends a unit's successors says which unit (parallel.ts,
 * absorbOrder), so the parent's global id need not travel: a quarter fewer words to write and
 * read for a key of two words.
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
      else if (msg.type === 'expand') post({ type: 'expanded', ...ctx!.expand(msg) });
      else if (msg.type === 'absorb') post({ type: 'absorbed', ...ctx!.absorb(msg.inboxes, msg.runs) });
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


async function init(msg: Extract<ToWorker, { type: 'init' }>) {
  const { loader, worker: me, workers: W, maxBytes, symmetry, expectedStates, claim, slow, maxRss, maxRssLabel } = msg;
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
  /** The level being expanded (its BFS depth). */
  let level = 0;
  /** Where the states of the next level begin in the store. */
  let levelStart = 0;
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
  const undecided = (i: number, depth: number) => found[i].index < 0 && Atomics.load(board, i) >= depth;
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
        for (let v = Atomics.load(board, i); v > depth; v = Atomics.load(board, i)) {
          if (Atomics.compareExchange(board, i, v, depth) === v) break;
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
    hashes: new Int32Array(capacity),
    isNew: new Uint8Array(capacity),
    /** Per successor generated: its hash, and the word shipped with it (parent's place, event). */
    succHashes: new Int32Array(capacity),
    words: new Int32Array(capacity),
  };
  const batchBytes = capacity * (K * 4 + 2 + 4 + 4 + 4 + 1 + 4 + 4);

  /**
   * Outboxes, one per destination worker (this one's own included), over shared memory: the
   * owner reads them in place, and they are used again the next level. Growing one means a new
   * buffer, a copy and fresh pages, so each is sized at once for two successors per state of this
   * worker's share of the expected states: memory is only taken where it is written. When each
   * worker expanded its own states, the widest level of the bench model shipped 0.83 per state
   * to a worker, and half a successor per state made them grow there (0.4 s of copying and faults
   * in a 12 s run); in level order the outboxes hold at most 0.57 per state, all destinations
   * together.
   */
  const outboxWords = Math.max(1 << 14, Math.min(1 << 28, Math.ceil(2 * (expectedStates || 0) * stride)));
  const boxes: Int32Array[] = Array.from({ length: W }, () => new Int32Array(new SharedArrayBuffer(outboxWords * 4)));
  const outLen = new Int32Array(W);
  /** The most words the outboxes held at once (counted in the bytes per state). */
  let outboxPeak = 0;
  let stolen = 0;
  /** Keeps the cache loads of expandUnit from being optimised away. */
  let touched = 0;
  /**
   * Successors this worker shipped or stored lately, by hash (direct-mapped, RECENT entries):
   * per entry the key, the level and the unit it was generated in. A state reached again from a
   * sibling or a cousin a few states on is found here. One found from an earlier level is stored
   * by now; one from this level is skipped only when it was generated in an earlier unit (owners
   * store in unit order) or earlier in the same one, so the first occurrence, the one stored with
   * its parent, is the same whoever expanded which unit. A skipped successor is neither written,
   * shipped, nor looked up in its owner's index.
   */
  const recentStride = K + 2;
  const recent = new Int32Array(RECENT * recentStride);
  /** Tests (ParallelOptions.slowWorker): a pause after each unit expanded and each batch absorbed. */
  const pause = slow ? new Int32Array(new SharedArrayBuffer(4)) : null;

  /**
   * The level being expanded: its states' global ids (index * W + owner), in order, cut into
   * units of `unitSize` states; and every worker's keys, where they were when it began.
   */
  let frontier: Int32Array = new Int32Array(0);
  let unitSize = 1;
  let sourceKeys: Int32Array[] = [];
  /** The keys of the unit being expanded, copied together from the stores that hold them. */
  let unitKeys: Int32Array = new Int32Array(0);
  const unitSource = { keys: unitKeys, keyOffset: (i: number) => i * K };
  /**
   * Per state stored since the level began (index - levelStart): where its parent is in the
   * frontier. Shared: parallel.ts orders the next level by it.
   */
  let parents: Int32Array = new Int32Array(new SharedArrayBuffer(4 * Math.max(1 << 12, Math.min(1 << 26, Math.ceil((expectedStates || 0) / 8)))));

  /** A buffer like `old` (shared or not) of at least `words` words, holding its first `n`. */
  const larger = (old: Int32Array, words: number, n: number): Int32Array => {
    const length = Math.max(words, old.length * 2);
    checkRss(rssLimit, length * 4);
    const grown = old.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
    grown.set(old.subarray(0, n));
    return grown;
  };

  /** Makes room after the first `n` words written for `dest`; returns where to write. */
  const grow = (dest: number, n: number): Int32Array => (boxes[dest] = larger(boxes[dest], n + stride, n));

  /** Expands unit `u` of the level (states [u * unitSize, ...) of the frontier), shipping its successors. */
  const expandUnit = (u: number): void => {
    const { keys, events, ends, progress, words, succHashes: hashes } = batch;
    const first = u * unitSize;
    const count = Math.min(frontier.length, first + unitSize) - first;
    // The unit's keys, from the stores that hold them, side by side.
    for (let k = 0; k < count; k++) {
      const g = frontier[first + k];
      const o = g % W;
      const from = ((g - o) / W) * K;
      const src = sourceKeys[o];
      for (let w = 0; w < K; w++) unitKeys[k * K + w] = src[from + w];
    }
    for (let i = 0; i < count; ) {
      checkRss(rssLimit);
      gen.store = unitSource;
      const next = generateRange(gen, i, count, keys, events, ends, progress, capacity);
      // Per successor, its parent's place in the unit and its event (the word shipped with it).
      let j = 0;
      for (let s = i; s < next; s++) {
        const end = ends[s - i];
        const parent = s << 16;
        for (; j < end; j++) words[j] = parent | events[j];
        // Deadlock: no progress event enabled in a state that is not done.
        if (deadlocks.length > 0 && (progress[s - i] & deadlockMask) !== deadlockMask) deadlockCandidate(frontier[first + s], s, progress[s - i]);
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
          if (diff === 0 && (recent[r + K] < level || recent[r + K + 1] <= u)) continue;
          for (let w = 0; w < K; w++) recent[r + w] = keys[at + w];
          recent[r + K] = level;
          recent[r + K + 1] = u;
          let box = boxes[dest];
          const n = outLen[dest];
          if (n + stride > box.length) box = grow(dest, n);
          for (let w = 0; w < K; w++) box[n + w] = keys[at + w];
          box[n + K] = words[j];
          outLen[dest] = n + stride;
        }
      }
      if (sink === 0x7fffffff) touched++;
      i = next;
    }
  };

  /**
   * Looks up `m` successors in outbox layout (key, then parent's place and event) of the unit
   * that begins at frontier position `first`, and stores the new ones in that order, checking
   * the properties on each. Returns how many.
   */
  const storeNew = (box: Int32Array, m: number, first: number): number => {
    const { hashes, isNew } = batch;
    for (let k = 0; k < m; k++) hashes[k] = StateStore.hashAt(box, k * stride, K);
    store.lookupBatch(box, hashes, m, isNew, stride);
    let stored = 0;
    for (let k = 0; k < m; k++) {
      if (isNew[k] === 0) continue;
      const at = k * stride;
      const w = box[at + K];
      const place = first + (w >>> 16);
      const index = store.append(box, at, frontier[place], w & 0xffff);
      const p = index - levelStart;
      if (p >= parents.length) parents = larger(parents, p + 1, p);
      parents[p] = place;
      stored++;
      if (checking) checkNew(index, level + 1);
    }
    return stored;
  };

  /** A state of the level (global id g, place s in its unit, decoded from unitKeys) with no progress event enabled: deadlocked unless done. */
  const deadlockCandidate = (g: number, s: number, progress: number) => {
    const o = g % W;
    const index = (g - o) / W;
    let view: unknown;
    for (let d = 0; d < deadlocks.length; d++) {
      const { p, i: pi } = deadlocks[d];
      if (p.kind !== 'deadlock' || progress & (1 << d) || !better(found[pi], level, o, index)) continue;
      if (view === undefined) {
        codec.decode(unitKeys, s * K, scratch);
        view = system.view(scratch);
      }
      if (!p.isDone(view)) found[pi] = { level, owner: o, index };
    }
  };

  /** What the main thread needs after the store changed: states added, the count, where the keys are, and each new state's parent's place. */
  const storeFigures = (n: number) => ({ added: n, count: store.count, levelStart, keys: store.keys.buffer as SharedArrayBuffer, parents: parents.buffer as SharedArrayBuffer });

  return {
    /** Initial states: keep those we own (their parent's place: 0). */
    seed() {
      let n = 0;
      for (const init of system.initialStates()) {
        encodeOrThrow(init);
        const h = StateStore.hashAt(key, 0, K);
        if (owner(h, W) !== me) continue;
        const index = store.internAt(key, 0, h, -1, 0, true);
        if (index < 0) continue;
        parents[index] = 0;
        n++;
        if (checking) checkNew(index, 0);
      }
      return storeFigures(n);
    },

    /**
     * Expands the level: takes the units of its own range (`claims`, shared, holds per worker
     * the next unit of its range from the front in its low 16 bits and the end of those not
     * taken in its high 16 bits) from the front, then the other workers' from the back until
     * none is left. Returns the outboxes and, per unit expanded, where its successors are in
     * each: (unit, then a start per destination, then an end per destination).
     */
    expand(msg: Extract<ToWorker, { type: 'expand' }>) {
      frontier = new Int32Array(msg.frontier, 0, msg.states);
      unitSize = msg.unitSize;
      sourceKeys = msg.sources.map((b) => new Int32Array(b));
      if (unitKeys.length < unitSize * K) unitSource.keys = unitKeys = new Int32Array(unitSize * K);
      checking &&= anyUndecided(level + 1);
      levelStart = store.count;
      outLen.fill(0);
      const spans: number[] = [];
      for (let k = 0; k < W; k++) {
        const o = (me + k) % W;
        for (;;) {
          const v = Atomics.load(claims, o);
          const lo = v & 0xffff;
          const hi = v >>> 16;
          if (lo >= hi) break;
          const u = o === me ? lo : hi - 1;
          const next = o === me ? lo + 1 + (hi << 16) : lo + ((hi - 1) << 16);
          if (Atomics.compareExchange(claims, o, v, next | 0) !== v) continue;
          spans.push(u);
          for (let w = 0; w < W; w++) spans.push(outLen[w]);
          expandUnit(u);
          for (let w = 0; w < W; w++) spans.push(outLen[w]);
          if (o !== me) stolen++;
          if (pause) Atomics.wait(pause, 0, 0, 2);
        }
      }
      let words = 0;
      for (let w = 0; w < W; w++) words += outLen[w];
      outboxPeak = Math.max(outboxPeak, words);
      // The shared buffers are handed over (no copy); this worker writes to them again only after
      // their owners have absorbed them.
      return { outboxes: boxes.map((o) => o.buffer as SharedArrayBuffer), spans: Int32Array.from(spans) };
    },

    /**
     * Stores the successors of the level just expanded that this worker was shipped: `runs` are
     * (sender, start, end, unit) quadruples, one per unit, in the order to store them: words
     * [start, end) of the sender's outbox (`inboxes`) hold the successors of that unit. Looked up
     * a batch at a time (StateStore.lookupBatch), the new ones stored in that order. Returns the
     * store's figures with how many were new.
     */
    absorb(inboxes: SharedArrayBuffer[], runs: Int32Array) {
      let n = 0;
      checking &&= anyUndecided(level + 1);
      const inbox = inboxes.map((b) => new Int32Array(b));
      for (let r = 0; r < runs.length; r += 4) {
        const box = inbox[runs[r]];
        const end = runs[r + 2];
        for (let from = runs[r + 1]; from < end; from += capacity * stride) {
          const m = Math.min(capacity, (end - from) / stride);
          n += storeNew(box.subarray(from), m, runs[r + 3] * unitSize);
          if (pause) Atomics.wait(pause, 0, 0, 2);
        }
      }
      level++;
      return storeFigures(n);
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
        bytes: store.bytes() + batchBytes + recent.byteLength + outboxPeak * 4 + parents.byteLength + unitKeys.byteLength,
        stolen,
      };
    },

    /** A stored state: its packed key, parent (global id) and the event that reached it. */
    node(index: number) {
      return { key: Array.from(store.keys.subarray(index * K, index * K + K)), parent: store.parent[index], via: store.via[index] };
    },
  };
}

/** Owner of a hash: its top bits (the store's slots use the low ones, which must stay spread). */
function owner(h: number, W: number): number {
  return ((h >>> 16) * W) >>> 16;
}

main();
