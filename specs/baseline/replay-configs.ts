/**
 * Scenario configurations of the baseline spec for the native replay harness (harness/,
 * src/replay/). Ordinary configurations (checked, with expected verdicts in the manifest) that
 * also carry how a replay maps them onto a real file.
 *
 * fallocate-trusting-64k is fallocate-trusting with each model block replayed as 64 KiB. Replays
 * of fallocate-trusting found that ext4 converts a small unwritten extent (up to
 * s_extent_max_zeroout_kb, 32 KiB) whole at the first write into it, which the model does not
 * (src/replay/known.ts, ext4-zeroout). At 64 KiB per block the preallocated extent is 128 KiB,
 * ext4 splits it as the model does, and the replay must match on ext4 as on XFS: the control
 * experiment for that explanation.
 */
import type { DaxRunConfig } from '../common/spec.ts';
import { baselineConfigs } from './configs.ts';

/** Options the replay harness reads from a configuration (src/replay/program.ts ReplayOptions). */
type ReplayScenario = DaxRunConfig & { replay?: { pagesPerBlock?: number } };

const base = baselineConfigs.find((c) => c.name === 'fallocate-trusting')!;

export const baselineReplayConfigs: ReplayScenario[] = [
  {
    ...base,
    name: 'fallocate-trusting-64k',
    description: 'fallocate-trusting replayed with 64 KiB per model block: ext4 no longer converts the preallocated extent whole',
    default: false,
    replay: { pagesPerBlock: 16 },
  },
];
