/**
 * Page tables and the page-fault paths of a DAX mapping.
 *
 * Each mapping has, per file block, a page-table entry that is absent, read-only or writable.
 * A write fault on a DAX file (`dax_iomap_fault`) asks the filesystem for the block; a hole or an
 * unwritten extent is allocated or converted in the running transaction, the block zeroed on the
 * media, and a writable entry installed that points straight at persistent memory. An extent
 * shared with another file (reflink, snapshot, dedupe) is copied to a new block first. Each entry
 * remembers which physical block it maps: if an operation moves the block without invalidating
 * the mappings, the entry still points at the old one. A write to a
 * read-only entry of an allocated block goes through `pfn_mkwrite`. On a MAP_SYNC mapping the
 * fault does not return until the metadata behind the block is committed
 * (`dax_finish_sync_fault`, i.e. the metadata half of fdatasync); specs add that step.
 *
 * A file without S_DAX is mapped through the page cache instead (`filemap_fault`,
 * `page_mkwrite`); allocation happens the same way, but the data stays in DRAM until written back.
 */
import {
  EXTENT_NAMES,
  HOLE,
  OK,
  PTE_NONE,
  PTE_RO,
  PTE_RW,
  SHARED,
  SIGBUS,
  UNWRITTEN,
  VMA_NONE,
  VMA_SYNC,
  WRITTEN,
  ZERO,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, copyBlockDurably, extentKind, fileSize, isDaxInode, physOf, setExtent, zeroPhysDurably } from './fs.ts';
import { commitRunningTransaction, isInodeDirty } from './journal.ts';
import { storeWord } from './pmem.ts';

export function pte(c: DaxContext, L: Layout, m: number, b: number): number {
  return c.volatile[L.vPte + m * L.B + b];
}

/** Sets a page-table entry; a present entry maps physical block `phys` (or the zero page). */
export function setPte(c: DaxContext, L: Layout, m: number, b: number, value: number, phys = 0): void {
  c.volatile[L.vPte + m * L.B + b] = value;
  c.volatile[L.vPtePhys + m * L.B + b] = value === PTE_NONE ? 0 : phys;
}

/** The physical block a present page-table entry maps. */
export function ptePhys(c: DaxContext, L: Layout, m: number, b: number): number {
  return c.volatile[L.vPtePhys + m * L.B + b];
}

export function vma(c: DaxContext, L: Layout, m: number): number {
  return c.volatile[L.vVma + m];
}

/**
 * `unmap_mapping_range`: drops every page-table entry of every mapping for blocks [from, to).
 * State a proposal keeps with the mapping rather than the inode goes with it (`onUnmap`).
 */
export function unmapMappingRange(c: DaxContext, L: Layout, from: number, to: number): void {
  for (let m = 0; m < L.M; m++) for (let b = from; b < to && b < L.B; b++) setPte(c, L, m, b, PTE_NONE);
  L.hooks.onUnmap?.(c, L, from, to);
}

/** What a fault did, for traces. */
export interface FaultOutcome {
  errno: number;
  /** The extent as it was before the fault. */
  before: (typeof EXTENT_NAMES)[number];
  /** Physical block now behind the file block, -1 if none. */
  phys: number;
}

/**
 * Would a store to file block b through mapping m need a write fault (`dax_iomap_fault` or
 * `page_mkwrite`)? True when there is no entry, or only a read-only entry of the zero page.
 */
export function needsWriteFault(c: DaxContext, L: Layout, m: number, b: number): boolean {
  const e = pte(c, L, m, b);
  return e === PTE_NONE || (e === PTE_RO && extentKind(c, L, b) !== WRITTEN);
}

/** Is the mapping's entry for block b read-only (the zero page or a shared extent)? */
export function isPteReadOnly(c: DaxContext, L: Layout, m: number, b: number): boolean {
  return pte(c, L, m, b) === PTE_RO;
}

