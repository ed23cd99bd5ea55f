/**
 * Random simulation: seeded random walks through the same step function the exhaustive explorer
 * uses, for configurations beyond exhaustive reach.
 *
 * Walk k of a run seeded S uses the seed S + k (mod 2^32), so every walk can be re-run alone:
 * `--seed S+k --runs 1` is that walk. A walk starts in an initial state and takes, at each step, one
 * of the enabled events chosen at random (every event is a candidate, the environment's crashes
 * included); it ends at the depth bound or where nothing is enabled. Every state a walk visits is
 * checked against the properties, like a new state of the exhaustive search; a state where no
 * progress event is enabled and not every thread is done is a deadlock.
 *
 * Swarm testing (Groce et al., ISSTA 2012): events are grouped by the first word of their label
 * (`T0.store` and `T0.mmap` are `T0`, `cpu.evict{p=1}` is `cpu`, `power_fail` is itself), and
 * half the walks, chosen by their own seeds, draw one weight per group from {1, 1/4, 1/16, 1/64}
 * and choose among the enabled events in proportion to them: some walks then rarely crash, evict
 * or commit and reach deep states, others do so often, some let one thread run ahead. The other
 * half choose uniformly. Everything a walk draws comes from its own seed.
 *
 * A counterexample found is shrunk (`shrink`) before it is shown: events are removed, in halves,
 * then quarters, down to single events (delta debugging), while the remaining sequence, replayed
 * from the initial state with events that are not enabled skipped, still reaches a violation. The
 * result is 1-minimal: removing any one event of it loses the violation. Shrinking is deterministic,
 * so the same seed gives the same trace.
 *
 * Simulation can find a violation (or a witness); it can never show that a property holds.
 */
import { makeCodec } from './codec.ts';
import { MemoryLimitError, StateStore } from './store.ts';
import type { Property, TransitionSystem } from './system.ts';
import type { Path } from './bfs.ts';

/** A small fast seeded generator (sfc32), with seeds mixed by splitmix32 so that S and S+1 differ at once. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** A uniform number in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

export interface SimulateOptions {
  /** Seed of walk 0; walk k uses seed + k. */
  seed: number;
  /** Number of walks (default: unbounded when `seconds` is given, else 1000). */
  runs?: number;
  /** Steps per walk at most. */
  depth: number;
  /** Stop starting new walks after this many seconds. */
  seconds?: number;
  /** Memory for the coverage set (distinct states seen); past it, coverage stops growing. */
  coverageBytes?: number;
  /** Polled between walks. */
  shouldStop?: () => boolean;
  onProgress?: (p: SimulateProgress) => void;
  progressEveryMs?: number;
}

export interface SimulateProgress {
  walks: number;
  steps: number;
  states: number;
  depth: number;
  seconds: number;
}

export interface SimulatedOutcome<V> {
  property: Property<V>;
  /** The first walk that found a violation (or witness), or null. */
  found: null | {
    /** The walk's own seed: `--seed <it> --runs 1` re-runs that walk alone. */
    seed: number;
    walk: number;
    /** Events of the walk up to the violation, before shrinking. */
    walked: number;
    /** The shrunk counterexample, a real path from an initial state. */
    path: Path;
  };
}

export interface SimulateResult<V> {
  walks: number;
  /** Steps taken over all walks. */
  steps: number;
  /** Longest walk. */
  depth: number;
  seconds: number;
  /** Distinct states seen (a lower bound when `coverageComplete` is false). */
  states: number;
  coverageComplete: boolean;
  /** Transitions taken per event and per rule. */
  eventFires: Float64Array;
  ruleFires: Float64Array;
  stopped: 'runs' | 'time' | 'interrupted';
  outcomes: SimulatedOutcome<V>[];
}

const SWARM_WEIGHTS = [1, 1 / 4, 1 / 16, 1 / 64];

/** Events grouped by the first word of their label (see the module comment). */
export function eventGroups(system: TransitionSystem<unknown>): { of: Uint16Array; names: string[]; count: number } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const of = new Uint16Array(system.eventCount);
  for (let e = 0; e < system.eventCount; e++) {
    const word = system.eventLabel(e).split(/[.{]/)[0];
    let g = index.get(word);
    if (g === undefined) {
      g = names.length;
      names.push(word);
      index.set(word, g);
    }
    of[e] = g;
  }
  return { of, names, count: names.length };
}

