/**
 * The deadlock side of the no-sync spec: Dave Chinner's example (seed 002, 2016-09-15) as a machine
 * of its own. Thread T0 calls write(2) on file2, an ext4 file in data=ordered mode, with a user
 * buffer that is a no-sync DAX mapping of a hole in file1; kjournald2 (`jbd2`) commits; T1, another
 * thread of the process, may call mmap(2). Locks and the journal are locks.ts.
 *
 *   T0  inode_lock(file2) → ext4_write_begin (jbd2 handle, lock_page) → copy from the user buffer
 *       → page fault: mmap_lock, MMAPLOCK, allocate, and (no-sync) wait for the commit
 *       → ext4_write_end (file2 joins the ordered list; unlock_page; journal stop) → inode_unlock
 *   jbd2  T_LOCKED (wait for t_updates) → T_FLUSH → journal_submit_data_buffers (lock_page of
 *       ordered data) → metadata and commit record
 *
 * buildDaxSpec cannot express this machine: it has no way to add regions other than application
 * threads and the third party, nor a context beyond the DAX layout, nor environment actors whose
 * steps count as progress for the deadlock property. So the machine is built here.
 */
import { and, not, setup } from 'xstate';
import type { MachineView } from '../../checker/xstate/compile.ts';
import { mutator } from '../../checker/xstate/mutator.ts';
import { NAMES } from '../../models/invariants.ts';
import {
  FL,
  HANDLE_COMMITTING,
  HANDLE_NONE,
  JR,
  LK,
  PHASE_FLUSH,
  PHASE_IDLE,
  PHASE_NAMES,
  BLOCK_COMMITTED,
  T0_WAITING_FOR_COMMIT,
  allocationTid,
  areUpdatesDone,
  canStartHandle,
  commitFinish,
  commitFlush,
  commitLock,
  copyFromUser,
  daxNoSyncFault,
  ext4WriteBegin,
  ext4WriteEnd,
  faultReturns,
  inodeLock,
  isAllocationCommitted,
  isMmapLockFree,
  isOrderedPageLocked,
  isRunningTransactionBusy,
  lockBounds,
  lockContext,
  waitCycle,
  waitsFor,
  type LockContext,
} from './locks.ts';
import type { Property } from '../../checker/system.ts';
import type { BuiltSpec, Renderer, StepAction } from '../common/spec.ts';
import type { NoSyncDeadlockConfig } from './configs.ts';

type View = MachineView<LockContext>;
type Ev = { type: string };

export const DEADLOCK_NAMES = {
  deadlock: NAMES.deadlock,
  finishes: NAMES.finishes,
  promise: 'a no-sync page fault returns only after its block\'s allocation is committed',
  order: 'no thread waits for a journal commit while it holds a page lock or a journal handle',
  pageLockWait: 'the journal commit waits for a page lock held by a thread inside a no-sync page fault',
} as const;

const ctx = (a: { context: LockContext }) => a.context;

function guards() {
  return {
    /** Can T0 get a handle now (nested, or the running transaction is not T_LOCKED)? */
    canStartHandle: (a: { context: LockContext }) => canStartHandle(ctx(a)),
    /** Is file2 page 0 unlocked (lock_page would not sleep)? */
    isPageUnlocked: (a: { context: LockContext }) => ctx(a).locks[LK.page] === 0,
    /** Does the user buffer have a page-table entry (the copy needs no fault)? */
    isUserBufferMapped: (a: { context: LockContext }) => ctx(a).files[FL.pte] === 1,
    /** Has the transaction holding file1 block 0's allocation committed? */
    isAllocationCommitted: (a: { context: LockContext }) => isAllocationCommitted(ctx(a)),
    /** Could down_write(mmap_lock) succeed now (no reader)? */
    isMmapLockFree: (a: { context: LockContext }) => isMmapLockFree(ctx(a)),
    /** Is kjournald2 between commits? */
    isJournalIdle: (a: { context: LockContext }) => ctx(a).journal[JR.phase] === PHASE_IDLE,
    /** Does the running transaction hold anything to commit (or an open handle)? */
    isRunningTransactionBusy: (a: { context: LockContext }) => isRunningTransactionBusy(ctx(a)),
    /** Is the committing transaction T_LOCKED with t_updates == 0? */
    areUpdatesDone: (a: { context: LockContext }) => areUpdatesDone(ctx(a)),
    /** Is the committing transaction in T_FLUSH? */
    isFlushing: (a: { context: LockContext }) => ctx(a).journal[JR.phase] === PHASE_FLUSH,
    /** Would journal_submit_data_buffers sleep in lock_page on an ordered page? */
    isOrderedPageLocked: (a: { context: LockContext }) => isOrderedPageLocked(ctx(a)),
  };
}

