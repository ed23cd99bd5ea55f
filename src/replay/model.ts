/**
 * What the model says about one trace, re-derived from the model itself rather than read from the
 * trace file: the trace's events are run again through the compiled machine of its spec and
 * configuration. This both checks the trace (every event must be possible, every recorded action
 * must be the one the model takes) and gives the actions the harness executes.
 *
 * The prediction a replay is compared with is computed for the rig's platform: the rig behaves
 * like eADR (every store reaches the NVDIMM's host file at once, REPLAY-NOTES), so the trace's
 * events are run a second time through the same spec built with `platform: 'eadr'`, where the
 * only crash image is "every dirty word persisted". Cache-line evictions do not exist there (they
 * change nothing that eADR does not persist anyway) and are skipped; each power failure takes the
 * one image eADR allows. A trace that does not end in a crash gets one appended after its last
 * step, so every replay checks what recovery finds.
 */
import { compileMachine, type CompiledMachine } from '../../checker/xstate/compile.ts';
import type { DaxContext } from '../../models/layout.ts';
import type { DurableState } from '../../models/describe.ts';
import type { AnySpec, BuiltSpec, DaxRunConfig } from '../../specs/common/spec.ts';

export interface ModelRun {
  sys: CompiledMachine<DaxContext>;
  built: BuiltSpec<DaxContext>;
  /** Event index per step, in `sys`'s alphabet (-1: the step has no counterpart, skipped). */
  events: number[];
  /** State before each step and after the last one (`states[i]` before step i). */
  states: Uint8Array[];
}

/** Compiles a spec configuration. */
export function compile(spec: AnySpec, config: DaxRunConfig): { sys: CompiledMachine<DaxContext>; built: BuiltSpec<DaxContext> } {
  const built = spec.build(config) as BuiltSpec<DaxContext>;
  const sys = compileMachine<DaxContext>(built.machine, { name: `${spec.name}/${config.name}`, events: built.events, bounds: built.bounds });
  return { sys, built };
}

/** Index of the event with this label in the machine's alphabet, or -1. */
export function eventIndex(sys: CompiledMachine<DaxContext>, label: string): number {
  for (let i = 0; i < sys.eventCount; i++) if (sys.eventLabel(i) === label) return i;
  return -1;
}

/** Successor of `state` under event `e`, or null when the event is not enabled. */
export function stepOf(sys: CompiledMachine<DaxContext>, state: Uint8Array, e: number): Uint8Array | null {
  const dst = new Uint8Array(sys.stateBytes);
  return sys.step(state, e, dst) < 0 ? null : dst;
}

/** The context of a state, copied. */
export function contextOf(sys: CompiledMachine<DaxContext>, state: Uint8Array): DaxContext {
  return sys.toSnapshotLike(state).context;
}

/** A trace the model cannot follow (an event not possible where the trace takes it). */
export class TraceMismatchError extends Error {}

/**
 * Runs event labels through the machine exactly. Throws TraceMismatchError naming the first step
 * the model cannot take.
 */
export function runExactly(spec: AnySpec, config: DaxRunConfig, labels: string[]): ModelRun {
  const { sys, built } = compile(spec, config);
  let state = sys.initialStates()[0];
  const states = [state];
  const events: number[] = [];
  labels.forEach((label, i) => {
    const e = eventIndex(sys, label);
    if (e < 0) throw new TraceMismatchError(`step ${i + 1}: ${spec.name}/${config.name} has no event '${label}'`);
    const next = stepOf(sys, state, e);
    if (!next) throw new TraceMismatchError(`step ${i + 1} (${label}) is not possible at that point in the model of ${spec.name}/${config.name}`);
    events.push(e);
    states.push(next);
    state = next;
  });
  return { sys, built, events, states };
}

/** One step of the prediction. */
export interface PredictedStep {
  /** 1-based step number (the trace's; an appended crash gets the next number). */
  n: number;
  label: string;
  /** Skipped on the rig's platform (a cache-line eviction under eADR). */
  skipped: boolean;
  /** The errno the model says the thread's call returned (thread steps only). */
  errno: string | null;
}

export interface Prediction {
  platform: 'eadr';
  steps: PredictedStep[];
  /** A crash was added after the trace's last step. */
  crashAppended: boolean;
  /** The file as recovery leaves it after the last crash. */
  durable: DurableState;
  /** S_DAX of the file in the model. */
  dax: boolean;
  run: ModelRun;
}

const typeOf = (label: string) => label.split('{')[0];
/** The crash-image decisions of the model (one dirty word at a time): replaced by eADR's. */
const DECISIONS = new Set(['power.keep', 'power.drop', 'power.skip']);

/**
 * The model's prediction for the rig (eADR), following `labels`; null with a reason when the trace
 * has no counterpart there.
 *
 * Crashes come in two forms, and both are followed: one `power_fail{image=N}` event (the crash
 * image as a bit mask), or `power_fail`, then one `power.keep` / `power.drop` decision per dirty
 * word, then `mount`. Either way the image is replaced by the one eADR allows.
 */
