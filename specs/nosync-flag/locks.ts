/**
 * Locks and the jbd2 commit, for Dave Chinner's deadlock (seed 002, 2016-09-15): "filesystems are
 * allowed to take page locks during transaction commit. e.g ext4 journal commit when using the
 * default ordered data mode: jbd2_journal_commit_transaction → journal_submit_data_buffers →
 * journal_submit_inode_data_buffers → generic_writepages → ext4_writepages →
 * mpage_prepare_extent_to_map → lock_page ... if we fault on the user buffer during a write()
 * operation and that user buffer is a mmapped DAX file that needs to be allocated and we have
 * synchronous metadata updates during page faults, we deadlock on the page lock held above the page
 * fault context".
 *
 * The actors: thread T0 in write(2) to file2 (ext4, data=ordered, page cache), whose user buffer is
 * a no-sync DAX mapping of a hole in file1; optionally T1, another thread of the same process,
 * calling mmap(2); and kjournald2 (`jbd2`). The state is three byte vectors:
 *  - `locks`: i_rwsem of file2, the page lock of file2's page 0, mmap_lock (readers), file1's
 *    MMAPLOCK (i_mmap_sem, readers), and T0's jbd2 handle (none / in the running transaction / in
 *    the committing one);
 *  - `journal`: the commit phase (idle, T_LOCKED, T_FLUSH), the running transaction's tid, and for
 *    the running and the committing transaction whether file2 is on its ordered-data inode list
 *    and whether file1 block 0's allocation is in it;
 *  - `files`: file1 block 0 (hole, allocated, committed), T0's page-table entry for the user
 *    buffer, and whether file2's page 0 is dirty.
 *
 * jbd2 follows jbd2_journal_commit_transaction: T_LOCKED (new handles wait in start_this_handle;
 * the commit waits for t_updates to reach 0), then T_FLUSH (the running transaction is gone, new
 * handles start a new one; journal_submit_data_buffers writes the ordered data, taking the lock
 * of every dirty page of every inode on the list), then the metadata and the commit record. jbd2
 * commits one transaction at a time, in tid order. Modelling choice: the page fault on the user
 * buffer is the one that allocates, as Chinner's sentence has it ("a mmapped DAX file that needs to
 * be allocated"); copy_from_user only reads the buffer, and a read fault on a DAX hole maps the
 * zero page, so the allocating access is a kernel store into the buffer under the same locks.
 */
import { firstCycle } from '../../checker/cycle.ts';

/** Byte offsets in `locks`. */
export const LK = {
  /** i_rwsem of file2: 0 free, 1 held by T0 (inode_lock in ext4_file_write_iter). */
  iRwsem2: 0,
  /** The page lock of file2 page 0: 0 free, 1 held by T0 (ext4_write_begin). */
  page: 1,
  /** mmap_lock readers (T0's page fault). Writers (T1's mmap) take and drop it in one step. */
  mmapReaders: 2,
  /** file1's MMAPLOCK (EXT4_I(inode)->i_mmap_sem) readers (T0's page fault). */
  mmaplock1Readers: 3,
  /** T0's jbd2 handle: HANDLE_*. */
  handle: 4,
  size: 5,
} as const;

export const HANDLE_NONE = 0;
export const HANDLE_RUNNING = 1;
export const HANDLE_COMMITTING = 2;

/** Byte offsets in `journal`. */
export const JR = {
  /** PHASE_*: what kjournald2 is doing with the committing transaction. */
  phase: 0,
  /** tid of the running transaction; the committing one (if any) is tid - 1. */
  tid: 1,
  runOrdered: 2,
  comOrdered: 3,
  runAlloc: 4,
  comAlloc: 5,
  size: 6,
} as const;

export const PHASE_IDLE = 0;
export const PHASE_LOCKED = 1;
export const PHASE_FLUSH = 2;
export const PHASE_NAMES = ['idle', 'T_LOCKED', 'T_FLUSH'] as const;
export const MAX_TID = 7;

/** Byte offsets in `files`. */
export const FL = {
  /** file1 block 0: BLOCK_*. */
  block: 0,
  /** T0's page-table entry for the user buffer (file1 block 0): 0 none, 1 writable. */
  pte: 1,
  /** file2 page 0 is dirty (tagged for writeback). */
  pageDirty: 2,
  size: 3,
} as const;

export const BLOCK_HOLE = 0;
export const BLOCK_ALLOCATED = 1;
export const BLOCK_COMMITTED = 2;

export type LockContext = { locks: Uint8Array; journal: Uint8Array; files: Uint8Array };

