/**
 * The state of the DAX fsync dirty-tracking designs (seed 001) and their fault paths.
 *
 * The shared model supplies the file's persistent memory and the CPU cache in front of it (one
 * word per page: page i lives in pmem block i) and the page-table entries of each mapping
 * (absent / read-only / writable, per mapping and page). This module adds what the designs need
 * beyond that:
 *  - `radix`: the DAX radix tree of the file's address_space (radix.ts);
 *  - `pt`: per mapping, the dirty bit of each PTE, and the mapping's PMD (absent / read-only /
 *    writable) with its dirty bit. Mapping m belongs to writer m and uses either PTEs or one PMD,
 *    which maps the file's first PMD;
 *  - `pvec`: per fsync caller, the entry `find_get_entries_tag` gathered (index + 1, kind);
 *  - `called` (ghost): per fsync caller and page, the version of the page's word that a load
 *    would have returned when the fsync was called: what that fsync must make durable.
 *
 * Stores write versions: the n-th store to a page writes n, so "durable value ≥ the version seen
 * at the call" means "the store made before the call, or a later one, is on the media".
 *
 * The fault paths follow Ross Zwisler's description in the mail: `__dax_fault` and
 * `__dax_pmd_fault` insert (or find) the entry, dirty for a write fault, and then install the
 * page-table entry (read-only for a read, writable and dirty for a write); a write to a read-only
 * PTE goes `wp_pfn_shared` → `pfn_mkwrite` → `dax_pfn_mkwrite` → `dax_radix_entry(NO_SECTOR)`
 * (tag DIRTY), then back up in `wp_page_reuse` → `pte_mkdirty`. Each half is one step: the
 * first runs under tree_lock, the second under the PTE lock, and between them the fault holds
 * nothing, which is where writeback can run. (4.5's `vm_insert_mixed` installed even a write
 * fault's PTE read-only, so the first write also went through `wp_pfn_shared`; the model's
 * programs reach that path by loading before they store.)
 */
import { PTE_NONE, PTE_RO, PTE_RW, WRITTEN, bounds as layoutBounds, initialContext, Layout, VMA_SHARED, type DaxContext } from '../../models/layout.ts';
import { pte, setPte } from '../../models/faults.ts';
import { storeWord, writeBackPhys } from '../../models/pmem.ts';
import {
  ENTRY_PMD,
  ENTRY_PTE,
  SLOT_BYTES,
  coveringEntry,
  entryKind,
  hasTag,
  isLocked,
  lockEntry,
  pmdIndex,
  radixEntryPmd,
  radixEntryPte,
  unlockEntry,
  type PmdOverPte,
  type RadixGeometry,
} from './radix.ts';

/** A design of the tracking: the choices the review thread argues about. */
export interface TrackingDesign {
  /** What a PMD fault does to a PTE entry at its index (Jan Kara's finding 1). */
  pmdOverPte: PmdOverPte;
  /**
   * When `dax_writeback_one` clears TOWRITE: under tree_lock when it looks the entry up, before
   * the flush (v8; finding 2), or after `wb_cache_pmem` (v9).
   */
  towrite: 'before-flush' | 'after-flush';
  /**
   * Whether writeback cleans entries: never (v8, v9: the dirty set only grows); clear DIRTY
   * after the flush and leave the PTEs writable (finding 3); write-protect and clean every
   * page-table entry of the range (`pgoff_mkclean`), flush, then clear DIRTY (v2's idea, in the
   * order that flushes only after the mappings are read-only); or v2 as posted: DIRTY cleared
   * with TOWRITE at the lookup, then the flush, then `pgoff_mkclean`.
   */
  clean: 'never' | 'after-flush' | 'wrprotect' | 'clean-then-wrprotect';
  /**
   * A per-entry lock (Jan Kara's later design): the fault path holds it from `dax_radix_entry`
   * until the page-table entry is installed or made writable, and `dax_writeback_one` from the
   * lookup until the entry is clean; each waits while the other holds it.
   */
  entryLock: boolean;
}

/** Sizes of the model. */
export interface TrackingDims {
  /** Page indices of the file (one word each). */
  pages: number;
  /** Indices one PMD covers. */
  pmdPages: number;
  /** Mappings, one per writer thread. */
  mappings: number;
  /** Threads calling fsync. */
  fsyncs: number;
  /** Largest version a store can write (the number of stores to the busiest page). */
  maxVersion: number;
}

