/**
 * Merging the results of a shard set (`daxcheck check --shard i/n --json`, one document per shard)
 * into the results of one run: a property is violated (reachable) when any shard found it so, with
 * the shortest trace over all shards; it holds (is unreachable) when every shard of the set ran to
 * the end and none did. State and transition counts are summed, the shared prefix counted once:
 * a state below the parts of several shards is counted once per shard (breadth-first search in
 * each shard keeps no record of the others), so the sum is at least the number of distinct
 * states, and the difference is given where the manifest records the exact count.
 *
 * Why the shortest trace over the shards is the shortest of a whole run: a shortest path to the
 * first violating state crosses the split level at one state, which one shard expands; every
 * state after it on the path lies deeper than the split level, so that shard stores it anew and
 * its breadth-first search reaches the violation at the same depth. No shard finds a shorter one,
 * since every path a shard takes is a path of the system.
 */
import type { ShardFigures } from '../checker/bfs.ts';
import { probability, type PropertyResult, type Verdict } from './check.ts';

/** A run of one configuration as `check --json` prints it (its `runs` entry). */
export interface RunDoc {
  spec: string;
  config: string;
  complete: boolean;
  stopReason: string | null;
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  expectedStates: number | null;
  expectedTransitions: number | null;
  shard?: ShardFigures;
}

export interface CheckDoc {
  interrupted?: boolean;
  results: PropertyResult[];
  runs: RunDoc[];
}

export interface MergedResult extends PropertyResult {
  /** The shard whose trace this is (the shortest over the shards), null when none found one. */
  shard: number | null;
  /** Shards that found a violation (witness). */
  foundIn: number[];
}

export interface MergedRun {
  spec: string;
  config: string;
  shards: number;
  /** Shard indices with no results among the files. */
  missing: number[];
  /** Every shard present and run to the end. */
  complete: boolean;
  /** False when the search ended before the split level: each shard ran the whole search. */
  split: boolean;
  splitDepth: number;
  sharedStates: number;
  /** States summed over the shards, the shared prefix counted once (≥ distinct states). */
  states: number;
  transitions: number;
  /** Each shard's states below the split level. */
  perShard: { index: number; states: number; seconds: number; complete: boolean }[];
  /** The exact count the manifest records, and how many the sum counts more than once (null: unknown). */
  expectedStates: number | null;
  duplicates: number | null;
  depth: number;
  /** The slowest shard, and all shards together. */
  seconds: number;
  cpuSeconds: number;
  results: MergedResult[];
}

/** A problem with the files given: bad input (exit code 2). */
export class MergeInputError extends Error {}

/** Is this parsed JSON a `check --json` document of shard runs? Throws a one-line reason otherwise. */
export function asCheckDoc(doc: unknown, name: string): CheckDoc {
  const d = doc as CheckDoc;
  if (!d || typeof d !== 'object' || !Array.isArray(d.results) || !Array.isArray(d.runs)) {
    throw new MergeInputError(`${name} is not the output of daxcheck check --json (no results and runs)`);
  }
  for (const r of d.runs) {
    if (!r.shard) throw new MergeInputError(`${name}: ${r.spec}/${r.config} is not a shard's run (run check with --shard I/N)`);
  }
  return d;
}

const found = (v: Verdict) => v === 'violated' || v === 'reachable';

