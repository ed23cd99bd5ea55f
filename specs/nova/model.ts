/**
 * NOVA's MAP_SYNC semantics (seed 003, Dave Chinner): "it COWs new pages in pmem and attaches them
 * a special per-inode cache on clean->dirty transition. Then on data sync, background writeback or
 * crash recovery, it migrates them from the cache into the file map proper via atomic metadata
 * pointer swaps."
 *
 * How the state holds it:
 *  - the shared model's committed extents: the file map proper; NOVA's own field `cow[b]` (declared
 *    below): the per-inode persistent copy-on-write cache entry of block b (0 none, else pmem
 *    block + 1);
 *  - the shared model's in-memory extents: NOVA's in-memory index of the inode, which points at the newest copy of a
 *    block: the cache's copy where there is one, else the file map. A block has a copy in memory
 *    exactly when the two differ (`hasCopy`); in the correct design the copy's cache entry is
 *    durable from the fault on, so the difference is not a pending journal transaction: NOVA has
 *    none. Every NOVA metadata operation (here ftruncate) is in the inode's log, durable, before the
 *    call returns.
 *
 * A write fault on a page that is not writable (clean) allocates a new pmem block, copies the
 * current contents into it durably (memcpy_flushcache; zeros for a hole), appends the cache entry
 * durably, and maps the copy writable; other mappings of the block lose their entries so that no
 * one keeps reading the old block. Stores then go to the copy. Writeback of a block (background,
 * or for fsync) write-protects its entries, writes back its dirty cache lines, and in one atomic
 * step points the file map at the copy and drops the cache entry: the old block is free. Recovery
 * after a crash migrates every durable cache entry the same way.
 *
 * Buggy variants (`NovaDesign`):
 *  - `entry: 'at-writeback'`: the fault keeps the cache entry in memory only; it becomes durable
 *    at writeback, together with the swap. A crash before writeback loses the copy.
 *  - `swap: 'two-step'`: writeback retires the durable cache entry in one step and points the file
 *    map at the copy in a second: a crash between them loses the copy.
 *  - `copy: 'cached'`: the fault copies with ordinary stores, so the copy may still sit in CPU
 *    caches while its cache entry is durable: recovery can migrate a block whose media still
 *    holds its old contents.
 */
import { allocatePhys, copyBlockDurably, fileSize, setExtent, visibleWord } from '../../models/fs.ts';
import { pte, ptePhys, setPte, unmapMappingRange, vma } from '../../models/faults.ts';
import { fields } from '../../models/fields.ts';
import {
  HOLE,
  Layout,
  OK,
  PTE_RO,
  PTE_RW,
  SIGBUS,
  VMA_NONE,
  WRITTEN,
  isWrittenKind,
  type DaxContext,
  type Dimensions,
  type KernelHooks,
} from '../../models/layout.ts';
import { mountAfterCrash } from '../../models/crash.ts';
import { storeWord, writeBackPhys } from '../../models/pmem.ts';
import { promiseFile, sysFtruncate } from '../../models/syscalls.ts';

/** NOVA's own state: the per-inode persistent copy-on-write cache, one entry per file block. */
export const novaState = (d: Dimensions) =>
  fields({
    cow: { part: 'durable', shape: [d.blocks], max: d.phys, doc: "the inode log's copy-on-write cache entry of block b: 0 none, else the copy's pmem block + 1" },
  });

export type NovaLayout = Layout<ReturnType<typeof novaState>>;

/**
 * Where NOVA meets the shared model: a block held by a cache entry is never free, and a cache
 * entry written to the inode log is a metadata item (for the fault cost).
 */
export function novaHooks(L: NovaLayout): KernelHooks {
  const s = L.view();
  const t = L.view();
  return {
    holdsPhys: (c, _L, p) => {
      s.at(c);
      for (let b = 0; b < L.B; b++) if (s.cow(b) === p + 1) return true;
      return false;
    },
    durableItems: (before, after) => {
      s.at(before);
      t.at(after);
      let n = 0;
      for (let b = 0; b < L.B; b++) if (s.cow(b) !== t.cow(b)) n++;
      return n;
    },
  };
}

