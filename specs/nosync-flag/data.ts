/**
 * The data side of the no-sync spec: DOMAIN.md's trusting application on a "no sync" mapping,
 * built with buildDaxSpec. The application's mmap asks for the no-sync mapping; every DAX write
 * fault runs `dax_iomap_fault` and then, on a no-sync mapping, the proposal's metadata sync
 * (models/nosync.ts) before it returns. Third parties run with Piggin's policy: invalidate the
 * mappings of what they change and hold off faults meanwhile.
 */
import { mutator } from '../../checker/xstate/mutator.ts';
import type { MachineView } from '../../checker/xstate/compile.ts';
import { appLayout, type AppLayout } from '../../models/app-layout.ts';
import { describeAction, type TakenAction } from '../../models/describe.ts';
import type { At, DaxEvent } from '../../models/implementations.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import { BLOCK_SIZE, HOLE, type DaxContext, type Layout } from '../../models/layout.ts';
import {
  hasTreeChangedShape,
  isEveryNoSyncPageDurable,
  isNoSyncBlockMoved,
  mmapNoSync,
  noSyncField,
  syncAfterAllocation,
  type NoSyncContext,
  type NoSyncWrite,
} from '../../models/nosync.ts';
import type { ThirdPartyPolicy } from '../../models/third-party.ts';
import type { Step } from '../apps/pmem-log.ts';
import { buildDaxSpec } from '../common/dax-machine.ts';
import type { BuiltSpec, Renderer } from '../common/spec.ts';
import type { NoSyncDataConfig } from './configs.ts';

export const DATA_NAMES = {
  promise: 'every writable page of a no-sync mapping is backed by durable metadata',
  moved: 'an extent-tree split moves the record of a block mapped no-sync',
} as const;

/** The name of the fault's sync action for each way of writing the metadata. */
export const SYNC_ACTION: Record<NoSyncWrite, string> = {
  commit: 'nosync_commit',
  leaf: 'nosync_write_leaf',
  'leaf-or-commit': 'nosync_write_leaf_or_commit',
};

/**
 * Piggin's policy for third parties: "invalidate all such mappings before it does buffered IOs or
 * hole punch" and hold faults off "until you can cope with them again". Syncing before the faults
 * resume is not part of it (a configuration adds it).
 */
export const PIGGIN_POLICY: ThirdPartyPolicy = { invalidate: true, holdOffFaults: true, syncBeforeRelease: false };

function actions(L: Layout) {
  const act = <P>(fn: (c: NoSyncContext, e: DaxEvent, p: P) => void) => mutator<NoSyncContext, DaxEvent, P>(fn);
  const sync = (how: NoSyncWrite) => act<At>((c, _e, p) => void syncAfterAllocation(c, L, p.m, p.b, how));
  return {
    /** mmap(MAP_SHARED) with Piggin's "no sync" request. */
    mmap_nosync: act<{ t: number; m: number }>((c, _e, p) => void mmapNoSync(c, L, p.t, p.m)),
    nosync_commit: sync('commit'),
    nosync_write_leaf: sync('leaf'),
    nosync_write_leaf_or_commit: sync('leaf-or-commit'),
  };
}

function properties(L: Layout, config: NoSyncDataConfig): DaxProperty[] {
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'nosync-pages-durable',
      name: DATA_NAMES.promise,
      holds: (v) => !v.matches('running') || isEveryNoSyncPageDurable(v.context as NoSyncContext, L),
    },
  ];
  if (config.thirdParty?.ops.includes('split')) {
    // A witness that the seed-004 situation happens at all: a split under a mapped no-sync block.
    props.push({ kind: 'sometimes', id: 'split-moves-nosync-block', name: DATA_NAMES.moved, reached: (v) => v.matches('running') && isNoSyncBlockMoved(v.context as NoSyncContext, L) });
  }
  return props;
}

/** The application's mmap becomes the no-sync request (an event `T<t>.mmap` as before). */
function requestNoSync(steps: Step[]): Step[] {
  return steps.map((s): Step => (s.op === 'mmap' ? { name: s.name, op: 'syscall', call: 'mmap', action: 'mmap_nosync' } : s));
}

export function buildData(config: NoSyncDataConfig): BuiltSpec<NoSyncContext> {
  let layout: Layout | undefined;
  const built = buildDaxSpec({
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
    implementations: (L) => {
      layout = L;
      return { actions: actions(L) };
    },
    // The no-sync flag of each mapping lives in a context field of its own.
    initial: (L, c) => void ((c as NoSyncContext).nosync = noSyncField(L)),
    properties: (L) => properties(L, config),
  });
  const L = layout!;
  return {
    ...(built as unknown as BuiltSpec<NoSyncContext>),
    bounds: { ...built.bounds, nosync: 1 },
    render: noSyncRenderer(L, appLayout(), built.render as Renderer<DaxContext>),
  };
}

