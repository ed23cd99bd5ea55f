/**
 * `npm run fuzz [-- --runs N] [--processes N] [--surface NAME[,NAME]] [--seed S] [--jobs J] [--json]`
 *
 * Fuzzes every input surface of fuzz/surfaces.ts: N inputs each (default 10,000) through the
 * CLI's `main` in a child process, plus --processes of them (default 100) as real
 * `node bin/daxcheck.mjs` processes, and prints a table: per surface, the inputs tried and how many
 * gave a stack trace, an internal error, a wrong exit code, a raw control character on the
 * terminal, nonsense ("[object Object]", "undefined") or no answer (a hang: no answer for 120 s;
 * the child is replaced and the run goes on after that input). Then the first failures of each
 * surface, to reproduce. Exit 1 when anything failed.
 *
 * Inputs are generated from the seed (default: the day's date), in chunks, so a run is
 * reproducible and memory stays flat; `--jobs` surfaces run side by side (default 1).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { describeInput, isFine, judge, nonsenseIn, makeFixtures, PROBLEMS, removeFixtures, runInProcess, runProcess, SURFACES, type Input, type Judgement } from './surfaces.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    processes: { type: 'string', default: '100' },
    surface: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    json: { type: 'boolean' },
    child: { type: 'string' },
    from: { type: 'string', default: '0' },
  },
});

const CHUNK = 50;
const HANG_MS = 120_000;
const seed = values.seed !== undefined ? Number(values.seed) : Number(new Date().toISOString().slice(0, 10).replace(/-/g, ''));
const runs = Number(values.runs);
const processes = Number(values.processes);

type FromChild =
  | { type: 'start'; i: number; desc: string }
  | { type: 'done'; i: number; mode: 'in-process' | 'process'; judgement: Judgement; code: number | null; ms: number; desc: string; err: string }
  | { type: 'skip'; i: number; reason: string }
  | { type: 'end' };

/** Input i of a surface: chunk i / CHUNK of the seed's sequence (processes use another seed). */
let cached: { key: string; inputs: Input[] } | null = null;
function inputsOf(arb: fc.Arbitrary<Input>, chunk: number, base: number): Input[] {
  const key = `${base}:${chunk}`;
  if (cached?.key !== key) cached = { key, inputs: fc.sample(arb, { numRuns: CHUNK, seed: base + chunk }) };
  return cached.inputs;
}

async function child(name: string): Promise<void> {
  const surface = SURFACES.find((s) => s.name === name)!;
  const f = await makeFixtures();
  const arb = surface.make(f, 'full');
  const send = (m: FromChild) => process.send!(m);
  const from = Number(values.from);
  const total = runs + processes;
  try {
    for (let i = from; i < total; i++) {
      const proc = i >= runs;
      const k = proc ? i - runs : i;
      let input: Input;
      try {
        input = inputsOf(arb, Math.floor(k / CHUNK), proc ? seed + 1_000_000 : seed)[k % CHUNK];
      } catch (err) {
        // The fuzzer's own failure to make an input, not daxcheck's: said apart.
        send({ type: 'skip', i, reason: (err as Error).message });
        continue;
      }
      const desc = describeInput(input);
      send({ type: 'start', i, desc });
      const o = proc ? runProcess(input, f.cwd, HANG_MS - 10_000) : await runInProcess(input, f.cwd);
      const judgement = judge(input, o);
      // What to show of a failure: what escaped, else stderr, and the nonsense in context.
      const shown = [o.threw ?? o.err, judgement.nonsense ? `nonsense: …${nonsenseIn(input, o.out + o.err)}…` : ''].filter(Boolean).join('\n');
      send({ type: 'done', i, mode: proc ? 'process' : 'in-process', judgement, code: o.code, ms: Math.round(o.ms), desc, err: shown.slice(0, 600) });
    }
  } finally {
    removeFixtures(f);
  }
  send({ type: 'end' });
}

interface Row {
  surface: string;
  tried: string;
  inProcess: number;
  processes: number;
  counts: Record<keyof Judgement, number>;
  maxMs: number;
  totalMs: number;
  /** Exit codes seen, by code: how many inputs were valid (0, 1) and refused (2). */
  exits: Record<string, number>;
  /** Inputs the fuzzer failed to make, and children that died before their first input. */
  harness: string[];
  failures: string[];
}