/** Which property a state breaks, as the explorer judges it: `always` false, `sometimes` true. */
function makeJudge<V>(system: TransitionSystem<V>, properties: Property<V>[]) {
  const E = system.eventCount;
  const progress = properties.map((p) => {
    const flags = new Uint8Array(E);
    if (p.kind === 'deadlock') for (let e = 0; e < E; e++) flags[e] = p.isProgress(e) ? 1 : 0;
    return flags;
  });
  return {
    /** Does the state (with the events enabled in it) hit property i? */
    hits(i: number, state: Uint8Array, enabled: Uint8Array, enabledCount: number): boolean {
      const p = properties[i];
      if (p.kind === 'always') return !p.holds(system.view(state));
      if (p.kind === 'sometimes') return p.reached(system.view(state));
      // A walk is finite: it cannot show that something never happens (checker/liveness.ts).
      if (p.kind === 'leads-to') return false;
      for (let k = 0; k < enabledCount; k++) if (progress[i][enabled[k]]) return false;
      return !p.isDone(system.view(state));
    },
    progress,
  };
}

export function simulate<V>(system: TransitionSystem<V>, properties: Property<V>[], options: SimulateOptions): Promise<SimulateResult<V>> {
  return runSimulation(system, properties, options);
}

async function runSimulation<V>(system: TransitionSystem<V>, properties: Property<V>[], options: SimulateOptions): Promise<SimulateResult<V>> {
  const started = performance.now();
  const E = system.eventCount;
  const S = system.stateBytes;
  const codec = makeCodec(system.maxValues);
  const K = codec.words;
  const coverage = new StateStore(K, options.coverageBytes ?? 512 * 1024 * 1024);
  let coverageComplete = true;
  const key = new Int32Array(K);
  const record = (state: Uint8Array) => {
    if (!coverageComplete) return;
    const bad = codec.encode(state, key, 0);
    if (bad >= 0) throw new Error(`${system.name}: ${system.byteLabel(bad)} = ${state[bad]} exceeds its declared bound ${system.maxValues[bad]}`);
    try {
      coverage.intern(key, -1, 0);
    } catch (err) {
      if (err instanceof MemoryLimitError || err instanceof RangeError) coverageComplete = false;
      else throw err;
    }
  };
  const judge = makeJudge(system, properties);
  const outcomes: SimulatedOutcome<V>[] = properties.map((property) => ({ property, found: null }));
  const eventFires = new Float64Array(E);
  let ruleFires = new Float64Array(Math.max(64, system.ruleCount));
  const inits = system.initialStates();
  const succ = new Uint8Array(E * S);
  const enabled = new Uint8Array(E);
  const rules = new Int32Array(E);
  const weight = new Float64Array(E);
  const groups = eventGroups(system);
  const groupWeight = new Float64Array(groups.count);
  const dst = new Uint8Array(S);
  let cur = new Uint8Array(S);
  const maxRuns = options.runs ?? (options.seconds !== undefined ? Infinity : 1000);
  const maxMs = options.seconds !== undefined ? options.seconds * 1000 : Infinity;
  let walks = 0;
  let steps = 0;
  let deepest = 0;
  let stopped: SimulateResult<V>['stopped'] = 'runs';
  let lastProgress = started;
  let lastYield = started;
  const progressEvery = options.progressEveryMs ?? 250;
  const events: number[] = [];

  while (walks < maxRuns) {
    const now = performance.now();
    if (now - started >= maxMs) {
      stopped = 'time';
      break;
    }
    if (now - lastYield >= 100) {
      lastYield = now;
      await new Promise((r) => setImmediate(r));
      if (options.shouldStop?.()) {
        stopped = 'interrupted';
        break;
      }
    }
    if (options.onProgress && now - lastProgress >= progressEvery) {
      lastProgress = now;
      options.onProgress({ walks, steps, states: coverage.count, depth: deepest, seconds: (now - started) / 1000 });
    }
    const walkSeed = (options.seed + walks) >>> 0;
    const rng = new Random(walkSeed);
    // Swarm: this walk's weight of each event (walk 0 of its seed, i.e. a --runs 1 re-run, too).
    let swarm = false;
    if (rng.float() < 0.5) {
      swarm = true;
      for (let g = 0; g < groups.count; g++) groupWeight[g] = SWARM_WEIGHTS[rng.int(SWARM_WEIGHTS.length)];
      for (let e = 0; e < E; e++) weight[e] = groupWeight[groups.of[e]];
    }
    cur.set(inits[inits.length === 1 ? 0 : rng.int(inits.length)]);
    events.length = 0;
    const pending = outcomes.map((o) => o.found === null);
    for (let d = 0; ; d++) {
      // Every successor of the current state.
      let n = 0;
      for (let e = 0; e < E; e++) {
        const rule = system.step(cur, e, dst);
        if (rule < 0) continue;
        succ.set(dst, n * S);
        enabled[n] = e;
        rules[n] = rule;
        n++;
      }
      record(cur);
      for (let i = 0; i < properties.length; i++) {
        if (!pending[i]) continue;
        if (judge.hits(i, cur, enabled, n)) {
          pending[i] = false;
          const path = shrink(system, properties, i, inits, events.slice());
          outcomes[i].found = { seed: walkSeed, walk: walks, walked: events.length, path };
        }
      }
      if (n === 0 || d >= options.depth) break;
      let pick: number;
      if (swarm) {
        let total = 0;
        for (let k = 0; k < n; k++) total += weight[enabled[k]];
        let x = rng.float() * total;
        pick = n - 1;
        for (let k = 0; k < n; k++) {
          x -= weight[enabled[k]];
          if (x < 0) {
            pick = k;
            break;
          }
        }
      } else pick = rng.int(n);
      const e = enabled[pick];
      const rule = rules[pick];
      eventFires[e]++;
      if (rule >= ruleFires.length) {
        const grown = new Float64Array(rule * 2 + 64);
        grown.set(ruleFires);
        ruleFires = grown;
      }
      ruleFires[rule]++;
      events.push(e);
      cur.set(succ.subarray(pick * S, pick * S + S));
      steps++;
      if (d + 1 > deepest) deepest = d + 1;
    }
    walks++;
  }
  if (stopped === 'runs' && walks < maxRuns) stopped = 'interrupted';
  return {
    walks,
    steps,
    depth: deepest,
    seconds: (performance.now() - started) / 1000,
    states: coverage.count,
    coverageComplete,
    eventFires,
    ruleFires: ruleFires.slice(0, system.ruleCount),
    stopped,
    outcomes,
  };
}

