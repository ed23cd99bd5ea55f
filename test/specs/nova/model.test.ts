/** Unit tests of specs/nova/model.ts: the copy-on-write fault, writeback's pointer swap, recovery. */
import { describe, expect, it } from 'vitest';
import { cloneContext } from '../../../checker/xstate/mutator.ts';
import { decideDirtyWord, firstDirtyWord } from '../../../models/crash.ts';
import { allocatePhys, durableWord, visibleWord } from '../../../models/fs.ts';
import { DATA, HDR, HOLE, initialContext, OK, PTE_NONE, PTE_RO, PTE_RW, STALE, WRITTEN, ZERO } from '../../../models/layout.ts';
import { itemsWritten } from '../../../models/measures.ts';
import {
  copiesInMemoryOnly,
  cowEntry,
  hasCopy,
  isSwapPending,
  mayWriteBack,
  NOVA,
  novaFsync,
  novaFtruncate,
  novaRecover,
  novaSwap,
  novaWriteback,
  novaLayout,
  novaWriteFault,
  writablePagesDurablyBacked,
  type NovaDesign,
} from '../../../specs/nova/model.ts';
import { sysMmap, sysOpen } from '../../../models/syscalls.ts';
import { userFlush, userStore } from '../../../models/userspace.ts';

const L = novaLayout({ threads: 2, blocks: 3, phys: 3, words: 2, unrelated: 4 });

function file(d: NovaDesign = NOVA) {
  const c = initialContext(L, { size: 0, dax: true });
  for (const t of [0, 1]) {
    sysOpen(c, L, t);
    sysMmap(c, L, t, t, 'shared_validate_sync', true);
  }
  novaFtruncate(c, L, 0, 3);
  return { c, d };
}

/** A crash losing every dirty cache line, then NOVA's recovery. */
function crash(c: ReturnType<typeof file>['c']) {
  while (firstDirtyWord(c, L) >= 0) decideDirtyWord(c, L, false);
  return novaRecover(c, L);
}

