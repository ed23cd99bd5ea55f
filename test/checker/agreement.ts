/**
 * The agreement property: the compiled step function and XState's own `transition()` agree.
 *
 * Two modes, both usable on any machine the compiler accepts (the feature zoo, any built spec):
 * - `checkSequences`: random event sequences from the initial state, most picks drawn from the
 *   events enabled in the current state;
 * - `checkRandomStates`: random (even unreachable) states loaded with `machine.resolveState`, each
 *   tried with every event.
 *
 * On every (state, event) pair visited, both compare:
 * - enabledness: the compiled step's "enabled" (`step() >= 0`) against XState's — the transitions
 *   `machine.getTransitionData(snapshot, event)` selects. That, not `snapshot.can(event)`, is what
 *   `transition()` acts on: `can` also asks that some selected transition has a target or actions,
 *   but a selected transition with neither still blocks its ancestors' handlers (the zoo has one).
 *   In a done machine `getTransitionData` still selects root-level handlers, and `transition()`
 *   takes them; disabled means `transition()` returns the very same snapshot.
 * - the rule: the machine transitions the compiled step took (`ruleKey`), against XState's
 *   selection after `removeConflicts`, in order;
 * - the result: state value, status and every context byte.
 * Sequences compare every event of each state the first time the check visits it, and the chosen
 * event always. Both return fast-check's verdict, so a test can also show that a broken compiler
 * (`mutate`, see checker/xstate/compile.ts `Mutation`) is caught; and both can fill a `Coverage`.
 */
import fc from 'fast-check';
import { initialTransition, transition, type AnyStateMachine, type EventObject } from 'xstate';
import { compileMachine, type CompiledMachine, type Mutation } from '../../checker/xstate/compile.ts';
import { removeConflicts, type SN, type TD } from '../../checker/xstate/semantics.ts';

type Snap = { value: unknown; status: string; context: Record<string, Uint8Array>; _nodes: SN[] };
type Bounds = Record<string, number[] | number>;

/** What a check visited: states, rules and machine transitions, (state, event) pairs compared. */
export interface Coverage {
  /** Distinct state vectors reached (sequences) or loaded (random states). */
  states: Set<string>;
  /** Rules the compiled step returned, by `ruleKey` (the same in every compiled copy). */
  rules: Set<string>;
  /** Machine transitions (`CompiledTransition.id`) that fired, alone or in a multi-transition rule. */
  transitions: Set<number>;
  /** (state, event) pairs whose enabledness was compared, and how many of those were enabled. */
  pairs: number;
  enabledPairs: number;
  /** Events applied (sequences), sequences run, and the longest sequence. */
  steps: number;
  sequences: number;
  longest: number;
}

export function newCoverage(): Coverage {
  return { states: new Set(), rules: new Set(), transitions: new Set(), pairs: 0, enabledPairs: 0, steps: 0, sequences: 0, longest: 0 };
}

interface Common {
  bounds?: Bounds;
  /** Compile a deliberately broken variant (tests only). */
  mutate?: Mutation;
  /** Patch the compiled copy before use (tests only). */
  patch?: (sys: CompiledMachine) => void;
  seed?: number;
  coverage?: Coverage;
}

export interface SequenceOptions extends Common {
  runs: number;
  /** Length of each sequence: from `minLength` (default 0) to `maxLength` events, drawn over the whole range. */
  maxLength: number;
  minLength?: number;
  /** Share of the picks drawn from the events enabled in the current state (default 0.9); the rest from all events. */
  enabledBias?: number;
  /**
   * Swarm testing (default 'weights'): each sequence gives every event a random weight (1, 4, 16,
   * 64 or 256) and picks among the enabled ones in proportion; with 'off', it switches off a random
   * subset of the events, picked only when no other is enabled. Without either, an event enabled
   * almost everywhere (a power failure, after which the machine soon ends) cuts nearly every walk
   * short of the deep states.
   */
  swarm?: 'weights' | 'off' | false;
  /**
   * Known paths from the initial state (e.g. the explorer's shortest paths to its states): half the
   * sequences then begin with one of them, chosen at random, so they start deep. Every step of the
   * path is compared like any other.
   */
  starts?: { count: number; events(i: number): number[] };
}

export interface RandomStateOptions extends Common {
  runs: number;
}

const keyOf = (state: Uint8Array) => String.fromCharCode.apply(null, state as unknown as number[]);

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

/** One compiled copy and what comparing against XState needs. */
class Judge {
  readonly sys: CompiledMachine;
  readonly dst: Uint8Array;
  private readonly idOf = new Map<TD, number>();
  private readonly root: SN;

