/**
 * One worker of the parallel explorer (checker/parallel.ts). It owns the states whose hash falls
 * in its partition, keeps them in its own store, expands its part of each BFS level, inserts the
 * successors it owns at once and ships the others to their owners at the end of the level.
 */
import { parentPort } from 'node:worker_threads';
import { makeCodec } from './codec.ts';
import { checkRss, MemoryLimitError, StateStore, type RssLimit } from './store.ts';
import { canonicalizer } from './symmetry.ts';
import { Tally } from './tally.ts';
import { ruleKey, type Measure, type Property, type TransitionSystem } from './system.ts';
import type { Loader, ToMain, ToWorker } from './parallel.ts';

/** Words of one shipped successor beyond its key: parent (global id) and event. */
const EXTRA = 2;

async function main() {
  const port = parentPort!;
  let ctx: Awaited<ReturnType<typeof init>> | undefined;
  port.on('message', async (msg: ToWorker) => {
    try {
      if (msg.type === 'init') {
        ctx = await init(msg.loader, msg.worker, msg.workers, msg.maxBytes, msg.symmetry, msg.expectedStates, msg.maxRss, msg.maxRssLabel);
        post({ type: 'ready' });
      } else if (msg.type === 'seed') post({ type: 'seeded', added: ctx!.seed() });
      else if (msg.type === 'expand') {
        const out = ctx!.expand();
        post({ type: 'expanded', outboxes: out.outboxes, lengths: out.lengths, added: out.stats.added });
      } else if (msg.type === 'absorb') post({ type: 'absorbed', added: ctx!.absorb(msg.inboxes, msg.lengths) });
      else if (msg.type === 'finish') post({ type: 'finished', ...ctx!.finish() });
      else if (msg.type === 'node') post({ type: 'node', ...ctx!.node(msg.index) });
      else if (msg.type === 'exit') process.exit(0);
    } catch (err) {
      const memory = err instanceof MemoryLimitError || (err instanceof RangeError && /allocat|Array buffer/i.test(err.message));
      post({ type: 'error', message: (err as Error).message, memory });
    }
  });
  function post(m: ToMain, transfer: ArrayBuffer[] = []) {
    port.postMessage(m, transfer);
  }
}

