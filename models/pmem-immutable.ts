/**
 * PMEM_IMMUTABLE (Dave Chinner, seed 002, 2016-09-11; the fallocate form after Darrick Wong,
 * 2016-12-19): a file fully allocated and zeroed first, an inode flag that needs
 * CAP_LINUX_IMMUTABLE, then immutable metadata, data changed only through mmap.
 */
import {
  EBADF,

  ENOSPC,
  EPERM,
  FLAG_PMEM_IMMUTABLE,
  HOLE,
  OK,
  UNWRITTEN,
  WRITTEN,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, extentKind, fileSize, isPhysFree, physOf, setExtent, zeroPhysDurably } from './fs.ts';
import { commitRunningTransaction, isInodeDirty } from './journal.ts';
import { hasFd } from './syscalls.ts';

/** How the preallocation makes the blocks read as zeros. */
export type PreallocZeroing =
  /** Written extents over blocks zeroed on the media (Chinner's rule 1). */
  | 'written'
  /** Unwritten extents, as FALLOC_FL_ZERO_RANGE may do: the first write must convert them. */
  | 'unwritten';

export function isImmutable(c: DaxContext, L: Layout): boolean {
  return (c.volatile[L.vFlags] & FLAG_PMEM_IMMUTABLE) !== 0;
}

/** The errno fallocate(FALLOC_FL_PMEM_IMMUTABLE) would return. */
export function fallocateImmutableErrno(c: DaxContext, L: Layout, t: number, blocks: number, cap: boolean): number {
  if (!hasFd(c, L, t)) return EBADF;
  if (!cap) return EPERM;
  let free = 0;
  for (let p = 0; p < L.P; p++) if (isPhysFree(c, L, p)) free++;
  let holes = 0;
  for (let b = 0; b < blocks; b++) if (extentKind(c, L, b) === HOLE) holes++;
  return holes > free ? ENOSPC : OK;
}

/**
 * fallocate(fd, FALLOC_FL_PMEM_IMMUTABLE, 0, blocks * 4096): allocate and zero every block, set
 * the flag, and commit before returning, so that allocation and flag are durable together.
 */
export function fallocateImmutable(c: DaxContext, L: Layout, t: number, blocks: number, cap: boolean, zeroing: PreallocZeroing): number {
  const errno = fallocateImmutableErrno(c, L, t, blocks, cap);
  c.volatile[L.vErr + t] = errno;
  if (errno !== OK) return errno;
  for (let b = 0; b < blocks; b++) {
    if (extentKind(c, L, b) !== HOLE) continue;
    const p = allocatePhys(c, L);
    if (zeroing === 'written') {
      zeroPhysDurably(c, L, p);
      setExtent(c, L, b, WRITTEN, p);
    } else setExtent(c, L, b, UNWRITTEN, p);
  }
  if (fileSize(c, L) < blocks) c.volatile[L.vSize] = blocks;
  c.volatile[L.vFlags] |= FLAG_PMEM_IMMUTABLE;
  commitRunningTransaction(c, L);
  return OK;
}

/**
 * Rule 2: the flag may be set only on a fully allocated file (no holes, no unwritten or shared
 * extents), by a caller with CAP_LINUX_IMMUTABLE; rule 5: then no metadata may change. Is that so
 * now? (Used by the spec's promise: while the flag is set nothing is pending in the journal.)
 */
export function isFullyAllocatedAndCommitted(c: DaxContext, L: Layout): boolean {
  if (isInodeDirty(c, L)) return false;
  for (let b = 0; b < fileSize(c, L); b++) {
    if (c.durable[L.dExtKind + b] !== WRITTEN || physOf(c, L, b) < 0) return false;
  }
  return (c.durable[L.dFlags] & FLAG_PMEM_IMMUTABLE) !== 0;
}

