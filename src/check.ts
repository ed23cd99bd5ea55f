/**
 * Checks one spec configuration: builds the machine, compiles it, explores every reachable state,
 * and turns what the explorer found into verdicts, traces and statistics.
 */
import { explore, type ExploreOptions, type ExploreResult, type ShardFigures } from '../checker/bfs.ts';
import { exploreParallel } from '../checker/parallel.ts';
import { compileSpec, specLoader } from './spec-loader.ts';
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import { propertyKey, type ConfigExpectation } from './manifest.ts';
import { buildTrace, type Trace } from './trace.ts';
import { MEASUREMENTS } from '../models/measures.ts';

export type Verdict = 'holds' | 'violated' | 'reachable' | 'unreachable' | 'unknown';

/**
 * The format of a results document (check --json, check --write DIR's results.json), in its
 * `format` field (docs/schema/results.schema.json). A change a reader of the previous format would
 * misread gets a new number.
 */
export const RESULTS_FORMAT = 'daxcheck-results/1';

export interface PropertyResult {
  spec: string;
  config: string;
  /** The property's short id (Property.id), stable: manifests and reports key a property by it. */
  id: string;
  /** The property's sentence (Property.name). */
  property: string;
  kind: 'always' | 'sometimes' | 'deadlock' | 'leads-to';
  verdict: Verdict;
  /** The manifest's expected verdict, null when none is recorded. */
  expected: Verdict | null;
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  /** Counterexample (violated) or witness (reachable); for leads-to a lasso (Trace.loopStart). */
  trace: Trace | null;
  /** Why the verdict is unknown although exploration was complete (liveness under --compact or --symmetry). */
  undecided?: string;
  /**
   * With hash compaction (`check --compact`), for a verdict that rests on every state having been
   * seen (holds, unreachable): the probability bound that some state was missed. The verdict then
   * reads "holds (probably, p = ...)" (`verdictText`).
   */
  omissionProbability?: number;
  /** With `omissionProbability`: the verdict as printed, e.g. "holds (probably, p = 1.2e-9)". */
  verdictText?: string;
}

/** `1.2e-9` */
export const probability = (p: number) => (p === 0 ? '0' : p.toExponential(1));

/** The verdict as printed: "holds", or "holds (probably, p = 1.2e-9)" where it rests on hash compaction. */
export function verdictText(r: Pick<PropertyResult, 'verdict' | 'omissionProbability'>): string {
  if (r.omissionProbability !== undefined && (r.verdict === 'holds' || r.verdict === 'unreachable')) return `${r.verdict} (probably, p = ${probability(r.omissionProbability)})`;
  return r.verdict;
}

/** What the explorer measured of a run (see ExploreResult). */
type RunStatistics = Pick<ExploreResult<unknown>, 'complete' | 'states' | 'transitions' | 'depth' | 'seconds' | 'statesPerSecond' | 'bytesPerState' | 'stateBits'>;

export interface ConfigRun extends RunStatistics {
  spec: string;
  config: string;
  description: string;
  stopReason: string | null;
  /** Transitions taken per event type, in alphabet order. */
  eventFires: { event: string; fired: number }[];
  /** Every machine transition with how often it was taken (complete runs only). */
  transitionFires: { transition: string; fired: number }[];
  expectedStates: number | null;
  expectedTransitions: number | null;
  /** The manifest's recorded measures, null when none are recorded. */
  expectedMeasures: Record<string, number | null> | null;
  /** The configuration's place in a measurement series, and what was measured. */
  measurement: { name: string; x: number; series?: string } | null;
  measures: { name: string; unit: string; max: number | null; transitions: number }[];
  results: PropertyResult[];
  /** A run of one shard (`check --shard i/n`): what it shares with the other shards; see `daxcheck merge`. */
  shard?: ShardFigures;
  /** With `--compact`: the probability bound that a state was missed (see PropertyResult). */
  omissionProbability?: number;
  /**
   * With `--symmetry`: what was taken as interchangeable, or null where the configuration has
   * nothing interchangeable (explored without the reduction). Its counts are compared with the
   * manifest's `symmetry` counts.
   */
  symmetry?: string | null;
  /**
   * Crash images this run explored (models/crash.ts): complete images, one per state in which the
   * machine may remount (`mount` fired), with the crash-image reduction on (`distinct`) or off
   * (`raw`, word by word); with `check --crash-images` both, the other from a second exploration.
   * Absent where the configuration has no power failure.
   */
  crashImages?: { raw?: number; distinct?: number };
  /** Explored with the crash-image reduction turned off (`check --no-crash-reduction`). */
  crashReduction?: false;
}

