/**
 * What the explorer explores: a finite transition system over fixed-size byte vectors.
 *
 * The checker knows nothing about DAX, filesystems or XState. Anything that can say what its
 * initial states are, which events exist (in a fixed order), and what the successor of a state
 * under an event is, can be checked. The XState compiler (checker/xstate/) produces one of these
 * from a machine; the test fixtures write them by hand.
 */
import type { Symmetry } from './symmetry.ts';

export interface TransitionSystem<V = unknown> {
  /** Name used in messages. */
  readonly name: string;
  /** Length of an (unpacked) state vector in bytes. */
  readonly stateBytes: number;
  /**
   * For every byte of the state vector, the largest value it may ever hold. The explorer packs
   * states into the fewest bits these bounds allow; a value beyond its bound is a model error and
   * stops exploration with a message naming the byte.
   */
  readonly maxValues: Uint8Array;
  /** Number of events; events are tried in index order, which makes exploration deterministic. */
  readonly eventCount: number;
  /** Short label of an event, e.g. `T0.store` or `power_fail{image=3}`. */
  eventLabel(event: number): string;
  /** Name of a byte of the state vector (for error messages), e.g. `volatile[7]`. */
  byteLabel(index: number): string;
  /** The initial states. */
  initialStates(): Uint8Array[];
  /**
   * Successor of `src` under `event`, written into `dst` (same length, contents arbitrary on entry).
   * Returns -1 when the event is not enabled in `src`, otherwise a rule number ≥ 0 telling which
   * piece of the specification produced the step (for coverage statistics; see `ruleLabel`).
   */
  step(src: Uint8Array, event: number, dst: Uint8Array): number;
  /**
   * Optional: every successor of `src` at once, exactly what `step` gives for each event in index
   * order where it returns a rule: successor k at `out[k * stateBytes ..]`, its event at
   * `events[k]`, its rule at `rules[k]`; returns how many. `out` holds `eventCount` states.
   */
  successors?(src: Uint8Array, out: Uint8Array, events: Uint16Array, rules: Int32Array): number;
  /** Number of rules `step` can report. */
  readonly ruleCount: number;
  /** Human label of a rule, e.g. `running.T0.mmap --T0.mmap--> running.T0.store`. */
  ruleLabel(rule: number): string;
  /**
   * Where rules are numbered as they are discovered, two copies of a system (in two workers)
   * number them differently: a key names a rule the same way in every copy, and `ruleOfKey`
   * gives (or makes) this copy's number for it. Without them, the rule number is its key.
   */
  ruleKey?(rule: number): string;
  ruleOfKey?(key: string): number;
  /**
   * A view of a state for properties. Implementations may return the same object every time,
   * re-pointed at `state`; callers must not keep it across calls.
   */
  view(state: Uint8Array): V;
  /**
   * Parts of the system that are interchangeable (checker/symmetry.ts), if its author declared
   * any: the explorer may then store one representative per class of symmetric states.
   */
  readonly symmetry?: Symmetry;
}

/**
 * A property is a named sentence about the reachable states, with a short id to cite it by.
 *
 * `id` is a short kebab-case identifier that reads like the sentence (`pointer-after-alloc`,
 * `no-deadlock`). It is stable: manifests, reports/verdicts.json and the reports key a property by
 * it, so renaming one is a migration. It is unique within a spec (the explorer refuses two
 * properties with one id), and one id names one sentence across specs. The sentence is `name`.
 */
export type Property<V> =
  | {
      kind: 'always';
      /** Short kebab-case identifier, stable, unique within a spec, e.g. "pointer-after-alloc". */
      id: string;
      /** The invariant as a sentence, e.g. "a data pointer never precedes a durable allocation". */
      name: string;
      /** True when the state satisfies the invariant. */
      holds: (view: V) => boolean;
    }
  | {
      kind: 'sometimes';
      /** Short kebab-case identifier, stable, unique within a spec, e.g. "record-survives". */
      id: string;
      /** The goal as a sentence, e.g. "the pointer and its data both survive a crash". */
      name: string;
      /** True when the state is a witness of the goal. */
      reached: (view: V) => boolean;
    }
  | {
      kind: 'deadlock';
      /** Short kebab-case identifier, stable, unique within a spec, e.g. "no-deadlock". */
      id: string;
      /** e.g. "no thread waits forever". */
      name: string;
      /** True when the event is a step of a thread (not the environment: crash, eviction, ...). */
      isProgress: (event: number) => boolean;
      /** True when every thread is finished in this state (then having no step is not a deadlock). */
      isDone: (view: V) => boolean;
    }
  | {
      /**
       * Liveness: every state where `p` holds is followed, then or later, by one where `q` holds,
       * on every run that is weakly fair to the actors `fairness` names (checker/liveness.ts).
       * Violated by a lasso: a run that reaches `p`, then repeats a cycle without `q` forever (or
       * stops where nothing can move).
       */
      kind: 'leads-to';
      /** Short kebab-case identifier, stable, unique within a spec, e.g. "store-completes". */
      id: string;
      /** e.g. "every store a thread starts completes". */
      name: string;
      /** The obligation starts where this holds (a thread is inside its store). */
      p: (view: V) => boolean;
      /** The obligation is met where this holds (the store has retired). */
      q: (view: V) => boolean;
      fairness: Fairness;
    };

/**
 * Weak fairness: the actors that may not be ignored forever, and which events are theirs. An
 * actor that has some event enabled in every state of a cycle must take a step on the cycle.
 * Events of no actor (a power failure, a cache-line eviction) may happen but need not.
 */
export interface Fairness {
  /** Actor names, e.g. `T0`, `jbd2` (at most 32). */
  actors: string[];
  /** Index in `actors` of the actor taking `event`, or -1 when the event is under no fairness. */
  actorOf(event: number): number;
}

export type PropertyKind = Property<unknown>['kind'];

/**
 * A quantity measured over every transition the explorer takes, e.g. "journal items committed
 * inside one page fault". The explorer reports its largest value.
 */
export interface Measure<V> {
  name: string;
  unit: string;
  /** The value of the transition from `src` to `dst` under `event`, or undefined if it does not count. */
  edge(src: V, event: number, dst: V): number | undefined;
}

/** A rule's key in any copy of the system (see TransitionSystem.ruleKey). */
export function ruleKey(system: TransitionSystem<unknown>, rule: number): string {
  return system.ruleKey ? system.ruleKey(rule) : String(rule);
}

/** This copy's number for a rule key. */
export function ruleOfKey(system: TransitionSystem<unknown>, key: string): number {
  return system.ruleOfKey ? system.ruleOfKey(key) : Number(key);
}
