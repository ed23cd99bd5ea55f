/**
 * fsync on a DAX file in the dirty-tracking designs (seed 001): `dax_writeback_mapping_range`.
 *
 *   fsync(fd)                      the call: what was stored before it must be durable at return
 *   tag_pages_for_writeback        TOWRITE on every DIRTY entry, under tree_lock
 *   loop:
 *     find_get_entries_tag         the first TOWRITE entry, without tree_lock (RCU); none → return
 *     dax_writeback_one            under tree_lock: is the slot still that entry (`*slot != entry`)?
 *                                  still TOWRITE ("another fsync thread may have already written
 *                                  back this entry")? v8 clears TOWRITE here; with the entry lock,
 *                                  a locked entry makes it wait, else it locks it
 *     pgoff_mkclean                (designs that clean) write-protect and clean the range's PTEs/PMDs
 *     wb_cache_pmem                flush the entry's cache lines (a page, or the whole PMD)
 *     pgoff_mkclean                (v2 as posted: after the flush instead)
 *     radix_tree_tag_clear         (v9 and later) TOWRITE, and DIRTY where entries are cleaned,
 *                                  after the flush; the entry lock is dropped
 *   wmb_pmem; return 0
 *
 * As in the kernel, the loop rescans from the start of the range until no TOWRITE entry is left,
 * so an entry skipped because it changed is found again if it still carries TOWRITE. The pagevec
 * holds one entry (the kernel's holds 14; with a two-page file that only changes how many
 * entries one scan returns, not which ones are flushed).
 */
import {
  ENTRY_NONE,
  clearTag,
  entryKind,
  entryPages,
  findFirstTagged,
  hasTag,
  isLocked,
  lockEntry,
  tagPagesForWriteback as tagDirtyEntries,
  unlockEntry,
} from './radix.ts';
import {
  durableVersion,
  visibleVersion,
  writeProtectRange,
  type TrackingContext,
  type TrackingDesign,
  type TrackingLayout,
} from './tracking.ts';
import { writeBackPhys } from '../../models/pmem.ts';

/** The entry fsync caller f gathered: its index and kind, or null. */
export function gathered(c: TrackingContext, f: number): { index: number; kind: number } | null {
  const at = c.pvec[2 * f];
  return at === 0 ? null : { index: at - 1, kind: c.pvec[2 * f + 1] };
}

function setGathered(c: TrackingContext, f: number, g: { index: number; kind: number } | null): void {
  c.pvec[2 * f] = g ? g.index + 1 : 0;
  c.pvec[2 * f + 1] = g ? g.kind : 0;
}

/** Does writeback clear tags after the flush in a step of its own (`radix_tree_tag_clear`)? */
export function hasFinishStep(d: TrackingDesign): boolean {
  return d.towrite === 'after-flush' || d.clean === 'after-flush' || d.clean === 'wrprotect' || d.entryLock;
}

/** Does writeback write-protect the range (`pgoff_mkclean`), and does it do so before the flush? */
export function writeProtects(d: TrackingDesign): 'no' | 'before-flush' | 'after-flush' {
  return d.clean === 'wrprotect' ? 'before-flush' : d.clean === 'clean-then-wrprotect' ? 'after-flush' : 'no';
}

/**
 * fsync(fd) is called by caller f: remember (ghost) which version of every page a load would
 * return now. Those stores were made before the call; the promise is that they are durable when
 * it returns.
 */
export function fsyncCall(c: TrackingContext, T: TrackingLayout, f: number): void {
  for (let i = 0; i < T.dims.pages; i++) c.called[T.called(f, i)] = visibleVersion(c, T, i);
}

/** `tag_pages_for_writeback`: returns the indices newly tagged TOWRITE. */
export function tagPagesForWriteback(c: TrackingContext, T: TrackingLayout): number[] {
  return tagDirtyEntries(c.radix, T.geometry);
}

/** Is there an entry tagged TOWRITE left for `find_get_entries_tag` to find? */
export function hasTowriteEntry(c: TrackingContext, T: TrackingLayout): boolean {
  return findFirstTagged(c.radix, T.geometry, 'TOWRITE') >= 0;
}

/** `find_get_entries_tag(TOWRITE)`: caller f gathers the first TOWRITE entry (index and kind). */
export function findGetEntriesTag(c: TrackingContext, T: TrackingLayout, f: number): number {
  const at = findFirstTagged(c.radix, T.geometry, 'TOWRITE');
  setGathered(c, f, at < 0 ? null : { index: at, kind: entryKind(c.radix, at) });
  return at;
}

