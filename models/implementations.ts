/**
 * The named guards and actions every spec gives to XState's `setup()`. Names are the kernel's
 * (`dax_iomap_fault`, `pfn_mkwrite`, `jbd2_journal_commit_transaction`) or the system call's;
 * guards are questions. Each action is a `mutator`: an ordinary `assign` for XState, an in-place
 * update for the explorer.
 *
 * Application steps carry their arguments as action params (thread t, mapping m, file block b,
 * word w); environment events carry them in the event (cache line p, crash image).
 */
import { mutator } from '../checker/xstate/mutator.ts';
import { OK, SAW_DANGLING, SAW_NOTHING, SAW_RECORD, SAW_TORN, type DaxContext, type Layout } from './layout.ts';
import { durableWord, fileSize, isDaxInode, isDurablyWritten } from './fs.ts';
import { commitRunningTransaction, runningItems } from './journal.ts';
import { isPhysDirty, writeBackPhys } from './pmem.ts';
import { finishSyncFault, needsPfnMkwrite, needsWriteFault, pageFault, pfnMkwrite } from './faults.ts';
import {
  mmapErrno,
  sysFallocate,
  sysFtruncate,
  sysMmap,
  sysMsync,
  sysMunmap,
  sysOpen,
  syncFile,
  type MmapFlags,
} from './syscalls.ts';
import { isPteMapped, isPteWritable, userFlush, userStore } from './userspace.ts';
import { isCrashImagePossible, journalRecover, powerFail } from './crash.ts';
import type { AppLayout } from './app-layout.ts';

export type DaxEvent = { type: string; p?: number; image?: number };

/** Params of application steps. */
export type At = { t: number; m: number; b: number };
export type StoreAt = At & { w: number; value: number };

const act = <P>(fn: (c: DaxContext, e: DaxEvent, p: P) => void) => mutator<DaxContext, DaxEvent, P>(fn);

export function daxGuards(L: Layout) {
  return {
    /** Can the store retire without a fault? */
    isPteWritable: (a: { context: DaxContext }, p: At) => isPteWritable(a.context, L, p.m, p.b),
    /** Does the access need `dax_iomap_fault` (no entry, or the zero page)? */
    needsDaxWriteFault: (a: { context: DaxContext }, p: At) =>
      isDaxInode(a.context, L) && needsWriteFault(a.context, L, p.m, p.b),
    /** Does the access need only `pfn_mkwrite`? */
    needsPfnMkwrite: (a: { context: DaxContext }, p: At) =>
      isDaxInode(a.context, L) && needsPfnMkwrite(a.context, L, p.m, p.b),
    /** Without S_DAX: does the store need `page_mkwrite` on a page-cache page? */
    needsPageMkwrite: (a: { context: DaxContext }, p: At) =>
      !isDaxInode(a.context, L) && !isPteWritable(a.context, L, p.m, p.b),
    /** Is there a page-table entry (a flush of it cannot fault)? */
    isPteMapped: (a: { context: DaxContext }, p: At) => isPteMapped(a.context, L, p.m, p.b),
    /** Is the block beyond EOF (an access gets SIGBUS)? */
    isBeyondEof: (a: { context: DaxContext }, p: At) => p.b >= fileSize(a.context, L),
    /** Will mmap with these flags succeed? */
    mmapSucceeds: (a: { context: DaxContext }, p: { t: number; flags: MmapFlags; mapSync: boolean }) =>
      mmapErrno(a.context, L, p.t, p.flags, p.mapSync) === OK,
    /** Will mmap with these flags fail (EOPNOTSUPP for MAP_SYNC where it cannot be honoured)? */
    mmapFails: (a: { context: DaxContext }, p: { t: number; flags: MmapFlags; mapSync: boolean }) =>
      mmapErrno(a.context, L, p.t, p.flags, p.mapSync) !== OK,
    /** Is there anything in the running transaction to commit? */
    isRunningTransactionDirty: (a: { context: DaxContext }) => runningItems(a.context, L) > 0,
    /** Does the cache line (or page-cache page) of physical block `event.p` hold dirty data? */
    isCacheLineDirty: (a: { context: DaxContext; event: DaxEvent }) => isPhysDirty(a.context, L, a.event.p!),
    isDaxInode: (a: { context: DaxContext }) => isDaxInode(a.context, L),
    /** Could these dirty words have reached the media before the power failed? */
    isCrashImagePossible: (a: { context: DaxContext; event: DaxEvent }) => isCrashImagePossible(a.context, L, a.event.image!),
    /** May the system crash again (the configuration's crash budget)? */
    hasCrashBudget: (a: { context: DaxContext }, p: { budget: number }) => a.context.ghost[L.gCrashes] < p.budget,
  };
}

