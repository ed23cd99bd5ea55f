/**
 * The DAX radix tree of one file's address_space (fs/dax.c, seed 001).
 *
 * DAX has no struct page to carry dirty state, so Ross Zwisler's fsync patch keeps "exceptional"
 * entries in `mapping->page_tree`: per page index an entry that is absent, a PTE entry (one page)
 * or a PMD entry (a huge page: it sits at the first index of its PMD and covers `pmdPages`
 * indices). Each entry carries the page-cache tags the writeback code already knows: DIRTY (set at
 * fault time: the page has been written through a writable mapping) and TOWRITE (set by
 * `tag_pages_for_writeback` at the start of an fsync: "this sync must flush it"). Jan Kara's later
 * design adds a per-entry lock bit that the fault path and writeback hold across several steps.
 * A sector is not stored: page i always lives in persistent-memory block i, so an entry's sector
 * is its index.
 *
 * Every function here runs under `mapping->tree_lock` in the kernel. The model takes each call as
 * one atomic step, so the spinlock itself needs no state.
 *
 * The tree is four declared fields per page index (`radixFields`, models/fields.ts): the entry,
 * its DIRTY and its TOWRITE tag, and its lock. Every function here reads and writes them through a
 * view of the state (`s.radixEntry(i) === 'PMD entry'`, `hasTag(s, i, 'DIRTY')`).
 */
import { fields, type FieldValue, type FieldView } from '../../models/fields.ts';


export const ENTRY_NONE = 0;
export const ENTRY_PTE = 1;
export const ENTRY_PMD = 2;
export const ENTRY_NAMES = ['absent', 'PTE entry', 'PMD entry'] as const;
/** What is at a page index of the tree. */
export type Entry = (typeof ENTRY_NAMES)[number];

/** A page-cache tag of a radix-tree entry. */
export type Tag = 'DIRTY' | 'TOWRITE';
/** Values of the tag and lock fields. */
export const DIRTY_VALUES = ['no', 'DIRTY'] as const;
export const TOWRITE_VALUES = ['no', 'TOWRITE'] as const;
export const LOCK_VALUES = ['unlocked', 'locked'] as const;

/** How many indices the tree has and how many of them a PMD entry covers. */
export interface RadixGeometry {
  /** Page indices of the file. */
  pages: number;
  /** Indices one PMD covers (PMD_SIZE / PAGE_SIZE; 2 in the model, 512 on x86-64). */
  pmdPages: number;
}

/** The tree's state: four fields per page index, all lost with the machine (volatile). */
export const radixFields = (g: RadixGeometry) =>
  fields({
    radixEntry: {
      part: 'volatile',
      shape: [g.pages],
      values: ENTRY_NAMES,
      doc: 'the radix-tree entry at page index i: absent, a PTE entry, or a PMD entry (at the first index of its PMD, covering pmdPages indices)',
    },
    radixDirty: { part: 'volatile', shape: [g.pages], values: DIRTY_VALUES, doc: "the entry's DIRTY tag: set at fault time, the page has been written through a writable mapping" },
    radixTowrite: { part: 'volatile', shape: [g.pages], values: TOWRITE_VALUES, doc: "the entry's TOWRITE tag: set by tag_pages_for_writeback, this sync must flush it" },
    radixLock: { part: 'volatile', shape: [g.pages], values: LOCK_VALUES, doc: "the entry lock of Jan Kara's later design, held by the fault path or writeback across steps" },
  });

export type RadixFields = ReturnType<typeof radixFields>;
/** A view of a state with the tree's fields (the tracking layout's view is one). */
export type RadixView = FieldView<RadixFields>;
/** Read access to some of the tree's fields, by the same names and values: a view, or a faster reader. */
export type RadixReads<K extends keyof RadixFields = keyof RadixFields> = { readonly [F in K]: (...index: number[]) => FieldValue<RadixFields[F]> };

/** The index a PMD entry covering `index` sits at (index & ~PG_PMD_COLOUR). */
export function pmdIndex(g: RadixGeometry, index: number): number {
  return index - (index % g.pmdPages);
}

export function hasTag(s: RadixReads<'radixDirty' | 'radixTowrite'>, index: number, tag: Tag): boolean {
  return tag === 'DIRTY' ? s.radixDirty(index) === 'DIRTY' : s.radixTowrite(index) === 'TOWRITE';
}

/** `radix_tree_tag_set`; a no-op where there is no entry. */
export function setTag(s: RadixView, index: number, tag: Tag): void {
  if (s.radixEntry(index) === 'absent') return;
  if (tag === 'DIRTY') s.radixDirty.set(index, 'DIRTY');
  else s.radixTowrite.set(index, 'TOWRITE');
}

/** `radix_tree_tag_clear`. */
export function clearTag(s: RadixView, index: number, tag: Tag): void {
  if (tag === 'DIRTY') s.radixDirty.set(index, 'no');
  else s.radixTowrite.set(index, 'no');
}

export function isLocked(s: RadixReads<'radixLock'>, index: number): boolean {
  return s.radixLock(index) === 'locked';
}

/** Locks the entry at `index` (the caller has checked it is unlocked: a locked entry makes it wait). */
export function lockEntry(s: RadixView, index: number): void {
  if (s.radixEntry(index) !== 'absent') s.radixLock.set(index, 'locked');
}

/** Unlocks the entry at `index` (and, in the kernel, wakes its waiters). */
export function unlockEntry(s: RadixView, index: number): void {
  s.radixLock.set(index, 'unlocked');
}

