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
import { durableWord } from './fs.ts';
import { SAW_DANGLING, SAW_RECORD, type DaxContext, type Layout } from './layout.ts';
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
} as const;

/** Dangling pointer: the record's pointer is durable but the block it points to is not part of the file. */
export function pointerPrecedesAllocation(L: Layout, app: AppLayout): DaxProperty {
  return {
    kind: 'always',
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
    name: NAMES.survives,
    reached: (v) => {
      if (!afterCrash(v)) return false;
      for (let t = 0; t < L.T; t++) if (recordState(v.context, L, app, t) === SAW_RECORD) return true;
      return false;
    },
  };
}

const threadDone = (v: DaxView, t: number) => v.matches(`running.T${t}.done`) || v.matches(`running.T${t}.killed`);

export function everyThreadFinishes(L: Layout): DaxProperty {
  return {
    kind: 'sometimes',
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
    name: NAMES.deadlock,
    isProgress: (e) => /^T\d+\./.test(eventTypes[e]),
    isDone: (v) => {
      if (!v.matches('running')) return true;
      for (let t = 0; t < L.T; t++) if (!threadDone(v, t)) return false;
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
  ];
}
