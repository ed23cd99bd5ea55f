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

  it('throws MemoryLimitError before exceeding its budget', () => {
    const s = new StateStore(1, 150_000);
    expect(() => {
      for (let i = 1; i < 1_000_000; i++) s.intern(key(i), 0, 0);
    }).toThrow(MemoryLimitError);
    expect(s.bytes()).toBeLessThanOrEqual(150_000);
  });
});
