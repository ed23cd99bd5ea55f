/**
 * `npm run bench [-- --json] [-- --T 2 --B 4] [-- --workers 2] [-- --repeat 3] [-- --sources] [-- --no-spin] [-- --no-check] [-- --replays]`
 *
 * Measures, in one run so the ratios mean something on a noisy machine, each tool `--repeat`
 * times interleaved (explorer, parallel explorer, Spin; again), giving the medians and every run:
 *  - the explorer (compiled, from dist/, when in step with the sources, as the CLI runs it; the
 *    sources through tsx otherwise or with --sources) on the reference model of ../shared/bench/MODEL.md (an XState machine, through
 *    the same compiler and explorer as every spec): states, transitions, seconds, states/s,
 *    bytes per state; then the parallel explorer with --workers threads (default 2, the cores of
 *    this project's machines), which must count the same. Both are told MODEL.md's state count as
 *    a sizing hint, as Spin's -w27 sizes its hash table;
 *  - Spin on the same model (../shared/bench/spin-baseline.sh), installed from Debian if missing,
 *    and Spin's multi-core mode with --workers cores (bench/spin-ncore.sh, -DNCORE) as a second
 *    reference;
 *  - `ratios`: the sequential explorer against Spin's single-core DFS (target 1.5), two workers
 *    against one (target 1.7), bytes per state (target at most 48), with the raw figures: each
 *    as the ratio of the medians (`value`) and round by round (`rounds`, `roundsMedian`);
 *  - `daxcheck check` over every spec's default configurations;
 *  - the CLI's start-up (bench/startup.ts: `check baseline --config trusting` from dist/ and from
 *    the sources, `help`).
 *  - with --replays: the native replay harness, replays per minute over the smoke set on ext4
 *    and XFS (needs `npm run replay:setup`; boot time is the limit).
 * With --json it prints one JSON line; otherwise a short table, with the count comparison.
 *
 * Exit 1, with one line on stderr, when the explorer's state or transition count differs from
 * MODEL.md's table (T=2, B=3 and T=2, B=4), from the parallel engine's, or from Spin's state count
 * in the same run (bench/counts.ts): the numbers would then compare different state spaces.
 * `npm run bench -- --B 3` is the quick run (seconds).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkCounts, MODEL_MD_COUNTS, type SpinResult } from './counts.ts';
import type { RefContext } from './reference-model.ts';
import { startup } from './startup.ts';
import { distStatus } from '../bin/dist-status.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    repeat: { type: 'string', default: '3' },
    sources: { type: 'boolean' },
    T: { type: 'string', default: '2' },
    B: { type: 'string', default: '4' },
    'no-spin': { type: 'boolean' },
    'no-check': { type: 'boolean' },
    workers: { type: 'string', default: '2' },
    replays: { type: 'boolean' },
  },
});
const workers = Number(values.workers);
const T = Number(values.T);
const B = Number(values.B);
if (!Number.isInteger(T) || !Number.isInteger(B) || T < 1 || B < 1 || T > 4 || B > 6) {
  process.stderr.write(`bench: --T and --B must be small positive integers, got ${values.T}, ${values.B}\n`);
  process.exit(2);
}
if (!Number.isInteger(workers) || workers < 1 || workers > 16) {
  process.stderr.write(`bench: --workers must be an integer from 1 to 16, got ${values.workers}\n`);
  process.exit(2);
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 21) {
  process.stderr.write(`bench: --repeat must be an integer from 1 to 21, got ${values.repeat}\n`);
  process.exit(2);
}

// The explorer measured is the one the CLI runs: the compiled dist/ when it is in step with the
// sources (npm run build), else the sources through tsx (or with --sources). The same code,
// but what tsx makes of it runs measurably slower.
const status = distStatus(root) as { fresh: boolean; reason?: string };
const compiled = status.fresh && !values.sources;
const codeDir = compiled ? '../dist/' : '../';
const ext = compiled ? '.js' : '.ts';
const code = compiled ? 'dist (compiled)' : `sources through tsx (${values.sources ? '--sources' : status.reason})`;
const { explore } = (await import(`${codeDir}checker/bfs${ext}`)) as typeof import('../checker/bfs.ts');
const { exploreParallel, closeRestingWorkers } = (await import(`${codeDir}checker/parallel${ext}`)) as typeof import('../checker/parallel.ts');
const { compileMachine } = (await import(`${codeDir}checker/xstate/compile${ext}`)) as typeof import('../checker/xstate/compile.ts');
const { referenceModel } = (await import(`${codeDir}bench/reference-model${ext}`)) as typeof import('./reference-model.ts');

function log(msg: string) {
  if (!values.json) process.stderr.write(msg + '\n');
}

async function explorer(workers: number) {
  const m = referenceModel(T, B);
  const t0 = performance.now();
  const sys = compileMachine<RefContext>(m.machine, { events: m.events, bounds: m.bounds });
  const compileMs = performance.now() - t0;
  const loader = { module: new URL(`${codeDir}bench/reference-model${ext}`, import.meta.url).href, export: 'loadReference', args: [T, B] };
  const expectedStates = MODEL_MD_COUNTS[`${T},${B}`]?.states;
  // Each parallel run starts its own workers (the pool keeps them from run to run otherwise):
  // the figure includes starting the threads and loading the model in each, as a single run's does.
  if (workers > 1) await closeRestingWorkers();
  const r = workers > 1 ? await exploreParallel(sys, m.properties, loader, { workers, expectedStates }) : await explore(sys, m.properties, { expectedStates });
  return {
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: Math.round(r.seconds * 100) / 100,
    statesPerSecond: r.statesPerSecond,
    bytesPerState: r.bytesPerState,
    compileMs: Math.round(compileMs * 10) / 10,
  };
}

/** Spin, installed with apt-get when missing (the bench must work on a fresh machine). */
function spin(): SpinResult {
  const script = process.env.DAXCHECK_SPIN_BASELINE ?? join(root, '..', 'shared', 'bench', 'spin-baseline.sh');
  if (!existsSync(script)) return { skipped: `no Spin baseline script at ${script} (set DAXCHECK_SPIN_BASELINE)` };
  if (spawnSync('sh', ['-c', 'command -v spin']).status !== 0) {
    log('bench: installing spin from Debian (apt-get) ...');
    const aptGet = (...args: string[]) =>
      (process.getuid?.() === 0 ? spawnSync('apt-get', args, { stdio: 'ignore' }) : spawnSync('sudo', ['apt-get', ...args], { stdio: 'ignore' })).status === 0;
    if (!(aptGet('update') && aptGet('install', '-y', 'spin'))) return { skipped: 'spin is not installed and apt-get could not install it' };
  }
  let out: string;
  try {
    out = execFileSync('bash', [script, String(T), String(B)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stderr?: string };
    return { failed: `${script} exited ${e.status ?? '?'}: ${(e.stderr ?? '').trim().split('\n').at(-1) ?? ''}` };
  }
  try {
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch {
    return { failed: `${script} printed no JSON line: ${out.trim().slice(-120)}` };
  }
}

/** Spin's multi-core mode (bench/spin-ncore.sh), when Spin is there. */
function spinNcore(cores: number): SpinResult {
  if (spawnSync('sh', ['-c', 'command -v spin']).status !== 0) return { skipped: 'spin is not installed' };
  const gen = join(root, '..', 'shared', 'bench', 'gen-promela.cjs');
  if (!existsSync(gen) && !process.env.DAXCHECK_SPIN_GEN) return { skipped: `no ${gen} (set DAXCHECK_SPIN_GEN)` };
  try {
    const out = execFileSync('bash', [join(here, 'spin-ncore.sh'), String(T), String(B), String(cores)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message?: string };
    return { failed: `spin-ncore.sh exited ${e.status ?? '?'}: ${(e.stderr ?? e.message ?? '').trim().split('\n').at(-1) ?? ''}` };
  }
}

/** Wall time of `daxcheck check` over every spec's default configurations, in a fresh process. */
function checkAll() {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'daxcheck.mjs'), 'check', '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  const doc = r.stdout ? JSON.parse(r.stdout) : { runs: [] };
  return {
    seconds: Math.round(seconds * 100) / 100,
    exitCode: r.status,
    configurations: doc.runs.length,
    states: doc.runs.reduce((n: number, x: { states: number }) => n + x.states, 0),
  };
}

/** Replays per minute: `daxcheck replay --smoke` on ext4 and XFS, sequentially (TCG is CPU bound). */
function replays() {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'daxcheck.mjs'), 'replay', '--smoke', '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status === 2) return { skipped: r.stderr.trim() };
  const doc = JSON.parse(r.stdout) as { traces: { results: { outcome: string }[] }[] };
  const results = doc.traces.flatMap((t) => t.results);
  return {
    replays: results.length,
    matched: results.filter((x) => x.outcome === 'match').length,
    seconds: Math.round(seconds * 10) / 10,
    perMinute: Math.round((results.length / seconds) * 60 * 10) / 10,
  };
}

// The machines this runs on are shared and noisy (the same run can take 1.5 times as long a minute
// later): each tool runs `repeat` times, interleaved (explorer, parallel explorer, Spin, again),
// so that each sees the same conditions, and the figures are the medians, every run listed.
type Ours = Awaited<ReturnType<typeof explorer>>;
const runsSeq: Ours[] = [];
const runsPar: Ours[] = [];
const runsSpin: SpinResult[] = [];
for (let k = 1; k <= repeat; k++) {
  log(`bench: round ${k} of ${repeat}: explorer on the reference model T=${T}, B=${B} (${code}) ...`);
  runsSeq.push(await explorer(1));
  if (workers > 1) {
    log(`bench: round ${k} of ${repeat}: parallel explorer, ${workers} workers ...`);
    runsPar.push(await explorer(workers));
  }
  if (!values['no-spin']) {
    log(`bench: round ${k} of ${repeat}: Spin on the same model ...`);
    runsSpin.push(spin());
  }
}
/** The run with the median states/s (the lower middle one of an even count). */
const rateOf = (r: object) => (r as { statesPerSecond?: unknown }).statesPerSecond;
function median<X extends object>(runs: X[]): X {
  const ok = runs.filter((r) => typeof rateOf(r) === 'number');
  if (ok.length === 0) return runs[0];
  return [...ok].sort((a, b) => (rateOf(a) as number) - (rateOf(b) as number))[Math.floor((ok.length - 1) / 2)];
}
const rates = (runs: object[]) => runs.map((r) => rateOf(r) ?? null);
const ours = median(runsSeq);
const result: Record<string, unknown> = { model: `MODEL.md T=${T} B=${B}`, code, repeat, ...ours, runs: rates(runsSeq) };
if (workers > 1) result.parallel = { workers, ...median(runsPar), runs: rates(runsPar) };
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const par = result.parallel as { statesPerSecond: number } | undefined;
if (!values['no-spin']) {
  const s = median(runsSpin);
  result.spin = { ...s, runs: rates(runsSpin) };
  if (typeof s.statesPerSecond === 'number') {
    result.vsSpin = ratio(ours.statesPerSecond, s.statesPerSecond);
    if (par) result.parallelVsSpin = ratio(par.statesPerSecond, s.statesPerSecond);
  }
  if (workers > 1) {
    log(`bench: Spin's multi-core mode (-DNCORE=${workers}) on the same model ...`);
    const n = spinNcore(workers);
    result.spinNcore = n;
    if (typeof n.statesPerSecond === 'number') {
      result.vsSpinNcore = ratio(ours.statesPerSecond, n.statesPerSecond);
      if (par) result.parallelVsSpinNcore = ratio(par.statesPerSecond, n.statesPerSecond);
    }
  }
}
// The three figures the explorer is held to, with their targets, from this run's raw figures:
// `value` is the ratio of the medians; `rounds` the ratio within each round (the two runs of a
// round are back to back, so a slow minute slows both), and `roundsMedian` their median.
const spinRate = (result.spin as { statesPerSecond?: number } | undefined)?.statesPerSecond;
const perRound = (a: object[], b: object[]) =>
  a.map((x, k) => {
    const p = rateOf(x);
    const q = k < b.length ? rateOf(b[k]) : undefined;
    return typeof p === 'number' && typeof q === 'number' ? ratio(p, q) : null;
  });
const middle = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null).sort((p, q) => p - q);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : null;
};
const spinRounds = perRound(runsSeq, runsSpin);
const parRounds = perRound(runsPar, runsSeq);
result.ratios = {
  sequentialVsSpin: {
    value: typeof spinRate === 'number' ? ratio(ours.statesPerSecond, spinRate) : null,
    target: 1.5,
    ours: ours.statesPerSecond,
    spin: spinRate ?? null,
    rounds: spinRounds,
    roundsMedian: middle(spinRounds),
  },
  workersVsOne: par
    ? { workers, value: ratio(par.statesPerSecond, ours.statesPerSecond), target: 1.7, parallel: par.statesPerSecond, one: ours.statesPerSecond, rounds: parRounds, roundsMedian: middle(parRounds) }
    : null,
  bytesPerState: { value: ours.bytesPerState, target: 48 },
};
const counts = checkCounts(T, B, ours, (result.parallel as typeof ours | undefined) ?? null, (result.spin as SpinResult | undefined) ?? null);
// Every round must have counted the same.
for (const [name, runs] of [['explorer', runsSeq], ['parallel explorer', runsPar], ['Spin', runsSpin]] as const) {
  const differing = (runs as { states?: unknown }[]).filter((r) => typeof r.states === 'number' && r.states !== ours.states);
  if (differing.length) counts.failures.push(`a round of the ${name} counted ${differing[0].states} states, not ${ours.states}`);
}
// Spin's multi-core mode must count the same states too.
const ncore = result.spinNcore as SpinResult | undefined;
if (ncore && typeof ncore.states === 'number') {
  const same = ncore.states === ours.states;
  counts.line += `; Spin -DNCORE ${ncore.states.toLocaleString('en-US')} states: ${same ? 'same' : 'DIFFERENT'}`;
  if (!same) counts.failures.push(`Spin -DNCORE counted ${ncore.states} states, the explorer ${ours.states}`);
} else if (ncore?.failed) counts.line += `; Spin -DNCORE: FAILED (${ncore.failed})`;
result.counts = { agree: counts.failures.length === 0, comparison: counts.line, ...(counts.failures.length ? { failures: counts.failures } : {}) };
if (!values['no-check']) {
  log('bench: daxcheck check (default configurations) ...');
  result.checkAll = checkAll();
}

