/**
 * Covering paths: besides counterexamples and witnesses, the shortest path to each control state
 * of a spec configuration, found by XState's own graph traversal (`xstate/graph`), so that the
 * kernel checks the model where nothing went wrong too. A path that does not end in a crash gets
 * one appended when it is replayed, so each covering path is also "power fails right here".
 *
 * `getShortestPaths` is first given a serialisation of the whole snapshot (state value and every
 * context byte): with the state value alone it would merge states whose contexts differ and could
 * return event sequences that are not possible from the initial state. Most configurations have a
 * few hundred full states, so that is cheap; the shortest of the paths to each state value is then
 * kept. XState's traversal clones every snapshot and manages a few thousand states a second, so
 * above FULL_STATE_LIMIT states (a configuration with a third party has ~300,000) it falls back
 * to serialising the state value alone. Either way every path is checked against the compiled
 * machine, and one that is not possible is dropped and counted.
 */
import { getShortestPaths } from 'xstate/graph';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { AnySpec, DaxRunConfig } from '../../specs/common/spec.ts';
import { compile, stepOf } from './model.ts';
import type { TraceInput } from './program.ts';

/** Readable name of a state value: `running.T0.storeData`, `recovered`; regions joined by `+`. */
export function valueName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const inner = valueName(v);
      return inner.includes('+') ? `${k}.(${inner})` : `${k}.${inner}`;
    });
    return parts.length === 1 ? parts[0] : parts.join('+');
  }
  return String(value);
}

function serialize(snapshot: AnyMachineSnapshot): string {
  const ctx = snapshot.context as Record<string, Uint8Array>;
  const bytes = Object.keys(ctx)
    .sort()
    .map((k) => Array.from(ctx[k]).join(','))
    .join('|');
  return `${JSON.stringify(snapshot.value)}#${snapshot.status}#${bytes}`;
}

/** Above this many full states, covering paths are searched over state values alone. */
export const FULL_STATE_LIMIT = 5000;

/** What coveringTraces found, and how. */
export interface Covering {
  traces: TraceInput[];
  /** `full` (value and context) or `value` (state value only, for large configurations). */
  serialization: 'full' | 'value';
  /** Paths xstate/graph returned that the compiled machine cannot take (value serialisation). */
  dropped: number;
}

/** The shortest path to each control state of the configuration, as traces (empty path left out). */
export function coveringTraces(spec: AnySpec, config: DaxRunConfig): TraceInput[] {
  return covering(spec, config).traces;
}

/** The covering traces of a configuration, with how they were found (see the module comment). */
export function covering(spec: AnySpec, config: DaxRunConfig): Covering {
  const { sys, built } = compile(spec, config);
  const labelOf = new Map(built.events.map((e, i) => [JSON.stringify(e), sys.eventLabel(i)]));
  const indexOf = new Map(built.events.map((e, i) => [JSON.stringify(e), i]));
  let serialization: Covering['serialization'] = 'full';
  let paths;
  try {
    paths = getShortestPaths(built.machine, {
      events: built.events as EventObject[],
      serializeState: (s) => serialize(s as AnyMachineSnapshot),
      limit: FULL_STATE_LIMIT,
    });
  } catch (err) {
    if (!/limit exceeded/i.test((err as Error).message)) throw err;
    serialization = 'value';
    paths = getShortestPaths(built.machine, {
      events: built.events as EventObject[],
      serializeState: (s) => `${JSON.stringify((s as AnyMachineSnapshot).value)}#${(s as AnyMachineSnapshot).status}`,
    });
  }
  const best = new Map<string, EventObject[]>();
  for (const p of paths) {
    const events = p.steps.map((s) => s.event as EventObject).filter((e) => !e.type.startsWith('xstate.'));
    const name = valueName((p.state as AnyMachineSnapshot).value);
    const key = (ev: EventObject[]) => ev.map((e) => labelOf.get(JSON.stringify(e))).join(' ');
    const prev = best.get(name);
    // Shortest first, then the first in label order: deterministic whatever XState's order.
    if (!prev || events.length < prev.length || (events.length === prev.length && key(events) < key(prev))) best.set(name, events);
  }
  const out: TraceInput[] = [];
  let dropped = 0;
  paths: for (const [name, events] of [...best].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!events.length) continue;
    let state = sys.initialStates()[0];
    const steps: TraceInput['steps'] = [];
    for (const ev of events) {
      const e = indexOf.get(JSON.stringify(ev));
      if (e === undefined) throw new Error(`internal error: xstate/graph produced an event outside the alphabet: ${JSON.stringify(ev)}`);
      const ex = sys.explain(state, e);
      const next = stepOf(sys, state, e);
      if (!ex || !next) {
        // Full serialisation never merges states, so its paths are always possible.
        if (serialization === 'full') throw new Error(`internal error: xstate/graph path to ${name} is not possible in the compiled machine`);
        dropped++;
        continue paths;
      }
      steps.push({ event: sys.eventLabel(e), actions: ex.actions.map((a) => ({ type: a.type, params: a.params ?? null })) });
      state = next;
    }
    out.push({ source: `${spec.name}/${config.name}`, spec: spec.name, config: config.name, property: `covering path to ${name}`, kind: 'cover', steps });
  }
  return { traces: out, serialization, dropped };
}
