/**
 * The journal (jbd2 for ext4, the CIL and log for XFS), reduced to what durability depends on.
 *
 * Metadata changes (i_size, extent map, and the dirty objects of unrelated inodes) go into the
 * running transaction, which lives in memory. A commit writes the whole running transaction to the
 * log at once: ext4 cannot commit one inode's changes without everything that joined the
 * transaction before them, which is why a synchronous fault may commit unrelated work.
 * Recovery after a crash replays committed transactions only.
 *
 * The running transaction is not stored: it is the difference between the in-memory inode and the
 * committed one, plus the count of unrelated dirty objects, plus (where a configuration has a
 * second file g) the difference between g's in-memory and committed inode. One transaction holds
 * both files' changes: jbd2 has one running transaction per filesystem, and XFS one CIL whose
 * checkpoint (the CIL push a log force starts) writes every item logged into it.
 */
import { fileSize } from './fs.ts';
import { G_BLOCKS, type DaxContext, type Layout } from './layout.ts';

/** Items of this file's inode in the running transaction: i_size, flags and each changed extent. */
export function inodeItems(c: DaxContext, L: Layout): number {
  const v = c.volatile;
  const d = c.durable;
  let n = (v[L.vSize] !== d[L.dSize] ? 1 : 0) + (v[L.vFlags] !== d[L.dFlags] ? 1 : 0);
  for (let b = 0; b < L.B; b++) {
    if (v[L.vExtKind + b] !== d[L.dExtKind + b] || v[L.vExtPhys + b] !== d[L.dExtPhys + b] || v[L.vExtLeaf + b] !== d[L.dExtLeaf + b]) n++;
  }
  return n;
}

/** Is the inode metadata-dirty (IOMAP_F_DIRTY: it has changes an fdatasync would have to commit)? */
export function isInodeDirty(c: DaxContext, L: Layout): boolean {
  return inodeItems(c, L) > 0;
}

/**
 * Items of the second file g in the running transaction (0 where the configuration has no g):
 * i_size, each changed extent, and (unless `datasync`) its timestamps. With `datasync` this is
 * what fdatasync(g) must commit: ext4 moves i_datasync_tid only for allocation and i_disksize
 * changes, XFS's fdatasync ignores an inode whose ili_fsync_fields hold only XFS_ILOG_TIMESTAMP.
 */
export function secondFileItems(c: DaxContext, L: Layout, datasync = false): number {
  if (L.vGSize < 0) return 0;
  const v = c.volatile;
  const d = c.durable;
  let n = v[L.vGSize] !== d[L.dGSize] ? 1 : 0;
  for (let b = 0; b < G_BLOCKS; b++) if (v[L.vGExtent + b] !== d[L.dGExtent + b]) n++;
  if (!datasync && v[L.vGTimes] !== d[L.dGTimes]) n++;
  return n;
}

/** All items in the running transaction. */
export function runningItems(c: DaxContext, L: Layout): number {
  return inodeItems(c, L) + c.volatile[L.vUnrelated] + secondFileItems(c, L);
}

/** Commits the running transaction; returns how many items it wrote. */
export function commitRunningTransaction(c: DaxContext, L: Layout): number {
  const items = runningItems(c, L);
  const v = c.volatile;
  const d = c.durable;
  d[L.dSize] = fileSize(c, L);
  d[L.dFlags] = v[L.vFlags];
  for (let b = 0; b < L.B; b++) {
    d[L.dExtKind + b] = v[L.vExtKind + b];
    d[L.dExtPhys + b] = v[L.vExtPhys + b];
    d[L.dExtLeaf + b] = v[L.vExtLeaf + b];
  }
  v[L.vUnrelated] = 0;
  if (L.vGSize >= 0) {
    d[L.dGSize] = v[L.vGSize];
    d[L.dGTimes] = v[L.vGTimes];
    for (let b = 0; b < G_BLOCKS; b++) d[L.dGExtent + b] = v[L.vGExtent + b];
  }
  return items;
}

/** Journal recovery: the in-memory inode becomes what the committed transactions say. */
export function replayCommittedTransactions(c: DaxContext, L: Layout): void {
  const v = c.volatile;
  const d = c.durable;
  v[L.vSize] = d[L.dSize];
  v[L.vFlags] = d[L.dFlags];
  for (let b = 0; b < L.B; b++) {
    v[L.vExtKind + b] = d[L.dExtKind + b];
    v[L.vExtPhys + b] = d[L.dExtPhys + b];
    v[L.vExtLeaf + b] = d[L.dExtLeaf + b];
  }
  if (L.vGSize >= 0) {
    v[L.vGSize] = d[L.dGSize];
    v[L.vGTimes] = d[L.dGTimes];
    for (let b = 0; b < G_BLOCKS; b++) v[L.vGExtent + b] = d[L.dGExtent + b];
  }
}

/**
 * Writes one leaf of the extent tree to the media on its own, outside a journal commit, as a
 * per-block "sync the metadata of this block" would: the blocks the leaf holds in memory become
 * durable there; a block whose committed mapping lived in this leaf but has since moved to
 * another leaf (a split) loses its durable mapping until that other leaf is written too.
 * Returns the metadata items written.
 */
export function writeExtentLeaf(c: DaxContext, L: Layout, leaf: number): number {
  const v = c.volatile;
  const d = c.durable;
  let n = 0;
  for (let b = 0; b < L.B; b++) {
    if (v[L.vExtLeaf + b] === leaf) {
      if (d[L.dExtKind + b] !== v[L.vExtKind + b] || d[L.dExtPhys + b] !== v[L.vExtPhys + b] || d[L.dExtLeaf + b] !== leaf) n++;
      d[L.dExtKind + b] = v[L.vExtKind + b];
      d[L.dExtPhys + b] = v[L.vExtPhys + b];
      d[L.dExtLeaf + b] = leaf;
    } else if (d[L.dExtLeaf + b] === leaf && d[L.dExtKind + b] !== 0) {
      // The leaf's new contents no longer hold b: its old on-media record is overwritten.
      d[L.dExtKind + b] = 0;
      d[L.dExtPhys + b] = 0;
      d[L.dExtLeaf + b] = 0;
      n++;
    }
  }
  return n;
}
