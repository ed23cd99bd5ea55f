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
import { finishSyncFault, needsPfnMkwrite, needsWriteFault, pageFault, pfnMkwrite, type Zeroing } from './faults.ts';
import {
  mmapErrno,
  sysFallocate,
  sysFtruncate,
  sysMmap,
  sysMsync,
  sysMunmap,
  sysOpen,
  sysOpenG,
  sysWriteF,
  sysWriteG,
  syncFile,
  syncSecondFile,
  type FileName,
  type MmapFlags,
} from './syscalls.ts';
import { isPteMapped, isPteWritable, userFlush, userStore } from './userspace.ts';
import { decideDirtyWord, decideUnobservableWord, isCrashImageComplete, isDecisionUnobservable, mayBeLost, mayReachMedia, mountAfterCrash, powerFail, type CrashReduction } from './crash.ts';
import type { AppLayout } from './app-layout.ts';
import { applyOp, canRun, finishOp, isMmapLockHeld, isRefused, startOp, type ThirdPartyOp, type ThirdPartyPolicy } from './third-party.ts';
import { PTE_NONE } from './layout.ts';
import { pte } from './faults.ts';

import type { DaxEvent } from './action.ts';
export type { DaxEvent };

/** Params of application steps. */
export type At = { t: number; m: number; b: number };
export type StoreAt = At & { w: number; value: number };

const act = <P>(fn: (c: DaxContext, e: DaxEvent, p: P) => void) => mutator<DaxContext, DaxEvent, P>(fn);

/** Options of a spec's filesystem that the guards and actions need. */
export interface KernelOptions {
  /** How third-party operations run (required when the configuration has any). */
  thirdParty?: ThirdPartyPolicy;
  /** How a newly allocated block is zeroed before it is mapped (default: durably). */
  zeroing?: Zeroing;
  /** The crash-image reduction (models/crash.ts); absent: every dirty word is decided both ways. */
  crash?: CrashReduction;
}

export function daxGuards(L: Layout, k: KernelOptions = {}) {
  // A page fault waits while a third-party operation holds the MMAPLOCK.
  const mayFault = (c: DaxContext) => !isMmapLockHeld(c, L);
  return {
    /** Can the store retire without a fault? */
    isPteWritable: (a: { context: DaxContext }, p: At) => isPteWritable(a.context, L, p.m, p.b),
    /** Does the access need `dax_iomap_fault` (no entry, or the zero page), and may it fault now? */
    needsDaxWriteFault: (a: { context: DaxContext }, p: At) =>
      isDaxInode(a.context, L) && needsWriteFault(a.context, L, p.m, p.b) && mayFault(a.context),
    /** Does the access need only `pfn_mkwrite`, and may it fault now? */
    needsPfnMkwrite: (a: { context: DaxContext }, p: At) =>
      isDaxInode(a.context, L) && needsPfnMkwrite(a.context, L, p.m, p.b) && mayFault(a.context),
    /** Without S_DAX: does the store need `page_mkwrite` on a page-cache page, and may it fault now? */
    needsPageMkwrite: (a: { context: DaxContext }, p: At) =>
      !isDaxInode(a.context, L) && !isPteWritable(a.context, L, p.m, p.b) && mayFault(a.context),
    /** A flush of an address whose mapping was taken away faults it back in (read), when it may. */
    needsReadFault: (a: { context: DaxContext }, p: At) => pte(a.context, L, p.m, p.b) === PTE_NONE && mayFault(a.context),
    /** Can third-party operation `op` run now (on block b) and is it allowed? */
    canRunThirdParty: (a: { context: DaxContext }, p: { op: ThirdPartyOp; b: number }) =>
      canRun(a.context, L, p.op, p.b) && !isRefused(a.context, L, p.op),
    /** Can other inodes add dirty objects to the running transaction (it holds fewer than L.U)? */
    hasRoomForUnrelated: (a: { context: DaxContext }) => a.context.volatile[L.vUnrelated] < L.U,
    /** Is the event about file block b (third-party operations on one block)? */
    isEventForBlock: (a: { event: DaxEvent }, p: { b: number }) => a.event.b === p.b,
    /** Would third-party operation `op` be refused (EPERM)? */
    isThirdPartyRefused: (a: { context: DaxContext }, p: { op: ThirdPartyOp; b: number }) =>
      canRun(a.context, L, p.op, p.b) && isRefused(a.context, L, p.op),
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
    /** After a power failure: may the lowest undecided dirty word have reached the media? */
    mayReachMedia: (a: { context: DaxContext }) => mayReachMedia(a.context, L, k.crash),
    /** After a power failure: may the lowest undecided dirty word have been lost? */
    mayBeLost: (a: { context: DaxContext }) => mayBeLost(a.context, L, k.crash),
    /** After a power failure: can nothing tell keeping the lowest dirty word from losing it (crash-image reduction)? */
    isCrashDecisionUnobservable: (a: { context: DaxContext }) => !!k.crash && isDecisionUnobservable(a.context, L, k.crash),
    /** After a power failure: is every dirty word decided, so the machine can be remounted? */
    isCrashImageComplete: (a: { context: DaxContext }) => isCrashImageComplete(a.context, L),
    /** May the system crash again (the configuration's crash budget)? */
    hasCrashBudget: (a: { context: DaxContext }, p: { budget: number }) => a.context.ghost[L.gCrashes] < p.budget,
  };
}

