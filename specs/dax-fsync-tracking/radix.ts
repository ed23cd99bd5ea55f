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
 * The tree is a byte vector of SLOT_BYTES bytes per index: kind, DIRTY, TOWRITE, lock.
 */

export const ENTRY_NONE = 0;
export const ENTRY_PTE = 1;
export const ENTRY_PMD = 2;
export const ENTRY_NAMES = ['absent', 'PTE entry', 'PMD entry'] as const;

/** A page-cache tag of a radix-tree entry. */
export type Tag = 'DIRTY' | 'TOWRITE';

const KIND = 0;
const TAG_BYTE: Record<Tag, number> = { DIRTY: 1, TOWRITE: 2 };
const LOCK = 3;
/** Bytes per index in the tree's vector. */
export const SLOT_BYTES = 4;

/** How many indices the tree has and how many of them a PMD entry covers. */
export interface RadixGeometry {
  /** Page indices of the file. */
  pages: number;
  /** Indices one PMD covers (PMD_SIZE / PAGE_SIZE; 2 in the model, 512 on x86-64). */
  pmdPages: number;
}

/** The index a PMD entry covering `index` sits at (index & ~PG_PMD_COLOUR). */
export function pmdIndex(g: RadixGeometry, index: number): number {
  return index - (index % g.pmdPages);
}

export function entryKind(r: Uint8Array, index: number): number {
  return r[index * SLOT_BYTES + KIND];
}

export function hasTag(r: Uint8Array, index: number, tag: Tag): boolean {
  return r[index * SLOT_BYTES + TAG_BYTE[tag]] === 1;
}

/** `radix_tree_tag_set`; a no-op where there is no entry. */
export function setTag(r: Uint8Array, index: number, tag: Tag): void {
  if (entryKind(r, index) !== ENTRY_NONE) r[index * SLOT_BYTES + TAG_BYTE[tag]] = 1;
}

/** `radix_tree_tag_clear`. */
export function clearTag(r: Uint8Array, index: number, tag: Tag): void {
  r[index * SLOT_BYTES + TAG_BYTE[tag]] = 0;
}

export function isLocked(r: Uint8Array, index: number): boolean {
  return r[index * SLOT_BYTES + LOCK] === 1;
}

/** Locks the entry at `index` (the caller has checked it is unlocked: a locked entry makes it wait). */
export function lockEntry(r: Uint8Array, index: number): void {
  if (entryKind(r, index) !== ENTRY_NONE) r[index * SLOT_BYTES + LOCK] = 1;
}

/** Unlocks the entry at `index` (and, in the kernel, wakes its waiters). */
export function unlockEntry(r: Uint8Array, index: number): void {
  r[index * SLOT_BYTES + LOCK] = 0;
}

/** `radix_tree_delete` + `radix_tree_insert`: a fresh entry with no tags, unlocked. */
function putEntry(r: Uint8Array, index: number, kind: number): void {
  const at = index * SLOT_BYTES;
  r[at + KIND] = kind;
  r[at + TAG_BYTE.DIRTY] = 0;
  r[at + TAG_BYTE.TOWRITE] = 0;
  r[at + LOCK] = 0;
}

/**
 * The entry that tracks page `index`: the PMD entry covering it if there is one, else the entry
 * at `index` itself; -1 when there is none. This is the lookup v9 (Linux 4.5) does; v8 looks at
 * `index` alone. The two differ only when a PMD entry and a PTE entry of the same PMD coexist,
 * which no configuration of the v8 design creates.
 */
export function coveringEntry(r: Uint8Array, g: RadixGeometry, index: number): number {
  const p = pmdIndex(g, index);
  if (entryKind(r, p) === ENTRY_PMD) return p;
  return entryKind(r, index) === ENTRY_NONE ? -1 : index;
}

