/**
 * The state of the DAX fsync dirty-tracking designs (seed 001) and their fault paths.
 *
 * The shared model supplies the file's persistent memory and the CPU cache in front of it (one
 * word per page: page i lives in pmem block i) and the page-table entries of each mapping
 * (absent / read-only / writable, per mapping and page). The designs' own state is declared here
 * (`trackingState`, models/fields.ts) and packed after the shared model's:
 *  - the DAX radix tree of the file's address_space (radix.ts: `radixEntry`, `radixDirty`,
 *    `radixTowrite`, `radixLock` per page index);
 *  - per mapping, the dirty bit of each PTE (`pteDirty`), and the mapping's PMD (`pmd`: absent /
 *    read-only / writable) with its dirty bit (`pmdDirty`). Mapping m belongs to writer m and uses
 *    either PTEs or one PMD, which maps the file's first PMD;
 *  - per fsync caller, the entry `find_get_entries_tag` gathered into its pagevec (`gathered`:
 *    index + 1, `gatheredEntry`: what it was);
 *  - `called` (ghost): per fsync caller and page, the version of the page's word that a load
 *    would have returned when the fsync was called: what that fsync must make durable.
 * All but `called` are volatile: the radix tree, page tables and pagevecs are memory. (No
 * configuration has a power failure: the property looks at the media when fsync returns.)
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
 *
 * Operations take the context and read and write it through the layout's own view (`T.at(c)`);
 * predicates for guards, properties and traces take a view their caller has pointed.
 */
