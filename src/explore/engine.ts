/**
 * What `daxcheck explore` walks: one configuration's compiled machine, state by state. From a
 * path of events (by label) from the initial state it gives each state as the timeline's named
 * fields, which properties hold there, and the enabled events in kernel terms (the step each
 * would take, as a trace prints it). The page asks for paths (server) or reads a precomputed
 * graph (a self-contained file for small state spaces); both come from here.
 */
import type { EventObject } from 'xstate';
import type { CompiledMachine } from '../../checker/xstate/compile.ts';
import type { Property } from '../../checker/system.ts';
import type { AnySpec, BuiltSpec, DurableSummary, FieldInfo, RunConfig, StepAction, WaitEdge } from '../../specs/common/spec.ts';
import { compileSpec } from '../spec-loader.ts';

/** An enabled event and the step it takes, as a trace step (without `changes`, which the states give). */
export interface ExploreEdge {
  /** Event index in the configuration's alphabet. */
  e: number;
  label: string;
  actor: string;
  text: string;
  outcome: Record<string, unknown> | null;
  transitions: string[];
  actions: { type: string; params: unknown }[];
}

/** A state as the page shows it. */
export interface ExploreState {
  /** The renderer's named fields. */
  values: Record<string, string>;
  /** Per property (in the configuration's order): does the state satisfy it? always: holds; sometimes: reached; deadlock: not stuck. */
  props: boolean[];
  /** What a crash and recovery left, when the state is after one. */
  durable: DurableSummary | null;
  /** In a deadlocked state, who waits for what (Renderer.waits and waitGraph). */
  waits: { waits?: string[]; waitGraph?: WaitEdge[] } | null;
  edges: ExploreEdge[];
}

export interface ExploreMeta {
  spec: string;
  config: string;
  title: string;
  description: string;
  promise: string;
  properties: { id: string; name: string; kind: string }[];
  /** Declared kinds of the fields the renderer names (Renderer.fields), where it declares them. */
  fieldInfo: Record<string, FieldInfo>;
  /** Each event's payload beyond its type (for trace files), by event index. */
  payloads: (Record<string, unknown> | null)[];
}

type Ctx = Record<string, Uint8Array>;

export class Explorer {
  readonly sys: CompiledMachine;
  readonly built: BuiltSpec;
  readonly byLabel = new Map<string, number>();
  readonly properties: Property<unknown>[];

  constructor(
    readonly spec: AnySpec,
    readonly config: RunConfig,
  ) {
    const { built, system } = compileSpec(spec, config);
    this.sys = system as unknown as CompiledMachine;
    this.built = built as BuiltSpec;
    this.properties = built.properties as Property<unknown>[];
    for (let e = 0; e < system.eventCount; e++) if (!this.byLabel.has(system.eventLabel(e))) this.byLabel.set(system.eventLabel(e), e);
  }

  meta(): ExploreMeta {
    const ctx = this.contextOf(this.initial());
    return {
      spec: this.spec.name,
      config: this.config.name,
      title: this.spec.title,
      description: this.config.description,
      promise: this.spec.promise,
      properties: this.properties.map((p) => ({ id: p.id, name: p.name, kind: p.kind })),
      fieldInfo: this.built.render.fields?.(ctx as never) ?? {},
      payloads: this.sys.events.map((ev) => {
        const { type: _t, ...rest } = ev as EventObject & Record<string, unknown>;
        return Object.keys(rest).length ? rest : null;
      }),
    };
  }

  initial(): Uint8Array {
    return this.sys.initialStates()[0];
  }

  contextOf(state: Uint8Array): Ctx {
    return this.sys.toSnapshotLike(state).context as Ctx;
  }

  /** The successor under event e, or null when it is not enabled. */
  next(state: Uint8Array, e: number): Uint8Array | null {
    const dst = new Uint8Array(this.sys.stateBytes);
    return this.sys.step(state, e, dst) < 0 ? null : dst;
  }

