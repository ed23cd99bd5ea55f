/**
 * The system calls the applications use: open, ftruncate, fallocate, mmap, munmap, msync, fsync,
 * fdatasync. Each returns an errno (OK = 0) and records it as the thread's last result.
 */
import {
  BLOCK_SIZE,
  EBADF,
  ENOMEM,
  ENOSPC,
  EOPNOTSUPP,
  HOLE,
  OK,
  PTE_NONE,
  UNWRITTEN,
  VMA_NONE,
  VMA_SHARED,
  VIRTIO_PMEM,
  VMA_SYNC,
  isWrittenKind,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, extentKind, fileSize, isDaxInode, physOf, setExtent, visibleWord } from './fs.ts';
import { commitRunningTransaction } from './journal.ts';
import { writeBackPhys } from './pmem.ts';
import { setPte, unmapMappingRange, vma } from './faults.ts';

/** The mmap flag combinations the shared model knows. */
export type CoreMmapFlags =
  /** MAP_SHARED */
  | 'shared'
  /** MAP_SHARED_VALIDATE | MAP_SYNC */
  | 'shared_validate_sync'
  /**
   * MAP_SHARED | MAP_SYNC. A kernel without MAP_SYNC ignores it (legacy mmap drops unknown
   * flags). One with MAP_SYNC honours it anyway: do_mmap takes VM_SYNC from the caller's flags
   * before the MAP_SHARED case masks them down to the legacy ones (found by the replay harness).
   */
  | 'shared_sync_unvalidated';

/**
 * A proposal's own mmap flags, spelled as the call passes them (`MAP_SHARED_VALIDATE|MAP_...`):
 * the shared model does not know them; the proposal's hooks (KernelHooks `mmapErrno`, `mmap`) do.
 */
export type ProposalMmapFlags = `MAP_SHARED_VALIDATE|${string}`;

/** The mmap flags a spec's application passes. */
export type MmapFlags = CoreMmapFlags | ProposalMmapFlags;

export const MMAP_FLAG_TEXT: Record<CoreMmapFlags, string> = {
  shared: 'MAP_SHARED',
  shared_validate_sync: 'MAP_SHARED_VALIDATE|MAP_SYNC',
  shared_sync_unvalidated: 'MAP_SHARED|MAP_SYNC',
};

/** Flags the shared model knows (the others are a proposal's). */
export function isCoreMmapFlags(flags: MmapFlags): flags is CoreMmapFlags {
  return Object.hasOwn(MMAP_FLAG_TEXT, flags);
}

/** The flags as the mmap call in a trace prints them. */
export function mmapFlagsText(flags: MmapFlags): string {
  return isCoreMmapFlags(flags) ? MMAP_FLAG_TEXT[flags] : flags;
}

function result(c: DaxContext, L: Layout, t: number, errno: number): number {
  c.volatile[L.vErr + t] = errno;
  return errno;
}

export function hasFd(c: DaxContext, L: Layout, t: number): boolean {
  return c.volatile[L.vFd + t] === 1;
}

export function sysOpen(c: DaxContext, L: Layout, t: number): number {
  c.volatile[L.vFd + t] = 1;
  return result(c, L, t, OK);
}

/** ftruncate(fd, blocks * 4096). Shrinking unmaps and frees the blocks beyond the new size. */
export function sysFtruncate(c: DaxContext, L: Layout, t: number, blocks: number): number {
  if (!hasFd(c, L, t)) return result(c, L, t, EBADF);
  const old = fileSize(c, L);
  if (blocks < old) {
    unmapMappingRange(c, L, blocks, old);
    for (let b = blocks; b < L.B; b++) {
      setExtent(c, L, b, HOLE, 0);
      forgetPromises(c, L, b);
    }
  }
  c.volatile[L.vSize] = blocks;
  return result(c, L, t, OK);
}

/** fallocate(fd, 0, from, to - from): allocates unwritten extents for holes, extends i_size. */
export function sysFallocate(c: DaxContext, L: Layout, t: number, from: number, to: number): number {
  if (!hasFd(c, L, t)) return result(c, L, t, EBADF);
  for (let b = from; b < to; b++) {
    if (extentKind(c, L, b) !== HOLE) continue;
    const p = allocatePhys(c, L);
    if (p < 0) return result(c, L, t, ENOSPC);
    setExtent(c, L, b, UNWRITTEN, p);
  }
  if (to > fileSize(c, L)) c.volatile[L.vSize] = to;
  return result(c, L, t, OK);
}

/**
 * The errno mmap would return. MAP_SYNC is honoured only on a DAX file, on a device with a
 * synchronous flush, of a kernel that implements it; elsewhere MAP_SHARED_VALIDATE makes the
 * kernel refuse it with EOPNOTSUPP.
 */