function actions() {
  const act = <P>(fn: (c: LockContext, e: Ev, p: P) => void) => mutator<LockContext, Ev, P>(fn);
  return {
    inode_lock: act(inodeLock),
    ext4_write_begin: act(ext4WriteBegin),
    copy_from_user: act<{ atomic: boolean }>((c) => copyFromUser(c)),
    dax_iomap_fault: act<{ retry: boolean; prefault: boolean }>((c, _e, p) => daxNoSyncFault(c, p.retry)),
    jbd2_log_wait_commit: act<{ retry: boolean }>((c) => faultReturns(c)),
    ext4_write_end: act(ext4WriteEnd),
    vm_mmap_pgoff: act(() => {}),
    jbd2_journal_commit_transaction: act(commitLock),
    jbd2_journal_wait_updates: act(commitFlush),
    journal_submit_data_buffers: act(commitFinish),
  };
}

/** T0's region: write(2) to file2 with the no-sync DAX buffer, in the configuration's variant. */
function t0Region(cfg: NoSyncDeadlockConfig) {
  const retry = cfg.faultSync === 'retry';
  const prefault = cfg.copy === 'prefault';
  const fault = (wait: string) => ({ type: 'dax_iomap_fault', params: { retry, prefault: wait === 'prefault_wait_commit' } });
  const wake = { type: 'jbd2_log_wait_commit', params: { retry } };
  const states: Record<string, unknown> = {
    write: { on: { 'T0.inode_lock': { target: prefault ? 'prefault' : 'write_begin', actions: 'inode_lock' } } },
    write_begin: {
      on: { 'T0.ext4_write_begin': { guard: and(['canStartHandle', 'isPageUnlocked']), target: 'copy', actions: 'ext4_write_begin' } },
    },
    write_end: { on: { 'T0.ext4_write_end': { target: 'done', actions: 'ext4_write_end' } } },
    done: { type: 'final' },
  };
  if (prefault) {
    // iov_iter_fault_in_readable before the page lock: the fault starts (and stops) its own handle.
    states.prefault = {
      on: { 'T0.dax_iomap_fault': { guard: and([not('isUserBufferMapped'), 'canStartHandle']), target: 'prefault_wait_commit', actions: fault('prefault_wait_commit') } },
    };
    states.prefault_wait_commit = { on: { 'T0.jbd2_log_wait_commit': { guard: 'isAllocationCommitted', target: 'write_begin', actions: wake } } };
    // iov_iter_copy_from_user_atomic: page faults disabled; nothing here unmaps the buffer between
    // the prefault and the copy, so the short-copy retry cannot happen and is not modelled.
    states.copy = { on: { 'T0.copy_from_user': { guard: 'isUserBufferMapped', target: 'write_end', actions: { type: 'copy_from_user', params: { atomic: true } } } } };
  } else {
    states.copy = {
      on: {
        'T0.copy_from_user': { guard: 'isUserBufferMapped', target: 'write_end', actions: { type: 'copy_from_user', params: { atomic: false } } },
        'T0.dax_iomap_fault': { guard: not('isUserBufferMapped'), target: 'fault_wait_commit', actions: fault('fault_wait_commit') },
      },
    };
    states.fault_wait_commit = { on: { 'T0.jbd2_log_wait_commit': { guard: 'isAllocationCommitted', target: 'copy', actions: wake } } };
  }
  return { initial: 'write', states };
}

