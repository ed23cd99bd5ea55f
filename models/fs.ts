/**
 * The filesystem: one file's in-memory inode (size, extent map) and the block allocator.
 *
 * Each file block is a hole, an unwritten extent (allocated, reads as zeros) or a written extent,
 * mapped to a physical block of persistent memory. The in-memory inode is volatile; the durable
 * copy is what the journal last committed (models/journal.ts).
 */
import {
  ADR,
  EADR,
  HOLE,
  ZERO,
  isWrittenKind,
  type DaxContext,
  type DurableBytes,
  type Layout,
} from './layout.ts';

export function fileSize(c: DaxContext, L: Layout): number {
  return c.volatile[L.vSize];
}

export function extentKind(c: DaxContext, L: Layout, b: number): number {
  return c.volatile[L.vExtKind + b];
}

/** Physical block behind file block b in memory, or -1 for a hole. */
export function physOf(c: DaxContext, L: Layout, b: number): number {
  return c.volatile[L.vExtKind + b] === HOLE ? -1 : c.volatile[L.vExtPhys + b];
}

export function isDaxInode(c: DaxContext, L: Layout): boolean {
  return c.durable[L.dSdax] === 1;
}

/**
 * Does a CPU cache flush (or eviction) of this file's data reach the persistence domain? Only
 * for a DAX file on real persistent memory: without S_DAX the data is in the page cache, and on a
 * virtualized NVDIMM a flush reaches only the host's page cache.
 */
export function cpuFlushPersists(c: DaxContext, L: Layout): boolean {
  const p = c.durable[L.dPlatform];
  return isDaxInode(c, L) && (p === ADR || p === EADR);
}

export function setExtent(c: DaxContext, L: Layout, b: number, kind: number, phys: number): void {
  c.volatile[L.vExtKind + b] = kind;
  c.volatile[L.vExtPhys + b] = kind === HOLE ? 0 : phys;
  if (kind === HOLE) c.volatile[L.vExtLeaf + b] = 0;
}

/**
 * A physical block is free when neither the in-memory nor the committed extent map uses it (a
 * block freed in memory must not be reused before the free is committed, or a crash would bring
 * back an extent pointing at someone else's data), no other file shares it, and the proposal's
 * own state does not hold it (`holdsPhys`, e.g. NOVA's copy-on-write cache).
 */
export function isPhysFree(c: DaxContext, L: Layout, p: number): boolean {
  if (c.durable[L.dOtherRef + p]) return false;
  if (L.hooks.holdsPhys?.(c, L, p)) return false;
  for (let b = 0; b < L.B; b++) {
    if (c.volatile[L.vExtKind + b] !== HOLE && c.volatile[L.vExtPhys + b] === p) return false;
    if (c.durable[L.dExtKind + b] !== HOLE && c.durable[L.dExtPhys + b] === p) return false;
  }
  return true;
}

/** The lowest free physical block, or -1 (ENOSPC). Lowest-first keeps the state space canonical. */
export function allocatePhys(c: DaxContext, L: Layout): number {
  for (let p = 0; p < L.P; p++) if (isPhysFree(c, L, p)) return p;
  return -1;
}

/**
 * Zeroes a physical block durably, as DAX does before it maps a newly allocated block
 * (non-temporal stores and a flush: the zeros are on media before the allocation is visible).
 */
export function zeroPhysDurably(c: DaxContext, L: Layout, p: number): void {
  for (let w = 0; w < L.W; w++) {
    const i = L.word(p, w);
    c.durable[L.dPmem + i] = ZERO;
    c.volatile[L.vCache + i] = 0;
    c.volatile[L.vDirty + i] = 0;
  }
}

/**
 * Copies the current contents of file block b into the free physical block q, durably (the
 * kernel copies with memcpy_flushcache): relocation by defrag or repair, dedupe, copy-on-write.
 */
export function copyBlockDurably(c: DaxContext, L: Layout, b: number, q: number): void {
  for (let w = 0; w < L.W; w++) {
    const i = L.word(q, w);
    c.durable[L.dPmem + i] = visibleWord(c, L, b, w);
    c.volatile[L.vCache + i] = 0;
    c.volatile[L.vDirty + i] = 0;
  }
}

/**
 * What a load of word w of file block b returns now: a newer word the proposal's state holds
 * (`heldWord`, e.g. a dirty page-cache page) first, then the CPU cache, then the media.
 */
export function visibleWord(c: DaxContext, L: Layout, b: number, w: number): number {
  if (L.hooks.heldWord && b < c.volatile[L.vSize]) {
    const held = L.hooks.heldWord(c, L, b, w);
    if (held !== undefined) return held;
  }
  if (b >= c.volatile[L.vSize] || !isWrittenKind(c.volatile[L.vExtKind + b])) return ZERO;
  const i = L.word(c.volatile[L.vExtPhys + b], w);
  return c.volatile[L.vDirty + i] ? c.volatile[L.vCache + i] : c.durable[L.dPmem + i];
}

/** What a load of word w of file block b returns from the durable state alone (after recovery). */
export function durableWord(d: DurableBytes, L: Layout, b: number, w: number): number {
  if (b >= d[L.dSize] || !isWrittenKind(d[L.dExtKind + b])) return ZERO;
  return d[L.dPmem + L.word(d[L.dExtPhys + b], w)];
}

/** Is file block b part of the durable file, allocated and written? */
export function isDurablyWritten(d: DurableBytes, L: Layout, b: number): boolean {
  return b < d[L.dSize] && isWrittenKind(d[L.dExtKind + b]);
}
