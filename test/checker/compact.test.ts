/**
 * Hash compaction (checker/store.ts `CompactStore`, `explore`'s `compact`): the same states,
 * verdicts and shortest traces as the full store on systems far below the collision bound, in a
 * fraction of the memory per state, with the probability bound reported.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { CompactStore } from '../../checker/store.ts';
import { loadFixture } from './fixtures.ts';

describe('hash compaction', () => {
  for (const [name, args] of [['grid', [40, 30]], ['bits', [14]], ['twoLocks', []]] as [string, number[]][]) {
    it(`${name}: the same counts, verdicts and real shortest paths as the full store`, async () => {
      const { system, properties } = loadFixture(name, ...args);
      const full = await explore(system, properties);
      const compact = await explore(system, properties, { compact: true });
      expect([compact.states, compact.transitions, compact.depth]).toEqual([full.states, full.transitions, full.depth]);
      expect(compact.omissionProbability).toBeGreaterThan(0);
      expect(compact.omissionProbability).toBeLessThan(1e-9);
      expect(full.omissionProbability).toBeUndefined();
      compact.outcomes.forEach((o, i) => {
        expect(o.state >= 0).toBe(full.outcomes[i].state >= 0);
        if (o.state < 0) return;
        const p = compact.path(o.state);
        expect(p).toEqual(full.path(full.outcomes[i].state));
      });
    });
  }

  it('costs 8 bytes of index and 6 of parent and event per state, whatever the key size', () => {
    const K = 9;
    const store = new CompactStore(K, 1 << 30);
    const key = new Int32Array(K);
    for (let i = 0; i < 100_000; i++) {
      key[0] = i;
      key[K - 1] = i * 7 + 1;
      store.intern(key, i - 1, 0);
      if ((i & 1023) === 1023) store.release(store.count);
    }
    expect(store.count).toBe(100_000);
    key[0] = 5;
    key[K - 1] = 36;
    expect(store.intern(key, 0, 0)).toBe(-1);
    expect(store.bytes() / store.count).toBeLessThan(30);
    expect(store.omissionProbability()).toBeCloseTo((100_000 * 99_999) / 2 / 2 ** 63, 20);
  });
});