/** A layout with NOVA's state and hooks, for dimensions (buildDaxSpec makes its own the same way). */
export function novaLayout(dims: Dimensions): NovaLayout {
  const hooks: KernelHooks = {};
  const L = new Layout(dims, { fields: novaState(dims), hooks, owner: 'specs/nova' });
  Object.assign(hooks, novaHooks(L));
  return L;
}

export interface NovaDesign {
  /** When the copy's cache entry becomes durable: in the fault (NOVA), or only at writeback. */
  entry: 'at-fault' | 'at-writeback';
  /** How writeback migrates a copy: one atomic pointer swap (NOVA), or two steps. */
  swap: 'atomic' | 'two-step';
  /** How the fault copies the block: memcpy_flushcache (NOVA), or ordinary cached stores. */
  copy: 'flushed' | 'cached';
}

export const NOVA: NovaDesign = { entry: 'at-fault', swap: 'atomic', copy: 'flushed' };

/** Does block b have a copy in NOVA's in-memory index that the file map does not point at? */
export function hasCopy(c: DaxContext, L: NovaLayout, b: number): boolean {
  const s = L.at(c);
  return s.extent(b) !== s.committedExtent(b) || s.phys(b) !== s.committedPhys(b);
}

/** The durable cache entry of block b: the pmem block of its copy, or -1. */
export function cowEntry(c: DaxContext, L: NovaLayout, b: number): number {
  return L.at(c).cow(b) - 1;
}

/** What a NOVA write fault did, for traces and tests. */
export interface NovaFaultOutcome {
  errno: number;
  /** The copy the mapping now writes to, -1 on SIGBUS. */
  copy: number;
  /** True when the fault made a new copy; false when it mapped an existing one. */
  copied: boolean;
}

/**
 * The write fault on a clean page of block b through mapping m (clean → dirty): make a copy in
 * the per-inode cache unless there is one, and map it writable.
 */
export function novaWriteFault(c: DaxContext, L: NovaLayout, d: NovaDesign, t: number, m: number, b: number): NovaFaultOutcome {
  if (b >= fileSize(c, L) || vma(c, L, m) === VMA_NONE) {
    L.at(c).errno.set(t, 'SIGBUS');
    return { errno: SIGBUS, copy: -1, copied: false };
  }
  if (hasCopy(c, L, b)) {
    // Another mapping already made the copy (or a writeback is half done): map it.
    const q = L.at(c).phys(b);
    setPte(c, L, m, b, PTE_RW, q);
    L.at(c).errno.set(t, '0');
    return { errno: OK, copy: q, copied: false };
  }
  const q = allocatePhys(c, L);
  if (q < 0) {
    L.at(c).errno.set(t, 'SIGBUS');
    return { errno: SIGBUS, copy: -1, copied: false };
  }
  if (d.copy === 'flushed') copyBlockDurably(c, L, b, q);
  else for (let w = 0; w < L.W; w++) storeWord(c, L, q, w, visibleWord(c, L, b, w));
  // Nobody may keep the old block mapped: the copy is the block now.
  unmapMappingRange(c, L, b, b + 1);
  setExtent(c, L, b, WRITTEN, q);
  const s = L.at(c);
  if (d.entry === 'at-fault') s.cow.set(b, q + 1);
  setPte(c, L, m, b, PTE_RW, q);
  s.errno.set(t, '0');
  return { errno: OK, copy: q, copied: true };
}

/** Write-protect every entry of block b and write back the copy's dirty cache lines. */
function cleanBlock(c: DaxContext, L: NovaLayout, b: number): number {
  for (let m = 0; m < L.M; m++) if (pte(c, L, m, b) === PTE_RW) setPte(c, L, m, b, PTE_RO, ptePhys(c, L, m, b));
  const s = L.at(c);
  return isWrittenKind(s.extent(b)) ? writeBackPhys(c, L, s.phys(b)) : 0;
}

/** Points the file map at block b's copy (the pointer swap) and drops any cache entry. */
function swapPointer(c: DaxContext, L: NovaLayout, b: number): void {
  const s = L.at(c);
  s.committedExtent.set(b, s.extent(b));
  s.committedPhys.set(b, s.extent(b) === HOLE ? 0 : s.phys(b));
  s.cow.set(b, 0);
}

