/**
 * Unit tests of MAP_DIRECT's own model (specs/map-direct/model.ts) on hand-built states: its
 * fields and hooks on a layout built as buildDaxSpec builds it, and the shared model's system
 * calls meeting them (mmap of its flags, munmap, stores, flushes, loads and fsync through a mapping
 * that fell back to the page cache).
 */
import { describe, expect, it } from 'vitest';
import { needsWriteFault, pageFault } from '../../../models/faults.ts';
import { extentKind, physOf, visibleWord } from '../../../models/fs.ts';
import { mappingsCoherent, type DaxView } from '../../../models/invariants.ts';
import { commitRunningTransaction } from '../../../models/journal.ts';
import { EOPNOTSUPP, HDR, initialContext, Layout, OK, SHARED, WRITTEN, type KernelHooks } from '../../../models/layout.ts';
import { sysFtruncate, sysMmap, sysMunmap, sysOpen, syncFile } from '../../../models/syscalls.ts';
import { applyOp, finishOp, startOp, type ThirdPartyPolicy } from '../../../models/third-party.ts';
import { userFlush, userStore } from '../../../models/userspace.ts';
import { MAP_DIRECT_FLAGS, directFaultKind, directHooks, directState, directWriteFault, madviseDirectAccess, type DirectMode } from '../../../specs/map-direct/model.ts';

const dims = { threads: 1, blocks: 2, phys: 4, words: 2, unrelated: 0 };

/** A layout with MAP_DIRECT's fields and hooks, as buildDaxSpec makes it. */
function layout(mode: DirectMode) {
  const hooks: KernelHooks = {};
  const L = new Layout(dims, { features: { thirdParty: true }, fields: directState(dims, { thirdParty: true }), owner: 'specs/map-direct', hooks });
  Object.assign(hooks, directHooks(L, mode));
  return L;
}

/** An open two-block DAX file (or not), mapped as mapping 0 with `flags`. */
function mapped(L: ReturnType<typeof layout>, flags: Parameters<typeof sysMmap>[4] = MAP_DIRECT_FLAGS, dax = true) {
  const c = initialContext(L, { size: 0, dax });
  sysOpen(c, L, 0);
  sysFtruncate(c, L, 0, 2);
  expect(sysMmap(c, L, 0, 0, flags, false)).toBe(dax || flags === 'shared' ? OK : EOPNOTSUPP);
  return c;
}

/** How the spec's filesystem runs another process's reflink (specs/map-direct/machine.ts). */
const policy: ThirdPartyPolicy = { invalidate: true, holdOffFaults: true, syncBeforeRelease: false };

/** Block 1 written through mapping 0, committed, then reflinked by another process. */
function sharedBlock(L: ReturnType<typeof layout>, c: ReturnType<typeof mapped>) {
  pageFault(c, L, 0, 0, 1, true);
  commitRunningTransaction(c, L);
  startOp(c, L, 'reflink', 1, policy);
  applyOp(c, L, 'reflink', 1);
  finishOp(c, L, policy);
  expect(extentKind(c, L, 1)).toBe(SHARED);
}

const running = (c: unknown) => ({ matches: (s: string) => s === 'running', context: c }) as unknown as DaxView;

describe('mmap(MAP_SHARED_VALIDATE|MAP_DIRECT)', () => {
  it('is refused without DAX, and otherwise an ordinary shared mapping to the core, direct to the proposal', () => {
    const L = layout('guarantee');
    mapped(L, MAP_DIRECT_FLAGS, false);
    const c = mapped(L);
    const s = L.view().at(c);
    expect([s.vma(0), s.direct(0)]).toEqual(['MAP_SHARED', 'guarantee']);
    sysMunmap(c, L, 0, 0);
    expect([s.vma(0), s.direct(0)]).toEqual(['none', 'no']);
  });

  it('without the proposal, the core refuses flags it does not know (EOPNOTSUPP)', () => {
    const L = new Layout(dims);
    const c = initialContext(L, { size: 0, dax: true });
    sysOpen(c, L, 0);
    expect(sysMmap(c, L, 0, 0, MAP_DIRECT_FLAGS, false)).toBe(EOPNOTSUPP);
  });

  it('MADV_DIRECT_ACCESS makes a MAP_SHARED mapping the hint', () => {
    const L = layout('guarantee');
    const c = mapped(L, 'shared');
    expect(L.view().at(c).direct(0)).toBe('no');
    expect(madviseDirectAccess(c, L, 0, 0)).toBe(OK);
    expect(L.view().at(c).direct(0)).toBe('hint');
  });
});

describe('a write fault on a block another process shares', () => {
  it('as a guarantee: SIGBUS, and the application was killed for what another process did', () => {
    const L = layout('guarantee');
    const c = mapped(L);
    sharedBlock(L, c);
    expect(needsWriteFault(c, L, 0, 1)).toBe(true);
    expect(directWriteFault(c, L, 0, 0, 1)).toBe('sigbus');
    const s = L.view().at(c);
    expect([s.errno(0), s.killedByOther(0)]).toEqual(['SIGBUS', 1]);
  });

  it('as a hint: falls back to the page cache, where stores stay in DRAM until fsync copies the block', () => {
    const L = layout('hint');
    const c = mapped(L);
    sharedBlock(L, c);
    const old = physOf(c, L, 1);
    expect(directWriteFault(c, L, 0, 0, 1)).toBe('fallback');
    const s = L.view().at(c);
    expect([s.direct(0), s.pte(0, 0), s.pte(0, 1)]).toEqual(['page cache', 'absent', 'writable']);
    expect(directFaultKind(c, L, 0, 0)).toBe('pagecache');

    // The store dirties a page-cache word: loads see it, the media does not, a CPU flush does nothing.
    userStore(c, L, 0, 1, 0, HDR);
    expect([s.pageCache(1, 0), s.pageCacheDirty(1, 0)]).toEqual([HDR, 1]);
    expect(visibleWord(c, L, 1, 0)).toBe(HDR);
    expect(s.pmem(old, 0)).not.toBe(HDR);
    expect(userFlush(c, L, 0, 1)).toBe(0);
    // Its entries map page-cache pages: the coherence property leaves them to the proposal.
    const coherent = mappingsCoherent(L);
    expect(coherent.kind === 'always' && coherent.holds(running(c))).toBe(true);

    // fsync writes the page cache back, copying the shared block first.
    const r = syncFile(c, L, 0);
    expect(r.errno).toBe(OK);
    const now = physOf(c, L, 1);
    expect(now).not.toBe(old);
    expect([extentKind(c, L, 1), s.pmem(now, 0), s.pageCacheDirty(1, 0)]).toEqual([WRITTEN, HDR, 0]);
    expect(s.committedExtent(1)).toBe(WRITTEN);
  });
});