/**
 * Spec code no run exercised: event types and machine transitions that never fired in any of the
 * given (complete) runs of one spec. A transition that exists only in some configurations counts
 * as dead only if none of those fired it.
 */
export function deadSpecCode(runs: ConfigRun[]): { events: string[]; transitions: string[] } {
  const sum = (pairs: [string, number][]) => {
    const m = new Map<string, number>();
    for (const [k, n] of pairs) m.set(k, (m.get(k) ?? 0) + n);
    return [...m].filter(([, n]) => n === 0).map(([k]) => k);
  };
  const complete = runs.filter((r) => r.complete && !r.shard?.split);
  return {
    events: sum(complete.flatMap((r) => r.eventFires.map((e): [string, number] => [e.event, e.fired]))),
    transitions: sum(complete.flatMap((r) => r.transitionFires.map((t): [string, number] => [t.transition, t.fired]))),
  };
}

/** Did the run match the manifest: every verdict, and (when complete) the state space size? */
export function runAsExpected(run: ConfigRun): boolean {
  if (!run.complete) return false;
  // A shard alone finds violations and witnesses; only the merged shard set decides the rest.
  if (run.shard?.split) return run.results.every((r) => r.verdict === 'unknown' || r.verdict === r.expected);
  if (run.results.some((r) => r.verdict !== r.expected)) return false;
  if (run.measures.length && !measuresAsExpected(run)) return false;
  // The manifest's counts are those of the reduced run: without the reduction only verdicts count.
  if (run.crashReduction === false) return true;
  return run.expectedStates === run.states && run.expectedTransitions === run.transitions;
}

/** Are the measured quantities the ones the manifest records? */
export function measuresAsExpected(run: ConfigRun): boolean {
  return run.measures.every((m) => run.expectedMeasures?.[m.name] === m.max);
}

export function verdictOf(kind: PropertyResult['kind'], found: boolean, complete: boolean): Verdict {
  if (kind === 'sometimes') return found ? 'reachable' : complete ? 'unreachable' : 'unknown';
  return found ? 'violated' : complete ? 'holds' : 'unknown';
}

/** `i/n` as on the command line (shard i, counted from 0, of n), or null when malformed. */
export function parseShard(text: string): { index: number; count: number } | null {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index < count && count <= 1_000_000 ? { index, count } : null;
}

export interface CheckOptions extends ExploreOptions {
  /** Worker threads: 1 (the default) explores in this thread; more use the parallel explorer. */
  workers?: number;
  /** false: explore every crash image word by word (`check --no-crash-reduction`). */
  crashReduction?: boolean;
  /** Also count the crash images of the other mode (a second exploration): `check --crash-images`. */
  crashImages?: boolean;
}

/** Complete crash images a run explored: the states in which `mount` fired (one each). */
function mountFires(byType: Map<string, number>): number | undefined {
  return byType.get('mount');
}