/** The context of the machine: the shared vectors plus this design's own. */
export type TrackingContext = DaxContext & {
  radix: Uint8Array;
  pt: Uint8Array;
  pvec: Uint8Array;
  called: Uint8Array;
};

/** Byte offsets and sizes of everything above. */
export class TrackingLayout {
  /** The shared layout: pmem words, cache lines and PTEs (mapping m = writer m). */
  readonly L: Layout;
  readonly geometry: RadixGeometry;
  readonly ptPerMapping: number;

  constructor(readonly dims: TrackingDims) {
    this.L = new Layout({ threads: dims.mappings, blocks: dims.pages, phys: dims.pages, words: 1, unrelated: 0 });
    this.geometry = { pages: dims.pages, pmdPages: dims.pmdPages };
    this.ptPerMapping = dims.pages + 2;
  }

  /** Index of page i's word in the shared pmem and cache arrays. */
  word(i: number): number {
    return this.L.word(i, 0);
  }
  pteDirty(m: number, i: number): number {
    return m * this.ptPerMapping + i;
  }
  pmd(m: number): number {
    return m * this.ptPerMapping + this.dims.pages;
  }
  pmdDirty(m: number): number {
    return m * this.ptPerMapping + this.dims.pages + 1;
  }
  called(f: number, i: number): number {
    return f * this.dims.pages + i;
  }
}

/**
 * The initial state: a file of `pages` pages, allocated, written with zeros and synced long ago
 * (so the journal has nothing to commit and fsync is all data writeback), mapped MAP_SHARED by
 * every writer, nothing faulted in yet.
 */
export function trackingContext(T: TrackingLayout): TrackingContext {
  const { L, dims } = T;
  const c = initialContext(L, { size: dims.pages, dax: true });
  for (let i = 0; i < dims.pages; i++) {
    c.durable[L.dExtKind + i] = WRITTEN;
    c.durable[L.dExtPhys + i] = i;
    c.volatile[L.vExtKind + i] = WRITTEN;
    c.volatile[L.vExtPhys + i] = i;
    c.durable[L.dPmem + T.word(i)] = 0;
  }
  for (let m = 0; m < dims.mappings; m++) {
    c.volatile[L.vFd + m] = 1;
    c.volatile[L.vVma + m] = VMA_SHARED;
  }
  return {
    ...c,
    radix: new Uint8Array(dims.pages * SLOT_BYTES),
    pt: new Uint8Array(dims.mappings * T.ptPerMapping),
    pvec: new Uint8Array(dims.fsyncs * 2),
    called: new Uint8Array(dims.fsyncs * dims.pages),
  };
}

/** Largest value of every byte, for the explorer's packing. */
export function trackingBounds(T: TrackingLayout): Record<string, number[]> {
  const { L, dims } = T;
  const shared = layoutBounds(L);
  for (let i = 0; i < dims.pages; i++) {
    shared.durable[L.dPmem + T.word(i)] = dims.maxVersion;
    shared.volatile[L.vCache + T.word(i)] = dims.maxVersion;
  }
  const radix: number[] = [];
  for (let i = 0; i < dims.pages; i++) radix.push(i % dims.pmdPages === 0 ? ENTRY_PMD : 1, 1, 1, 1);
  const pt: number[] = [];
  for (let m = 0; m < dims.mappings; m++) pt.push(...new Array<number>(dims.pages).fill(1), PTE_RW, 1);
  const pvec: number[] = [];
  for (let f = 0; f < dims.fsyncs; f++) pvec.push(dims.pages, ENTRY_PMD);
  return { ...shared, radix, pt, pvec, called: new Array<number>(dims.fsyncs * dims.pages).fill(dims.maxVersion) };
}

// ---------------------------------------------------------------- memory

/** The version a load of page i returns now: the cache line if dirty, else the media. */
export function visibleVersion(c: TrackingContext, T: TrackingLayout, i: number): number {
  const w = T.word(i);
  return c.volatile[T.L.vDirty + w] ? c.volatile[T.L.vCache + w] : c.durable[T.L.dPmem + w];
}

export function durableVersion(c: TrackingContext, T: TrackingLayout, i: number): number {
  return c.durable[T.L.dPmem + T.word(i)];
}

export function isCacheDirty(c: TrackingContext, T: TrackingLayout, i: number): boolean {
  return c.volatile[T.L.vDirty + T.word(i)] === 1;
}

