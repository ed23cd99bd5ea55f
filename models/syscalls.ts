/**
 * The system calls the applications use: open, ftruncate, fallocate, mmap, munmap, msync, fsync,
 * fdatasync. Each returns an errno (OK = 0) and records it as the thread's last result.
 */
import {
  BLOCK_SIZE,
  FD_APPEND,
  FD_CLOSED,
  FD_OPEN,
  G_BLOCKS,
  WRITTEN,
  ZERO,
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
import { allocatePhys, extentKind, fileSize, isDaxInode, physOf, setExtent, visibleWord, zeroPhysDurably } from './fs.ts';
import { commitRunningTransaction, secondFileItems } from './journal.ts';
import { storeWord, writeBackPhys } from './pmem.ts';
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
  return c.volatile[L.vFd + t] !== FD_CLOSED;
}

/** open(path, O_RDWR), or with `append` O_RDWR|O_APPEND (write(2) then writes at the end of the file). */
export function sysOpen(c: DaxContext, L: Layout, t: number, append = false): number {
  c.volatile[L.vFd + t] = append ? FD_APPEND : FD_OPEN;
  return result(c, L, t, OK);
}

// ---- write(2) and pwrite(2), and the second file g

/** Which file a call is on: the file (f, descriptor 3) or the second file g (descriptor 4). */
export type FileName = 'f' | 'g';

export function hasGFd(c: DaxContext, L: Layout, t: number): boolean {
  return L.vGFd >= 0 && c.volatile[L.vGFd + t] !== FD_CLOSED;
}

/** open of the second file g (it exists, created and synced before the run). */
export function sysOpenG(c: DaxContext, L: Layout, t: number, append = false): number {
  if (L.vGFd < 0) throw new Error('model error: the second file g in a configuration without it (Features.secondFile)');
  c.volatile[L.vGFd + t] = append ? FD_APPEND : FD_OPEN;
  return result(c, L, t, OK);
}

/**
 * The block a write of one whole block lands in: write(2) on an O_APPEND descriptor writes at the
 * end of the file; pwrite(2) at block `b` (and so does write(2) without O_APPEND, which the
 * programs use only at a position they know). -1: no descriptor.
 */
export function writeBlock(c: DaxContext, L: Layout, t: number, file: FileName, call: 'write' | 'pwrite', b: number): number {
  const fd = file === 'f' ? c.volatile[L.vFd + t] : L.vGFd < 0 ? FD_CLOSED : c.volatile[L.vGFd + t];
  if (fd === FD_CLOSED) return -1;
  // Linux's pwrite(2) on an O_APPEND descriptor appends too (pwrite(2), BUGS).
  if (fd === FD_APPEND) return file === 'f' ? fileSize(c, L) : c.volatile[L.vGSize];
  return b;
}

/**
 * write(2) / pwrite(2) of one whole block (4096 bytes: `value` in word 0, zeros elsewhere) to file
 * block b of f, on DAX through dax_iomap_rw. A hole is allocated (zeroed on the media, written
 * extent) and an unwritten extent zeroed and converted, in the running transaction; a write past
 * i_size extends it there too; a zero-page entry some mapping has for a new block is invalidated
 * (the DAX write path invalidates a range it allocated). The bytes are copied with
 * memcpy_flushcache, whose non-temporal stores nothing in the call fences: they are modelled as
 * dirty lines, durable once fsync, fdatasync or msync writes them back (or the CPU does). f's
 * timestamps are not modelled for the application's own write: they change in the same
 * transaction as the allocation and i_size, and no call here tells them apart.
 */
export function sysWriteF(c: DaxContext, L: Layout, t: number, call: 'write' | 'pwrite', at: number, value: number): number {
  const b = writeBlock(c, L, t, 'f', call, at);
  if (b < 0) return result(c, L, t, EBADF);
  // Past the modelled blocks: the configuration is too small for its program (a model error).
  if (b >= L.B) throw new Error(`model error: write to block ${b} of a ${L.B}-block model`);
  const kind = extentKind(c, L, b);
  if (kind === HOLE) {
    const p = allocatePhys(c, L);
    if (p < 0) return result(c, L, t, ENOSPC);
    zeroPhysDurably(c, L, p);
    setExtent(c, L, b, WRITTEN, p);
    unmapMappingRange(c, L, b, b + 1);
  } else if (kind === UNWRITTEN) {
    zeroPhysDurably(c, L, physOf(c, L, b));
    setExtent(c, L, b, WRITTEN, physOf(c, L, b));
    unmapMappingRange(c, L, b, b + 1);
  }
  // (A shared extent would be copied first; the programs that write(2) have no third party.)
  const p = physOf(c, L, b);
  for (let w = 0; w < L.W; w++) storeWord(c, L, p, w, w === 0 ? value : ZERO);
  forgetPromises(c, L, b);
  if (b + 1 > fileSize(c, L)) c.volatile[L.vSize] = b + 1;
  return result(c, L, t, OK);
}

/**
 * write(2) / pwrite(2) of one whole block to block b of the second file g: a hole is allocated and
 * i_size extended in the running transaction; every write changes g's timestamps there
 * (file_update_time, as ext4_write_checks and xfs_file_write_checks call it).
 */
export function sysWriteG(c: DaxContext, L: Layout, t: number, call: 'write' | 'pwrite', at: number): number {
  const b = writeBlock(c, L, t, 'g', call, at);
  if (b < 0) return result(c, L, t, EBADF);
  if (b >= G_BLOCKS) throw new Error(`model error: write to block ${b} of g, which has ${G_BLOCKS} blocks in the model`);
  const v = c.volatile;
  if (v[L.vGExtent + b] === HOLE) v[L.vGExtent + b] = WRITTEN;
  if (b + 1 > v[L.vGSize]) v[L.vGSize] = b + 1;
  // Changed relative to what is committed (a second change before a commit stays a change).
  v[L.vGTimes] = c.durable[L.dGTimes] ^ 1;
  return result(c, L, t, OK);
}

/**
 * fsync(g) / fdatasync(g): g's bytes are not modelled, so what remains is whether the call asks
 * the journal for a commit, which follows from g's own dirty metadata:
 *  - ext4: ext4_sync_file waits for the transaction that holds g's last change
 *    (jbd2_complete_transaction on i_sync_tid, or for fdatasync i_datasync_tid, which only
 *    allocation and i_disksize changes move); an older, committed tid commits nothing;
 *  - XFS: xfs_file_fsync forces the log up to g's ili_commit_seq only while g is pinned (its
 *    items are in the CIL, not yet checkpointed), and fdatasync not when ili_fsync_fields hold
 *    timestamps alone.
 * A commit is the whole running transaction (jbd2's one transaction, XFS's CIL push): it carries
 * f's allocations and i_size with it. Returns the items committed (0: nothing was asked).
 */
export function syncSecondFile(c: DaxContext, L: Layout, t: number, datasync: boolean): SyncOutcome {
  if (!hasGFd(c, L, t)) return { errno: result(c, L, t, EBADF), flushed: 0, committed: 0 };
  const committed = secondFileItems(c, L, datasync) > 0 ? commitRunningTransaction(c, L) : 0;
  return { errno: result(c, L, t, OK), flushed: 0, committed };
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