async function init(loader: Loader, me: number, W: number, maxBytes: number, symmetry: boolean, expectedStates: number, maxRss?: number, maxRssLabel?: string) {
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
  // Every worker allocates at the same time: each asks as if all did.
  const rssLimit: RssLimit | undefined = maxRss !== undefined ? { bytes: maxRss, share: W, label: maxRssLabel } : undefined;
  const store = new StateStore(K, maxBytes, expectedStates && expectedStates * (K * 4 + 6) * 2.5 < maxBytes ? expectedStates : 0, rssLimit);
  const src = new Uint8Array(system.stateBytes);
  const dst = new Uint8Array(system.stateBytes);
  const key = new Int32Array(K);
  const canon = symmetry && system.symmetry ? canonicalizer(system.symmetry, system.stateBytes) : null;
  let level = 0;
  let frontierStart = 0;
  const tally = new Tally(system, measures);
  // First state (local index) violating / witnessing each property, and the level it was found at.
  const found = properties.map(() => ({ level: -1, index: -1 }));
  const progressEvents = properties.map((p) => {
    const flags = new Uint8Array(E);
    if (p.kind === 'deadlock') for (let e = 0; e < E; e++) flags[e] = p.isProgress(e) ? 1 : 0;
    return flags;
  });

  /** Owner of a hash: its top bits (the store's slots use the low ones, which must stay spread). */
  const owner = (h: number) => ((h >>> 16) * W) >>> 16;
  const encode = (s: Uint8Array, out: Int32Array, off: number) => {
    const bad = codec.encode(s, out, off);
    if (bad >= 0) throw new Error(`${system.name}: ${system.byteLabel(bad)} = ${s[bad]} exceeds its declared bound ${system.maxValues[bad]}`);
  };
  // Properties judged on every new state (always, sometimes), and deadlock properties.
  const judged = properties.flatMap((p, i) => (p.kind === 'deadlock' ? [] : [{ p, i }]));
  const deadlocks = properties.flatMap((p, i) => (p.kind === 'deadlock' ? [{ p, i }] : []));
  /** Property checks on a new state at BFS depth `depth`. */
  const checkNew = (index: number, state: Uint8Array, depth: number) => {
    let view: unknown;
    for (let k = 0; k < judged.length; k++) {
      const { p, i } = judged[k];
      if (found[i].index >= 0) continue;
      view ??= system.view(state);
      const hit = p.kind === 'always' ? !p.holds(view) : p.kind === 'sometimes' && p.reached(view);
      if (hit) found[i] = { level: depth, index };
    }
  };
  const checking = judged.length > 0;
  const scratch = new Uint8Array(system.stateBytes);
  /** Inserts a key this worker owns whose hash is known; returns its new local index, or SEEN (-1). */
  const insert = (keys: Int32Array, off: number, hash: number, parent: number, via: number, depth: number): number => {
    const index = store.internAt(keys, off, hash, parent, via, true);
    if (index >= 0 && checking) {
      codec.decode(store.keys, index * K, scratch);
      checkNew(index, scratch, depth);
    }
    return index;
  };
  const E1 = Math.max(1, E);
  const succKeys = new Int32Array(E1 * K);
  const succEvent = new Uint16Array(E1);
  const fastTally = measures.length === 0;
  const succStates = typeof system.successors === 'function' ? new Uint8Array(E1 * system.stateBytes) : null;
  const succSlots = succStates ? Array.from({ length: E1 }, (_, k) => succStates.subarray(k * system.stateBytes, (k + 1) * system.stateBytes)) : [];
  const succRule = new Int32Array(E1);

  /**
   * The successors of a run of states this worker owns, in the layout of an outbox (key, parent,
   * event), looked up together (expandRange).
   */
  const batchCapacity = Math.max(BATCH, 2 * E1);
  const batch = { capacity: batchCapacity, own: new Int32Array(batchCapacity * (K + EXTRA)), hashes: new Int32Array(batchCapacity), isNew: new Uint8Array(batchCapacity) };
  const batchBytes = batchCapacity * ((K + EXTRA) * 4 + 4 + 1);

  /**
   * Outboxes, one growable Int32Array per destination worker (filled by expandRange), over shared
   * memory: the owner reads them in place, and they are used again the next level. (Fresh
   * buffers every level cost a page fault per 4 KB written: seconds on a large run.)
   */
  // Sized at once for this worker's share of the expected states (memory is only taken where it
  // is written): growing means a new buffer, a copy and fresh pages.
  const outboxWords = Math.max(1 << 14, Math.min(1 << 28, Math.ceil((expectedStates || 0) * (K + EXTRA))));
  // This worker's own "outbox" is the batch.
  let out: Int32Array[] = Array.from({ length: W }, (_, w) => (w === me ? batch.own : new Int32Array(new SharedArrayBuffer(outboxWords * 4))));
  let outLen = new Int32Array(W);
  /** The most words an outbox held (counted in the bytes per state). */
  let outboxPeak = 0;


  return {
    /** Initial states: keep those we own. */
    seed(): number {
      let added = 0;
      for (const init of system.initialStates()) {
        encode(init, key, 0);
        const h = StateStore.hashAt(key, 0, K);
        if (owner(h) !== me) continue;
        if (insert(key, 0, h, -1, 0, 0) >= 0) added++;
      }
      return added;
    },

    /**
     * Expands this worker's part of the current level: successors it owns are inserted at once
     * (in expansion order), the others go to their owners' outboxes.
     */
    expand() {
      outLen.fill(0);
      const frontierEnd = store.count;
      let added = 0;
      const loop: Loop = {
        system, codec, store, K, E, W, me, src, dst, key, succKeys, succEvent, succStates, succSlots, succRule, canon, tally,
        fastTally, deadlocks, progressEvents, found, checking, checkNew, encode, scratch, out, outLen, level, added: 0, rssLimit, batch,
      };
      for (let i = frontierStart; i < frontierEnd; ) i = expandRange(loop, i, frontierEnd);
      out = loop.out;
      added = loop.added;
      frontierStart = frontierEnd;
      level++;
      for (let w = 0; w < W; w++) if (w !== me) outboxPeak = Math.max(outboxPeak, outLen[w]);
      // The shared buffers are handed over (no copy), with how many words of each are filled;
      // this worker writes to them again only after their owners have absorbed them.
      const outboxes = out.map((o, w) => (w === me ? NOTHING : (o.buffer as SharedArrayBuffer)));
      return { outboxes, lengths: Array.from(outLen), stats: { added } };
    },

    /** Inserts shipped successors (of the level just expanded), in the order of their senders. */
    absorb(inboxes: SharedArrayBuffer[], lengths: number[]): number {
      let added = 0;
      const stride = K + EXTRA;
      for (let b = 0; b < inboxes.length; b++) {
        const box = new Int32Array(inboxes[b], 0, lengths[b]);
        const count = box.length / stride;
        // In batches (StateStore.lookupBatch), the new ones stored in the senders' order.
        for (let from = 0; from < count; from += batch.capacity) {
          const m = Math.min(count, from + batch.capacity) - from;
          const hashes = batch.hashes;
          for (let k = 0; k < m; k++) hashes[k] = StateStore.hashAt(box, (from + k) * stride, K);
          const view = box.subarray(from * stride);
          store.lookupBatch(view, hashes, m, batch.isNew, stride);
          for (let k = 0; k < m; k++) {
            if (batch.isNew[k] === 0) continue;
            const at = k * stride;
            const index = store.append(view, at, view[at + K], view[at + K + 1]);
            added++;
            if (checking) {
              codec.decode(store.keys, index * K, scratch);
              checkNew(index, scratch, level);
            }
          }
        }
      }
      return added;
    },

    finish() {
      return {
        states: store.count,
        transitions: tally.transitions,
        eventFires: Array.from(tally.eventFires),
        // Rule numbers are this worker's own; their keys are the same in every worker.
        ruleFires: [...tally.ruleFires.keys()].filter((r) => tally.ruleFires[r] > 0).map((r) => [ruleKey(system, r), tally.ruleFires[r]] as [string, number]),
        measures: tally.measured,
        found,
        bytes: store.bytes() + batchBytes + outboxPeak * 4 * (W - 1),
      };
    },

    /** A stored state: its packed key, parent (global id) and the event that reached it. */
    node(index: number) {
      return { key: Array.from(store.keys.subarray(index * K, index * K + K)), parent: store.parent[index], via: store.via[index] };
    },
  };
}