/**
 * A CPU store to page i through mapping m (which the caller has checked is writable): the next
 * version lands in the cache line, which stays dirty until flushed or evicted, and the CPU sets
 * the dirty bit of the page-table entry it went through.
 */
export function cpuStore(c: TrackingContext, T: TrackingLayout, m: number, i: number, viaPmd: boolean): number {
  const v = visibleVersion(c, T, i) + 1;
  storeWord(c, T.L, i, 0, v);
  c.pt[viaPmd ? T.pmdDirty(m) : T.pteDirty(m, i)] = 1;
  return v;
}

/** The CPU evicts page i's dirty cache line: it reaches the media. Returns whether it was dirty. */
export function evictLine(c: TrackingContext, T: TrackingLayout, i: number): boolean {
  return writeBackPhys(c, T.L, i) > 0;
}

// ---------------------------------------------------------------- page tables

export function pteOf(c: TrackingContext, T: TrackingLayout, m: number, i: number): number {
  return pte(c, T.L, m, i);
}

export function pmdOf(c: TrackingContext, T: TrackingLayout, m: number): number {
  return c.pt[T.pmd(m)];
}

function setPteAndDirty(c: TrackingContext, T: TrackingLayout, m: number, i: number, state: number): void {
  setPte(c, T.L, m, i, state);
  c.pt[T.pteDirty(m, i)] = state === PTE_RW ? 1 : 0;
}

function setPmdAndDirty(c: TrackingContext, T: TrackingLayout, m: number, state: number): void {
  c.pt[T.pmd(m)] = state;
  c.pt[T.pmdDirty(m)] = state === PTE_RW ? 1 : 0;
}

/** Does mapping m map page i through its PMD? */
function pmdCovers(T: TrackingLayout, i: number, at: number): boolean {
  return i >= at && i < at + T.dims.pmdPages;
}

/**
 * `pgoff_mkclean` over pages [first, first + n): every present PTE and PMD of every mapping that
 * maps one of them becomes read-only and clean, so the next store faults. Returns how many
 * page-table entries changed.
 */
export function writeProtectRange(c: TrackingContext, T: TrackingLayout, pages: number[]): number {
  let n = 0;
  for (let m = 0; m < T.dims.mappings; m++) {
    for (const i of pages) {
      const e = pteOf(c, T, m, i);
      if (e !== PTE_NONE && (e !== PTE_RO || c.pt[T.pteDirty(m, i)])) {
        setPteAndDirty(c, T, m, i, PTE_RO);
        n++;
      }
    }
    const p = pmdOf(c, T, m);
    if (p !== PTE_NONE && pages.some((i) => pmdCovers(T, i, 0)) && (p !== PTE_RO || c.pt[T.pmdDirty(m)])) {
      setPmdAndDirty(c, T, m, PTE_RO);
      n++;
    }
  }
  return n;
}

// ---------------------------------------------------------------- the fault paths

/**
 * With the entry lock: may the fault path take the entry tracking page i? A PTE fault needs the
 * entry it will tag (the covering PMD entry, else the PTE entry); a PMD fault needs every entry
 * in the PMD's range, since it replaces one and then covers them all. Because a PMD fault waits
 * for a locked PTE entry anywhere in its range, the entry a PTE fault locked still covers its
 * page when the fault unlocks it.
 */
export function isTrackingEntryUnlocked(c: TrackingContext, T: TrackingLayout, i: number, pmd: boolean): boolean {
  if (pmd) {
    const p = pmdIndex(T.geometry, i);
    for (let x = p; x < p + T.dims.pmdPages && x < T.dims.pages; x++) if (isLocked(c.radix, x)) return false;
    return true;
  }
  const at = coveringEntry(c.radix, T.geometry, i);
  return at < 0 || !isLocked(c.radix, at);
}

/**
 * First half of `__dax_fault` on page i: get_block, then `dax_insert_mapping` →
 * `dax_radix_entry(index, sector, false, write)`: the PTE entry is inserted (or found), DIRTY for
 * a write fault. With the entry lock, the fault keeps the entry locked until the PTE is in.
 */
export function daxFaultRadix(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number, write: boolean): number {
  const at = radixEntryPte(c.radix, T.geometry, i, write, false);
  if (d.entryLock) lockEntry(c.radix, at);
  return at;
}

