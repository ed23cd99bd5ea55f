/**
 * Compiles an XState v5 machine into a `TransitionSystem` over byte vectors.
 *
 * The machine stays a genuine XState machine: `createActor` and `transition()` run it as usual.
 * This module reads its structure once (state nodes, transitions, guards, actions, the named
 * implementations given to `setup`) and builds a step function that agrees with XState's own
 * `transition()` on every event of the machine's alphabet — test/checker/xstate-agreement.test.ts
 * checks that with random event sequences.
 *
 * State vector: two bytes naming the configuration (the set of active state nodes, plus XState's
 * sticky 'done' status), then every byte of every context field in the context's key order. The
 * context must be a record of fixed-length `Uint8Array`s. Actions written with `mutator()` run in
 * place on the vector; plain `assign` actions work too, more slowly.
 *
 * Supported: atomic, compound, parallel and final states; transitions with guards (named, inline,
 * with params, `not`/`and`/`or`/`stateIn`), actions, targets (several allowed), `reenter`;
 * entry/exit actions and `initial` actions; exact and partial-wildcard (`T0.*`) event descriptors.
 * Refused with an error naming the machine and the construct: history states, `always`, `after`,
 * `invoke`, `onDone`, `*` and `xstate.*` descriptors, `route`, and actions that are not `assign`
 * (raise, sendTo, spawn, log, plain functions), since none of these can be explored soundly here.
 */
import { and, initialTransition, matchesState, not, or, stateIn, type AnyStateMachine, type EventObject } from 'xstate';
import type { TransitionSystem } from '../system.ts';
import type { Symmetry } from '../symmetry.ts';
import { getMutation, type ByteContext } from './mutator.ts';
import {
  children,
  completesRoot,
  entrySet,
  exitSet,
  isAtomic,
  removeConflicts,
  stateValue,
  type SN,
  type TD,
} from './semantics.ts';

/** `CompiledMachine.successors` of one configuration, generated (`generateSuccessors`). */
type GeneratedSuccessors = (src: Uint8Array, out: Uint8Array, events: Uint16Array, rules: Int32Array, ctx: ByteContext, slots: ByteContext[], cfg: Config) => number;

/** States a configuration is expanded in before its `successors` is generated: cold ones are not worth compiling. */
const GENERATE_AFTER = 256;

/**
 * The function and params behind a compiled guard or action that only calls the machine's own
 * implementation with constant params: generated code calls that directly.
 */
const directForms = new WeakMap<object, { fn: unknown; params: unknown }>();

function direct<F extends object>(wrapper: F, fn: unknown, params: unknown): F {
  directForms.set(wrapper, { fn, params });
  return wrapper;
}

function directOf(f: object): { fn: unknown; params: unknown } | undefined {
  return directForms.get(f);
}

/** A machine construct the compiler cannot explore soundly, or a malformed context. */
export class UnsupportedMachineError extends Error {}

type Guard = (ctx: ByteContext, event: EventObject, cfg: Config) => boolean;
type Run = (ctx: ByteContext, event: EventObject) => void;

export interface CompiledAction {
  /** Action type as written in the machine (`dax_iomap_fault`, `xstate.assign`, ...). */
  type: string;
  /** Where the action comes from, e.g. `transition running.T0.mmap --T0.mmap-->` or `entry of #m.x`. */
  origin: string;
  run: Run;
  /** Resolves the action's params against a context and event. */
  params: (ctx: ByteContext, event: EventObject) => unknown;
}

export interface CompiledTransition {
  /** Index in `CompiledMachine.transitions` (document order of source nodes). */
  id: number;
  source: SN;
  def: TD;
  eventType: string;
  guard: Guard | null;
  /** Guard as written, for labels: `isPteWritable`, `not(isDaxInode)`, `(inline)`. */
  guardLabel: string | null;
  actions: CompiledAction[];
  /** Position of this transition among those of its source node for its descriptor. */
  index: number;
  label: string;
}

interface Sel {
  parts: Sel[];
  fallback: CompiledTransition[];
}

interface Micro {
  rule: number;
  actions: CompiledAction[];
  runs: Run[];
  next: number;
}

export interface Config {
  id: number;
  nodes: SN[];
  nodeSet: Set<SN>;
  done: boolean;
  /**
   * XState 5.33 sorts a done machine's active nodes in place, descending, to run their exit
   * actions, and keeps that array as the next snapshot's nodes; from then on the regions of a
   * parallel state are visited last to first. True for configurations reached that way.
   */
  reversed: boolean;
  value: unknown;
  sel: (Sel | null | undefined)[];
  /** The events some transition of this configuration handles, in index order, with their selections (`successors`). */
  plan?: { events: Int32Array; sels: Sel[] };
  /** States expanded in this configuration by `successors` (until it is generated). */
  expanded: number;
  /** `successors` for this configuration as generated code (`generateSuccessors`), once it is hot. */
  generated?: GeneratedSuccessors | null;
  single: (Micro | undefined)[];
  multi: Map<string, Micro>;
}

/** What `explain` reports of one step. */
export interface ExplainedStep {
  transitions: CompiledTransition[];
  actions: { type: string; origin: string; params: unknown; before: Uint8Array; after: Uint8Array }[];
}

/** What properties see of a state. */
export interface MachineView<C extends ByteContext = ByteContext> {
  readonly context: C;
  readonly value: unknown;
  readonly status: 'active' | 'done';
  readonly configuration: Config;
  /** `matches('running.T0.done')`: is that state node active? */
  matches(path: string): boolean;
}

export interface CompileOptions {
  /** Name used in messages; defaults to the machine id. */
  name?: string;
  /** The event alphabet, in the order the explorer tries events. */
  events: EventObject[];
  /** Largest value per context field (one number for all elements, or one per element). */
  bounds?: Record<string, number | ArrayLike<number>>;
  /** Label of an event for traces; defaults to `type{payload}`. */
  eventLabel?: (event: EventObject) => string;
  /**
   * States a configuration is expanded in by `successors` before its successor function is
   * generated as code (default 256; 0 at once, Infinity never). The results are the same.
   */
  generateAfter?: number;
  /** Tests only: compile a deliberately broken variant (see `Mutation`). Absent, nothing changes. */
  mutate?: Mutation;
}

