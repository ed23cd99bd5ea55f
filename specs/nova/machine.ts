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
 * models/nova.ts.
 *
 * Promise: when a write fault returns, the page the application writes is durably reachable (its
 * copy's cache entry is in the inode log), so a userspace flush makes the data durable without
 * fsync; and the fault writes that one entry, never other work, whatever else is dirty.
 */
import { mutator } from '../../checker/xstate/mutator.ts';
import { withOwnTexts } from '../../models/describe-own.ts';
import { pte } from '../../models/faults.ts';
import { isDaxInode } from '../../models/fs.ts';
import type { DaxEvent } from '../../models/implementations.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import { PTE_RW, WRITTEN, type DaxContext, type Layout } from '../../models/layout.ts';
import {
  NOVA,
  isSwapPending,
  mayWriteBack,
  novaFsync,
  novaFtruncate,
  novaRecover,
  novaSwap,
  novaWriteFault,
  novaWriteback,
  writablePagesDurablyBacked,
  type NovaDesign,
} from '../../models/nova.ts';
import type { Ref } from '../apps/pmem-log.ts';
import { buildDaxSpec } from '../common/dax-machine.ts';
import type { Spec } from '../common/spec.ts';
import { novaConfigs, type NovaConfig } from './configs.ts';
import { novaTexts } from './describe.ts';

export const NOVA_NAMES = {
  backed: 'every writable page of a NOVA mapping is durably reachable, through the COW cache or the file map',
  writeback: 'background writeback swaps a copy into the file map before any crash',
  recovery: 'the power fails with copies in the COW cache, for recovery to migrate',
} as const;

function novaProperties(L: Layout): DaxProperty[] {
  return [
    { kind: 'always', id: 'nova-pages-backed', name: NOVA_NAMES.backed, holds: (v) => !v.matches('running') || writablePagesDurablyBacked(v.context, L) },
    {
      kind: 'sometimes',
      id: 'writeback-swaps-copy',
      name: NOVA_NAMES.writeback,
      // Only a swap writes the file map while the system runs (ftruncate writes only i_size).
      reached: (v) => {
        if (!v.matches('running') || v.context.ghost[L.gCrashes] > 0) return false;
        for (let b = 0; b < L.B; b++) if (v.context.durable[L.dExtKind + b] === WRITTEN) return true;
        return false;
      },
    },
    {
      kind: 'sometimes',
      id: 'crash-with-cow-copies',
      name: NOVA_NAMES.recovery,
      reached: (v) => {
        if (!v.matches('crashing')) return false;
        for (let b = 0; b < L.B; b++) if (v.context.durable[L.dCow + b] !== 0) return true;
        return false;
      },
    },
  ];
}

const act = <P>(fn: (c: DaxContext, e: DaxEvent, p: P) => void) => mutator<DaxContext, DaxEvent, P>(fn);
type At = { t: number; m: number; b: number };

function novaImplementations(L: Layout, d: NovaDesign) {
  return {
    guards: {
      /** A store to a page without a writable entry faults: clean → dirty is a copy-on-write. */
      needsDaxWriteFault: ({ context }: { context: DaxContext }, p: At) => isDaxInode(context, L) && pte(context, L, p.m, p.b) !== PTE_RW,
      /** NOVA has no running transaction of its own; only other filesystems' journals commit. */
      isRunningTransactionDirty: ({ context }: { context: DaxContext }) => context.volatile[L.vUnrelated] > 0,
      /** Does block `event.b` have a copy that writeback may migrate now? */
      mayWriteBack: ({ context, event }: { context: DaxContext; event: DaxEvent }) => mayWriteBack(context, L, d, event.b!),
      /** Two-step design: is block `event.b`'s entry retired with the pointer swap still to come? */
      isSwapPending: ({ context, event }: { context: DaxContext; event: DaxEvent }) => isSwapPending(context, L, d, event.b!),
    },
    actions: {
      nova_dax_fault: act<At>((c, _e, p) => void novaWriteFault(c, L, d, p.t, p.m, p.b)),
      nova_writeback: act((c, e) => void novaWriteback(c, L, d, e.b!)),
      nova_swap: act((c, e) => novaSwap(c, L, e.b!)),
      fsync: act<{ t: number }>((c, _e, p) => void novaFsync(c, L, p.t)),
      fdatasync: act<{ t: number }>((c, _e, p) => void novaFsync(c, L, p.t)),
      msync: act<{ t: number }>((c, _e, p) => void novaFsync(c, L, p.t)),
      ftruncate: act<{ t: number; blocks: number }>((c, _e, p) => void novaFtruncate(c, L, p.t, p.blocks)),
      mount_and_recover: act((c) => void novaRecover(c, L)),
      jbd2_journal_commit_transaction: act((c) => {
        c.volatile[L.vUnrelated] = 0;
      }),
    },
  };
}

export const nova: Spec<NovaConfig, DaxContext> = {
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
  build: (config) => {
    const d: NovaDesign = { ...NOVA, ...config.design };
    const writeFault = (at: At): Ref[] => [{ type: 'nova_dax_fault', params: at }];
    return buildDaxSpec({
      id: 'nova',
      config,
      mmapFlags: 'shared_validate_sync',
      // A write to a read-only (written back) page is a new clean→dirty transition: a full fault.
      faultPath: { mapSync: true, writeFault, pfnMkwrite: null },
      features: { cowCache: true },
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
      render: (L, app, shared) => withOwnTexts(L, app, shared, novaTexts(L, d)),
    });
  },
};
