/**
 * async-commit: MAP_SYNC whose write fault queues the journal commit instead of waiting for it.
 *
 * A hypothetical patch answering Dave Chinner's objection to MAP_SYNC (seed 000, 2017-06): "a
 * page fault is required to sync tens of thousands of unrelated dirty objects". Instead of
 * dax_finish_sync_fault waiting for the commit, the fault calls jbd2_log_start_commit and
 * returns; the commit follows "soon".
 *
 * Promise: when a write fault on a MAP_SYNC mapping returns, the block's metadata will be
 * durable before any data the application flushes to it matters.
 */
import {
  afterCrash,
  commitRunningTransaction,
  daxSpec,
  fields,
  isInodeDirty,
  kernelAction,
  type DaxProperty,
  type Dimensions,
  type Layout,
} from 'daxcheck';
import { configs } from './configs.ts';

/** The proposal's own state: has a fault queued a commit that has not run yet? */
const state = (_d: Dimensions) =>
  fields({
    commitQueued: { part: 'volatile', shape: [], values: ['no', 'yes'], doc: 'a fault asked jbd2 to commit and returned without waiting' },
  });
type AsyncLayout = Layout<ReturnType<typeof state>>;

/** The fault's half of the proposal, and the journal's, each with the words its trace step prints. */
function actions(L: AsyncLayout) {
  return {
    jbd2_log_start_commit: kernelAction<{ t: number; m: number; b: number }>(
      (c) => {
        if (isInodeDirty(c, L)) L.at(c).commitQueued.set('yes');
      },
      ({ after }) =>
        L.at(after).commitQueued() === 'yes'
          ? 'jbd2_log_start_commit → commit of the running transaction queued; the fault returns without waiting'
          : null,
    ),
    // jbd2's commit as the shared model has it, which also runs the queued request.
    jbd2_journal_commit_transaction: kernelAction(
      (c) => {
        commitRunningTransaction(c, L);
        L.at(c).commitQueued.set('no');
      },
      (a, shared) => shared(a),
    ),
  };
}

function properties(L: AsyncLayout): DaxProperty[] {
  const s = L.view();
  return [
    {
      kind: 'always',
      id: 'writable-is-committed',
      name: 'every writable page of a MAP_SYNC mapping is backed by committed metadata',
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
      kind: 'sometimes',
      id: 'fault-returns-first',
      name: 'a write fault returns before the commit it queued',
      reached: (v) => v.matches('running') && s.at(v.context).commitQueued() === 'yes' && s.pte(0, 0) === 'writable',
    },
    {
      kind: 'sometimes',
      id: 'record-after-crash',
      name: 'the record survives a crash once its commit ran',
      reached: (v) => afterCrash(v) && s.at(v.context).saw(0) === 'record intact',
    },
  ];
}

export default daxSpec({
  name: 'async-commit',
  title: 'MAP_SYNC with the fault commit queued (jbd2_log_start_commit), not awaited',
  sources: ['000'],
  promise: 'When a write fault on a MAP_SYNC mapping returns, a commit of its metadata is queued; a userspace flush then makes the data durable without fsync.',
  capabilities: {
    'no fsync needed after userspace flushes': 'claimed',
    'extra cost in a page fault': 'none: the commit runs in the background',
  },
  configs,
  design: () => ({
    mmapFlags: 'shared_validate_sync',
    faultPath: {
      mapSync: true,
      // dax_iomap_fault allocates in the running transaction; the proposal replaces
      // dax_finish_sync_fault's wait with a request.
      writeFault: (at) => [
        { type: 'dax_iomap_fault', params: { ...at, write: true } },
        { type: 'jbd2_log_start_commit', params: at },
      ],
    },
    state,
    implementations: (L) => ({ actions: actions(L) }),
    properties,
  }),
});
