/**
 * Counterexamples of the DAX fsync dirty-tracking spec in kernel terms, one line per step, like
 * Ross Zwisler's race diagram in seed 001:
 *
 *   W0: store to index 0 hits read-only PTE 0.0: wp_pfn_shared() → pfn_mkwrite() → dax_radix_entry(index 0, NO_SECTOR) → radix_tree_tag_set(DIRTY)
 *   F0: dax_writeback_one(index 0): TOWRITE set, entry unchanged; tree_lock dropped
 *   ...
 *   W0: return up to wp_pfn_shared() → wp_page_reuse() → pte_mkdirty(): PTE 0.0 writable, dirty; the store is retried
 *
 * Writers are `W0`, `W1`, ... (each its own process and mapping), fsync callers `F0`, `F1`, ...,
 * the CPU's own write-backs `cpu`. Stores write versions `v1`, `v2`, ... of a page's word.
 */
import type { FieldInfo, Renderer, StepAction } from '../common/spec.ts';
import { PTE_NONE, PTE_RO } from '../../models/layout.ts';
import { ENTRY_NAMES, ENTRY_NONE, ENTRY_PMD, coveringEntry, describeEntry, entryKind, hasTag, isLocked, pmdIndex } from '../../models/radix.ts';
import { durableVersion, isCacheDirty, pmdOf, pteOf, visibleVersion, type TrackingContext, type TrackingLayout } from '../../models/dax-tracking.ts';
import { gathered, storesNotDurable } from '../../models/dax-writeback.ts';
import type { FsyncTrackingConfig } from './configs.ts';

type Taken = StepAction<TrackingContext>;
type P = { m?: number; i?: number; f?: number; write?: boolean; pmd?: boolean; last?: boolean; reason?: string };

/** A version of a page's word: `v2`, or `0` for the zeros the file was synced with. */
export function versionName(v: number): string {
  return v === 0 ? '0' : `v${v}`;
}

const PAGE_TABLE_NAMES = ['absent', 'read-only', 'writable'] as const;

function pageTableText(state: number, dirty: boolean): string {
  return state === PTE_NONE ? 'absent' : `${PAGE_TABLE_NAMES[state]}${dirty ? ', dirty' : ', clean'}`;
}

