/**
 * Run configurations of the baseline spec. Expected verdicts and state counts: specs/manifest.json.
 */
import type { DaxRunConfig } from '../common/spec.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import { scaledUp } from '../common/scaled.ts';
import { px86Configs } from '../common/px86.ts';

const common = { threads: 1, crashBudget: 1, dax: true, evict: true } as const;

export const baselineConfigs: DaxRunConfig[] = [
  {
    name: 'trusting',
    description: 'the PMEM-programming-model application flushes from userspace and never calls fsync: Chinner\'s counterexample',
    app: 'trusting',
    ...common,
    default: true,
  },
  {
    name: 'fsync',
    description: 'the application fsyncs its data before publishing the pointer, and again before relying on it',
    app: 'fsync',
    ...common,
    default: true,
  },
  {
    name: 'fallocate-trusting',
    description: 'the trusting application preallocates with fallocate first: unwritten extents still need a metadata commit when first written (Chinner\'s rule 1)',
    app: 'trusting',
    appOptions: { prealloc: true },
    ...common,
    default: true,
  },
  {
    name: 'trusting-eadr',
    description: 'eADR: even with CPU caches in the persistence domain the trusting application loses its block: the metadata is the problem',
    app: 'trusting',
    ...common,
    platform: 'eadr',
    default: false,
  },
  {
    name: 'map-sync-on-old-kernel',
    description: 'the trusting application passes MAP_SHARED|MAP_SYNC to a kernel that predates MAP_SYNC: the flag is silently dropped, which is why MAP_SHARED_VALIDATE exists',
    app: 'trusting',
    ...common,
    mmapFlags: 'shared_sync_unvalidated',
    default: false,
  },
  {
    name: 'msync',
    description: 'the careful application syncs with msync(MS_SYNC) instead of fsync, and unmaps when done',
    app: 'fsync',
    appOptions: { sync: 'msync', munmap: true },
    ...common,
    default: false,
  },
  {
    name: 'fdatasync',
    description: 'the careful application syncs with fdatasync',
    app: 'fsync',
    appOptions: { sync: 'fdatasync' },
    ...common,
    default: false,
  },
  {
    name: 'third-party',
    description: 'while the fsync application runs, a third party reflinks, dedupes, defragments, scrubs and snapshots the file, and splits its extent tree',
    app: 'fsync',
    ...common,
    thirdParty: { ops: ['reflink', 'dedupe', 'defrag', 'scrub', 'snapshot', 'split'], blocks: [1] },
    default: true,
  },
  {
    name: 'defrag-no-invalidate',
    description: 'defrag moves a mapped block without unmap_mapping_range: the application keeps storing into the old block',
    app: 'fsync',
    ...common,
    thirdParty: { ops: ['defrag'], blocks: [1], policy: { invalidate: false } },
    default: true,
  },
  {
    name: 'defrag-no-lock',
    description: 'defrag invalidates the mapping but does not hold off page faults while it moves the block',
    app: 'fsync',
    ...common,
    thirdParty: { ops: ['defrag'], blocks: [1], policy: { holdOffFaults: false } },
    default: true,
  },
  {
    name: 'zeroing-not-flushed',
    description: 'a filesystem that zeroes a new block with ordinary stores and does not flush them before the allocation can commit: a crash exposes the block\'s old contents',
    app: 'fsync',
    ...common,
    zeroing: 'cached',
    default: true,
  },
  {
    name: 'trusting-2threads',
    description: 'two threads append records concurrently, each trusting its userspace flushes',
    app: 'trusting',
    ...common,
    threads: 2,
    default: false,
  },
  {
    name: 'fsync-2threads',
    description: 'two threads append records concurrently, each with fsync',
    app: 'fsync',
    ...common,
    threads: 2,
    default: false,
  },
  {
    name: 'fsync-2crashes',
    description: 'the fsync application restarts after a power failure and runs again, up to two power failures',
    app: 'fsync',
    ...common,
    crashBudget: 2,
    default: false,
  },
];

// Work inside one page fault against N unrelated dirty objects (models/measures.ts).
baselineConfigs.push(...faultCostConfigs(baselineConfigs[0]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
baselineConfigs.push(scaledUp(baselineConfigs, 'fsync', 'three threads append records with fsync, on four blocks, through two power failures (the application restarts after the first)'));
baselineConfigs.push(scaledUp(baselineConfigs, 'trusting', 'three threads append records trusting their userspace flushes, on four blocks, through two power failures'));

// x86 persistency (specs/common/px86.ts): the trusting application's flushes as Px86 instructions.
baselineConfigs.push(...px86Configs(baselineConfigs, 'trusting'));