describe('NOVA model', () => {
  it('ftruncate is durable when it returns: NOVA has no running transaction', () => {
    const { c } = file();
    expect(c.durable[L.dSize]).toBe(3);
  });

  it('a write fault on a hole copies zeros durably, appends the cache entry durably, and maps the copy', () => {
    const { c, d } = file();
    const r = novaWriteFault(c, L, d, 0, 0, 0);
    expect(r).toEqual({ errno: OK, copy: 0, copied: true });
    expect(cowEntry(c, L, 0)).toBe(0);
    expect(c.durable[L.dExtKind]).toBe(HOLE); // the file map proper is untouched
    expect(hasCopy(c, L, 0)).toBe(true);
    expect([c.durable[L.dPmem + L.word(0, 0)], c.durable[L.dPmem + L.word(0, 1)]]).toEqual([ZERO, ZERO]);
    expect(c.volatile[L.vPte]).toBe(PTE_RW);
    expect(writablePagesDurablyBacked(c, L)).toBe(true);
  });

  it('the fault writes one metadata item, whatever is dirty elsewhere', () => {
    const { c, d } = file();
    c.volatile[L.vUnrelated] = 4;
    const before = cloneContext(c);
    novaWriteFault(c, L, d, 0, 0, 0);
    expect(itemsWritten(L, before, c)).toBe(1);
    expect(c.volatile[L.vUnrelated]).toBe(4);
  });

  it('writeback write-protects, flushes and swaps the pointer in one step; the next store copies again', () => {
    const { c, d } = file();
    novaWriteFault(c, L, d, 0, 0, 0);
    userStore(c, L, 0, 0, 0, HDR);
    expect(mayWriteBack(c, L, d, 0)).toBe(true);
    expect(novaWriteback(c, L, d, 0)).toBe(1);
    expect([c.durable[L.dExtKind], c.durable[L.dExtPhys], cowEntry(c, L, 0)]).toEqual([WRITTEN, 0, -1]);
    expect(c.volatile[L.vPte]).toBe(PTE_RO);
    expect(durableWord(c.durable, L, 0, 0)).toBe(HDR);
    // clean → dirty again: a copy of pmem 0 in pmem 1; pmem 0 stays the file's until the swap.
    const r = novaWriteFault(c, L, d, 0, 0, 0);
    expect(r.copy).toBe(1);
    expect(c.durable[L.dPmem + L.word(1, 0)]).toBe(HDR);
    expect(allocatePhys(c, L)).toBe(2);
    novaWriteback(c, L, d, 0);
    expect(c.durable[L.dExtPhys]).toBe(1);
    expect(allocatePhys(c, L)).toBe(0); // the old block is free after the swap
  });

  it("a copy-on-write fault takes the old block away from every other mapping", () => {
    const { c, d } = file();
    novaWriteFault(c, L, d, 0, 0, 0);
    novaWriteFault(c, L, d, 1, 1, 0); // the second mapping shares the copy
    expect(c.volatile[L.vPte + 1 * L.B + 0]).toBe(PTE_RW);
    novaWriteback(c, L, d, 0);
    novaWriteFault(c, L, d, 0, 0, 0); // a new copy
    expect(c.volatile[L.vPte + 1 * L.B + 0]).toBe(PTE_NONE);
  });

  it('recovery migrates every durable cache entry into the file map', () => {
    const { c, d } = file();
    novaWriteFault(c, L, d, 0, 0, 1);
    userStore(c, L, 0, 1, 0, DATA(0));
    userFlush(c, L, 0, 1);
    expect(crash(c)).toEqual([[1, 0]]);
    expect([c.durable[L.dExtKind + 1], c.durable[L.dExtPhys + 1], cowEntry(c, L, 1)]).toEqual([WRITTEN, 0, -1]);
    expect(durableWord(c.durable, L, 1, 0)).toBe(DATA(0));
    expect(visibleWord(c, L, 1, 0)).toBe(DATA(0));
  });

  it('fsync migrates every copy and promises what it wrote', () => {
    const { c, d } = file();
    novaWriteFault(c, L, d, 0, 0, 1);
    userStore(c, L, 0, 1, 0, DATA(0));
    novaFsync(c, L, 0);
    expect([c.durable[L.dExtKind + 1], hasCopy(c, L, 1)]).toEqual([WRITTEN, false]);
    expect(c.ghost[L.gPromise + 1 * L.W]).toBe(DATA(0) + 1);
  });

  it('buggy: an entry kept in memory until writeback is lost in a crash', () => {
    const d: NovaDesign = { ...NOVA, entry: 'at-writeback' };
    const { c } = file(d);
    novaWriteFault(c, L, d, 0, 0, 1);
    userStore(c, L, 0, 1, 0, DATA(0));
    userFlush(c, L, 0, 1);
    expect(copiesInMemoryOnly(c, L)).toEqual([1]);
    expect(writablePagesDurablyBacked(c, L)).toBe(false);
    expect(crash(c)).toEqual([]);
    expect(c.durable[L.dExtKind + 1]).toBe(HOLE);
  });

  it('buggy: a two-step swap has a window where neither the cache nor the file map holds the copy', () => {
    const d: NovaDesign = { ...NOVA, swap: 'two-step' };
    const { c } = file(d);
    novaWriteFault(c, L, d, 0, 0, 1);
    novaWriteback(c, L, d, 1);
    expect(isSwapPending(c, L, d, 1)).toBe(true);
    expect(mayWriteBack(c, L, d, 1)).toBe(false);
    const window = cloneContext(c);
    novaSwap(c, L, 1);
    expect(c.durable[L.dExtKind + 1]).toBe(WRITTEN);
    expect(crash(window)).toEqual([]);
    expect(window.durable[L.dExtKind + 1]).toBe(HOLE);
  });

  it('buggy: a copy made with cached stores can reach recovery as old contents', () => {
    const d: NovaDesign = { ...NOVA, copy: 'cached' };
    const { c } = file(d);
    novaWriteFault(c, L, d, 0, 0, 0);
    expect(cowEntry(c, L, 0)).toBe(0);
    expect(c.durable[L.dPmem + L.word(0, 0)]).toBe(STALE);
    crash(c);
    expect(durableWord(c.durable, L, 0, 0)).toBe(STALE);
  });
});
