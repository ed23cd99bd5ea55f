import { and, assign, createMachine, raise, setup, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { compileMachine, UnsupportedMachineError, type CompileOptions } from '../../checker/xstate/compile.ts';
import { mutator } from '../../checker/xstate/mutator.ts';

const ctx = () => ({ n: new Uint8Array(1) });

describe('compileMachine: what it refuses, with a message naming the construct', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['always', () => createMachine({ context: ctx(), initial: 'a', states: { a: { always: 'b' }, b: {} } }), /'always'/],
    ['after', () => createMachine({ context: ctx(), initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } }), /'after'/],
    ['invoke', () => createMachine({ context: ctx(), initial: 'a', states: { a: { invoke: { src: 'x' } } } }), /'invoke'/],
    ['history', () => createMachine({ context: ctx(), initial: 'a', states: { a: {}, h: { type: 'history' } } }), /history/],
    ['onDone', () => createMachine({ context: ctx(), initial: 'a', states: { a: { initial: 'x', states: { x: { type: 'final' } }, onDone: 'b' }, b: {} } }), /onDone/],
    ['wildcard', () => createMachine({ context: ctx(), initial: 'a', states: { a: { on: { '*': 'a' } } } }), /wildcard/],
    ['raise', () => createMachine({ context: ctx(), initial: 'a', states: { a: { on: { go: { actions: raise({ type: 'x' }) } } } } }), /xstate.raise/],
    ['plain function action', () => createMachine({ context: ctx(), initial: 'a', states: { a: { on: { go: { actions: () => {} } } } } }), /plain function/],
    ['context of numbers', () => createMachine({ context: { n: 1 }, initial: 'a', states: { a: {} } }), /not a Uint8Array/],
    ['missing guard', () => createMachine({ context: ctx(), initial: 'a', states: { a: { on: { go: { guard: 'nope', target: 'a' } } } } }), /guard 'nope'/],
  ];
  for (const [name, make, message] of cases) {
    it(`refuses ${name}`, () => {
      expect(() => compileMachine(make() as never, { events: [{ type: 'go' }] })).toThrow(UnsupportedMachineError);
      expect(() => compileMachine(make() as never, { events: [{ type: 'go' }] })).toThrow(message);
    });
  }
});

describe('compileMachine: exploring a machine', () => {
  it('runs plain assign actions as well as mutators', async () => {
    const m = setup({
      types: {} as { context: { n: Uint8Array } },
      guards: { below: ({ context }, p: { max: number }) => context.n[0] < p.max },
      actions: {
        inc: assign({ n: ({ context }) => Uint8Array.of(context.n[0] + 1) }),
        incFast: mutator<{ n: Uint8Array }>((c) => {
          c.n[0]++;
        }),
      },
    }).createMachine({
      context: ctx(),
      initial: 'a',
      states: {
        a: {
          on: {
            slow: { guard: { type: 'below', params: { max: 5 } }, actions: 'inc' },
            fast: { guard: and([{ type: 'below', params: { max: 5 } }]), actions: 'incFast' },
          },
        },
      },
    });
    const sys = compileMachine(m, { events: [{ type: 'slow' }, { type: 'fast' }], bounds: { n: 7 } });
    const r = await explore(sys, []);
    expect([r.states, r.transitions]).toEqual([6, 10]);
  });

  it('explains a step: transitions, actions with params, states before and after', () => {
    const m = setup({
      types: {} as { context: { n: Uint8Array } },
      actions: { add: mutator<{ n: Uint8Array }, { type: string }, { k: number }>((c, _e, p) => void (c.n[0] += p.k)) },
    }).createMachine({ context: ctx(), initial: 'a', states: { a: { on: { go: { target: 'b', actions: { type: 'add', params: { k: 3 } } } } }, b: {} } });
    const sys = compileMachine(m, { events: [{ type: 'go' }] });
    const ex = sys.explain(sys.initialStates()[0], 0)!;
    expect(ex.transitions.map((t) => t.label)).toEqual(['(machine).a --go--> (machine).b']);
    expect(ex.actions.map((a) => [a.type, a.params])).toEqual([['add', { k: 3 }]]);
    expect(ex.actions[0].after[2]).toBe(3);
  });
});