/** `*slot != entry`: the gathered entry was deleted or replaced since the unlocked lookup. */
export function gatheredEntryChanged(c: TrackingContext, f: number): boolean {
  const g = gathered(c, f);
  return !g || entryKind(c.radix, g.index) !== g.kind;
}

/** Is the gathered index still tagged TOWRITE? */
export function gatheredIsTowrite(c: TrackingContext, f: number): boolean {
  const g = gathered(c, f);
  return !!g && hasTag(c.radix, g.index, 'TOWRITE');
}

/** Is the entry at the gathered index locked (with the entry lock, writeback must wait)? */
export function gatheredIsLocked(c: TrackingContext, f: number): boolean {
  const g = gathered(c, f);
  return !!g && entryKind(c.radix, g.index) !== ENTRY_NONE && isLocked(c.radix, g.index);
}

/** `dax_writeback_one` gives up on the entry (changed, or no longer TOWRITE): back to the scan. */
export function writebackSkip(c: TrackingContext, f: number): void {
  setGathered(c, f, null);
}

/**
 * `dax_writeback_one` has the entry under tree_lock and goes on: v8 clears TOWRITE now, before
 * anything is flushed (v2 DIRTY as well); with the entry lock, it locks the entry. Then tree_lock
 * is dropped.
 */
export function writebackLookup(c: TrackingContext, d: TrackingDesign, f: number): void {
  const g = gathered(c, f)!;
  if (d.towrite === 'before-flush') clearTag(c.radix, g.index, 'TOWRITE');
  if (d.clean === 'clean-then-wrprotect') clearTag(c.radix, g.index, 'DIRTY');
  if (d.entryLock) lockEntry(c.radix, g.index);
}

/** The pages the gathered entry covers. */
export function gatheredPages(c: TrackingContext, T: TrackingLayout, f: number): number[] {
  const g = gathered(c, f);
  return g ? entryPages(T.geometry, g.index, g.kind) : [];
}

/**
 * `pgoff_mkclean` on the gathered entry's range: returns how many page-table entries changed.
 * When it is the entry's last step (v2 as posted), the pagevec is released here.
 */
export function pgoffMkclean(c: TrackingContext, T: TrackingLayout, f: number, last = false): number {
  const n = writeProtectRange(c, T, gatheredPages(c, T, f));
  if (last) setGathered(c, f, null);
  return n;
}

/**
 * `wb_cache_pmem(addr, PAGE_SIZE or PMD_SIZE)`: every dirty cache line of the entry's pages is
 * written back. When nothing follows the flush (v8), the pagevec is released here. Returns the
 * pages whose line was dirty.
 */
export function wbCachePmem(c: TrackingContext, T: TrackingLayout, f: number, last: boolean): number[] {
  const flushed = gatheredPages(c, T, f).filter((i) => writeBackPhys(c, T.L, i) > 0);
  if (last) setGathered(c, f, null);
  return flushed;
}

/**
 * After the flush, under tree_lock: `radix_tree_tag_clear` of TOWRITE (v9) and of DIRTY (designs
 * that clean), at the gathered index, whatever entry is there now; the entry lock is dropped.
 */
export function writebackFinish(c: TrackingContext, d: TrackingDesign, f: number): void {
  const g = gathered(c, f)!;
  if (d.towrite === 'after-flush') clearTag(c.radix, g.index, 'TOWRITE');
  if (d.clean === 'after-flush' || d.clean === 'wrprotect') clearTag(c.radix, g.index, 'DIRTY');
  if (d.entryLock) unlockEntry(c.radix, g.index);
  setGathered(c, f, null);
}

/**
 * Pages whose store, made before fsync caller f was called, is not on the media: the durable
 * version is older than the one a load returned at the call.
 */
export function storesNotDurable(c: TrackingContext, T: TrackingLayout, f: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < T.dims.pages; i++) if (durableVersion(c, T, i) < c.called[T.called(f, i)]) out.push(i);
  return out;
}

/** Did caller f have a store to make durable (something was stored before it was called)? */
export function hadStoresToSync(c: TrackingContext, T: TrackingLayout, f: number): boolean {
  for (let i = 0; i < T.dims.pages; i++) if (c.called[T.called(f, i)] > 0) return true;
  return false;
}
