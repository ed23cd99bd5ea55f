/** Unit tests of specs/nosync-flag/model.ts: the no-sync mapping and the ways its fault syncs metadata. */
import { describe, expect, it } from 'vitest';
import { mountAfterCrash, powerFail } from '../../../models/crash.ts';
import { pageFault } from '../../../models/faults.ts';
import { commitRunningTransaction } from '../../../models/journal.ts';
import { HOLE, initialContext, Layout, OK, WRITTEN, type DaxContext, type Dimensions } from '../../../models/layout.ts';
import {
  hasTreeChangedShape,
  isBlockMetadataDirty,
  isEveryNoSyncPageDurable,
  isNoSyncBlockMoved,
  isNoSyncMapping,
  mmapNoSync,
  noSyncState,
  syncAfterAllocation,
} from '../../../specs/nosync-flag/model.ts';
import { sysFtruncate, sysMmap, sysMunmap, sysOpen } from '../../../models/syscalls.ts';

const dims: Dimensions = { threads: 1, blocks: 2, phys: 2, words: 2, unrelated: 3 };
const L = new Layout(dims, { fields: noSyncState(dims), owner: 'specs/nosync-flag' });
const s = L.view();

function fresh(noSync = true): DaxContext {
  const c = initialContext(L, { size: 0, dax: true });
  sysOpen(c, L, 0);
  sysFtruncate(c, L, 0, 2);
  if (noSync) expect(mmapNoSync(c, L, 0, 0)).toBe(OK);
  else sysMmap(c, L, 0, 0, 'shared', false);
  return c;
}

/** A split elsewhere in the file: block b's record moves to the other leaf (models/third-party.ts). */
const split = (c: DaxContext, b: number) => void (c.volatile[L.vExtLeaf + b] ^= 1);

describe('the no-sync mapping', () => {
  it('is a flag of the mapping that munmap ends', () => {
    const c = fresh();
    expect(isNoSyncMapping(c, L, 0)).toBe(true);
    sysMunmap(c, L, 0, 0);
    expect(isNoSyncMapping(c, L, 0)).toBe(false);
  });

  it('is declared durable to keep the counts: a remount leaves it set, but with the mapping gone it is inert', () => {
    const c = fresh();
    expect(s.at(c).nosync(0)).toBe('yes');
    powerFail(c, L);
    mountAfterCrash(c, L);
    expect(s.at(c).nosync(0)).toBe('yes');
    expect(isNoSyncMapping(c, L, 0)).toBe(false);
  });

  it('a fault on a plain MAP_SHARED mapping syncs nothing', () => {
    const c = fresh(false);
    pageFault(c, L, 0, 0, 0, true);
    expect(syncAfterAllocation(c, L, 0, 0, 'commit')).toEqual({ wrote: 'none', items: 0 });
    expect(c.durable[L.dExtKind]).toBe(HOLE);
  });
});

describe('syncing after the allocation', () => {
  it('a commit writes the whole running transaction, unrelated objects too', () => {
    const c = fresh();
    c.volatile[L.vUnrelated] = 3;
    pageFault(c, L, 0, 0, 0, true);
    expect(syncAfterAllocation(c, L, 0, 0, 'commit')).toEqual({ wrote: 'commit', items: 2 + 3 });
    expect(c.durable[L.dExtKind]).toBe(WRITTEN);
    expect(isEveryNoSyncPageDurable(c, L)).toBe(true);
  });

  it('a leaf write costs the inode and one leaf, whatever else is dirty', () => {
    const c = fresh();
    c.volatile[L.vUnrelated] = 3;
    pageFault(c, L, 0, 0, 0, true);
    expect(syncAfterAllocation(c, L, 0, 0, 'leaf')).toEqual({ wrote: 'leaf', items: 2 });
    expect(c.volatile[L.vUnrelated]).toBe(3);
    expect(isBlockMetadataDirty(c, L, 0)).toBe(false);
    // A second fault in the same leaf writes only its own record.
    pageFault(c, L, 0, 0, 1, true);
    expect(syncAfterAllocation(c, L, 0, 1, 'leaf')).toEqual({ wrote: 'leaf', items: 1 });
  });

  it('seed 004: after a split, the next leaf write drops the moved record of a mapped block', () => {
    const c = fresh();
    pageFault(c, L, 0, 0, 0, true);
    syncAfterAllocation(c, L, 0, 0, 'leaf');
    split(c, 0);
    expect(isNoSyncBlockMoved(c, L)).toBe(true);
    pageFault(c, L, 0, 0, 1, true);
    syncAfterAllocation(c, L, 0, 1, 'leaf');
    expect(c.durable[L.dExtKind + 1]).toBe(WRITTEN);
    expect(c.durable[L.dExtKind + 0]).toBe(HOLE); // block 0 is no longer durably part of the file
    expect(isEveryNoSyncPageDurable(c, L)).toBe(false);
    // A commit puts both records where the tree now has them.
    commitRunningTransaction(c, L);
    expect([c.durable[L.dExtKind], c.durable[L.dExtLeaf]]).toEqual([WRITTEN, 1]);
  });

  it('leaf-or-commit falls back to a commit once the tree has changed shape', () => {
    const c = fresh();
    pageFault(c, L, 0, 0, 0, true);
    expect(syncAfterAllocation(c, L, 0, 0, 'leaf-or-commit').wrote).toBe('leaf');
    split(c, 0);
    expect(hasTreeChangedShape(c, L)).toBe(true);
    pageFault(c, L, 0, 0, 1, true);
    expect(syncAfterAllocation(c, L, 0, 1, 'leaf-or-commit').wrote).toBe('commit');
    expect([c.durable[L.dExtKind], c.durable[L.dExtKind + 1]]).toEqual([WRITTEN, WRITTEN]);
    expect(isEveryNoSyncPageDurable(c, L)).toBe(true);
  });
});
