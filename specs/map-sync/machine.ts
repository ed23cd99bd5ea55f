/**
 * MAP_SYNC: mmap(MAP_SHARED_VALIDATE | MAP_SYNC).
 *
 * Sources: seed 000 (linux-api, June 2017) and seed 003 (linux-fsdevel, October 2018). Dave
 * Chinner: "The MAP_SYNC proposal is effectively 'run the metadata side of fdatasync() on every
 * page fault'". A write fault on a VM_SYNC mapping whose inode has uncommitted metadata commits it
 * (dax_finish_sync_fault) before the page-table entry becomes writable, so once the store retires
 * the block is durably part of the file and a userspace flush makes the data durable. Where that
 * cannot be honoured (a file without DAX), mmap fails with EOPNOTSUPP. MAP_SHARED_VALIDATE was
 * meant to make the kernel refuse rather than ignore the flag; Linux honours MAP_SHARED|MAP_SYNC
 * too (configuration `unvalidated`, measured by the replay harness), and only a kernel older
 * than MAP_SYNC drops it (baseline's `map-sync-on-old-kernel`).
 *
 * Promise: when a write fault on a MAP_SYNC mapping returns, the metadata behind the block is
 * durable; a userspace flush then makes the data durable without fsync.
 *
 * Kernel modelled (audited, issue 13): Linux 4.15, where MAP_SYNC landed. `ext4_file_mmap` /
 * `xfs_file_mmap` refuse VM_SYNC without S_DAX (EOPNOTSUPP; `daxdev_mapping_supported`, 5.3, also
 * on virtio-pmem); a write fault is `ext4_dax_huge_fault` / `__xfs_filemap_fault` →
 * `dax_iomap_fault` → `dax_iomap_pte_fault`, which returns VM_FAULT_NEEDDSYNC when the iomap is
 * IOMAP_F_DIRTY on a VM_SYNC vma, and the filesystem then calls `dax_finish_sync_fault` (the
 * metadata half of fdatasync) before the PTE is installed writable. `->pfn_mkwrite` is the same
 * handler (`ext4_dax_fault`, `xfs_filemap_pfn_mkwrite`), so a store to a read-only PTE syncs too.
 * Shared model: models/faults.ts (`pageFault`, `pfnMkwrite`, `finishSyncFault`).
 */
import type { DaxProperty } from '../../models/invariants.ts';
import type { Layout } from '../../models/layout.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { DaxRunConfig, Spec } from '../common/spec.ts';
import type { DaxContext } from '../../models/layout.ts';
import { mapSyncConfigs } from './configs.ts';
import { mapSyncReplayConfigs } from './replay-configs.ts';

export const MAP_SYNC_NAMES = {
  committed: 'every writable page of a MAP_SYNC mapping is backed by committed metadata',
  daxOnly: 'MAP_SYNC is granted only on a DAX file',
  refused: 'mmap(MAP_SYNC) where it cannot be honoured fails with EOPNOTSUPP and the application falls back to fsync',
} as const;

function mapSyncProperties(L: Layout, config: DaxRunConfig): DaxProperty[] {
  const s = L.view();
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'sync-pages-committed',
      name: MAP_SYNC_NAMES.committed,
      holds: (v) => {
        if (!v.matches('running')) return true;
        s.at(v.context);
        for (let m = 0; m < L.M; m++) {
          if (s.vma(m) !== 'MAP_SYNC') continue;
          for (let b = 0; b < L.B; b++) if (s.pte(m, b) === 'writable' && !s.block(b).committed) return false;
        }
        return true;
      },
    },
    {
      kind: 'always',
      id: 'sync-only-on-dax',
      name: MAP_SYNC_NAMES.daxOnly,
      holds: (v) => {
        s.at(v.context);
        for (let m = 0; m < L.M; m++) if (s.vma(m) === 'MAP_SYNC' && !s.sdax()) return false;
        return true;
      },
    },
  ];
  // Where MAP_SYNC is refused, the application's fallback is the witness (only programs that ask
  // for MAP_SYNC have one).
  const asksMapSync = (config.mmapFlags ?? 'shared_validate_sync') !== 'shared';
  if (asksMapSync && (!config.dax || config.platform === 'virtio-pmem')) {
    props.push({
      kind: 'sometimes',
      id: 'sync-refused-falls-back',
      name: MAP_SYNC_NAMES.refused,
      // The model's mmap returned EOPNOTSUPP, left no mapping, and the application went on (in
      // any thread: the property does not tell threads apart, so they stay interchangeable).
      reached: (v) => {
        s.at(v.context);
        for (let t = 0; t < L.T; t++) if (v.matches(`running.T${t}.fallback_mmap`) && s.errno(t) === 'EOPNOTSUPP' && s.vma(t) === 'none') return true;
        return false;
      },
    });
  }
  return props;
}

export const mapSync: DaxSpec<DaxRunConfig> = daxSpec({
  name: 'map-sync',
  title: 'MAP_SYNC (MAP_SHARED_VALIDATE|MAP_SYNC)',
  sources: ['000', '003'],
  promise: 'When a write fault on a MAP_SYNC mapping returns, the metadata behind the block is durable, so a userspace flush makes the data durable; mmap fails with EOPNOTSUPP where this cannot be honoured.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, on ADR/eADR persistent memory',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes (mappings invalidated, faults sync again)',
    'background maintenance (defrag, scrub, EOF scan)': 'yes',
    'works on files without DAX': 'no: EOPNOTSUPP, the application must fall back',
    'extra cost in a page fault': 'a journal commit when the inode has dirty metadata',
  },
  configs: [...mapSyncConfigs, ...mapSyncReplayConfigs],
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: 'shared_validate_sync',
    // Threads running the same program are interchangeable (check --symmetry).
    symmetry: {},
    // Today's filesystems: invalidate the DAX mappings of what changes, hold off faults meanwhile.
    thirdPartyPolicy: { invalidate: true, holdOffFaults: true, syncBeforeRelease: false },
    faultPath: {
      mapSync: true,
      // dax_iomap_fault allocates in the running transaction, then dax_finish_sync_fault commits
      // it (vfs_fsync_range on the faulting range) before the PTE is made writable.
      writeFault: (at) => [
        { type: 'dax_iomap_fault', params: { ...at, write: true } },
        { type: 'dax_finish_sync_fault', params: at },
      ],
      // The first write to a read-only entry is synchronous too.
      pfnMkwrite: (at) => [
        { type: 'dax_pfn_mkwrite', params: at },
        { type: 'dax_finish_sync_fault', params: at },
      ],
    },
    properties: (L) => mapSyncProperties(L, config),
  }),
});

