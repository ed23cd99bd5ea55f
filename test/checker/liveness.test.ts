/**
 * Leads-to under weak fairness (checker/liveness.ts) on hand-made systems whose answers are known:
 * a request that a server must serve while another actor spins.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { findFairLasso, type StateGraph } from '../../checker/liveness.ts';
import type { Property, TransitionSystem } from '../../checker/system.ts';

type View = { s: Uint8Array };
const EVENTS = ['A.request', 'A.serve', 'B.toggle'];

/**
 * State [req, served, x]. A requests once, then serves the request; B toggles x forever. With
 * `intermittent`, A can serve only while x = 1, so B's toggling keeps A enabled only every other
 * state. With `stuck`, A cannot serve at all and B does not exist: after the request nothing moves.
 */
function server(mode: 'steady' | 'intermittent' | 'stuck'): TransitionSystem<View> {
  return {
    name: `server-${mode}`,
    stateBytes: 3,
    maxValues: Uint8Array.of(1, 1, 1),
    eventCount: EVENTS.length,
    eventLabel: (e) => EVENTS[e],
    byteLabel: (i) => `s[${i}]`,
    ruleCount: EVENTS.length,
    ruleLabel: (r) => EVENTS[r],
    view: (s) => ({ s }),
    initialStates: () => [Uint8Array.of(0, 0, 0)],
    step(src, e, dst) {
      dst.set(src);
      if (e === 0 && src[0] === 0) dst[0] = 1;
      else if (e === 1 && mode !== 'stuck' && src[0] === 1 && src[1] === 0 && (mode === 'steady' || src[2] === 1)) dst[1] = 1;
      else if (e === 2 && mode !== 'stuck') dst[2] = src[2] ^ 1;
      else return -1;
      return e;
    },
  };
}

const served = (fair: string[]): Property<View> => ({
  kind: 'leads-to',
  id: 'request-served',
  name: 'every request is served',
  p: (v) => v.s[0] === 1,
  q: (v) => v.s[1] === 1,
  fairness: { actors: fair, actorOf: (e) => fair.indexOf(EVENTS[e].split('.')[0]) },
});

async function check(mode: 'steady' | 'intermittent' | 'stuck', fair = ['A', 'B']) {
  const r = await explore(server(mode), [served(fair)]);
  expect(r.complete).toBe(true);
  return r.outcomes[0];
}

describe('leads-to under weak fairness', () => {
  it('holds where the only cycles without service ignore a server that could always serve (unfair)', async () => {
    // B toggles forever while A could serve in every state: weak fairness rules that run out.
    const o = await check('steady');
    expect(o.state).toBe(-1);
    expect(o.lasso).toBeUndefined();
  });

  it('is violated by the same cycle when the server is not a fair actor', async () => {
    const o = await check('steady', ['B']);
    expect(o.lasso!.events.map((e) => EVENTS[e])).toEqual(['A.request', 'B.toggle', 'B.toggle']);
    expect(o.lasso!.loopStart).toBe(1);
  });

  it('is violated by a fair cycle: the server is enabled only every other state (weak, not strong, fairness)', async () => {
    const o = await check('intermittent');
    const l = o.lasso!;
    expect(l.events.map((e) => EVENTS[e])).toEqual(['A.request', 'B.toggle', 'B.toggle']);
    expect(l.loopStart).toBe(1);
    // The cycle returns to the state it starts from; the obligation is open on all of it.
    expect([...l.states[l.loopStart]]).toEqual([...l.states[l.states.length - 1]]);
    for (const s of l.states.slice(1)) expect(s[1]).toBe(0);
    expect(o.state).toBeGreaterThanOrEqual(0);
  });

  it('is violated by a stop: after the request nothing can move (an empty cycle)', async () => {
    const o = await check('stuck');
    expect(o.lasso!.events.map((e) => EVENTS[e])).toEqual(['A.request']);
    expect(o.lasso!.loopStart).toBe(1);
  });

  it('is left undecided under hash compaction, which keeps no states for the graph', async () => {
    const r = await explore(server('intermittent'), [served(['A', 'B'])], { compact: true });
    expect(r.outcomes[0].undecided).toMatch(/hash compaction/);
    expect(r.outcomes[0].state).toBe(-1);
  });

  it('leaves the other properties and the state count alone', async () => {
    const always: Property<View> = { kind: 'always', id: 'x-small', name: 'x is at most 1', holds: (v) => v.s[2] <= 1 };
    const without = await explore(server('intermittent'), [always]);
    const withIt = await explore(server('intermittent'), [always, served(['A', 'B'])]);
    expect(withIt.states).toBe(without.states);
    expect(withIt.transitions).toBe(without.transitions);
    expect(withIt.outcomes[0].state).toBe(without.outcomes[0].state);
  });
});


