/** Unit tests of the shared model's operations, each on a hand-built state. */
import { describe, expect, it } from 'vitest';
import { appLayout } from '../../models/app-layout.ts';
import { decideDirtyWord, firstDirtyWord, isCrashImageComplete, mayBeLost, mayReachMedia, mountAfterCrash, powerFail } from '../../models/crash.ts';
import { finishSyncFault, needsWriteFault, pageFault } from '../../models/faults.ts';
import { allocatePhys, durableWord, visibleWord } from '../../models/fs.ts';
import { commitRunningTransaction, runningItems } from '../../models/journal.ts';
import { EOPNOTSUPP, HDR, HOLE, initialContext, Layout, OK, PTE_RW, SIGBUS, STALE, UNWRITTEN, VMA_SYNC, WRITTEN, ZERO } from '../../models/layout.ts';
import { dirtyMask } from '../../models/pmem.ts';
import { sysFallocate, sysFtruncate, sysMmap, sysMunmap, sysOpen, syncFile } from '../../models/syscalls.ts';
import { userFlush, userStore } from '../../models/userspace.ts';
import { recordState } from '../../models/implementations.ts';

const L = new Layout({ threads: 1, blocks: 2, phys: 2, words: 2, unrelated: 0 });
function fresh(dax = true) {
  const c = initialContext(L, { size: 0, dax });
  sysOpen(c, L, 0);
  sysFtruncate(c, L, 0, 2);
  return c;
}

describe('filesystem and journal', () => {
  it('a write fault on a hole allocates a zeroed block in the running transaction', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    expect(c.durable[L.dPmem + L.word(0, 0)]).toBe(STALE);
    pageFault(c, L, 0, 0, 1, true);
    expect(c.volatile[L.vExtKind + 1]).toBe(WRITTEN);
    expect(c.durable[L.dPmem + L.word(0, 0)]).toBe(ZERO); // zeroed on the media before mapping
    expect(c.durable[L.dExtKind + 1]).toBe(HOLE); // not committed
    expect(runningItems(c, L)).toBe(2); // i_size and the extent
    expect(commitRunningTransaction(c, L)).toBe(2);
    expect(c.durable[L.dExtKind + 1]).toBe(WRITTEN);
    expect(runningItems(c, L)).toBe(0);
  });

  it('does not reuse a freed block before the free is committed', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    commitRunningTransaction(c, L);
    sysFtruncate(c, L, 0, 0); // frees block 0 in memory only
    expect(allocatePhys(c, L)).toBe(1);
    commitRunningTransaction(c, L);
    expect(allocatePhys(c, L)).toBe(0);
  });

  it('fallocate leaves unwritten extents that a write fault converts', () => {
    const c = fresh();
    sysFallocate(c, L, 0, 0, 2);
    expect([c.volatile[L.vExtKind], c.volatile[L.vExtKind + 1]]).toEqual([UNWRITTEN, UNWRITTEN]);
    expect(visibleWord(c, L, 0, 0)).toBe(ZERO); // unwritten reads as zeros, not stale data
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    expect(c.volatile[L.vExtKind]).toBe(WRITTEN);
  });

  it('a fault beyond EOF is SIGBUS', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    sysFtruncate(c, L, 0, 1);
    expect(pageFault(c, L, 0, 0, 1, true).errno).toBe(SIGBUS);
  });
});

