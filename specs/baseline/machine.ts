/**
 * Baseline: DAX mmap, durable only after fsync / fdatasync / msync(MS_SYNC).
 *
 * Sources: seed 002 (linux-nvdimm, September 2016) and seed 003 (linux-fsdevel, October 2018).
 * This is the kernel the proposals start from. A write fault on a DAX mapping allocates the block
 * in the running journal transaction and maps persistent memory directly; nothing commits that
 * transaction until fsync, a background commit, or some other sync. Dave Chinner's counterexample
 * (seed 002, 2016-09-14) is an application that flushes its cache lines from userspace and never
 * asks the filesystem: "the application has corrupt data because it never issued a data
 * synchronisation request to the filesystem".
 *
 * Promise: after fsync (or fdatasync, or msync MS_SYNC) returns, every store made before it is
 * durable. Userspace cache flushes alone promise nothing about the metadata that maps the data.
 */
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { DaxRunConfig, Spec } from '../common/spec.ts';
import type { DaxContext } from '../../models/layout.ts';
import { baselineConfigs } from './configs.ts';
import { baselineReplayConfigs } from './replay-configs.ts';

export const baseline: DaxSpec<DaxRunConfig> = daxSpec({
  name: 'baseline',
  title: 'Baseline: DAX mmap, durability by fsync/msync',
  sources: ['002', '003'],
  promise: 'Data stored through a DAX mapping is durable once fsync, fdatasync or msync(MS_SYNC) returns; a userspace flush alone does not make the block it lives in part of the file.',
  capabilities: {
    'no fsync needed after userspace flushes': 'no',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes',
    'background maintenance (defrag, scrub, EOF scan)': 'yes',
    'works on files without DAX': 'yes (page cache)',
    'extra cost in a page fault': 'none',
  },
  configs: [...baselineConfigs, ...baselineReplayConfigs],
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: 'shared',
    // Threads running the same program are interchangeable (check --symmetry).
    symmetry: {},
    // Today's filesystems: invalidate the DAX mappings of what changes, hold off faults meanwhile.
    thirdPartyPolicy: { invalidate: true, holdOffFaults: true, syncBeforeRelease: false },
    faultPath: {
      // Kernels before 4.15 have no MAP_SYNC.
      mapSync: false,
      // dax_iomap_fault: allocate in the running transaction, install the PTE, return.
      writeFault: (at) => [{ type: 'dax_iomap_fault', params: { ...at, write: true } }],
    },
  }),
});