/** xorshift: a reproducible stream of random numbers. */
function rng(seed: number) {
  let x = seed || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

describe('findFairLasso agrees with brute force on small random graphs', () => {
  it('finds a fair lasso exactly when some closed walk in the pending region is fair, and every lasso it gives is one', () => {
    const outcomes = [0, 0];
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const N = 2 + r(4);
      const A = 1 + r(2);
      const E = 2 * A; // events 0..E-1, event e belongs to actor e % A (some events of no actor)
      const actorOf = Int8Array.from({ length: E + 1 }, (_, e) => (e === E ? -1 : e % A));
      const edges: [number, number, number][] = [];
      const m = r(N * 2 + 1);
      for (let i = 0; i < m; i++) edges.push([r(N), r(N), r(E + 1)]);
      edges.sort((a, b) => a[0] - b[0]);
      const offsets = new Int32Array(N + 1);
      for (const [s] of edges) offsets[s + 1]++;
      for (let s = 0; s < N; s++) offsets[s + 1] += offsets[s];
      const g: StateGraph = { states: N, offsets, targets: Int32Array.from(edges.map((e) => e[1])), events: Uint16Array.from(edges.map((e) => e[2])) };
      const p = Uint8Array.from({ length: N }, () => (r(3) === 0 ? 1 : 0));
      const q = Uint8Array.from({ length: N }, () => (r(4) === 0 ? 1 : 0));
      // Shortest paths from state 0 (the initial state), by BFS, for the stem.
      const parent = new Int32Array(N).fill(-2);
      const via = new Int32Array(N);
      parent[0] = -1;
      const queue = [0];
      for (let h = 0; h < queue.length; h++) {
        const s = queue[h];
        for (let k = offsets[s]; k < offsets[s + 1]; k++) if (parent[g.targets[k]] === -2) (parent[g.targets[k]] = s, (via[g.targets[k]] = g.events[k]), queue.push(g.targets[k]));
      }
      const reach = (s: number) => parent[s] !== -2;
      const pathTo = (s: number) => {
        const states: number[] = [];
        const events: number[] = [];
        for (let x = s; x >= 0; x = parent[x]) (states.push(x), x !== 0 || parent[x] >= 0 ? events.push(via[x]) : 0);
        states.reverse();
        return { states, events: events.slice(0, states.length - 1).reverse() };
      };
      // Restrict to reachable states (the explorer's graph has only those).
      for (let s = 0; s < N; s++) if (!reach(s)) p[s] = 0;
      const enabled = (s: number) => {
        let mask = 0;
        for (let k = offsets[s]; k < offsets[s + 1]; k++) if (actorOf[g.events[k]] >= 0) mask |= 1 << actorOf[g.events[k]];
        return mask;
      };
      // Brute force. The pending region: reachable from a trigger through states without q.
      const inR = new Uint8Array(N);
      const stack: number[] = [];
      for (let s = 0; s < N; s++) if (p[s] && !q[s]) (inR[s] = 1), stack.push(s);
      while (stack.length) {
        const s = stack.pop()!;
        for (let k = offsets[s]; k < offsets[s + 1]; k++) if (!q[g.targets[k]] && !inR[g.targets[k]]) (inR[g.targets[k]] = 1), stack.push(g.targets[k]);
      }
      const rEdges = edges.map((e, k) => ({ s: e[0], t: e[1], a: actorOf[e[2]], k })).filter((e) => inR[e.s] && inR[e.t]);
      let expected = false;
      // A stop: a pending state without any successor.
      for (let s = 0; s < N; s++) if (inR[s] && offsets[s + 1] === offsets[s]) expected = true;
      // A fair closed walk: a nonempty edge set, strongly connected over its endpoints, fair.
      for (let mask = 1; mask < 1 << rEdges.length && !expected; mask++) {
        const sub = rEdges.filter((_, i) => mask & (1 << i));
        const nodes = [...new Set(sub.flatMap((e) => [e.s, e.t]))];
        const reachFrom = (x: number, back: boolean) => {
          const seen = new Set([x]);
          const st = [x];
          while (st.length) {
            const y = st.pop()!;
            for (const e of sub) {
              const [from, to] = back ? [e.t, e.s] : [e.s, e.t];
              if (from === y && !seen.has(to)) (seen.add(to), st.push(to));
            }
          }
          return seen;
        };
        if (reachFrom(nodes[0], false).size !== nodes.length || reachFrom(nodes[0], true).size !== nodes.length) continue;
        let fair = true;
        for (let a = 0; a < A; a++) if (!sub.some((e) => e.a === a) && nodes.every((x) => enabled(x) & (1 << a))) fair = false;
        if (fair) expected = true;
      }
      const lasso = findFairLasso(g, p, q, actorOf, A, pathTo);
      expect(lasso !== null, `seed ${seed}`).toBe(expected);
      outcomes[expected ? 1 : 0]++;
      if (!lasso) continue;
      // The lasso is a real path of the graph from state 0, the cycle returns, the obligation is open, it is fair.
      expect(lasso.states[0]).toBe(0);
      for (let i = 0; i < lasso.events.length; i++) {
        const s = lasso.states[i];
        let ok = false;
        for (let k = offsets[s]; k < offsets[s + 1]; k++) if (g.targets[k] === lasso.states[i + 1] && g.events[k] === lasso.events[i]) ok = true;
        expect(ok, `seed ${seed} step ${i}`).toBe(true);
      }
      const n = lasso.events.length;
      expect(lasso.states[n]).toBe(lasso.states[lasso.loopStart]);
      const open = lasso.states.findIndex((s, i) => p[s] && !q[s] && lasso.states.slice(i).every((x) => !q[x]));
      expect(open >= 0 && open <= lasso.loopStart, `seed ${seed}`).toBe(true);
      const cyc = lasso.states.slice(lasso.loopStart, n);
      if (lasso.loopStart === n) expect(offsets[lasso.states[n] + 1] - offsets[lasso.states[n]]).toBe(0);
      for (let a = 0; a < A; a++) {
        if (lasso.loopStart === n) continue;
        const moved = lasso.events.slice(lasso.loopStart).some((e) => actorOf[e] === a);
        expect(moved || cyc.some((x) => !(enabled(x) & (1 << a))), `seed ${seed} actor ${a}`).toBe(true);
      }
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(Math.min(...outcomes)).toBeGreaterThan(40);
  });
});