/** Would a store need only `pfn_mkwrite` (read-only entry of an allocated, written block)? */
export function needsPfnMkwrite(c: DaxContext, L: Layout, m: number, b: number): boolean {
  return pte(c, L, m, b) === PTE_RO && extentKind(c, L, b) === WRITTEN;
}

/**
 * `dax_iomap_fault` (or, without S_DAX, `filemap_fault` / `page_mkwrite`): the fault handler for
 * file block b of mapping m. Beyond EOF, or with no space left, the thread gets SIGBUS.
 */
/** How the filesystem zeroes a newly allocated block before mapping it. */
export type Zeroing = 'durable' | 'cached';

export function pageFault(c: DaxContext, L: Layout, t: number, m: number, b: number, write: boolean, zeroing: Zeroing = 'durable'): FaultOutcome {
  const before = EXTENT_NAMES[extentKind(c, L, b)];
  if (b >= fileSize(c, L) || vma(c, L, m) === VMA_NONE) {
    c.volatile[L.vErr + t] = SIGBUS;
    return { errno: SIGBUS, before, phys: physOf(c, L, b) };
  }
  if (!write) {
    // A hole or unwritten extent maps the zero page read-only; nothing is allocated. A shared
    // extent is mapped read-only so that the first write copies it.
    setPte(c, L, m, b, PTE_RO, Math.max(0, physOf(c, L, b)));
    c.volatile[L.vErr + t] = OK;
    return { errno: OK, before, phys: physOf(c, L, b) };
  }
  const kind = extentKind(c, L, b);
  if (kind === HOLE || kind === SHARED) {
    const p = allocatePhys(c, L);
    if (p < 0) {
      c.volatile[L.vErr + t] = SIGBUS;
      return { errno: SIGBUS, before, phys: -1 };
    }
    // A hole gets a zeroed block; a shared extent is copied (copy on write), and the copy
    // replaces it in the running transaction.
    if (kind === HOLE) zeroPhys(c, L, p, zeroing);
    else copyBlockDurably(c, L, b, p);
    setExtent(c, L, b, WRITTEN, p);
  } else if (kind === UNWRITTEN) {
    zeroPhys(c, L, physOf(c, L, b), zeroing);
    setExtent(c, L, b, WRITTEN, physOf(c, L, b));
  }
  setPte(c, L, m, b, PTE_RW, physOf(c, L, b));
  c.volatile[L.vErr + t] = OK;
  return { errno: OK, before, phys: physOf(c, L, b) };
}

/**
 * Zeroes a newly allocated block: durably (non-temporal stores and a flush), or — a bug — with
 * ordinary stores that stay in the CPU cache, so the allocation can become durable first.
 */
function zeroPhys(c: DaxContext, L: Layout, p: number, zeroing: Zeroing): void {
  if (zeroing === 'durable') {
    zeroPhysDurably(c, L, p);
    return;
  }
  for (let w = 0; w < L.W; w++) storeWord(c, L, p, w, ZERO);
}

/** `dax_pfn_mkwrite`: the first write to a read-only entry of an allocated block makes it writable. */
export function pfnMkwrite(c: DaxContext, L: Layout, t: number, m: number, b: number): void {
  setPte(c, L, m, b, PTE_RW, ptePhys(c, L, m, b));
  c.volatile[L.vErr + t] = OK;
}

/**
 * `dax_finish_sync_fault`: on a VM_SYNC mapping, when the inode has uncommitted metadata
 * (IOMAP_F_DIRTY), commit it before the fault returns. Returns the journal items committed.
 */
export function finishSyncFault(c: DaxContext, L: Layout, t: number, m: number): number {
  // Only a fault that mapped the block (VM_FAULT_NEEDDSYNC) gets here; a failed one does not.
  if (c.volatile[L.vErr + t] !== OK || vma(c, L, m) !== VMA_SYNC || !isInodeDirty(c, L)) return 0;
  return (L.hooks.syncCommit ?? commitRunningTransaction)(c, L);
}

/** Is the fault path of this file DAX (S_DAX set)? */
export { isDaxInode };