/** Where kjournald2 is when T0 calls write(2). */
export type Jbd2Start =
  /** idle; the running transaction holds file2's ordered data from an earlier write(2). */
  | 'idle'
  /** committing transaction 1, which holds file2's ordered data, has reached T_FLUSH. */
  | 'committing';

/** The initial state: file2 page 0 dirty, its ordered data in transaction 1; file1 block 0 a hole. */
export function lockContext(start: Jbd2Start): LockContext {
  const c: LockContext = { locks: new Uint8Array(LK.size), journal: new Uint8Array(JR.size), files: new Uint8Array(FL.size) };
  c.files[FL.pageDirty] = 1;
  if (start === 'idle') {
    c.journal[JR.tid] = 1;
    c.journal[JR.runOrdered] = 1;
  } else {
    c.journal[JR.phase] = PHASE_FLUSH;
    c.journal[JR.tid] = 2;
    c.journal[JR.comOrdered] = 1;
  }
  return c;
}

/** Largest value of every byte, for the explorer's packing. */
export function lockBounds(): Record<keyof LockContext, number[]> {
  return {
    locks: [1, 1, 1, 1, HANDLE_COMMITTING],
    journal: [PHASE_FLUSH, MAX_TID, 1, 1, 1, 1],
    files: [BLOCK_COMMITTED, 1, 1],
  };
}

// ---------------------------------------------------------------- questions

/** Does the running transaction hold anything (ordered data, an allocation, an open handle)? */
export function isRunningTransactionBusy(c: LockContext): boolean {
  return c.journal[JR.runOrdered] === 1 || c.journal[JR.runAlloc] === 1 || c.locks[LK.handle] === HANDLE_RUNNING;
}

/**
 * Can T0 get a handle? A nested start (T0 already holds one, current->journal_info) always can;
 * start_this_handle otherwise waits while the running transaction is T_LOCKED.
 */
export function canStartHandle(c: LockContext): boolean {
  return c.locks[LK.handle] !== HANDLE_NONE || c.journal[JR.phase] !== PHASE_LOCKED;
}

/** Has every handle of the locked transaction stopped (t_updates == 0)? */
export function areUpdatesDone(c: LockContext): boolean {
  return c.journal[JR.phase] === PHASE_LOCKED && c.locks[LK.handle] !== HANDLE_COMMITTING;
}

/**
 * Would journal_submit_data_buffers have to wait for a page lock? It locks every dirty page of
 * every inode on the committing transaction's list (write_cache_pages → lock_page).
 */
export function isOrderedPageLocked(c: LockContext): boolean {
  return c.journal[JR.comOrdered] === 1 && c.files[FL.pageDirty] === 1 && c.locks[LK.page] !== 0;
}

/** Is file1 block 0's allocation committed (what T0's jbd2_log_wait_commit waits for)? */
export function isAllocationCommitted(c: LockContext): boolean {
  return c.files[FL.block] === BLOCK_COMMITTED;
}

/** The tid of the transaction that holds file1 block 0's allocation, or 0. */
export function allocationTid(c: LockContext): number {
  if (c.journal[JR.comAlloc]) return c.journal[JR.tid] - 1;
  if (c.journal[JR.runAlloc]) return c.journal[JR.tid];
  return 0;
}

// ---------------------------------------------------------------- T0: write(2) to file2

/** inode_lock(file2) in ext4_file_write_iter. */
export function inodeLock(c: LockContext): void {
  c.locks[LK.iRwsem2] = 1;
}

/**
 * ext4_write_begin: ext4_journal_start (a handle in the running transaction), then
 * grab_cache_page_write_begin → lock_page(file2 page 0). The block is already allocated.
 */
export function ext4WriteBegin(c: LockContext): void {
  c.locks[LK.handle] = HANDLE_RUNNING;
  c.locks[LK.page] = 1;
}

/** The copy from the user buffer (it succeeds: the buffer is mapped). */
export function copyFromUser(c: LockContext): void {
  if (!c.files[FL.pte]) throw new Error('model error: copy from an unmapped user buffer without a fault');
}

/**
 * ext4_write_end: the page is dirty, file2 joins the ordered-data list of the handle's transaction
 * (ext4_jbd2_file_inode), unlock_page, ext4_journal_stop; then inode_unlock(file2).
 */
export function ext4WriteEnd(c: LockContext): void {
  c.files[FL.pageDirty] = 1;
  if (c.locks[LK.handle] === HANDLE_COMMITTING) c.journal[JR.comOrdered] = 1;
  else c.journal[JR.runOrdered] = 1;
  c.locks[LK.page] = 0;
  c.locks[LK.handle] = HANDLE_NONE;
  c.locks[LK.iRwsem2] = 0;
}

