/**
 * Run configurations of the no-sync spec. Expected verdicts and state counts: manifest.json.
 *
 * Two machines: the data side (the application of DOMAIN.md on a no-sync mapping, crashes
 * included: is the promise kept, what does a tree split do) and the deadlock side (write(2) to an
 * ordered-mode ext4 file from a no-sync DAX buffer, and kjournald2: no crash, only locks).
 */
import type { DaxRunConfig, RunConfig } from '../common/spec.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import type { NoSyncWrite } from './model.ts';
import type { Jbd2Start } from './locks.ts';
import { scaledUp } from '../common/scaled.ts';

/** A configuration of the data side. */
export interface NoSyncDataConfig extends DaxRunConfig {
  kind: 'data';
  /** How the fault makes the new block's metadata durable (model.ts). */
  write: NoSyncWrite;
  /** The application asks for a no-sync mapping; false: plain MAP_SHARED. */
  request: boolean;
}

/** A configuration of the deadlock side (locks.ts). */
export interface NoSyncDeadlockConfig extends RunConfig {
  kind: 'deadlock';
  /**
   * How write(2) gets the user's data into the locked page:
   *  - `fault-under-page-lock`: the copy may fault, with the page lock and the jbd2 handle of
   *    ext4_write_begin held (what Chinner's sentence assumes);
   *  - `prefault`: generic_perform_write faults the buffer in first (iov_iter_fault_in_readable)
   *    and copies with page faults disabled (iov_iter_copy_from_user_atomic), so no fault runs
   *    under the page lock or the handle.
   */
  copy: 'fault-under-page-lock' | 'prefault';
  /** The no-sync fault waits for the commit holding mmap_lock, or drops it first (VM_FAULT_RETRY). */
  faultSync: 'holding-mmap-lock' | 'retry';
  /** Where kjournald2 is when the write starts. */
  jbd2: Jbd2Start;
  /** T1, another thread of the same process, calls mmap(2) (mmap_lock for write). */
  mmapThread: boolean;
}

export type NoSyncConfig = NoSyncDataConfig | NoSyncDeadlockConfig;

const data = { kind: 'data', app: 'trusting', threads: 1, crashBudget: 1, dax: true, evict: true, request: true } as const;
const splitBlock0 = { ops: ['split' as const], blocks: [0] };
// A reflink (it invalidates the mappings; the next store to a block copies it on write) and one
// tree split, of block 0 or block 1.
const reflinkSplit = { ops: ['reflink' as const, 'split' as const], blocks: [0, 1] };

