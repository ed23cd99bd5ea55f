/**
 * Kernel behaviour the model leaves out, found by replaying traces, written down as precise rules
 * so that a replay showing exactly that behaviour is reported as "known" (with the explanation)
 * rather than as an unexplained mismatch. A rule must account for every difference of a replay;
 * any difference it does not explain leaves the replay a mismatch.
 */
import { PATTERN, type Observation } from './compare.ts';
import type { ReplayPlan } from './program.ts';
import { BLOCK_BYTES } from './program.ts';

export interface KnownDivergence {
  id: string;
  /** What the kernel does that the model does not, with the source that says so. */
  explanation: string;
  /** True when this rule explains every one of `differences` (the kernel observed `obs`). */
  explains(plan: ReplayPlan, fs: string, differences: string[], obs: Observation): boolean;
}

/** ext4's default s_extent_max_zeroout_kb (fs/ext4/super.c): 32 KiB. */
export const EXT4_MAX_ZEROOUT_BYTES = 32 * 1024;

/** The trace's operations in step order. */
const opsInOrder = (plan: ReplayPlan) => [...plan.ops].sort(([a], [b]) => a - b);

/**
 * File blocks (model numbering) that ext4 may convert whole: each lies in a small mode-0
 * fallocate of the trace (at most EXT4_MAX_ZEROOUT_BYTES) into which the trace later writes (a
 * write fault or a store to a block of the same range), so that a write into the unwritten extent
 * happened there.
 */
function zeroedOutBlocks(plan: ReplayPlan): Set<number> {
  const out = new Set<number>();
  const blockBytes = plan.pagesPerBlock * BLOCK_BYTES;
  const ops = opsInOrder(plan);
  for (const [step, op] of ops) {
    const m = /^fallocate \d+ 0 (\d+) (\d+)$/.exec(op);
    if (!m || Number(m[2]) > EXT4_MAX_ZEROOUT_BYTES) continue;
    const range: number[] = [];
    for (let off = Number(m[1]); off < Number(m[1]) + Number(m[2]); off += blockBytes) range.push(off / blockBytes);
    const written = ops.some(([n, later]) => {
      const w = /^(?:fault \d+ \d+|store \d+ \d+) (\d+)/.exec(later);
      return n > step && w !== null && range.includes(Number(w[1]));
    });
    if (written) for (const b of range) out.add(b);
  }
  return out;
}

/**
 * What word `w` of block `b` can hold on the kernel when ext4 zeroed the block and marked it
 * written: zero, or a value the trace itself stored to that word of that block (the replayer
 * writes PATTERN | value, to every page of the block). Anything else (another block's data, stale
 * foreign contents such as 0xfeedfacecafebeef) is not this behaviour.
 */
function zeroOrStored(plan: ReplayPlan, b: number, w: number): Set<bigint> {
  const out = new Set<bigint>([0n]);
  for (const [, op] of plan.ops) {
    const m = /^store \d+ \d+ (\d+) (\d+) (\d+)$/.exec(op);
    if (m && Number(m[1]) === b && Number(m[2]) === w) out.add(PATTERN | BigInt(m[3]));
  }
  return out;
}

/** Every page of block `b` holds at word `w` a raw value the kernel behaviour can produce. */
function wordIsZeroOrStored(plan: ReplayPlan, obs: Observation, b: number, w: number): boolean {
  const allowed = zeroOrStored(plan, b, w);
  for (let k = 0; k < plan.pagesPerBlock; k++) {
    const raw = obs.words.get(b * plan.pagesPerBlock + k)?.[w];
    if (raw === undefined || !/^[0-9a-f]{16}$/.test(raw) || !allowed.has(BigInt(`0x${raw}`))) return false;
  }
  return true;
}

const CONVERTED = /^after recovery: block (\d+) is unwritten in the model, written on the kernel$/;
const WORD = /^after recovery: block (\d+) word (\d+) is 0 in the model, \S+ on the kernel$/;

/** Every known divergence, tried in order. */
export const KNOWN: KnownDivergence[] = [
  {
    id: 'ext4-zeroout',
    explanation:
      "ext4 converts a small unwritten extent whole: when a write (here a DAX write fault) lands in an unwritten extent no longer than s_extent_max_zeroout_kb (32 KiB by default), ext4_ext_convert_to_initialized zeroes the rest of the extent and marks all of it written in the same transaction, instead of splitting it (fs/ext4/extents.c). The model converts one block per fault, so after a crash it has a later block still unwritten where ext4 has it written, holding zeros or what the trace stored there. XFS converts only the faulted range, as the model does; with model blocks of 64 KiB (baseline/fallocate-trusting-64k) ext4 matches the model too.",
    explains(plan, fs, differences, obs) {
      if (fs !== 'ext4' || !differences.length) return false;
      const candidates = zeroedOutBlocks(plan);
      const converted = new Set<number>();
      for (const d of differences) {
        const m = CONVERTED.exec(d);
        if (m && candidates.has(Number(m[1]))) converted.add(Number(m[1]));
      }
      if (!converted.size) return false;
      // Every other difference must be a word of one of those blocks, where the model has 0 and
      // the kernel zero or the trace's own store to that word (data that survived there).
      return differences.every((d) => {
        const ext = CONVERTED.exec(d);
        if (ext) return converted.has(Number(ext[1]));
        const word = WORD.exec(d);
        return word !== null && converted.has(Number(word[1])) && wordIsZeroOrStored(plan, obs, Number(word[1]), Number(word[2]));
      });
    },
  },
];

/** The rule that explains every difference of a replay, if one does. */
export function knownDivergence(plan: ReplayPlan, fs: string, differences: string[], obs: Observation): KnownDivergence | null {
  return KNOWN.find((k) => k.explains(plan, fs, differences, obs)) ?? null;
}
