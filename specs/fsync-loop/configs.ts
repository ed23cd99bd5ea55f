/**
 * Run configurations of the fsync-loop spec: the application of DOMAIN.md (thread T0, trusting)
 * beside a thread that calls fsync forever, with one unrelated dirty metadata object that other
 * inodes put back into the running transaction after every commit. No power failure: liveness is
 * about runs that go on. Expected verdicts and state counts: manifest.json next to this file.
 */
import type { DaxRunConfig } from '../common/spec.ts';

export interface FsyncLoopConfig extends DaxRunConfig {
  /**
   * What the syncer's fsync waits for after its writeback: the commit of the transaction that was
   * running when it asked (`tid`, ext4's jbd2_complete_transaction), or a journal with no running
   * transaction at all (`idle`).
   */
  wait: 'tid' | 'idle';
  /** The writeback write-protects every entry it flushes (4.10: dax_entry_mkclean), so the next store faults. */
  wrprotect: boolean;
}

const common = { app: 'trusting', threads: 1, crashBudget: 0, dax: true, evict: false, unrelated: 1, default: true } as const;

export const fsyncLoopConfigs: FsyncLoopConfig[] = [
  {
    name: 'tid-wait',
    description: 'fsync waits for the commit of its own transaction and leaves mappings writable: every fsync returns and every store completes, however the threads and the journal interleave',
    ...common,
    wait: 'tid',
    wrprotect: false,
  },
  {
    name: 'idle-wait',
    description: 'fsync waits until the journal has no running transaction: other inodes refill it after every commit and the fsync never returns (a fair livelock: the syncer is enabled only between a commit and the next refill)',
    ...common,
    wait: 'idle',
    wrprotect: false,
  },
  {
    name: 'wrprotect',
    description: 'fsync waits for its own transaction but write-protects what it flushes (the 4.10 dirty tracking): the syncer can write-protect the entry after every pfn_mkwrite, before the CPU retries the store, and the store never completes',
    ...common,
    wait: 'tid',
    wrprotect: true,
  },
];
