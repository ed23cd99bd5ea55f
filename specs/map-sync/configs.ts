/**
 * Run configurations of the MAP_SYNC spec. Expected verdicts and state counts: specs/manifest.json.
 */
import type { DaxRunConfig } from '../common/spec.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import { scaledUp } from '../common/scaled.ts';
import { px86Configs } from '../common/px86.ts';

const common = { threads: 1, crashBudget: 1, dax: true, evict: true } as const;

export const mapSyncConfigs: DaxRunConfig[] = [
  {
    name: 'trusting',
    description: 'the PMEM-programming-model application on a MAP_SYNC mapping: userspace flushes suffice',
    app: 'trusting',
    ...common,
    default: true,
  },
  {
    name: 'non-dax',
    description: 'the file has no DAX: mmap(MAP_SYNC) fails with EOPNOTSUPP and the application falls back to MAP_SHARED and fsync',
    app: 'trusting',
    ...common,
    dax: false,
    default: true,
  },
  {
    name: 'unvalidated',
    description: "the application passes MAP_SHARED|MAP_SYNC without MAP_SHARED_VALIDATE: the kernel's comment says such flags are ignored, but do_mmap takes VM_SYNC from the caller's flags first, so the mapping is synchronous (the replay harness measured it on 6.1)",
    app: 'trusting',
    ...common,
    mmapFlags: 'shared_sync_unvalidated',
    default: true,
  },
  {
    name: 'unvalidated-non-dax',
    description: 'MAP_SHARED|MAP_SYNC on a file without DAX fails with EOPNOTSUPP, as with MAP_SHARED_VALIDATE (measured on 6.1 and 6.18), and the application falls back to MAP_SHARED and fsync',
    app: 'trusting',
    ...common,
    dax: false,
    mmapFlags: 'shared_sync_unvalidated',
    default: true,
  },
  {
    name: 'third-party',
    description: 'while the trusting application runs on MAP_SYNC, a third party reflinks, dedupes, defragments, scrubs and snapshots the file: the next fault syncs again',
    app: 'trusting',
    ...common,
    thirdParty: { ops: ['reflink', 'dedupe', 'defrag', 'scrub', 'snapshot', 'split'], blocks: [1] },
    default: true,
  },
  {
    name: 'dedupe-no-writeback',
    description: 'dedupe remaps a block without first writing back its dirty cache lines: the application flushes the new block while its data sits in the old one',
    app: 'trusting',
    ...common,
    thirdParty: { ops: ['dedupe'], blocks: [1], policy: { writeBack: false } },
    default: false,
  },
  {
    name: 'virtual-nvdimm',
    description: 'an emulated NVDIMM backed by a host file: MAP_SYNC is granted, but a userspace flush reaches only the host page cache',
    app: 'trusting',
    ...common,
    platform: 'virtual-nvdimm',
    default: true,
  },
  {
    name: 'virtio-pmem',
    description: 'virtio-pmem has an asynchronous flush: mmap(MAP_SYNC) fails with EOPNOTSUPP and the application falls back to fsync',
    app: 'trusting',
    ...common,
    platform: 'virtio-pmem',
    default: false,
  },
  {
    name: 'trusting-eadr',
    description: 'eADR: CPU caches are in the persistence domain, stores are durable once visible',
    app: 'trusting',
    ...common,
    platform: 'eadr',
    default: false,
  },
  {
    name: 'fallocate-trusting',
    description: 'the trusting application preallocates with fallocate: MAP_SYNC commits the unwritten-extent conversion at fault time',
    app: 'trusting',
    appOptions: { prealloc: true, munmap: true },
    ...common,
    default: false,
  },
  {
    name: 'fsync',
    description: 'the fsync application on a MAP_SYNC mapping (belt and braces)',
    app: 'fsync',
    ...common,
    default: false,
  },
  {
    name: 'trusting-2threads',
    description: 'two threads append records concurrently on MAP_SYNC mappings, trusting userspace flushes',
    app: 'trusting',
    ...common,
    threads: 2,
    default: false,
  },
];

// Work inside one page fault against N unrelated dirty objects (models/measures.ts).
mapSyncConfigs.push(...faultCostConfigs(mapSyncConfigs[0]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
mapSyncConfigs.push(scaledUp(mapSyncConfigs, 'trusting', 'three threads append records through MAP_SYNC mappings, trusting their flushes, on four blocks, through two power failures'));

// x86 persistency (specs/common/px86.ts): the trusting application's flushes as Px86 instructions.
mapSyncConfigs.push(...px86Configs(mapSyncConfigs, 'trusting'));
// Two threads: a fence orders only its own thread's flushes; they share the header line.
mapSyncConfigs.push(
  ...px86Configs(mapSyncConfigs, 'trusting-2threads')
    .filter((c) => c.name === 'px86-clwb' || c.name === 'px86-no-fence')
    .map((c) => ({ ...c, name: `${c.name}-2threads` })),
);