export function mmapErrno(c: DaxContext, L: Layout, t: number, flags: MmapFlags, kernelHasMapSync: boolean): number {
  if (!hasFd(c, L, t)) return EBADF;
  // A proposal's own flags: its hook says, else MAP_SHARED_VALIDATE refuses what it does not know.
  if (!isCoreMmapFlags(flags)) return L.hooks.mmapErrno?.(c, L, flags) ?? EOPNOTSUPP;
  // A device whose flush is asynchronous (virtio-pmem) cannot honour MAP_SYNC either.
  const asyncFlush = c.durable[L.dPlatform] === VIRTIO_PMEM;
  if (flags === 'shared_validate_sync' && (!kernelHasMapSync || !isDaxInode(c, L) || asyncFlush)) return EOPNOTSUPP;
  if (flags === 'shared_sync_unvalidated' && kernelHasMapSync && (!isDaxInode(c, L) || asyncFlush)) return EOPNOTSUPP;
  return OK;
}

export function sysMmap(
  c: DaxContext,
  L: Layout,
  t: number,
  m: number,
  flags: MmapFlags,
  kernelHasMapSync: boolean,
): number {
  const errno = mmapErrno(c, L, t, flags, kernelHasMapSync);
  if (errno === OK) {
    if (!isCoreMmapFlags(flags)) {
      if (!L.hooks.mmap) throw new Error(`model error: mmap flags ${flags} accepted, but no hook maps them`);
      c.volatile[L.vVma + m] = L.hooks.mmap(c, L, m, flags);
    } else {
      c.volatile[L.vVma + m] = flags === 'shared_validate_sync' || (flags === 'shared_sync_unvalidated' && kernelHasMapSync) ? VMA_SYNC : VMA_SHARED;
    }
  }
  return result(c, L, t, errno);
}

export function sysMunmap(c: DaxContext, L: Layout, t: number, m: number): number {
  c.volatile[L.vVma + m] = VMA_NONE;
  for (let b = 0; b < L.B; b++) setPte(c, L, m, b, PTE_NONE);
  L.hooks.onMunmap?.(c, L, m);
  return result(c, L, t, OK);
}

/** What fsync did, for traces. */
export interface SyncOutcome {
  errno: number;
  /** Dirty words written back (cache lines flushed, or a proposal's own dirty data written). */
  flushed: number;
  /** Journal items committed. */
  committed: number;
}

/**
 * vfs_fsync_range over the whole file: write back the file's dirty data (a proposal's own first,
 * `writeBackOwn`; on DAX, `dax_writeback_mapping_range` flushes its dirty cache lines), then
 * commit the running transaction. Afterwards every word of the file is promised durable (ghost).
 */
export function syncFile(c: DaxContext, L: Layout, t: number): SyncOutcome {
  if (!hasFd(c, L, t)) return { errno: result(c, L, t, EBADF), flushed: 0, committed: 0 };
  let flushed = 0;
  let errno = OK;
  for (let b = 0; b < L.B; b++) {
    const own = L.hooks.writeBackOwn?.(c, L, b) ?? 0;
    if (own < 0) errno = ENOSPC;
    else flushed += own;
    const p = physOf(c, L, b);
    if (p >= 0 && isWrittenKind(extentKind(c, L, b))) flushed += writeBackPhys(c, L, p);
  }
  const committed = (L.hooks.syncCommit ?? commitRunningTransaction)(c, L);
  // A failed fsync promises nothing.
  if (errno === OK) promiseFile(c, L);
  return { errno: result(c, L, t, errno), flushed, committed };
}

/** msync(addr, len, MS_SYNC) over mapping m: ENOMEM when nothing is mapped there. */
export function sysMsync(c: DaxContext, L: Layout, t: number, m: number): SyncOutcome {
  if (vma(c, L, m) === VMA_NONE) return { errno: result(c, L, t, ENOMEM), flushed: 0, committed: 0 };
  return syncFile(c, L, t);
}

/** Ghost: fsync returned, so every word of the file as it reads now must survive a crash. */
export function promiseFile(c: DaxContext, L: Layout): void {
  const size = fileSize(c, L);
  for (let b = 0; b < L.B; b++) {
    for (let w = 0; w < L.W; w++) {
      c.ghost[L.gPromise + b * L.W + w] = b < size ? visibleWord(c, L, b, w) + 1 : 0;
    }
  }
}

/** Ghost: a later change to block b (store, truncate, punch) ends what an earlier fsync promised. */
export function forgetPromises(c: DaxContext, L: Layout, b: number, w?: number): void {
  if (w !== undefined) c.ghost[L.gPromise + b * L.W + w] = 0;
  else for (let x = 0; x < L.W; x++) c.ghost[L.gPromise + b * L.W + x] = 0;
}

export const bytes = (blocks: number) => blocks * BLOCK_SIZE;