  /** The states a path of labels leads through (initial first); `at` is how many labels were taken before one was not enabled. */
  walk(labels: string[]): { states: Uint8Array[]; at: number } {
    const states = [this.initial()];
    for (const l of labels) {
      const e = this.byLabel.get(l);
      const n = e === undefined ? null : this.next(states[states.length - 1], e);
      if (!n) break;
      states.push(n);
    }
    return { states, at: states.length - 1 };
  }

  /** Enabled events of a state, each with the step it would take in kernel terms. */
  edges(state: Uint8Array): { edge: ExploreEdge; to: Uint8Array }[] {
    const out: { edge: ExploreEdge; to: Uint8Array }[] = [];
    const render = this.built.render;
    for (let e = 0; e < this.sys.eventCount; e++) {
      const to = this.next(state, e);
      if (!to) continue;
      const ex = this.sys.explain(state, e)!;
      const event = this.sys.events[e];
      const ctxOf = (s: Uint8Array) => this.contextOf(s);
      const taken: StepAction<never>[] = ex.actions.map((a) => ({ type: a.type, params: a.params, event, before: ctxOf(a.before) as never, after: ctxOf(a.after) as never }));
      out.push({
        edge: {
          e,
          label: this.sys.eventLabel(e),
          actor: render.actor(event),
          text: render.step(event, taken),
          outcome: render.outcome(event, ctxOf(state) as never, ctxOf(to) as never),
          transitions: ex.transitions.map((t) => t.label),
          actions: ex.actions.map((a) => ({ type: a.type, params: a.params ?? null })),
        },
        to,
      });
    }
    return out;
  }

  /** A state as the page shows it. */
  info(state: Uint8Array): ExploreState {
    return this.infoWithTargets(state).info;
  }

  /** A state as the page shows it, and the successor each of its edges leads to. */
  infoWithTargets(state: Uint8Array): { info: ExploreState; targets: Uint8Array[] } {
    const edges = this.edges(state);
    const view = this.sys.view(state);
    const props = this.properties.map((p) => {
      if (p.kind === 'always') return p.holds(view);
      if (p.kind === 'sometimes') return p.reached(view);
      // Leads-to: no obligation is open here (p does not hold, or q already does).
      if (p.kind === 'leads-to') return !p.p(view) || p.q(view);
      // Stuck: no thread's event is enabled while some thread is unfinished.
      return p.isDone(view) || edges.some((x) => p.isProgress(x.edge.e));
    });
    const render = this.built.render;
    const stuck = this.properties.some((p, i) => p.kind === 'deadlock' && !props[i]);
    const info: ExploreState = {
      values: render.state(this.contextOf(state) as never),
      props,
      durable: render.afterCrash(this.sys.view(state) as never),
      waits: stuck && (render.waits || render.waitGraph) ? { waits: render.waits?.(this.sys.view(state) as never), waitGraph: render.waitGraph?.(this.sys.view(state) as never) } : null,
      edges: edges.map((x) => x.edge),
    };
    return { info, targets: edges.map((x) => x.to) };
  }

  /** Key of a state (for the precomputed graph). */
  static key(state: Uint8Array): string {
    return Buffer.from(state).toString('latin1');
  }
}

/** Every reachable state, breadth-first, up to `max` states; null when there are more. */
export function reachable(x: Explorer, max: number): { states: Uint8Array[]; index: Map<string, number> } | null {
  const states = [x.initial()];
  const index = new Map([[Explorer.key(states[0]), 0]]);
  for (let i = 0; i < states.length; i++) {
    for (let e = 0; e < x.sys.eventCount; e++) {
      const n = x.next(states[i], e);
      if (!n) continue;
      const k = Explorer.key(n);
      if (index.has(k)) continue;
      if (states.length >= max) return null;
      index.set(k, states.length);
      states.push(n);
    }
  }
  return { states, index };
}
