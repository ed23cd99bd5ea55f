/**
 * Unit tests of the dirty-tracking fault paths (specs/dax-fsync-tracking/tracking.ts) and fsync's
 * writeback (writeback.ts), each on a hand-built state: two pages in one PMD, mapping 0 with
 * PTEs, mapping 1 with a PMD, two fsync callers.
 */
import { describe, expect, it } from 'vitest';
import type { DaxContext } from '../../../models/layout.ts';
import { hasTag, isLocked, setTag } from '../../../specs/dax-fsync-tracking/radix.ts';
import {
  cpuStore,
  daxFaultRadix,
  daxPfnMkwrite,
  daxPmdFaultRadix,
  durableVersion,
  evictLine,
  isCacheDirty,
  isTrackingEntryUnlocked,
  trackingBounds,
  trackingContext,
  TrackingLayout,
  visibleVersion,
  vmfInsertPfnPmd,
  vmInsertMixed,
  wpPageReuse,
  writableOverCleanEntry,
  type TrackingDesign,
} from '../../../specs/dax-fsync-tracking/tracking.ts';
import {
  findGetEntriesTag,
  fsyncCall,
  gathered,
  gatheredEntryChanged,
  gatheredIsTowrite,
  hasFinishStep,
  pgoffMkclean,
  storesNotDurable,
  tagPagesForWriteback,
  wbCachePmem,
  writebackFinish,
  writebackLookup,
} from '../../../specs/dax-fsync-tracking/writeback.ts';

const T = new TrackingLayout({ pages: 2, pmdPages: 2, mappings: 2, fsyncs: 2, maxVersion: 3 });
const v8: TrackingDesign = { pmdOverPte: 'clean-insert', towrite: 'before-flush', clean: 'never', entryLock: false };
const v9: TrackingDesign = { pmdOverPte: 'transfer-tags', towrite: 'after-flush', clean: 'never', entryLock: false };
const locked: TrackingDesign = { ...v9, clean: 'wrprotect', entryLock: true };
/** A view of the layout, pointed at a state: `at(c).pte(0, 0) === 'writable'`. */
const view = T.view();
const at = (c: DaxContext) => view.at(c);

/** W0 loads page 0 (read fault), then writes it through wp_pfn_shared: PTE 0.0 writable, entry DIRTY. */
function dirtyPage0(d: TrackingDesign) {
  const c = trackingContext(T);
  daxFaultRadix(c, T, d, 0, false);
  vmInsertMixed(c, T, d, 0, 0, false);
  daxPfnMkwrite(c, T, d, 0);
  wpPageReuse(c, T, d, 0, 0);
  cpuStore(c, T, 0, 0, false);
  return c;
}

describe('the initial state', () => {
  it('is a synced file of zeros, nothing mapped, within its bounds', () => {
    const c = trackingContext(T);
    const b = trackingBounds(T);
    expect([visibleVersion(at(c), 0), durableVersion(at(c), 1)]).toEqual([0, 0]);
    expect([at(c).pte(0, 0), at(c).pmd(1)]).toEqual(['absent', 'absent']);
    for (const [k, v] of Object.entries(c)) (v as Uint8Array).forEach((x, i) => expect(x, `${k}[${i}]`).toBeLessThanOrEqual(b[k][i]));
  });
});

describe('stores and the CPU cache', () => {
  it('a store writes the next version into the cache line; only a flush or an eviction puts it on the media', () => {
    const c = dirtyPage0(v8);
    expect([visibleVersion(at(c), 0), durableVersion(at(c), 0), isCacheDirty(at(c), 0)]).toEqual([1, 0, true]);
    cpuStore(c, T, 0, 0, false);
    expect(visibleVersion(at(c), 0)).toBe(2);
    expect(evictLine(c, T, 0)).toBe(true);
    expect([durableVersion(at(c), 0), isCacheDirty(at(c), 0), evictLine(c, T, 0)]).toEqual([2, false, false]);
  });
});

