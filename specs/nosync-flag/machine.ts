/**
 * Per-block "no fsync" flag / "no sync" mmap.
 *
 * Source: seed 002 (linux-nvdimm, September 2016), Nick Piggin: "An approach close to what I did is
 * to allow the app request a 'no sync' type of mmap. Filesystem will invalidate all such mappings
 * before it does buffered IOs or hole punch, and will sync metadata after allocating a new block
 * but before returning from a fault." Christoph Hellwig, quoted by Dave Chinner: "You could write
 * all metadata synchronously from the page fault handler, but that's basically asking for all
 * kinds of deadlocks." Chinner: it "puts the entire journal checkpoint path under a page fault
 * context", and the ext4 example: ordered-mode commit takes page locks
 * (jbd2_journal_commit_transaction → journal_submit_data_buffers → … → lock_page), so a write()
 * whose user buffer is a no-sync DAX mapping "needs to be allocated" deadlocks "on the page lock
 * held above the page fault context". Seed 004, Chinner: "an extent operation in some other area of
 * the file can cause a tip-to-root extent tree split or merge, and that moves the metadata that
 * points to the mapped block that we've told userspace 'doesn't need fsync'".
 *
 * Promise: when a write fault on a no-sync mapping returns, the metadata behind the block is
 * durable, so userspace flushes alone make the data durable; third parties invalidate such
 * mappings first.
 *
 * Two machines (configs.ts): the data side (data.ts, the shared model and the application of
 * DOMAIN.md; choices of how the fault syncs, and seed 004's split) and the deadlock side
 * (deadlock.ts, locks.ts: write(2), kjournald2 and mmap(2) as threads of locks).
 *
 * Kernel modelled (audited, issue 13): never merged (Nick Piggin's 2016 suggestion). The data
 * side runs on the shared fault path (Linux 4.15's `dax_iomap_fault`, models/faults.ts) with the
 * proposal's sync after allocation; the deadlock side follows ext4 ordered mode of the same era:
 * `generic_perform_write` (`iov_iter_fault_in_readable` before `ext4_write_begin` takes the page
 * lock), jbd2's `journal_submit_data_buffers` → `lock_page`, and the fault under mmap_sem.
 */
import type { ByteContext } from '../../checker/xstate/mutator.ts';
import type { BuiltSpec, Spec } from '../common/spec.ts';
import { noSyncConfigs, type NoSyncConfig } from './configs.ts';
import { buildData } from './data.ts';
import { buildDeadlock } from './deadlock.ts';

export const SPEC_NAME = 'nosync-flag';

export const noSyncFlag: Spec<NoSyncConfig, ByteContext> = {
  name: SPEC_NAME,
  title: 'Per-block "no fsync" flag / no-sync mmap',
  sources: ['002', '004'],
  promise:
    'When a write fault on a no-sync mapping returns, the metadata behind the block is durable (synced after allocating, before the fault returns), so userspace flushes make the data durable; buffered IO and hole punch invalidate such mappings first.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, on a no-sync mapping (ADR/eADR persistent memory)',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes (no-sync mappings invalidated first); any extent-tree change must also sync before faults resume (seed 004)',
    'background maintenance (defrag, scrub, EOF scan)': 'yes, with a synchronous commit whenever it moves the record of a block mapped no-sync',
    'works on files without DAX': 'not described in the thread',
    'extra cost in a page fault': 'a journal commit (unrelated work too), or a constant per-block leaf write that a tree split breaks',
    'synchronous metadata updates in page-fault context': 'yes: deadlocks with an ordered-mode commit if a fault can run under a page lock or a journal handle',
  },
  configs: noSyncConfigs,
  build: (config) => (config.kind === 'data' ? buildData(config) : buildDeadlock(config)) as unknown as BuiltSpec<ByteContext>,
};
