/**
 * The agreement property: random event sequences run through XState's own `transition()` and
 * through the compiled step function end in the same state value, status and context after every
 * step. Used by the agreement tests; returns fast-check's verdict so a test can also show that a
 * broken compiler is caught.
 */
import fc from 'fast-check';
import { initialTransition, transition, type AnyStateMachine, type EventObject } from 'xstate';
import { compileMachine, type CompiledMachine } from '../../checker/xstate/compile.ts';
import type { SN } from '../../checker/xstate/semantics.ts';

type Snap = { value: unknown; status: string; context: Record<string, Uint8Array> };

function same(sys: CompiledMachine, state: Uint8Array, snap: Snap): string | null {
  const mine = sys.toSnapshotLike(state);
  if (JSON.stringify(sortKeys(mine.value)) !== JSON.stringify(sortKeys(snap.value))) {
    return `value ${JSON.stringify(mine.value)} vs xstate ${JSON.stringify(snap.value)}`;
  }
  if (mine.status !== snap.status) return `status ${mine.status} vs xstate ${snap.status}`;
  for (const k of Object.keys(snap.context)) {
    if (String(mine.context[k]) !== String(snap.context[k])) return `context.${k} [${mine.context[k]}] vs xstate [${snap.context[k]}]`;
  }
  return null;
}

function sortKeys(v: unknown): unknown {
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}

/** Random event sequences from the initial state. `enabledBias` of the picks come from enabled events. */
export function checkSequences(
  machine: AnyStateMachine,
  events: EventObject[],
  opts: { runs: number; maxLength: number; bounds?: Record<string, number[] | number>; patch?: (sys: CompiledMachine) => void; seed?: number },
) {
  return fc.check(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: opts.maxLength }), (picks) => {
      const sys = compileMachine(machine, { events, bounds: opts.bounds });
      opts.patch?.(sys);
      let snap = initialTransition(machine)[0] as unknown as Snap;
      let state = sys.initialStates()[0];
      const initialDiff = same(sys, state, snap);
      if (initialDiff) throw new Error(`initial state differs: ${initialDiff}`);
      const dst = new Uint8Array(sys.stateBytes);
      for (const [anyEvent, n] of picks) {
        let e: number;
        if (anyEvent) e = n % events.length;
        else {
          const enabled = [...events.keys()].filter((i) => sys.step(state, i, dst) >= 0);
          if (!enabled.length) break;
          e = enabled[n % enabled.length];
        }
        [snap] = transition(machine, snap as never, events[e]) as unknown as [Snap];
        const rule = sys.step(state, e, dst);
        if (rule >= 0) state = dst.slice();
        const diff = same(sys, state, snap);
        if (diff) throw new Error(`after ${events[e].type}: ${diff}`);
      }
    }),
    { numRuns: opts.runs, seed: opts.seed },
  );
}

/** A random state value of the machine: one child of every compound state, all regions of a parallel one. */
function randomValue(node: SN, pick: () => number): unknown {
  const kids = Object.values(node.states).filter((c) => c.type !== 'history');
  if (node.type === 'compound') {
    const c = kids[pick() % kids.length];
    return c.type === 'compound' || c.type === 'parallel' ? { [c.key]: randomValue(c, pick) } : c.key;
  }
  if (node.type === 'parallel') {
    return Object.fromEntries(kids.map((c) => [c.key, c.type === 'compound' || c.type === 'parallel' ? randomValue(c, pick) : {}]));
  }
  return {};
}

/** Random (even unreachable) states, each tried with every event. */
export function checkRandomStates(
  machine: AnyStateMachine,
  events: EventObject[],
  opts: { runs: number; bounds: Record<string, number[] | number> },
) {
  const sys0 = compileMachine(machine, { events, bounds: opts.bounds });
  const fields = sys0.fields;
  return fc.check(
    fc.property(fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), fc.array(fc.nat(255), { minLength: sys0.stateBytes, maxLength: sys0.stateBytes }), (choices, bytes) => {
      let i = 0;
      const value = randomValue(machine.root as unknown as SN, () => choices[i++ % choices.length]);
      const context: Record<string, Uint8Array> = {};
      for (const f of fields) {
        const b = opts.bounds[f.name];
        context[f.name] = Uint8Array.from({ length: f.length }, (_, j) => bytes[f.offset + j] % ((typeof b === 'number' ? b : b[j]) + 1));
      }
      const snap = machine.resolveState({ value: value as never, context: context as never }) as unknown as Snap & { _nodes: SN[] };
      const sys = compileMachine(machine, { events, bounds: opts.bounds });
      const state = sys.fromSnapshot(snap as never);
      const dst = new Uint8Array(sys.stateBytes);
      for (let e = 0; e < events.length; e++) {
        let theirs: Snap | Error;
        let mine: Uint8Array | Error;
        try {
          [theirs] = transition(machine, snap as never, events[e]) as unknown as [Snap];
        } catch (err) {
          theirs = err as Error;
        }
        try {
          mine = sys.step(state, e, dst) >= 0 ? dst.slice() : state;
        } catch (err) {
          mine = err as Error;
        }
        if (theirs instanceof Error || mine instanceof Error) {
          if (!(theirs instanceof Error && mine instanceof Error)) throw new Error(`only one side threw on ${events[e].type}`);
          continue;
        }
        const diff = same(sys, mine, theirs);
        if (diff) throw new Error(`from ${JSON.stringify(value)} on ${events[e].type}: ${diff}`);
      }
    }),
    { numRuns: opts.runs },
  );
}