export function daxActions(L: Layout, app: AppLayout) {
  return {
    open: act<{ t: number }>((c, _e, p) => void sysOpen(c, L, p.t)),
    ftruncate: act<{ t: number; blocks: number }>((c, _e, p) => void sysFtruncate(c, L, p.t, p.blocks)),
    fallocate: act<{ t: number; from: number; to: number }>((c, _e, p) => void sysFallocate(c, L, p.t, p.from, p.to)),
    mmap: act<{ t: number; m: number; flags: MmapFlags; mapSync: boolean }>(
      (c, _e, p) => void sysMmap(c, L, p.t, p.m, p.flags, p.mapSync),
    ),
    munmap: act<{ t: number; m: number }>((c, _e, p) => void sysMunmap(c, L, p.t, p.m)),
    msync: act<{ t: number; m: number }>((c, _e, p) => void sysMsync(c, L, p.t, p.m)),
    fsync: act<{ t: number }>((c, _e, p) => void syncFile(c, L, p.t)),
    fdatasync: act<{ t: number }>((c, _e, p) => void syncFile(c, L, p.t)),

    store: act<StoreAt>((c, _e, p) => userStore(c, L, p.m, p.b, p.w, p.value)),
    clwb_sfence: act<At>((c, _e, p) => void userFlush(c, L, p.b)),

    dax_iomap_fault: act<At & { write: boolean }>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, p.write)),
    dax_pfn_mkwrite: act<At>((c, _e, p) => pfnMkwrite(c, L, p.t, p.m, p.b)),
    dax_finish_sync_fault: act<At>((c, _e, p) => void finishSyncFault(c, L, p.m)),
    page_mkwrite: act<At>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, true)),
    filemap_fault: act<At>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, false)),

    jbd2_journal_commit_transaction: act((c) => void commitRunningTransaction(c, L)),
    /** The CPU evicts a dirty line of physical block `event.p` (or the flusher writes back a page). */
    evict_cache_line: act((c, e) => void writeBackPhys(c, L, e.p!)),
    power_fail: act((c, e) => powerFail(c, L, e.image!)),
    journal_recover: act((c) => journalRecover(c, L)),

    /** Ghost: the application now believes record t durable (its commit point). */
    app_believes_durable: act<{ t: number }>((c, _e, p) => {
      c.ghost[L.gAppDurable + p.t] = 1;
    }),
    /** After recovery the application reads its structure back and classifies each record. */
    app_recovery_check: act((c) => {
      for (let t = 0; t < L.T; t++) c.ghost[L.gAppSaw + t] = recordState(c, L, app, t);
    }),
    /** The application starts again after a crash (crash budget > 1). */
    restart: act((c) => {
      for (let t = 0; t < L.T; t++) {
        c.ghost[L.gAppDurable + t] = 0;
        c.ghost[L.gAppSaw + t] = 0;
      }
    }),
  };
}

/** What the application finds for record t in the durable (recovered) file. */
export function recordState(c: DaxContext, L: Layout, app: AppLayout, t: number): number {
  const ptr = durableWord(c.durable, L, app.header, app.pointerWord(t));
  if (ptr !== app.pointerValue(t)) return SAW_NOTHING;
  const target = app.dataBlock(t);
  if (!isDurablyWritten(c.durable, L, target)) return SAW_DANGLING;
  return durableWord(c.durable, L, target, app.dataWord) === app.dataValue(t) ? SAW_RECORD : SAW_TORN;
}

