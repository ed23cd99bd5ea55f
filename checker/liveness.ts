/**
 * Liveness: "p leads to q" (every state where p holds is followed, then or later, by a state where
 * q holds) under weak fairness of named actors, checked on the explored state graph.
 *
 * The breadth-first explorer keeps only a parent pointer per state. For a system with liveness
 * properties, `stateGraph` runs once more over the stored states and records every edge in
 * compressed-sparse-row arrays (offsets, targets, events: typed arrays, no JS Map or Set, which
 * fail at 2^24 entries), with which actors are enabled in each state.
 *
 * A counterexample to p ~> q is a fair infinite run on which p holds at some point and q never
 * from then on. Such a run ends in the "pending" region: the states reachable from a state with
 * p and not q through states without q. It is either
 *   - a cycle inside that region that is weakly fair: every actor enabled in every state of the
 *     cycle takes a step on it. A strongly connected component of the region (Tarjan's algorithm,
 *     iterative: graphs are big) holds such a cycle exactly when, for each actor, some edge of the
 *     actor lies inside the component or some state of it has the actor disabled (Emerson & Lei);
 *     the cycle is then built through one such edge or state per actor. Or
 *   - a state of the region where nothing at all is enabled: the run stops there, which is fair
 *     (no actor is enabled), and q never comes. Its lasso has an empty cycle.
 * The counterexample is a lasso: a stem (a shortest path to a state where p holds and q does not,
 * then a shortest path within the pending region to the cycle) and the cycle.
 *
 * The checker knows nothing of what the actors are: the property says which actor each event
 * belongs to (or none: an event no fairness applies to, such as a power failure or a cache-line
 * eviction, which may happen but need not).
 */
import type { Codec } from './codec.ts';
import { StateStore } from './store.ts';
import type { Fairness, TransitionSystem } from './system.ts';

export type { Fairness };

/** A lasso: `events[0 .. loopStart)` is the stem, `events[loopStart ..]` repeats forever (empty: the run stops). */
export interface Lasso {
  /** State indices: states[i] --events[i]--> states[i+1]; the last equals states[loopStart]. */
  states: number[];
  events: number[];
  loopStart: number;
}

/** The explored graph: edges in CSR form. */
export interface StateGraph {
  states: number;
  /** Edges of state s: targets[offsets[s] .. offsets[s+1]), with their events. */
  offsets: Int32Array;
  targets: Int32Array;
  events: Uint16Array;
}

/**
 * Records every edge among the stored states: each state's successors again, looked up in an
 * index of the store's keys (open addressing over state numbers, typed arrays only).
 */
export function stateGraph<V>(system: TransitionSystem<V>, codec: Codec, keys: Int32Array, states: number): StateGraph {
  const K = codec.words;
  const E = system.eventCount;
  let slots = 1 << 4;
  while (slots < states * 2) slots *= 2;
  const mask = slots - 1;
  const table = new Int32Array(slots); // state index + 1, 0 empty
  for (let i = 0; i < states; i++) {
    let slot = StateStore.hashAt(keys, i * K, K) & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = i + 1;
  }
  const lookup = (key: Int32Array): number => {
    let slot = StateStore.hashAt(key, 0, K) & mask;
    for (;;) {
      const v = table[slot];
      if (v === 0) return -1;
      const at = (v - 1) * K;
      let same = true;
      for (let w = 0; w < K; w++) {
        if (keys[at + w] !== key[w]) {
          same = false;
          break;
        }
      }
      if (same) return v - 1;
      slot = (slot + 1) & mask;
    }
  };
  const offsets = new Int32Array(states + 1);
  let targets = new Int32Array(Math.max(16, states * 2));
  let events = new Uint16Array(targets.length);
  const src = new Uint8Array(system.stateBytes);
  const dst = new Uint8Array(system.stateBytes);
  const key = new Int32Array(K);
  let m = 0;
  const add = (s: number, e: number, next: Uint8Array) => {
    if (codec.encode(next, key, 0) >= 0) throw new Error(`${system.name}: internal error: a successor does not encode`);
    const t = lookup(key);
    if (t < 0) throw new Error(`${system.name}: internal error: a successor of state ${s} was not explored`);
    if (m === targets.length) {
      const grown = new Int32Array(targets.length * 2);
      grown.set(targets);
      targets = grown;
      const ev = new Uint16Array(targets.length);
      ev.set(events);
      events = ev;
    }
    targets[m] = t;
    events[m] = e;
    m++;
  };
  for (let s = 0; s < states; s++) {
    offsets[s] = m;
    codec.decode(keys, s * K, src);
    for (let e = 0; e < E; e++) if (system.step(src, e, dst) >= 0) add(s, e, dst);
  }
  offsets[states] = m;
  return { states, offsets, targets: targets.subarray(0, m), events: events.subarray(0, m) };
}

