/**
 * Nick Piggin's "no sync" mmap (seed 002, 2016-09-14), on the shared model: "allow the app request
 * a 'no sync' type of mmap. Filesystem will invalidate all such mappings before it does buffered
 * IOs or hole punch, and will sync metadata after allocating a new block but before returning from
 * a fault."
 *
 * The thread never said how the filesystem syncs "metadata after allocating a new block", and Dave
 * Chinner asked exactly that ("synchronous updates would be conditional on whether an extent
 * metadata with the 'nofsync' flag asserted was updated?"). The model names three answers:
 *  - `commit`: force a commit of the running journal transaction (what ext4 or XFS would do:
 *    everything that joined the transaction, unrelated inodes too, is written with it);
 *  - `leaf`: write only this inode and the extent-tree leaf that maps the block, in place, outside
 *    the journal (a per-block update of constant cost). Seed 004: an extent operation elsewhere in
 *    the file can split the tree and move the record of an already mapped block to another leaf;
 *    the next leaf write then overwrites the block's only durable record (models/journal.ts,
 *    `writeExtentLeaf`);
 *  - `leaf-or-commit`: the leaf write, unless the tree has changed shape since the last commit,
 *    in which case a full commit.
 *
 * Which mappings are "no sync" is a per-mapping flag (the VMA's), kept in a context field of its
 * own next to the shared layout: `nosync[m]` is 1 while mapping m was created no-sync. Piggin's
 * persistent per-block flag ("sets 'no fsync' flag for that block") would "do the same thing
 * exactly in terms of consistency", he wrote; the model follows the mapping request he described.
 */
import { commitRunningTransaction, writeExtentLeaf } from './journal.ts';
import { OK, PTE_RW, VMA_NONE, WRITTEN, type DaxContext, type Layout } from './layout.ts';
import { sysMmap } from './syscalls.ts';

/** The shared context plus the no-sync flag of each mapping (1 = created no-sync). */
export type NoSyncContext = DaxContext & { nosync: Uint8Array };

/** How a no-sync fault makes the new block's metadata durable (see the header). */
export type NoSyncWrite = 'commit' | 'leaf' | 'leaf-or-commit';

/** The extra context field: one flag per mapping. */
export function noSyncField(L: Layout): Uint8Array {
  return new Uint8Array(L.M);
}

/** Is mapping m a live no-sync mapping? */
export function isNoSyncMapping(c: NoSyncContext, L: Layout, m: number): boolean {
  return c.nosync[m] === 1 && c.volatile[L.vVma + m] !== VMA_NONE;
}

/** mmap(MAP_SHARED) with the "no sync" request: an ordinary DAX mapping whose faults sync. */
export function mmapNoSync(c: NoSyncContext, L: Layout, t: number, m: number): number {
  const errno = sysMmap(c, L, t, m, 'shared', false);
  if (errno === OK) c.nosync[m] = 1;
  return errno;
}

/** Does block b have metadata (its extent, or i_size) that the media does not have yet? */
export function isBlockMetadataDirty(c: DaxContext, L: Layout, b: number): boolean {
  const v = c.volatile;
  const d = c.durable;
  return (
    v[L.vSize] !== d[L.dSize] ||
    v[L.vExtKind + b] !== d[L.dExtKind + b] ||
    v[L.vExtPhys + b] !== d[L.dExtPhys + b] ||
    v[L.vExtLeaf + b] !== d[L.dExtLeaf + b]
  );
}

/** Has the extent tree changed shape since the last commit (some record sits in another leaf)? */
export function hasTreeChangedShape(c: DaxContext, L: Layout): boolean {
  for (let b = 0; b < L.B; b++) {
    if (c.volatile[L.vExtKind + b] !== 0 && c.volatile[L.vExtLeaf + b] !== c.durable[L.dExtLeaf + b]) return true;
  }
  return false;
}

/**
 * The per-block metadata write: the inode core (i_size) and the extent-tree leaf that holds block
 * b's record, written in place outside the journal. Returns the metadata items written.
 */
export function writeInodeAndLeaf(c: DaxContext, L: Layout, b: number): number {
  let n = 0;
  if (c.durable[L.dSize] !== c.volatile[L.vSize]) {
    c.durable[L.dSize] = c.volatile[L.vSize];
    n++;
  }
  return n + writeExtentLeaf(c, L, c.volatile[L.vExtLeaf + b]);
}

/** What a no-sync fault wrote, for traces and tests. */
export interface NoSyncOutcome {
  /** `none`: not a no-sync mapping, or nothing to write. */
  wrote: 'none' | 'commit' | 'leaf';
  items: number;
}

/**
 * After `dax_iomap_fault` allocated (or found) block b for mapping m: on a no-sync mapping, make
 * the block's metadata durable before the fault returns, the way `how` says.
 */
export function syncAfterAllocation(c: NoSyncContext, L: Layout, m: number, b: number, how: NoSyncWrite): NoSyncOutcome {
  if (!isNoSyncMapping(c, L, m) || !isBlockMetadataDirty(c, L, b)) return { wrote: 'none', items: 0 };
  if (how === 'commit' || (how === 'leaf-or-commit' && hasTreeChangedShape(c, L))) {
    return { wrote: 'commit', items: commitRunningTransaction(c, L) };
  }
  return { wrote: 'leaf', items: writeInodeAndLeaf(c, L, b) };
}

/**
 * The proposal's promise, as a state predicate: every writable page-table entry of a no-sync
 * mapping maps a block whose allocation is on the media (inside the durable i_size, written, the
 * same physical block). Where the record sits in the tree does not matter, only that it exists.
 */
export function isEveryNoSyncPageDurable(c: NoSyncContext, L: Layout): boolean {
  const d = c.durable;
  const v = c.volatile;
  for (let m = 0; m < L.M; m++) {
    if (!isNoSyncMapping(c, L, m)) continue;
    for (let b = 0; b < L.B; b++) {
      if (v[L.vPte + m * L.B + b] !== PTE_RW) continue;
      const durable = b < d[L.dSize] && d[L.dExtKind + b] === WRITTEN && d[L.dExtKind + b] === v[L.vExtKind + b] && d[L.dExtPhys + b] === v[L.vExtPhys + b];
      if (!durable) return false;
    }
  }
  return true;
}

/** Is some block mapped writable no-sync while its record sits in another leaf than on the media? */
export function isNoSyncBlockMoved(c: NoSyncContext, L: Layout): boolean {
  for (let m = 0; m < L.M; m++) {
    if (!isNoSyncMapping(c, L, m)) continue;
    for (let b = 0; b < L.B; b++) {
      if (c.volatile[L.vPte + m * L.B + b] === PTE_RW && c.volatile[L.vExtLeaf + b] !== c.durable[L.dExtLeaf + b]) return true;
    }
  }
  return false;
}
