/**
 * Traces in forms a person and a program can use: each step's event, its kernel text, the
 * machine transitions and actions (with their params) that produced it, what changed in the
 * state; and, when the trace ends in a crash, the durable state recovery rebuilt. The native
 * harness replays these JSON traces on a real kernel.
 */
import type { EventObject } from 'xstate';
import type { Path } from '../checker/bfs.ts';
import type { CompiledMachine } from '../checker/xstate/compile.ts';
import type { ByteContext } from '../checker/xstate/mutator.ts';
import type { DurableSummary, FieldInfo, Renderer, StepAction, WaitEdge } from '../specs/common/spec.ts';

export type { FieldInfo, WaitEdge };

export interface TraceStep {
  /** The event, e.g. `T0.dax_iomap_fault` or `power_fail{image=2}`. */
  event: string;
  /** The event's payload (e.g. `{ image: 2 }` for a crash image), null when it has none. */
  payload: Record<string, unknown> | null;
  /** Who acted: `T0`, `jbd2`, `cpu`, `power`, `app`. */
  actor: string;
  /** The step in kernel terms. */
  text: string;
  /** Results a program can compare (e.g. the errno a thread's system call returned). */
  outcome: Record<string, unknown> | null;
  /** Machine transitions taken (source --event [guard]--> target). */
  transitions: string[];
  /** Actions run, with their params: what the native harness executes. */
  actions: { type: string; params: unknown }[];
  /** State fields that changed. */
  changes: { field: string; before: string; after: string }[];
}

export interface Trace {
  /** Every state field before the first step; each step's `changes` update it. */
  initialState: Record<string, string>;
  steps: TraceStep[];
  /** The durable state after the crash and recovery, when the trace ends after a crash. */
  durableAfterCrash: DurableSummary | null;
  /**
   * For a liveness counterexample (a lasso): the steps from index `loopStart` (counted from 0) to
   * the end repeat forever, the last step returning to the state before step `loopStart`; the
   * steps before it are the stem. Equal to the number of steps when the run stops after the last
   * step (nothing can move there) with the obligation still open.
   */
  loopStart?: number;
  /** For a deadlock: who waits for what in the last state (the cycle of waits). */
  waits?: string[];
  /** For a deadlock, when the spec's renderer gives it: the wait-for graph of the last state. */
  waitGraph?: WaitEdge[];
  /**
   * What each field is (its kind, and a volatile field's durable twin), as the spec's renderer
   * declares it; absent when it declares nothing. The timeline colours lanes by it.
   */
  fieldInfo?: Record<string, FieldInfo>;
}

/** Fields that differ between two state descriptions. */
function changes(before: Record<string, string>, after: Record<string, string>) {
  return Object.keys(after)
    .filter((k) => before[k] !== after[k])
    .map((field) => ({ field, before: before[field], after: after[field] }));
}

export function buildTrace<C extends ByteContext>(sys: CompiledMachine<C>, render: Renderer<C>, path: Path & { loopStart?: number }, deadlock = false): Trace {
  const ctxOf = (state: Uint8Array) => sys.toSnapshotLike(state).context;
  const steps: TraceStep[] = path.events.map((e, i) => {
    const src = path.states[i];
    const dst = path.states[i + 1];
    const ex = sys.explain(src, e);
    if (!ex) throw new Error(`internal error: step ${i + 1} of a trace (${sys.eventLabel(e)}) is not enabled`);
    const event: EventObject = sys.events[e];
    const taken: StepAction<C>[] = ex.actions.map((a) => ({
      type: a.type,
      params: a.params,
      event,
      before: ctxOf(a.before),
      after: ctxOf(a.after),
    }));
    const { type: _type, ...payload } = event;
    return {
      event: sys.eventLabel(e),
      payload: Object.keys(payload).length ? payload : null,
      actor: render.actor(event),
      text: render.step(event, taken),
      outcome: render.outcome(event, ctxOf(src), ctxOf(dst)),
      transitions: ex.transitions.map((t) => t.label),
      actions: ex.actions.map((a) => ({ type: a.type, params: a.params ?? null })),
      changes: changes(render.state(ctxOf(src)), render.state(ctxOf(dst))),
    };
  });
  const last = path.states[path.states.length - 1];
  const trace: Trace = { initialState: render.state(ctxOf(path.states[0])), steps, durableAfterCrash: render.afterCrash(sys.view(last)) };
  if (path.loopStart !== undefined) trace.loopStart = path.loopStart;
  if (deadlock && render.waits) trace.waits = render.waits(sys.view(last));
  if (deadlock && render.waitGraph) trace.waitGraph = render.waitGraph(sys.view(last));
  if (render.fields) {
    // Fields a state adds later (a block's leaf once it is allocated) are declared in that state.
    const info: Record<string, FieldInfo> = {};
    for (const st of path.states) {
      for (const [k, v] of Object.entries(render.fields(ctxOf(st)))) if (!(k in info)) info[k] = v;
    }
    const named = new Set([...Object.keys(trace.initialState), ...steps.flatMap((s) => s.changes.map((c) => c.field))]);
    trace.fieldInfo = Object.fromEntries(Object.entries(info).filter(([k]) => named.has(k)));
  }
  return trace;
}

/** Every field's value in each state of the trace: states[0] is the initial state, states[k] after step k. */
export function statesOf(trace: Trace): Record<string, string>[] {
  const out: Record<string, string>[] = [{ ...trace.initialState }];
  for (const s of trace.steps) {
    const next = { ...out[out.length - 1] };
    for (const c of s.changes) next[c.field] = c.after;
    out.push(next);
  }
  return out;
}