log('bench: start-up of the CLI (bench/startup.ts) ...');
result.startup = startup();

if (values.replays) {
  log('bench: replays on the real kernel (daxcheck replay --smoke) ...');
  result.replays = replays();
}

if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  const s = result.spin as { statesPerSecond?: number; seconds?: number; skipped?: string } | undefined;
  const lines = [
    `explorer  ${ours.states} states  ${ours.transitions} transitions  ${ours.seconds} s  ${ours.statesPerSecond} states/s  ${ours.bytesPerState} bytes/state`,
    result.parallel ? `parallel  ${JSON.stringify(result.parallel)}` : '',
    s?.statesPerSecond ? `spin      ${s.seconds} s  ${s.statesPerSecond} states/s   explorer/spin = ${result.vsSpin}` : s?.skipped ? `spin      skipped: ${s.skipped}` : '',
    result.spinNcore ? `spin -DNCORE ${JSON.stringify(result.spinNcore)}` : '',
    `ratios    ${JSON.stringify(result.ratios)}`,
    `counts    ${counts.line}`,
    result.checkAll ? `check     ${JSON.stringify(result.checkAll)}` : '',
    `startup   ${JSON.stringify(result.startup)}`,
    result.replays ? `replays   ${JSON.stringify(result.replays)}` : '',
  ];
  process.stdout.write(lines.filter(Boolean).join('\n') + '\n');
}
if (counts.failures.length) {
  process.stderr.write(`bench: count check failed: ${counts.failures.join('; ')}\n`);
  process.exit(1);
}
