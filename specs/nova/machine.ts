/**
 * NOVA-style MAP_SYNC: a per-inode persistent copy-on-write cache, migrated by atomic pointer swaps.
 *
 * Source: seed 003 (linux-fsdevel, October 2018). Dave Chinner: MAP_SYNC "really only requires
 * mmap() of CPU addressable persistent memory - it does not require DAX ... this is pretty much
 * how NOVA maintains DAX w/ COW - it COWs new pages in pmem and attaches them a special per-inode
 * cache on clean->dirty transition. Then on data sync, background writeback or crash recovery, it
 * migrates them from the cache into the file map proper via atomic metadata pointer swaps. IOWs,
 * NOVA provides the correct MAP_SYNC semantics by using a separate persistent per-inode write
 * cache to provide the correct crash recovery semantics for MAP_SYNC." The model is in
 * model.ts beside this file.
 *
 * Promise: when a write fault returns, the page the application writes is durably reachable (its
 * copy's cache entry is in the inode log), so a userspace flush makes the data durable without
 * fsync; and the fault writes that one entry, never other work, whatever else is dirty.
 *
 * Kernel modelled (audited, issue 13): the NOVA design as seed 003 describes it (NVSL's
 * out-of-tree linux-nova, 4.x), not NOVA's code: the write fault on a clean page (`dCow`) and the
 * writeback, fsync and recovery swaps are the spec's reading of the mail (model.ts). There is no
 * `pfn_mkwrite` shortcut (`pfnMkwrite: null`): a store to a write-protected page takes the whole
 * fault and copies again.
 */
import { kernelAction } from '../../models/action.ts';
import { powerFail } from '../../models/crash.ts';
import { withOwnTexts } from '../../models/describe-own.ts';
import { pte } from '../../models/faults.ts';
import { isDaxInode } from '../../models/fs.ts';
import type { DaxEvent } from '../../models/implementations.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import { BLOCK_SIZE, ERRNO_NAMES, HOLE, OK, PTE_RW, WRITTEN, type DaxContext } from '../../models/layout.ts';
import type { Ref } from '../apps/pmem-log.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { FieldInfo, Spec } from '../common/spec.ts';
import { novaConfigs, type NovaConfig } from './configs.ts';
import {
  NOVA,
  copiesInMemoryOnly,
  cowEntry,
  hasCopy,
  isSwapPending,
  mayWriteBack,
  novaFsync,
  novaFtruncate,
  novaHooks,
  novaRecover,
  novaState,
  novaSwap,
  novaWriteFault,
  novaWriteback,
  writablePagesDurablyBacked,
  type NovaDesign,
  type NovaLayout,
} from './model.ts';

export const NOVA_NAMES = {
  backed: 'every writable page of a NOVA mapping is durably reachable, through the COW cache or the file map',
  writeback: 'background writeback swaps a copy into the file map before any crash',
  recovery: 'the power fails with copies in the COW cache, for recovery to migrate',
} as const;

function novaProperties(L: NovaLayout): DaxProperty[] {
  const s = L.view();
  return [
    { kind: 'always', id: 'nova-pages-backed', name: NOVA_NAMES.backed, holds: (v) => !v.matches('running') || writablePagesDurablyBacked(v.context, L) },
    {
      kind: 'sometimes',
      id: 'writeback-swaps-copy',
      name: NOVA_NAMES.writeback,
      // Only a swap writes the file map while the system runs (ftruncate writes only i_size).
      reached: (v) => {
        if (!v.matches('running') || s.at(v.context).crashes() > 0) return false;
        for (let b = 0; b < L.B; b++) if (s.committedExtent(b) === WRITTEN) return true;
        return false;
      },
    },
    {
      kind: 'sometimes',
      id: 'crash-with-cow-copies',
      name: NOVA_NAMES.recovery,
      reached: (v) => {
        if (!v.matches('crashing')) return false;
        for (let b = 0; b < L.B; b++) if (s.at(v.context).cow(b) !== 0) return true;
        return false;
      },
    },
  ];
}

type At = { t: number; m: number; b: number };
const FD = 3;

