/**
 * The replay smoke set (issue 6, point 4; issue 13 added the write(2) and second-file cases and a Px86 eADR case): the
 * traces CI replays on the real kernel, on ext4 and XFS, after the unit tests. Each names the configuration, the property whose counterexample or
 * witness is replayed, and what it shows.
 */
import { NAMES } from '../../models/invariants.ts';
import { findSpec } from '../../specs/index.ts';
import type { DaxRunConfig } from '../../specs/common/spec.ts';
import { MAP_SYNC_NAMES } from '../../specs/map-sync/machine.ts';
import { compile, stepOf } from './model.ts';
import type { TraceInput } from './program.ts';

export interface SmokeCase {
  spec: string;
  config: string;
  property: string;
  shows: string;
}

/** The cases, in the order they are replayed. */
export const SMOKE: SmokeCase[] = [
  { spec: 'map-sync', config: 'trusting', property: NAMES.survives, shows: 'MAP_SYNC: data survives a crash after a userspace flush, no fsync' },
  { spec: 'baseline', config: 'trusting', property: NAMES.pointer, shows: 'plain MAP_SHARED without fsync loses the newly allocated block (Chinner)' },
  { spec: 'baseline', config: 'fsync', property: NAMES.survives, shows: 'fsync makes the block and its data durable' },
  { spec: 'map-sync', config: 'non-dax', property: MAP_SYNC_NAMES.refused, shows: 'MAP_SYNC gives EOPNOTSUPP on a non-DAX mount' },
  { spec: 'map-sync', config: 'generic-470', property: NAMES.survives, shows: 'xfstests generic/470: 1 MiB written through MAP_SYNC, crash before munmap, 1 MiB allocated' },
  {
    spec: 'map-sync',
    config: 'sync-fault-then-write',
    property: NAMES.pointer,
    shows: 'write(2) after a MAP_SYNC fault: its allocation and i_size stay in the running transaction, the pointer stored through the mapping dangles',
  },
  { spec: 'baseline', config: 'other-file-fsync', property: NAMES.finishes, shows: "fsync of another file after an allocating write to it commits f's allocation with it (crash appended)" },
  { spec: 'baseline', config: 'other-file-clean', property: NAMES.belief, shows: "fsync of another file with no dirty metadata commits nothing: f's allocation is lost" },
  {
    spec: 'map-sync',
    config: 'px86-clwb-eadr',
    property: NAMES.survives,
    shows: 'Px86 on eADR: stores flushed instruction by instruction (store; clwb; sfence) through MAP_SYNC survive the crash',
  },
];

/**
 * A trace with two power failures (baseline/fsync-2crashes): the whole program, a crash, recovery,
 * the application starting again, six of its steps, and a crash appended. No property's shortest
 * trace has two crashes, so this one is walked through the machine: each step the first enabled
 * event of the kind wanted. Replayed as three boots.
 */
export function twoCrashTrace(): TraceInput {
  const spec = findSpec('baseline')!;
  const config = spec.configs.find((c) => c.name === 'fsync-2crashes') as DaxRunConfig;
  const { sys } = compile(spec, config);
  let state = sys.initialStates()[0];
  const steps: TraceInput['steps'] = [];
  const take = (wanted: (label: string) => boolean): boolean => {
    for (let e = 0; e < sys.eventCount; e++) {
      const next = wanted(sys.eventLabel(e)) ? stepOf(sys, state, e) : null;
      if (!next) continue;
      steps.push({ event: sys.eventLabel(e), actions: sys.explain(state, e)!.actions.map((a) => ({ type: a.type, params: a.params ?? null })) });
      state = next;
      return true;
    }
    return false;
  };
  for (let i = 0; i < 100 && take((l) => l.startsWith('T0.')); i++);
  take((l) => l.startsWith('power_fail'));
  for (let i = 0; i < 100 && take((l) => l.startsWith('power.')); i++);
  take((l) => l === 'mount');
  take((l) => l === 'app.recover');
  take((l) => l === 'restart');
  for (let i = 0; i < 6; i++) take((l) => l.startsWith('T0.'));
  return {
    source: 'baseline/fsync-2crashes',
    spec: 'baseline',
    config: config.name,
    property: 'two power failures: the program, a crash, a restart, six steps, a crash',
    kind: 'trace',
    steps,
  };
}