describe('the fault paths', () => {
  it('read fault: clean PTE entry, read-only PTE; the write goes wp_pfn_shared → DIRTY, then wp_page_reuse → writable, dirty', () => {
    const c = trackingContext(T);
    daxFaultRadix(c, T, v8, 0, false);
    vmInsertMixed(c, T, v8, 0, 0, false);
    expect([at(c).radixEntry(0), hasTag(at(c), 0, 'DIRTY'), at(c).pte(0, 0)]).toEqual(['PTE entry', false, 'read-only']);
    daxPfnMkwrite(c, T, v8, 0);
    expect([hasTag(at(c), 0, 'DIRTY'), at(c).pte(0, 0)]).toEqual([true, 'read-only']);
    wpPageReuse(c, T, v8, 0, 0);
    expect(at(c).pte(0, 0)).toBe('writable');
    expect(writableOverCleanEntry(at(c), T)).toEqual([]);
  });

  it('v8: a PMD read fault leaves PTE 0.0 writable over a clean PMD entry (finding 1)', () => {
    const c = dirtyPage0(v8);
    const r = daxPmdFaultRadix(c, T, v8, 1, false);
    vmfInsertPfnPmd(c, T, v8, 1, 1, false);
    expect(r.replaced).toEqual({ dirty: true, towrite: false });
    expect(at(c).radixEntry(0)).toBe('PMD entry');
    expect(writableOverCleanEntry(at(c), T)).toEqual(['PTE 0.0']);
    expect(at(c).pmd(1)).toBe('read-only');
  });

  it('with the entry lock a fault holds the entry from dax_radix_entry to the PTE update, and a PMD fault waits for any locked entry in its range', () => {
    const c = trackingContext(T);
    daxFaultRadix(c, T, locked, 1, true);
    expect(isLocked(at(c), 1)).toBe(true);
    expect(isTrackingEntryUnlocked(at(c), T, 1, false)).toBe(false);
    expect(isTrackingEntryUnlocked(at(c), T, 0, false)).toBe(true);
    // The PMD's own index is free, but a PTE entry inside its range is locked.
    expect(isTrackingEntryUnlocked(at(c), T, 0, true)).toBe(false);
    vmInsertMixed(c, T, locked, 0, 1, true);
    expect(isLocked(at(c), 1)).toBe(false);
    expect(isTrackingEntryUnlocked(at(c), T, 0, true)).toBe(true);
  });
});