function policyOf(k: KernelOptions): ThirdPartyPolicy {
  if (!k.thirdParty) throw new Error('model error: a third-party operation in a configuration without a third-party policy');
  return k.thirdParty;
}

export function daxActions(L: Layout, app: AppLayout, k: KernelOptions = {}) {
  return {
    open: act<{ t: number; append?: boolean }>((c, _e, p) => void sysOpen(c, L, p.t, !!p.append)),
    /** open of the second file g, which shares the running transaction with the file. */
    open_g: act<{ t: number; append?: boolean }>((c, _e, p) => void sysOpenG(c, L, p.t, !!p.append)),
    /** write(2) of one block: at the end of the file on an O_APPEND descriptor, else at block b. */
    write: act<{ t: number; file: FileName; b: number; value: number }>((c, _e, p) =>
      void (p.file === 'g' ? sysWriteG(c, L, p.t, 'write', p.b) : sysWriteF(c, L, p.t, 'write', p.b, p.value)),
    ),
    /** pwrite(2) of one block at block b. */
    pwrite: act<{ t: number; file: FileName; b: number; value: number }>((c, _e, p) =>
      void (p.file === 'g' ? sysWriteG(c, L, p.t, 'pwrite', p.b) : sysWriteF(c, L, p.t, 'pwrite', p.b, p.value)),
    ),
    fsync_g: act<{ t: number }>((c, _e, p) => void syncSecondFile(c, L, p.t, false)),
    fdatasync_g: act<{ t: number }>((c, _e, p) => void syncSecondFile(c, L, p.t, true)),
    ftruncate: act<{ t: number; blocks: number }>((c, _e, p) => void sysFtruncate(c, L, p.t, p.blocks)),
    fallocate: act<{ t: number; from: number; to: number }>((c, _e, p) => void sysFallocate(c, L, p.t, p.from, p.to)),
    mmap: act<{ t: number; m: number; flags: MmapFlags; mapSync: boolean }>((c, _e, p) => void sysMmap(c, L, p.t, p.m, p.flags, p.mapSync)),
    munmap: act<{ t: number; m: number }>((c, _e, p) => void sysMunmap(c, L, p.t, p.m)),
    msync: act<{ t: number; m: number }>((c, _e, p) => void sysMsync(c, L, p.t, p.m)),
    fsync: act<{ t: number }>((c, _e, p) => void syncFile(c, L, p.t)),
    fdatasync: act<{ t: number }>((c, _e, p) => void syncFile(c, L, p.t)),

    store: act<StoreAt>((c, _e, p) => userStore(c, L, p.m, p.b, p.w, p.value)),
    clwb_sfence: act<At>((c, _e, p) => void userFlush(c, L, p.m, p.b)),

    dax_iomap_fault: act<At & { write: boolean }>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, p.write, k.zeroing)),
    dax_pfn_mkwrite: act<At>((c, _e, p) => pfnMkwrite(c, L, p.t, p.m, p.b)),
    dax_finish_sync_fault: act<At>((c, _e, p) => void finishSyncFault(c, L, p.t, p.m)),
    page_mkwrite: act<At>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, true)),
    filemap_fault: act<At>((c, _e, p) => void pageFault(c, L, p.t, p.m, p.b, false)),

    jbd2_journal_commit_transaction: act((c) => void commitRunningTransaction(c, L)),
    /** Other inodes dirty metadata: the running transaction holds L.U unrelated objects again. */
    other_inode_dirty: act((c) => {
      c.volatile[L.vUnrelated] = L.U;
    }),
    third_party_start: act<{ op: ThirdPartyOp; b: number }>((c, _e, p) => void startOp(c, L, p.op, p.b, policyOf(k))),
    /** The operation is refused with EPERM; it counts as run. */
    third_party_refused: act<{ op: ThirdPartyOp; b: number }>((c, _e, p) => void startOp(c, L, p.op, p.b, policyOf(k))),
    third_party_apply: act<{ op: ThirdPartyOp; b: number }>((c, _e, p) => applyOp(c, L, p.op, p.b)),
    third_party_finish: act<{ op: ThirdPartyOp; b: number }>((c) => void finishOp(c, L, policyOf(k))),
    /** The CPU evicts a dirty line of physical block `event.p` (or the flusher writes back a page). */
    evict_cache_line: act((c, e) => void writeBackPhys(c, L, e.p!)),
    power_fail: act((c) => powerFail(c, L)),
    /** The lowest dirty word had reached the media when the power failed. */
    cache_line_reached_media: act((c) => decideDirtyWord(c, L, true)),
    /** The lowest dirty word was lost with the power. */
    cache_line_lost: act((c) => decideDirtyWord(c, L, false)),
    /** Nothing can observe whether the lowest dirty word reached the media: decided one way only. */
    cache_line_unobservable: act((c) => decideUnobservableWord(c, L)),
    /** Remount: volatile state gone, the journal replays committed transactions. */
    mount_and_recover: act((c) => mountAfterCrash(c, L)),

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