/**
 * Deliberately broken variants of this compiler, for tests only: the agreement test
 * (test/checker/xstate-agreement.test.ts) shows that it catches each one. Each plants its bug in
 * the compiled copy alone, by shadowing a method on the instance or by a branch on a path that runs
 * once per (configuration, selection); the step function of an unmutated copy is the one above.
 */
export type Mutation =
  /** An event whose candidate transitions are all blocked by guards becomes an enabled self-loop. */
  | 'guard-blocked-self-loop'
  /** A state with several active regions tries its own transitions before its regions'. */
  | 'parent-before-regions'
  /** Conflicting transitions of several regions all run (`removeConflicts` skipped). */
  | 'skip-remove-conflicts'
  /** A state's `initial` actions run before its entry actions. */
  | 'initial-before-entry'
  /** A step of several transitions is cached by its first transition only. */
  | 'multi-cache-by-first'
  /** A step's actions run in reverse order. */
  | 'reverse-actions'
  /** Every guard passes. */
  | 'ignore-guards';

export const MUTATIONS: readonly Mutation[] = [
  'guard-blocked-self-loop',
  'parent-before-regions',
  'skip-remove-conflicts',
  'initial-before-entry',
  'multi-cache-by-first',
  'reverse-actions',
  'ignore-guards',
];

const NOT = (not('x') as unknown as { check: unknown }).check;
const AND = (and(['x']) as unknown as { check: unknown }).check;
const OR = (or(['x']) as unknown as { check: unknown }).check;
const STATE_IN = (stateIn('x') as unknown as { check: unknown }).check;

export function defaultEventLabel(event: EventObject): string {
  const rest = Object.entries(event).filter(([k]) => k !== 'type');
  if (!rest.length) return event.type;
  return `${event.type}{${rest.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',')}}`;
}

export class CompiledMachine<C extends ByteContext = ByteContext> implements TransitionSystem<MachineView<C>> {
  readonly name: string;
  readonly stateBytes: number;
  readonly maxValues: Uint8Array;
  readonly eventCount: number;
  readonly transitions: CompiledTransition[] = [];
  readonly fields: { name: string; offset: number; length: number }[] = [];
  readonly events: EventObject[];
  /** Interchangeable parts, where the machine's author declared them (attached after compiling). */
  symmetry?: Symmetry;

  private readonly root: SN;
  private readonly nodes: SN[];
  private readonly nodeExit = new Map<SN, CompiledAction[]>();
  private readonly nodeEntry = new Map<SN, CompiledAction[]>();
  private readonly nodeInitial = new Map<SN, CompiledAction[]>();
  private readonly candidates = new Map<SN, CompiledTransition[][]>();
  private readonly eventTypeIndex: number[];
  private readonly eventTypes: string[];
  private readonly configs: Config[] = [];
  private readonly configBound: number;
  /** Configurations of the state-node structure alone (without the done variants). */
  private readonly structBound: number;
  private readonly counts = new Map<SN, number>();
  private readonly rules: CompiledTransition[][] = [];
  private readonly ruleIndex = new Map<string, number>();
  private readonly labels: string[];
  private readonly initial: Uint8Array;
  private readonly pathCache = new Map<string, SN | null>();
  private ctxCache: { buf: Uint8Array; ctx: ByteContext; view?: View<C> }[] = [];
  private readonly selected: CompiledTransition[] = [];
  private lastSrc: Uint8Array | null = null;
  private lastSrcCtx: ByteContext | null = null;
  private lastDst: Uint8Array | null = null;
  private lastDstCtx: ByteContext | null = null;
  /** Copies a state vector: straight-line code for small states (TypedArray.set costs a call into the runtime). */
  private copy!: (src: Uint8Array, dst: Uint8Array) => void;
  /** Copies a state vector to `dst` at `offset`. */
  private copyAt!: (src: Uint8Array, dst: Uint8Array, offset: number) => void;
  private readonly mutation: Mutation | undefined;
  private readonly generateAfter: number;

  constructor(
    private readonly machine: AnyStateMachine,
    options: CompileOptions,
  ) {
    this.mutation = options.mutate;
    this.generateAfter = options.generateAfter ?? GENERATE_AFTER;
    this.name = options.name ?? machine.id;
    this.root = machine.root as unknown as SN;
    this.nodes = [...((machine as unknown as { idMap: Map<string, SN> }).idMap).values()].sort((a, b) => a.order - b.order);
    this.events = options.events;
    this.eventCount = options.events.length;
    if (this.eventCount > 0xffff) this.refuse(`has ${this.eventCount} events; at most 65535 are supported`);
    const label = options.eventLabel ?? defaultEventLabel;
    this.labels = options.events.map(label);
    this.eventTypes = [...new Set(options.events.map((e) => e.type))];
    const typeIdx = new Map(this.eventTypes.map((t, i) => [t, i]));
    this.eventTypeIndex = options.events.map((e) => typeIdx.get(e.type)!);

    if ((this.root.transitions as Map<string, unknown>).has('xstate.route')) {
      this.refuse('uses `route` transitions, which daxcheck does not explore');
    }
    for (const node of this.nodes) this.compileNode(node);
    // Each set of active nodes can be active, done, or done with regions in reverse order.
    this.structBound = this.countConfigurations(this.root);
    this.configBound = this.structBound * (this.nodes.some((n) => n.type === 'final') ? 3 : 1);
    if (this.configBound > 0x10000) this.refuse(`can be in ${this.configBound} configurations; at most 65536 are supported`);

    // Context layout, from XState's own initial snapshot.
    const [snap] = initialTransition(machine);
    const context = (snap as unknown as { context: unknown }).context;
    if (!context || typeof context !== 'object') this.refuse('has no context; daxcheck needs a record of Uint8Arrays');
    let offset = 2;
    for (const [key, value] of Object.entries(context as Record<string, unknown>)) {
      if (!(value instanceof Uint8Array)) {
        this.refuse(`context field '${key}' is not a Uint8Array; daxcheck explores contexts of fixed-length byte vectors`);
      }
      this.fields.push({ name: key, offset, length: value.length });
      offset += value.length;
    }
    this.stateBytes = offset;
    this.maxValues = new Uint8Array(offset);
    this.maxValues[0] = Math.min(255, this.configBound - 1);
    this.maxValues[1] = (this.configBound - 1) >> 8;
    for (const f of this.fields) {
      const b = options.bounds?.[f.name];
      for (let i = 0; i < f.length; i++) {
        const max = b === undefined ? 255 : typeof b === 'number' ? b : b[i];
        if (!(Number.isInteger(max) && max >= 0 && max <= 255)) {
          this.refuse(`bound of context field '${f.name}[${i}]' must be an integer 0..255, got ${max}`);
        }
        this.maxValues[f.offset + i] = max;
      }
    }
    this.initial = this.fromSnapshot(snap as never);
    this.copy =
      offset <= 96
        ? (new Function('s', 'd', Array.from({ length: offset }, (_, i) => `d[${i}] = s[${i}];`).join('\n')) as (src: Uint8Array, dst: Uint8Array) => void)
        : (src, dst) => dst.set(src);
    this.copyAt =
      offset <= 96
        ? (new Function('s', 'd', 'o', Array.from({ length: offset }, (_, i) => `d[o + ${i}] = s[${i}];`).join('\n')) as (src: Uint8Array, dst: Uint8Array, o: number) => void)
        : (src, dst, o) => dst.set(src, o);
    if (this.mutation) this.plantMutation(this.mutation);
  }