/** Which actor (bit index) takes each event, from a property's fairness; -1 for none. */
export function actorMask(fairness: Fairness, eventCount: number): Int8Array {
  if (fairness.actors.length > 32) throw new Error(`at most 32 fair actors (${fairness.actors.length} given)`);
  const out = new Int8Array(eventCount);
  for (let e = 0; e < eventCount; e++) {
    const a = fairness.actorOf(e);
    out[e] = a >= 0 && a < fairness.actors.length ? a : -1;
  }
  return out;
}

/**
 * A fair counterexample to "p leads to q" on graph `g`, or null. `p[s]`, `q[s]`: whether p and q
 * hold in state s; `actorOfEvent` from `actorMask`; `pathTo(s)` a shortest path from an initial
 * state to s (state numbers and events). Deterministic: the fair cycle (or, failing one, the stop)
 * closest to a trigger wins, lowest state number among equals.
 */
export function findFairLasso(g: StateGraph, p: Uint8Array, q: Uint8Array, actorOfEvent: Int8Array, actorCount: number, pathTo: (s: number) => { states: number[]; events: number[] }): Lasso | null {
  const N = g.states;
  const { offsets, targets, events } = g;
  // Which actors have an event enabled in each state.
  const enabled = new Uint32Array(N);
  for (let s = 0; s < N; s++) {
    let mask = 0;
    for (let k = offsets[s]; k < offsets[s + 1]; k++) {
      const a = actorOfEvent[events[k]];
      if (a >= 0) mask |= 1 << a;
    }
    enabled[s] = mask;
  }
  // The pending region: breadth-first from every trigger (p and not q), through states without q.
  const dist = new Int32Array(N).fill(-1);
  const parent = new Int32Array(N).fill(-1);
  const parentEdge = new Int32Array(N).fill(-1);
  const queue = new Int32Array(N);
  let head = 0;
  let tail = 0;
  for (let s = 0; s < N; s++) {
    if (p[s] && !q[s]) {
      dist[s] = 0;
      queue[tail++] = s;
    }
  }
  if (tail === 0) return null;
  while (head < tail) {
    const s = queue[head++];
    for (let k = offsets[s]; k < offsets[s + 1]; k++) {
      const t = targets[k];
      if (q[t] || dist[t] >= 0) continue;
      dist[t] = dist[s] + 1;
      parent[t] = s;
      parentEdge[t] = k;
      queue[tail++] = t;
    }
  }
  const inR = (s: number) => dist[s] >= 0;

  // Strongly connected components of the region (iterative Tarjan).
  const index = new Int32Array(N).fill(-1);
  const low = new Int32Array(N);
  const comp = new Int32Array(N).fill(-1);
  const onStack = new Uint8Array(N);
  const stack = new Int32Array(N);
  let sp = 0;
  const callNode = new Int32Array(N);
  const callEdge = new Int32Array(N);
  let counter = 0;
  let comps = 0;
  for (let root = 0; root < N; root++) {
    if (!inR(root) || index[root] >= 0) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = offsets[root];
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = callNode[depth];
      const k = callEdge[depth];
      if (k < offsets[v + 1]) {
        callEdge[depth] = k + 1;
        const w = targets[k];
        if (!inR(w)) continue;
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          depth++;
          callNode[depth] = w;
          callEdge[depth] = offsets[w];
        } else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
        continue;
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack[--sp];
          onStack[w] = 0;
          comp[w] = comps;
        } while (w !== v);
        comps++;
      }
      depth--;
      if (depth >= 0) {
        const u = callNode[depth];
        if (low[v] < low[u]) low[u] = low[v];
      }
    }
  }

  // Per component: is it a cycle at all, is it weakly fair, and its state closest to a trigger.
  const size = new Int32Array(comps);
  const cyclic = new Uint8Array(comps);
  const stepped = new Uint32Array(comps); // actors with an edge inside
  const disabledSomewhere = new Uint32Array(comps);
  const entry = new Int32Array(comps).fill(-1);
  const full = actorCount >= 32 ? 0xffffffff : (1 << actorCount) - 1;
  for (let s = 0; s < N; s++) {
    const c = comp[s];
    if (c < 0) continue;
    size[c]++;
    disabledSomewhere[c] |= ~enabled[s] & full;
    if (entry[c] < 0 || dist[s] < dist[entry[c]]) entry[c] = s;
    for (let k = offsets[s]; k < offsets[s + 1]; k++) {
      if (comp[targets[k]] !== c) continue;
      cyclic[c] = 1;
      const a = actorOfEvent[events[k]];
      if (a >= 0) stepped[c] |= 1 << a;
    }
  }
  let best = -1;
  let bestTerminal = -1;
  const closer = (a: number, b: number) => b < 0 || dist[a] < dist[b] || (dist[a] === dist[b] && a < b);
  for (let c = 0; c < comps; c++) {
    const e = entry[c];
    if (cyclic[c]) {
      const fair = ((stepped[c] | disabledSomewhere[c]) & full) >>> 0 === full >>> 0;
      if (fair && closer(e, best < 0 ? -1 : entry[best])) best = c;
    } else if (offsets[e + 1] === offsets[e] && closer(e, bestTerminal)) bestTerminal = e;
  }
  // A cycle is preferred to a stop: a livelock says more than a state nothing leaves.
  if (best < 0 && bestTerminal < 0) return null;
  const at = best >= 0 ? entry[best] : bestTerminal;

  // The stem: a shortest path to the trigger, then the region's parents to the entry.
  const back: number[] = [];
  let s = at;
  while (parent[s] >= 0) {
    back.push(parentEdge[s]);
    s = parent[s];
  }
  const toTrigger = pathTo(s);
  const statesOut = [...toTrigger.states];
  const eventsOut = [...toTrigger.events];
  let cur = s;
  for (let i = back.length - 1; i >= 0; i--) {
    const k = back[i];
    eventsOut.push(events[k]);
    cur = targets[k];
    statesOut.push(cur);
  }
  const loopStart = eventsOut.length;
  if (best < 0) return { states: statesOut, events: eventsOut, loopStart };

  // The cycle: from the entry through one edge of each actor that needs a step (or a state where
  // it is disabled), back to the entry, by shortest paths inside the component.
  const c = best;
  const cycleEdges: number[] = [];
  const satisfied = () => {
    let m = 0;
    for (const k of cycleEdges) {
      const a = actorOfEvent[events[k]];
      if (a >= 0) m |= 1 << a;
    }
    return m;
  };
  let disabledSeen = ~enabled[at] & full;
  const seen = new Int32Array(N).fill(-1);
  const viaEdge = new Int32Array(N);
  const viaFrom = new Int32Array(N);
  let stamp = 0;
  /** Edges of a shortest path inside the component from `from` to the first state `goal` accepts. */
  const walk = (from: number, goal: (x: number) => boolean): number[] => {
    stamp++;
    let h = 0;
    let t = 0;
    queue[t++] = from;
    seen[from] = stamp;
    while (h < t) {
      const x = queue[h++];
      if (goal(x)) {
        const path: number[] = [];
        for (let y = x; y !== from; y = viaFrom[y]) path.push(viaEdge[y]);
        return path.reverse();
      }
      for (let k = offsets[x]; k < offsets[x + 1]; k++) {
        const y = targets[k];
        if (comp[y] !== c || seen[y] === stamp) continue;
        seen[y] = stamp;
        viaEdge[y] = k;
        viaFrom[y] = x;
        queue[t++] = y;
      }
    }
    throw new Error('internal error: a component is not strongly connected');
  };
  cur = at;
  for (let a = 0; a < actorCount; a++) {
    const bit = 1 << a;
    if (satisfied() & bit || disabledSeen & bit) continue;
    if (stepped[c] & bit) {
      // Reach the source of an edge of the actor inside the component, and take it.
      const path = walk(cur, (x) => {
        for (let k = offsets[x]; k < offsets[x + 1]; k++) if (actorOfEvent[events[k]] === a && comp[targets[k]] === c) return true;
        return false;
      });
      cycleEdges.push(...path);
      cur = path.length ? targets[path[path.length - 1]] : cur;
      for (const k of path) disabledSeen |= ~enabled[targets[k]] & full;
      if (satisfied() & bit) continue;
      let k = offsets[cur];
      while (!(actorOfEvent[events[k]] === a && comp[targets[k]] === c)) k++;
      cycleEdges.push(k);
      cur = targets[k];
      disabledSeen |= ~enabled[cur] & full;
    } else {
      const path = walk(cur, (x) => (~enabled[x] & full & bit) !== 0);
      cycleEdges.push(...path);
      if (path.length) cur = targets[path[path.length - 1]];
      for (const k of path) disabledSeen |= ~enabled[targets[k]] & full;
    }
  }
  // Back to the entry; at least one step, so the cycle is a cycle.
  if (cycleEdges.length === 0) {
    // Leave the entry by its first edge inside the component, then come back.
    let k = offsets[at];
    while (comp[targets[k]] !== c) k++;
    cycleEdges.push(k);
    cur = targets[k];
  }
  if (cur !== at) cycleEdges.push(...walk(cur, (x) => x === at));
  for (const k of cycleEdges) {
    eventsOut.push(events[k]);
    statesOut.push(targets[k]);
  }
  return { states: statesOut, events: eventsOut, loopStart };
}
