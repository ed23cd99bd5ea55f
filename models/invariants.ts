/**
 * Properties shared by every spec, named as sentences. A proposal's own promise lives in its spec.
 *
 * Convention shared with the specs: every machine's top-level states are `running` (threads at
 * work, environment events possible), `recovered` (after a power failure and journal recovery)
 * and `checked` (after the application's recovery check). Crash properties are judged in the last
 * two, against the durable state that recovery rebuilt.
 */
import type { Property } from '../checker/system.ts';
import type { MachineView } from '../checker/xstate/compile.ts';
import type { AppLayout } from './app-layout.ts';
import { durableWord, isDurablyWritten } from './fs.ts';
import { PTE_NONE, PTE_RW, SAW_DANGLING, SAW_RECORD, SAW_TORN, STALE, isWrittenKind, type DaxContext, type Layout } from './layout.ts';
import { recordState } from './implementations.ts';

export type DaxView = MachineView<DaxContext>;
export type DaxProperty = Property<DaxView>;

export const afterCrash = (v: DaxView) => v.matches('recovered') || v.matches('checked');

export const NAMES = {
  pointer: 'a data pointer never precedes a durable allocation',
  fsync: 'after fsync returns, every store made before it is durable',
  belief: 'what the application believes durable survives a crash',
  survives: 'the pointer and its data both survive a crash',
  finishes: 'every thread finishes its work',
  deadlock: 'no thread waits forever',
  stale: 'a block that becomes part of the file never shows old contents after a crash',
  coherent: 'every page-table entry maps the block the file has there now',
} as const;

/** Each shared property's short id (checker/system.ts `Property.id`), keyed like NAMES. */
export const IDS = {
  pointer: 'pointer-after-alloc',
  fsync: 'fsync-makes-durable',
  belief: 'belief-survives',
  survives: 'record-survives',
  finishes: 'threads-finish',
  deadlock: 'no-deadlock',
  stale: 'no-stale-data',
  coherent: 'ptes-coherent',
} as const satisfies Record<keyof typeof NAMES, string>;

/** Dangling pointer: the record's pointer is durable but the block it points to is not part of the file. */
export function pointerPrecedesAllocation(L: Layout, app: AppLayout): DaxProperty {
  return {
    kind: 'always',
    id: IDS.pointer,
    name: NAMES.pointer,
    holds: (v) => {
      if (!afterCrash(v)) return true;
      for (let t = 0; t < L.T; t++) if (recordState(v.context, L, app, t) === SAW_DANGLING) return false;
      return true;
    },
  };
}

/** Every word fsync promised (ghost) reads back the same after recovery. */
export function fsyncMakesStoresDurable(L: Layout): DaxProperty {
  return {
    kind: 'always',
    id: IDS.fsync,
    name: NAMES.fsync,
    holds: (v) => {
      if (!afterCrash(v)) return true;
      const c = v.context;
      for (let b = 0; b < L.B; b++) {
        for (let w = 0; w < L.W; w++) {
          const promised = c.ghost[L.gPromise + b * L.W + w];
          if (promised !== 0 && durableWord(c.durable, L, b, w) !== promised - 1) return false;
        }
      }
      return true;
    },
  };
}

/** Records the application had reached its commit point for are intact after recovery. */
export function beliefsSurvive(L: Layout, app: AppLayout): DaxProperty {
  return {
    kind: 'always',
    id: IDS.belief,
    name: NAMES.belief,
    holds: (v) => {
      if (!afterCrash(v)) return true;
      for (let t = 0; t < L.T; t++) {
        if (v.context.ghost[L.gAppDurable + t] && recordState(v.context, L, app, t) !== SAW_RECORD) return false;
      }
      return true;
    },
  };
}

/** Witness that durability happens at all: a record survives a crash. */
export function recordSurvivesCrash(L: Layout, app: AppLayout): DaxProperty {
  return {
    kind: 'sometimes',
    id: IDS.survives,
    name: NAMES.survives,
    reached: (v) => {
      if (!afterCrash(v)) return false;
      for (let t = 0; t < L.T; t++) if (recordState(v.context, L, app, t) === SAW_RECORD) return true;
      return false;
    },
  };
}

/** A thread has ended: finished, killed by a signal, or given up after a failed call. */
const threadDone = (v: DaxView, t: number) => {
  const value = (v.value as { running?: Record<string, unknown> }).running?.[`T${t}`];
  return value === 'done' || value === 'killed' || value === 'failed';
};

