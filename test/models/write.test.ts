/**
 * write(2) / pwrite(2) and the second file g (issue 13, point 1), each on a hand-built state: what
 * a write puts in the running transaction, and whether g's fsync or fdatasync commits it.
 */
import { describe, expect, it } from 'vitest';
import { mountAfterCrash, powerFail } from '../../models/crash.ts';
import { finishSyncFault, pageFault } from '../../models/faults.ts';
import { coreFields, DATA, EBADF, FD_APPEND, G_BLOCKS, HOLE, initialContext, Layout, OK, PTE_NONE, PTE_RO, UNWRITTEN, WRITTEN, ZERO } from '../../models/layout.ts';
import { commitRunningTransaction, runningItems, secondFileItems } from '../../models/journal.ts';
import { isPhysDirty } from '../../models/pmem.ts';
import { sysFallocate, sysFtruncate, sysMmap, sysOpen, sysOpenG, sysWriteF, sysWriteG, syncFile, syncSecondFile } from '../../models/syscalls.ts';
import { visibleWord } from '../../models/fs.ts';
import { itemsWritten } from '../../models/measures.ts';

const dims = { threads: 1, blocks: 3, phys: 3, words: 2, unrelated: 0 };
const L = new Layout(dims, { features: { secondFile: true, append: true } });
const plain = new Layout(dims);

function fresh(layout = L) {
  const c = initialContext(layout, { size: 0, dax: true });
  sysOpen(c, layout, 0);
  return c;
}

describe('write(2) and pwrite(2) on the file', () => {
  it('an extending pwrite allocates a zeroed block and grows i_size in the running transaction; the data waits for fsync', () => {
    const c = fresh();
    sysFtruncate(c, L, 0, 1);
    commitRunningTransaction(c, L);
    expect(sysWriteF(c, L, 0, 'pwrite', 2, DATA(0))).toBe(OK);
    expect(c.volatile[L.vSize]).toBe(3);
    expect(c.durable[L.dSize]).toBe(1);
    expect(c.volatile[L.vExtKind + 2]).toBe(WRITTEN);
    expect(c.volatile[L.vExtKind + 1]).toBe(HOLE); // the write skipped block 1: a hole
    const p = c.volatile[L.vExtPhys + 2];
    expect(c.durable[L.dPmem + L.word(p, 0)]).toBe(ZERO); // zeroed on the media first
    expect(isPhysDirty(c, L, p)).toBe(true); // the bytes are not yet fenced
    expect(visibleWord(c, L, 2, 0)).toBe(DATA(0));
    expect(runningItems(c, L)).toBe(2); // i_size and block 2's extent
    syncFile(c, L, 0);
    expect(c.durable[L.dSize]).toBe(3);
    expect(c.durable[L.dPmem + L.word(p, 0)]).toBe(DATA(0));
  });

  it('write(2) on an O_APPEND descriptor lands at the end of the file, whatever block the call names', () => {
    const c = initialContext(L, { size: 0, dax: true });
    sysOpen(c, L, 0, true);
    expect(c.volatile[L.vFd]).toBe(FD_APPEND);
    sysFtruncate(c, L, 0, 1);
    sysWriteF(c, L, 0, 'write', 0, DATA(0));
    expect(c.volatile[L.vSize]).toBe(2);
    expect(c.volatile[L.vExtKind + 1]).toBe(WRITTEN);
    expect(c.volatile[L.vExtKind + 0]).toBe(HOLE);
  });

  it('a write into a preallocated extent converts it and invalidates the zero page a mapping had there', () => {
    const c = fresh();
    sysFallocate(c, L, 0, 0, 2);
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 1, false); // a read fault maps the zero page
    expect(c.volatile[L.vPte + 1]).toBe(PTE_RO);
    sysWriteF(c, L, 0, 'pwrite', 1, DATA(0));
    expect(c.volatile[L.vExtKind + 1]).toBe(WRITTEN);
    expect(c.volatile[L.vExtKind + 0]).toBe(UNWRITTEN);
    expect(c.volatile[L.vPte + 1]).toBe(PTE_NONE);
  });

  it('without a descriptor write is EBADF and changes nothing', () => {
    const c = initialContext(L, { size: 0, dax: true });
    const before = c.volatile.slice();
    expect(sysWriteF(c, L, 0, 'pwrite', 0, DATA(0))).toBe(EBADF);
    expect([...c.volatile].filter((x, i) => x !== before[i] && i !== L.vErr)).toEqual([]);
  });

  it('a MAP_SYNC fault commits what write(2) left in the running transaction; a store to an already writable page does not', () => {
    const c = fresh();
    sysFtruncate(c, L, 0, 1);
    sysMmap(c, L, 0, 0, 'shared_validate_sync', true);
    pageFault(c, L, 0, 0, 0, true);
    finishSyncFault(c, L, 0, 0);
    expect(runningItems(c, L)).toBe(0);
    sysWriteF(c, L, 0, 'pwrite', 1, DATA(0));
    expect(runningItems(c, L)).toBe(2);
    // The fault on the written block finds the inode dirty and commits.
    pageFault(c, L, 0, 0, 1, true);
    expect(finishSyncFault(c, L, 0, 0)).toBe(2);
    expect(c.durable[L.dSize]).toBe(2);
  });
});