describe('MAP_SYNC', () => {
  it('is refused with EOPNOTSUPP without DAX or without kernel support', () => {
    expect(sysMmap(fresh(false), L, 0, 0, 'shared_validate_sync', true)).toBe(EOPNOTSUPP);
    expect(sysMmap(fresh(true), L, 0, 0, 'shared_validate_sync', false)).toBe(EOPNOTSUPP);
    const c = fresh(true);
    expect(sysMmap(c, L, 0, 0, 'shared_validate_sync', true)).toBe(OK);
    expect(c.volatile[L.vVma]).toBe(VMA_SYNC);
  });

  it('with plain MAP_SHARED is honoured by a kernel that has MAP_SYNC, dropped by one that has not', () => {
    const c = fresh(true);
    expect(sysMmap(c, L, 0, 0, 'shared_sync_unvalidated', true)).toBe(OK);
    expect(c.volatile[L.vVma]).toBe(VMA_SYNC);
    expect(sysMmap(fresh(false), L, 0, 0, 'shared_sync_unvalidated', true)).toBe(EOPNOTSUPP);
    const old = fresh(true);
    expect(sysMmap(old, L, 0, 0, 'shared_sync_unvalidated', false)).toBe(OK);
    expect(old.volatile[L.vVma]).not.toBe(VMA_SYNC);
    expect(sysMmap(fresh(false), L, 0, 0, 'shared_sync_unvalidated', false)).toBe(OK);
  });

  it('dax_finish_sync_fault commits only for VM_SYNC mappings with dirty metadata', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared_validate_sync', true);
    pageFault(c, L, 0, 0, 0, true);
    expect(finishSyncFault(c, L, 0, 0)).toBe(2);
    expect(finishSyncFault(c, L, 0, 0)).toBe(0);
    const plain = fresh();
    sysMmap(plain, L, 0, 0, 'shared', false);
    pageFault(plain, L, 0, 0, 0, true);
    expect(finishSyncFault(plain, L, 0, 0)).toBe(0);
  });
});

describe('pmem, cache and crash', () => {
  it('a store stays in the cache until flushed; a crash image picks which dirty words survive', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    expect(c.volatile[L.vPte]).toBe(PTE_RW);
    expect(needsWriteFault(c, L, 0, 0)).toBe(false);
    userStore(c, L, 0, 0, 0, HDR);
    userStore(c, L, 0, 0, 1, 9);
    expect(visibleWord(c, L, 0, 0)).toBe(HDR);
    expect(dirtyMask(c, L)).toBe(0b11);
    commitRunningTransaction(c, L);
    powerFail(c, L);
    expect([mayReachMedia(c, L), mayBeLost(c, L), firstDirtyWord(c, L)]).toEqual([true, true, 0]);
    decideDirtyWord(c, L, false); // word 0 lost
    decideDirtyWord(c, L, true); // word 1 reached the media
    expect(isCrashImageComplete(c, L)).toBe(true);
    mountAfterCrash(c, L);
    expect(durableWord(c.durable, L, 0, 0)).toBe(ZERO);
    expect(durableWord(c.durable, L, 0, 1)).toBe(9);
    expect(c.ghost[L.gCrashes]).toBe(1);
  });

  it('without DAX a CPU flush does not make data durable, and no dirty word survives a crash', () => {
    const c = fresh(false);
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    userStore(c, L, 0, 0, 0, HDR);
    expect(userFlush(c, L, 0, 0)).toBe(0);
    powerFail(c, L);
    expect([mayReachMedia(c, L), mayBeLost(c, L)]).toEqual([false, true]);
  });

  it('fsync writes back dirty data, commits, and promises the file contents', () => {
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    userStore(c, L, 0, 0, 0, HDR);
    const out = syncFile(c, L, 0);
    expect([out.errno, out.flushed, out.committed]).toEqual([OK, 1, 2]);
    expect(c.ghost[L.gPromise + 0]).toBe(HDR + 1);
    userStore(c, L, 0, 0, 0, 7);
    expect(c.ghost[L.gPromise + 0]).toBe(0); // a later store ends the promise for that word
  });

  it('classifies what the application finds after recovery', () => {
    const app = appLayout();
    const c = fresh();
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    commitRunningTransaction(c, L);
    userStore(c, L, 0, 0, 1, app.pointerValue(0));
    userFlush(c, L, 0, 0);
    expect(recordState(c, L, app, 0)).toBe(2); // dangling: block 1 is a hole
  });
});