/** What `expandRange` works with, in one object (its hot loop keeps them in locals). */
interface Loop {
  system: TransitionSystem<unknown>;
  codec: ReturnType<typeof makeCodec>;
  store: StateStore;
  K: number;
  E: number;
  W: number;
  me: number;
  src: Uint8Array;
  dst: Uint8Array;
  key: Int32Array;
  succKeys: Int32Array;
  succEvent: Uint16Array;
  succStates: Uint8Array | null;
  succSlots: Uint8Array[];
  succRule: Int32Array;
  canon: ((s: Uint8Array) => boolean) | null;
  tally: Tally<unknown>;
  fastTally: boolean;
  deadlocks: { p: Property<unknown>; i: number }[];
  progressEvents: Uint8Array[];
  found: { level: number; index: number }[];
  checking: boolean;
  checkNew: (index: number, state: Uint8Array, depth: number) => void;
  encode: (s: Uint8Array, out: Int32Array, off: number) => void;
  scratch: Uint8Array;
  /** Outboxes per worker (grown here) and how many words of each are filled. */
  out: Int32Array[];
  outLen: Int32Array;
  /** The whole process's memory limit, checked every 1024 states and before an outbox grows. */
  rssLimit: RssLimit | undefined;
  level: number;
  added: number;
  batch: { capacity: number; own: Int32Array; hashes: Int32Array; isNew: Uint8Array };
}