/** Runs one surface in a child process, replacing it when an input hangs or kills it. */
function runSurface(name: string): Promise<Row> {
  const s = SURFACES.find((x) => x.name === name)!;
  const row: Row = { surface: name, tried: s.tried, inProcess: 0, processes: 0, counts: Object.fromEntries(PROBLEMS.map((p) => [p, 0])) as Row['counts'], maxMs: 0, totalMs: 0, exits: {}, harness: [], failures: [] };
  const total = runs + processes;
  const fail = (what: string) => {
    if (row.failures.length < 5) row.failures.push(what);
  };
  return new Promise((resolve) => {
    const start = (from: number) => {
      let current: { i: number; desc: string } | null = null;
      let done = from - 1;
      let ended = false;
      let heard = false;
      let last = Date.now();
      let stderr = '';
      const c: ChildProcess = fork(import.meta.filename, ['--child', name, '--from', String(from), '--runs', String(runs), '--processes', String(processes), '--seed', String(seed)], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      c.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      const watchdog = setInterval(() => {
        if (current && Date.now() - last > HANG_MS) {
          row.counts.hang++;
          row.inProcess++;
          fail(`hang (no answer in ${HANG_MS / 1000} s): ${current.desc}`);
          const next = current.i + 1;
          current = null;
          clearInterval(watchdog);
          c.removeAllListeners('exit');
          c.kill('SIGKILL');
          if (next < total) start(next);
          else resolve(row);
        }
      }, 1000);
      c.on('message', (m: FromChild) => {
        last = Date.now();
        heard = true;
        if (m.type === 'skip') {
          if (row.harness.length < 5) row.harness.push(`input ${m.i} not made: ${m.reason}`);
          done = m.i;
        }
        if (m.type === 'start') current = { i: m.i, desc: m.desc };
        else if (m.type === 'end') ended = true;
        else if (m.type === 'done') {
          current = null;
          done = m.i;
          if (m.mode === 'process') row.processes++;
          else row.inProcess++;
          row.maxMs = Math.max(row.maxMs, m.ms);
          row.exits[String(m.code)] = (row.exits[String(m.code)] ?? 0) + 1;
          row.totalMs += m.ms;
          for (const p of PROBLEMS) if (m.judgement[p]) row.counts[p]++;
          if (!isFine(m.judgement)) fail(`${PROBLEMS.filter((p) => m.judgement[p]).join(', ')} (${m.mode}, exit ${m.code}): ${m.desc}\n      ${m.err.split('\n').slice(0, 3).join('\n      ')}`);
          if ((m.i + 1) % 500 === 0 && !values.json) process.stderr.write(`fuzz: ${name} ${m.i + 1}/${total}\n`);
        }
      });
      c.on('exit', (code) => {
        clearInterval(watchdog);
        if (current) {
          // The child died on an input: what a user would have seen as a crash.
          row.counts.stackTrace++;
          row.inProcess++;
          fail(`the process died (exit ${code}): ${current.desc}\n      ${stderr.split('\n').slice(-4).join('\n      ')}`);
          const next = current.i + 1;
          if (next < total) return start(next);
        } else if (!heard) {
          // Died before its first input: the fuzzer's failure; skip that input rather than loop.
          row.harness.push(`the child died before input ${from} (exit ${code}): ${stderr.split('\n').slice(-3).join(' / ')}`);
          if (from + 1 < total) return start(from + 1);
        } else if (!ended && done + 1 < total) {
          // Died between two inputs: after the last answer, before the next question.
          row.counts.stackTrace++;
          fail(`the process died (exit ${code}) after input ${done}\n      ${stderr.split('\n').slice(-6).join('\n      ')}`);
          return start(done + 1);
        }
        resolve(row);
      });
    };
    start(0);
  });
}

function table(rows: Row[]): string {
  const head = '| surface | inputs (in-process + processes) | exit 0 / 1 / 2 | stack traces | internal errors | wrong exit codes | raw control characters | nonsense printed | hangs | mean, slowest |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|';
  const fmt = (n: number) => n.toLocaleString('en-US');
  const lines = rows.map(
    (r) =>
      `| ${r.tried} | ${fmt(r.inProcess)} + ${fmt(r.processes)} | ${['0', '1', '2'].map((c) => fmt(r.exits[c] ?? 0)).join(' / ')} | ${r.counts.stackTrace} | ${r.counts.internalError} | ${r.counts.wrongExit} | ${r.counts.rawControl} | ${r.counts.nonsense} | ${r.counts.hang} | ${(r.totalMs / Math.max(1, r.inProcess + r.processes) / 1000).toFixed(2)} s, ${(r.maxMs / 1000).toFixed(1)} s |`,
  );
  return [head, sep, ...lines].join('\n');
}

async function parent(): Promise<number> {
  const names = values.surface ? values.surface.split(',') : SURFACES.map((s) => s.name);
  for (const n of names) if (!SURFACES.some((s) => s.name === n)) throw new Error(`no surface '${n}' (${SURFACES.map((s) => s.name).join(', ')})`);
  const started = performance.now();
  const rows: Row[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const k = next++;
      rows[k] = await runSurface(names[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
  const minutes = (performance.now() - started) / 60000;
  const bad = rows.some((r) => PROBLEMS.some((p) => r.counts[p] > 0));
  if (values.json) process.stdout.write(JSON.stringify({ seed, runs, processes, minutes: Math.round(minutes * 10) / 10, rows }) + '\n');
  else {
    const out = [`fuzz: seed ${seed}, ${runs} in-process and ${processes} process inputs per surface, ${minutes.toFixed(1)} min`, '', table(rows)];
    for (const r of rows.filter((x) => x.failures.length)) out.push('', `${r.surface}: first failures`, ...r.failures.map((x) => `  ${x}`));
    for (const r of rows.filter((x) => x.harness.length)) out.push('', `${r.surface}: the fuzzer's own trouble (not counted above)`, ...r.harness.map((x) => `  ${x}`));
    process.stdout.write(out.join('\n') + '\n');
  }
  return bad ? 1 : 0;
}

if (values.child) await child(values.child);
else process.exitCode = await parent();
