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
 *
 * Kernel modelled (audited against the sources, issue 13): Linux 4.15's DAX fault path on ext4
 * and XFS as a mapping without VM_SYNC takes it (the kernel the proposals start from; the
 * `map-sync-on-old-kernel` configuration is 4.14, which ignores MAP_SYNC). A write fault is
 * `ext4_dax_huge_fault` / `__xfs_filemap_fault` → `dax_iomap_fault` → `dax_iomap_pte_fault`:
 * `ext4_iomap_begin` / `xfs_file_iomap_begin` allocate or convert in the running transaction and
 * zero the new block, `dax_insert_mapping_entry` tags the entry dirty and `vm_insert_mixed_mkwrite`
 * installs a writable PTE; a read of a hole maps the zero page (`dax_load_hole`); a store to a
 * read-only PTE goes `do_wp_page` → `wp_pfn_shared` → `->pfn_mkwrite` (`ext4_dax_fault`,
 * `xfs_filemap_pfn_mkwrite`), the same fault with FAULT_FLAG_WRITE; without S_DAX `filemap_fault`
 * and `page_mkwrite`. fsync is `dax_writeback_mapping_range` plus the journal commit. The shared
 * model of these functions is models/faults.ts (`pageFault`, `pfnMkwrite`).
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
