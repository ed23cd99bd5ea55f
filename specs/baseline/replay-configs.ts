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
import { DATA, HDR, PTR } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { baselineConfigs } from './configs.ts';

/**
 * The second-file scenarios (issue 13, point 1): the trusting application stores its record and
 * pointer in f through a MAP_SHARED mapping and flushes them from userspace, then writes a log
 * entry to another file g and syncs g, and trusts its record from then on. Whether g's sync commits
 * the running transaction, and with it f's allocation and i_size, follows from g's own dirty
 * metadata: an allocating append makes it commit; a clean g, or an overwrite (timestamps only)
 * synced with fdatasync, commits nothing. g exists before the run with one written block.
 */
function otherFileApp(name: string, g: Step[]): DaxRunConfig['app'] {
  return {
    name,
    program: (t: number): Step[] => [
      { name: 'open', op: 'open' },
      { name: 'ftruncate', op: 'ftruncate', blocks: 2 },
      { name: 'mmap', op: 'mmap', flags: 'shared' },
      { name: 'storeHeader', op: 'store', b: 0, w: 0, value: HDR },
      { name: 'flushHeader', op: 'flush', b: 0 },
      { name: 'storeData', op: 'store', b: 1, w: 0, value: DATA(t) },
      { name: 'flushData', op: 'flush', b: 1 },
      { name: 'storePointer', op: 'store', b: 0, w: 1, value: PTR(1) },
      { name: 'flushPointer', op: 'flush', b: 0 },
      ...g,
    ],
  };
}

const otherFile = { threads: 1, crashBudget: 1, dax: true, evict: true, default: false } as const;

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
  {
    name: 'other-file-fsync',
    description: "a store in f, then an allocating write(2) to another file g and fsync(g): the commit g needs carries f's allocation",
    app: otherFileApp('other-file-fsync', [
      { name: 'openG', op: 'openG', append: true },
      { name: 'appendG', op: 'write', file: 'g', call: 'write', b: 1, value: DATA(0) },
      { name: 'fsyncG', op: 'syncG', call: 'fsync', believe: true },
    ]),
    ...otherFile,
  },
  {
    name: 'other-file-clean',
    description: "a store in f, then fsync of another file g that has no dirty metadata: it commits nothing, f's allocation stays in the running transaction",
    app: otherFileApp('other-file-clean', [
      { name: 'openG', op: 'openG' },
      { name: 'fsyncG', op: 'syncG', call: 'fsync', believe: true },
    ]),
    ...otherFile,
  },
  {
    name: 'other-file-fdatasync',
    description: "a store in f, then an overwrite of another file g and fdatasync(g): g's only change is its timestamps, which fdatasync skips; nothing is committed",
    app: otherFileApp('other-file-fdatasync', [
      { name: 'openG', op: 'openG' },
      { name: 'overwriteG', op: 'write', file: 'g', call: 'pwrite', b: 0, value: DATA(0) },
      { name: 'fdatasyncG', op: 'syncG', call: 'fdatasync', believe: true },
    ]),
    ...otherFile,
  },
  {
    name: 'other-file-overwrite-fsync',
    description: "the control for other-file-fdatasync: the same overwrite of g synced with fsync, which commits g's timestamps and f's allocation with them",
    app: otherFileApp('other-file-overwrite-fsync', [
      { name: 'openG', op: 'openG' },
      { name: 'overwriteG', op: 'write', file: 'g', call: 'pwrite', b: 0, value: DATA(0) },
      { name: 'fsyncG', op: 'syncG', call: 'fsync', believe: true },
    ]),
    ...otherFile,
  },
];