describe('the second file g', () => {
  it('exists only in layouts that declare it', () => {
    expect(Object.keys(coreFields(dims)).some((k) => k.startsWith('g'))).toBe(false);
    expect(Object.keys(coreFields(dims, { secondFile: true })).filter((k) => k.startsWith('g')).length).toBe(7);
    expect(plain.vGSize).toBe(-1);
    expect(plain.volatileBytes).toBeLessThan(L.volatileBytes);
    expect(secondFileItems(fresh(plain), plain)).toBe(0);
  });

  it('starts clean: one written block, committed', () => {
    const c = fresh();
    expect(c.durable[L.dGSize]).toBe(1);
    expect(c.durable[L.dGExtent]).toBe(WRITTEN);
    expect(c.durable[L.dGExtent + 1]).toBe(HOLE);
    expect(secondFileItems(c, L)).toBe(0);
    expect(G_BLOCKS).toBe(2);
  });

  it("fsync(g) after an allocating write commits the running transaction, f's allocation with it", () => {
    const c = fresh();
    sysFtruncate(c, L, 0, 1);
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true); // f: block 0 allocated, uncommitted
    sysOpenG(c, L, 0, true);
    sysWriteG(c, L, 0, 'write', 0); // O_APPEND: block 1
    expect(c.volatile[L.vGSize]).toBe(2);
    expect(secondFileItems(c, L)).toBe(3); // i_size, block 1 extent, timestamps
    expect(secondFileItems(c, L, true)).toBe(2);
    const out = syncSecondFile(c, L, 0, false);
    expect(out).toEqual({ errno: OK, flushed: 0, committed: 5 });
    expect(c.durable[L.dExtKind]).toBe(WRITTEN);
    expect(c.durable[L.dGSize]).toBe(2);
  });

  it("fsync(g) of a clean g commits nothing: f's allocation is lost at a crash", () => {
    const c = fresh();
    sysFtruncate(c, L, 0, 1);
    sysMmap(c, L, 0, 0, 'shared', false);
    pageFault(c, L, 0, 0, 0, true);
    sysOpenG(c, L, 0);
    expect(syncSecondFile(c, L, 0, false).committed).toBe(0);
    powerFail(c, L);
    mountAfterCrash(c, L);
    expect(c.volatile[L.vSize]).toBe(0);
    expect(c.volatile[L.vExtKind]).toBe(HOLE);
    expect(c.volatile[L.vGSize]).toBe(1);
  });

  it('an overwrite changes only timestamps: fdatasync(g) skips them, fsync(g) commits them', () => {
    for (const datasync of [true, false]) {
      const c = fresh();
      sysFtruncate(c, L, 0, 1);
      sysOpenG(c, L, 0);
      sysWriteG(c, L, 0, 'pwrite', 0);
      expect(c.volatile[L.vGSize]).toBe(1);
      expect(secondFileItems(c, L)).toBe(1);
      expect(secondFileItems(c, L, true)).toBe(0);
      const committed = syncSecondFile(c, L, 0, datasync).committed;
      expect(committed).toBe(datasync ? 0 : 2); // f's i_size and g's timestamps
      expect(c.durable[L.dSize]).toBe(datasync ? 0 : 1);
    }
  });

  it('a second overwrite before a commit keeps the timestamps changed', () => {
    const c = fresh();
    sysOpenG(c, L, 0);
    sysWriteG(c, L, 0, 'pwrite', 0);
    sysWriteG(c, L, 0, 'pwrite', 0);
    expect(secondFileItems(c, L)).toBe(1);
    commitRunningTransaction(c, L);
    expect(secondFileItems(c, L)).toBe(0);
    sysWriteG(c, L, 0, 'pwrite', 0);
    expect(secondFileItems(c, L)).toBe(1);
  });

  it("a MAP_SYNC fault's commit writes g's items too, and the fault cost counts them", () => {
    const c = fresh();
    sysFtruncate(c, L, 0, 1);
    commitRunningTransaction(c, L);
    sysOpenG(c, L, 0, true);
    sysWriteG(c, L, 0, 'write', 0); // g: i_size, block 1, timestamps
    sysMmap(c, L, 0, 0, 'shared_validate_sync', true);
    const before = { durable: c.durable.slice(), volatile: c.volatile.slice(), ghost: c.ghost.slice() } as typeof c;
    pageFault(c, L, 0, 0, 0, true);
    expect(finishSyncFault(c, L, 0, 0)).toBe(4); // f's block 0 extent and g's three items
    expect(itemsWritten(L, before, c)).toBe(4);
  });

  it('fsync(g) without a descriptor of g is EBADF', () => {
    const c = fresh();
    expect(syncSecondFile(c, L, 0, false).errno).toBe(EBADF);
  });
});
