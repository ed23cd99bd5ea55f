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
        ctx = await init(msg.loader, msg.worker, msg.workers, msg.maxBytes, msg.symmetry, msg.maxRss, msg.maxRssLabel);
        post({ type: 'ready' });
      } else if (msg.type === 'seed') post({ type: 'seeded', added: ctx!.seed() });
      else if (msg.type === 'expand') {
        const out = ctx!.expand();
        post({ type: 'expanded', outboxes: out.outboxes, added: out.stats.added }, out.outboxes);
      } else if (msg.type === 'absorb') post({ type: 'absorbed', added: ctx!.absorb(msg.inboxes) });
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

async function init(loader: Loader, me: number, W: number, maxBytes: number, symmetry: boolean, maxRss?: number, maxRssLabel?: string) {
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
  const store = new StateStore(K, maxBytes, undefined, rssLimit);
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
  /** Property checks on a new state at BFS depth `depth`. */
  const checkNew = (index: number, state: Uint8Array, depth: number) => {
    let view: unknown;
    properties.forEach((p, i) => {
      if (found[i].index >= 0 || p.kind === 'deadlock') return;
      view ??= system.view(state);
      const hit = p.kind === 'always' ? !p.holds(view) : p.reached(view);
      if (hit) found[i] = { level: depth, index };
    });
  };
  const scratch = new Uint8Array(system.stateBytes);
  /** Inserts a key this worker owns; returns its new local index, or SEEN (-1). */
  const insert = (keys: Int32Array, off: number, parent: number, via: number, depth: number): number => {
    const index = store.internAt(keys, off, StateStore.hashAt(keys, off, K), parent, via, true);
    if (index >= 0) {
      codec.decode(store.keys, index * K, scratch);
      checkNew(index, scratch, depth);
    }
    return index;
  };

  /** Outboxes, one growable Int32Array per destination worker. */
  let out: Int32Array[] = [];
  let outLen: number[] = [];
  const push = (to: number, keys: Int32Array, parent: number, via: number) => {
    const need = outLen[to] + K + EXTRA;
    if (need > out[to].length) {
      const length = Math.max(need, out[to].length * 2);
      checkRss(rssLimit, length * 4);
      const grown = new Int32Array(length);
      grown.set(out[to].subarray(0, outLen[to]));
      out[to] = grown;
    }
    const o = out[to];
    let at = outLen[to];
    for (let w = 0; w < K; w++) o[at++] = keys[w];
    o[at++] = parent;
    o[at++] = via;
    outLen[to] = at;
  };

  return {
    /** Initial states: keep those we own. */
    seed(): number {
      let added = 0;
      for (const init of system.initialStates()) {
        encode(init, key, 0);
        if (owner(StateStore.hashAt(key, 0, K)) !== me) continue;
        if (insert(key, 0, -1, 0, 0) >= 0) added++;
      }
      return added;
    },

    /**
     * Expands this worker's part of the current level: successors it owns are inserted at once
     * (in expansion order), the others go to their owners' outboxes.
     */
    expand() {
      out = Array.from({ length: W }, () => new Int32Array(1024));
      outLen = new Array(W).fill(0);
      const frontierEnd = store.count;
      let added = 0;
      for (let i = frontierStart; i < frontierEnd; i++) {
        if ((i & 1023) === 0) checkRss(rssLimit);
        codec.decode(store.keys, i * K, src);
        const gid = i * W + me;
        let progress = 0;
        for (let e = 0; e < E; e++) {
          const rule = system.step(src, e, dst);
          if (rule < 0) continue;
          tally.count(src, e, rule, dst);
          if (canon) canon(dst);
          for (let d = 0; d < properties.length; d++) if (progressEvents[d][e]) progress |= 1 << d;
          encode(dst, key, 0);
          const to = owner(StateStore.hashAt(key, 0, K));
          if (to === me) {
            if (insert(key, 0, gid, e, level + 1) >= 0) added++;
          } else push(to, key, gid, e);
        }
        // Deadlock: no progress event enabled in a state that is not done.
        properties.forEach((p, d) => {
          if (p.kind !== 'deadlock' || found[d].index >= 0 || progress & (1 << d)) return;
          if (!p.isDone(system.view(src))) found[d] = { level, index: i };
        });
      }
      frontierStart = frontierEnd;
      level++;
      const outboxes = out.map((o, v) => o.slice(0, outLen[v]).buffer);
      return { outboxes, stats: { added } };
    },

    /** Inserts shipped successors (of the level just expanded), in the order of their senders. */
    absorb(inboxes: ArrayBuffer[]): number {
      let added = 0;
      for (const buf of inboxes) {
        const box = new Int32Array(buf);
        for (let at = 0; at < box.length; at += K + EXTRA) {
          if (insert(box, at, box[at + K], box[at + K + 1], level) >= 0) added++;
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
        bytes: store.bytes(),
      };
    },

    /** A stored state: its packed key, parent (global id) and the event that reached it. */
    node(index: number) {
      return { key: Array.from(store.keys.subarray(index * K, index * K + K)), parent: store.parent[index], via: store.via[index] };
    },
  };
}

main();
