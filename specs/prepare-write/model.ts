/**
 * msync(addr, len, MSYNC_PMEM_PREPARE_WRITE) (Andy Lutomirski, seed 000, 2017-06-19): "If this
 * operation succeeds, it guarantees that all future writes through this mapping on this range
 * will hit actual storage and that all the metadata operations needed to make this write
 * persistent will hit storage such that they are ordered before the user's writes ... it just
 * needs to block .page_mkwrite until they are synced ... whatever new mechanism we add for this
 * should be sticky".
 *
 * The proposal's own state is one field, `prepared[b]`, declared here and packed after the shared
 * model's. Where it is kept is the design choice the configurations vary: with the inode
 * ("sticky": maintenance re-prepares the range before it lets page faults in again) or with the
 * mapping (an invalidation forgets it).
 */
import { kernelAction } from '../../models/action.ts';
import { allocatePhys, copyBlockDurably, extentKind, fileSize, physOf, setExtent, zeroPhysDurably } from '../../models/fs.ts';
import { fields } from '../../models/fields.ts';
import { commitRunningTransaction } from '../../models/journal.ts';
import { itemsWritten } from '../../models/measures.ts';
import { mmapAddress, errnoText } from '../../models/describe.ts';
import {
  BLOCK_SIZE,
  ENOMEM,
  ERRNO_NAMES,
  ENOSPC,
  HOLE,
  OK,
  SHARED,
  UNWRITTEN,
  WRITTEN,
  type DaxContext,
  type Dimensions,
  type KernelHooks,
  type Layout,
} from '../../models/layout.ts';

/** The proposal's state: which blocks are prepared, and by whom that is remembered. */
export const prepareState = (d: Dimensions) =>
  fields({
    prepared: {
      part: 'volatile',
      shape: [d.blocks],
      values: ['no', 'sticky', 'with the mapping'],
      doc: 'block b is prepared (allocated, zeroed, metadata committed): remembered by the inode (sticky) or only by the mapping',
    },
  });

export type PrepareLayout = Layout<ReturnType<typeof prepareState>>;

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
export function msyncPrepareWrite(c: DaxContext, L: PrepareLayout, t: number, m: number, sticky: boolean): number {
  const s = L.at(c);
  let errno = s.vma(m) === 'none' ? ENOMEM : OK;
  for (let b = 0; errno === OK && b < fileSize(c, L); b++) {
    if (!prepareBlock(c, L, b)) errno = ENOSPC;
    else s.prepared.set(b, sticky ? 'sticky' : 'with the mapping');
  }
  if (errno === OK) commitRunningTransaction(c, L);
  s.errno.set(t, ERRNO_NAMES[errno]);
  return errno;
}

/**
 * Sticky preparation after maintenance: before the filesystem lets page_mkwrite through again,
 * every block still marked prepared is made ready again (a reflink left it shared, a punch left a
 * hole). Returns the blocks it had to prepare.
 */
export function reprepare(c: DaxContext, L: PrepareLayout): number {
  const s = L.at(c);
  let n = 0;
  for (let b = 0; b < fileSize(c, L); b++) {
    if (s.prepared(b) === 'no' || s.extent(b) === WRITTEN) continue;
    if (prepareBlock(c, L, b)) n++;
  }
  return n;
}

/** Is every block of the file that is still marked prepared ready for metadata-free writes? */
export function isPreparedRangeReady(c: DaxContext, L: PrepareLayout): boolean {
  const s = L.at(c);
  for (let b = 0; b < fileSize(c, L); b++) {
    if (s.prepared(b) === 'no') continue;
    if (s.extent(b) !== WRITTEN || s.committedExtent(b) !== WRITTEN) return false;
    if (s.committedPhys(b) !== s.phys(b)) return false;
  }
  return true;
}

/** Where the proposal meets the shared model: an invalidation forgets what the mapping kept. */
export function prepareHooks(L: PrepareLayout): KernelHooks {
  const s = L.view();
  return {
    onUnmap(c, _L, from, to) {
      s.at(c);
      for (let b = from; b < to && b < L.B; b++) if (s.prepared(b) === 'with the mapping') s.prepared.set(b, 'no');
    },
  };
}

/** The msync, as an action with the words its trace step prints. */
export function prepareActions(L: PrepareLayout) {
  return {
    msync_prepare_write: kernelAction<{ t: number; m: number; sticky: boolean }>(
      (c, _e, p) => void msyncPrepareWrite(c, L, p.t, p.m, p.sticky),
      ({ params: p, before, after }) => {
        const call = `msync(${mmapAddress(p.m)}, ${L.B * BLOCK_SIZE}, MSYNC_PMEM_PREPARE_WRITE)`;
        const errno = errnoText(after, L, p.t);
        if (errno !== '0') return `${call} = ${errno}`;
        const items = itemsWritten(L, before, after);
        return `${call} = 0 → every block allocated and zeroed, ${items} metadata item${items === 1 ? '' : 's'} committed before the call returns; range prepared${p.sticky ? ' (sticky: kept by the inode)' : ' (kept by the mapping only)'}`;
      },
    ),
  };
}
