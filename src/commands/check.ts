/**
 * `daxcheck check`: explores spec configurations and compares each verdict (and the state space
 * size) with the manifests. Ctrl-C stops the running exploration and reports what was found.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AnySpec, RunConfig } from '../../specs/common/spec.ts';
import { specs } from '../../specs/index.ts';
import { parse, positiveInt, UsageError } from '../args.ts';
import { checkConfig, measurementsOf, parseShard, RESULTS_FORMAT, runAsExpected, type ConfigRun, type PropertyResult } from '../check.ts';
import { addMissingEntries, checkManifest, loadManifest, manifestMissing, saveManifest, type Manifest, type ManifestJob } from '../manifest.ts';
import { checkBaseline } from '../report/baseline.ts';
import { readVerdicts } from '../report/verdicts.ts';
import { Progress, progressWanted } from '../progress.ts';
import { takeCtrlC } from '../interrupt.ts';
import { checkOutputDir, checkOutputFile, makeDirs, type OutputPlan } from '../output.ts';
import { renderRuns } from '../render.ts';
import { selectConfigs } from '../select.ts';
import { authorError, resolveSpecs, shown, type SpecSource } from '../spec-loader.ts';
import { print, printJson, termLine, termText, warn } from '../terminal.ts';

/** The key bin/daxcheck.mjs reads to know that a command handles Ctrl-C itself. */