const T0_EVENTS = ['T0.inode_lock', 'T0.dax_iomap_fault', 'T0.jbd2_log_wait_commit', 'T0.ext4_write_begin', 'T0.copy_from_user', 'T0.ext4_write_end'];
const JBD2_EVENTS = ['jbd2.jbd2_journal_commit_transaction', 'jbd2.jbd2_journal_wait_updates', 'jbd2.journal_submit_data_buffers'];

function properties(cfg: NoSyncDeadlockConfig, eventTypes: string[]): Property<View>[] {
  const threads = cfg.mmapThread ? ['T0', 'T1'] : ['T0'];
  const allDone = (v: View) => threads.every((t) => v.matches(`running.${t}.done`));
  const t0Waiting = (v: View) => T0_WAITING_FOR_COMMIT.some((s) => (s === 'prefault_wait_commit') === (cfg.copy === 'prefault') && v.matches(`running.T0.${s}`));
  return [
    {
      kind: 'always',
      id: 'nosync-fault-after-commit',
      name: DEADLOCK_NAMES.promise,
      holds: (v) => v.context.files[FL.pte] === 0 || v.context.files[FL.block] === BLOCK_COMMITTED,
    },
    {
      kind: 'always',
      id: 'no-commit-wait-holding-locks',
      name: DEADLOCK_NAMES.order,
      holds: (v) => !(t0Waiting(v) && !isAllocationCommitted(v.context) && (v.context.locks[LK.page] !== 0 || v.context.locks[LK.handle] !== HANDLE_NONE)),
    },
    {
      kind: 'sometimes',
      id: 'commit-waits-page-lock',
      name: DEADLOCK_NAMES.pageLockWait,
      reached: (v) => v.context.journal[JR.phase] === PHASE_FLUSH && isOrderedPageLocked(v.context) && t0Waiting(v),
    },
    { kind: 'sometimes', id: 'threads-finish', name: DEADLOCK_NAMES.finishes, reached: allDone },
    {
      kind: 'deadlock',
      id: 'no-deadlock',
      name: DEADLOCK_NAMES.deadlock,
      // The threads and kjournald2 make progress: a thread waiting for a commit jbd2 can still do
      // is not stuck.
      isProgress: (e) => /^(T\d+|jbd2)\./.test(eventTypes[e]),
      isDone: allDone,
    },
  ];
}

export function buildDeadlock(cfg: NoSyncDeadlockConfig): BuiltSpec<LockContext> {
  const regions: Record<string, unknown> = { T0: t0Region(cfg) };
  if (cfg.mmapThread) {
    regions.T1 = { initial: 'mmap', states: { mmap: { on: { 'T1.mmap': { guard: 'isMmapLockFree', target: 'done', actions: 'vm_mmap_pgoff' } } }, done: { type: 'final' } } };
  }
  regions.jbd2 = {
    initial: 'kjournald2',
    states: {
      kjournald2: {
        on: {
          'jbd2.jbd2_journal_commit_transaction': { guard: and(['isJournalIdle', 'isRunningTransactionBusy']), actions: 'jbd2_journal_commit_transaction' },
          'jbd2.jbd2_journal_wait_updates': { guard: 'areUpdatesDone', actions: 'jbd2_journal_wait_updates' },
          'jbd2.journal_submit_data_buffers': { guard: and(['isFlushing', not('isOrderedPageLocked')]), actions: 'journal_submit_data_buffers' },
        },
      },
    },
  };
  const machine = setup({
    types: {} as { context: LockContext; events: Ev },
    guards: guards(),
    actions: actions(),
  }).createMachine({
    id: 'nosync-flag-deadlock',
    initial: 'running',
    context: lockContext(cfg.jbd2),
    states: { running: { type: 'parallel', states: regions as never } },
  });
  const types = [...T0_EVENTS];
  if (cfg.mmapThread) types.push('T1.mmap');
  types.push(...JBD2_EVENTS);
  const events = types.map((type) => ({ type }));
  return { machine, events, bounds: lockBounds(), properties: properties(cfg, types), render: deadlockRenderer(cfg) };
}

