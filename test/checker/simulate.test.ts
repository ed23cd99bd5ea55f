/**
 * Random simulation (checker/simulate.ts): seeded and reproducible walks, counterexamples that are
 * real paths and shrunk to 1-minimal ones, deadlocks, coverage.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { Random, replayTo, shrink, simulate } from '../../checker/simulate.ts';
import { loadFixture } from './fixtures.ts';

/** Steps `path.events` from its first state and compares every state. */
function isRealPath(system: ReturnType<typeof loadFixture>['system'], path: { events: number[]; states: Uint8Array[] }) {
  const dst = new Uint8Array(system.stateBytes);
  return path.events.every((e, k) => system.step(path.states[k], e, dst) >= 0 && dst.every((x, i) => x === path.states[k + 1][i]));
}

describe('random simulation', () => {
  it('draws the same numbers from the same seed, different ones from the next', () => {
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const r = new Random(1);
    for (let i = 0; i < 1000; i++) expect(r.int(5)).toBeLessThan(5);
  });

  it('finds the far corner of a grid, as a real path, shrunk to the shortest (no step can be left out)', async () => {
    const { system, properties } = loadFixture('grid', 5, 4);
    const r = await simulate(system, properties, { seed: 3, runs: 200, depth: 200 });
    const found = r.outcomes[0].found!;
    expect(found).not.toBeNull();
    expect(isRealPath(system, found.path)).toBe(true);
    // On a grid, 1-minimal is shortest: 4 rights and 3 downs.
    expect(found.path.events.length).toBe(7);
    expect(found.walked).toBeGreaterThanOrEqual(7);
    expect(r.outcomes[1].found).not.toBeNull();
    expect(r.states).toBe(20);
  });

  it('re-runs a walk alone from its seed, with the same counterexample', async () => {
    const { system, properties } = loadFixture('grid', 6, 6);
    const all = await simulate(system, properties, { seed: 100, runs: 300, depth: 100 });
    const f = all.outcomes[0].found!;
    const again = await simulate(system, properties, { seed: f.seed, runs: 1, depth: 100 });
    const g = again.outcomes[0].found!;
    expect(g.walk).toBe(0);
    expect(g.path).toEqual(f.path);
    expect(g.walked).toBe(f.walked);
  });

  it('finds a deadlock where no progress event is enabled', async () => {
    const { system, properties } = loadFixture('twoLocks');
    const r = await simulate(system, properties, { seed: 1, runs: 100, depth: 50 });
    const f = r.outcomes[0].found!;
    expect(f.path.events.length).toBe(2);
    const last = f.path.states.at(-1)!;
    expect([last[0], last[1]]).toEqual([1, 1]);
  });

  it('shrinks a long detour to a 1-minimal sequence and skips events that are not enabled', () => {
    const { system, properties } = loadFixture('grid', 4, 4);
    // right, left, right, down, up, ... then to the corner; 'up' at row 0 is not enabled and is skipped.
    const events = [3, 0, 2, 0, 1, 3, 1, 0, 2, 0, 0, 1, 1];
    const replayed = replayTo(system, properties, 0, Uint8Array.of(0, 0), events)!;
    expect(replayed.events[0]).toBe(0);
    const p = shrink(system, properties, 0, [Uint8Array.of(0, 0)], events);
    expect(p.events.length).toBe(6);
    expect(isRealPath(system, p)).toBe(true);
    for (let k = 0; k < p.events.length; k++) {
      expect(replayTo(system, properties, 0, Uint8Array.of(0, 0), p.events.filter((_, i) => i !== k))).toBeNull();
    }
  });

  it('counts the distinct states it saw (never more than exist)', async () => {
    const { system, properties } = loadFixture('bits', 6);
    const r = await simulate(system, properties, { seed: 5, runs: 50, depth: 40 });
    const full = await explore(system, properties);
    expect(r.states).toBeLessThanOrEqual(full.states);
    expect(r.states).toBeGreaterThan(20);
    expect(r.walks).toBe(50);
    expect(r.steps).toBe(50 * 40);
  });
});
