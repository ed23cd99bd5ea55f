/**
 * Traces in forms a person and a program can use: each step's event, its kernel text, the
 * machine transitions and actions (with their params) that produced it, what changed in the
 * state; and, when the trace ends in a crash, the durable state recovery rebuilt. The native
 * harness replays these JSON traces on a real kernel.
 */
import type { Path } from '../checker/bfs.ts';
import type { CompiledMachine } from '../checker/xstate/compile.ts';
import type { AppLayout } from '../models/app-layout.ts';
import { describeDurable, describeState, describeStep, stateChanges, type DurableState, type TakenAction } from '../models/describe.ts';
import { afterCrash } from '../models/invariants.ts';
import type { DaxContext, Layout } from '../models/layout.ts';

export interface TraceStep {
  /** The event, e.g. `T0.dax_iomap_fault` or `power_fail{image=2}`. */
  event: string;
  /** Who acted: `T0`, `jbd2`, `cpu`, `power`, `app`. */
  actor: string;
  /** The step in kernel terms. */
  text: string;
  /** Machine transitions taken (source --event [guard]--> target). */
  transitions: string[];
  /** Actions run, with their params: what the native harness executes. */
  actions: { type: string; params: unknown }[];
  /** State fields that changed. */
  changes: { field: string; before: string; after: string }[];
}

export interface Trace {
  steps: TraceStep[];
  /** The durable state after the crash and recovery, when the trace ends after a crash. */
  durableAfterCrash: DurableState | null;
}

export function buildTrace(sys: CompiledMachine<DaxContext>, L: Layout, app: AppLayout, path: Path): Trace {
  const ctxOf = (state: Uint8Array) => sys.toSnapshotLike(state).context;
  const steps: TraceStep[] = path.events.map((e, i) => {
    const src = path.states[i];
    const dst = path.states[i + 1];
    const ex = sys.explain(src, e);
    if (!ex) throw new Error(`internal error: step ${i + 1} of a trace (${sys.eventLabel(e)}) is not enabled`);
    const taken: TakenAction[] = ex.actions.map((a) => ({
      type: a.type,
      params: a.params,
      event: sys.events[e] as TakenAction['event'],
      before: ctxOf(a.before),
      after: ctxOf(a.after),
    }));
    const eventType = sys.events[e].type;
    const text = describeStep(L, app, eventType, taken);
    return {
      event: sys.eventLabel(e),
      actor: text.slice(0, text.indexOf(':')),
      text: text.slice(text.indexOf(':') + 2),
      transitions: ex.transitions.map((t) => t.label),
      actions: ex.actions.map((a) => ({ type: a.type, params: a.params ?? null })),
      changes: stateChanges(describeState(L, ctxOf(src)), describeState(L, ctxOf(dst))),
    };
  });
  const last = path.states[path.states.length - 1];
  const durableAfterCrash = afterCrash(sys.view(last)) ? describeDurable(L, app, ctxOf(last)) : null;
  return { steps, durableAfterCrash };
}
