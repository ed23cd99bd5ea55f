/**
 * Leads-to under weak fairness (checker/liveness.ts) on hand-made systems whose answers are known:
 * a request that a server must serve while another actor spins.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
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
