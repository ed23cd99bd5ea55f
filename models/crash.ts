/**
 * Power failure and recovery.
 *
 * At a power failure the durable part survives; each word still dirty in a cache line may or may
 * not have reached the media first. The explorer tries every such "crash image": the image is a
 * bit mask over the dirty words that did reach the media (which images are possible depends on the
 * platform, see isCrashImagePossible). On a file without S_DAX the dirty data is in the page
 * cache, in DRAM, and all of it is lost. Everything volatile is gone; the journal
 * replays the committed transactions; then the application runs its own recovery check.
 */
import { EADR, type DaxContext, type Layout } from './layout.ts';
import { cpuFlushPersists } from './fs.ts';
import { replayCommittedTransactions } from './journal.ts';
import { dirtyMask } from './pmem.ts';

/**
 * Is `image` a set of dirty words that could have reached the media before the power failed?
 * On ADR any subset of the dirty words; on eADR all of them (the caches are in the persistence
 * domain); where CPU flushes do not persist (page cache, virtualized NVDIMM) none.
 */
export function isCrashImagePossible(c: DaxContext, L: Layout, image: number): boolean {
  const dirty = dirtyMask(c, L);
  if (!cpuFlushPersists(c, L)) return image === 0;
  if (c.durable[L.dPlatform] === EADR) return image === dirty;
  return (image & dirty) === image;
}

/** The power fails: the words of `image` reach the media, all volatile state is lost. */
export function powerFail(c: DaxContext, L: Layout, image: number): void {
  for (let i = 0; i < L.P * L.W; i++) {
    if (image & (1 << i)) c.durable[L.dPmem + i] = c.volatile[L.vCache + i];
  }
  c.volatile.fill(0);
  c.ghost[L.gCrashes]++;
}

/** Mount after the crash: journal recovery rebuilds the in-memory inode from committed metadata. */
export function journalRecover(c: DaxContext, L: Layout): void {
  replayCommittedTransactions(c, L);
}