/** NOVA's steps, each with the words its trace step prints. */
function novaImplementations(L: NovaLayout, d: NovaDesign) {
  const s0 = L.view();
  const s1 = L.view();
  /** "hole" or "pmem block p": what the file map says block b is. */
  const fileMap = (s: typeof s0, b: number) => (s.committedExtent(b) === HOLE ? 'hole' : `pmem block ${s.committedPhys(b)}`);
  /** Blocks whose file map changed in a step: "block b → pmem q". */
  const migrated = (before: DaxContext, after: DaxContext) => {
    s0.at(before);
    s1.at(after);
    const out: string[] = [];
    for (let b = 0; b < L.B; b++) {
      if (s0.committedExtent(b) !== s1.committedExtent(b) || s0.committedPhys(b) !== s1.committedPhys(b)) out.push(`block ${b} → ${fileMap(s1, b)}`);
    }
    return out;
  };
  const dirtyWords = (c: DaxContext) => {
    const s = L.at(c);
    let n = 0;
    for (let p = 0; p < L.P; p++) for (let w = 0; w < L.W; w++) n += s.dirty(p, w);
    return n;
  };
  const written = (before: DaxContext, after: DaxContext) => {
    const n = dirtyWords(before) - dirtyWords(after);
    return `${n} dirty word${n === 1 ? '' : 's'} written back`;
  };
  const sync = kernelAction<{ t: number }>(
    (c, _e, p) => void novaFsync(c, L, p.t),
    ({ type, before, after }) => {
      const moved = migrated(before, after);
      return `${type}(${FD}) = 0 → ${written(before, after)}; ${moved.length ? `COW cache migrated into the file map (${moved.join(', ')})` : 'nothing in the COW cache'}`;
    },
  );
  return {
    guards: {
      /** A store to a page without a writable entry faults: clean → dirty is a copy-on-write. */
      needsDaxWriteFault: ({ context }: { context: DaxContext }, p: At) => isDaxInode(context, L) && pte(context, L, p.m, p.b) !== PTE_RW,
      /** NOVA has no running transaction of its own; only other filesystems' journals commit. */
      isRunningTransactionDirty: ({ context }: { context: DaxContext }) => L.at(context).unrelated() > 0,
      /** Does block `event.b` have a copy that writeback may migrate now? */
      mayWriteBack: ({ context, event }: { context: DaxContext; event: DaxEvent }) => mayWriteBack(context, L, d, event.b!),
      /** Two-step design: is block `event.b`'s entry retired with the pointer swap still to come? */
      isSwapPending: ({ context, event }: { context: DaxContext; event: DaxEvent }) => isSwapPending(context, L, d, event.b!),
    },
    actions: {
      nova_dax_fault: kernelAction<At>(
        (c, _e, p) => void novaWriteFault(c, L, d, p.t, p.m, p.b),
        ({ params: p, before, after }) => {
          const name = `nova_dax_fault(write, block ${p.b})`;
          const b0 = s0.at(before);
          const b1 = s1.at(after);
          if (b1.errno(p.t) !== '0') return `${name} → ${b1.errno(p.t)}`;
          const q = b1.phys(p.b);
          if (hasCopy(before, L, p.b)) return `${name} → block ${p.b} already has a copy (pmem block ${q}); PTE writable → pmem ${q}`;
          const from = b0.extent(p.b) === HOLE ? `block ${p.b} (a hole: zeros)` : `block ${p.b} (pmem block ${b0.phys(p.b)})`;
          const how = d.copy === 'flushed' ? 'with memcpy_flushcache' : 'with cached stores, not yet on the media';
          const entry =
            cowEntry(after, L, p.b) === q
              ? `COW cache entry block ${p.b} → pmem ${q} appended to the inode log (durable)`
              : `COW cache entry block ${p.b} → pmem ${q} kept in memory only`;
          return `${name} → clean→dirty: ${from} copied to pmem block ${q} ${how}; ${entry}; PTE writable → pmem ${q}`;
        },
      ),
      nova_writeback: kernelAction(
        (c, e) => void novaWriteback(c, L, d, e.b!),
        ({ event, before, after }) => {
          const b = event.b!;
          const head = `background writeback of block ${b}: PTE write-protected, ${written(before, after)}`;
          if (!migrated(before, after).length) return `${head}; COW cache entry of block ${b} retired (durable) before the file map points at the copy`;
          return `${head}; atomic pointer swap: file map block ${b} → ${fileMap(s1.at(after), b)} (was ${fileMap(s0.at(before), b)}), COW cache entry dropped`;
        },
      ),
      nova_swap: kernelAction(
        (c, e) => novaSwap(c, L, e.b!),
        ({ event, before, after }) => `pointer swap: file map block ${event.b} → ${fileMap(s1.at(after), event.b!)} (was ${fileMap(s0.at(before), event.b!)})`,
      ),
      fsync: sync,
      fdatasync: sync,
      msync: kernelAction<{ t: number }>((c, _e, p) => void novaFsync(c, L, p.t)),
      ftruncate: kernelAction<{ t: number; blocks: number }>(
        (c, _e, p) => void novaFtruncate(c, L, p.t, p.blocks),
        ({ params: p }) => `ftruncate(${FD}, ${(p.blocks ?? 0) * BLOCK_SIZE}) = 0 (the new size is in the inode log, durable, before the call returns)`,
      ),
      mount_and_recover: kernelAction(
        (c) => void novaRecover(c, L),
        ({ before, after }) => {
          const moved = migrated(before, after);
          return `NOVA recovery: inode log replayed → i_size ${s1.at(after).committedSize() * BLOCK_SIZE}; ${
            moved.length ? `COW cache migrated into the file map by pointer swaps (${moved.join(', ')})` : 'the COW cache is empty'
          }`;
        },
      ),
      jbd2_journal_commit_transaction: kernelAction(
        (c) => void L.at(c).unrelated.set(0),
        ({ before }) => {
          const u = s0.at(before).unrelated();
          return `another filesystem's journal commits ${u} unrelated object${u === 1 ? '' : 's'} (NOVA's faults never wait for it)`;
        },
      ),
      // The shared model's power failure, worded for NOVA: what its log keeps and what is lost.
      power_fail: kernelAction(
        (c) => powerFail(c, L),
        (a, shared) => {
          const cut = (shared(a) ?? 'power failure').replace(/; (running transaction lost \(.*\)|nothing uncommitted in the journal)$/, '');
          const lost = copiesInMemoryOnly(a.before, L);
          return lost.length
            ? `${cut}; copies in memory only, lost: ${lost.map((b) => `block ${b} (pmem ${s0.at(a.before).phys(b)})`).join(', ')}`
            : `${cut}; the inode log and the COW cache are durable`;
        },
      ),
    },
  };
}