describe("fsync's writeback", () => {
  it('remembers at the call what a load would return, and judges the media against it', () => {
    const c = dirtyPage0(v9);
    fsyncCall(c, T, 1);
    expect(storesNotDurable(at(c), T, 1)).toEqual([0]);
    expect(storesNotDurable(at(c), T, 0)).toEqual([]); // F0 was not called
    evictLine(c, T, 0);
    expect(storesNotDurable(at(c), T, 1)).toEqual([]);
  });

  it('v8 clears TOWRITE at the lookup, before the flush (finding 2)', () => {
    const c = dirtyPage0(v8);
    tagPagesForWriteback(c, T);
    expect(findGetEntriesTag(c, T, 0)).toBe(0);
    expect(gathered(at(c), 0)).toEqual({ index: 0, entry: 'PTE entry' });
    writebackLookup(c, T, v8, 0);
    expect(hasTag(at(c), 0, 'TOWRITE')).toBe(false);
    expect(isCacheDirty(at(c), 0)).toBe(true);
    expect(hasFinishStep(v8)).toBe(false);
    expect(wbCachePmem(c, T, 0, true)).toEqual([0]);
    expect(gathered(at(c), 0)).toBeNull();
    expect(durableVersion(at(c), 0)).toBe(1);
  });

  it('v9 keeps TOWRITE until after the flush, then clears it at the index: a tag another fsync set is cleared too', () => {
    const c = dirtyPage0(v9);
    tagPagesForWriteback(c, T);
    findGetEntriesTag(c, T, 0);
    writebackLookup(c, T, v9, 0);
    expect(gatheredIsTowrite(at(c), 0)).toBe(true);
    wbCachePmem(c, T, 0, false);
    cpuStore(c, T, 0, 0, false); // a store after the flush
    fsyncCall(c, T, 1);
    expect(tagPagesForWriteback(c, T)).toEqual([]); // F1's tag: already set
    writebackFinish(c, T, v9, 0);
    expect([hasTag(at(c), 0, 'TOWRITE'), hasTag(at(c), 0, 'DIRTY')]).toEqual([false, true]);
    expect(storesNotDurable(at(c), T, 1)).toEqual([0]);
  });

  it('`*slot != entry`: an entry replaced after it was gathered is seen as changed', () => {
    const c = dirtyPage0(v9);
    tagPagesForWriteback(c, T);
    findGetEntriesTag(c, T, 0);
    daxPmdFaultRadix(c, T, v9, 1, false);
    expect(gatheredEntryChanged(at(c), 0)).toBe(true);
    // The tags came along: the rescan finds the PMD entry, which flushes both pages.
    expect(findGetEntriesTag(c, T, 0)).toBe(0);
    expect(gathered(at(c), 0)).toEqual({ index: 0, entry: 'PMD entry' });
  });

  it('pgoff_mkclean write-protects and cleans every PTE and PMD of the range; the clean step clears DIRTY and drops the lock', () => {
    const c = dirtyPage0(locked);
    daxPmdFaultRadix(c, T, locked, 1, true);
    vmfInsertPfnPmd(c, T, locked, 1, 1, true);
    tagPagesForWriteback(c, T);
    findGetEntriesTag(c, T, 0);
    writebackLookup(c, T, locked, 0);
    expect(isLocked(at(c), 0)).toBe(true);
    expect(pgoffMkclean(c, T, 0)).toBe(2);
    expect([at(c).pte(0, 0), at(c).pmd(1)]).toEqual(['read-only', 'read-only']);
    expect(at(c).pteDirty(0, 0)).toBe('clean');
    wbCachePmem(c, T, 0, false);
    writebackFinish(c, T, locked, 0);
    expect([hasTag(at(c), 0, 'DIRTY'), hasTag(at(c), 0, 'TOWRITE'), isLocked(at(c), 0)]).toEqual([false, false, false]);
    expect(writableOverCleanEntry(at(c), T)).toEqual([]);
  });

  it("Ross Zwisler's race, by hand: DIRTY tagged, writeback cleans, then wp_page_reuse makes the PTE writable", () => {
    const d: TrackingDesign = { ...v9, clean: 'wrprotect' };
    const c = trackingContext(T);
    daxFaultRadix(c, T, d, 0, false);
    vmInsertMixed(c, T, d, 0, 0, false);
    daxPfnMkwrite(c, T, d, 0); // thread 1: radix_tree_tag_set(DIRTY)
    tagPagesForWriteback(c, T); // thread 2: writeback
    findGetEntriesTag(c, T, 0);
    writebackLookup(c, T, d, 0);
    expect(pgoffMkclean(c, T, 0)).toBe(0); // the PTE is still read-only
    wbCachePmem(c, T, 0, false);
    writebackFinish(c, T, d, 0);
    wpPageReuse(c, T, d, 0, 0); // thread 1: wp_page_reuse → pte_mkdirty
    expect(writableOverCleanEntry(at(c), T)).toEqual(['PTE 0.0']);
    setTag(at(c), 0, 'DIRTY');
    expect(writableOverCleanEntry(at(c), T)).toEqual([]);
  });
});

describe('vm_insert_mixed (Linux 4.5 and 4.10)', () => {
  it('installs even a write fault\'s PTE read-only (no write bit in vm_page_prot), so the retried store goes through wp_pfn_shared', () => {
    for (const d of [v9, locked]) {
      const c = trackingContext(T);
      daxFaultRadix(c, T, d, 0, true);
      vmInsertMixed(c, T, d, 0, 0, true);
      expect([at(c).pte(0, 0), at(c).pteDirty(0, 0), hasTag(at(c), 0, 'DIRTY'), isLocked(at(c), 0)]).toEqual(['read-only', 'clean', true, false]);
    }
  });
});
