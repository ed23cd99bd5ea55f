/** Unit tests of specs/nosync-flag/locks.ts: the write path, the no-sync fault, kjournald2, and who waits for whom. */
import { describe, expect, it } from 'vitest';
import {
  BLOCK_COMMITTED,
  FL,
  HANDLE_COMMITTING,
  HANDLE_NONE,
  HANDLE_RUNNING,
  JR,
  LK,
  PHASE_FLUSH,
  PHASE_IDLE,
  PHASE_LOCKED,
  allocationTid,
  areUpdatesDone,
  canStartHandle,
  commitFinish,
  commitFlush,
  commitLock,
  daxNoSyncFault,
  ext4WriteBegin,
  ext4WriteEnd,
  faultReturns,
  inodeLock,
  isAllocationCommitted,
  isMmapLockFree,
  isOrderedPageLocked,
  lockContext,
  waitCycle,
  waitsFor,
} from '../../../specs/nosync-flag/locks.ts';

describe('the jbd2 commit', () => {
  it('waits in T_LOCKED for an open handle, and new handles wait for T_LOCKED', () => {
    const c = lockContext('idle');
    inodeLock(c);
    ext4WriteBegin(c);
    commitLock(c);
    expect(c.locks[LK.handle]).toBe(HANDLE_COMMITTING);
    expect(areUpdatesDone(c)).toBe(false);
    expect(canStartHandle(c)).toBe(true); // nested in write()'s handle
    ext4WriteEnd(c);
    expect(c.journal[JR.comOrdered]).toBe(1); // file2 joined the handle's (committing) transaction
    expect(canStartHandle(c)).toBe(false); // start_this_handle waits while T_LOCKED
    expect(areUpdatesDone(c)).toBe(true);
    commitFlush(c);
    expect(canStartHandle(c)).toBe(true);
  });

  it('takes the lock of every dirty ordered page, and commits in tid order', () => {
    const c = lockContext('committing');
    expect([c.journal[JR.phase], c.journal[JR.tid]]).toEqual([PHASE_FLUSH, 2]);
    inodeLock(c);
    ext4WriteBegin(c);
    expect(isOrderedPageLocked(c)).toBe(true);
    daxNoSyncFault(c, false);
    expect(allocationTid(c)).toBe(2); // in the running transaction, behind the committing one
    ext4WriteEnd(c);
    expect(isOrderedPageLocked(c)).toBe(false);
    commitFinish(c);
    expect([c.journal[JR.phase], isAllocationCommitted(c), c.files[FL.pageDirty]]).toEqual([PHASE_IDLE, false, 0]);
    commitLock(c);
    commitFlush(c);
    commitFinish(c);
    expect(c.files[FL.block]).toBe(BLOCK_COMMITTED);
    faultReturns(c);
    expect([c.files[FL.pte], c.locks[LK.mmapReaders]]).toEqual([1, 0]);
  });

  it('the fault holds mmap_lock while it waits, unless it retries', () => {
    const c = lockContext('idle');
    daxNoSyncFault(c, false);
    expect(isMmapLockFree(c)).toBe(false);
    const r = lockContext('idle');
    daxNoSyncFault(r, true);
    expect(isMmapLockFree(r)).toBe(true);
  });
});

describe('the waits-for graph', () => {
  it("Chinner's cycle: T0 holds the page lock and waits for the commit that needs it", () => {
    const c = lockContext('committing');
    inodeLock(c);
    ext4WriteBegin(c);
    daxNoSyncFault(c, false);
    const ws = waitsFor(c, { T0: 'fault_wait_commit', T1: 'mmap' });
    expect(ws.map((w) => `${w.from}→${w.to}`)).toEqual(['T0→jbd2', 'jbd2→T0', 'T1→T0']);
    expect(ws[1].text).toMatch(/journal_submit_data_buffers → .* → lock_page/);
    expect(ws[0].text).toMatch(/holds .*page lock of file2 page 0.* waits in jbd2_log_wait_commit for transaction 2/);
    expect(waitCycle(ws)).toEqual(['T0', 'jbd2', 'T0']);
  });

  it('the handle cycle: jbd2 waits in T_LOCKED for the handle of the thread that waits for it', () => {
    const c = lockContext('idle');
    inodeLock(c);
    ext4WriteBegin(c);
    daxNoSyncFault(c, false);
    commitLock(c);
    expect(c.locks[LK.handle]).toBe(HANDLE_COMMITTING);
    const ws = waitsFor(c, { T0: 'fault_wait_commit' });
    expect(ws[1].text).toMatch(/T_LOCKED .* t_updates/);
    expect(waitCycle(ws)).toEqual(['T0', 'jbd2', 'T0']);
  });

  it('no cycle when the fault runs before the page lock is taken', () => {
    const c = lockContext('committing');
    inodeLock(c);
    daxNoSyncFault(c, false);
    expect(c.locks[LK.handle]).toBe(HANDLE_NONE);
    const ws = waitsFor(c, { T0: 'prefault_wait_commit', T1: 'mmap' });
    expect(ws.some((w) => w.from === 'jbd2')).toBe(false);
    expect(waitCycle(ws)).toBeNull();
  });

  it('a handle in the running transaction is what write_begin leaves', () => {
    const c = lockContext('idle');
    ext4WriteBegin(c);
    expect(c.locks[LK.handle]).toBe(HANDLE_RUNNING);
    expect(c.journal[JR.phase]).toBe(PHASE_IDLE);
    commitLock(c);
    expect(c.journal[JR.phase]).toBe(PHASE_LOCKED);
  });
});
