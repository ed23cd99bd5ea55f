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
import { coveringEntry, describeEntry, hasTag, isLocked, pmdIndex, type Entry } from './radix.ts';
import { durableVersion, isCacheDirty, visibleVersion, type PageTableState, type TrackingContext, type TrackingLayout } from './tracking.ts';
import { gathered, storesNotDurable } from './writeback.ts';
import type { FsyncTrackingConfig } from './configs.ts';

type Taken = StepAction<TrackingContext>;
type P = { m?: number; i?: number; f?: number; write?: boolean; pmd?: boolean; last?: boolean; reason?: string };

/** A version of a page's word: `v2`, or `0` for the zeros the file was synced with. */
export function versionName(v: number): string {
  return v === 0 ? '0' : `v${v}`;
}

function pageTableText(state: PageTableState, dirty: 'clean' | 'dirty'): string {
  return state === 'absent' ? 'absent' : `${state}, ${dirty}`;
}

const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function fsyncTrackingRenderer(T: TrackingLayout, cfg: FsyncTrackingConfig): Renderer<TrackingContext> {
  const g = T.geometry;
  // Views of the state before and after a step (and of the state the renderer describes).
  const s0 = T.view();
  const s1 = T.view();
  const pteName = (m: number, i: number) => `PTE ${m}.${i}`;
  const pmdName = (m: number) => `PMD ${m}`;
  const tagsOf = (s: typeof s0, at: number) =>
    [hasTag(s, at, 'DIRTY') ? 'DIRTY' : null, hasTag(s, at, 'TOWRITE') ? 'TOWRITE' : null].filter(Boolean).join(', ') || 'no tags';
  const rangeText = (index: number, entry: Entry) => (entry === 'PMD entry' ? `index ${index}–${index + g.pmdPages - 1}, PMD_SIZE` : `index ${index}, PAGE_SIZE`);
  const lockNote = (at: number) => (at >= 0 && !isLocked(s0, at) && isLocked(s1, at) ? '; entry locked' : '');
  const unlockNote = () => {
    for (let at = 0; at < g.pages; at++) if (isLocked(s0, at) && !isLocked(s1, at)) return '; entry unlocked';
    return '';
  };

  /** Page-table entries whose state changed, named: `PTE 0.0, PMD 1`. */
  const changedPageTables = () => {
    const out: string[] = [];
    for (let m = 0; m < T.dims.mappings; m++) {
      for (let i = 0; i < g.pages; i++) {
        if (s0.pte(m, i) !== s1.pte(m, i) || s0.pteDirty(m, i) !== s1.pteDirty(m, i)) out.push(pteName(m, i));
      }
      if (s0.pmd(m) !== s1.pmd(m) || s0.pmdDirty(m) !== s1.pmdDirty(m)) out.push(pmdName(m));
    }
    return out;
  };

  function describe(a: Taken): string | null {
    const p = (a.params ?? {}) as P;
    const { before, after } = a;
    s0.at(before);
    s1.at(after);
    const m = p.m ?? 0;
    const i = p.i ?? 0;
    const f = p.f ?? 0;
    switch (a.type) {
      case 'load':
        return `load index ${i} (${versionName(visibleVersion(s0, i))}) through ${p.pmd ? pmdName(m) : pteName(m, i)}`;
      case 'store':
        return `store ${versionName(visibleVersion(s1, i))} to index ${i} through writable ${p.pmd ? pmdName(m) : pteName(m, i)}: cache line dirty, no fault`;
      case '__dax_fault': {
        const at = coveringEntry(s1, g, i);
        const found = coveringEntry(s0, g, i) >= 0;
        const what = found
          ? `${s1.radixEntry(at)} at ${at} found${p.write ? ' → radix_tree_tag_set(DIRTY)' : ''}`
          : `${p.write ? 'DIRTY ' : 'clean '}PTE entry inserted`;
        return `${p.write ? 'store to' : 'load from'} index ${i} faults (${pteName(m, i)} absent): __dax_fault(${p.write ? 'write' : 'read'}) → dax_radix_entry(index ${i}): ${what}${lockNote(at)}`;
      }
      case 'vm_insert_mixed':
        return `vm_insert_mixed → ${pteName(m, i)} ${p.write ? 'read-only even for a write (vm_page_prot of a shared mapping with pfn_mkwrite); the store is retried' : 'read-only; the load completes'}${unlockNote()}`;
      case 'dax_pfn_mkwrite': {
        const at = coveringEntry(s1, g, i);
        const entry = at >= 0 ? `${s1.radixEntry(at)} at ${at}` : 'no entry';
        return `store to index ${i} hits read-only ${pteName(m, i)}: wp_pfn_shared() → pfn_mkwrite() → dax_pfn_mkwrite() → dax_radix_entry(index ${i}, NO_SECTOR) → radix_tree_tag_set(DIRTY) on the ${entry}${lockNote(at)}`;
      }
      case 'dax_pfn_mkwrite_no_entry':
        return `store to index ${i} hits read-only ${pteName(m, i)}: wp_pfn_shared() → pfn_mkwrite() → dax_pfn_mkwrite(): no entry → VM_FAULT_NOPAGE; ${pteName(m, i)} stays read-only, the store faults again`;
      case 'wp_page_reuse':
        return cfg.design.entryLock
          ? `... dax_pfn_mkwrite() → finish_mkwrite_fault() → wp_page_reuse() → pte_mkdirty(): ${pteName(m, i)} writable, dirty; VM_FAULT_NOPAGE, the store is retried${unlockNote()}`
          : `... return up to wp_pfn_shared() → wp_page_reuse() → pte_mkdirty(): ${pteName(m, i)} writable, dirty; the store is retried${unlockNote()}`;
      case '__dax_pmd_fault': {
        const at = pmdIndex(g, i);
        const was = s0.radixEntry(at);
        const via =
          s0.pmd(m) === 'read-only'
            ? `store to index ${i} hits read-only ${pmdName(m)}: wp_huge_pmd() → __dax_pmd_fault(write)`
            : `${p.write ? 'store to' : 'load from'} index ${i} faults (${pmdName(m)} absent): __dax_pmd_fault(${p.write ? 'write' : 'read'})`;
        let what: string;
        if (was === 'PMD entry') what = p.write ? 'PMD entry found → radix_tree_tag_set(DIRTY)' : 'PMD entry found';
        else if (was === 'absent') what = `${p.write ? 'DIRTY' : 'clean'} PMD entry inserted`;
        else {
          const old = tagsOf(s0, at);
          const now = tagsOf(s1, at);
          what = `radix_tree_delete(PTE entry, ${old}), PMD entry inserted with ${now}${old !== now && old !== 'no tags' ? ' (the PTE entry\'s tags are lost)' : ''}`;
        }
        return `${via} → dax_radix_entry(index ${at}, PMD): ${what}${lockNote(at)}`;
      }
      case 'vmf_insert_pfn_pmd':
        return `vmf_insert_pfn_pmd → ${pmdName(m)} ${p.write ? 'writable, dirty; the store is retried' : 'read-only; the load completes'}${unlockNote()}`;

      case 'fsync': {
        const owed = Array.from({ length: g.pages }, (_, x) => x)
          .filter((x) => s1.called(f, x) > 0)
          .map((x) => `index ${x} = ${versionName(s1.called(f, x))}`);
        return `fsync(fd) → dax_writeback_mapping_range(0–${g.pages - 1}); stored before this call: ${owed.length ? list(owed) : 'nothing'}`;
      }
      case 'tag_pages_for_writeback': {
        const fresh: string[] = [];
        const already: string[] = [];
        for (let at = 0; at < g.pages; at++) {
          if (!hasTag(s1, at, 'TOWRITE')) continue;
          (hasTag(s0, at, 'TOWRITE') ? already : fresh).push(`index ${at} (${s1.radixEntry(at)})`);
        }
        if (!fresh.length && !already.length) return 'tag_pages_for_writeback: no DIRTY entry, nothing tagged';
        const parts: string[] = [];
        if (fresh.length) parts.push(`DIRTY → TOWRITE on ${list(fresh)}`);
        if (already.length) parts.push(`${list(already)} already TOWRITE (another fsync tagged it)`);
        return `tag_pages_for_writeback: ${parts.join('; ')}`;
      }
      case 'find_get_entries_tag': {
        const e = gathered(s1, f)!;
        return `find_get_entries_tag(TOWRITE) → index ${e.index} (${e.entry}), without tree_lock`;
      }
      case 'fsync_return': {
        const lost = storesNotDurable(s1, T, f).map((x) => `index ${x}'s ${versionName(s1.called(f, x))} (pmem holds ${versionName(durableVersion(s1, x))})`);
        return (
          'find_get_entries_tag(TOWRITE) → nothing left; wmb_pmem(); fsync returns 0' +
          (lost.length ? `, but ${list(lost)}, stored before this fsync was called, ${lost.length === 1 ? 'is' : 'are'} not durable` : '')
        );
      }
      case 'dax_writeback_one_skip': {
        const e = gathered(s0, f)!;
        const now = s0.radixEntry(e.index);
        return p.reason === 'changed'
          ? `dax_writeback_one(index ${e.index}): *slot != entry (the ${e.entry} is now ${now === 'absent' ? 'gone' : `a ${now}`}) → skipped`
          : `dax_writeback_one(index ${e.index}): no TOWRITE tag ("another fsync thread may have already written back this entry") → skipped`;
      }
      case 'dax_writeback_one': {
        const e = gathered(s0, f)!;
        const parts = [`dax_writeback_one(index ${e.index}): entry unchanged, TOWRITE set`];
        const cleared = (['TOWRITE', 'DIRTY'] as const).filter((t) => hasTag(s0, e.index, t) && !hasTag(s1, e.index, t));
        if (cleared.length) parts.push(`radix_tree_tag_clear(${cleared.join(' and ')}) before anything is flushed`);
        if (!isLocked(s0, e.index) && isLocked(s1, e.index)) parts.push('entry locked');
        parts.push('tree_lock dropped');
        return parts.join('; ');
      }
      case 'pgoff_mkclean': {
        const e = gathered(s0, f)!;
        const changed = changedPageTables();
        return `pgoff_mkclean(${rangeText(e.index, e.entry).split(',')[0]}): ${changed.length ? `${list(changed)} write-protected and cleaned` : 'no writable or dirty page-table entry to clean'}`;
      }
      case 'wb_cache_pmem': {
        const e = gathered(s0, f)!;
        const flushed: string[] = [];
        for (let x = 0; x < g.pages; x++) {
          if (isCacheDirty(s0, x) && !isCacheDirty(s1, x)) flushed.push(`index ${x}'s ${versionName(durableVersion(s1, x))}`);
        }
        return `wb_cache_pmem(${rangeText(e.index, e.entry)}) → ${flushed.length ? `${list(flushed)} written back to pmem` : 'no dirty cache line'}`;
      }
      case 'radix_tree_tag_clear': {
        const e = gathered(s0, f)!;
        const cleared = (['TOWRITE', 'DIRTY'] as const).filter((t) => hasTag(s0, e.index, t) && !hasTag(s1, e.index, t));
        const parts = [
          cleared.length
            ? `radix_tree_tag_clear(index ${e.index}, ${cleared.join(' and ')}) on the ${s1.radixEntry(e.index)}`
            : `radix_tree_tag_clear(index ${e.index}): no tag left to clear`,
        ];
        if (unlockNote()) parts.push('entry unlocked');
        return parts.join('; ');
      }
      case 'cpu_evict': {
        const x = (a.event as { p?: number }).p ?? 0;
        return `the CPU evicts index ${x}'s dirty cache line → ${versionName(durableVersion(s1, x))} written back to pmem`;
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
      s1.at(after);
      return { returned: 0, notDurable: storesNotDurable(s1, T, f).map((x) => ({ index: x, stored: s1.called(f, x), durable: durableVersion(s1, x) })) };
    },
    state: (c) => {
      const s = s1.at(c);
      const out: Record<string, string> = {};
      for (let at = 0; at < g.pages; at++) out[`radix ${at}`] = describeEntry(s, g, at);
      cfg.writers.forEach((w, m) => {
        if (w.mapping === 'pte') for (let i = 0; i < g.pages; i++) out[pteName(m, i)] = pageTableText(s.pte(m, i), s.pteDirty(m, i));
        else out[pmdName(m)] = pageTableText(s.pmd(m), s.pmdDirty(m));
      });
      for (let i = 0; i < g.pages; i++) {
        out[`pmem ${i}.0`] = versionName(durableVersion(s, i));
        out[`cache ${i}.0`] = isCacheDirty(s, i) ? `${versionName(visibleVersion(s, i))} (dirty)` : 'clean';
      }
      for (let f = 0; f < cfg.fsyncs; f++) {
        const e = gathered(s, f);
        out[`F${f} pagevec`] = e ? `index ${e.index} (${e.entry})` : 'empty';
        const owed = Array.from({ length: g.pages }, (_, x) => x)
          .filter((x) => s.called(f, x) > 0)
          .map((x) => `index ${x} ≥ ${versionName(s.called(f, x))}`);
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
