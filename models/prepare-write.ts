/**
 * msync(addr, len, MSYNC_PMEM_PREPARE_WRITE) (Andy Lutomirski, seed 000, 2017-06-19): "If this
 * operation succeeds, it guarantees that all future writes through this mapping on this range
 * will hit actual storage and that all the metadata operations needed to make this write
 * persistent will hit storage such that they are ordered before the user's writes ... it just
 * needs to block .page_mkwrite until they are synced ... whatever new mechanism we add for this
 * should be sticky".
 */
import {
  ENOMEM,
  ENOSPC,
  HOLE,
  OK,
  PREPARED_MAPPING,
  PREPARED_STICKY,
  SHARED,
  UNWRITTEN,
  VMA_NONE,
  WRITTEN,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, copyBlockDurably, extentKind, fileSize, physOf, setExtent, zeroPhysDurably } from './fs.ts';
import { commitRunningTransaction } from './journal.ts';

/**
 * Makes block b ready for writes that need no metadata: a hole is allocated and zeroed, an
 * unwritten extent zeroed and converted, a shared one copied (unshared). In the running
 * transaction; returns false when there is no space.
 */
export function prepareBlock(c: DaxContext, L: Layout, b: number): boolean {
  const kind = extentKind(c, L, b);
  if (kind === WRITTEN) return true;
  if (kind === UNWRITTEN) {
    zeroPhysDurably(c, L, physOf(c, L, b));
    setExtent(c, L, b, WRITTEN, physOf(c, L, b));
    return true;
  }
  const p = allocatePhys(c, L);
  if (p < 0) return false;
  if (kind === HOLE) zeroPhysDurably(c, L, p);
  else if (kind === SHARED) copyBlockDurably(c, L, b, p);
  setExtent(c, L, b, WRITTEN, p);
  return true;
}

/**
 * msync(MSYNC_PMEM_PREPARE_WRITE) over mapping m (the whole file): prepare every block, commit
 * the metadata before returning, and remember the range as prepared — with the inode (sticky)
 * or only with the mapping.
 */
export function msyncPrepareWrite(c: DaxContext, L: Layout, t: number, m: number, sticky: boolean): number {
  let errno = c.volatile[L.vVma + m] === VMA_NONE ? ENOMEM : OK;
  for (let b = 0; errno === OK && b < fileSize(c, L); b++) {
    if (!prepareBlock(c, L, b)) errno = ENOSPC;
    else c.volatile[L.vPrepared + b] = sticky ? PREPARED_STICKY : PREPARED_MAPPING;
  }
  if (errno === OK) commitRunningTransaction(c, L);
  c.volatile[L.vErr + t] = errno;
  return errno;
}

/**
 * Sticky preparation after maintenance: before the filesystem lets page_mkwrite through again,
 * every block still marked prepared is made ready again (a reflink left it shared, a punch left a
 * hole). Returns the blocks it had to prepare.
 */
export function reprepare(c: DaxContext, L: Layout): number {
  let n = 0;
  for (let b = 0; b < fileSize(c, L); b++) {
    if (c.volatile[L.vPrepared + b] === 0 || extentKind(c, L, b) === WRITTEN) continue;
    if (prepareBlock(c, L, b)) n++;
  }
  return n;
}

/** Is every block of the file that is still marked prepared ready for metadata-free writes? */
export function isPreparedRangeReady(c: DaxContext, L: Layout): boolean {
  for (let b = 0; b < fileSize(c, L); b++) {
    if (c.volatile[L.vPrepared + b] === 0) continue;
    if (c.volatile[L.vExtKind + b] !== WRITTEN || c.durable[L.dExtKind + b] !== WRITTEN) return false;
    if (c.durable[L.dExtPhys + b] !== c.volatile[L.vExtPhys + b]) return false;
  }
  return true;
}
