/**
 * Power failure and recovery.
 *
 * At a power failure the durable part survives; each word still dirty in a cache line may or may
 * not have reached the media first. The explorer tries every such "crash image", one word at a
 * time: after `power_fail`, the lowest dirty word either reached the media (`power.keep`) or did
 * not (`power.drop`) — or, with the crash-image reduction, is decided one way only (`power.skip`)
 * when nothing can tell the two apart (`isDecisionUnobservable`) — until no dirty word is left; then the machine is remounted (`mount`): all
 * volatile state is gone and the journal replays the committed transactions. Which decisions the
 * platform allows: on ADR either; on eADR (caches in the persistence domain) every dirty word
 * reaches the media; where a CPU flush does not persist (page cache, virtualized NVDIMM) none does.
 */
import { EADR, HOLE, type DaxContext, type Layout } from './layout.ts';
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

/**
 * Crash-image reduction (issue 13, point 5; Vinter's idea: images that recover to the same state
 * are explored once). `true`: the decision on a dirty word whose outcome nothing can observe is
 * not branched on (one `power.skip` instead of `power.keep` / `power.drop`); `false`: every dirty
 * word is decided both ways, word by word (`check --no-crash-reduction`).
 *
 * `zeroingIsDurable` says whether the configuration fills every newly allocated block durably
 * before any read can see it (the default); with zeroing through the cache (`zeroing: 'cached'`)
 * or NOVA's copy made with cached stores, a free block's old content is observable when it is
 * allocated again, and the second rule below applies only to the last crash of the budget (after
 * it the run ends with the recovery check: nothing is allocated again).
 */
export interface CrashReduction {
  reduce: boolean;
  zeroingIsDurable: boolean;
  /** The configuration's crash budget: after the last crash nothing allocates again. */
  budget: number;
}

/**
 * Can no one observe whether physical block p's dirty words reached the media? True when, in the
 * durable state (which is all the remount keeps: journal recovery rebuilds the in-memory inode from
 * it and never writes pmem), no file block's committed extent maps p (of any kind but a hole: an
 * unwritten or shared extent is read or copied later), no other file shares it (`dOtherRef`), and
 * the proposal's own state does not hold it (`holdsPhys`, e.g. NOVA's durable copy-on-write cache
 * entries, which recovery migrates). Such a block is free after recovery, and every way the model
 * puts a free block back into use overwrites all its words on the media before anything reads it:
 * `zeroPhysDurably` (a new block, an unwritten extent converted) or `copyBlockDurably`
 * (copy-on-write, relocation). Every reader of pmem (`durableWord`, `visibleWord`, the properties
 * through them) goes through an extent map, so until then nothing reads p either.
 */
export function isPhysUnobservedAfterCrash(c: DaxContext, L: Layout, p: number): boolean {
  if (c.durable[L.dOtherRef + p]) return false;
  if (L.hooks.holdsPhys?.(c, L, p)) return false;
  for (let b = 0; b < L.B; b++) if (c.durable[L.dExtKind + b] !== HOLE && c.durable[L.dExtPhys + b] === p) return false;
  return true;
}

/**
 * Would keeping and dropping the lowest dirty word lead to states no property and no later step
 * can tell apart? Two rules, each sound on its own:
 *  1. its cache value equals its media value: `power.keep` and `power.drop` give the very same
 *     durable state (both clear the line);
 *  2. its block is unobserved after the crash (`isPhysUnobservedAfterCrash`), and new blocks are
 *     zeroed durably: the two durable states differ only in words nothing reads before they are
 *     overwritten.
 * The words of a crash image are decided independently and in a fixed order, and neither rule
 * depends on the decisions already taken (they read the word itself and the extent map, which
 * no decision changes), so the reduced images are a subset of the word-by-word ones and every
 * word-by-word image agrees with one of them on everything observable.
 */
export function isDecisionUnobservable(c: DaxContext, L: Layout, r: CrashReduction): boolean {
  if (!r.reduce) return false;
  const i = firstDirtyWord(c, L);
  if (i < 0) return false;
  if (c.volatile[L.vCache + i] === c.durable[L.dPmem + i]) return true;
  const reused = !r.zeroingIsDurable && c.ghost[L.gCrashes] < r.budget;
  return !reused && isPhysUnobservedAfterCrash(c, L, Math.floor(i / L.W));
}

/** May the lowest dirty word have reached the media before the power failed? */
export function mayReachMedia(c: DaxContext, L: Layout, r?: CrashReduction): boolean {
  return firstDirtyWord(c, L) >= 0 && cpuFlushPersists(c, L) && !(r && isDecisionUnobservable(c, L, r));
}

/** May the lowest dirty word have been lost? Not on eADR, where the caches are persistent. */
export function mayBeLost(c: DaxContext, L: Layout, r?: CrashReduction): boolean {
  return firstDirtyWord(c, L) >= 0 && platformMayLose(c, L) && !(r && isDecisionUnobservable(c, L, r));
}

function platformMayLose(c: DaxContext, L: Layout): boolean {
  return !(cpuFlushPersists(c, L) && c.durable[L.dPlatform] === EADR);
}

/**
 * `power.skip`: the lowest dirty word's fate cannot be observed, so it is decided one way only:
 * lost where the platform can lose it, else (eADR) kept. Either is an image word-by-word
 * enumeration explores too.
 */
export function decideUnobservableWord(c: DaxContext, L: Layout): void {
  decideDirtyWord(c, L, !platformMayLose(c, L));
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
