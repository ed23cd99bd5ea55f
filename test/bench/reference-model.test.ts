import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { compileMachine } from '../../checker/xstate/compile.ts';
import { referenceModel, type RefContext } from '../../bench/reference-model.ts';

describe('the reference model of shared/bench/MODEL.md', () => {
  it('has exactly the state and transition counts of MODEL.md for T=2, B=3', async () => {
    const m = referenceModel(2, 3);
    const sys = compileMachine<RefContext>(m.machine, { events: m.events, bounds: m.bounds });
    const r = await explore(sys, m.properties);
    expect([r.states, r.transitions, r.depth]).toEqual([205_595, 1_764_867, 19]);
    // "durable data implies a durable allocation" fails in 4 steps: FAULT, STORE, FLUSH, CRASH.
    const path = r.path(r.outcomes[0].state);
    expect(path.events.map((e) => sys.eventLabel(e))).toEqual(['FAULT{t=0,b=0}', 'STORE{t=0,b=0}', 'FLUSH{t=0,b=0}', 'CRASH']);
  });
});