  constructor(
    readonly machine: AnyStateMachine,
    readonly events: EventObject[],
    opts: Common,
  ) {
    this.sys = compileMachine(machine, { events, bounds: opts.bounds, mutate: opts.mutate });
    opts.patch?.(this.sys);
    this.dst = new Uint8Array(this.sys.stateBytes);
    for (const t of this.sys.transitions) this.idOf.set(t.def, t.id);
    this.root = machine.root as unknown as SN;
  }

  /** XState's selection for an event, or the error its guards threw. */
  selection(snap: Snap, e: number): TD[] | Error {
    try {
      return (this.machine.getTransitionData(snap as never, this.events[e]) ?? []) as unknown as TD[];
    } catch (err) {
      return err as Error;
    }
  }

  /**
   * Compares enabledness and the rule of one (state, event) pair; returns the compiled step's
   * rule (or -1, or the error it threw) and a difference, if any.
   */
  comparePair(state: Uint8Array, snap: Snap, e: number, where: () => string): { rule: number | Error; diff: string | null } {
    const theirs = this.selection(snap, e);
    let rule: number | Error;
    try {
      rule = this.sys.step(state, e, this.dst);
    } catch (err) {
      rule = err as Error;
    }
    const ev = this.events[e].type;
    // Garbage contexts (random states) can make guards or actions throw; both sides must then.
    // The compiled step may throw in an action, which XState's selection does not run: the caller
    // then asks `transition()`.
    if (rule instanceof Error) return { rule, diff: null };
    if (theirs instanceof Error) return { rule, diff: `${where()}, on ${ev}: only XState threw (${theirs.message})` };
    if (rule >= 0 !== theirs.length > 0) {
      const said = rule >= 0 ? `enabled (${this.sys.ruleLabel(rule)})` : 'disabled';
      const xs = theirs.length ? `selects ${theirs.map((t) => this.label(t)).join(' + ')}` : 'selects nothing';
      return { rule, diff: `${where()}, on ${ev}: the compiled step says ${said}, XState ${xs}` };
    }
    if (rule >= 0) {
      const kept = theirs.length > 1 ? removeConflicts(theirs, new Set(snap._nodes), this.root) : theirs;
      const want = kept.map((t) => this.idOf.get(t) ?? -1).join(',');
      const got = this.sys.ruleKey(rule);
      if (want !== got) {
        return { rule, diff: `${where()}, on ${ev}: the compiled step takes ${this.sys.ruleLabel(rule)}, XState ${kept.map((t) => this.label(t)).join(' + ')}` };
      }
    }
    return { rule, diff: null };
  }

  private label(t: TD): string {
    const id = this.idOf.get(t);
    return id === undefined ? `(unknown transition of #${t.source.id})` : this.sys.transitions[id].label;
  }

  count(cov: Coverage | undefined, rule: number): void {
    if (!cov || rule < 0) return;
    const key = this.sys.ruleKey(rule);
    if (cov.rules.has(key)) return;
    cov.rules.add(key);
    for (const t of this.sys.ruleTransitions(rule)) cov.transitions.add(t.id);
  }
}

/**
 * Random event sequences from the initial state. Of the picks, `enabledBias` come from the events
 * the compiled step says are enabled (its enabledness is compared with XState's first), the rest
 * from all events. In a state where nothing is enabled the sequence starts again from the initial
 * state, so every pick is spent and a check of `runs` sequences costs about `runs` times their
 * mean length in XState transitions.
 */