const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function fsyncTrackingRenderer(T: TrackingLayout, cfg: FsyncTrackingConfig): Renderer<TrackingContext> {
  const g = T.geometry;
  const pteName = (m: number, i: number) => `PTE ${m}.${i}`;
  const pmdName = (m: number) => `PMD ${m}`;
  const entryText = (c: TrackingContext, at: number) => `${ENTRY_NAMES[entryKind(c.radix, at)]}`;
  const tagsOf = (c: TrackingContext, at: number) =>
    [hasTag(c.radix, at, 'DIRTY') ? 'DIRTY' : null, hasTag(c.radix, at, 'TOWRITE') ? 'TOWRITE' : null].filter(Boolean).join(', ') || 'no tags';
  const rangeText = (index: number, kind: number) => (kind === ENTRY_PMD ? `index ${index}–${index + g.pmdPages - 1}, PMD_SIZE` : `index ${index}, PAGE_SIZE`);
  const lockNote = (before: TrackingContext, after: TrackingContext, at: number) =>
    at >= 0 && !isLocked(before.radix, at) && isLocked(after.radix, at) ? '; entry locked' : '';
  const unlockNote = (before: TrackingContext, after: TrackingContext) => {
    for (let at = 0; at < g.pages; at++) if (isLocked(before.radix, at) && !isLocked(after.radix, at)) return '; entry unlocked';
    return '';
  };

  /** Page-table entries whose state changed, named: `PTE 0.0, PMD 1`. */
  const changedPageTables = (before: TrackingContext, after: TrackingContext) => {
    const out: string[] = [];
    for (let m = 0; m < T.dims.mappings; m++) {
      for (let i = 0; i < g.pages; i++) {
        if (pteOf(before, T, m, i) !== pteOf(after, T, m, i) || before.pt[T.pteDirty(m, i)] !== after.pt[T.pteDirty(m, i)]) out.push(pteName(m, i));
      }
      if (pmdOf(before, T, m) !== pmdOf(after, T, m) || before.pt[T.pmdDirty(m)] !== after.pt[T.pmdDirty(m)]) out.push(pmdName(m));
    }
    return out;
  };

  function describe(a: Taken): string | null {
    const p = (a.params ?? {}) as P;
    const { before, after } = a;
    const m = p.m ?? 0;
    const i = p.i ?? 0;
    const f = p.f ?? 0;
    switch (a.type) {
      case 'load':
        return `load index ${i} (${versionName(visibleVersion(before, T, i))}) through ${p.pmd ? pmdName(m) : pteName(m, i)}`;
      case 'store':
        return `store ${versionName(visibleVersion(after, T, i))} to index ${i} through writable ${p.pmd ? pmdName(m) : pteName(m, i)}: cache line dirty, no fault`;
      case '__dax_fault': {
        const at = coveringEntry(after.radix, g, i);
        const found = coveringEntry(before.radix, g, i) >= 0;
        const what = found
          ? `${entryText(after, at)} at ${at} found${p.write ? ' → radix_tree_tag_set(DIRTY)' : ''}`
          : `${p.write ? 'DIRTY ' : 'clean '}PTE entry inserted`;
        return `${p.write ? 'store to' : 'load from'} index ${i} faults (${pteName(m, i)} absent): __dax_fault(${p.write ? 'write' : 'read'}) → dax_radix_entry(index ${i}): ${what}${lockNote(before, after, at)}`;
      }
      case 'vm_insert_mixed':
        return `vm_insert_mixed → ${pteName(m, i)} ${p.write ? 'writable, dirty; the store is retried' : 'read-only; the load completes'}${unlockNote(before, after)}`;
      case 'dax_pfn_mkwrite': {
        const at = coveringEntry(after.radix, g, i);
        const entry = at >= 0 ? `${entryText(after, at)} at ${at}` : 'no entry';
        return `store to index ${i} hits read-only ${pteName(m, i)}: wp_pfn_shared() → pfn_mkwrite() → dax_pfn_mkwrite() → dax_radix_entry(index ${i}, NO_SECTOR) → radix_tree_tag_set(DIRTY) on the ${entry}${lockNote(before, after, at)}`;
      }
      case 'wp_page_reuse':
        return `... return up to wp_pfn_shared() → wp_page_reuse() → pte_mkdirty(): ${pteName(m, i)} writable, dirty; the store is retried${unlockNote(before, after)}`;
      case '__dax_pmd_fault': {
        const at = pmdIndex(g, i);
        const was = entryKind(before.radix, at);
        const via =
          pmdOf(before, T, m) === PTE_RO
            ? `store to index ${i} hits read-only ${pmdName(m)}: wp_huge_pmd() → __dax_pmd_fault(write)`
            : `${p.write ? 'store to' : 'load from'} index ${i} faults (${pmdName(m)} absent): __dax_pmd_fault(${p.write ? 'write' : 'read'})`;
        let what: string;
        if (was === ENTRY_PMD) what = p.write ? 'PMD entry found → radix_tree_tag_set(DIRTY)' : 'PMD entry found';
        else if (was === ENTRY_NONE) what = `${p.write ? 'DIRTY' : 'clean'} PMD entry inserted`;
        else {
          const old = tagsOf(before, at);
          const now = tagsOf(after, at);
          what = `radix_tree_delete(PTE entry, ${old}), PMD entry inserted with ${now}${old !== now && old !== 'no tags' ? ' (the PTE entry\'s tags are lost)' : ''}`;
        }
        return `${via} → dax_radix_entry(index ${at}, PMD): ${what}${lockNote(before, after, at)}`;
      }
      case 'vmf_insert_pfn_pmd':
        return `vmf_insert_pfn_pmd → ${pmdName(m)} ${p.write ? 'writable, dirty; the store is retried' : 'read-only; the load completes'}${unlockNote(before, after)}`;

      case 'fsync': {
        const owed = Array.from({ length: g.pages }, (_, x) => x)
          .filter((x) => after.called[T.called(f, x)] > 0)
          .map((x) => `index ${x} = ${versionName(after.called[T.called(f, x)])}`);
        return `fsync(fd) → dax_writeback_mapping_range(0–${g.pages - 1}); stored before this call: ${owed.length ? list(owed) : 'nothing'}`;
      }
      case 'tag_pages_for_writeback': {
        const fresh: string[] = [];
        const already: string[] = [];
        for (let at = 0; at < g.pages; at++) {
          if (!hasTag(after.radix, at, 'TOWRITE')) continue;
          (hasTag(before.radix, at, 'TOWRITE') ? already : fresh).push(`index ${at} (${entryText(after, at)})`);
        }
        if (!fresh.length && !already.length) return 'tag_pages_for_writeback: no DIRTY entry, nothing tagged';
        const parts: string[] = [];
        if (fresh.length) parts.push(`DIRTY → TOWRITE on ${list(fresh)}`);
        if (already.length) parts.push(`${list(already)} already TOWRITE (another fsync tagged it)`);
        return `tag_pages_for_writeback: ${parts.join('; ')}`;
      }
      case 'find_get_entries_tag': {
        const e = gathered(after, f)!;
        return `find_get_entries_tag(TOWRITE) → index ${e.index} (${ENTRY_NAMES[e.kind]}), without tree_lock`;
      }
      case 'fsync_return': {
        const lost = storesNotDurable(after, T, f).map(
          (x) => `index ${x}'s ${versionName(after.called[T.called(f, x)])} (pmem holds ${versionName(durableVersion(after, T, x))})`,
        );
        return (
          'find_get_entries_tag(TOWRITE) → nothing left; wmb_pmem(); fsync returns 0' +
          (lost.length ? `, but ${list(lost)}, stored before this fsync was called, ${lost.length === 1 ? 'is' : 'are'} not durable` : '')
        );
      }
      case 'dax_writeback_one_skip': {
        const e = gathered(before, f)!;
        return p.reason === 'changed'
          ? `dax_writeback_one(index ${e.index}): *slot != entry (the ${ENTRY_NAMES[e.kind]} is now ${entryKind(before.radix, e.index) === ENTRY_NONE ? 'gone' : `a ${ENTRY_NAMES[entryKind(before.radix, e.index)]}`}) → skipped`
          : `dax_writeback_one(index ${e.index}): no TOWRITE tag ("another fsync thread may have already written back this entry") → skipped`;
      }
      case 'dax_writeback_one': {
        const e = gathered(before, f)!;
        const parts = [`dax_writeback_one(index ${e.index}): entry unchanged, TOWRITE set`];
        const cleared = (['TOWRITE', 'DIRTY'] as const).filter((t) => hasTag(before.radix, e.index, t) && !hasTag(after.radix, e.index, t));
        if (cleared.length) parts.push(`radix_tree_tag_clear(${cleared.join(' and ')}) before anything is flushed`);
        if (!isLocked(before.radix, e.index) && isLocked(after.radix, e.index)) parts.push('entry locked');
        parts.push('tree_lock dropped');
        return parts.join('; ');
      }
      case 'pgoff_mkclean': {
        const e = gathered(before, f)!;
        const changed = changedPageTables(before, after);
        return `pgoff_mkclean(${rangeText(e.index, e.kind).split(',')[0]}): ${changed.length ? `${list(changed)} write-protected and cleaned` : 'no writable or dirty page-table entry to clean'}`;
      }
      case 'wb_cache_pmem': {
        const e = gathered(before, f)!;
        const flushed: string[] = [];
        for (let x = 0; x < g.pages; x++) {
          if (isCacheDirty(before, T, x) && !isCacheDirty(after, T, x)) flushed.push(`index ${x}'s ${versionName(durableVersion(after, T, x))}`);
        }
        return `wb_cache_pmem(${rangeText(e.index, e.kind)}) → ${flushed.length ? `${list(flushed)} written back to pmem` : 'no dirty cache line'}`;
      }
      case 'radix_tree_tag_clear': {
        const e = gathered(before, f)!;
        const cleared = (['TOWRITE', 'DIRTY'] as const).filter((t) => hasTag(before.radix, e.index, t) && !hasTag(after.radix, e.index, t));
        const parts = [
          cleared.length
            ? `radix_tree_tag_clear(index ${e.index}, ${cleared.join(' and ')}) on the ${entryText(after, e.index)}`
            : `radix_tree_tag_clear(index ${e.index}): no tag left to clear`,
        ];
        if (unlockNote(before, after)) parts.push('entry unlocked');
        return parts.join('; ');
      }
      case 'cpu_evict': {
        const x = (a.event as { p?: number }).p ?? 0;
        return `the CPU evicts index ${x}'s dirty cache line → ${versionName(durableVersion(after, T, x))} written back to pmem`;
      }
      default:
        return a.type;
    }
  }

  return {
    actor: (event) => {
      const dot = event.type.indexOf('.');
      return dot > 0 ? event.type.slice(0, dot) : event.type;
    },
    step: (_event, actions) =>
      actions
        .map(describe)
        .filter((x): x is string => x !== null)
        .join('; '),
    outcome: (event, _before, after) => {
      const m = /^F(\d+)\.fsync_return$/.exec(event.type);
      if (!m) return null;
      const f = Number(m[1]);
      return { returned: 0, notDurable: storesNotDurable(after, T, f).map((x) => ({ index: x, stored: after.called[T.called(f, x)], durable: durableVersion(after, T, x) })) };
    },
    state: (c) => {
      const out: Record<string, string> = {};
      for (let at = 0; at < g.pages; at++) out[`radix ${at}`] = describeEntry(c.radix, g, at);
      cfg.writers.forEach((w, m) => {
        if (w.mapping === 'pte') for (let i = 0; i < g.pages; i++) out[pteName(m, i)] = pageTableText(pteOf(c, T, m, i), c.pt[T.pteDirty(m, i)] === 1);
        else out[pmdName(m)] = pageTableText(pmdOf(c, T, m), c.pt[T.pmdDirty(m)] === 1);
      });
      for (let i = 0; i < g.pages; i++) {
        out[`pmem ${i}.0`] = versionName(durableVersion(c, T, i));
        out[`cache ${i}.0`] = isCacheDirty(c, T, i) ? `${versionName(visibleVersion(c, T, i))} (dirty)` : 'clean';
      }
      for (let f = 0; f < cfg.fsyncs; f++) {
        const e = gathered(c, f);
        out[`F${f} pagevec`] = e ? `index ${e.index} (${ENTRY_NAMES[e.kind]})` : 'empty';
        const owed = Array.from({ length: g.pages }, (_, x) => x)
          .filter((x) => c.called[T.called(f, x)] > 0)
          .map((x) => `index ${x} ≥ ${versionName(c.called[T.called(f, x)])}`);
        out[`F${f} must make durable`] = owed.length ? owed.join(', ') : 'nothing';
      }
      return out;
    },
    fields: () => {
      const out: Record<string, FieldInfo> = {};
      for (let at = 0; at < g.pages; at++) out[`radix ${at}`] = { kind: 'pagetable' };
      cfg.writers.forEach((w, m) => {
        if (w.mapping === 'pte') for (let i = 0; i < g.pages; i++) out[pteName(m, i)] = { kind: 'pagetable' };
        else out[pmdName(m)] = { kind: 'pagetable' };
      });
      for (let i = 0; i < g.pages; i++) {
        out[`pmem ${i}.0`] = { kind: 'durable' };
        out[`cache ${i}.0`] = { kind: 'cache', durable: `pmem ${i}.0` };
      }
      for (let f = 0; f < cfg.fsyncs; f++) {
        out[`F${f} pagevec`] = { kind: 'volatile' };
        // The fsync call's snapshot of what it must make durable: bookkeeping for the property.
        out[`F${f} must make durable`] = { kind: 'ghost' };
      }
      return out;
    },
    afterCrash: () => null,
  };
}
