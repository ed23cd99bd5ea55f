/**
 * PMEM_IMMUTABLE (Dave Chinner, seed 002, 2016-09-11; the fallocate form after Darrick Wong,
 * 2016-12-19): a file fully allocated and zeroed first, an inode flag that needs
 * CAP_LINUX_IMMUTABLE, then immutable metadata, data changed only through mmap.
 */
import { allocatePhys, extentKind, fileSize, isPhysFree, physOf, setExtent, zeroPhysDurably } from '../../models/fs.ts';
import { commitRunningTransaction, isInodeDirty } from '../../models/journal.ts';
import { EBADF, ENOSPC, EPERM, ERRNO_NAMES, HOLE, OK, UNWRITTEN, WRITTEN, type DaxContext, type KernelHooks, type Layout } from '../../models/layout.ts';
import { hasFd } from '../../models/syscalls.ts';
import { isMapped, type ThirdPartyOp } from '../../models/third-party.ts';

/** Chinner's PMEM_IMMUTABLE (seed 002) as an on-disk inode flag: metadata immutable, data changed only through mmap. */
export const PMEM_IMMUTABLE = { bit: 1, name: 'PMEM_IMMUTABLE' } as const;

/** How the preallocation makes the blocks read as zeros. */
export type PreallocZeroing =
  /** Written extents over blocks zeroed on the media (Chinner's rule 1). */
  | 'written'
  /** Unwritten extents, as FALLOC_FL_ZERO_RANGE may do: the first write must convert them. */
  | 'unwritten';

/** Is PMEM_IMMUTABLE set on the in-memory inode? */
export function isImmutable(c: DaxContext, L: Layout): boolean {
  return (L.at(c).flags() & PMEM_IMMUTABLE.bit) !== 0;
}

/** How strictly the filesystem enforces the rules (the buggy variants loosen them). */
export interface Enforcement {
  /** Operations the refusal forgets (rules 4 and 5 not enforced for them). */
  forgets?: ThirdPartyOp[];
  /** The flag may be cleared while the file is mapped (rule 6 not enforced). */
  clearWhileMapped?: boolean;
}

/**
 * Where PMEM_IMMUTABLE meets the shared model: while the flag is set every third-party operation
 * is refused with EPERM (rules 4 and 5), and so is clearing the flag while the file is mapped
 * (rule 6).
 */
export function immutableHooks(e: Enforcement): KernelHooks {
  return {
    refuses(c, L, op) {
      if (!isImmutable(c, L)) return false;
      if (op === 'clearflag') return isMapped(c, L) && !e.clearWhileMapped;
      return !e.forgets?.includes(op);
    },
    refusal: (op) => (op === 'clearflag' ? 'the file is mapped: the flag can be cleared only while it is not' : 'the inode is PMEM_IMMUTABLE'),
  };
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
  const s = L.at(c);
  s.errno.set(t, ERRNO_NAMES[errno]);
  if (errno !== OK) return errno;
  for (let b = 0; b < blocks; b++) {
    if (extentKind(c, L, b) !== HOLE) continue;
    const p = allocatePhys(c, L);
    if (zeroing === 'written') {
      zeroPhysDurably(c, L, p);
      setExtent(c, L, b, WRITTEN, p);
    } else setExtent(c, L, b, UNWRITTEN, p);
  }
  if (fileSize(c, L) < blocks) s.size.set(blocks);
  s.flags.set(s.flags() | PMEM_IMMUTABLE.bit);
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
  const s = L.at(c);
  for (let b = 0; b < fileSize(c, L); b++) {
    if (s.committedExtent(b) !== WRITTEN || physOf(c, L, b) < 0) return false;
  }
  return (s.committedFlags() & PMEM_IMMUTABLE.bit) !== 0;
}

