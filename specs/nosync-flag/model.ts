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
 * Which mappings are "no sync" is a per-mapping flag (the VMA's), the proposal's one field
 * (`noSyncState`), packed after the shared model's: `nosync(m)` is 'yes' while mapping m was
 * created no-sync. Piggin's persistent per-block flag ("sets 'no fsync' flag for that block")
 * would "do the same thing exactly in terms of consistency", he wrote; the model follows the
 * mapping request he described.
 */
import { kernelAction } from '../../models/action.ts';
import { fields } from '../../models/fields.ts';
import { commitRunningTransaction, writeExtentLeaf } from '../../models/journal.ts';
import { BLOCK_SIZE, HOLE, OK, WRITTEN, type DaxContext, type Dimensions, type Layout, type StateView } from '../../models/layout.ts';
import { sysMmap } from '../../models/syscalls.ts';

/**
 * The proposal's state: the no-sync flag of each mapping.
 *
 * The flag belongs to the VMA, so in the kernel it is gone with the mapping at a power failure.
 * It is declared durable all the same, because that is what the model has always done with it:
 * a crash leaves it as it was (the remount clears only volatile fields). After the remount it is
 * inert: the mapping it belongs to is gone and `isNoSyncMapping` also asks for a live VMA, so no
 * operation and no property can tell it from 'no'. Declared volatile, the remount would clear it
 * and merge post-crash states that differ only in it: 4 states and 2 transitions fewer in every
 * data configuration that maps no-sync and crashes (52 → 48 states in `trusting`), with the same
 * verdicts and traces. The counts are kept instead.
 */
export const noSyncState = (d: Dimensions) =>
  fields({
    nosync: {
      part: 'durable',
      shape: [d.threads],
      values: ['no', 'yes'],
      doc: "mapping m was created with Piggin's 'no sync' request (the VMA's flag; see noSyncState for why it is declared durable)",
    },
  });

export type NoSyncLayout = Layout<ReturnType<typeof noSyncState>>;
export type NoSyncView = StateView<ReturnType<typeof noSyncState>>;

/** How a no-sync fault makes the new block's metadata durable (see the header). */
export type NoSyncWrite = 'commit' | 'leaf' | 'leaf-or-commit';

const views = new WeakMap<NoSyncLayout, NoSyncView>();

/** The layout's view, pointed at c (one view per layout: no allocation per call). */
export function viewOf(c: DaxContext, L: NoSyncLayout): NoSyncView {
  let s = views.get(L);
  if (!s) views.set(L, (s = L.view()));
  return s.at(c);
}

/** Is mapping m a live no-sync mapping? */
export function isNoSyncMapping(c: DaxContext, L: NoSyncLayout, m: number): boolean {
  const s = viewOf(c, L);
  return s.nosync(m) === 'yes' && s.vma(m) !== 'none';
}

/** mmap(MAP_SHARED) with the "no sync" request: an ordinary DAX mapping whose faults sync. */
export function mmapNoSync(c: DaxContext, L: NoSyncLayout, t: number, m: number): number {
  const errno = sysMmap(c, L, t, m, 'shared', false);
  if (errno === OK) viewOf(c, L).nosync.set(m, 'yes');
  return errno;
}

/** Does block b have metadata (its extent, or i_size) that the media does not have yet? */
export function isBlockMetadataDirty(c: DaxContext, L: NoSyncLayout, b: number): boolean {
  const s = viewOf(c, L);
  return (
    s.size() !== s.committedSize() ||
    s.extent(b) !== s.committedExtent(b) ||
    s.phys(b) !== s.committedPhys(b) ||
    s.leaf(b) !== s.committedLeaf(b)
  );
}

/** Has the extent tree changed shape since the last commit (some record sits in another leaf)? */
export function hasTreeChangedShape(c: DaxContext, L: NoSyncLayout): boolean {
  const s = viewOf(c, L);
  for (let b = 0; b < L.B; b++) {
    if (s.extent(b) !== HOLE && s.leaf(b) !== s.committedLeaf(b)) return true;
  }
  return false;
}

/**
 * The per-block metadata write: the inode core (i_size) and the extent-tree leaf that holds block
 * b's record, written in place outside the journal. Returns the metadata items written.
 */
export function writeInodeAndLeaf(c: DaxContext, L: NoSyncLayout, b: number): number {
  const s = viewOf(c, L);
  let n = 0;
  if (s.committedSize() !== s.size()) {
    s.committedSize.set(s.size());
    n++;
  }
  return n + writeExtentLeaf(c, L, s.leaf(b));
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
export function syncAfterAllocation(c: DaxContext, L: NoSyncLayout, m: number, b: number, how: NoSyncWrite): NoSyncOutcome {
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
export function isEveryNoSyncPageDurable(c: DaxContext, L: NoSyncLayout): boolean {
  const s = viewOf(c, L);
  for (let m = 0; m < L.M; m++) {
    if (!isNoSyncMapping(c, L, m)) continue;
    for (let b = 0; b < L.B; b++) {
      if (s.pte(m, b) !== 'writable') continue;
      const durable = b < s.committedSize() && s.committedExtent(b) === WRITTEN && s.extent(b) === WRITTEN && s.committedPhys(b) === s.phys(b);
      if (!durable) return false;
    }
  }
  return true;
}

/** Is some block mapped writable no-sync while its record sits in another leaf than on the media? */
export function isNoSyncBlockMoved(c: DaxContext, L: NoSyncLayout): boolean {
  const s = viewOf(c, L);
  for (let m = 0; m < L.M; m++) {
    if (!isNoSyncMapping(c, L, m)) continue;
    for (let b = 0; b < L.B; b++) {
      if (s.pte(m, b) === 'writable' && s.leaf(b) !== s.committedLeaf(b)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- actions and their words

/** Params of a fault's steps: thread t, mapping m, block b. */
type At = { t: number; m: number; b: number };

/** The name of the fault's sync action for each way of writing the metadata. */
export const SYNC_ACTION: Record<NoSyncWrite, string> = {
  commit: 'nosync_commit',
  leaf: 'nosync_write_leaf',
  'leaf-or-commit': 'nosync_write_leaf_or_commit',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The proposal's actions, each with the words its trace step prints: the no-sync mmap, and the
 * fault's metadata sync in each of its three ways.
 */
export function noSyncActions(L: NoSyncLayout) {
  const s0 = L.view();
  const s1 = L.view();

  /** Blocks whose committed mapping a step took away (a leaf write that overwrote a moved record). */
  const blocksLost = (before: DaxContext, after: DaxContext): number[] => {
    s0.at(before);
    s1.at(after);
    const out: number[] = [];
    for (let b = 0; b < L.B; b++) if (s0.committedExtent(b) !== HOLE && s1.committedExtent(b) === HOLE) out.push(b);
    return out;
  };

  /** What became durable in a step, named: `i_size, block 1 extent (leaf 0)`. */
  const itemsMadeDurable = (before: DaxContext, after: DaxContext): string[] => {
    s0.at(before);
    s1.at(after);
    const out: string[] = [];
    if (s0.committedSize() !== s1.committedSize()) out.push(`i_size ${s1.committedSize() * BLOCK_SIZE}`);
    for (let b = 0; b < L.B; b++) {
      const changed = s0.committedExtent(b) !== s1.committedExtent(b) || s0.committedPhys(b) !== s1.committedPhys(b) || s0.committedLeaf(b) !== s1.committedLeaf(b);
      if (changed && s1.committedExtent(b) !== HOLE) out.push(`block ${b} extent (leaf ${s1.committedLeaf(b)})`);
    }
    const u = s0.unrelated() - s1.unrelated();
    if (u > 0) out.push(plural(u, 'unrelated object'));
    return out;
  };

  const sync = (how: NoSyncWrite) =>
    kernelAction<At>(
      (c, _e, p) => void syncAfterAllocation(c, L, p.m, p.b, how),
      ({ params: p, before, after }) => {
        const items = itemsMadeDurable(before, after);
        const lostBlocks = blocksLost(before, after);
        if (!items.length && !lostBlocks.length) return null;
        const commit = how === 'commit' || (how === 'leaf-or-commit' && hasTreeChangedShape(before, L));
        if (commit) return `no-sync: journal committed before the fault returns (${items.join(', ')})`;
        s0.at(before);
        const leaf = s0.leaf(p.b);
        const lost = lostBlocks.map((x) => `block ${x}'s record, which the split moved to leaf ${s0.leaf(x)}, is gone from leaf ${leaf} on the media: block ${x} is no longer durably part of the file`);
        return `no-sync: inode and extent-tree leaf ${leaf} written in place, outside the journal (${items.join(', ') || 'nothing new'})${lost.length ? `; ${lost.join('; ')}` : ''}`;
      },
    );

  return {
    /** mmap(MAP_SHARED) with Piggin's "no sync" request. */
    mmap_nosync: kernelAction<{ t: number; m: number }>(
      (c, _e, p) => void mmapNoSync(c, L, p.t, p.m),
      (a, shared) => {
        const text = shared({ ...a, type: 'mmap', params: { ...a.params, flags: 'shared', mapSync: false } });
        return text && `${text.replace('MAP_SHARED', 'MAP_SHARED|MAP_NOSYNC')} (a "no sync" mapping: each fault syncs the metadata of the block it allocates)`;
      },
    ),
    nosync_commit: sync('commit'),
    nosync_write_leaf: sync('leaf'),
    nosync_write_leaf_or_commit: sync('leaf-or-commit'),
  };
}