import { fields, type FieldValue } from '../../models/fields.ts';
import { PTE_NAMES, VMA_NAMES, VMA_SHARED, WRITTEN, bounds as layoutBounds, initialContext, Layout, type CoreFields, type DaxContext, type StateView } from '../../models/layout.ts';
import { storeWord, writeBackPhys } from '../../models/pmem.ts';
import {
  DIRTY_VALUES,
  ENTRY_NAMES,
  LOCK_VALUES,
  TOWRITE_VALUES,
  coveringEntry,
  hasTag,
  isLocked,
  lockEntry,
  pmdIndex,
  radixEntryPmd,
  radixEntryPte,
  radixFields,
  unlockEntry,
  type PmdOverPte,
  type RadixGeometry,
  type Entry,
  type RadixReads,
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

/** The designs' own state, packed after the shared model's (see the header). */
export const trackingState = (d: TrackingDims) =>
  fields({
    ...radixFields({ pages: d.pages, pmdPages: d.pmdPages }),
    pteDirty: { part: 'volatile', shape: [d.mappings, d.pages], values: ['clean', 'dirty'], doc: "the dirty bit of mapping m's PTE for page i: the CPU sets it on a store through the entry" },
    pmd: { part: 'volatile', shape: [d.mappings], values: PTE_NAMES, doc: "mapping m's PMD, over the file's first PMD (a writer maps with PTEs or with one PMD)" },
    pmdDirty: { part: 'volatile', shape: [d.mappings], values: ['clean', 'dirty'], doc: "the dirty bit of mapping m's PMD" },
    gathered: { part: 'volatile', shape: [d.fsyncs], max: d.pages, doc: "index + 1 of the entry fsync caller f's find_get_entries_tag gathered into its pagevec (0: none)" },
    gatheredEntry: { part: 'volatile', shape: [d.fsyncs], values: ENTRY_NAMES, doc: 'what that entry was when gathered (dax_writeback_one checks `*slot != entry`)' },
    called: {
      part: 'ghost',
      shape: [d.fsyncs, d.pages],
      max: d.maxVersion,
      doc: 'the version of page i a load returned when fsync caller f was called: what that fsync must make durable',
    },
  });

export type TrackingFields = ReturnType<typeof trackingState>;
/** A view of a state: the shared model's fields and the designs' own, by name. */
export type TrackingView = StateView<TrackingFields>;
/** Read access to some fields, by the same names and values (a view has them all). */
export type TrackingReads<K extends keyof (CoreFields & TrackingFields)> = {
  readonly [F in K]: (...index: number[]) => FieldValue<(CoreFields & TrackingFields)[F]>;
};
/** The context of the machine: the shared three vectors, the designs' fields packed in them. */
export type TrackingContext = DaxContext;
/** What a page-table entry (PTE or PMD) can be. */
export type PageTableState = (typeof PTE_NAMES)[number];

/** The shared layout with the designs' fields, and the geometry of the file. */
export class TrackingLayout {
  /** The shared layout (mapping m = writer m; one word per page) plus `trackingState`. */
  readonly L: Layout<TrackingFields>;
  readonly geometry: RadixGeometry;
  /** The view the model's operations use, one context at a time (see `at`). */
  private readonly own: TrackingView;

  constructor(readonly dims: TrackingDims) {
    this.L = new Layout(
      { threads: dims.mappings, blocks: dims.pages, phys: dims.pages, words: 1, unrelated: 0 },
      { fields: trackingState(dims), owner: 'specs/dax-fsync-tracking' },
    );
    this.geometry = { pages: dims.pages, pmdPages: dims.pmdPages };
    this.own = this.view();
  }

  /** A new view of states of this layout; point it at a context with `at(c)`. */
  view(): TrackingView {
    return this.L.view();
  }

  /** The model's own view, pointed at c: only for the operations below, never kept across calls. */
  at(c: DaxContext): TrackingView {
    return this.own.at(c);
  }

  /** Index of page i's word in the shared pmem and cache arrays. */
  word(i: number): number {
    return this.L.word(i, 0);
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
  const s = T.view().at(c);
  for (let i = 0; i < dims.pages; i++) {
    s.committedExtent.set(i, WRITTEN);
    s.committedPhys.set(i, i);
    s.extent.set(i, WRITTEN);
    s.phys.set(i, i);
    s.pmem.set(i, 0, 0);
  }
  for (let m = 0; m < dims.mappings; m++) {
    s.fd.set(m, 1);
    s.vma.set(m, VMA_NAMES[VMA_SHARED]);
  }
  return c;
}

/**
 * Largest value of every byte, for the explorer's packing: the declared bounds, tightened where
 * the model knows more (a word holds at most the last version stored to it; only a PMD-aligned
 * index can hold a PMD entry).
 */
export function trackingBounds(T: TrackingLayout): Record<string, number[]> {
  const { dims } = T;
  const b = layoutBounds(T.L);
  // The bounds have the shape of a state: a view writes them by field name.
  const max = T.view().at(b as unknown as DaxContext);
  for (let i = 0; i < dims.pages; i++) {
    max.pmem.set(i, 0, dims.maxVersion);
    max.cache.set(i, 0, dims.maxVersion);
    if (i % dims.pmdPages !== 0) max.radixEntry.set(i, 'PTE entry');
  }
  return b;
}

// ---------------------------------------------------------------- memory

/** The version a load of page i returns now: the cache line if dirty, else the media. */
export function visibleVersion(s: TrackingReads<'dirty' | 'cache' | 'pmem'>, i: number): number {
  return s.dirty(i, 0) ? s.cache(i, 0) : s.pmem(i, 0);
}

/** The version of page i on the media. */
export function durableVersion(s: TrackingReads<'pmem'>, i: number): number {
  return s.pmem(i, 0);
}

export function isCacheDirty(s: TrackingReads<'dirty'>, i: number): boolean {
  return s.dirty(i, 0) === 1;
}

/**
 * A CPU store to page i through mapping m (which the caller has checked is writable): the next
 * version lands in the cache line, which stays dirty until flushed or evicted, and the CPU sets
 * the dirty bit of the page-table entry it went through.
 */
export function cpuStore(c: TrackingContext, T: TrackingLayout, m: number, i: number, viaPmd: boolean): number {
  const s = T.at(c);
  const v = visibleVersion(s, i) + 1;
  storeWord(c, T.L, i, 0, v);
  if (viaPmd) s.pmdDirty.set(m, 'dirty');
  else s.pteDirty.set(m, i, 'dirty');
  return v;
}

/** The CPU evicts page i's dirty cache line: it reaches the media. Returns whether it was dirty. */
export function evictLine(c: TrackingContext, T: TrackingLayout, i: number): boolean {
  return writeBackPhys(c, T.L, i) > 0;
}

// ---------------------------------------------------------------- page tables

/** A page-table entry changes: writable entries are installed dirty, others clean. */
function setPteAndDirty(s: TrackingView, m: number, i: number, state: PageTableState): void {
  s.pte.set(m, i, state);
  s.pteDirty.set(m, i, state === 'writable' ? 'dirty' : 'clean');
}

function setPmdAndDirty(s: TrackingView, m: number, state: PageTableState): void {
  s.pmd.set(m, state);
  s.pmdDirty.set(m, state === 'writable' ? 'dirty' : 'clean');
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
  const s = T.at(c);
  let n = 0;
  for (let m = 0; m < T.dims.mappings; m++) {
    for (const i of pages) {
      const e = s.pte(m, i);
      if (e !== 'absent' && (e !== 'read-only' || s.pteDirty(m, i) === 'dirty')) {
        setPteAndDirty(s, m, i, 'read-only');
        n++;
      }
    }
    const p = s.pmd(m);
    if (p !== 'absent' && pages.some((i) => pmdCovers(T, i, 0)) && (p !== 'read-only' || s.pmdDirty(m) === 'dirty')) {
      setPmdAndDirty(s, m, 'read-only');
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
export function isTrackingEntryUnlocked(s: RadixReads<'radixEntry' | 'radixLock'>, T: TrackingLayout, i: number, pmd: boolean): boolean {
  if (pmd) {
    const p = pmdIndex(T.geometry, i);
    for (let x = p; x < p + T.dims.pmdPages && x < T.dims.pages; x++) if (isLocked(s, x)) return false;
    return true;
  }
  const at = coveringEntry(s, T.geometry, i);
  return at < 0 || !isLocked(s, at);
}

/**
 * First half of `__dax_fault` on page i: get_block, then `dax_insert_mapping` →
 * `dax_radix_entry(index, sector, false, write)`: the PTE entry is inserted (or found), DIRTY for
 * a write fault. With the entry lock, the fault keeps the entry locked until the PTE is in.
 */
export function daxFaultRadix(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number, write: boolean): number {
  const s = T.at(c);
  const at = radixEntryPte(s, T.geometry, i, write, false);
  if (d.entryLock) lockEntry(s, at);
  return at;
}

/**
 * Second half of `__dax_fault` (4.5) / `dax_iomap_fault` (4.10): `vm_insert_mixed` installs the
 * PTE with the VMA's `vm_page_prot`, which for a shared mapping with `pfn_mkwrite` lacks the write
 * bit (`vma_wants_writenotify`): the PTE is read-only even for a write fault, so the retried store
 * goes through `wp_pfn_shared` (until `vm_insert_mixed_mkwrite`, Linux 4.14). The entry is unlocked.
 */
export function vmInsertMixed(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number, _write: boolean): void {
  const s = T.at(c);
  setPteAndDirty(s, m, i, 'read-only');
  if (d.entryLock) {
    const at = coveringEntry(s, T.geometry, i);
    if (at >= 0) unlockEntry(s, at);
  }
}

/**
 * Does an entry track page i (the PMD entry covering it, or its own PTE entry)? In the entry-lock
 * design (Linux 4.10) `dax_pfn_mkwrite` without one returns VM_FAULT_NOPAGE at once and leaves the
 * PTE read-only; the store faults again.
 */
export function hasTrackingEntry(s: RadixReads<'radixEntry'>, T: TrackingLayout, i: number): boolean {
  return coveringEntry(s, T.geometry, i) >= 0;
}

/**
 * A store to a read-only PTE: `do_wp_page` → `wp_pfn_shared` drops the PTE lock and calls
 * `pfn_mkwrite` → `dax_pfn_mkwrite` → `dax_radix_entry(index, NO_SECTOR, false, true)`: the
 * existing entry is tagged DIRTY (locked, with the entry lock, until the PTE is writable).
 */
export function daxPfnMkwrite(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number): number {
  const s = T.at(c);
  const at = radixEntryPte(s, T.geometry, i, true, true);
  if (d.entryLock && at >= 0) lockEntry(s, at);
  return at;
}

/**
 * Back in `wp_pfn_shared` under the PTE lock (`pte_same` holds: nothing else in the model changes
 * a read-only PTE), `wp_page_reuse` → `pte_mkdirty` + `maybe_mkwrite`: the PTE is writable and
 * dirty. In 4.5 this happens whatever `dax_pfn_mkwrite` found (wp_pfn_shared only looks for
 * VM_FAULT_ERROR). With the entry lock (4.10), `dax_pfn_mkwrite` does this itself
 * (`finish_mkwrite_fault`, under the entry lock it took) and then unlocks the entry; it gets here
 * only when it found an entry (`hasTrackingEntry`), else the PTE stays read-only.
 */
export function wpPageReuse(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number): void {
  const s = T.at(c);
  setPteAndDirty(s, m, i, 'writable');
  if (d.entryLock) {
    const at = coveringEntry(s, T.geometry, i);
    if (at >= 0) unlockEntry(s, at);
  }
}

/**
 * First half of `__dax_pmd_fault` for page i (also reached from `wp_huge_pmd` for a write to a
 * read-only PMD): `dax_radix_entry(pmd index, sector, true, write)`, which replaces a PTE entry at
 * the PMD's index by a PMD entry (radix.ts). Returns the PTE entry's tags if it replaced one.
 */
export function daxPmdFaultRadix(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, i: number, write: boolean) {
  const s = T.at(c);
  const r = radixEntryPmd(s, T.geometry, i, write, d.pmdOverPte);
  if (d.entryLock) lockEntry(s, r.at);
  return r;
}

/** Second half of `__dax_pmd_fault`: `vmf_insert_pfn_pmd` installs the PMD; the entry is unlocked. */
export function vmfInsertPfnPmd(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, m: number, i: number, write: boolean): void {
  const s = T.at(c);
  setPmdAndDirty(s, m, write ? 'writable' : 'read-only');
  if (d.entryLock) unlockEntry(s, pmdIndex(T.geometry, i));
}

// ---------------------------------------------------------------- what the properties read

/**
 * Is some entry that fsync would flush for page i tagged DIRTY: the PTE entry at i, or the PMD
 * entry covering i? (After a PMD fault, a PTE entry at another index of the PMD stays beside the
 * PMD entry, as in the kernel: `dax_radix_entry` only looks at the PMD's own index.)
 */
export function isPageTrackedDirty(s: TrackingReads<'radixEntry' | 'radixDirty' | 'radixTowrite'>, T: TrackingLayout, i: number): boolean {
  const p = pmdIndex(T.geometry, i);
  if (s.radixEntry(p) === 'PMD entry' && hasTag(s, p, 'DIRTY')) return true;
  return s.radixEntry(i) === 'PTE entry' && hasTag(s, i, 'DIRTY');
}

/**
 * Writable, dirty page-table entries whose radix-tree entry is clean: the state Ross Zwisler's
 * race diagram ends in ("a dirty PTE that is writeable, but with a clean radix tree entry").
 * Stores through such an entry leave no trace fsync can find. Names them (`PTE 0.0`, `PMD 1`).
 */
export function writableOverCleanEntry(s: TrackingReads<'pte' | 'pteDirty' | 'pmd' | 'pmdDirty' | 'radixEntry' | 'radixDirty' | 'radixTowrite'>, T: TrackingLayout): string[] {
  const out: string[] = [];
  for (let m = 0; m < T.dims.mappings; m++) {
    for (let i = 0; i < T.dims.pages; i++) {
      if (s.pte(m, i) === 'writable' && s.pteDirty(m, i) === 'dirty' && !isPageTrackedDirty(s, T, i)) out.push(`PTE ${m}.${i}`);
    }
    if (s.pmd(m) === 'writable' && s.pmdDirty(m) === 'dirty') {
      const at = pmdIndex(T.geometry, 0);
      if (s.radixEntry(at) !== 'PMD entry' || !hasTag(s, at, 'DIRTY')) out.push(`PMD ${m}`);
    }
  }
  return out;
}