  // ---------------------------------------------------------------- TransitionSystem

  eventLabel(event: number): string {
    return this.labels[event];
  }

  byteLabel(index: number): string {
    if (index < 2) return 'configuration';
    const f = this.fields.find((x) => index >= x.offset && index < x.offset + x.length)!;
    return `${f.name}[${index - f.offset}]`;
  }

  initialStates(): Uint8Array[] {
    return [this.initial.slice()];
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  ruleLabel(rule: number): string {
    return this.rules[rule].map((t) => t.label).join(' + ');
  }

  /** Machine transitions making up a rule. */
  ruleTransitions(rule: number): CompiledTransition[] {
    return this.rules[rule];
  }

  /** A rule is a set of machine transitions, whose ids are the same in every compiled copy. */
  ruleKey(rule: number): string {
    return this.rules[rule].map((t) => t.id).join(',');
  }

  ruleOfKey(key: string): number {
    let rule = this.ruleIndex.get(key);
    if (rule === undefined) {
      rule = this.rules.length;
      this.rules.push(key.split(',').map((id) => this.transitions[Number(id)]));
      this.ruleIndex.set(key, rule);
    }
    return rule;
  }

  step(src: Uint8Array, event: number, dst: Uint8Array): number {
    const id = src[0] | (src[1] << 8);
    const cfg = this.configs[id] ?? this.configOf(id);
    let sel = cfg.sel[event];
    if (sel === undefined) sel = cfg.sel[event] = this.buildSel(this.root, cfg, this.eventTypeIndex[event]);
    if (sel === null) return -1;
    const ev = this.events[event];
    // Context views depend only on the buffer's identity, and the explorer reuses its buffers.
    const ctx = this.srcContext(src);
    const micro = this.pick(sel, ctx, ev, cfg);
    if (micro === null) return -1;
    this.copy(src, dst);
    let out: ByteContext;
    if (dst === this.lastDst) out = this.lastDstCtx!;
    else {
      out = this.contextOf(dst);
      this.lastDst = dst;
      this.lastDstCtx = out;
    }
    const runs = micro.runs;
    for (let i = 0; i < runs.length; i++) runs[i](out, ev);
    dst[0] = micro.next & 0xff;
    dst[1] = micro.next >> 8;
    return micro.rule;
  }

  /** The context view of a source state: the last one again when the explorer reuses its buffer. */
  private srcContext(src: Uint8Array): ByteContext {
    if (src !== this.lastSrc) {
      this.lastSrcCtx = this.contextOf(src);
      this.lastSrc = src;
    }
    return this.lastSrcCtx!;
  }

  /** The micro-step an event takes in a configuration and context, or null when no transition is enabled. */
  private pick(sel: Sel, ctx: ByteContext, ev: EventObject, cfg: Config): Micro | null {
    if (sel.parts.length === 0) {
      // One chain of candidates (the common case): the first whose guard passes.
      const list = sel.fallback;
      for (let i = 0; i < list.length; i++) {
        const c = list[i];
        if (c.guard === null || c.guard(ctx, ev, cfg)) return cfg.single[c.id] ?? (cfg.single[c.id] = this.buildMicro(cfg, [c]));
      }
      return null;
    }
    const ts = this.selected;
    ts.length = 0;
    this.select(sel, ctx, ev, cfg, ts);
    if (ts.length === 0) return null;
    if (ts.length === 1) return cfg.single[ts[0].id] ?? (cfg.single[ts[0].id] = this.buildMicro(cfg, [ts[0]]));
    const k = ts.map((t) => t.id).join(',');
    const micro = cfg.multi.get(k) ?? this.buildMicro(cfg, ts.slice());
    cfg.multi.set(k, micro);
    return micro;
  }

  /**
   * Every successor of `src` at once: for each enabled event, in index order, its successor into
   * `out` (state i at i * stateBytes), the event into `events` and the rule into `rules`; returns
   * how many. The same as `step` for every event in turn (test/checker/xstate-compile.test.ts),
   * with what `step` does per call (the configuration, the contexts) done once per state, and the
   * events no transition of the configuration handles never looked at.
   */
  successors(src: Uint8Array, out: Uint8Array, events: Uint16Array, rules: Int32Array): number {
    const id = src[0] | (src[1] << 8);
    const cfg = this.configs[id] ?? this.configOf(id);
    const ctx = this.srcContext(src);
    const slots = out === this.slotBuf ? this.slotCtx : this.makeSlots(out);
    const generated = cfg.generated;
    if (generated) return generated(src, out, events, rules, ctx, slots, cfg);
    if (generated === undefined && ++cfg.expanded > this.generateAfter) cfg.generated = this.generateSuccessors(cfg);
    const plan = cfg.plan ?? this.planOf(cfg);
    const pe = plan.events;
    const ps = plan.sels;
    let n = 0;
    for (let k = 0; k < pe.length; k++) if (this.oneSuccessor(ps[k], pe[k], ctx, src, out, events, rules, slots, cfg, n)) n++;
    return n;
  }

  private planOf(cfg: Config): { events: Int32Array; sels: Sel[] } {
    const events: number[] = [];
    const sels: Sel[] = [];
    for (let e = 0; e < this.eventCount; e++) {
      let sel = cfg.sel[e];
      if (sel === undefined) sel = cfg.sel[e] = this.buildSel(this.root, cfg, this.eventTypeIndex[e]);
      if (sel === null) continue;
      events.push(e);
      sels.push(sel);
    }
    return (cfg.plan = { events: Int32Array.from(events), sels });
  }

  /**
   * `successors` for one configuration as straight-line code: for each event its configuration
   * handles, the guards of its candidate transitions in order, then the copy, the actions and the
   * next configuration of the first that passes. Every guard and action is called from a call
   * site of its own with its event and params as constants, so V8 inlines them, where the
   * general loop calls every guard and action of the machine from one site. Same results as the
   * loop, event by event (test/checker/xstate-compile.test.ts); null where it does not apply
   * (a copy with a planted bug, or an error building a step, which the loop then reports).
   *
   * Every candidate's step is built here, also of transitions not yet taken: rule numbers are
   * then given in a different order than by the loop, which changes nothing outside this class
   * (they are counted per machine transition).
   */
  private generateSuccessors(cfg: Config): GeneratedSuccessors | null {
    if (this.mutation) return null;
    const plan = cfg.plan ?? this.planOf(cfg);
    const consts: unknown[] = [];
    const c = (v: unknown) => {
      consts.push(v);
      return `c${consts.length - 1}`;
    };
    const S = this.stateBytes;
    const copyAt = c(this.copyAt);
    const A = c({ context: null, event: null });
    const calls: string[] = [`${A}.context = ctx;`];
    try {
      for (let k = 0; k < plan.events.length; k++) {
        const event = plan.events[k];
        const sel = plan.sels[k];
        const ev = c(this.events[event]);
        if (sel.parts.length > 0) {
          // Transitions of several regions at once: the general selection.
          calls.push(`if (${c(this.oneSuccessor)}.call(${c(this)}, ${c(sel)}, ${event}, ctx, src, out, events, rules, slots, cfg, n)) n++;`);
          continue;
        }
        const lines: string[] = [`${A}.event = ${ev};`];
        const branches: string[] = [];
        for (const t of sel.fallback) {
          const micro = cfg.single[t.id] ?? (cfg.single[t.id] = this.buildMicro(cfg, [t]));
          let test = '';
          if (t.guard !== null) {
            const d = directOf(t.guard);
            test = d ? `${c(d.fn)}(${A}, ${c(d.params)})` : `${c(t.guard)}(ctx, ${ev}, cfg)`;
          }
          const body = [`${copyAt}(src, out, n * ${S});`, 'const o = slots[n];'];
          for (const run of micro.runs) {
            const d = directOf(run);
            body.push(d ? `${c(d.fn)}(o, ${ev}, ${c(d.params)});` : `${c(run)}(o, ${ev});`);
          }
          body.push(`out[n * ${S}] = ${micro.next & 0xff};`, `out[n * ${S} + 1] = ${micro.next >> 8};`, `events[n] = ${event};`, `rules[n] = ${micro.rule};`, 'n++;');
          branches.push(test ? `if (${test}) {\n${body.join('\n')}\n}` : `{\n${body.join('\n')}\n}`);
          if (!test) break;
        }
        lines.push(branches.join(' else '));
        calls.push(...lines);
      }
    } catch {
      return null;
    }
    const source = `${consts.map((_, i) => `const c${i} = C[${i}];`).join('\n')}\nreturn function successors(src, out, events, rules, ctx, slots, cfg) {\nlet n = 0;\n${calls.join('\n')}\nreturn n;\n};`;
    return new Function('C', source)(consts) as GeneratedSuccessors;
  }

  /** How many configurations have their successor function generated (tests). */
  generatedConfigurations(): number {
    return this.configs.filter((c) => c?.generated).length;
  }

  /** One event in the general loop (and in generated code, for transitions of several regions): writes successor n and returns true when the event is enabled. */
  private oneSuccessor(sel: Sel, event: number, ctx: ByteContext, src: Uint8Array, out: Uint8Array, events: Uint16Array, rules: Int32Array, slots: ByteContext[], cfg: Config, n: number): boolean {
    const ev = this.events[event];
    const micro = this.pick(sel, ctx, ev, cfg);
    if (micro === null) return false;
    const off = n * this.stateBytes;
    this.copyAt(src, out, off);
    const o = slots[n];
    const runs = micro.runs;
    for (let i = 0; i < runs.length; i++) runs[i](o, ev);
    out[off] = micro.next & 0xff;
    out[off + 1] = micro.next >> 8;
    events[n] = event;
    rules[n] = micro.rule;
    return true;
  }

  private slotBuf: Uint8Array | null = null;
  private slotCtx: ByteContext[] = [];

  private makeSlots(out: Uint8Array): ByteContext[] {
    const S = this.stateBytes;
    const n = Math.floor(out.length / S);
    this.slotCtx = Array.from({ length: n }, (_, k) => this.makeContext(out.subarray(k * S, (k + 1) * S)));
    this.slotBuf = out;
    return this.slotCtx;
  }

  view(state: Uint8Array): MachineView<C> {
    // One view object per buffer, re-pointed at the buffer's configuration: properties run on
    // every new state, so this must not allocate.
    const entry = this.entryOf(state);
    let v = entry.view;
    if (!v) v = entry.view = new View<C>(this, entry.ctx as C);
    const id = state[0] | (state[1] << 8);
    v.configuration = this.configs[id] ?? this.configOf(id);
    return v;
  }

  /** @internal used by View */
  isActive(cfg: Config, path: string): boolean {
    let node = this.pathCache.get(path);
    if (node === undefined) {
      node = resolvePath(this.machine, this.root, path);
      this.pathCache.set(path, node);
    }
    if (node === null) throw new Error(`${this.name}: no state '${path}'`);
    return cfg.nodeSet.has(node);
  }

  // ---------------------------------------------------------------- helpers for traces and tests

  /**
   * The transitions and actions an event takes in a state, with params resolved as XState would
   * and the state vector before and after each action (for traces). Null when not enabled.
   */
  explain(src: Uint8Array, event: number): ExplainedStep | null {
    const cfg = this.configOf(src[0] | (src[1] << 8));
    const sel = this.buildSel(this.root, cfg, this.eventTypeIndex[event]);
    if (!sel) return null;
    const ev = this.events[event];
    const scratch = src.slice();
    const ctx = this.makeContext(scratch);
    const ts: CompiledTransition[] = [];
    this.select(sel, ctx, ev, cfg, ts);
    if (!ts.length) return null;
    const micro = this.buildMicro(cfg, ts);
    const actions = micro.actions.map((a) => {
      const params = a.params(ctx, ev);
      const before = scratch.slice();
      a.run(ctx, ev);
      return { type: a.type, origin: a.origin, params, before, after: scratch.slice() };
    });
    return { transitions: this.rules[micro.rule], actions };
  }

  /** The configuration's state value, status and a copy of the context: what XState's snapshot holds. */
  toSnapshotLike(state: Uint8Array): { value: unknown; status: 'active' | 'done'; context: C } {
    const cfg = this.configOf(state[0] | (state[1] << 8));
    const context: ByteContext = {};
    for (const f of this.fields) context[f.name] = state.slice(f.offset, f.offset + f.length);
    return { value: cfg.value, status: cfg.done ? 'done' : 'active', context: context as C };
  }

  /** Encodes an XState snapshot of this machine (e.g. from `transition()` or `resolveState`). */
  fromSnapshot(snapshot: { _nodes: SN[]; status: string; context: ByteContext }): Uint8Array {
    const out = new Uint8Array(this.stateBytes);
    const done = snapshot.status === 'done';
    const id = this.intern(new Set(snapshot._nodes), done, done && snapshot._nodes[0] !== this.root);
    out[0] = id & 0xff;
    out[1] = id >> 8;
    for (const f of this.fields) {
      const v = snapshot.context[f.name];
      if (!(v instanceof Uint8Array) || v.length !== f.length) {
        this.refuse(`context field '${f.name}' changed shape (expected Uint8Array of ${f.length})`);
      }
      out.set(v, f.offset);
    }
    return out;
  }

  /** Byte offset of a context field in the state vector. */
  fieldOffset(name: string): number {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new Error(`${this.name}: no context field '${name}'`);
    return f.offset;
  }

  /** Is the state node at `path` (dot-separated keys from the root, or `#id`) active in the state? */
  matches(state: Uint8Array, path: string): boolean {
    return this.isActive(this.configOf(state[0] | (state[1] << 8)), path);
  }

  /** All state nodes, in document order. */
  stateNodes(): readonly SN[] {
    return this.nodes;
  }

  /**
   * For symmetry reduction (checker/symmetry.ts): the configuration number a permutation of
   * interchangeable sibling regions maps a configuration to. `regions` are the regions' paths
   * (`running.T0`, `running.T1`, ...), which must have the same structure; region i's active
   * nodes move to region `order[i]`, the same nodes by relative path. Other nodes stay.
   */
  regionPermutation(regions: string[], order: number[]): (id: number) => number {
    const nodes = regions.map((path) => resolvePath(this.machine, this.root, path));
    nodes.forEach((n, i) => {
      if (!n) this.refuse(`has no state '${regions[i]}' to permute`);
    });
    const below = (n: SN): Map<string, SN> => {
      const out = new Map<string, SN>();
      const walk = (x: SN, rel: string) => {
        out.set(rel, x);
        for (const c of children(x)) walk(c, rel ? `${rel}.${c.key}` : c.key);
      };
      walk(n, '');
      return out;
    };
    const maps = (nodes as SN[]).map(below);
    const shape = [...maps[0].keys()].sort().join('|');
    maps.forEach((m, i) => {
      if ([...m.keys()].sort().join('|') !== shape) this.refuse(`regions '${regions[0]}' and '${regions[i]}' differ in structure; they cannot be interchangeable`);
    });
    const move = new Map<SN, SN>();
    maps.forEach((m, i) => {
      for (const [rel, n] of m) move.set(n, maps[order[i]].get(rel)!);
    });
    const cache = new Int32Array(this.configBound).fill(-1);
    return (id) => {
      const known = cache[id];
      if (known >= 0) return known;
      const cfg = this.configOf(id);
      const active = new Set<SN>();
      for (const n of cfg.nodes) active.add(move.get(n) ?? n);
      const to = this.intern(active, cfg.done, cfg.reversed);
      cache[id] = to;
      return to;
    };
  }

  // ---------------------------------------------------------------- compilation

  private refuse(what: string): never {
    throw new UnsupportedMachineError(`machine '${this.name}' ${what}`);
  }

  private compileNode(node: SN): void {
    const where = `state '#${node.id}'`;
    if (node.type === 'history') this.refuse(`has a history state (${where}); history is not supported`);
    if (node.config.always) this.refuse(`uses 'always' (eventless transitions) in ${where}; not supported`);
    if (node.config.after) this.refuse(`uses 'after' (delayed transitions) in ${where}; not supported`);
    if (node.config.invoke || node.invoke.length) this.refuse(`uses 'invoke' in ${where}; not supported`);
    if (node.config.onDone) this.refuse(`uses 'onDone' in ${where}; done events are not supported`);
    this.nodeEntry.set(node, node.entry.map((a) => this.compileAction(a, `entry of ${where}`)));
    this.nodeExit.set(node, node.exit.map((a) => this.compileAction(a, `exit of ${where}`)));
    this.nodeInitial.set(
      node,
      node.type === 'compound' ? node.initial.actions.map((a) => this.compileAction(a, `initial of ${where}`)) : [],
    );
    for (const [descriptor, defs] of node.transitions) {
      if (descriptor === '*' || descriptor.startsWith('xstate.')) {
        this.refuse(`handles '${descriptor}' in ${where}; wildcard and xstate.* descriptors are not supported`);
      }
      defs.forEach((def, index) => {
        const targets = def.target?.map((t) => t.id).join(', ');
        const guardLabel = def.guard === undefined ? null : this.guardLabel(def.guard);
        const label =
          `${node.id} --${descriptor}${guardLabel ? ` [${guardLabel}]` : ''}--> ` + (targets ? targets : '(stays)');
        const t: CompiledTransition = {
          id: this.transitions.length,
          source: node,
          def,
          eventType: descriptor,
          guard: def.guard === undefined ? null : this.compileGuard(def.guard, `transition ${label}`),
          guardLabel,
          actions: [],
          index,
          label,
        };
        t.actions = def.actions.map((a) => this.compileAction(a, `transition ${label}`));
        this.transitions.push(t);
      });
    }
  }

  private countConfigurations(node: SN): number {
    let n = this.counts.get(node);
    if (n !== undefined) return n;
    const cs = children(node);
    if (node.type === 'compound') n = cs.reduce((k, c) => k + this.countConfigurations(c), 0);
    else if (node.type === 'parallel') n = cs.reduce((k, c) => k * this.countConfigurations(c), 1);
    else n = 1;
    this.counts.set(node, n);
    return n;
  }

  /**
   * The canonical number of the configuration below `node`: for a compound node, the offset of
   * its active child among its children's configurations plus the child's number; for a parallel
   * node, the mixed-radix number of its regions'. The same in every compiled copy of the machine
   * and in every run, whatever order configurations are met in.
   */
  private canonical(node: SN, active: Set<SN>): number {
    const cs = children(node);
    if (node.type === 'compound') {
      let offset = 0;
      for (const c of cs) {
        if (active.has(c)) return offset + this.canonical(c, active);
        offset += this.countConfigurations(c);
      }
      return this.refuse(`has no active child in compound state '#${node.id}' (internal error)`);
    }
    if (node.type === 'parallel') {
      let id = 0;
      let radix = 1;
      for (const c of cs) {
        id += this.canonical(c, active) * radix;
        radix *= this.countConfigurations(c);
      }
      return id;
    }
    return 0;
  }

  private guardLabel(g: unknown): string {
    if (typeof g === 'string') return g;
    if (typeof g === 'function') {
      const f = g as { check?: unknown; guards?: unknown[]; stateValue?: unknown; name?: string };
      if (f.check === NOT) return `not(${this.guardLabel(f.guards![0])})`;
      if (f.check === AND) return `and(${f.guards!.map((x) => this.guardLabel(x)).join(', ')})`;
      if (f.check === OR) return `or(${f.guards!.map((x) => this.guardLabel(x)).join(', ')})`;
      if (f.check === STATE_IN) return `stateIn(${JSON.stringify(f.stateValue)})`;
      return f.name && f.name !== 'guard' ? f.name : '(inline)';
    }
    if (g && typeof g === 'object' && 'type' in g) {
      const o = g as { type: string; params?: unknown };
      return o.params !== undefined && typeof o.params !== 'function' ? `${o.type}(${JSON.stringify(o.params)})` : o.type;
    }
    return String(g);
  }

  private compileGuard(g: unknown, where: string, depth = 0): Guard {
    if (depth > 32) this.refuse(`has guards that refer to each other in a cycle (${where})`);
    const impls = (this.machine.implementations?.guards ?? {}) as Record<string, unknown>;
    if (typeof g === 'function') {
      const f = g as { check?: unknown; guards?: unknown[]; stateValue?: unknown };
      if (f.check === NOT) {
        const inner = this.compileGuard(f.guards![0], where, depth + 1);
        return (ctx, ev, cfg) => !inner(ctx, ev, cfg);
      }
      if (f.check === AND || f.check === OR) {
        const parts = f.guards!.map((x) => this.compileGuard(x, where, depth + 1));
        return f.check === AND
          ? (ctx, ev, cfg) => parts.every((p) => p(ctx, ev, cfg))
          : (ctx, ev, cfg) => parts.some((p) => p(ctx, ev, cfg));
      }
      if (f.check === STATE_IN) {
        const sv = f.stateValue;
        if (typeof sv === 'string' && sv.startsWith('#')) {
          const node = ((this.machine as unknown as { idMap: Map<string, SN> }).idMap).get(sv.slice(1));
          if (!node) this.refuse(`has stateIn('${sv}') naming no state (${where})`);
          return (_c, _e, cfg) => cfg.nodeSet.has(node);
        }
        return (_c, _e, cfg) => matchesState(sv as never, cfg.value as never);
      }
      if (f.check !== undefined) this.refuse(`uses a built-in guard daxcheck does not know (${where})`);
      const fn = g as (args: unknown, params: unknown) => boolean;
      const args = { context: null as unknown, event: null as unknown };
      return (ctx, ev) => {
        args.context = ctx;
        args.event = ev;
        return fn(args, undefined);
      };
    }
    let type: string;
    let paramsSpec: unknown;
    let hasParams = false;
    if (typeof g === 'string') type = g;
    else if (g && typeof g === 'object' && typeof (g as { type?: unknown }).type === 'string') {
      type = (g as { type: string }).type;
      hasParams = 'params' in g;
      paramsSpec = (g as { params?: unknown }).params;
    } else return this.refuse(`has a guard daxcheck cannot read (${where})`);
    const impl = impls[type];
    if (impl === undefined) this.refuse(`uses guard '${type}', which has no implementation (${where})`);
    if (typeof impl !== 'function') return this.compileGuard(impl, where, depth + 1);
    if ('check' in impl) return this.compileGuard(impl, where, depth + 1);
    const fn = impl as (args: unknown, params: unknown) => boolean;
    const args = { context: null as unknown, event: null as unknown };
    if (typeof paramsSpec === 'function') {
      const p = paramsSpec as (a: unknown) => unknown;
      return (ctx, ev) => {
        args.context = ctx;
        args.event = ev;
        return fn(args, p({ context: ctx, event: ev }));
      };
    }
    // Constant params (or none): generated code may call `fn` itself.
    const params = hasParams ? paramsSpec : undefined;
    return direct(
      (ctx, ev) => {
        args.context = ctx;
        args.event = ev;
        return fn(args, params);
      },
      fn,
      params,
    );
  }

  private compileAction(a: unknown, origin: string): CompiledAction {
    const impls = (this.machine.implementations?.actions ?? {}) as Record<string, unknown>;
    let impl: unknown;
    let type: string;
    let paramsSpec: unknown;
    if (typeof a === 'function') {
      impl = a;
      type = (a as { type?: string }).type ?? ((a as { name?: string }).name || '(inline)');
    } else if (typeof a === 'string') {
      impl = impls[a];
      type = a;
    } else if (a && typeof a === 'object' && typeof (a as { type?: unknown }).type === 'string') {
      type = (a as { type: string }).type;
      impl = impls[type];
      paramsSpec = (a as { params?: unknown }).params;
    } else return this.refuse(`has an action daxcheck cannot read (${origin})`);
    if (impl === undefined) this.refuse(`uses action '${type}', which has no implementation (${origin})`);
    const params =
      typeof paramsSpec === 'function'
        ? (ctx: ByteContext, event: EventObject) => (paramsSpec as (x: unknown) => unknown)({ context: ctx, event })
        : () => paramsSpec;
    const mutation = getMutation(impl);
    if (mutation) {
      const run: Run =
        typeof paramsSpec === 'function'
          ? (ctx, ev) => mutation(ctx, ev, params(ctx, ev))
          : direct((ctx, ev) => mutation(ctx, ev, paramsSpec), mutation, paramsSpec);
      return { type, origin, run, params };
    }
    const builtin = impl as { type?: string; assignment?: unknown; resolve?: unknown };
    if (builtin.type === 'xstate.assign') {
      const assignment = builtin.assignment;
      const fields = () => this.fields;
      const run: Run = (ctx, ev) => {
        const args = { context: ctx, event: ev };
        const p = params(ctx, ev);
        let partial: Record<string, unknown>;
        if (typeof assignment === 'function') partial = assignment(args, p) ?? {};
        else {
          partial = {};
          for (const [k, v] of Object.entries(assignment as Record<string, unknown>)) {
            partial[k] = typeof v === 'function' ? v(args, p) : v;
          }
        }
        for (const [k, v] of Object.entries(partial)) {
          const f = fields().find((x) => x.name === k);
          if (!f || !(v instanceof Uint8Array) || v.length !== f.length) {
            this.refuse(`assigns context field '${k}' something other than a Uint8Array of its length (${origin})`);
          }
          if (v !== ctx[k]) ctx[k].set(v);
        }
      };
      return { type: 'xstate.assign', origin, run, params };
    }
    if (builtin.resolve) {
      this.refuse(`uses the built-in action '${builtin.type ?? type}' (${origin}); only assign/mutator actions can be explored`);
    }
    return this.refuse(
      `uses action '${type}', a plain function (${origin}); only assign/mutator actions can be explored, since the explorer sees nothing but the context`,
    );
  }

  private candidatesFor(node: SN, typeIndex: number): CompiledTransition[] {
    let perType = this.candidates.get(node);
    if (!perType) {
      perType = [];
      this.candidates.set(node, perType);
    }
    let list = perType[typeIndex];
    if (list) return list;
    // XState's getCandidates: the exact descriptor first, then partial wildcards, longest first.
    const type = this.eventTypes[typeIndex];
    const own = this.transitions.filter((t) => t.source === node);
    const exact = own.filter((t) => t.eventType === type);
    const wild = [...new Set(own.map((t) => t.eventType))]
      .filter((d) => d !== type && d.endsWith('.*') && matchesPartial(type, d))
      .sort((a, b) => b.length - a.length)
      .flatMap((d) => own.filter((t) => t.eventType === d));
    list = exact.concat(wild);
    perType[typeIndex] = list;
    return list;
  }

  /** Mirrors XState's `transitionNode` recursion: children first, a node's own transitions only when no child has one. */
  private buildSel(node: SN, cfg: Config, typeIndex: number): Sel | null {
    const own = this.candidatesFor(node, typeIndex);
    if (isAtomic(node)) return own.length ? { parts: [], fallback: own } : null;
    if (node.type === 'compound') {
      const child = children(node).find((c) => cfg.nodeSet.has(c));
      const c = child ? this.buildSel(child, cfg, typeIndex) : null;
      if (!c) return own.length ? { parts: [], fallback: own } : null;
      return { parts: c.parts, fallback: c.fallback.concat(own) };
    }
    const regions = children(node);
    if (cfg.reversed) regions.reverse();
    const parts = regions
      .filter((c) => cfg.nodeSet.has(c))
      .map((c) => this.buildSel(c, cfg, typeIndex))
      .filter((s): s is Sel => s !== null);
    if (!parts.length) return own.length ? { parts: [], fallback: own } : null;
    if (parts.length === 1) return { parts: parts[0].parts, fallback: parts[0].fallback.concat(own) };
    return { parts, fallback: own };
  }

  private select(sel: Sel, ctx: ByteContext, ev: EventObject, cfg: Config, out: CompiledTransition[]): void {
    const before = out.length;
    for (const part of sel.parts) this.select(part, ctx, ev, cfg, out);
    if (out.length > before) return;
    for (const t of sel.fallback) {
      if (t.guard === null || t.guard(ctx, ev, cfg)) {
        out.push(t);
        return;
      }
    }
  }

  private buildMicro(cfg: Config, selected: CompiledTransition[]): Micro {
    const active = new Set(cfg.nodes);
    const defs = selected.map((t) => t.def);
    const kept = defs.length > 1 && this.mutation !== 'skip-remove-conflicts' ? removeConflicts(defs, active, this.root) : defs;
    const ts = kept.map((d) => selected.find((t) => t.def === d)!);
    const actions: CompiledAction[] = [];
    const exits = exitSet(kept, active, this.root).sort((a, b) => b.order - a.order);
    for (const s of exits) {
      actions.push(...this.nodeExit.get(s)!);
      active.delete(s);
    }
    for (const t of ts) actions.push(...t.actions);
    const { enter, defaultEntry } = entrySet(kept, this.root);
    const entered = [...enter].sort((a, b) => a.order - b.order);
    for (const s of entered) {
      active.add(s);
      if (this.mutation === 'initial-before-entry' && defaultEntry.has(s)) actions.push(...this.nodeInitial.get(s)!);
      actions.push(...this.nodeEntry.get(s)!);
      if (defaultEntry.has(s) && this.mutation !== 'initial-before-entry') actions.push(...this.nodeInitial.get(s)!);
    }
    const done = cfg.done || completesRoot(entered, active);
    if (done) {
      for (const s of [...active].sort((a, b) => b.order - a.order)) actions.push(...this.nodeExit.get(s)!);
    }
    const key = ts.map((t) => t.id).join(',');
    let rule = this.ruleIndex.get(key);
    if (rule === undefined) {
      rule = this.rules.length;
      this.rules.push(ts);
      this.ruleIndex.set(key, rule);
    }
    return { rule, actions, runs: actions.map((a) => a.run), next: this.intern(active, done, done) };
  }

  private intern(active: Set<SN>, done: boolean, reversed: boolean): number {
    const id = this.canonical(this.root, active) + (reversed ? 2 : done ? 1 : 0) * this.structBound;
    if (this.configs[id]) return id;
    const nodes = [...active].sort((a, b) => a.order - b.order);
    const nodeSet = new Set(nodes);
    this.configs[id] = {
      id,
      nodes,
      nodeSet,
      done,
      reversed,
      value: stateValue(this.root, nodeSet),
      sel: new Array(this.eventCount),
      expanded: 0,
      single: [],
      multi: this.mutation === 'multi-cache-by-first' ? new FirstIdMap<Micro>() : new Map(),
    };
    return id;
  }

  /** Tests only: plants the bug `m` in this copy (see `Mutation`). */
  private plantMutation(m: Mutation): void {
    if (m === 'ignore-guards') for (const t of this.transitions) t.guard = null;
    else if (m === 'reverse-actions') {
      const build = CompiledMachine.prototype.buildMicro;
      this.buildMicro = (cfg, selected) => {
        const micro = build.call(this, cfg, selected);
        return { ...micro, actions: [...micro.actions].reverse(), runs: [...micro.runs].reverse() };
      };
    } else if (m === 'parent-before-regions') {
      const select = CompiledMachine.prototype.select;
      this.select = (sel, ctx, ev, cfg, out) => {
        if (sel.parts.length) {
          for (const t of sel.fallback) {
            if (t.guard === null || t.guard(ctx, ev, cfg)) {
              out.push(t);
              return;
            }
          }
        }
        select.call(this, sel, ctx, ev, cfg, out);
      };
    } else if (m === 'guard-blocked-self-loop') {
      const step = CompiledMachine.prototype.step;
      this.step = (src, event, dst) => {
        const rule = step.call(this, src, event, dst);
        if (rule >= 0) return rule;
        const sel = this.configOf(src[0] | (src[1] << 8)).sel[event];
        if (!sel) return rule;
        let first = sel;
        while (first.parts.length) first = first.parts[0];
        dst.set(src);
        return this.ruleOfKey(String((first.fallback[0] ?? sel.fallback[0]).id));
      };
    }
  }

  /** The configuration with canonical number `id`, built on first use (e.g. a state another copy made). */
  private configOf(id: number): Config {
    const known = this.configs[id];
    if (known) return known;
    const variant = Math.floor(id / this.structBound);
    const active = new Set<SN>([this.root]);
    const walk = (node: SN, n: number) => {
      const cs = children(node);
      if (node.type === 'compound') {
        for (const c of cs) {
          const k = this.countConfigurations(c);
          if (n < k) {
            active.add(c);
            walk(c, n);
            return;
          }
          n -= k;
        }
      } else if (node.type === 'parallel') {
        for (const c of cs) {
          const k = this.countConfigurations(c);
          active.add(c);
          walk(c, n % k);
          n = Math.floor(n / k);
        }
      }
    };
    walk(this.root, id % this.structBound);
    this.intern(active, variant >= 1, variant === 2);
    return this.configs[id];
  }


  private makeContext(buf: Uint8Array): ByteContext {
    const ctx: ByteContext = {};
    for (const f of this.fields) ctx[f.name] = buf.subarray(f.offset, f.offset + f.length);
    return ctx;
  }

  /** Context views over a buffer; the explorer reuses two buffers, so a tiny cache avoids re-slicing. */
  private contextOf(buf: Uint8Array): ByteContext {
    const cache = this.ctxCache;
    for (let i = 0; i < cache.length; i++) if (cache[i].buf === buf) return cache[i].ctx;
    return this.entryOf(buf).ctx;
  }

  private entryOf(buf: Uint8Array): { buf: Uint8Array; ctx: ByteContext; view?: View<C> } {
    const cache = this.ctxCache;
    for (let i = 0; i < cache.length; i++) if (cache[i].buf === buf) return cache[i];
    const entry = { buf, ctx: this.makeContext(buf) };
    cache.unshift(entry);
    if (cache.length > 4) cache.pop();
    return entry;
  }
}

class View<C extends ByteContext> implements MachineView<C> {
  configuration!: Config;
  constructor(
    private readonly owner: CompiledMachine<C>,
    readonly context: C,
  ) {}
  get value(): unknown {
    return this.configuration.value;
  }
  get status(): 'active' | 'done' {
    return this.configuration.done ? 'done' : 'active';
  }
  matches(path: string): boolean {
    return this.owner.isActive(this.configuration, path);
  }
}

/** Tests only ('multi-cache-by-first'): a cache of steps keyed by their first transition alone. */
class FirstIdMap<V> extends Map<string, V> {
  override get(key: string): V | undefined {
    return super.get(key.split(',')[0]);
  }
  override set(key: string, value: V): this {
    return super.set(key.split(',')[0], value);
  }
}

function matchesPartial(eventType: string, descriptor: string): boolean {
  const want = descriptor.split('.');
  const got = eventType.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*') return i === want.length - 1;
    if (want[i] !== got[i]) return false;
  }
  return true;
}

function resolvePath(machine: AnyStateMachine, root: SN, path: string): SN | null {
  if (path.startsWith('#')) return (((machine as unknown as { idMap: Map<string, SN> }).idMap).get(path.slice(1)) ?? null) as SN | null;
  let node: SN | undefined = root;
  for (const key of path.split('.')) {
    node = node?.states?.[key];
    if (!node) return null;
  }
  return node;
}

/** Compiles `machine` for exploration. See the module comment for what is supported. */
export function compileMachine<C extends ByteContext = ByteContext>(
  machine: AnyStateMachine,
  options: CompileOptions,
): CompiledMachine<C> {
  return new CompiledMachine<C>(machine, options);
}