export function checkSequences(machine: AnyStateMachine, events: EventObject[], opts: SequenceOptions) {
  const judge = new Judge(machine, events, opts);
  const { sys, dst } = judge;
  const cov = opts.coverage;
  const bias = Math.round((opts.enabledBias ?? 0.9) * 1000);
  const [snap0] = initialTransition(machine) as unknown as [Snap];
  const initial = sys.initialStates()[0];
  const initialDiff = same(sys, initial, snap0);
  if (initialDiff) throw new Error(`initial state differs: ${initialDiff}`);
  // States whose every event was compared (and agreed) in this check.
  const compared = new Set<string>();
  const enabled: number[] = [];
  const preferred: number[] = [];
  const pick = fc.tuple(fc.nat(999), fc.nat());
  const mode = opts.swarm ?? 'weights';
  // Per event: its weight's exponent ('weights') or 1 when switched off ('off').
  const swarm = mode === false ? fc.constant([] as number[]) : fc.array(fc.nat(mode === 'off' ? 1 : 4), { minLength: events.length, maxLength: events.length });
  const lengths = { minLength: opts.minLength ?? 0, maxLength: opts.maxLength, size: 'max' } as const;
  const starts = opts.starts;
  const start = starts && starts.count > 0 ? fc.option(fc.nat(starts.count - 1), { freq: 2 }) : fc.constant(null);
  return fc.check(
    fc.property(start, swarm, fc.array(pick, lengths), (from, weights, picks) => {
      let snap = snap0;
      let state = initial;
      const path: string[] = [];
      const where = () => `after [${path.join(', ')}]`;
      if (cov) cov.sequences++;
      const prefix = from === null ? [] : opts.starts!.events(from).map((e) => [-1, e] as const);
      for (const [p, n] of [...prefix, ...picks]) {
        const key = keyOf(state);
        cov?.states.add(key);
        const fresh = !compared.has(key);
        enabled.length = 0;
        for (let e = 0; e < events.length; e++) {
          if (fresh) {
            const { rule, diff } = judge.comparePair(state, snap, e, where);
            if (diff) throw new Error(diff);
            if (rule instanceof Error) throw rule;
            if (cov) cov.pairs++;
            if (rule >= 0) {
              enabled.push(e);
              if (cov) cov.enabledPairs++;
            }
          } else if (sys.step(state, e, dst) >= 0) enabled.push(e);
        }
        compared.add(key);
        if (!enabled.length) {
          // Nothing enabled (the machine has ended): the rest of the sequence starts again.
          snap = snap0;
          state = initial;
          path.push('(restart)');
          continue;
        }
        let e: number;
        if (p < 0) e = n;
        else if (p >= bias) e = n % events.length;
        else if (mode === 'weights') {
          let total = 0;
          for (const x of enabled) total += 1 << (2 * weights[x]);
          let r = n % total;
          e = enabled[0];
          for (const x of enabled) {
            r -= 1 << (2 * weights[x]);
            if (r < 0) {
              e = x;
              break;
            }
          }
        } else {
          preferred.length = 0;
          for (const x of enabled) if (!weights[x]) preferred.push(x);
          const from = preferred.length ? preferred : enabled;
          e = from[n % from.length];
        }
        path.push(events[e].type);
        // The chosen pair is compared again: a copy's caches may have changed since.
        const { rule, diff } = judge.comparePair(state, snap, e, () => `after [${path.slice(0, -1).join(', ')}]`);
        if (diff) throw new Error(diff);
        if (rule instanceof Error) throw rule;
        const [next] = transition(machine, snap as never, events[e]) as unknown as [Snap];
        if (rule >= 0) {
          state = dst.slice();
          judge.count(cov, rule);
        } else if (next !== snap) throw new Error(`${where()}: XState changed its snapshot on a disabled event`);
        snap = next;
        const stepDiff = same(sys, state, snap);
        if (stepDiff) throw new Error(`${where()}: ${stepDiff}`);
        if (cov) cov.steps++;
      }
      if (cov) {
        cov.states.add(keyOf(state));
        cov.longest = Math.max(cov.longest, path.length);
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
export function checkRandomStates(machine: AnyStateMachine, events: EventObject[], opts: RandomStateOptions) {
  const judge = new Judge(machine, events, opts);
  const { sys, dst } = judge;
  const cov = opts.coverage;
  const fields = sys.fields;
  const bounds = opts.bounds ?? {};
  return fc.check(
    fc.property(
      fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      fc.array(fc.nat(255), { minLength: sys.stateBytes, maxLength: sys.stateBytes }),
      (choices, bytes) => {
        let i = 0;
        const value = randomValue(machine.root as unknown as SN, () => choices[i++ % choices.length]);
        const context: Record<string, Uint8Array> = {};
        for (const f of fields) {
          const b = bounds[f.name] ?? 255;
          context[f.name] = Uint8Array.from({ length: f.length }, (_, j) => bytes[f.offset + j] % ((typeof b === 'number' ? b : b[j]) + 1));
        }
        const snap = machine.resolveState({ value: value as never, context: context as never }) as unknown as Snap;
        const state = sys.fromSnapshot(snap as never);
        cov?.states.add(keyOf(state));
        const where = () => `from ${JSON.stringify(value)}`;
        for (let e = 0; e < events.length; e++) {
          const { rule, diff } = judge.comparePair(state, snap, e, where);
          if (diff) throw new Error(diff);
          if (cov) cov.pairs++;
          let theirs: Snap | Error;
          try {
            [theirs] = transition(machine, snap as never, events[e]) as unknown as [Snap];
          } catch (err) {
            theirs = err as Error;
          }
          if (rule instanceof Error || theirs instanceof Error) {
            if (rule instanceof Error && theirs instanceof Error) continue;
            const which = rule instanceof Error ? `the compiled step threw (${rule.message})` : `XState threw (${(theirs as Error).message})`;
            throw new Error(`${where()}, on ${events[e].type}: only ${which}`);
          }
          if (rule >= 0 && cov) cov.enabledPairs++;
          judge.count(cov, rule);
          const diff2 = same(sys, rule >= 0 ? dst.slice() : state, theirs);
          if (diff2) throw new Error(`${where()}, on ${events[e].type}: ${diff2}`);
        }
      },
    ),
    { numRuns: opts.runs, seed: opts.seed },
  );
}
