/**
 * MAP_DIRECT and MADV_DIRECT_ACCESS (Dan Williams' proposal, discussed in seed 003): no page
 * cache in front of the storage. In 2018 a DAX filesystem could not copy a shared (reflinked,
 * deduped) block on write without the page cache, so when another process shares the file's
 * blocks, a MAP_DIRECT mapping either falls back to the page cache transparently (a hint, like
 * O_DIRECT) or cannot be kept and the access gets SIGBUS (a guarantee).
 */
import {
  HOLE,
  OK,
  PTE_RW,
  SHARED,
  SIGBUS,
  VMA_DIRECT_GUARANTEE,
  VMA_DIRECT_HINT,
  VMA_PAGECACHE,
  VMA_SHARED,
  WRITTEN,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { allocatePhys, extentKind, fileSize, setExtent, zeroPhysDurably } from './fs.ts';
import { pageFault, setPte, vma } from './faults.ts';

export type DirectFault = 'dax' | 'fallback' | 'pagecache' | 'sigbus';

/** What a write fault on block b through mapping m does under MAP_DIRECT. */
export function directFaultKind(c: DaxContext, L: Layout, m: number, b: number): DirectFault {
  const v = vma(c, L, m);
  if (v === VMA_PAGECACHE) return 'pagecache';
  if (extentKind(c, L, b) !== SHARED || b >= fileSize(c, L)) return 'dax';
  if (v === VMA_DIRECT_HINT) return 'fallback';
  if (v === VMA_DIRECT_GUARANTEE) return 'sigbus';
  return 'dax';
}

/** The write fault of a MAP_DIRECT mapping (or of one that fell back to the page cache). */
export function directWriteFault(c: DaxContext, L: Layout, t: number, m: number, b: number): DirectFault {
  const kind = directFaultKind(c, L, m, b);
  switch (kind) {
    case 'dax':
      pageFault(c, L, t, m, b, true);
      return kind;
    case 'sigbus':
      // The guarantee cannot be kept, and the application pays for what another process did.
      c.volatile[L.vErr + t] = SIGBUS;
      c.ghost[L.gKilledByOther + t] = 1;
      return kind;
    case 'fallback':
      // Switch the whole mapping to the page cache: every DAX entry of it goes first.
      for (let x = 0; x < L.B; x++) setPte(c, L, m, x, 0);
      c.volatile[L.vVma + m] = VMA_PAGECACHE;
      setPte(c, L, m, b, PTE_RW, 0);
      c.volatile[L.vErr + t] = OK;
      return kind;
    case 'pagecache':
      // page_mkwrite on a page-cache page: a hole gets a block (zeroed), data waits for writeback.
      if (extentKind(c, L, b) === HOLE) {
        const p = allocatePhys(c, L);
        if (p < 0) {
          c.volatile[L.vErr + t] = SIGBUS;
          return 'sigbus';
        }
        zeroPhysDurably(c, L, p);
        setExtent(c, L, b, WRITTEN, p);
      }
      setPte(c, L, m, b, PTE_RW, 0);
      c.volatile[L.vErr + t] = OK;
      return kind;
  }
}

/** madvise(addr, len, MADV_DIRECT_ACCESS): MAP_DIRECT's run-time form, with the hint's semantics. */
export function madviseDirectAccess(c: DaxContext, L: Layout, t: number, m: number): number {
  if (vma(c, L, m) === VMA_SHARED) c.volatile[L.vVma + m] = VMA_DIRECT_HINT;
  c.volatile[L.vErr + t] = OK;
  return OK;
}
