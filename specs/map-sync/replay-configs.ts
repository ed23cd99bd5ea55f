/**
 * Scenario configurations of the MAP_SYNC spec for the native replay harness (harness/,
 * src/replay/). They are ordinary configurations (the explorer checks them, the manifest holds
 * their expected verdicts) that also carry how a replay maps them onto a real file.
 *
 * generic-470 follows xfstests generic/470: map a file with MAP_SHARED_VALIDATE|MAP_SYNC, write
 * 1 MiB through the mapping, and lose power before munmap; after recovery the file has 1 MiB
 * allocated. The model writes every block of a 4-block file (header last, so the shortest
 * witness of "the pointer and its data both survive a crash" is the whole write with the crash
 * right before munmap); the replay makes each model block 64 pages, so the kernel sees 1 MiB of
 * write faults.
 *
 * sync-fault-then-write (issue 13, point 1): a MAP_SYNC fault, then a write(2) that extends the
 * file, then a pointer to the written block stored through the mapping, flushed and trusted. The
 * fault's metadata is committed before it returns; the write's allocation and i_size are only in
 * the running transaction, and the pointer's store needs no fault (block 0 is already writable),
 * so nothing syncs them: MAP_SYNC covers the mapping's faults, not write(2).
 */
import { DATA, HDR, PTR } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import type { DaxRunConfig } from '../common/spec.ts';

/** Options the replay harness reads from a configuration (src/replay/program.ts ReplayOptions). */
type ReplayScenario = DaxRunConfig & { replay?: { pagesPerBlock?: number } };

const GENERIC_470_BLOCKS = 4;

export const mapSyncReplayConfigs: ReplayScenario[] = [
  {
    name: 'sync-fault-then-write',
    description: 'a MAP_SYNC fault, then write(2) appends the record block, then the pointer is stored through the mapping and flushed: the append is not synced',
    app: {
      name: 'sync-fault-then-write',
      program: (t: number, _blocks: number, flags): Step[] => [
        { name: 'open', op: 'open', append: true },
        { name: 'ftruncate', op: 'ftruncate', blocks: 1 },
        { name: 'mmap', op: 'mmap', flags },
        { name: 'storeHeader', op: 'store', b: 0, w: 0, value: HDR },
        { name: 'flushHeader', op: 'flush', b: 0 },
        { name: 'appendData', op: 'write', file: 'f', call: 'write', b: 1, value: DATA(t) },
        { name: 'storePointer', op: 'store', b: 0, w: 1, value: PTR(1) },
        { name: 'flushPointer', op: 'flush', b: 0, believe: true },
      ],
    },
    threads: 1,
    crashBudget: 1,
    dax: true,
    evict: true,
    default: false,
  },
  {
    name: 'generic-470',
    description: 'xfstests generic/470 scaled: write every block of a MAP_SYNC mapping, lose power before munmap; replayed as 1 MiB',
    app: {
      name: 'generic-470',
      program: (t: number, blocks: number, flags): Step[] => [
        { name: 'open', op: 'open' },
        { name: 'ftruncate', op: 'ftruncate', blocks },
        { name: 'mmap', op: 'mmap', flags },
        ...[...Array(blocks - 1).keys()].map((i): Step => ({ name: `write${i + 1}`, op: 'store', b: i + 1, w: 0, value: DATA(t) })),
        { name: 'writeHeader', op: 'store', b: 0, w: 0, value: HDR },
        { name: 'writePointer', op: 'store', b: 0, w: 1, value: PTR(1) },
        { name: 'munmap', op: 'munmap' },
      ],
    },
    blocks: GENERIC_470_BLOCKS,
    threads: 1,
    crashBudget: 1,
    dax: true,
    evict: true,
    default: false,
    replay: { pagesPerBlock: 64 },
  },
];