/** `radix_tree_delete` + `radix_tree_insert`: a fresh entry with no tags, unlocked. */
function putEntry(s: RadixView, index: number, entry: Entry): void {
  s.radixEntry.set(index, entry);
  s.radixDirty.set(index, 'no');
  s.radixTowrite.set(index, 'no');
  s.radixLock.set(index, 'unlocked');
}

/**
 * The entry that tracks page `index`: the PMD entry covering it if there is one, else the entry
 * at `index` itself; -1 when there is none. This is the lookup v9 (Linux 4.5) does; v8 looks at
 * `index` alone. The two differ only when a PMD entry and a PTE entry of the same PMD coexist,
 * which no configuration of the v8 design creates.
 */
export function coveringEntry(s: RadixReads<'radixEntry'>, g: RadixGeometry, index: number): number {
  const p = pmdIndex(g, index);
  if (s.radixEntry(p) === 'PMD entry') return p;
  return s.radixEntry(index) === 'absent' ? -1 : index;
}

/** The page indices an entry at `index` flushes: one page, or the whole PMD. */
export function entryPages(g: RadixGeometry, index: number, entry: Entry): number[] {
  if (entry === 'PMD entry') return Array.from({ length: g.pmdPages }, (_, k) => index + k);
  return entry === 'PTE entry' ? [index] : [];
}

/**
 * `dax_radix_entry(mapping, index, sector, false, dirty)` from `__dax_fault` (a sector) or
 * `dax_pfn_mkwrite` (NO_SECTOR): an existing covering entry is only tagged DIRTY when `dirty`; a
 * missing one is inserted, except with NO_SECTOR, which expects an entry and does nothing.
 * Returns the index of the entry that now tracks the page, or -1.
 */
export function radixEntryPte(s: RadixView, g: RadixGeometry, index: number, dirty: boolean, noSector: boolean): number {
  let at = coveringEntry(s, g, index);
  if (at < 0) {
    if (noSector) return -1;
    putEntry(s, index, 'PTE entry');
    at = index;
  }
  if (dirty) setTag(s, at, 'DIRTY');
  return at;
}

/** What `dax_radix_entry` does when a PMD fault finds a PTE entry at the PMD's index. */
export type PmdOverPte =
  /** v8 as posted: delete the PTE entry and insert a fresh PMD entry, dirty only if this fault writes. */
  | 'clean-insert'
  /** Jan Kara's fix: the new PMD entry takes over the old entry's DIRTY and TOWRITE tags. */
  | 'transfer-tags';

/**
 * `dax_radix_entry(mapping, pgoff, sector, true, dirty)` from `__dax_pmd_fault`. Returns the
 * index of the PMD entry and what happened to a PTE entry it replaced (its tags before), if any.
 */
export function radixEntryPmd(
  s: RadixView,
  g: RadixGeometry,
  index: number,
  dirty: boolean,
  mode: PmdOverPte,
): { at: number; replaced: { dirty: boolean; towrite: boolean } | null } {
  const at = pmdIndex(g, index);
  let replaced: { dirty: boolean; towrite: boolean } | null = null;
  const entry = s.radixEntry(at);
  if (entry !== 'PMD entry') {
    if (entry === 'PTE entry') replaced = { dirty: hasTag(s, at, 'DIRTY'), towrite: hasTag(s, at, 'TOWRITE') };
    putEntry(s, at, 'PMD entry');
    if (replaced && mode === 'transfer-tags') {
      if (replaced.dirty) setTag(s, at, 'DIRTY');
      if (replaced.towrite) setTag(s, at, 'TOWRITE');
    }
  }
  if (dirty) setTag(s, at, 'DIRTY');
  return { at, replaced };
}

/**
 * `tag_pages_for_writeback(mapping, 0, -1)`: TOWRITE on every DIRTY entry (one batch: the model's
 * file is far smaller than WRITEBACK_TAG_BATCH). Returns the indices that were not already TOWRITE.
 */
export function tagPagesForWriteback(s: RadixView, g: RadixGeometry): number[] {
  const fresh: number[] = [];
  for (let i = 0; i < g.pages; i++) {
    if (!hasTag(s, i, 'DIRTY')) continue;
    if (!hasTag(s, i, 'TOWRITE')) fresh.push(i);
    setTag(s, i, 'TOWRITE');
  }
  return fresh;
}

/** `find_get_entries_tag(mapping, from, tag, 1, ...)`: the first index ≥ from carrying `tag`, or -1. */
export function findFirstTagged(s: RadixReads, g: RadixGeometry, tag: Tag, from = 0): number {
  for (let i = from; i < g.pages; i++) if (s.radixEntry(i) !== 'absent' && hasTag(s, i, tag)) return i;
  return -1;
}

/** The entry at `index` in words: `PMD entry, DIRTY, TOWRITE, locked`. */
export function describeEntry(s: RadixReads, g: RadixGeometry, index: number): string {
  const entry = s.radixEntry(index);
  if (entry === 'absent') {
    const p = pmdIndex(g, index);
    return p !== index && s.radixEntry(p) === 'PMD entry' ? `covered by the PMD entry at ${p}` : 'absent';
  }
  const parts: string[] = [entry === 'PMD entry' ? `PMD entry (indices ${index}–${index + g.pmdPages - 1})` : 'PTE entry'];
  parts.push(hasTag(s, index, 'DIRTY') ? 'DIRTY' : 'clean');
  if (hasTag(s, index, 'TOWRITE')) parts.push('TOWRITE');
  if (isLocked(s, index)) parts.push('locked');
  return parts.join(', ');
}