describe('compileMachine: successors, all at once', () => {
  it('gives exactly what step gives for every event, on the feature zoo and on spec configurations', async () => {
    const { zooMachine, zooEvents } = await import('./zoo.ts');
    const { specs } = await import('../../specs/index.ts');
    const { compileSpec } = await import('../../src/spec-loader.ts');
    const systems = [compileMachine(zooMachine(), { events: zooEvents })];
    for (const spec of specs) systems.push(compileSpec(spec, spec.configs.find((c: { default: boolean }) => c.default)!).system);
    for (const sys of systems) {
      const r = await explore(sys, [], { maxStates: 3000 });
      const S = sys.stateBytes;
      const out = new Uint8Array(sys.eventCount * S);
      const events = new Uint16Array(sys.eventCount);
      const rules = new Int32Array(sys.eventCount);
      const dst = new Uint8Array(S);
      for (let i = 0; i < r.states; i++) {
        const src = r.state!(i);
        const n = sys.successors(src, out, events, rules);
        let k = 0;
        for (let e = 0; e < sys.eventCount; e++) {
          const rule = sys.step(src, e, dst);
          if (rule < 0) continue;
          expect([events[k], rules[k]], `${sys.name} state ${i} event ${e}`).toEqual([e, rule]);
          expect([...out.subarray(k * S, (k + 1) * S)]).toEqual([...dst]);
          k++;
        }
        expect(n).toBe(k);
      }
    }
  });

  it('generated as code, gives exactly what the general loop gives, on the feature zoo and on spec configurations', async () => {
    const { zooMachine, zooEvents } = await import('./zoo.ts');
    const { specs } = await import('../../specs/index.ts');
    const pairs: [AnyStateMachine, CompileOptions][] = [[zooMachine(), { events: zooEvents }]];
    for (const spec of specs) {
      const built = spec.build(spec.configs.find((c: { default: boolean }) => c.default)!);
      pairs.push([built.machine, { name: spec.name, events: built.events, bounds: built.bounds }]);
    }
    let generated = 0;
    for (const [machine, options] of pairs) {
      const loop = compileMachine(machine, { ...options, generateAfter: Infinity });
      const code = compileMachine(machine, { ...options, generateAfter: 0 });
      const r = await explore(loop, [], { maxStates: 5000 });
      const S = loop.stateBytes;
      const a = { out: new Uint8Array(loop.eventCount * S), events: new Uint16Array(loop.eventCount), rules: new Int32Array(loop.eventCount) };
      const b = { out: new Uint8Array(loop.eventCount * S), events: new Uint16Array(loop.eventCount), rules: new Int32Array(loop.eventCount) };
      for (let i = 0; i < r.states; i++) {
        const src = r.state!(i);
        const n = loop.successors(src, a.out, a.events, a.rules);
        expect(code.successors(src, b.out, b.events, b.rules), `${loop.name} state ${i}`).toBe(n);
        expect(Array.from(b.events.subarray(0, n))).toEqual(Array.from(a.events.subarray(0, n)));
        // Rule numbers are given in another order; the transitions they stand for are the same.
        expect(Array.from(b.rules.subarray(0, n), (x) => code.ruleKey(x))).toEqual(Array.from(a.rules.subarray(0, n), (x) => loop.ruleKey(x)));
        expect(Array.from(b.out.subarray(0, n * S))).toEqual(Array.from(a.out.subarray(0, n * S)));
      }
      generated += code.generatedConfigurations();
    }
    expect(generated).toBeGreaterThan(50);
  });
});
