/**
 * Third-party and background operations on the file (seed 000, 002, 004): hole punch, truncate,
 * reflink, dedupe, defrag, scrub/auto-repair, snapshot, the EOF-block scan, and a split of the
 * extent tree caused by an extent operation elsewhere in the file.
 *
 * Each runs in three steps so that the application's threads can interleave with it:
 *   start   take i_rwsem and the MMAPLOCK exclusively (new page faults wait), write back the dirty
 *           data of the range it will change (filemap_write_and_wait_range, which for DAX flushes
 *           the dirty cache lines), and invalidate the DAX mappings of the range
 *           (unmap_mapping_range) — or, under PMEM_IMMUTABLE, fail with EPERM;
 *   apply   change the extent map (in the running transaction);
 *   finish  release the locks (and, where the proposal says so, sync the metadata first).
 * Proposals differ in the policy; buggy variants leave out the invalidation, the lock, or the
 * EPERM check for one operation.
 */
import {
  EPERM,
  FLAG_MTIME,
  HOLE,
  OK,
  SHARED,
  THIRD_PARTY_OPS,
  VMA_NONE,
  type ThirdPartyOp,
  WRITTEN,
  isWrittenKind,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, copyBlockDurably, extentKind, fileSize, physOf, setExtent } from './fs.ts';
import { unmapMappingRange } from './faults.ts';
import { commitRunningTransaction } from './journal.ts';
import { writeBackPhys } from './pmem.ts';
import { forgetPromises } from './syscalls.ts';

export { THIRD_PARTY_OPS };
export type { ThirdPartyOp };

/** The call or kernel path each operation stands for. */
export const OP_CALLS: Record<ThirdPartyOp, string> = {
  punch: 'fallocate(FALLOC_FL_PUNCH_HOLE)',
  truncate: 'truncate',
  reflink: 'ioctl(FICLONE)',
  dedupe: 'ioctl(FIDEDUPERANGE)',
  defrag: 'defrag (EXT4_IOC_MOVE_EXT / xfs_fsr)',
  scrub: 'online scrub and repair',
  snapshot: 'snapshot',
  eofscan: 'EOF-block scan (xfs_free_eofblocks)',
  split: 'extent operation elsewhere in the file (tree split)',
  write: 'pwrite(2) by another process',
  clearflag: 'ioctl clearing the inode flag',
};

/** The call an operation stands for, with the proposal's flag named (`ioctl clearing PMEM_IMMUTABLE`). */
export function opCall(L: Layout, op: ThirdPartyOp): string {
  return op === 'clearflag' && L.hooks.inodeFlag ? `ioctl clearing ${L.hooks.inodeFlag.name}` : OP_CALLS[op];
}

/** Operations that take data away from the file; the rest must preserve what it reads. */
export const DESTRUCTIVE: ReadonlySet<ThirdPartyOp> = new Set(['punch', 'truncate']);

/** Does the operation work on one block (its event carries `b`) rather than the whole file? */
export const PER_BLOCK: ReadonlySet<ThirdPartyOp> = new Set(['punch', 'truncate', 'dedupe', 'defrag', 'scrub', 'split', 'write']);

/**
 * Operations that neither take the MMAPLOCK nor touch the mappings: a write(2) on DAX copies into
 * persistent memory through the kernel's own mapping (coherent with user mappings), and changing
 * an inode flag moves no block.
 */
export const LEAVES_MAPPINGS: ReadonlySet<ThirdPartyOp> = new Set(['write', 'clearflag']);

/**
 * How a proposal's filesystem runs third-party operations. (Whether it refuses one with EPERM is
 * the proposal's own hook, KernelHooks.refuses.)
 */
export interface ThirdPartyPolicy {
  /** Write back the range's dirty data before changing it (filemap_write_and_wait_range). */
  writeBack?: boolean;
  /** Invalidate the DAX mappings of the changed range (unmap_mapping_range). */
  invalidate: boolean;
  /** Hold off new page faults while the operation runs (MMAPLOCK exclusive). */
  holdOffFaults: boolean;
  /** Commit the metadata before releasing the locks (MSYNC_PMEM_PREPARE_WRITE's promise). */
  syncBeforeRelease: boolean;
  /**
   * The proposal's own work before the locks are released, e.g. MSYNC_PMEM_PREPARE_WRITE's sticky
   * range made ready again (it runs before the sync, so the sync covers it).
   */
  beforeRelease?: (c: DaxContext, L: Layout) => void;
}

const doneAt = (L: Layout, op: ThirdPartyOp) => L.vOpsDone + THIRD_PARTY_OPS.indexOf(op);

/** Blocks [from, to) an operation changes, and whether the mapping must be invalidated there. */
function range(c: DaxContext, L: Layout, op: ThirdPartyOp, b: number): [number, number] {
  switch (op) {
    case 'truncate':
      return [b, L.B];
    case 'reflink':
    case 'snapshot':
      return [0, L.B];
    case 'eofscan':
      return [fileSize(c, L), L.B];
    case 'split':
    case 'write':
    case 'clearflag':
      // A split moves metadata, not data; write(2) and the flag leave the mappings alone
      // (LEAVES_MAPPINGS): the filesystem has no reason to touch them.
      return [b, b];
    default:
      return [b, b + 1];
  }
}

