/**
 * What an application does to mapped memory without the kernel: CPU stores through a writable
 * page-table entry, and the userspace flush of the "PMEM programming model" (clwb or clflushopt on
 * each cache line, then sfence).
 */
import { PTE_NONE, PTE_RW, VMA_PAGECACHE, type DaxContext, type Layout } from './layout.ts';
import { cpuFlushPersists } from './fs.ts';
import { pte, ptePhys } from './faults.ts';
import { storeWord, writeBackPhys } from './pmem.ts';
import { forgetPromises } from './syscalls.ts';

/** Can the thread store to block b through mapping m without faulting? */
export function isPteWritable(c: DaxContext, L: Layout, m: number, b: number): boolean {
  return pte(c, L, m, b) === PTE_RW;
}

export function isPteMapped(c: DaxContext, L: Layout, m: number, b: number): boolean {
  return pte(c, L, m, b) !== PTE_NONE;
}

/**
 * A CPU store of `value` to word w of file block b, through a writable entry of mapping m: it
 * lands in whatever physical block the entry maps.
 */
export function userStore(c: DaxContext, L: Layout, m: number, b: number, w: number, value: number): void {
  if (!isPteWritable(c, L, m, b)) throw new Error(`model error: store to block ${b} through mapping ${m} without a writable PTE`);
  if (c.volatile[L.vVma + m] === VMA_PAGECACHE) {
    // The mapping fell back to the page cache: the store dirties a page-cache page in DRAM.
    c.volatile[L.vPc + b * L.W + w] = value;
    c.volatile[L.vPcDirty + b * L.W + w] = 1;
  } else storeWord(c, L, ptePhys(c, L, m, b), w, value);
  forgetPromises(c, L, b, w);
}

/**
 * clwb (or clflushopt) of every cache line of block b, then sfence. On DAX the dirty lines reach
 * persistent memory; without S_DAX the data is in the page cache, and on a virtualized NVDIMM the
 * flush reaches only the host's page cache: no durability either way. Returns the words made
 * durable.
 */
export function userFlush(c: DaxContext, L: Layout, m: number, b: number): number {
  if (!isPteMapped(c, L, m, b) || !cpuFlushPersists(c, L) || c.volatile[L.vVma + m] === VMA_PAGECACHE) return 0;
  return writeBackPhys(c, L, ptePhys(c, L, m, b));
}