// ---------------------------------------------------------------- traces

const USER_BUFFER = '0x7f0010000000';

function describe(cfg: NoSyncDeadlockConfig, a: StepAction<LockContext>): string {
  const b = a.before;
  const x = a.after;
  const tid = b.journal[JR.tid];
  const handleTid = (c: LockContext) => (c.locks[LK.handle] === HANDLE_COMMITTING ? c.journal[JR.tid] - 1 : c.journal[JR.tid]);
  const p = (a.params ?? {}) as { retry?: boolean; prefault?: boolean; atomic?: boolean };
  switch (a.type) {
    case 'inode_lock':
      return `write(4, ${USER_BUFFER}, 4096) to file2 (ext4, data=ordered), the buffer being the no-sync DAX mapping of file1 block 0 (a hole): ext4_file_write_iter → inode_lock(file2)`;
    case 'ext4_write_begin':
      return `ext4_write_begin(file2 page 0): ext4_journal_start → handle on transaction ${handleTid(x)}; grab_cache_page_write_begin → lock_page(file2 page 0)`;
    case 'dax_iomap_fault': {
      const where = p.prefault
        ? 'iov_iter_fault_in_readable faults on the user buffer before the page lock'
        : 'copy_from_user faults on the user buffer with the page lock and the handle held';
      const handle = b.locks[LK.handle] !== HANDLE_NONE ? `a handle nested in write()'s (transaction ${handleTid(b)})` : `ext4_journal_start (transaction ${tid})`;
      const sync = p.retry
        ? `drops file1's MMAPLOCK and mmap_lock (VM_FAULT_RETRY) and syncs outside them: jbd2_complete_transaction(${allocationTid(x)}) → jbd2_log_wait_commit sleeps`
        : `no-sync: jbd2_complete_transaction(${allocationTid(x)}) → jbd2_log_wait_commit sleeps, mmap_lock and MMAPLOCK still held`;
      return `${where}: down_read(mmap_lock); ext4_dax_fault: down_read(file1 MMAPLOCK), ${handle}, dax_iomap_fault allocates file1 block 0 in transaction ${allocationTid(x)}; ${sync}`;
    }
    case 'jbd2_log_wait_commit':
      return p.retry
        ? 'file1 block 0\'s allocation is committed: jbd2_log_wait_commit returns; the retried fault maps the block writable (down_read/up_read of mmap_lock and MMAPLOCK around it)'
        : "file1 block 0's allocation is committed: jbd2_log_wait_commit returns; PTE writable; up_read(file1 MMAPLOCK), up_read(mmap_lock): the fault returns and the copy is retried";
    case 'copy_from_user':
      return p.atomic ? 'iov_iter_copy_from_user_atomic copies 4096 bytes into file2 page 0 (page faults disabled; the buffer is mapped)' : 'copy_from_user copies 4096 bytes into file2 page 0';
    case 'ext4_write_end':
      return `ext4_write_end: file2 page 0 dirty, file2 on transaction ${handleTid(b)}'s ordered-data list (ext4_jbd2_file_inode), unlock_page, ext4_journal_stop; inode_unlock(file2); write returns 4096`;
    case 'vm_mmap_pgoff':
      return 'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0): vm_mmap_pgoff → down_write(mmap_lock), mapping set up, up_write(mmap_lock)';
    case 'jbd2_journal_commit_transaction': {
      const open = b.locks[LK.handle] !== HANDLE_NONE ? "T0's handle is open" : 'no handle is open';
      return `jbd2_journal_commit_transaction(transaction ${tid}): T_LOCKED, new handles wait; waits for t_updates to reach 0 (${open})`;
    }
    case 'jbd2_journal_wait_updates':
      return `t_updates of transaction ${tid - 1} is 0 → T_FLUSH; j_running_transaction = NULL, new handles start transaction ${tid}`;
    case 'journal_submit_data_buffers': {
      const parts: string[] = [];
      if (b.journal[JR.comOrdered]) {
        parts.push(
          b.files[FL.pageDirty]
            ? 'journal_submit_data_buffers → journal_submit_inode_data_buffers(file2) → generic_writepages → lock_page(file2 page 0), written back, unlock_page'
            : 'journal_submit_data_buffers: file2 has no dirty pages',
        );
      } else parts.push('journal_submit_data_buffers: no ordered data');
      const what = b.journal[JR.comAlloc] ? " (file1 block 0's allocation)" : '';
      parts.push(`metadata and commit record written: transaction ${tid - 1} committed${what}`);
      return parts.join('; ');
    }
    default:
      return a.type;
  }
}

