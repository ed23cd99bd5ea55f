/**
 * The data side of the no-sync spec: DOMAIN.md's trusting application on a "no sync" mapping,
 * built with buildDaxSpec. The application's mmap asks for the no-sync mapping; every DAX write
 * fault runs `dax_iomap_fault` and then, on a no-sync mapping, the proposal's metadata sync
 * (model.ts) before it returns. Third parties run with Piggin's policy: invalidate the mappings
 * of what they change and hold off faults meanwhile.
 */
import type { DaxProperty } from '../../models/invariants.ts';
import { HOLE, type DaxContext } from '../../models/layout.ts';
import type { ThirdPartyPolicy } from '../../models/third-party.ts';
import type { Step } from '../apps/pmem-log.ts';
import { buildDaxSpec } from '../common/dax-machine.ts';
import type { BuiltSpec, Renderer } from '../common/spec.ts';
import type { NoSyncDataConfig } from './configs.ts';
import { isEveryNoSyncPageDurable, isNoSyncBlockMoved, noSyncActions, noSyncState, SYNC_ACTION, type NoSyncLayout } from './model.ts';

export { SYNC_ACTION };

export const DATA_NAMES = {
  promise: 'every writable page of a no-sync mapping is backed by durable metadata',
  moved: 'an extent-tree split moves the record of a block mapped no-sync',
} as const;

/**
 * Piggin's policy for third parties: "invalidate all such mappings before it does buffered IOs or
 * hole punch" and hold faults off "until you can cope with them again". Syncing before the faults
 * resume is not part of it (a configuration adds it).
 */
export const PIGGIN_POLICY: ThirdPartyPolicy = { invalidate: true, holdOffFaults: true, syncBeforeRelease: false };

function properties(L: NoSyncLayout, config: NoSyncDataConfig): DaxProperty[] {
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'nosync-pages-durable',
      name: DATA_NAMES.promise,
      holds: (v) => !v.matches('running') || isEveryNoSyncPageDurable(v.context, L),
    },
  ];
  if (config.thirdParty?.ops.includes('split')) {
    // A witness that the seed-004 situation happens at all: a split under a mapped no-sync block.
    props.push({ kind: 'sometimes', id: 'split-moves-nosync-block', name: DATA_NAMES.moved, reached: (v) => v.matches('running') && isNoSyncBlockMoved(v.context, L) });
  }
  return props;
}

/** The application's mmap becomes the no-sync request (an event `T<t>.mmap` as before). */
function requestNoSync(steps: Step[]): Step[] {
  return steps.map((s): Step => (s.op === 'mmap' ? { name: s.name, op: 'syscall', call: 'mmap', action: 'mmap_nosync' } : s));
}

/** The shared renderer, plus each mapping's no-sync flag and the extent-tree leaves in the state. */
function noSyncRenderer(L: NoSyncLayout, shared: Renderer<DaxContext>): Renderer<DaxContext> {
  const s = L.view();
  return {
    ...shared,
    state: (c) => {
      const out = shared.state(c);
      s.at(c);
      for (let m = 0; m < L.M; m++) out[`mapping ${m} no-sync`] = s.nosync(m);
      for (let b = 0; b < L.B; b++) {
        if (s.extent(b) !== HOLE) out[`block ${b} leaf`] = `${s.leaf(b)}`;
        if (s.committedExtent(b) !== HOLE) out[`block ${b} leaf (committed)`] = `${s.committedLeaf(b)}`;
      }
      return out;
    },
    fields: (c) => {
      const out = { ...shared.fields?.(c) };
      for (let m = 0; m < L.M; m++) out[`mapping ${m} no-sync`] = { kind: 'pagetable' };
      for (let b = 0; b < L.B; b++) {
        out[`block ${b} leaf`] = { kind: 'volatile', durable: `block ${b} leaf (committed)` };
        out[`block ${b} leaf (committed)`] = { kind: 'durable' };
      }
      return out;
    },
  };
}

export function buildData(config: NoSyncDataConfig): BuiltSpec<DaxContext> {
  return buildDaxSpec({
    id: 'nosync-flag',
    config,
    mmapFlags: 'shared',
    thirdPartyPolicy: PIGGIN_POLICY,
    faultPath: {
      mapSync: false,
      // dax_iomap_fault allocates in the running transaction; then, on a no-sync mapping, the
      // metadata is made durable before the fault returns and the store is retried.
      writeFault: (at) => [
        { type: 'dax_iomap_fault', params: { ...at, write: true } },
        { type: SYNC_ACTION[config.write], params: at },
      ],
    },
    program: config.request ? requestNoSync : undefined,
    // The no-sync flag of each mapping: a field of the proposal's own (model.ts).
    state: noSyncState,
    implementations: (L) => ({ actions: noSyncActions(L) }),
    properties: (L) => properties(L, config),
    render: (L, _app, shared) => noSyncRenderer(L, shared),
  });
}