export const usage = `daxcheck check [spec|PATH...] [--config NAME[,NAME]] [--all-configs] [--json]
                 [--max-states N] [--max-memory MB] [--write DIR] [--itf DIR] [--record-counts] [--workers N]
                 [--baseline FILE] [--shard I/N [--split-at N]] [--symmetry] [--compact]
                 [--no-crash-reduction] [--crash-images]`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    config: { type: 'string' },
    'all-configs': { type: 'boolean' },
    json: { type: 'boolean' },
    'max-states': { type: 'string' },
    'max-memory': { type: 'string' },
    write: { type: 'string' },
    itf: { type: 'string' },
    'record-counts': { type: 'boolean' },
    baseline: { type: 'string' },
    workers: { type: 'string' },
    shard: { type: 'string' },
    'split-at': { type: 'string' },
    symmetry: { type: 'boolean' },
    compact: { type: 'boolean' },
    'no-crash-reduction': { type: 'boolean' },
    'crash-images': { type: 'boolean' },
  });
  const positionals = parsed.positionals;
  const values = parsed.values as {
    config?: string;
    'all-configs'?: boolean;
    json?: boolean;
    'max-states'?: string;
    'max-memory'?: string;
    write?: string;
    itf?: string;
    'record-counts'?: boolean;
    baseline?: string;
    workers?: string;
    shard?: string;
    'split-at'?: string;
    symmetry?: boolean;
    compact?: boolean;
    'no-crash-reduction'?: boolean;
    'crash-images'?: boolean;
  };
  // A trace file (check --write, daxcheck explore) is checked against its spec instead (src/trace-check.ts).
  const { isTraceFile, checkTraceFiles } = await import('../trace-check.ts');
  if (positionals.some(isTraceFile)) {
    const r = await checkTraceFiles(positionals.filter(isTraceFile), positionals.filter((p) => !isTraceFile(p)));
    process.stdout.write(r.text + '\n');
    return r.code;
  }
  const maxStates = positiveInt('max-states', values['max-states']);
  const maxMemoryMb = positiveInt('max-memory', values['max-memory']);
  const workers = positiveInt('workers', values.workers) ?? 1;
  const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
  if (shard === null) throw new UsageError(`--shard must be I/N, shard I (counted from 0) of N, e.g. 0/4, got '${values.shard}'`);
  const splitAt = positiveInt('split-at', values['split-at']);
  if (splitAt !== undefined && !shard) throw new UsageError('--split-at goes with --shard');
  if (values.symmetry && values.baseline !== undefined) throw new UsageError('--symmetry counts one state per class of symmetric states: --baseline compares whole counts');
  if (values.compact && workers > 1) throw new UsageError('--compact explores with the sequential engine: leave out --workers');
  if (values.compact && (values.baseline !== undefined || values['record-counts'])) throw new UsageError('--compact may miss states: --baseline and --record-counts need a run that cannot');
  const noReduction = values['no-crash-reduction'] ?? false;
  if (noReduction && workers > 1) throw new UsageError('--no-crash-reduction explores with the sequential engine: leave out --workers');
  if (noReduction && (values.baseline !== undefined || values['record-counts'])) throw new UsageError('--no-crash-reduction changes the state counts: the manifest and --baseline record the reduced run');
  if (values['crash-images'] && (shard || values.compact)) throw new UsageError('--crash-images needs whole, exact runs: leave out --shard and --compact');
  if (shard && workers > 1) throw new UsageError('--shard explores with the sequential engine: leave out --workers');
  if (shard && (values.baseline !== undefined || values['record-counts'])) throw new UsageError('--shard explores part of the state space: --baseline and --record-counts need a whole run (merge the shards with daxcheck merge)');
  const cores = availableParallelism();
  if (workers > cores) {
    throw new UsageError(`--workers ${workers} is more than the ${cores} core(s) this machine gives daxcheck (os.availableParallelism()): give at most ${cores}`);
  }
  // Where results go is checked before anything is loaded or explored.
  if (values.write !== undefined) checkOutputDir('--write', values.write);
  if (values.itf !== undefined) checkOutputDir('--itf', values.itf);
  const sources = await resolveSpecs(positionals);
  const jobs = selectConfigs(sources.map((s) => s.spec), values.config, values['all-configs'] ?? false, positionals.length > 0);
  const manifest = loadManifest();
  const record = values['record-counts'] ?? false;
  if (record) {
    for (const s of sources) checkOutputFile('the manifest', process.env.DAXCHECK_MANIFEST || s.manifest);
  }
  const { open, properties } = prepareManifests(sources, jobs, manifest, record);
  if (open) {
    warn(open);
    return 2;
  }
  if (values.write !== undefined) checkOutputDir('--write', values.write, writePlan(properties), true);
  // --itf DIR: each trace in the Informal Trace Format (src/itf.ts), loaded only when asked for.
  const itf = values.itf !== undefined ? await import('../itf.ts') : null;
  if (itf) checkOutputDir('--itf', values.itf!, itf.itfPlan(properties), true);
  // Read the baseline before exploring: a bad file is bad input (exit code 2), found at once.
  const baseline = values.baseline !== undefined ? readVerdicts(values.baseline) : null;
  const maxBytes = memoryLimit(maxMemoryMb);
  const forExploring = maxBytes - reportReserve(maxBytes) - (workers > 1 ? workers * WORKER_TEARDOWN : 0);
  const MiB = 1024 * 1024;
  const maxRssLabel = `${maxMemoryMb !== undefined ? `--max-memory ${maxMemoryMb} MB` : `the default limit (60 % of memory, ${Math.floor(maxBytes / MiB)} MB)`} leaves ${Math.floor(forExploring / MiB)} MB for exploring`;

  // Ctrl-C stops the current exploration; what was found so far is still reported.
  const ctrlC = takeCtrlC();
  const runs: ConfigRun[] = [];
  // A progress line on a terminal (or when DAXCHECK_PROGRESS=1, which tests use); nothing when piped.
  const progress = new Progress(progressWanted(), jobs.length);
  try {
    for (const [k, { spec, config }] of jobs.entries()) {
      if (ctrlC.interrupted) break;
      progress.start(k + 1, `${spec.name}/${config.name}`);
      const expected = manifest[spec.name]?.[config.name];
      let run: ConfigRun;
      try {
        run = await checkConfig(spec, config, expected, {
          maxStates,
          maxBytes,
          // What is left after exploring (traces, the report) needs room too.
          maxRss: forExploring,
          maxRssLabel,
          workers,
          shard: shard ? { ...shard, splitAt } : undefined,
          symmetry: values.symmetry,
          compact: values.compact,
          crashReduction: !noReduction,
          crashImages: values['crash-images'],
          shouldStop: () => ctrlC.interrupted,
          onProgress: progress.enabled
            ? (p) => {
                // Bounded where the manifest records the state count (or --max-states bounds it).
                const whole = expected?.states !== undefined ? (shard ? expected.states / shard.count : expected.states) : Infinity;
                const bound = Math.min(whole, maxStates ?? Infinity);
                progress.update({ ...p, done: Number.isFinite(bound) ? Math.min(1, p.states / bound) : undefined });
              }
            : undefined,
          progressEveryMs: 500,
        });
      } catch (err) {
        progress.clear();
        throw authorError(sources.find((s) => s.spec === spec)!, config.name, err);
      }
      progress.clear();
      runs.push(run);
    }
  } finally {
    ctrlC.release();
  }
  const interrupted = ctrlC.interrupted;

  if (values['record-counts']) recordCounts(runs, manifest);
  if (values.write) writeResults(values.write, runs, interrupted);
  if (itf) itf.writeItfFiles(values.itf!, runs);
  if (values.json) printJson(toJson(runs, interrupted));
  else {
    print(renderRuns(runs) + '\n');
    if (interrupted) print(`interrupted: ${jobs.length - runs.length} configuration(s) not run\n`);
  }
  // --baseline: any change of verdict, trace length or state count against the committed file fails.
  let baselineOk = true;
  if (baseline) {
    const fullDefaultRun = !positionals.length && values.config === undefined && !values['all-configs'];
    const known = [...sources.map((s) => s.spec), ...specs.filter((r) => !sources.some((s) => s.spec.name === r.name))];
    const b = checkBaseline(values.baseline!, baseline, toJson(runs, interrupted), known, fullDefaultRun && !interrupted);
    (values.json ? process.stderr : process.stdout).write(termText(b.lines.join('\n') + '\n'));
    baselineOk = b.ok;
  }
  return !interrupted && runs.every(runAsExpected) && baselineOk ? 0 : 1;
}

