import { describe, expect, it } from 'vitest';
import type { CompiledMachine } from '../../checker/xstate/compile.ts';
import { specs } from '../../specs/index.ts';
import { checkRandomStates, checkSequences } from './agreement.ts';
import { zooEvents, zooMachine } from './zoo.ts';

const zooBounds = { log: 255, n: 3 };

describe('the compiled step function agrees with XState transition()', () => {
  it('on the feature zoo, for random event sequences', () => {
    const r = checkSequences(zooMachine(), zooEvents, { runs: 3000, maxLength: 80, bounds: zooBounds });
    expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
  });

  it('on the feature zoo, from random (even unreachable) states under every event', () => {
    const r = checkRandomStates(zooMachine(), zooEvents, { runs: 1500, bounds: zooBounds });
    expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
  });

  for (const spec of specs) {
    for (const config of spec.configs) {
      it(`on ${spec.name}/${config.name}`, () => {
        const b = spec.build(config);
        const r = checkSequences(b.machine, b.events, { runs: 200, maxLength: 40, bounds: b.bounds });
        expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
      });
    }
    it(`on ${spec.name}, from random states`, () => {
      const b = spec.build(spec.configs[0]);
      const r = checkRandomStates(b.machine, b.events, { runs: 150, bounds: b.bounds });
      expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
    });
  }

  it('catches a compiler that runs actions in the wrong order (the test can fail)', () => {
    const reverse = (sys: CompiledMachine) => {
      const s = sys as unknown as { buildMicro: (...a: unknown[]) => { runs: unknown[] } };
      const original = s.buildMicro.bind(sys);
      s.buildMicro = (...a: unknown[]) => {
        const micro = original(...a);
        return { ...micro, runs: [...micro.runs].reverse() };
      };
    };
    const r = checkSequences(zooMachine(), zooEvents, { runs: 300, maxLength: 30, bounds: zooBounds, patch: reverse, seed: 1 });
    expect(r.failed).toBe(true);
  });

  it('catches a compiler that ignores guards (the test can fail)', () => {
    const noGuards = (sys: CompiledMachine) => {
      for (const t of sys.transitions) t.guard = null;
    };
    const r = checkSequences(zooMachine(), zooEvents, { runs: 300, maxLength: 30, bounds: zooBounds, patch: noGuards, seed: 1 });
    expect(r.failed).toBe(true);
  });
});