export function everyThreadFinishes(L: Layout): DaxProperty {
  return {
    kind: 'sometimes',
    id: IDS.finishes,
    name: NAMES.finishes,
    reached: (v) => {
      if (!v.matches('running')) return false;
      for (let t = 0; t < L.T; t++) if (!v.matches(`running.T${t}.done`)) return false;
      return true;
    },
  };
}

/** No state where some thread is unfinished and no thread can take a step. */
export function noDeadlock(L: Layout, eventTypes: string[]): DaxProperty {
  return {
    kind: 'deadlock',
    id: IDS.deadlock,
    name: NAMES.deadlock,
    // The application's threads and the third party make progress; the environment does not.
    isProgress: (e) => /^(T\d+|M)\./.test(eventTypes[e]),
    isDone: (v) => {
      if (!v.matches('running')) return true;
      for (let t = 0; t < L.T; t++) if (!threadDone(v, t)) return false;
      return true;
    },
  };
}

/**
 * Stale data: a block allocated to the file must be zeroed (or written) on the media before the
 * allocation is durable, or a crash exposes what the block held before (another file's data).
 */
export function noStaleData(L: Layout): DaxProperty {
  return {
    kind: 'always',
    id: IDS.stale,
    name: NAMES.stale,
    holds: (v) => {
      if (!afterCrash(v)) return true;
      for (let b = 0; b < L.B; b++) {
        if (!isDurablyWritten(v.context.durable, L, b)) continue;
        for (let w = 0; w < L.W; w++) if (durableWord(v.context.durable, L, b, w) === STALE) return false;
      }
      return true;
    },
  };
}

/**
 * Mapping coherence: an operation that moves or frees a block must first take away the page-table
 * entries that map it (unmap_mapping_range) and keep new faults out until it is done; otherwise a
 * thread keeps storing into a block that is no longer the file's.
 */
export function mappingsCoherent(L: Layout): DaxProperty {
  return {
    kind: 'always',
    id: IDS.coherent,
    name: NAMES.coherent,
    holds: (v) => {
      if (!v.matches('running')) return true;
      const x = v.context.volatile;
      for (let m = 0; m < L.M; m++) {
        // Entries over memory the proposal keeps (e.g. page-cache pages) are its to keep coherent.
        if (L.hooks.mapsOwnMemory?.(v.context, L, m)) continue;
        for (let b = 0; b < L.B; b++) {
          const e = x[L.vPte + m * L.B + b];
          if (e === PTE_NONE) continue;
          // A writable entry over a hole or unwritten extent: the block it maps was taken away.
          if (!isWrittenKind(x[L.vExtKind + b])) {
            if (e === PTE_RW) return false;
            continue;
          }
          if (x[L.vPtePhys + m * L.B + b] !== x[L.vExtPhys + b]) return false;
        }
      }
      return true;
    },
  };
}

/** Property of Px86 configurations (models/persistency.ts): the flush order the application relies on. */
export const PX86_NAMES = { data: 'a durable pointer never precedes the data it points to' } as const;
export const PX86_IDS = { data: 'pointer-after-data' } as const;

/**
 * Torn record: the record's pointer survived a crash and the block it points to is part of the
 * file, but the data word is not what the application stored before the pointer. Checked only
 * where the application's flushes are x86 instructions: the one-step flush cannot get the order
 * wrong.
 */
export function pointerFollowsData(L: Layout, app: AppLayout): DaxProperty {
  return {
    kind: 'always',
    id: PX86_IDS.data,
    name: PX86_NAMES.data,
    holds: (v) => {
      if (!afterCrash(v)) return true;
      for (let t = 0; t < L.T; t++) if (recordState(v.context, L, app, t) === SAW_TORN) return false;
      return true;
    },
  };
}

/** The properties every spec checks. */
export function sharedProperties(L: Layout, app: AppLayout, eventTypes: string[]): DaxProperty[] {
  return [
    pointerPrecedesAllocation(L, app),
    fsyncMakesStoresDurable(L),
    beliefsSurvive(L, app),
    recordSurvivesCrash(L, app),
    everyThreadFinishes(L),
    noDeadlock(L, eventTypes),
    noStaleData(L),
    mappingsCoherent(L),
  ];
}