// ---------------------------------------------------------------- T0: the page fault on the user buffer

/**
 * The fault on the no-sync DAX mapping: down_read(mmap_lock), ext4_dax_fault takes file1's
 * MMAPLOCK for read and a handle (nested in write()'s, when T0 holds one: the same transaction),
 * allocates block 0 in that transaction (dax_iomap_fault) and stops the handle. With `retry`, the
 * fault then drops MMAPLOCK and mmap_lock (VM_FAULT_RETRY) to sync outside them, as Piggin
 * suggested ("with fault retry you can almost always do the syncing outside mmap_sem").
 */
export function daxNoSyncFault(c: LockContext, retry: boolean): void {
  const inCommitting = c.locks[LK.handle] === HANDLE_COMMITTING;
  c.files[FL.block] = BLOCK_ALLOCATED;
  if (inCommitting) c.journal[JR.comAlloc] = 1;
  else c.journal[JR.runAlloc] = 1;
  if (!retry) {
    c.locks[LK.mmapReaders] = 1;
    c.locks[LK.mmaplock1Readers] = 1;
  }
}

/**
 * jbd2_log_wait_commit returned: the allocation is committed. The fault installs the writable
 * entry and drops file1's MMAPLOCK and mmap_lock (or, after VM_FAULT_RETRY, the retried fault
 * takes and drops them around mapping the committed block).
 */
export function faultReturns(c: LockContext): void {
  c.files[FL.pte] = 1;
  c.locks[LK.mmapReaders] = 0;
  c.locks[LK.mmaplock1Readers] = 0;
}

// ---------------------------------------------------------------- kjournald2

/** jbd2_journal_commit_transaction, phase 1: the running transaction becomes T_LOCKED. */
export function commitLock(c: LockContext): void {
  const j = c.journal;
  j[JR.phase] = PHASE_LOCKED;
  j[JR.comOrdered] = j[JR.runOrdered];
  j[JR.comAlloc] = j[JR.runAlloc];
  j[JR.runOrdered] = 0;
  j[JR.runAlloc] = 0;
  j[JR.tid] = Math.min(MAX_TID, j[JR.tid] + 1);
  if (c.locks[LK.handle] === HANDLE_RUNNING) c.locks[LK.handle] = HANDLE_COMMITTING;
}

/** t_updates reached 0: T_FLUSH; j_running_transaction is NULL, new handles may start. */
export function commitFlush(c: LockContext): void {
  c.journal[JR.phase] = PHASE_FLUSH;
}

/**
 * journal_submit_data_buffers writes the committing transaction's ordered data (file2 page 0 is
 * locked, written and unlocked), then the metadata blocks and the commit record: the transaction
 * is committed, and waiters in jbd2_log_wait_commit wake up.
 */
export function commitFinish(c: LockContext): void {
  const j = c.journal;
  if (j[JR.comOrdered]) c.files[FL.pageDirty] = 0;
  if (j[JR.comAlloc]) c.files[FL.block] = BLOCK_COMMITTED;
  j[JR.comOrdered] = 0;
  j[JR.comAlloc] = 0;
  j[JR.phase] = PHASE_IDLE;
}

// ---------------------------------------------------------------- T1: mmap(2)

/** vm_mmap_pgoff: down_write(mmap_lock), set up the mapping, up_write. Waits for readers. */
export function isMmapLockFree(c: LockContext): boolean {
  return c.locks[LK.mmapReaders] === 0;
}

// ---------------------------------------------------------------- who waits for whom

/** Where each thread of the deadlock machine is (its region's state name). */
export interface ThreadPositions {
  T0: string;
  T1?: string;
}

/** One edge of the waits-for graph: `from` waits for `to`, in kernel terms. */
export interface Wait {
  from: string;
  to: string;
  /** "T0 holds ... and waits in ... for ..." */
  text: string;
  /** What `from` holds, one phrase each. */
  holds: string[];
  /** What it waits for, short ("lock_page(file2 page 0)"). */
  waitsFor: string;
  /** The kernel function it waits in. */
  where: string;
}

/** The T0 states in which T0 is inside the no-sync fault's wait for the commit. */
export const T0_WAITING_FOR_COMMIT = ['fault_wait_commit', 'prefault_wait_commit'] as const;

