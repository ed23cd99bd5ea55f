/**
 * `daxcheck simulate`: seeded random walks, crashes included, through the compiled machine of each
 * configuration, for configurations beyond exhaustive reach. Counterexamples are shrunk and
 * printed (and, with --write, exported) as `check` prints them, each with the seed that re-runs
 * its walk. Ctrl-C stops and reports what was found.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, positiveInt, UsageError } from '../args.ts';
import { loadManifest } from '../manifest.ts';
import { Progress, progressWanted } from '../progress.ts';
import { renderTrace } from '../render.ts';
import { selectConfigs } from '../select.ts';
import { resultAsExpected, simulateConfig, simulationAsExpected, type SimulatedResult, type SimulationRun } from '../simulate.ts';
import { authorError, resolveSpecs } from '../spec-loader.ts';
import { prepareManifests, writeTraceFiles } from './check.ts';
import { takeCtrlC } from '../interrupt.ts';

export const usage = `daxcheck simulate [spec|PATH...] [--config NAME[,NAME]] [--all-configs] [--seed S] [--runs N]
                 [--depth D] [--time SECONDS] [--max-memory MB] [--json] [--write DIR]`;

const DEFAULT_RUNS = 1000;
const DEFAULT_DEPTH = 1000;

function seedOf(value: string | undefined): number {
  if (value === undefined) return Math.floor(Math.random() * 2 ** 32);
  if (!/^\d+$/.test(value.trim()) || Number(value) >= 2 ** 32) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got '${value}'`);
  return Number(value);
}

function secondsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(x > 0)) throw new UsageError(`--time must be a positive number of seconds, got '${value}'`);
  return x;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    'all-configs': { type: 'boolean' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    depth: { type: 'string' },
    time: { type: 'string' },
    'max-memory': { type: 'string' },
    json: { type: 'boolean' },
    write: { type: 'string' },
  }) as {
    values: { config?: string; 'all-configs'?: boolean; seed?: string; runs?: string; depth?: string; time?: string; 'max-memory'?: string; json?: boolean; write?: string };
    positionals: string[];
  };
  const seed = seedOf(values.seed);
  const seconds = secondsOf(values.time);
  const runs = positiveInt('runs', values.runs) ?? (seconds === undefined ? DEFAULT_RUNS : undefined);
  const depth = positiveInt('depth', values.depth) ?? DEFAULT_DEPTH;
  const maxMemoryMb = positiveInt('max-memory', values['max-memory']);
  const sources = await resolveSpecs(positionals);
  const jobs = selectConfigs(sources.map((s) => s.spec), values.config, values['all-configs'] ?? false, positionals.length > 0);
  const manifest = loadManifest();
  const { open } = prepareManifests(sources, jobs, manifest, false);
  if (open) throw new UsageError(open);

  // Ctrl-C stops the current walks; what was found so far is still reported.
  const ctrlC = takeCtrlC();
  const out: SimulationRun[] = [];
  const progress = new Progress(progressWanted(), jobs.length);
  try {
    for (const [k, { spec, config }] of jobs.entries()) {
      if (ctrlC.interrupted) break;
      progress.start(k + 1, `${spec.name}/${config.name}`);
      try {
        out.push(
          await simulateConfig(spec, config, manifest[spec.name]?.[config.name], {
            seed,
            runs,
            depth,
            seconds,
            coverageBytes: maxMemoryMb !== undefined ? maxMemoryMb * 1024 * 1024 : undefined,
            shouldStop: () => ctrlC.interrupted,
            onProgress: progress.enabled
              ? (p) => {
                  const byRuns = runs !== undefined ? p.walks / runs : 0;
                  const byTime = seconds !== undefined ? p.seconds / seconds : 0;
                  progress.update({ states: p.states, depth: p.depth, seconds: p.seconds, note: `${p.walks.toLocaleString('en-US')} walks`, done: Math.max(byRuns, byTime) });
                }
              : undefined,
            progressEveryMs: 500,
          }),
        );
      } catch (err) {
        progress.clear();
        throw authorError(sources.find((s) => s.spec === spec)!, config.name, err);
      }
      progress.clear();
    }
  } finally {
    ctrlC.release();
  }
  const interrupted = ctrlC.interrupted;

  if (values.write) {
    mkdirSync(values.write, { recursive: true });
    writeFileSync(join(values.write, 'results.json'), JSON.stringify(toJson(out, interrupted), null, 2) + '\n');
    writeTraceFiles(values.write, out, (r) => ({ foundBy: r.foundBy }));
  }
  if (values.json) process.stdout.write(JSON.stringify(toJson(out, interrupted), null, 2) + '\n');
  else {
    process.stdout.write(renderSimulation(out) + '\n');
    if (interrupted) process.stdout.write(`interrupted: ${jobs.length - out.length} configuration(s) not run\n`);
  }
  return !interrupted && out.every(simulationAsExpected) ? 0 : 1;
}

function toJson(runs: SimulationRun[], interrupted: boolean) {
  return {
    interrupted,
    results: runs.flatMap((r) => r.results),
    runs: runs.map(({ results, ...stats }) => ({ ...stats, asExpected: results.every(resultAsExpected) })),
  };
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const num = (x: number) => x.toLocaleString('en-US');

function shownVerdict(r: SimulatedResult, walks: number): string {
  if (r.verdict !== 'unknown') return r.verdict.toUpperCase();
  return r.kind === 'sometimes' ? `not reached in ${num(walks)} walks` : `no counterexample in ${num(walks)} walks`;
}

function mark(r: SimulatedResult): string {
  if (r.expected === null) return 'no expectation recorded';
  if (r.verdict === 'violated' || r.verdict === 'reachable') return r.verdict === r.expected ? 'as expected' : `UNEXPECTED (expected ${r.expected})`;
  return resultAsExpected(r) ? `consistent (expected ${r.expected})` : `NOT FOUND (expected ${r.expected})`;
}

function rerun(run: SimulationRun, seed: number): string {
  return `daxcheck simulate ${run.spec} --config ${run.config} --seed ${seed} --runs 1${run.maxDepth !== DEFAULT_DEPTH ? ` --depth ${run.maxDepth}` : ''}`;
}

export function renderSimulation(runs: SimulationRun[]): string {
  const rows = runs.flatMap((run) => run.results.map((r) => [`${r.spec}/${r.config}`, r.kind, shownVerdict(r, run.walks), mark(r), r.id, r.property]));
  const head = ['configuration', 'kind', 'simulation', 'vs manifest', 'id', 'property'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  widths[widths.length - 1] = 0;
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i])).join('  ').trimEnd();
  const sections = [[line(head), line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? 8 : w))), ...rows.map(line)].join('\n')];
  const traces = runs.flatMap((run) =>
    run.results
      .filter((r) => r.trace && r.foundBy && (r.kind !== 'sometimes' || r.verdict !== r.expected))
      .map((r) => {
        const f = r.foundBy!;
        return (
          renderTrace(r, false) +
          `\n  found by walk ${f.walk} (seed ${f.seed}) after ${f.walked} steps, shrunk to ${r.trace!.steps.length} (no single step can be left out); re-run: ${rerun(run, f.seed)}`
        );
      }),
  );
  if (traces.length) sections.push(traces.join('\n\n'));
  sections.push(runs.map(renderCoverage).join('\n'));
  const bad = runs.filter((r) => !simulationAsExpected(r)).length;
  sections.push(bad === 0 ? `all ${runs.length} configuration(s) consistent with the manifest` : `${bad} of ${runs.length} configuration(s) differ from the manifest`);
  return sections.join('\n\n');
}

export function renderCoverage(run: SimulationRun): string {
  const c = run.coverage;
  const share = c.share !== null ? ` (${(c.share * 100).toFixed(c.share < 0.01 ? 3 : 1)}% of the ${num(c.exhaustiveStates!)} an exhaustive check counts)` : '';
  const why = run.stopped === 'time' ? 'time limit' : run.stopped === 'interrupted' ? 'interrupted' : 'all walks run';
  return (
    `${run.spec}/${run.config}: ${num(run.walks)} walks from seed ${run.seed} (${why}), ${num(run.steps)} steps, longest ${run.depth} (bound ${run.maxDepth}), ${run.seconds.toFixed(2)} s\n` +
    `  coverage: ${c.complete ? '' : 'at least '}${num(c.states)} distinct states${share}; events ${c.events.fired} of ${c.events.total}; machine transitions ${c.transitions.taken} of ${c.transitions.total}`
  );
}
