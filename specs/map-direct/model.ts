/**
 * MAP_DIRECT and MADV_DIRECT_ACCESS (Dan Williams' proposal, discussed in seed 003): no page
 * cache in front of the storage. In 2018 a DAX filesystem could not copy a shared (reflinked,
 * deduped) block on write without the page cache, so when another process shares the file's
 * blocks, a MAP_DIRECT mapping either falls back to the page cache transparently (a hint, like
 * O_DIRECT) or cannot be kept and the access gets SIGBUS (a guarantee).
 *
 * The proposal's own state, declared here and packed after the shared model's: what each mapping
 * is to MAP_DIRECT (`direct[m]`; to the shared model it is an ordinary MAP_SHARED mapping), the
 * page cache a mapping falls back to (`pageCache`, `pageCacheDirty`), and, for its property, who
 * was killed by SIGBUS for what another process did (`killedByOther`). It meets the shared model
 * at hooks (models/layout.ts KernelHooks): mmap of its flags, munmap, stores and flushes through a
 * mapping that fell back (page-cache memory, not persistent memory), loads of a dirty page-cache
 * word, and fsync's writeback of the page cache.
 */
import { kernelAction } from '../../models/action.ts';
import { errnoText, mmapAddress } from '../../models/describe.ts';
import { pageFault, setPte } from '../../models/faults.ts';
import { allocatePhys, copyBlockDurably, extentKind, fileSize, isDaxInode, physOf, setExtent, zeroPhysDurably } from '../../models/fs.ts';
import { fields } from '../../models/fields.ts';
import {
  BLOCK_SIZE,
  EOPNOTSUPP,
  HOLE,
  MAX_WORD_VALUE,
  OK,
  PTE_NONE,
  PTE_RW,
  SHARED,
  VMA_SHARED,
  WRITTEN,
  type DaxContext,
  type Dimensions,
  type KernelHooks,
  type Layout,
  type StateView,
} from '../../models/layout.ts';
import type { ProposalMmapFlags } from '../../models/syscalls.ts';

/** MAP_DIRECT as a hint (fall back to the page cache) or as a guarantee (SIGBUS). */
export type DirectMode = 'hint' | 'guarantee';

/** The flags the application maps the file with: MAP_SHARED_VALIDATE makes an unknown MAP_DIRECT fail. */
export const MAP_DIRECT_FLAGS = 'MAP_SHARED_VALIDATE|MAP_DIRECT' satisfies ProposalMmapFlags;

/** The proposal's state. `thirdParty`: another process can share the file's blocks (else no one is killed for it). */
export const directState = (d: Dimensions, o: { thirdParty: boolean }) =>
  fields({
    direct: {
      part: 'volatile',
      shape: [d.threads],
      values: ['no', 'hint', 'guarantee', 'page cache'],
      doc: 'what mapping m is to MAP_DIRECT: not direct, a hint, a guarantee, or a hint that fell back to the page cache',
    },
    pageCache: { part: 'volatile', shape: [d.blocks, d.words], max: MAX_WORD_VALUE, doc: 'page-cache word of a file block (a MAP_DIRECT hint fallen back to the page cache)' },
    pageCacheDirty: { part: 'volatile', shape: [d.blocks, d.words], max: 1, doc: 'the page-cache word is dirty' },
    killedByOther: { part: 'ghost', shape: [d.threads], max: o.thirdParty ? 1 : 0, doc: 'thread t was killed by SIGBUS because of something another process did' },
  });

export type DirectLayout = Layout<ReturnType<typeof directState>>;

/**
 * One view per layout for the model's own code (made once: a view costs an object per field).
 * Calls nest only on the same context, so sharing it is safe; texts and properties make their own.
 */
const views = new WeakMap<DirectLayout, StateView<ReturnType<typeof directState>>>();
function viewOf(L: DirectLayout) {
  let s = views.get(L);
  if (!s) views.set(L, (s = L.view()));
  return s;
}

export type DirectFault = 'dax' | 'fallback' | 'pagecache' | 'sigbus';

/** What a write fault on block b through mapping m does under MAP_DIRECT. */
export function directFaultKind(c: DaxContext, L: DirectLayout, m: number, b: number): DirectFault {
  const s = viewOf(L).at(c);
  const mode = s.direct(m);
  if (mode === 'page cache') return 'pagecache';
  if (extentKind(c, L, b) !== SHARED || b >= fileSize(c, L)) return 'dax';
  if (mode === 'hint') return 'fallback';
  if (mode === 'guarantee') return 'sigbus';
  return 'dax';
}

/** The write fault of a MAP_DIRECT mapping (or of one that fell back to the page cache). */
export function directWriteFault(c: DaxContext, L: DirectLayout, t: number, m: number, b: number): DirectFault {
  const kind = directFaultKind(c, L, m, b);
  const s = viewOf(L).at(c);
  switch (kind) {
    case 'dax':
      pageFault(c, L, t, m, b, true);
      return kind;
    case 'sigbus':
      // The guarantee cannot be kept, and the application pays for what another process did.
      s.errno.set(t, 'SIGBUS');
      s.killedByOther.set(t, 1);
      return kind;
    case 'fallback':
      // Switch the whole mapping to the page cache: every DAX entry of it goes first.
      for (let x = 0; x < L.B; x++) setPte(c, L, m, x, PTE_NONE);
      s.direct.set(m, 'page cache');
      setPte(c, L, m, b, PTE_RW, 0);
      s.errno.set(t, '0');
      return kind;
    case 'pagecache':
      // page_mkwrite on a page-cache page: a hole gets a block (zeroed), data waits for writeback.
      if (extentKind(c, L, b) === HOLE) {
        const p = allocatePhys(c, L);
        if (p < 0) {
          s.errno.set(t, 'SIGBUS');
          return 'sigbus';
        }
        zeroPhysDurably(c, L, p);
        setExtent(c, L, b, WRITTEN, p);
      }
      setPte(c, L, m, b, PTE_RW, 0);
      s.errno.set(t, '0');
      return kind;
  }
}