// ---------------------------------------------------------------- traces

type Taken = TakenAction & { before: NoSyncContext; after: NoSyncContext };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Blocks whose committed mapping a step took away (a leaf write that overwrote a moved record). */
function blocksLost(L: Layout, a: Taken): number[] {
  const out: number[] = [];
  for (let b = 0; b < L.B; b++) {
    if (a.before.durable[L.dExtKind + b] !== HOLE && a.after.durable[L.dExtKind + b] === HOLE) out.push(b);
  }
  return out;
}

/** What became durable in a step, named: `i_size, block 1 extent (leaf 0)`. */
function itemsMadeDurable(L: Layout, a: Taken): string[] {
  const out: string[] = [];
  const d0 = a.before.durable;
  const d1 = a.after.durable;
  if (d0[L.dSize] !== d1[L.dSize]) out.push(`i_size ${d1[L.dSize] * BLOCK_SIZE}`);
  for (let b = 0; b < L.B; b++) {
    const changed = d0[L.dExtKind + b] !== d1[L.dExtKind + b] || d0[L.dExtPhys + b] !== d1[L.dExtPhys + b] || d0[L.dExtLeaf + b] !== d1[L.dExtLeaf + b];
    if (changed && d1[L.dExtKind + b] !== HOLE) out.push(`block ${b} extent (leaf ${d1[L.dExtLeaf + b]})`);
  }
  const u = a.before.volatile[L.vUnrelated] - a.after.volatile[L.vUnrelated];
  if (u > 0) out.push(plural(u, 'unrelated object'));
  return out;
}

function describeNoSync(L: Layout, app: AppLayout, a: Taken): string | null {
  const p = (a.params ?? {}) as { t: number; m: number; b: number };
  switch (a.type) {
    case 'mmap_nosync': {
      const text = describeAction(L, app, { ...a, type: 'mmap', params: { ...p, flags: 'shared', mapSync: false } });
      return text && `${text.replace('MAP_SHARED', 'MAP_SHARED|MAP_NOSYNC')} (a "no sync" mapping: each fault syncs the metadata of the block it allocates)`;
    }
    case 'nosync_commit':
    case 'nosync_write_leaf':
    case 'nosync_write_leaf_or_commit': {
      const items = itemsMadeDurable(L, a);
      if (!items.length && !blocksLost(L, a).length) return null;
      const commit = a.type === 'nosync_commit' || (a.type === 'nosync_write_leaf_or_commit' && hasTreeChangedShape(a.before, L));
      if (commit) return `no-sync: journal committed before the fault returns (${items.join(', ')})`;
      const leaf = a.before.volatile[L.vExtLeaf + p.b];
      const lost = blocksLost(L, a).map((x) => `block ${x}'s record, which the split moved to leaf ${a.before.volatile[L.vExtLeaf + x]}, is gone from leaf ${leaf} on the media: block ${x} is no longer durably part of the file`);
      return `no-sync: inode and extent-tree leaf ${leaf} written in place, outside the journal (${items.join(', ') || 'nothing new'})${lost.length ? `; ${lost.join('; ')}` : ''}`;
    }
    default:
      return describeAction(L, app, a);
  }
}

/** daxRenderer, plus the no-sync mmap, the fault's metadata sync, and the extent-tree leaves. */
export function noSyncRenderer(L: Layout, app: AppLayout, base: Renderer<DaxContext>): Renderer<NoSyncContext> {
  return {
    ...base,
    step: (_event, actions) =>
      (actions as Taken[])
        .map((a) => describeNoSync(L, app, a))
        .filter((x): x is string => x !== null)
        .join('; '),
    state: (c) => {
      const out = base.state(c);
      for (let m = 0; m < L.M; m++) out[`mapping ${m} no-sync`] = c.nosync[m] ? 'yes' : 'no';
      for (let b = 0; b < L.B; b++) {
        if (c.volatile[L.vExtKind + b] !== HOLE) out[`block ${b} leaf`] = `${c.volatile[L.vExtLeaf + b]}`;
        if (c.durable[L.dExtKind + b] !== HOLE) out[`block ${b} leaf (committed)`] = `${c.durable[L.dExtLeaf + b]}`;
      }
      return out;
    },
    fields: (c) => {
      const out = { ...base.fields?.(c) };
      for (let m = 0; m < L.M; m++) out[`mapping ${m} no-sync`] = { kind: 'pagetable' };
      for (let b = 0; b < L.B; b++) {
        out[`block ${b} leaf`] = { kind: 'volatile', durable: `block ${b} leaf (committed)` };
        out[`block ${b} leaf (committed)`] = { kind: 'durable' };
      }
      return out;
    },
    afterCrash: (view) => base.afterCrash(view as unknown as MachineView<DaxContext>),
  };
}