/** Merges the shard runs of every configuration the documents hold. */
export function mergeShards(docs: { name: string; doc: CheckDoc }[]): MergedRun[] {
  const byConfig = new Map<string, { name: string; run: RunDoc; results: PropertyResult[] }[]>();
  for (const { name, doc } of docs) {
    for (const run of doc.runs) {
      const key = `${run.spec}/${run.config}`;
      const results = doc.results.filter((r) => r.spec === run.spec && r.config === run.config);
      if (!byConfig.has(key)) byConfig.set(key, []);
      byConfig.get(key)!.push({ name, run, results });
    }
  }
  const out: MergedRun[] = [];
  for (const [key, parts] of byConfig) {
    const n = parts[0].run.shard!.count;
    const bad = parts.find((p) => p.run.shard!.count !== n);
    if (bad) throw new MergeInputError(`${key}: ${parts[0].name} is shard ${parts[0].run.shard!.index} of ${n}, ${bad.name} shard ${bad.run.shard!.index} of ${bad.run.shard!.count}: merge the shards of one set`);
    const seen = new Map<number, string>();
    for (const p of parts) {
      const i = p.run.shard!.index;
      if (seen.has(i)) throw new MergeInputError(`${key}: shard ${i} of ${n} is given twice (${seen.get(i)} and ${p.name})`);
      seen.set(i, p.name);
    }
    // Every shard computes the same prefix: a different one is another model or another --split-at.
    const a = parts[0].run.shard!;
    const odd = parts.find((p) => p.run.shard!.split !== a.split || p.run.shard!.sharedStates !== a.sharedStates || p.run.shard!.depth !== a.depth);
    if (odd) {
      throw new MergeInputError(
        `${key}: ${parts[0].name} and ${odd.name} split the search differently (${a.sharedStates} and ${odd.run.shard!.sharedStates} shared states): a different model or --split-at`,
      );
    }
    parts.sort((x, y) => x.run.shard!.index - y.run.shard!.index);
    const missing = [...Array(n).keys()].filter((i) => !seen.has(i));
    const complete = missing.length === 0 && parts.every((p) => p.run.complete);
    const split = a.split;
    // Without a split every shard ran the whole search: its counts are the run's.
    const states = split ? a.sharedStates + parts.reduce((s, p) => s + p.run.states - a.sharedStates, 0) : parts[0].run.states;
    const transitions = split ? a.sharedTransitions + parts.reduce((s, p) => s + p.run.transitions - a.sharedTransitions, 0) : parts[0].run.transitions;
    const expectedStates = parts[0].run.expectedStates ?? null;
    const ids = [...new Set(parts.flatMap((p) => p.results.map((r) => r.id)))];
    const results: MergedResult[] = ids.map((id) => {
      const per = parts.map((p) => ({ index: p.run.shard!.index, r: p.results.find((x) => x.id === id)! })).filter((x) => x.r);
      const hits = per.filter((x) => found(x.r.verdict));
      const first = per[0].r;
      let best: (typeof per)[number] | null = null;
      for (const h of hits) if (!best || h.r.trace!.steps.length < best.r.trace!.steps.length) best = h;
      let verdict: Verdict;
      if (best) verdict = best.r.verdict;
      else if (!split && per.some((x) => x.r.verdict !== 'unknown')) verdict = per.find((x) => x.r.verdict !== 'unknown')!.r.verdict;
      // Liveness needs the whole graph, which no shard of a split set has: it stays unknown.
      else if (first.kind === 'leads-to') verdict = 'unknown';
      else if (complete) verdict = first.kind === 'sometimes' ? 'unreachable' : 'holds';
      else verdict = 'unknown';
      // Under hash compaction a shard may have missed states: the chances add up.
      const ps = per.map((x) => x.r.omissionProbability).filter((x): x is number => x !== undefined);
      const omission = ps.length ? Math.min(1, ps.reduce((a, b) => a + b, 0)) : undefined;
      const probable = omission !== undefined && (verdict === 'holds' || verdict === 'unreachable');
      return {
        ...first,
        omissionProbability: omission,
        verdictText: probable ? `${verdict} (probably, p = ${probability(omission!)})` : undefined,
        verdict,
        states,
        transitions,
        depth: Math.max(...parts.map((p) => p.run.depth)),
        seconds: Math.max(...parts.map((p) => p.run.seconds)),
        trace: best ? best.r.trace : null,
        shard: best ? best.index : null,
        foundIn: hits.map((h) => h.index),
      };
    });
    out.push({
      spec: parts[0].run.spec,
      config: parts[0].run.config,
      shards: n,
      missing,
      complete,
      split,
      splitDepth: a.depth,
      sharedStates: a.sharedStates,
      states,
      transitions,
      perShard: parts.map((p) => ({ index: p.run.shard!.index, states: p.run.states - (split ? a.sharedStates : 0), seconds: p.run.seconds, complete: p.run.complete })),
      expectedStates,
      duplicates: expectedStates !== null && complete ? states - expectedStates : null,
      depth: Math.max(...parts.map((p) => p.run.depth)),
      seconds: Math.max(...parts.map((p) => p.run.seconds)),
      cpuSeconds: parts.reduce((s, p) => s + p.run.seconds, 0),
      results,
    });
  }
  return out;
}

/** Did the merged run come out as the manifest expects: complete, and every verdict the expected one? */
export function mergedAsExpected(run: MergedRun): boolean {
  return run.complete && run.results.every((r) => r.verdict === r.expected);
}