/**
 * Checks the manifests of the specs to run before anything is explored (src/manifest.ts
 * `checkManifest`: one line naming the file on the first problem). With --record-counts, first
 * adds what is missing with null verdicts to fill in; returns the line to print when verdicts are
 * still to be written (exit 2), else null.
 */
export function prepareManifests(
  sources: SpecSource[],
  jobs: { spec: AnySpec; config: RunConfig }[],
  manifest: Manifest,
  record: boolean,
): { open: string | null; properties: { spec: string; config: string; ids: string[] }[] } {
  const bySpec = sources
    .map((source) => ({
      source,
      jobs: jobs
        .filter((j) => j.spec === source.spec)
        .map((j): ManifestJob => {
          try {
            return { config: j.config, properties: source.spec.build(j.config).properties };
          } catch (err) {
            throw authorError(source, j.config.name, err);
          }
        }),
    }))
    .filter((x) => x.jobs.length);
  const properties = bySpec.flatMap(({ source, jobs }) => jobs.map((j) => ({ spec: source.spec.name, config: j.config.name, ids: j.properties.map((p) => p.id) })));
  if (record) {
    const unwritten: string[] = [];
    let open = 0;
    for (const { source, jobs } of bySpec) {
      const before = JSON.stringify(manifest[source.spec.name] ?? null);
      const missing = manifestMissing(source.spec.name);
      const n = addMissingEntries(source, manifest, jobs);
      if (missing || JSON.stringify(manifest[source.spec.name]) !== before) saveManifest(manifest, [source.spec.name]);
      if (n) {
        open += n;
        unwritten.push(shown(process.env.DAXCHECK_MANIFEST || source.manifest));
      }
    }
    if (open) {
      const again = `daxcheck check ${bySpec.map((x) => x.source.ref).join(' ')} --record-counts`;
      return {
        open:
          `${[...new Set(unwritten)].join(', ')}: ${open} expected verdict(s) to write: replace each null with the verdict you expect ` +
          `("holds" or "violated"; "reachable" or "unreachable" for a sometimes-property), then run \`${again}\` again`,
        properties,
      };
    }
  }
  for (const { source, jobs } of bySpec) checkManifest(source, manifest, jobs);
  return { open: null, properties };
}

/** What `--write DIR` writes: results.json and a trace file per property of each configuration (writeResults). */
export function writePlan(properties: { spec: string; config: string; ids: string[] }[]): OutputPlan {
  return {
    files: ['results.json', ...properties.flatMap((p) => p.ids.map((id) => join('traces', p.spec, p.config, `${id}.json`)))],
    dirs: ['traces', ...new Set(properties.flatMap((p) => [join('traces', p.spec), join('traces', p.spec, p.config)]))],
  };
}

