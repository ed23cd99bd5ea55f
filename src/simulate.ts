/**
 * Simulates one spec configuration (checker/simulate.ts): seeded random walks through the compiled
 * machine, each counterexample shrunk and turned into the same trace an exhaustive check prints
 * and writes, and the coverage the walks reached.
 */
import { simulate, type SimulateOptions } from '../checker/simulate.ts';
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import type { PropertyResult, Verdict } from './check.ts';
import type { ConfigExpectation } from './manifest.ts';
import { compileSpec } from './spec-loader.ts';
import { buildTrace } from './trace.ts';

/** How a simulated counterexample was found: re-run it with `--seed <seed> --runs 1`. */
export interface FoundBy {
  /** The walk's own seed. */
  seed: number;
  /** Its number in this run (0-based). */
  walk: number;
  /** Steps the walk took up to the violation, before shrinking. */
  walked: number;
}

export interface SimulatedResult extends PropertyResult {
  foundBy: FoundBy | null;
}

export interface Coverage {
  /** Distinct states the walks visited (a lower bound when `complete` is false). */
  states: number;
  complete: boolean;
  /** The exhaustive state count the manifest records, and the share of it seen. */
  exhaustiveStates: number | null;
  share: number | null;
  /** Events of the alphabet taken at least once, of all. */
  events: { fired: number; total: number };
  /** Machine transitions taken at least once, of all. */
  transitions: { taken: number; total: number };
  /** Events of the alphabet never taken (labels). */
  eventsNeverFired: string[];
}

export interface SimulationRun {
  spec: string;
  config: string;
  description: string;
  seed: number;
  walks: number;
  steps: number;
  /** Longest walk, in steps. */
  depth: number;
  /** The depth bound of a walk. */
  maxDepth: number;
  seconds: number;
  stopped: 'runs' | 'time' | 'interrupted';
  coverage: Coverage;
  results: SimulatedResult[];
}

export interface SimulateRunOptions extends Omit<SimulateOptions, 'onProgress'> {
  onProgress?: SimulateOptions['onProgress'];
}

/** Does a simulation agree with the manifest: nothing found that it does not expect, everything found that it expects? */
export function simulationAsExpected(run: SimulationRun): boolean {
  return run.results.every(resultAsExpected);
}

export function resultAsExpected(r: SimulatedResult): boolean {
  // Random walks are finite: they never show a livelock, so an expected one is not missed.
  if (r.kind === 'leads-to') return r.verdict === 'unknown';
  if (r.verdict === 'violated' || r.verdict === 'reachable') return r.expected === r.verdict;
  return r.expected !== 'violated' && r.expected !== 'reachable';
}

export async function simulateConfig(spec: AnySpec, config: RunConfig, expectation: ConfigExpectation | undefined, options: SimulateRunOptions): Promise<SimulationRun> {
  const { built, system } = compileSpec(spec, config);
  const r = await simulate(system, built.properties, options);
  const fired = new Set<number>();
  for (let rule = 0; rule < r.ruleFires.length; rule++) {
    if (r.ruleFires[rule] > 0) for (const t of system.ruleTransitions(rule)) fired.add(t.id);
  }
  const eventsFired = [...r.eventFires].filter((x) => x > 0).length;
  const exhaustive = expectation?.states ?? null;
  const results: SimulatedResult[] = r.outcomes.map((o) => {
    const verdict: Verdict = o.found ? (o.property.kind === 'sometimes' ? 'reachable' : 'violated') : 'unknown';
    return {
      spec: spec.name,
      config: config.name,
      id: o.property.id,
      property: o.property.name,
      kind: o.property.kind,
      verdict,
      expected: expectation?.expect[o.property.id] ?? null,
      states: r.states,
      transitions: r.steps,
      depth: o.found ? o.found.path.events.length : r.depth,
      seconds: r.seconds,
      trace: o.found ? buildTrace(system, built.render, o.found.path, o.property.kind === 'deadlock') : null,
      foundBy: o.found ? { seed: o.found.seed, walk: o.found.walk, walked: o.found.walked } : null,
    };
  });
  return {
    spec: spec.name,
    config: config.name,
    description: config.description,
    seed: options.seed,
    walks: r.walks,
    steps: r.steps,
    depth: r.depth,
    maxDepth: options.depth,
    seconds: r.seconds,
    stopped: r.stopped,
    coverage: {
      states: r.states,
      complete: r.coverageComplete,
      exhaustiveStates: exhaustive,
      share: exhaustive ? r.states / exhaustive : null,
      events: { fired: eventsFired, total: system.eventCount },
      transitions: { taken: fired.size, total: system.transitions.length },
      eventsNeverFired: [...r.eventFires].flatMap((x, e) => (x > 0 ? [] : [system.eventLabel(e)])),
    },
    results,
  };
}