export async function checkConfig(
  spec: AnySpec,
  config: RunConfig,
  expectation: ConfigExpectation | undefined,
  options: CheckOptions = {},
): Promise<ConfigRun> {
  const reduce = options.crashReduction !== false;
  if (!reduce) config = { ...config, crashReduction: false } as RunConfig;
  const { built, system: sys } = compileSpec(spec, config);
  const measures = (built.measures ?? []) as never;
  // The manifest's count sizes the state store at once (no growing and rehashing on the way).
  const expectedStates = options.shard ? undefined : ((options.symmetry && sys.symmetry ? expectation?.symmetry?.states : expectation?.states) ?? undefined);
  options = { ...options, expectedStates };
  const r =
    (options.workers ?? 1) > 1
      ? await exploreParallel(sys, built.properties, specLoader(spec.name, config.name), { ...options, measures, workers: options.workers! })
      : await explore(sys, built.properties, { ...options, measures });

  const byType = new Map<string, number>();
  sys.events.forEach((e, i) => byType.set(e.type, (byType.get(e.type) ?? 0) + r.eventFires[i]));
  const fired = new Float64Array(sys.transitions.length);
  for (let rule = 0; rule < r.ruleFires.length; rule++) {
    for (const t of sys.ruleTransitions(rule)) fired[t.id] += r.ruleFires[rule];
  }

  let crashImages: ConfigRun['crashImages'];
  const images = mountFires(byType);
  if (images !== undefined) {
    crashImages = reduce ? { distinct: images } : { raw: images };
    if (options.crashImages && r.complete && !r.shard?.split) {
      // The other mode's count, from an exploration of its own (properties are not needed).
      const other = compileSpec(spec, { ...config, crashReduction: !reduce } as RunConfig);
      const o = await explore(other.system, [], { maxStates: options.maxStates, maxBytes: options.maxBytes, maxRss: options.maxRss, maxRssLabel: options.maxRssLabel, shouldStop: options.shouldStop });
      const n = o.complete ? other.system.events.reduce((sum, e, i) => sum + (e.type === 'mount' ? o.eventFires[i] : 0), 0) : undefined;
      if (n !== undefined) crashImages = reduce ? { raw: n, distinct: images } : { raw: images, distinct: n };
    }
  }

  const results: PropertyResult[] = r.outcomes.map((o) => ({
    spec: spec.name,
    config: config.name,
    id: o.property.id,
    property: o.property.name,
    kind: o.property.kind,
    verdict: o.undecided ? 'unknown' : verdictOf(o.property.kind, o.state >= 0, r.complete && !r.shard?.split),
    expected: expectation?.expect[propertyKey(o.property)] ?? null,
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: r.seconds,
    trace: o.lasso ? buildTrace(sys, built.render, o.lasso) : o.state >= 0 ? buildTrace(sys, built.render, r.path(o.state), o.property.kind === 'deadlock') : null,
    ...(o.undecided ? { undecided: o.undecided } : {}),
  }));
  if (r.omissionProbability !== undefined) {
    for (const x of results) {
      x.omissionProbability = r.omissionProbability;
      x.verdictText = verdictText(x);
    }
  }

  return {
    spec: spec.name,
    config: config.name,
    description: config.description,
    complete: r.complete,
    stopReason: r.stopMessage ?? null,
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: r.seconds,
    statesPerSecond: r.statesPerSecond,
    bytesPerState: r.bytesPerState,
    stateBits: r.stateBits,
    eventFires: [...byType].map(([event, fired]) => ({ event, fired })),
    transitionFires: r.complete && !r.shard?.split ? sys.transitions.map((t) => ({ transition: t.label, fired: fired[t.id] })) : [],
    expectedStates: (r.symmetry ? expectation?.symmetry?.states : expectation?.states) ?? null,
    expectedTransitions: (r.symmetry ? expectation?.symmetry?.transitions : expectation?.transitions) ?? null,
    expectedMeasures: expectation?.measures ?? null,
    measurement: (config as { measurement?: { name: string; x: number } }).measurement ?? null,
    measures: r.measures,
    results,
    ...(r.shard ? { shard: r.shard } : {}),
    ...(options.symmetry ? { symmetry: r.symmetry ?? null } : {}),
    ...(crashImages ? { crashImages } : {}),
    ...(reduce ? {} : { crashReduction: false as const }),
    ...(r.omissionProbability !== undefined ? { omissionProbability: r.omissionProbability } : {}),
  };
}

/**
 * Measurement series for reports: configurations that are points of a measurement (e.g. fault
 * cost at N = 1, 2, 4, 8), one object per spec and measurement, points sorted by x.
 */
export function measurementsOf(runs: ConfigRun[]) {
  const out = new Map<string, { spec: string; name: string; title: string; unit: string; xLabel: string; series: { label: string; points: { x: number; y: number }[] }[] }>();
  for (const run of runs) {
    if (!run.measurement || !run.complete) continue;
    const m = run.measures.find((x) => x.name === run.measurement!.name);
    if (!m || m.max === null) continue;
    const kind = MEASUREMENTS[run.measurement.name];
    const key = `${run.spec}\u0000${run.measurement.name}`;
    let entry = out.get(key);
    if (!entry) {
      entry = { spec: run.spec, name: run.measurement.name, title: kind?.title ?? run.measurement.name, unit: m.unit, xLabel: kind?.xLabel ?? 'x', series: [] };
      out.set(key, entry);
    }
    const label = run.measurement.series ?? run.spec;
    let series = entry.series.find((x) => x.label === label);
    if (!series) entry.series.push((series = { label, points: [] }));
    series.points.push({ x: run.measurement.x, y: m.max });
  }
  for (const e of out.values()) for (const s of e.series) s.points.sort((a, b) => a.x - b.x);
  return [...out.values()];
}