/** Memory an exploration needs beyond what the process holds before it: a compiled machine, a first arena. */
const EXPLORE_HEADROOM = 16 * 1024 * 1024;

/**
 * Memory kept, with --workers, for stopping each worker thread after a run stopped by the limit:
 * the process's resident memory rises for a moment as a thread is torn down (measured: up to
 * 6 MB above what it held before, on a loaded machine).
 */
const WORKER_TEARDOWN = 8 * 1024 * 1024;

/** Memory kept for after the exploration (the traces, the results document, the output): 8 MiB or 5 %. */
const reportReserve = (limit: number) => Math.max(8 * 1024 * 1024, Math.floor(limit * 0.05));

/**
 * The memory the whole process may hold, in bytes: --max-memory MB, or 60 % of the machine's
 * memory (or of the cgroup's limit, when lower). A limit the process has already used up before
 * exploring cannot hold: refused with the figure it needs.
 */
function memoryLimit(mb: number | undefined): number {
  const MiB = 1024 * 1024;
  if (mb === undefined) {
    const constrained = process.constrainedMemory?.() ?? 0;
    const total = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
    return Math.floor(total * 0.6);
  }
  const used = process.memoryUsage.rss();
  if (mb * MiB - reportReserve(mb * MiB) < used + EXPLORE_HEADROOM) {
    const need = Math.ceil((used + EXPLORE_HEADROOM + 8 * MiB) / MiB);
    throw new UsageError(`--max-memory ${mb} MB is less than daxcheck needs: ${Math.ceil(used / MiB)} MB are in use before exploring (more with --workers); give at least ${need}`);
  }
  return mb * MiB;
}

function toJson(runs: ConfigRun[], interrupted: boolean) {
  return {
    format: RESULTS_FORMAT,
    interrupted,
    results: runs.flatMap((r) => r.results),
    measurements: measurementsOf(runs),
    runs: runs.map(({ results: _r, ...stats }) => ({ ...stats, asExpected: runAsExpected({ ...stats, results: _r }) })),
  };
}

export function recordCounts(runs: ConfigRun[], manifest: Manifest): void {
  for (const run of runs) {
    const entry = manifest[run.spec]?.[run.config];
    const verdictsOk = run.results.every((r) => r.verdict === r.expected);
    if (!entry || !run.complete || !verdictsOk) {
      warn(`not recording ${run.spec}/${run.config}: ${!entry ? 'no manifest entry' : !run.complete ? 'incomplete run' : 'verdicts differ from the manifest'}`);
      continue;
    }
    if (run.symmetry) entry.symmetry = { states: run.states, transitions: run.transitions };
    else {
      entry.states = run.states;
      entry.transitions = run.transitions;
    }
    run.expectedStates = run.states;
    run.expectedTransitions = run.transitions;
    if (run.measures.length) {
      entry.measures = Object.fromEntries(run.measures.map((m) => [m.name, m.max]));
      run.expectedMeasures = entry.measures;
    }
  }
  saveManifest(manifest, [...new Set(runs.map((r) => r.spec))]);
}

/** DIR/results.json and one JSON file per trace: DIR/traces/<spec>/<config>/<property id>.json. */
function writeResults(dir: string, runs: ConfigRun[], interrupted: boolean): void {
  makeDirs(dir);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(toJson(runs, interrupted), null, 2) + '\n');
  writeTraceFiles(dir, runs);
}

/** One JSON file per trace: DIR/traces/<spec>/<config>/<property id>.json (check and simulate write the same). */
export function writeTraceFiles<R extends PropertyResult>(dir: string, runs: { spec: string; config: string; results: R[] }[], extra: (r: R) => Record<string, unknown> = () => ({})): void {
  for (const run of runs) {
    const d = join(dir, 'traces', run.spec, run.config);
    makeDirs(d);
    run.results.forEach((r) => {
      if (!r.trace) return;
      writeFileSync(join(d, `${r.id}.json`), JSON.stringify({ spec: r.spec, config: r.config, id: r.id, property: r.property, kind: r.kind, verdict: r.verdict, ...extra(r), ...r.trace }, null, 2) + '\n');
    });
  }
}
