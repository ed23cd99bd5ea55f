/**
 * msync(addr, len, MSYNC_PMEM_PREPARE_WRITE) (Andy Lutomirski, seed 000, 2017-06-19; Dave
 * Chinner's replies).
 *
 * "Forget the mmap() flag. Instead add a new msync() operation ... If this operation succeeds, it
 * guarantees that all future writes through this mapping on this range will hit actual storage
 * and that all the metadata operations needed to make this write persistent will hit storage
 * such that they are ordered before the user's writes." Background maintenance need not be
 * forbidden: "it just needs to block .page_mkwrite until they are synced", and the mechanism
 * "should be sticky". Chinner: "Hole punch, truncate, reflink, dedupe, snapshots, scrubbing and
 * other background filesystem maintenance operations, etc can all change the extent layout
 * asynchronously".
 *
 * Promise: after the msync succeeds, writes in the range need no metadata sync; maintenance holds
 * page faults off until the range is ready (and durable) again.
 *
 * Kernel modelled (audited, issue 13): never merged. The fault path is Linux 4.15's
 * (`dax_iomap_fault` → `dax_iomap_pte_fault`, `->page_mkwrite` / `->pfn_mkwrite`,
 * models/faults.ts); what the msync and the sticky re-preparation do is the proposal's (model.ts).
 */
import { afterCrash, type DaxProperty } from '../../models/invariants.ts';
import type { DaxContext } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { Spec } from '../common/spec.ts';
import { prepareWriteConfigs, type PrepareConfig } from './configs.ts';
import { isPreparedRangeReady, prepareActions, prepareHooks, prepareState, reprepare, type PrepareLayout } from './model.ts';

export const PREPARE_NAMES = {
  ready: 'writes in a prepared range never need a metadata sync',
  maintained: 'maintenance moves a prepared block and the record still survives a crash',
} as const;

function properties(L: PrepareLayout, config: PrepareConfig): DaxProperty[] {
  const s = L.view();
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'prepared-writes-need-no-sync',
      name: PREPARE_NAMES.ready,
      // Whenever page faults may run (no maintenance holds them off), every prepared block is
      // written and its mapping committed.
      holds: (v) => !v.matches('running') || s.at(v.context).mmapLock() === 1 || isPreparedRangeReady(v.context, L),
    },
  ];
  if (config.thirdParty) {
    props.push({
      kind: 'sometimes',
      id: 'prepared-block-moved-survives',
      name: PREPARE_NAMES.maintained,
      // A maintenance operation has run on the prepared range, and a crash kept the record.
      reached: (v) => afterCrash(v) && s.at(v.context).saw(0) === 'record intact' && s.committedPhys(1) !== 1,
    });
  }
  return props;
}

/** After mmap, the application prepares the whole file for writing. */
function prepareProgram(steps: Step[], config: PrepareConfig): Step[] {
  const at = steps.findIndex((s) => s.op === 'mmap');
  const prepare: Step = { name: 'prepare', op: 'syscall', call: 'msync', action: 'msync_prepare_write', params: { sticky: config.sticky } };
  return [...steps.slice(0, at + 1), prepare, ...steps.slice(at + 1)];
}

export const prepareWrite: DaxSpec<PrepareConfig, ReturnType<typeof prepareState>> = daxSpec({
  name: 'prepare-write',
  title: 'msync(MSYNC_PMEM_PREPARE_WRITE): prepare a range, then write without fsync',
  sources: ['000'],
  promise: 'After msync(MSYNC_PMEM_PREPARE_WRITE) succeeds, writes in the range need no metadata sync; background maintenance may still change the extents, but blocks page_mkwrite until the range is ready and synced again (sticky).',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, in a prepared range',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes: page_mkwrite blocked until the range is prepared and synced again',
    'background maintenance (defrag, scrub, EOF scan)': 'yes (same)',
    'works on files without DAX': 'no',
    'extra cost in a page fault': 'none: the cost moves to msync and to maintenance',
  },
  configs: prepareWriteConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: 'shared',
    faultPath: {
      mapSync: false,
      // A fault in a prepared range finds a written, committed block: nothing to sync.
      writeFault: (at) => [{ type: 'dax_iomap_fault', params: { ...at, write: true } }],
    },
    // "block .page_mkwrite until they are synced", and sticky: re-prepare first.
    thirdPartyPolicy: {
      invalidate: true,
      holdOffFaults: true,
      syncBeforeRelease: true,
      beforeRelease: (c, L) => void reprepare(c, L as PrepareLayout),
    },
    state: prepareState,
    hooks: prepareHooks,
    // No symmetry declared: msync(MSYNC_PMEM_PREPARE_WRITE) prepares the whole file in block
    // order, so which physical block a thread's record gets does not follow the thread.
    program: (steps) => prepareProgram(steps, config),
    implementations: (L) => ({ actions: prepareActions(L) }),
    properties: (L) => properties(L, config),
  }),
});