export function predictOnRig(spec: AnySpec, config: DaxRunConfig, labels: string[]): Prediction | { reason: string } {
  // One more crash than the configuration allows, so that a crash can be appended.
  // A Px86 configuration's non-temporal stores reach the media at once on the rig (TCG emulates
  // no write-combining buffers): eADR whose power-fail flush drains them.
  const wc = config.appOptions?.persistency === 'px86' ? { wcBuffers: 'drained' as const } : {};
  const rigConfig: DaxRunConfig = { ...config, platform: 'eadr', ...wc, crashBudget: config.crashBudget + 1 };
  const { sys, built } = compile(spec, rigConfig);
  let state = sys.initialStates()[0];
  const states = [state];
  const events: number[] = [];
  const steps: PredictedStep[] = [];
  const renderOutcome = (e: number, before: Uint8Array, after: Uint8Array) => {
    const o = built.render.outcome(sys.events[e], contextOf(sys, before), contextOf(sys, after));
    return o && typeof o.errno === 'string' ? o.errno : null;
  };
  const take = (e: number, n: number, label: string): string | null => {
    const next = stepOf(sys, state, e);
    if (!next) return `step ${n} (${label}) has no counterpart on the rig's eADR platform`;
    steps.push({ n, label, skipped: false, errno: renderOutcome(e, state, next) });
    events.push(e);
    states.push(next);
    state = next;
    return null;
  };
  const skip = (n: number, label: string) => {
    steps.push({ n, label, skipped: true, errno: null });
    events.push(-1);
    states.push(state);
  };
  /** The first enabled event of one of these types, or -1. */
  const enabled = (types: Set<string>): number => {
    for (let e = 0; e < sys.eventCount; e++) if (types.has(sys.events[e].type) && stepOf(sys, state, e)) return e;
    return -1;
  };
  const hasEvent = (type: string) => sys.events.some((e) => e.type === type);
  const inState = (name: string) => {
    try {
      return sys.view(state).matches(name);
    } catch {
      return false; // the machine has no such state (the one-event crash form has no `crashing`)
    }
  };
  /** Takes eADR's crash-image decisions (every dirty word reaches the media), then mounts. */
  const finishCrash = (n: number): string | null => {
    if (!hasEvent('mount')) return null;
    for (let guard = 0; guard < 256; guard++) {
      const m = enabled(new Set(['mount']));
      if (m >= 0) return take(m, n, 'mount');
      const d = enabled(DECISIONS);
      if (d < 0) return `step ${n}: the crash image cannot be completed on eADR`;
      const problem = take(d, n, `${sys.events[d].type} (eADR)`);
      if (problem) return problem;
    }
    return `step ${n}: the crash image does not complete`;
  };
  const POWER = new Set(['power_fail']);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    const type = typeOf(label);
    let problem: string | null;
    if (type === 'cpu.evict' || DECISIONS.has(type)) {
      // Evictions change nothing eADR would not persist anyway; the trace's crash-image
      // decisions are replaced by eADR's at the mount.
      skip(i + 1, label);
      continue;
    } else if (type === 'mount') {
      problem = finishCrash(i + 1);
    } else if (type === 'jbd2.commit' && !stepOf(sys, state, eventIndex(sys, label))) {
      // Nothing to commit in this prediction (another configuration's model committed already):
      // on a kernel that is syncfs() with a clean journal, which does nothing.
      skip(i + 1, label);
      continue;
    } else if (type === 'power_fail') {
      const e = enabled(POWER);
      if (e < 0) return { reason: `step ${i + 1}: no power failure is possible there on eADR` };
      problem = take(e, i + 1, label);
    } else {
      const e = eventIndex(sys, label);
      if (e < 0) return { reason: `step ${i + 1} (${label}) has no counterpart on the rig's eADR platform` };
      problem = take(e, i + 1, label);
    }
    if (problem) return { reason: problem };
  }
  let crashAppended = false;
  if (inState('crashing')) {
    const problem = finishCrash(labels.length + 1);
    if (problem) return { reason: problem };
  } else if (!(inState('recovered') || inState('checked'))) {
    const e = enabled(POWER);
    if (e < 0) return { reason: 'no crash can be appended after the last step' };
    take(e, labels.length + 1, 'power_fail (appended)');
    const problem = finishCrash(labels.length + 1);
    if (problem) return { reason: problem };
    crashAppended = true;
  }
  const durable = built.render.afterCrash(sys.view(state)) as DurableState | null;
  if (!durable) return { reason: 'the model has no durable state after the crash' };
  // S_DAX is fixed per configuration (the mount), nothing in a run changes it.
  return { platform: 'eadr', steps, crashAppended, durable, dax: config.dax, run: { sys, built, events, states } };
}
