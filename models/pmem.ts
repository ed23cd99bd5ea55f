/**
 * Persistent memory behind the CPU cache.
 *
 * Every modelled word has a durable value (on the media) and, while dirty, a newer value in a
 * cache line. A store dirties the line; `clwb`/`clflushopt` followed by `sfence` writes it back;
 * the hardware may evict a dirty line at any moment; at a power failure each dirty word may or
 * may not have reached the media (models/crash.ts).
 *
 * On a file without S_DAX the same words stand for the page cache: a store dirties a page-cache
 * page, a CPU cache flush achieves nothing, and only writeback (fsync, msync, the flusher thread)
 * makes the data durable.
 */
import type { DaxContext, Layout } from './layout.ts';

export function storeWord(c: DaxContext, L: Layout, p: number, w: number, value: number): void {
  const i = L.word(p, w);
  c.volatile[L.vCache + i] = value;
  c.volatile[L.vDirty + i] = 1;
}

export function isWordDirty(c: DaxContext, L: Layout, p: number, w: number): boolean {
  return c.volatile[L.vDirty + L.word(p, w)] === 1;
}

/** Writes back the dirty words of physical block p; returns how many were dirty. */
export function writeBackPhys(c: DaxContext, L: Layout, p: number): number {
  let n = 0;
  for (let w = 0; w < L.W; w++) {
    const i = L.word(p, w);
    if (c.volatile[L.vDirty + i]) {
      c.durable[L.dPmem + i] = c.volatile[L.vCache + i];
      c.volatile[L.vDirty + i] = 0;
      c.volatile[L.vCache + i] = 0;
      n++;
    }
  }
  return n;
}

export function isPhysDirty(c: DaxContext, L: Layout, p: number): boolean {
  for (let w = 0; w < L.W; w++) if (c.volatile[L.vDirty + L.word(p, w)]) return true;
  return false;
}

/** Bit (p*W + w) set for every dirty word. */
export function dirtyMask(c: DaxContext, L: Layout): number {
  let mask = 0;
  for (let i = 0; i < L.P * L.W; i++) if (c.volatile[L.vDirty + i]) mask |= 1 << i;
  return mask;
}