/** madvise(addr, len, MADV_DIRECT_ACCESS): MAP_DIRECT's run-time form, with the hint's semantics. */
export function madviseDirectAccess(c: DaxContext, L: DirectLayout, t: number, m: number): number {
  const s = viewOf(L).at(c);
  if (s.vma(m) === 'MAP_SHARED' && s.direct(m) === 'no') s.direct.set(m, 'hint');
  s.errno.set(t, '0');
  return OK;
}

/**
 * fsync's writeback of the dirty page-cache words of block b (a mapping fell back to the page
 * cache). A block shared with another file is copied first (copy on write, in the running
 * transaction); otherwise the words are written in place. Returns the words written, or -1 when
 * there is no space for the copy (ENOSPC: the data stays dirty).
 */
export function writeBackPageCache(c: DaxContext, L: DirectLayout, b: number): number {
  const s = viewOf(L).at(c);
  let dirty = 0;
  for (let w = 0; w < L.W; w++) dirty += s.pageCacheDirty(b, w);
  if (dirty === 0) return 0;
  let p = physOf(c, L, b);
  if (extentKind(c, L, b) === SHARED) {
    const q = allocatePhys(c, L);
    if (q < 0) return -1;
    copyBlockDurably(c, L, b, q);
    setExtent(c, L, b, WRITTEN, q);
    p = q;
  }
  s.at(c);
  for (let w = 0; w < L.W; w++) {
    if (!s.pageCacheDirty(b, w)) continue;
    if (p >= 0) s.pmem.set(p, w, s.pageCache(b, w));
    s.pageCacheDirty.set(b, w, 0);
    s.pageCache.set(b, w, 0);
  }
  return dirty;
}

/**
 * Where MAP_DIRECT meets the shared model: mmap of its flags (a DAX file only; an ordinary shared
 * mapping to the core, a hint or a guarantee to the proposal), munmap, and a mapping that fell
 * back, whose entries map page-cache pages: stores dirty them, flushes persist nothing, loads see
 * them, and fsync writes them back.
 */
export function directHooks(L: DirectLayout, mode: DirectMode): KernelHooks {
  const s = viewOf(L);
  return {
    // MAP_DIRECT needs directly addressable storage.
    mmapErrno: (c, _L, flags) => (flags === MAP_DIRECT_FLAGS ? (isDaxInode(c, L) ? OK : EOPNOTSUPP) : undefined),
    mmap(c, _L, m) {
      s.at(c).direct.set(m, mode);
      return VMA_SHARED;
    },
    onMunmap(c, _L, m) {
      s.at(c).direct.set(m, 'no');
    },
    mapsOwnMemory: (c, _L, m) => s.at(c).direct(m) === 'page cache',
    storeOwn(c, _L, _m, b, w, value) {
      // The mapping fell back to the page cache: the store dirties a page-cache page in DRAM.
      s.at(c).pageCache.set(b, w, value);
      s.pageCacheDirty.set(b, w, 1);
    },
    heldWord: (c, _L, b, w) => (s.at(c).pageCacheDirty(b, w) ? s.pageCache(b, w) : undefined),
    writeBackOwn: (c, _L, b) => writeBackPageCache(c, L, b),
  };
}

/** The proposal's own calls, as actions with the words their trace steps print. */
export function directActions(L: DirectLayout) {
  const s = L.view();
  return {
    map_direct_fault: kernelAction<{ t: number; m: number; b: number }>(
      (c, _e, p) => void directWriteFault(c, L, p.t, p.m, p.b),
      (a, shared) => {
        const { params: p, before, after } = a;
        const b = p.b;
        const name = `dax_iomap_fault(write, block ${b})`;
        const wasPageCache = s.at(before).direct(p.m) === 'page cache';
        const isPageCache = s.at(after).direct(p.m) === 'page cache';
        if (s.at(after).errno(p.t) === 'SIGBUS') {
          return `${name} → block ${b} is shared with another file; DAX cannot copy it on write and MAP_DIRECT is a guarantee: SIGBUS`;
        }
        if (!wasPageCache && isPageCache) {
          return `${name} → block ${b} is shared with another file; DAX cannot copy it on write: MAP_DIRECT falls back to the page cache (the mapping's DAX entries zapped, a page-cache page mapped writable)`;
        }
        if (wasPageCache) return `page_mkwrite(block ${b}) on the page cache → PTE writable; data goes to DRAM until writeback`;
        return shared({ ...a, type: 'dax_iomap_fault', params: { ...p, write: true } });
      },
    ),
    madvise_direct_access: kernelAction<{ t: number; m: number }>(
      (c, _e, p) => void madviseDirectAccess(c, L, p.t, p.m),
      ({ params: p, after }) => `madvise(${mmapAddress(p.m)}, ${L.B * BLOCK_SIZE}, MADV_DIRECT_ACCESS) = ${errnoText(after, L, p.t)}`,
    ),
  };
}