/** May writeback migrate block b now (a copy, and in the two-step design an entry not yet retired)? */
export function mayWriteBack(c: DaxContext, L: NovaLayout, d: NovaDesign, b: number): boolean {
  if (!hasCopy(c, L, b)) return false;
  return d.swap === 'atomic' || d.entry === 'at-writeback' || L.at(c).cow(b) !== 0;
}

/** Two-step design: has writeback retired block b's cache entry without swapping the pointer yet? */
export function isSwapPending(c: DaxContext, L: NovaLayout, d: NovaDesign, b: number): boolean {
  return d.swap === 'two-step' && d.entry === 'at-fault' && hasCopy(c, L, b) && L.at(c).cow(b) === 0;
}

/**
 * Writeback of block b (background writeback, or fsync): clean it and migrate the copy. Atomic:
 * one step. Two-step: this step only retires the cache entry; `novaSwap` follows.
 * Returns the dirty words written back.
 */
export function novaWriteback(c: DaxContext, L: NovaLayout, d: NovaDesign, b: number): number {
  const flushed = cleanBlock(c, L, b);
  if (d.swap === 'two-step' && d.entry === 'at-fault') L.at(c).cow.set(b, 0);
  else swapPointer(c, L, b);
  return flushed;
}

/** Two-step design, second step: the file map now points at block b's copy. */
export function novaSwap(c: DaxContext, L: NovaLayout, b: number): void {
  swapPointer(c, L, b);
}

/**
 * nova_fsync over the whole file: write back every dirty line of the file and migrate every copy
 * into the file map. Afterwards every word of the file is promised durable (ghost).
 */
export function novaFsync(c: DaxContext, L: NovaLayout, t: number): number {
  let flushed = 0;
  for (let b = 0; b < L.B; b++) {
    flushed += cleanBlock(c, L, b);
    if (hasCopy(c, L, b)) swapPointer(c, L, b);
  }
  promiseFile(c, L);
  L.at(c).errno.set(t, '0');
  return flushed;
}

/** ftruncate: NOVA appends the size change to the inode's log before it returns. */
export function novaFtruncate(c: DaxContext, L: NovaLayout, t: number, blocks: number): number {
  const errno = sysFtruncate(c, L, t, blocks);
  if (errno !== OK) return errno;
  L.at(c).committedSize.set(fileSize(c, L));
  for (let b = blocks; b < L.B; b++) if (hasCopy(c, L, b)) swapPointer(c, L, b);
  return OK;
}

/** Which blocks recovery migrated, for traces: [block, pmem block]. */
export type Migration = [number, number];

/**
 * Mount after a crash: the inode log is replayed (the file map proper), then every durable cache
 * entry is migrated into the file map by the same pointer swap writeback uses.
 */
export function novaRecover(c: DaxContext, L: NovaLayout): Migration[] {
  mountAfterCrash(c, L);
  const moved: Migration[] = [];
  for (let b = 0; b < L.B; b++) {
    const q = cowEntry(c, L, b);
    if (q < 0) continue;
    const s = L.at(c);
    s.cow.set(b, 0);
    if (b >= s.committedSize()) continue;
    s.committedExtent.set(b, WRITTEN);
    s.committedPhys.set(b, q);
    setExtent(c, L, b, WRITTEN, q);
    moved.push([b, q]);
  }
  return moved;
}

/**
 * The promise in model terms: a page a NOVA mapping can write is durably reachable after a crash,
 * through its cache entry or through the file map.
 */
export function writablePagesDurablyBacked(c: DaxContext, L: NovaLayout): boolean {
  const s = L.at(c);
  for (let m = 0; m < L.M; m++) {
    for (let b = 0; b < L.B; b++) {
      if (s.pte(m, b) !== 'writable') continue;
      const q = s.ptePhys(m, b);
      if (s.cow(b) === q + 1) continue;
      if (s.cow(b) === 0 && b < s.committedSize() && s.committedExtent(b) === WRITTEN && s.committedPhys(b) === q) continue;
      return false;
    }
  }
  return true;
}

/** Blocks whose copy exists in memory only (no durable cache entry, not in the file map). */
export function copiesInMemoryOnly(c: DaxContext, L: NovaLayout): number[] {
  const out: number[] = [];
  for (let b = 0; b < L.B; b++) if (hasCopy(c, L, b) && L.at(c).cow(b) === 0) out.push(b);
  return out;
}
