/**
 * Power failure and recovery.
 *
 * At a power failure the durable part survives; each word still dirty in a cache line may or may
 * not have reached the media first. The explorer tries every such "crash image", one word at a
 * time: after `power_fail`, the lowest dirty word either reached the media (`power.keep`) or did
 * not (`power.drop`), until no dirty word is left; then the machine is remounted (`mount`): all
 * volatile state is gone and the journal replays the committed transactions. Which decisions the
 * platform allows: on ADR either; on eADR (caches in the persistence domain) every dirty word
 * reaches the media; where a CPU flush does not persist (page cache, virtualized NVDIMM) none does.
 */
import { EADR, type DaxContext, type Layout } from './layout.ts';
import { cpuFlushPersists } from './fs.ts';
import { replayCommittedTransactions } from './journal.ts';

/** Index (p*W + w) of the lowest dirty word, or -1. */
export function firstDirtyWord(c: DaxContext, L: Layout): number {
  for (let i = 0; i < L.P * L.W; i++) if (c.volatile[L.vDirty + i]) return i;
  return -1;
}

/** The power fails: from here on only the crash-image decisions and the remount can happen. */
export function powerFail(c: DaxContext, L: Layout): void {
  c.ghost[L.gCrashes]++;
}

/** May the lowest dirty word have reached the media before the power failed? */
export function mayReachMedia(c: DaxContext, L: Layout): boolean {
  return firstDirtyWord(c, L) >= 0 && cpuFlushPersists(c, L);
}

/** May the lowest dirty word have been lost? Not on eADR, where the caches are persistent. */
export function mayBeLost(c: DaxContext, L: Layout): boolean {
  return firstDirtyWord(c, L) >= 0 && !(cpuFlushPersists(c, L) && c.durable[L.dPlatform] === EADR);
}

/** The lowest dirty word reached the media (keep) or not (drop); either way it is decided. */
export function decideDirtyWord(c: DaxContext, L: Layout, reached: boolean): void {
  const i = firstDirtyWord(c, L);
  if (reached) c.durable[L.dPmem + i] = c.volatile[L.vCache + i];
  c.volatile[L.vDirty + i] = 0;
  c.volatile[L.vCache + i] = 0;
}

/** Have all dirty words been decided? */
export function isCrashImageComplete(c: DaxContext, L: Layout): boolean {
  return firstDirtyWord(c, L) < 0;
}

/** Mount after the crash: volatile state is gone; journal recovery rebuilds the in-memory inode. */
export function mountAfterCrash(c: DaxContext, L: Layout): void {
  c.volatile.fill(0);
  replayCommittedTransactions(c, L);
}