/** What T0 holds, as a phrase ("i_rwsem of file2 (ext4_file_write_iter), ..."). */
export function t0Holds(c: LockContext): string[] {
  const held: string[] = [];
  if (c.locks[LK.iRwsem2]) held.push('i_rwsem of file2 (inode_lock in ext4_file_write_iter)');
  if (c.locks[LK.page]) held.push('the page lock of file2 page 0 (ext4_write_begin)');
  const h = c.locks[LK.handle];
  if (h !== HANDLE_NONE) {
    const tid = h === HANDLE_COMMITTING ? c.journal[JR.tid] - 1 : c.journal[JR.tid];
    held.push(`a jbd2 handle on transaction ${tid} (ext4_journal_start in ext4_write_begin)`);
  }
  if (c.locks[LK.mmapReaders]) held.push('mmap_lock for read (the page fault on the user buffer)');
  if (c.locks[LK.mmaplock1Readers]) held.push("file1's MMAPLOCK for read (ext4_dax_fault)");
  return held;
}

/**
 * The waits-for graph of a state: who cannot move, and for whom. Only edges that block: a thread
 * whose next step is enabled waits for nobody.
 */
export function waitsFor(c: LockContext, at: ThreadPositions): Wait[] {
  const out: Wait[] = [];
  const j = c.journal;
  const holds = (s: string[]) => (s.length ? `holds ${s.join(', ')}, and ` : '');
  const committingTid = j[JR.tid] - 1;
  // T0
  if ((T0_WAITING_FOR_COMMIT as readonly string[]).includes(at.T0) && !isAllocationCommitted(c)) {
    const tid = allocationTid(c);
    const behind = j[JR.phase] !== PHASE_IDLE && tid !== committingTid ? ` (jbd2 must first finish transaction ${committingTid})` : '';
    out.push({
      from: 'T0',
      to: 'jbd2',
      text: `T0 ${holds(t0Holds(c))}waits in jbd2_log_wait_commit for transaction ${tid}, which holds file1 block 0's allocation, to commit${behind}`,
      holds: t0Holds(c),
      waitsFor: `the commit of transaction ${tid}${behind}`,
      where: 'jbd2_log_wait_commit',
    });
  } else if ((at.T0 === 'write_begin' || at.T0 === 'prefault') && !canStartHandle(c)) {
    out.push({
      from: 'T0',
      to: 'jbd2',
      text: `T0 ${holds(t0Holds(c))}waits in start_this_handle for transaction ${committingTid} to leave T_LOCKED`,
      holds: t0Holds(c),
      waitsFor: `transaction ${committingTid} to leave T_LOCKED`,
      where: 'start_this_handle',
    });
  }
  // jbd2
  if (j[JR.phase] === PHASE_LOCKED && !areUpdatesDone(c)) {
    out.push({
      from: 'jbd2',
      to: 'T0',
      text: `jbd2 holds transaction ${committingTid} in T_LOCKED and waits in jbd2_journal_commit_transaction for its t_updates to reach 0: T0's handle from ext4_write_begin is still open`,
      holds: [`transaction ${committingTid} in T_LOCKED (new handles wait)`],
      waitsFor: `t_updates of transaction ${committingTid} to reach 0 (T0's handle)`,
      where: 'jbd2_journal_commit_transaction',
    });
  } else if (j[JR.phase] === PHASE_FLUSH && isOrderedPageLocked(c)) {
    out.push({
      from: 'jbd2',
      to: 'T0',
      text:
        `jbd2 is committing transaction ${committingTid} (T_FLUSH) and waits for lock_page(file2 page 0) in ` +
        'jbd2_journal_commit_transaction → journal_submit_data_buffers → journal_submit_inode_data_buffers → ' +
        'generic_writepages → ext4_writepages → mpage_prepare_extent_to_map → lock_page; T0 holds that page lock',
      holds: [`transaction ${committingTid}, committing (T_FLUSH)`],
      waitsFor: 'lock_page(file2 page 0)',
      where: 'journal_submit_data_buffers → … → mpage_prepare_extent_to_map',
    });
  }
  // T1
  if (at.T1 === 'mmap' && !isMmapLockFree(c)) {
    out.push({
      from: 'T1',
      to: 'T0',
      text: "T1 waits in vm_mmap_pgoff for mmap_lock (down_write), held for read by T0's page fault",
      holds: [],
      waitsFor: 'mmap_lock for write (down_write)',
      where: 'vm_mmap_pgoff',
    });
  }
  return out;
}

/** A cycle in the waits-for graph, as the actors in order (first = last), or null. */
export function waitCycle(waits: Wait[]): string[] | null {
  return firstCycle(waits.map((w) => [w.from, w.to] as const));
}
