/**
 * Sharded exploration (checker/bfs.ts `shard`): every shard computes the same prefix, the shards
 * together reach every state, and the shortest counterexample over the shards is a whole run's.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { loadFixture } from './fixtures.ts';

async function statesOf(name: string, args: number[], shard?: { index: number; count: number; splitAt: number }) {
  const { system, properties } = loadFixture(name, ...args);
  const r = await explore(system, properties, { shard });
  const seen = new Set<string>();
  // Every stored state, by its path's last state.
  for (let i = 0; i < r.states; i++) seen.add(r.path(i).states.at(-1)!.join(','));
  return { r, seen };
}

describe('sharded exploration', () => {
  for (const [name, args] of [['grid', [9, 7]], ['bits', [9]]] as [string, number[]][]) {
    it(`${name}(${args.join(', ')}) in 3 shards covers every state, with the same shortest traces`, async () => {
      const whole = await statesOf(name, args);
      const union = new Set<string>();
      const lengths: number[][] = [];
      let shared = -1;
      for (let index = 0; index < 3; index++) {
        const { r, seen } = await statesOf(name, args, { index, count: 3, splitAt: 6 });
        expect(r.shard!.split).toBe(true);
        if (shared < 0) shared = r.shard!.sharedStates;
        expect(r.shard!.sharedStates).toBe(shared);
        expect(r.complete).toBe(true);
        for (const s of seen) union.add(s);
        lengths.push(r.outcomes.map((o) => (o.state >= 0 ? r.path(o.state).events.length : Infinity)));
      }
      expect(union).toEqual(whole.seen);
      const best = whole.r.outcomes.map((_, k) => Math.min(...lengths.map((l) => l[k])));
      expect(best).toEqual(whole.r.outcomes.map((o) => (o.state >= 0 ? whole.r.path(o.state).events.length : Infinity)));
    });
  }

  it('a search that ends before a level is large enough is whole in every shard', async () => {
    const { system, properties } = loadFixture('grid', 3, 3);
    const r = await explore(system, properties, { shard: { index: 2, count: 3 } });
    expect(r.shard!.split).toBe(false);
    expect(r.states).toBe(9);
  });
});