function deadlockRenderer(cfg: NoSyncDeadlockConfig): Renderer<LockContext> {
  const positions = (v: View) => {
    const value = (v.value as { running?: Record<string, string> }).running ?? {};
    return { T0: value.T0 ?? '', T1: value.T1 };
  };
  return {
    actor: (event) => event.type.slice(0, event.type.indexOf('.')),
    step: (_event, actions) => actions.map((a) => describe(cfg, a)).join('; '),
    outcome: () => null,
    state: (c) => {
      const tid = c.journal[JR.tid];
      const phase = c.journal[JR.phase];
      const list = (ordered: number, alloc: number) =>
        [ordered ? 'file2 ordered data' : '', alloc ? 'file1 block 0 allocation' : ''].filter(Boolean).join(', ') || 'nothing';
      return {
        'i_rwsem file2': c.locks[LK.iRwsem2] ? 'T0' : 'free',
        'page lock file2 page 0': c.locks[LK.page] ? 'T0' : 'free',
        mmap_lock: c.locks[LK.mmapReaders] ? 'read: T0' : 'free',
        'MMAPLOCK file1': c.locks[LK.mmaplock1Readers] ? 'read: T0' : 'free',
        'T0 jbd2 handle': c.locks[LK.handle] === HANDLE_NONE ? 'none' : `transaction ${c.locks[LK.handle] === HANDLE_COMMITTING ? tid - 1 : tid}`,
        jbd2: phase === PHASE_IDLE ? 'idle' : `committing transaction ${tid - 1}: ${PHASE_NAMES[phase]}`,
        'running transaction': `${tid}: ${list(c.journal[JR.runOrdered], c.journal[JR.runAlloc])}`,
        'committing transaction': phase === PHASE_IDLE ? 'none' : `${tid - 1}: ${list(c.journal[JR.comOrdered], c.journal[JR.comAlloc])}`,
        'file1 block 0': ['hole', 'allocated (uncommitted)', 'committed'][c.files[FL.block]],
        'user buffer PTE': c.files[FL.pte] ? 'writable' : 'absent',
        'file2 page 0': c.files[FL.pageDirty] ? 'dirty' : 'clean',
      };
    },
    // Locks, the file's allocation and the page are in memory; the journal's state is its own kind.
    fields: () => ({
      'i_rwsem file2': { kind: 'volatile' },
      'page lock file2 page 0': { kind: 'volatile' },
      mmap_lock: { kind: 'volatile' },
      'MMAPLOCK file1': { kind: 'volatile' },
      'T0 jbd2 handle': { kind: 'journal' },
      jbd2: { kind: 'journal' },
      'running transaction': { kind: 'journal' },
      'committing transaction': { kind: 'journal' },
      'file1 block 0': { kind: 'volatile' },
      'user buffer PTE': { kind: 'pagetable' },
      'file2 page 0': { kind: 'cache' },
    }),
    afterCrash: () => null,
    waitGraph: (v) => waitsFor(v.context, positions(v)).map((w) => ({ actor: w.from, holds: w.holds, waitsFor: w.waitsFor, on: w.to, where: w.where })),
    waits: (v) => {
      const ws = waitsFor(v.context, positions(v));
      const cycle = waitCycle(ws);
      return [...ws.map((w) => w.text), cycle ? `cycle: ${cycle.join(' → ')}` : 'no cycle: some thread waits for one that is not stuck'];
    },
  };
}