/**
 * Replays `events` from the initial state `init`, skipping events not enabled, and stops at the
 * first state that hits property `i`. Returns the path actually taken, or null if none hit.
 */
export function replayTo<V>(system: TransitionSystem<V>, properties: Property<V>[], i: number, init: Uint8Array, events: number[]): Path | null {
  const judge = makeJudge(system, properties);
  const S = system.stateBytes;
  const E = system.eventCount;
  const enabled = new Uint8Array(E);
  const dst = new Uint8Array(S);
  let cur = init.slice();
  const states = [cur];
  const taken: number[] = [];
  const enabledOf = (state: Uint8Array) => {
    if (properties[i].kind !== 'deadlock') return 0;
    let n = 0;
    for (let e = 0; e < E; e++) if (system.step(state, e, dst) >= 0) enabled[n++] = e;
    return n;
  };
  if (judge.hits(i, cur, enabled, enabledOf(cur))) return { events: taken, states };
  for (const e of events) {
    if (system.step(cur, e, dst) < 0) continue;
    cur = dst.slice();
    taken.push(e);
    states.push(cur);
    if (judge.hits(i, cur, enabled, enabledOf(cur))) return { events: taken, states };
  }
  return null;
}

/**
 * Shrinks a sequence of events that reaches a violation of property `i` from one of `inits` to a
 * 1-minimal one (delta debugging; see the module comment). Returns the shrunk path.
 */
export function shrink<V>(system: TransitionSystem<V>, properties: Property<V>[], i: number, inits: Uint8Array[], events: number[]): Path {
  let init = inits[0];
  let best: Path | null = null;
  for (const s of inits) {
    best = replayTo(system, properties, i, s, events);
    if (best) {
      init = s;
      break;
    }
  }
  if (!best) throw new Error(`${system.name}: internal error: a walk's violation of '${properties[i].id}' does not replay`);
  let cur = best;
  let chunk = Math.max(1, cur.events.length >> 1);
  for (;;) {
    let changed = false;
    for (let at = 0; at < cur.events.length; ) {
      const candidate = cur.events.slice(0, at).concat(cur.events.slice(at + chunk));
      const r = replayTo(system, properties, i, init, candidate);
      if (r && r.events.length < cur.events.length) {
        cur = r;
        changed = true;
      } else at += chunk;
    }
    if (!changed) {
      if (chunk === 1) break;
      chunk = Math.max(1, chunk >> 1);
    }
  }
  return cur;
}