/** Can the operation do anything now (and has it not run yet)? */
export function canRun(c: DaxContext, L: Layout, op: ThirdPartyOp, b: number): boolean {
  if (c.volatile[doneAt(L, op)]) return false;
  const kind = extentKind(c, L, b);
  switch (op) {
    case 'punch':
    case 'split':
      return isWrittenKind(kind);
    case 'truncate':
      return b < fileSize(c, L) && b > 0;
    case 'reflink':
    case 'snapshot':
      for (let x = 0; x < L.B; x++) if (extentKind(c, L, x) === WRITTEN) return true;
      return false;
    case 'dedupe':
    case 'defrag':
    case 'scrub':
      return kind === WRITTEN && allocatePhys(c, L) >= 0;
    case 'eofscan':
      for (let x = fileSize(c, L); x < L.B; x++) if (extentKind(c, L, x) !== HOLE) return true;
      return false;
    case 'write':
      // An overwrite inside the file: no allocation, no size change.
      return b < fileSize(c, L) && isWrittenKind(kind);
    case 'clearflag':
      // The attempt that matters is the one made while the application relies on the flag, that
      // is, while it has the file mapped. (Before mmap the application could check the flag after
      // mapping; rule 6 is what makes that check mean something.)
      return hasInodeFlag(c, L) && isMapped(c, L);
  }
}

/** Is the proposal's own inode flag (KernelHooks.inodeFlag) set in memory? */
export function hasInodeFlag(c: DaxContext, L: Layout): boolean {
  const flag = L.hooks.inodeFlag;
  return !!flag && (c.volatile[L.vFlags] & flag.bit) !== 0;
}

/** Does any thread still have the file mapped? */
export function isMapped(c: DaxContext, L: Layout): boolean {
  for (let m = 0; m < L.M; m++) if (c.volatile[L.vVma + m] !== VMA_NONE) return true;
  return false;
}

/** Does the proposal refuse the operation (EPERM) in this state? */
export function isRefused(c: DaxContext, L: Layout, op: ThirdPartyOp): boolean {
  return L.hooks.refuses?.(c, L, op) ?? false;
}

/** Step 1: locks and invalidation, or EPERM. Returns the errno. */
export function startOp(c: DaxContext, L: Layout, op: ThirdPartyOp, b: number, policy: ThirdPartyPolicy): number {
  c.volatile[doneAt(L, op)] = 1;
  if (isRefused(c, L, op)) return EPERM;
  if (policy.holdOffFaults && !LEAVES_MAPPINGS.has(op)) c.volatile[L.vMmapLock] = 1;
  const [from, to] = range(c, L, op, b);
  if (policy.writeBack !== false) {
    for (let x = from; x < to; x++) if (isWrittenKind(extentKind(c, L, x))) writeBackPhys(c, L, physOf(c, L, x));
  }
  if (policy.invalidate) unmapMappingRange(c, L, from, to);
  return OK;
}

/** Step 2: the change to the extent map, in the running transaction. */
export function applyOp(c: DaxContext, L: Layout, op: ThirdPartyOp, b: number): void {
  switch (op) {
    case 'punch':
      setExtent(c, L, b, HOLE, 0);
      forgetPromises(c, L, b);
      return;
    case 'truncate':
      for (let x = b; x < L.B; x++) {
        setExtent(c, L, x, HOLE, 0);
        forgetPromises(c, L, x);
      }
      c.volatile[L.vSize] = b;
      return;
    case 'reflink':
    case 'snapshot':
      // The other file (the clone, the snapshot) now references every written block.
      for (let x = 0; x < L.B; x++) {
        if (extentKind(c, L, x) !== WRITTEN) continue;
        c.durable[L.dOtherRef + physOf(c, L, x)] = 1;
        setExtent(c, L, x, SHARED, physOf(c, L, x));
      }
      return;
    case 'dedupe': {
      // Block b turned out identical to another file's block q: b now shares q, its old block is
      // freed. If the space went meanwhile (the application copied on write), it fails: ENOSPC.
      const q = allocatePhys(c, L);
      if (q < 0 || !isWrittenKind(extentKind(c, L, b))) return;
      copyBlockDurably(c, L, b, q);
      c.durable[L.dOtherRef + q] = 1;
      setExtent(c, L, b, SHARED, q);
      return;
    }
    case 'defrag':
    case 'scrub': {
      // Relocate block b: copy it, point the extent at the copy, free the old block (or fail with
      // ENOSPC when the free block went meanwhile).
      const q = allocatePhys(c, L);
      if (q < 0 || !isWrittenKind(extentKind(c, L, b))) return;
      copyBlockDurably(c, L, b, q);
      setExtent(c, L, b, WRITTEN, q);
      return;
    }
    case 'eofscan':
      for (let x = fileSize(c, L); x < L.B; x++) setExtent(c, L, x, HOLE, 0);
      return;
    case 'split':
      // An insert elsewhere splits the leaf: b's mapping moves to the other leaf, unchanged.
      c.volatile[L.vExtLeaf + b] ^= 1;
      return;
    case 'write':
      // file_update_time: new mtime/ctime in the running transaction. The model follows the
      // metadata; the bytes are the other process's own (DAX copies them in with non-temporal
      // stores, durable when write returns) and are not modelled.
      c.volatile[L.vFlags] ^= FLAG_MTIME;
      return;
    case 'clearflag':
      if (L.hooks.inodeFlag) c.volatile[L.vFlags] &= ~L.hooks.inodeFlag.bit;
      return;
  }
}

/** Step 3: (the proposal's own work, sync and) release. Returns the journal items committed. */
export function finishOp(c: DaxContext, L: Layout, policy: ThirdPartyPolicy): number {
  policy.beforeRelease?.(c, L);
  const items = policy.syncBeforeRelease ? commitRunningTransaction(c, L) : 0;
  c.volatile[L.vMmapLock] = 0;
  return items;
}

/** Is a third-party operation holding the MMAPLOCK (so page faults must wait)? */
export function isMmapLockHeld(c: DaxContext, L: Layout): boolean {
  return c.volatile[L.vMmapLock] !== 0;
}