/** Second half of `__dax_fault`: `vm_insert_mixed` installs the PTE; the entry is unlocked. */
export function vmInsertMixed(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number, write: boolean): void {
  setPteAndDirty(c, T, m, i, write ? PTE_RW : PTE_RO);
  if (d.entryLock) unlockEntry(c.radix, coveringEntry(c.radix, T.geometry, i));
}

/**
 * A store to a read-only PTE: `do_wp_page` → `wp_pfn_shared` drops the PTE lock and calls
 * `pfn_mkwrite` → `dax_pfn_mkwrite` → `dax_radix_entry(index, NO_SECTOR, false, true)`: the
 * existing entry is tagged DIRTY (locked, with the entry lock, until the PTE is writable).
 */
export function daxPfnMkwrite(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number): number {
  const at = radixEntryPte(c.radix, T.geometry, i, true, true);
  if (d.entryLock && at >= 0) lockEntry(c.radix, at);
  return at;
}

/**
 * Back in `wp_pfn_shared` under the PTE lock (`pte_same` holds: nothing else in the model changes
 * a read-only PTE), `wp_page_reuse` → `pte_mkdirty` + `maybe_mkwrite`: the PTE is writable and
 * dirty. With the entry lock, `dax_pfn_mkwrite` does this itself (`finish_mkwrite_fault`) and
 * then unlocks the entry.
 */
export function wpPageReuse(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number): void {
  setPteAndDirty(c, T, m, i, PTE_RW);
  if (d.entryLock) {
    const at = coveringEntry(c.radix, T.geometry, i);
    if (at >= 0) unlockEntry(c.radix, at);
  }
}

/**
 * First half of `__dax_pmd_fault` for page i (also reached from `wp_huge_pmd` for a write to a
 * read-only PMD): `dax_radix_entry(pmd index, sector, true, write)`, which replaces a PTE entry at
 * the PMD's index by a PMD entry (radix.ts). Returns the PTE entry's tags if it replaced one.
 */
export function daxPmdFaultRadix(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number, write: boolean) {
  const r = radixEntryPmd(c.radix, T.geometry, i, write, d.pmdOverPte);
  if (d.entryLock) lockEntry(c.radix, r.at);
  return r;
}

/** Second half of `__dax_pmd_fault`: `vmf_insert_pfn_pmd` installs the PMD; the entry is unlocked. */
export function vmfInsertPfnPmd(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number, write: boolean): void {
  setPmdAndDirty(c, T, m, write ? PTE_RW : PTE_RO);
  if (d.entryLock) unlockEntry(c.radix, pmdIndex(T.geometry, i));
}

// ---------------------------------------------------------------- what the properties read

/**
 * Is some entry that fsync would flush for page i tagged DIRTY: the PTE entry at i, or the PMD
 * entry covering i? (After a PMD fault, a PTE entry at another index of the PMD stays beside the
 * PMD entry, as in the kernel: `dax_radix_entry` only looks at the PMD's own index.)
 */
export function isPageTrackedDirty(c: TrackingContext, T: TrackingLayout, i: number): boolean {
  const p = pmdIndex(T.geometry, i);
  if (entryKind(c.radix, p) === ENTRY_PMD && hasTag(c.radix, p, 'DIRTY')) return true;
  return entryKind(c.radix, i) === ENTRY_PTE && hasTag(c.radix, i, 'DIRTY');
}

/**
 * Writable, dirty page-table entries whose radix-tree entry is clean: the state Ross Zwisler's
 * race diagram ends in ("a dirty PTE that is writeable, but with a clean radix tree entry").
 * Stores through such an entry leave no trace fsync can find. Names them (`PTE 0.0`, `PMD 1`).
 */
export function writableOverCleanEntry(c: TrackingContext, T: TrackingLayout): string[] {
  const out: string[] = [];
  for (let m = 0; m < T.dims.mappings; m++) {
    for (let i = 0; i < T.dims.pages; i++) {
      if (pteOf(c, T, m, i) === PTE_RW && c.pt[T.pteDirty(m, i)] && !isPageTrackedDirty(c, T, i)) out.push(`PTE ${m}.${i}`);
    }
    if (pmdOf(c, T, m) === PTE_RW && c.pt[T.pmdDirty(m)]) {
      const at = pmdIndex(T.geometry, 0);
      if (entryKind(c.radix, at) !== ENTRY_PMD || !hasTag(c.radix, at, 'DIRTY')) out.push(`PMD ${m}`);
    }
  }
  return out;
}
