/**
 * Kernel behaviour the model leaves out, found by replaying traces, written down as precise rules
 * so that a replay showing exactly that behaviour is reported as "known" (with the explanation)
 * rather than as an unexplained mismatch. A rule must account for every difference of a replay;
 * any difference it does not explain leaves the replay a mismatch.
 */
import type { Observation } from './compare.ts';
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

/** File blocks (model numbering) that a small mode-0 fallocate of the trace covers. */
function smallFallocatedBlocks(plan: ReplayPlan): Set<number> {
  const out = new Set<number>();
  const blockBytes = plan.pagesPerBlock * BLOCK_BYTES;
  for (const op of plan.ops.values()) {
    const m = /^fallocate \d+ 0 (\d+) (\d+)$/.exec(op);
    if (!m || Number(m[2]) > EXT4_MAX_ZEROOUT_BYTES) continue;
    for (let off = Number(m[1]); off < Number(m[1]) + Number(m[2]); off += blockBytes) out.add(off / blockBytes);
  }
  return out;
}

/** Every known divergence, tried in order. */
export const KNOWN: KnownDivergence[] = [
  {
    id: 'ext4-zeroout',
    explanation:
      "ext4 converts a small unwritten extent whole: when a write (here a DAX write fault) lands in an unwritten extent no longer than s_extent_max_zeroout_kb (32 KiB by default), ext4_ext_convert_to_initialized zeroes the rest of the extent and marks all of it written in the same transaction, instead of splitting it (fs/ext4/extents.c). The model converts one block per fault, so after a crash it has a later block still unwritten where ext4 has it written. XFS converts only the faulted range, as the model does; with model blocks of 64 KiB (baseline/fallocate-trusting-64k) ext4 matches the model too.",
    explains(plan, fs, differences) {
      if (fs !== 'ext4' || !differences.length) return false;
      const blocks = smallFallocatedBlocks(plan);
      if (!blocks.size) return false;
      const converted = new Set<number>();
      for (const d of differences) {
        const m = /^after recovery: block (\d+) is unwritten in the model, written on the kernel$/.exec(d);
        if (m && blocks.has(Number(m[1]))) converted.add(Number(m[1]));
      }
      if (!converted.size) return false;
      // Every other difference must be a word of one of those blocks (data that survived there).
      return differences.every((d) => {
        const ext = /^after recovery: block (\d+) is unwritten in the model, written on the kernel$/.exec(d);
        if (ext) return converted.has(Number(ext[1]));
        const word = /^after recovery: block (\d+) word \d+ is 0 in the model, \S+ on the kernel$/.exec(d);
        return word !== null && converted.has(Number(word[1]));
      });
    },
  },
];

/** The rule that explains every difference of a replay, if one does. */
export function knownDivergence(plan: ReplayPlan, fs: string, differences: string[], obs: Observation): KnownDivergence | null {
  return KNOWN.find((k) => k.explains(plan, fs, differences, obs)) ?? null;
}