/**
 * Expands this worker's states from `from` on, up to `to` or as many as one batch of successors
 * holds, and returns where it stopped. Each successor is hashed: those this worker owns go into
 * the batch, looked up together once the states are expanded (StateStore.lookupBatch) and the
 * new ones stored in expansion order; the others go, in order, into their owners' outboxes.
 */
function expandRange(c: Loop, from: number, to: number): number {
  const { system, codec, store, K, E, W, me, src, dst, succKeys, succEvent, succStates, succSlots, succRule, canon, tally, fastTally, deadlocks, progressEvents, checking, scratch, outLen, rssLimit, batch } = c;
  const out = c.out;
  const eventFires = tally.eventFires;
  const stride = K + EXTRA;
  const depth = c.level + 1;
  const { own, hashes, isNew } = batch;
  let ruleFires = tally.ruleFires;
  let transitions = 0;
  let added = 0;
  outLen[me] = 0;
  let i = from;
  for (; i < to && outLen[me] + E * stride <= own.length; i++) {
    if ((i & 1023) === 0) checkRss(rssLimit);
    codec.decode(store.keys, i * K, src);
    const gid = i * W + me;
    let progress = 0;
    const n = succStates !== null ? system.successors!(src, succStates, succEvent, succRule) : E;
    for (let k = 0; k < n; k++) {
      let e: number;
      let rule: number;
      let s: Uint8Array;
      if (succStates !== null) {
        e = succEvent[k];
        rule = succRule[k];
        s = succSlots[k];
      } else {
        e = k;
        rule = system.step(src, e, dst);
        if (rule < 0) continue;
        s = dst;
      }
      if (fastTally && rule < ruleFires.length) {
        transitions++;
        eventFires[e]++;
        ruleFires[rule]++;
      } else {
        tally.count(src, e, rule, s);
        ruleFires = tally.ruleFires;
      }
      if (canon !== null) canon(s);
      for (let d = 0; d < deadlocks.length; d++) if (progressEvents[deadlocks[d].i][e]) progress |= 1 << d;
      if (codec.encode(s, succKeys, 0) >= 0) c.encode(s, c.key, 0);
      const h = StateStore.hashAt(succKeys, 0, K);
      // Every successor goes to its owner's outbox, this worker's own too (the batch): one path,
      // no branch on a coin toss.
      const owner = ((h >>> 16) * W) >>> 16;
      {
        let at = outLen[owner];
        let o = out[owner];
        if (at + stride > o.length) {
          const length = Math.max(at + stride, o.length * 2);
          checkRss(rssLimit, length * 4);
          const grown = new Int32Array(new SharedArrayBuffer(length * 4));
          grown.set(o.subarray(0, at));
          out[owner] = o = grown;
        }
        for (let w = 0; w < K; w++) o[at++] = succKeys[w];
        o[at++] = gid;
        o[at++] = e;
        outLen[owner] = at;
      }
    }
    // Deadlock: no progress event enabled in a state that is not done.
    for (let d = 0; d < deadlocks.length; d++) {
      const { p, i: pi } = deadlocks[d];
      if (p.kind !== 'deadlock' || c.found[pi].index >= 0 || progress & (1 << d)) continue;
      if (!p.isDone(system.view(src))) c.found[pi] = { level: c.level, index: i };
    }
  }
  const m = outLen[me] / stride;
  for (let j = 0; j < m; j++) hashes[j] = StateStore.hashAt(own, j * stride, K);
  store.lookupBatch(own, hashes, m, isNew, stride);
  for (let j = 0; j < m; j++) {
    if (isNew[j] === 0) continue;
    const at = j * stride;
    const index = store.append(own, at, own[at + K], own[at + K + 1]);
    added++;
    if (checking) {
      codec.decode(store.keys, index * K, scratch);
      c.checkNew(index, scratch, depth);
    }
  }
  tally.transitions += transitions;
  c.added += added;
  return i;
}

/** An empty outbox: what a worker ships to itself. */
const NOTHING = new SharedArrayBuffer(4);

/** Successors per batch of expandRange and absorb. */
const BATCH = 1 << 16;

main();
