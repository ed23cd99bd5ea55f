import { describe, expect, it } from 'vitest';
import { explore, ModelError } from '../../checker/bfs.ts';
import type { Property } from '../../checker/system.ts';
import { bits, counter, grid, outOfBounds, twoLocks } from './fixtures.ts';

type V = { s: Uint8Array };

describe('explore: exhaustive breadth-first search', () => {
  it('counts every state and transition of a counter exactly', async () => {
    const r = await explore(counter(10), []);
    expect(r.complete).toBe(true);
    expect([r.states, r.transitions, r.depth]).toEqual([10, 18, 9]);
  });

  it('counts a grid: w*h states, 2 * interior edges transitions, depth w+h-2', async () => {
    const r = await explore(grid(5, 4), []);
    const edges = 4 * 4 + 5 * 3; // horizontal + vertical adjacencies
    expect([r.states, r.transitions, r.depth]).toEqual([20, 2 * edges, 7]);
  });

  it('explores 2^k states of k independent bits (packing many fields)', async () => {
    const r = await explore(bits(14), []);
    expect([r.states, r.transitions, r.depth]).toEqual([1 << 14, 14 << 14, 14]);
  });

  it('returns a shortest counterexample to an invariant', async () => {
    const never33: Property<V> = { kind: 'always', id: 'never-3-3', name: 'never at (3,3)', holds: (v) => !(v.s[0] === 3 && v.s[1] === 3) };
    const r = await explore(grid(5, 5), [never33]);
    const o = r.outcomes[0];
    expect(o.state).toBeGreaterThanOrEqual(0);
    const path = r.path(o.state);
    expect(path.events).toHaveLength(6);
    expect([...path.states[0]]).toEqual([0, 0]);
    expect([...path.states[6]]).toEqual([3, 3]);
    // each step really is a step of the system
    const sys = grid(5, 5);
    const dst = new Uint8Array(2);
    path.events.forEach((e, i) => {
      expect(sys.step(path.states[i], e, dst)).toBeGreaterThanOrEqual(0);
      expect([...dst]).toEqual([...path.states[i + 1]]);
    });
  });

  it('finds a witness for a sometimes-property, and reports an unreachable goal', async () => {
    const r = await explore(counter(5), [
      { kind: 'sometimes', id: 'reaches-4', name: 'reaches 4', reached: (v) => v.s[0] === 4 },
      { kind: 'sometimes', id: 'reaches-7', name: 'reaches 7', reached: (v) => v.s[0] === 7 },
    ]);
    expect(r.path(r.outcomes[0].state).events).toEqual([0, 0, 0, 0]);
    expect(r.outcomes[1].state).toBe(-1);
    expect(r.complete).toBe(true);
  });

  it('detects a deadlock and its shortest path, and ignores finished states', async () => {
    const deadlock: Property<V> = {
      kind: 'deadlock',
      id: 'no-deadlock',
      name: 'no thread waits forever',
      isProgress: () => true,
      isDone: (v) => v.s[0] === 3 && v.s[1] === 3,
    };
    const r = await explore(twoLocks(), [deadlock]);
    const path = r.path(r.outcomes[0].state);
    expect(path.events.map((e) => twoLocks().eventLabel(e))).toEqual(['t0.lockA', 't1.lockB']);
    // The finished state (both done) has no successor either but is not a deadlock.
    const noDeadlockWhenDoneOnly = await explore(counter(3), [
      { kind: 'deadlock', id: 'x', name: 'x', isProgress: (e) => e === 0, isDone: (v) => v.s[0] === 2 },
    ]);
    expect(noDeadlockWhenDoneOnly.outcomes[0].state).toBe(-1);
  });

  it('counts only progress events against a deadlock', async () => {
    // In the counter, "dec" is the environment; a state whose only move is dec is stuck.
    const r = await explore(counter(3), [
      { kind: 'deadlock', id: 'inc-always-possible', name: 'inc can always happen', isProgress: (e) => e === 0, isDone: () => false },
    ]);
    expect(r.path(r.outcomes[0].state).states.at(-1)![0]).toBe(2);
  });

  it('stops at --max-states and says the search is incomplete', async () => {
    const r = await explore(grid(10, 10), [{ kind: 'always', id: 'never-9-9', name: 'never (9,9)', holds: (v) => !(v.s[0] === 9 && v.s[1] === 9) }], {
      maxStates: 30,
    });
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('max-states');
    expect(r.states).toBe(30);
    expect(r.outcomes[0].state).toBe(-1);
  });

  it('is complete when the state space is exactly --max-states', async () => {
    const r = await explore(counter(10), [], { maxStates: 10 });
    expect(r.complete).toBe(true);
  });

  it('stops cleanly when the memory budget is exhausted', async () => {
    const r = await explore(bits(16), [], { maxBytes: 200_000 });
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('memory');
    expect(r.states).toBeGreaterThan(0);
    expect(r.stopMessage).toMatch(/limit/);
  });

  it('stops when asked to (Ctrl-C) and keeps what it found', async () => {
    let polls = 0;
    const r = await explore(bits(16), [], { shouldStop: () => ++polls > 1, progressEveryMs: 0 });
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('interrupted');
    expect(r.states).toBeGreaterThan(0);
  });

  it('reports a value beyond its declared bound as a model error naming the byte', async () => {
    await expect(explore(outOfBounds(), [])).rejects.toThrow(ModelError);
    await expect(explore(outOfBounds(), [])).rejects.toThrow(/s\[0\] = 4 exceeds its declared bound 3/);
  });

  it('visits states in the same order on every run', async () => {
    const a = await explore(grid(6, 6), [{ kind: 'sometimes', id: 'corner', name: 'corner', reached: (v) => v.s[0] === 5 && v.s[1] === 5 }]);
    const b = await explore(grid(6, 6), [{ kind: 'sometimes', id: 'corner', name: 'corner', reached: (v) => v.s[0] === 5 && v.s[1] === 5 }]);
    expect(a.path(a.outcomes[0].state)).toEqual(b.path(b.outcomes[0].state));
  });

  it('counts how often each event fired', async () => {
    const r = await explore(counter(4), []);
    expect([...r.eventFires]).toEqual([3, 3]);
  });
});