export const noSyncDataConfigs: NoSyncDataConfig[] = [
  {
    name: 'trusting',
    description: 'the PMEM-programming-model application on a no-sync mapping; each fault commits the journal before it returns',
    ...data,
    write: 'commit',
    default: true,
  },
  {
    name: 'not-requested',
    description: 'the same application maps the file with plain MAP_SHARED: nothing syncs, Chinner\'s counterexample again',
    ...data,
    write: 'commit',
    request: false,
    default: true,
  },
  {
    name: 'leaf',
    description: 'each no-sync fault writes only the inode and the extent-tree leaf of its block, in place (constant cost)',
    ...data,
    write: 'leaf',
    default: true,
  },
  {
    name: 'leaf-split',
    description: 'seed 004: an extent operation elsewhere splits the tree and moves block 0\'s record to the other leaf; the next fault\'s leaf write loses it',
    ...data,
    write: 'leaf',
    thirdParty: splitBlock0,
    default: true,
  },
  {
    name: 'leaf-reflink-split',
    description: 'a reflink, then a split moves block 1\'s record; the copy-on-write fault of block 0 writes leaf 0 and drops it: block 0\'s pointer dangles',
    ...data,
    write: 'leaf',
    thirdParty: reflinkSplit,
    default: true,
  },
  {
    name: 'leaf-split-resync',
    description: 'fixed: an extent operation that moves records of blocks mapped no-sync commits before it lets faults in again',
    ...data,
    write: 'leaf',
    thirdParty: { ...reflinkSplit, policy: { syncBeforeRelease: true } },
    default: true,
  },
  {
    name: 'leaf-split-fallback',
    description: 'fixed: the fault writes the leaf, but falls back to a full commit when the tree has changed shape since the last commit',
    ...data,
    write: 'leaf-or-commit',
    thirdParty: reflinkSplit,
    default: true,
  },
  {
    name: 'commit-split',
    description: 'a full commit in each fault is immune to reflinks and splits: it writes every leaf that changed at once',
    ...data,
    write: 'commit',
    thirdParty: reflinkSplit,
    default: true,
  },
  {
    name: 'punch',
    description: 'another process punches a hole in block 1: Piggin\'s policy invalidates the no-sync mappings first, and the next store faults, allocates and syncs again (the punch deletes the record itself, so a pointer to it dangles by design)',
    ...data,
    write: 'commit',
    thirdParty: { ops: ['punch'], blocks: [1] },
    // The punch deletes the record's block: its pointer dangles whatever the proposal does.
    byDesign: {
      'pointer-after-alloc': 'the punch deletes block 1, the record the header points to: the pointer dangles by design, not by a missing sync',
      'belief-survives': 'the punch deletes the record the application believed durable: another process destroyed it, as it may',
    },
    default: true,
  },
  {
    name: 'punch-no-invalidate',
    description: 'the hole punch frees block 1 without invalidating the no-sync mapping: a writable page-table entry outlives the block it maps',
    ...data,
    write: 'commit',
    thirdParty: { ops: ['punch'], blocks: [1], policy: { invalidate: false } },
    default: true,
  },
];

// Work inside one page fault against N unrelated dirty objects (models/measures.ts): the
// full-commit fault, as ext4 or XFS would implement it.
noSyncDataConfigs.push(...faultCostConfigs(noSyncDataConfigs[0], 'commit').map((c) => ({ ...noSyncDataConfigs[0], ...c })));
// The one-leaf write: its cost does not grow with N (a series of its own in the reports).
noSyncDataConfigs.push(...faultCostConfigs(noSyncDataConfigs[2], 'leaf').map((c) => ({ ...noSyncDataConfigs[2], ...c })));

const deadlock = { kind: 'deadlock', faultSync: 'holding-mmap-lock', mmapThread: true } as const;

export const noSyncDeadlockConfigs: NoSyncDeadlockConfig[] = [
  {
    name: 'write-fault',
    description: 'Chinner\'s deadlock: write(2) to an ordered-mode ext4 file faults on a no-sync DAX buffer under the page lock while jbd2 commits that page\'s ordered data',
    ...deadlock,
    copy: 'fault-under-page-lock',
    jbd2: 'committing',
    default: true,
  },
  {
    name: 'write-fault-handle',
    description: 'the same write with jbd2 idle: the fault\'s commit also waits for the jbd2 handle ext4_write_begin holds',
    ...deadlock,
    copy: 'fault-under-page-lock',
    jbd2: 'idle',
    default: true,
  },
  {
    name: 'write-fault-retry',
    description: 'Piggin\'s answer: the fault drops mmap_lock and syncs outside it (VM_FAULT_RETRY); the page lock is still held',
    ...deadlock,
    copy: 'fault-under-page-lock',
    faultSync: 'retry',
    jbd2: 'committing',
    default: true,
  },
  {
    name: 'prefault',
    description: 'fixed: generic_perform_write faults the buffer in before ext4_write_begin and copies with page faults disabled',
    ...deadlock,
    copy: 'prefault',
    jbd2: 'committing',
    default: true,
  },
  {
    name: 'prefault-idle',
    description: 'the prefaulting write with jbd2 idle',
    ...deadlock,
    copy: 'prefault',
    jbd2: 'idle',
    default: true,
  },
];

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
noSyncDataConfigs.push(scaledUp(noSyncDataConfigs, 'trusting', 'three threads append records on no-sync mappings whose faults commit, on four blocks, through two power failures'));

export const noSyncConfigs: NoSyncConfig[] = [...noSyncDataConfigs, ...noSyncDeadlockConfigs];