/** The page indices an entry at `index` of `kind` flushes: one page, or the whole PMD. */
export function entryPages(g: RadixGeometry, index: number, kind: number): number[] {
  if (kind === ENTRY_PMD) return Array.from({ length: g.pmdPages }, (_, k) => index + k);
  return kind === ENTRY_PTE ? [index] : [];
}

/**
 * `dax_radix_entry(mapping, index, sector, false, dirty)` from `__dax_fault` (a sector) or
 * `dax_pfn_mkwrite` (NO_SECTOR): an existing covering entry is only tagged DIRTY when `dirty`; a
 * missing one is inserted, except with NO_SECTOR, which expects an entry and does nothing.
 * Returns the index of the entry that now tracks the page, or -1.
 */
export function radixEntryPte(r: Uint8Array, g: RadixGeometry, index: number, dirty: boolean, noSector: boolean): number {
  let at = coveringEntry(r, g, index);
  if (at < 0) {
    if (noSector) return -1;
    putEntry(r, index, ENTRY_PTE);
    at = index;
  }
  if (dirty) setTag(r, at, 'DIRTY');
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
  r: Uint8Array,
  g: RadixGeometry,
  index: number,
  dirty: boolean,
  mode: PmdOverPte,
): { at: number; replaced: { dirty: boolean; towrite: boolean } | null } {
  const at = pmdIndex(g, index);
  let replaced: { dirty: boolean; towrite: boolean } | null = null;
  const kind = entryKind(r, at);
  if (kind !== ENTRY_PMD) {
    if (kind === ENTRY_PTE) replaced = { dirty: hasTag(r, at, 'DIRTY'), towrite: hasTag(r, at, 'TOWRITE') };
    putEntry(r, at, ENTRY_PMD);
    if (replaced && mode === 'transfer-tags') {
      if (replaced.dirty) setTag(r, at, 'DIRTY');
      if (replaced.towrite) setTag(r, at, 'TOWRITE');
    }
  }
  if (dirty) setTag(r, at, 'DIRTY');
  return { at, replaced };
}

/**
 * `tag_pages_for_writeback(mapping, 0, -1)`: TOWRITE on every DIRTY entry (one batch: the model's
 * file is far smaller than WRITEBACK_TAG_BATCH). Returns the indices that were not already TOWRITE.
 */
export function tagPagesForWriteback(r: Uint8Array, g: RadixGeometry): number[] {
  const fresh: number[] = [];
  for (let i = 0; i < g.pages; i++) {
    if (!hasTag(r, i, 'DIRTY')) continue;
    if (!hasTag(r, i, 'TOWRITE')) fresh.push(i);
    setTag(r, i, 'TOWRITE');
  }
  return fresh;
}

/** `find_get_entries_tag(mapping, from, tag, 1, ...)`: the first index ≥ from carrying `tag`, or -1. */
export function findFirstTagged(r: Uint8Array, g: RadixGeometry, tag: Tag, from = 0): number {
  for (let i = from; i < g.pages; i++) if (entryKind(r, i) !== ENTRY_NONE && hasTag(r, i, tag)) return i;
  return -1;
}

/** The entry at `index` in words: `PMD entry, DIRTY, TOWRITE, locked`. */
export function describeEntry(r: Uint8Array, g: RadixGeometry, index: number): string {
  const kind = entryKind(r, index);
  if (kind === ENTRY_NONE) {
    const p = pmdIndex(g, index);
    return p !== index && entryKind(r, p) === ENTRY_PMD ? `covered by the PMD entry at ${p}` : 'absent';
  }
  const parts: string[] = [kind === ENTRY_PMD ? `PMD entry (indices ${index}–${index + g.pmdPages - 1})` : 'PTE entry'];
  parts.push(hasTag(r, index, 'DIRTY') ? 'DIRTY' : 'clean');
  if (hasTag(r, index, 'TOWRITE')) parts.push('TOWRITE');
  if (isLocked(r, index)) parts.push('locked');
  return parts.join(', ');
}