/** NOVA's fields on the timeline: the COW cache and the in-memory copies (no running transaction). */
function novaStateText(L: NovaLayout) {
  return (c: DaxContext, fields: Record<string, string>) => {
    const out = { ...fields };
    delete out['running transaction'];
    for (let b = 0; b < L.B; b++) {
      const q = cowEntry(c, L, b);
      out[`COW cache block ${b}`] = q >= 0 ? `pmem ${q}` : 'none';
      out[`copy of block ${b} (in memory)`] = hasCopy(c, L, b) ? `pmem ${L.at(c).phys(b)}` : 'none';
    }
    return out;
  };
}

/** What NOVA's fields are: the cache entry is in the inode log (durable), the copy in memory ahead of it. */
function novaFieldKinds(L: NovaLayout) {
  return (_c: DaxContext, shared: Record<string, FieldInfo>) => {
    const out = { ...shared };
    delete out['running transaction'];
    for (let b = 0; b < L.B; b++) {
      out[`COW cache block ${b}`] = { kind: 'durable' };
      out[`copy of block ${b} (in memory)`] = { kind: 'volatile', durable: `COW cache block ${b}` };
    }
    return out;
  };
}

export const nova: DaxSpec<NovaConfig, ReturnType<typeof novaState>> = daxSpec({
  name: 'nova',
  title: 'NOVA-style MAP_SYNC: a persistent per-inode copy-on-write cache',
  sources: ['003'],
  promise:
    'When a write fault returns, the page written is a copy whose cache entry is durable in the inode log, so a userspace flush makes the data durable without fsync; data sync, background writeback and recovery migrate copies into the file map by atomic pointer swaps.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, on ADR/eADR persistent memory',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes (NOVA is copy-on-write throughout; not modelled here)',
    'background maintenance (defrag, scrub, EOF scan)': 'yes (not modelled here)',
    'works on files without DAX': 'no: NOVA is a pmem filesystem',
    'extra cost in a page fault': 'a page copy and one log entry, whatever else is dirty',
    'space for copies': 'one extra pmem block per dirty page until writeback migrates it',
  },
  configs: novaConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => {
    const d: NovaDesign = { ...NOVA, ...config.design };
    const writeFault = (at: At): Ref[] => [{ type: 'nova_dax_fault', params: at }];
    return {
      mmapFlags: 'shared_validate_sync',
      // A write to a read-only (written back) page is a new clean→dirty transition: a full fault.
      faultPath: { mapSync: true, writeFault, pfnMkwrite: null },
      state: novaState,
      hooks: novaHooks,
      // A copy made with cached stores leaves the new block's old media content readable after a
      // crash (crash-image reduction, models/crash.ts).
      fillsNewBlocksThroughCache: d.copy !== 'flushed',
      // Threads running the same program are interchangeable (check --symmetry); a cache entry
      // belongs to its file block.
      symmetry: { fields: { cow: { index: ['block'] } } },
      // Writeback write-protects pages and another thread's copy-on-write unmaps the old page:
      // stores and flushes may fault again.
      revocable: true,
      implementations: (L) => novaImplementations(L, d),
      // Background writeback migrates copies at any time (and, in the two-step design, swaps).
      environment: (L) => {
        const on: Record<string, unknown> = { 'nova.writeback': { guard: 'mayWriteBack', actions: 'nova_writeback' } };
        const events: DaxEvent[] = [];
        for (let b = 0; b < L.B; b++) events.push({ type: 'nova.writeback', b });
        if (d.swap === 'two-step') {
          on['nova.swap'] = { guard: 'isSwapPending', actions: 'nova_swap' };
          for (let b = 0; b < L.B; b++) events.push({ type: 'nova.swap', b });
        }
        return { on, events };
      },
      properties: (L) => novaProperties(L),
      render: (L, app, shared) => withOwnTexts(L, app, shared, { state: novaStateText(L), fields: novaFieldKinds(L) }),
    };
  },
});
