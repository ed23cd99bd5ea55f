/**
 * What an application does to mapped memory without the kernel: CPU stores through a writable
 * page-table entry, and the userspace flush of the "PMEM programming model" (clwb or clflushopt on
 * each cache line, then sfence).
 */
import { PTE_NONE, PTE_RW, type DaxContext, type Layout } from './layout.ts';
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
 * lands in whatever physical block the entry maps, or in the proposal's own memory behind the
 * mapping (`mapsOwnMemory`, e.g. a page-cache page in DRAM).
 */
export function userStore(c: DaxContext, L: Layout, m: number, b: number, w: number, value: number): void {
  if (!isPteWritable(c, L, m, b)) throw new Error(`model error: store to block ${b} through mapping ${m} without a writable PTE`);
  if (L.hooks.mapsOwnMemory?.(c, L, m)) L.hooks.storeOwn!(c, L, m, b, w, value);
  else storeWord(c, L, ptePhys(c, L, m, b), w, value);
  forgetPromises(c, L, b, w);
}

/**
 * clwb (or clflushopt) of every cache line of block b, then sfence. On DAX the dirty lines reach
 * persistent memory; without S_DAX the data is in the page cache, on a virtualized NVDIMM the
 * flush reaches only the host's page cache, and through a mapping of the proposal's own memory
 * (`mapsOwnMemory`) it reaches nothing persistent: no durability either way. Returns the words
 * made durable.
 */
export function userFlush(c: DaxContext, L: Layout, m: number, b: number): number {
  if (!isPteMapped(c, L, m, b) || !cpuFlushPersists(c, L) || L.hooks.mapsOwnMemory?.(c, L, m)) return 0;
  return writeBackPhys(c, L, ptePhys(c, L, m, b));
}
