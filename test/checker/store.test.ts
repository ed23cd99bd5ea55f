import { describe, expect, it } from 'vitest';
import { MemoryLimitError, REFUSED, SEEN, StateStore } from '../../checker/store.ts';

const key = (...w: number[]) => Int32Array.from(w);

describe('StateStore', () => {
  it('stores each key once, in discovery order, across growth', () => {
    const s = new StateStore(2, 1 << 30, 4);
    for (let i = 0; i < 50_000; i++) expect(s.intern(key(i * 7919, 1 << 20), i - 1, i % 3)).toBe(i);
    for (let i = 0; i < 50_000; i += 97) expect(s.intern(key(i * 7919, 1 << 20), 0, 0)).toBe(SEEN);
    expect(s.count).toBe(50_000);
    expect(s.parent[1234]).toBe(1233);
    expect(s.via[1234]).toBe(1234 % 3);
    expect([s.keys[2 * 1234], s.keys[2 * 1234 + 1]]).toEqual([1234 * 7919, 1 << 20]);
  });

  it('refuses a new key when insertion is not allowed, but still finds old ones', () => {
    const s = new StateStore(1, 1 << 20);
    s.intern(key(5), -1, 0);
    expect(s.intern(key(6), 0, 0, false)).toBe(REFUSED);
    expect(s.intern(key(5), 0, 0, false)).toBe(SEEN);
  });

  it('looks up a batch as one by one in batch order would: the first of equal keys is new, the table grows ahead', () => {
    // Two stores fed the same key stream, one key at a time and in batches of 1,000 with repeats
    // inside a batch and across batches: the same states, in the same order, with the same parents.
    const one = new StateStore(2, 1 << 30, 4);
    const batched = new StateStore(2, 1 << 30, 4);
    const m = 1000;
    const keys = new Int32Array(m * 2);
    const hashes = new Int32Array(m);
    const isNew = new Uint8Array(m);
    let x = 7;
    for (let round = 0; round < 60; round++) {
      for (let j = 0; j < m; j++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        keys[2 * j] = (x >>> 8) % 40_000;
        keys[2 * j + 1] = 1 << 20;
        hashes[j] = StateStore.hashAt(keys, 2 * j, 2);
      }
      const expected: number[] = [];
      for (let j = 0; j < m; j++) expected.push(one.intern(keys.subarray(2 * j, 2 * j + 2), round, j));
      batched.lookupBatch(keys, hashes, m, isNew);
      const got: number[] = [];
      for (let j = 0; j < m; j++) got.push(isNew[j] ? batched.append(keys, 2 * j, round, j) : SEEN);
      expect(got).toEqual(expected);
    }
    expect(batched.count).toBe(one.count);
    expect(batched.count).toBeGreaterThan(30_000);
    expect(Array.from(batched.keys.subarray(0, 2 * batched.count))).toEqual(Array.from(one.keys.subarray(0, 2 * one.count)));
    expect(Array.from(batched.parent.subarray(0, batched.count))).toEqual(Array.from(one.parent.subarray(0, one.count)));
    expect(Array.from(batched.via.subarray(0, batched.count))).toEqual(Array.from(one.via.subarray(0, one.count)));
    // Every key is found again afterwards.
    for (let i = 0; i < batched.count; i += 101) expect(batched.intern(batched.keys.slice(2 * i, 2 * i + 2), 0, 0)).toBe(SEEN);
  });

  it('throws MemoryLimitError before exceeding its budget', () => {
    const s = new StateStore(1, 150_000);
    expect(() => {
      for (let i = 1; i < 1_000_000; i++) s.intern(key(i), 0, 0);
    }).toThrow(MemoryLimitError);
    expect(s.bytes()).toBeLessThanOrEqual(150_000);
  });
});
