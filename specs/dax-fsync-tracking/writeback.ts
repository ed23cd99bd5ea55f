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
import { writeBackPhys } from '../../models/pmem.ts';
import { clearTag, entryPages, findFirstTagged, isLocked, lockEntry, tagPagesForWriteback as tagDirtyEntries, unlockEntry, type Entry } from './radix.ts';
import {
  durableVersion,
  visibleVersion,
  writeProtectRange,
  type TrackingContext,
  type TrackingDesign,
  type TrackingLayout,
  type TrackingReads,
  type TrackingView,
} from './tracking.ts';

/** The entry fsync caller f gathered: its index and what it was, or null. */
export function gathered(s: TrackingReads<'gathered' | 'gatheredEntry'>, f: number): { index: number; entry: Entry } | null {
  const at = s.gathered(f);
  return at === 0 ? null : { index: at - 1, entry: s.gatheredEntry(f) };
}

function setGathered(s: TrackingView, f: number, g: { index: number; entry: Entry } | null): void {
  s.gathered.set(f, g ? g.index + 1 : 0);
  s.gatheredEntry.set(f, g ? g.entry : 'absent');
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
  const s = T.at(c);
  for (let i = 0; i < T.dims.pages; i++) s.called.set(f, i, visibleVersion(s, i));
}

/** `tag_pages_for_writeback`: returns the indices newly tagged TOWRITE. */
export function tagPagesForWriteback(c: TrackingContext, T: TrackingLayout): number[] {
  return tagDirtyEntries(T.at(c), T.geometry);
}

/** Is there an entry tagged TOWRITE left for `find_get_entries_tag` to find? */
export function hasTowriteEntry(s: TrackingReads<'radixEntry' | 'radixDirty' | 'radixTowrite' | 'radixLock'>, T: TrackingLayout): boolean {
  return findFirstTagged(s, T.geometry, 'TOWRITE') >= 0;
}

/** `find_get_entries_tag(TOWRITE)`: caller f gathers the first TOWRITE entry (index and what it is). */
export function findGetEntriesTag(c: TrackingContext, T: TrackingLayout, f: number): number {
  const s = T.at(c);
  const at = findFirstTagged(s, T.geometry, 'TOWRITE');
  setGathered(s, f, at < 0 ? null : { index: at, entry: s.radixEntry(at) });
  return at;
}

/** `*slot != entry`: the gathered entry was deleted or replaced since the unlocked lookup. */
export function gatheredEntryChanged(s: TrackingReads<'gathered' | 'gatheredEntry' | 'radixEntry'>, f: number): boolean {
  const at = s.gathered(f);
  return at === 0 || s.radixEntry(at - 1) !== s.gatheredEntry(f);
}

/** Is the gathered index still tagged TOWRITE? */
export function gatheredIsTowrite(s: TrackingReads<'gathered' | 'radixTowrite'>, f: number): boolean {
  const at = s.gathered(f);
  return at !== 0 && s.radixTowrite(at - 1) === 'TOWRITE';
}

/** Is the entry at the gathered index locked (with the entry lock, writeback must wait)? */
export function gatheredIsLocked(s: TrackingReads<'gathered' | 'radixEntry' | 'radixLock'>, f: number): boolean {
  const at = s.gathered(f);
  return at !== 0 && s.radixEntry(at - 1) !== 'absent' && isLocked(s, at - 1);
}

/** `dax_writeback_one` gives up on the entry (changed, or no longer TOWRITE): back to the scan. */
export function writebackSkip(c: TrackingContext, T: TrackingLayout, f: number): void {
  setGathered(T.at(c), f, null);
}

/**
 * `dax_writeback_one` has the entry under tree_lock and goes on: v8 clears TOWRITE now, before
 * anything is flushed (v2 DIRTY as well); with the entry lock, it locks the entry. Then tree_lock
 * is dropped.
 */
export function writebackLookup(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, f: number): void {
  const s = T.at(c);
  const g = gathered(s, f)!;
  if (d.towrite === 'before-flush') clearTag(s, g.index, 'TOWRITE');
  if (d.clean === 'clean-then-wrprotect') clearTag(s, g.index, 'DIRTY');
  if (d.entryLock) lockEntry(s, g.index);
}

/** The pages the gathered entry covers. */
export function gatheredPages(s: TrackingReads<'gathered' | 'gatheredEntry'>, T: TrackingLayout, f: number): number[] {
  const g = gathered(s, f);
  return g ? entryPages(T.geometry, g.index, g.entry) : [];
}

/**
 * `pgoff_mkclean` on the gathered entry's range: returns how many page-table entries changed.
 * When it is the entry's last step (v2 as posted), the pagevec is released here.
 */
export function pgoffMkclean(c: TrackingContext, T: TrackingLayout, f: number, last = false): number {
  const n = writeProtectRange(c, T, gatheredPages(T.at(c), T, f));
  if (last) setGathered(T.at(c), f, null);
  return n;
}

/**
 * `wb_cache_pmem(addr, PAGE_SIZE or PMD_SIZE)`: every dirty cache line of the entry's pages is
 * written back. When nothing follows the flush (v8), the pagevec is released here. Returns the
 * pages whose line was dirty.
 */
export function wbCachePmem(c: TrackingContext, T: TrackingLayout, f: number, last: boolean): number[] {
  const flushed = gatheredPages(T.at(c), T, f).filter((i) => writeBackPhys(c, T.L, i) > 0);
  if (last) setGathered(T.at(c), f, null);
  return flushed;
}

/**
 * After the flush, under tree_lock: `radix_tree_tag_clear` of TOWRITE (v9) and of DIRTY (designs
 * that clean), at the gathered index, whatever entry is there now; the entry lock is dropped.
 */
export function writebackFinish(c: TrackingContext, T: TrackingLayout, d: TrackingDesign, f: number): void {
  const s = T.at(c);
  const g = gathered(s, f)!;
  if (d.towrite === 'after-flush') clearTag(s, g.index, 'TOWRITE');
  if (d.clean === 'after-flush' || d.clean === 'wrprotect') clearTag(s, g.index, 'DIRTY');
  if (d.entryLock) unlockEntry(s, g.index);
  setGathered(s, f, null);
}

/**
 * Pages whose store, made before fsync caller f was called, is not on the media: the durable
 * version is older than the one a load returned at the call.
 */
export function storesNotDurable(s: TrackingReads<'pmem' | 'called'>, T: TrackingLayout, f: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < T.dims.pages; i++) if (durableVersion(s, i) < s.called(f, i)) out.push(i);
  return out;
}

/** Did caller f have a store to make durable (something was stored before it was called)? */
export function hadStoresToSync(s: TrackingReads<'called'>, T: TrackingLayout, f: number): boolean {
  for (let i = 0; i < T.dims.pages; i++) if (s.called(f, i) > 0) return true;
  return false;
}
