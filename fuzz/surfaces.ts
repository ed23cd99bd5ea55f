/**
 * Fuzzing daxcheck's input surfaces as a user meets them: argument vectors, output targets, and
 * every file the tool reads (traces, verdicts files given to --baseline, results files given to
 * report --results, manifests, device files and other special paths), each mutated at random.
 *
 * Every input is a command line (plus, for files, the file written first) run through the CLI's
 * `main`, in this process (fast: thousands a minute) or as a real `node bin/daxcheck.mjs`
 * process. The oracle (`judge`) holds the CLI to its promises: exit code 0, 1 or 2 (2 for input
 * known to be bad), one line on stderr with exit code 2, never a stack trace nor an internal error
 * (exit code 70), no raw control character on the terminal, no nonsense such as
 * "[object Object]" or "undefined" in what it prints, and an answer within the time limit.
 *
 * test/fuzz/fuzz.test.ts runs a few dozen inputs per surface in `npm test`; `npm run fuzz`
 * (fuzz/run.ts) runs thousands and prints the table the README shows.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { hasUnsafe } from '../src/terminal.ts';

export const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'daxcheck.mjs');

/** One input: a command line, the file it reads (written before the run), what exit codes are right. */
export interface Input {
  argv: string[];
  /** Environment for the run (DAXCHECK_MANIFEST for the manifest surface). */
  env?: Record<string, string>;
  /** A file to write before the run: the mutated document. */
  file?: { path: string; bytes: Uint8Array | string };
  /** Exit codes that are right for this input. */
  expect: number[];
  /** Look for nonsense ("[object Object]", "undefined", "NaN") in what is printed. */
  sensible?: boolean;
}

export interface Outcome {
  code: number | null;
  out: string;
  err: string;
  /** What escaped `main` (in-process runs): a stack trace a user would have seen. */
  threw: string | null;
  ms: number;
  hung: boolean;
}

export interface Judgement {
  stackTrace: boolean;
  internalError: boolean;
  wrongExit: boolean;
  rawControl: boolean;
  nonsense: boolean;
  hang: boolean;
}

export const PROBLEMS: (keyof Judgement)[] = ['stackTrace', 'internalError', 'wrongExit', 'rawControl', 'nonsense', 'hang'];

const STACK_FRAME = /^\s+at .*(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;
const NONSENSE = /\[object Object\]|\bundefined\b|\bNaN\b/g;

/** The input as text: what daxcheck may legitimately echo (a configuration named "NaN" is a name). */
function inputText(input: Input): string {
  const file = input.file ? (typeof input.file.bytes === 'string' ? input.file.bytes : Buffer.from(input.file.bytes).toString('utf8')) : '';
  return `${input.argv.join('\u0000')}\u0000${file}`;
}

/** Nonsense printed: "[object Object]", "undefined" or "NaN" where the input has no such word. */
export function nonsenseIn(input: Input, printed: string): string | null {
  const given = inputText(input);
  for (const m of printed.matchAll(NONSENSE)) {
    if (!given.includes(m[0])) return printed.slice(Math.max(0, m.index! - 60), m.index! + 60);
  }
  return null;
}

/** What is wrong with an outcome, if anything. */
export function judge(input: Input, o: Outcome): Judgement {
  const printed = o.out + o.err;
  const oneLine = /^daxcheck: [^\n]*\n$/.test(o.err);
  return {
    stackTrace: o.threw !== null || STACK_FRAME.test(printed),
    internalError: o.code === 70 || /daxcheck: internal error/.test(o.err),
    wrongExit: !o.hung && (o.code === null || !input.expect.includes(o.code) || (o.code === 2 && !oneLine)),
    rawControl: hasUnsafe(printed),
    nonsense: !!input.sensible && nonsenseIn(input, printed) !== null,
    hang: o.hung,
  };
}

export const isFine = (j: Judgement) => PROBLEMS.every((p) => !j[p]);

/** Environment variables a run may change, restored after each in-process run. */
const ENV_KEYS = ['DAXCHECK_MANIFEST', 'DAXCHECK_PROGRESS'];

type Main = (argv: string[]) => Promise<number>;
let mainFn: Main | null = null;

/** The CLI's main: compiled (dist/, what users run) when in step with the sources, else the sources. */
export async function loadMain(preferCompiled = true): Promise<Main> {
  if (mainFn) return mainFn;
  const { distStatus } = await import('../bin/dist-status.mjs');
  // Under vitest, modules load through its own loader, which runs the sources.
  const mod = preferCompiled && !process.env.VITEST && distStatus().fresh ? await import(join(ROOT, 'dist', 'src', 'cli.js')) : await import('../src/cli.ts');
  mainFn = (mod as { main: Main }).main;
  return mainFn;
}

/** How an input reads in a report of failures: its command line and the size of its file. */
export function describeInput(input: Input): string {
  const file = input.file ? ` (${input.file.path}: ${typeof input.file.bytes === 'string' ? Buffer.byteLength(input.file.bytes) : input.file.bytes.length} bytes)` : '';
  const env = input.env ? `${Object.entries(input.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
  return `${env}daxcheck ${input.argv.map((a) => JSON.stringify(a)).join(' ')}${file}`;
}

/** Gives an input a short printed form (fast-check prints counterexamples with it). */
function printable(input: Input): Input {
  return Object.defineProperty(input, fc.toStringMethod, { value: () => describeInput(input), enumerable: false });
}

/** Runs an input through `main` in this process, capturing what it prints. */
export async function runInProcess(input: Input, cwd: string): Promise<Outcome> {
  const main = await loadMain();
  if (input.file) writeFileSync(input.file.path, input.file.bytes);
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const savedCwd = process.cwd();
  const capture = (into: string[]) =>
    function (chunk: unknown, ...rest: unknown[]) {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    };
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, input.env ?? {});
  process.chdir(cwd);
  process.stdout.write = capture(out) as typeof process.stdout.write;
  process.stderr.write = capture(err) as typeof process.stderr.write;
  const started = performance.now();
  let code: number | null = null;
  let threw: string | null = null;
  try {
    code = await main(input.argv);
  } catch (e) {
    threw = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    process.chdir(savedCwd);
    for (const k of ENV_KEYS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  }
  return { code, out: out.join(''), err: err.join(''), threw, ms: performance.now() - started, hung: false };
}

/** Runs an input as a real `node bin/daxcheck.mjs` process. */
export function runProcess(input: Input, cwd: string, timeoutMs = 120_000): Outcome {
  if (input.file) writeFileSync(input.file.path, input.file.bytes);
  const started = performance.now();
  const env = { ...process.env };
  for (const k of ENV_KEYS) delete env[k];
  const r = spawnSync(process.execPath, [BIN, ...input.argv], { cwd, encoding: 'utf8', env: { ...env, ...input.env }, timeout: timeoutMs, maxBuffer: 1 << 28 });
  const hung = r.error !== undefined && (r.error as { code?: string }).code === 'ETIMEDOUT';
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '', threw: null, ms: performance.now() - started, hung };
}

// --- The fixtures: a scratch folder with special files, and real documents to mutate. ---------

export interface Fixtures {
  dir: string;
  /** Working directory of every run (reports written without --out land here). */
  cwd: string;
  /** Paths no reader may accept, and output targets no writer may accept. */
  badInputs: string[];
  badTargets: string[];
  /** Output folders that are fine: reused ones, and fresh ones (for `new`, which wants its folder new). */
  goodTarget: () => string;
  freshTarget: () => string;
  /** Every spec's manifest, written before each run that may record counts (never the repository's). */
  manifestsFile: string;
  /** Real documents to mutate. */
  docs: { trace: unknown[]; verdicts: unknown; results: unknown[]; manifests: unknown };
  /** Where mutated documents are written. */
  scratch: (name: string) => string;
}

/** Runs main in-process and returns what it printed on stdout (for making the fixtures). */
async function capture(argv: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const o = await runInProcess({ argv, expect: [0, 1], env }, cwd);
  if (o.code !== 0 && o.code !== 1) throw new Error(`fuzz fixtures: daxcheck ${argv.join(' ')} exited ${o.code}: ${o.err}`);
  return o.out;
}

export async function makeFixtures(): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'daxcheck-fuzz-'));
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a folder\n');
  const fifo = join(dir, 'a-fifo');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(dir, 'a-folder'));
  symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
  const sparse = join(dir, 'huge.json');
  writeFileSync(sparse, '');
  truncateSync(sparse, 300 * 1024 * 1024);
  writeFileSync(join(dir, 'latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
  writeFileSync(join(dir, 'empty.json'), '');
  const unreadable = join(dir, 'unreadable.json');
  writeFileSync(unreadable, '{}');
  chmodSync(unreadable, 0);
  // A folder where a file is written, a file where a folder is.
  mkdirSync(join(dir, 'blocked-results', 'results.json'), { recursive: true });
  mkdirSync(join(dir, 'blocked-traces'));
  writeFileSync(join(dir, 'blocked-traces', 'traces'), '');
  mkdirSync(join(dir, 'blocked-verdicts', 'verdicts.json'), { recursive: true });

  const badInputs = [
    '/dev/zero', '/dev/null', '/dev/urandom', '/dev/stdin', fifo, join(dir, 'a-folder'), join(dir, 'loop'), sparse, join(dir, 'latin1.json'),
    join(dir, 'empty.json'), join(dir, 'missing.json'), join(file, 'sub.json'), '/proc/self/mem', '/proc', `${dir}/${'x'.repeat(300)}.json`,
    ...(process.getuid?.() === 0 ? [] : [unreadable]),
  ];
  const badTargets = [
    '', ' ', '/dev/null', '/dev/zero', file, join(file, 'sub'), join(file, 'sub', 'deeper'), fifo, join(dir, 'loop'), '/proc/daxcheck-fuzz',
    '/proc/self', '/sys/kernel', `${dir}/${'x'.repeat(300)}`, join(dir, 'blocked-results'),
  ];
  let n = 0;
  const goodTarget = () => join(dir, 'out', String(n++ % 50));
  let fresh = 0;
  const freshTarget = () => join(dir, 'fresh', String(fresh++));

  // Real documents: results, traces and verdicts of a few configurations, every manifest.
  const manifests = Object.fromEntries(
    readdirSync(join(ROOT, 'specs'))
      .filter((d) => existsSync(join(ROOT, 'specs', d, 'manifest.json')))
      .map((d) => [d, JSON.parse(readFileSync(join(ROOT, 'specs', d, 'manifest.json'), 'utf8'))]),
  );
  const write = join(dir, 'written');
  await capture(['check', 'baseline', '--config', 'trusting,fsync,fault-cost-1,fault-cost-2', '--write', write], cwd);
  await capture(['check', 'nosync-flag', '--config', 'ordered-deadlock', '--write', join(dir, 'written-deadlock')], cwd).catch(() => '');
  const results = [JSON.parse(readFileSync(join(write, 'results.json'), 'utf8'))];
  if (existsSync(join(dir, 'written-deadlock', 'results.json'))) results.push(JSON.parse(readFileSync(join(dir, 'written-deadlock', 'results.json'), 'utf8')));
  const traces: unknown[] = [];
  for (const config of ['trusting', 'fsync']) {
    const d = join(write, 'traces', 'baseline', config);
    for (const f of readdirSync(d)) traces.push(JSON.parse(readFileSync(join(d, f), 'utf8')));
  }
  const verdicts = JSON.parse(readFileSync(join(ROOT, 'reports', 'verdicts.json'), 'utf8'));
  mkdirSync(join(dir, 'docs'));
  return {
    dir,
    cwd,
    badInputs,
    badTargets,
    goodTarget,
    freshTarget,
    manifestsFile: join(dir, 'manifests.json'),
    docs: { trace: traces, verdicts, results, manifests },
    scratch: (name) => join(dir, 'docs', name),
  };
}

export function removeFixtures(f: Fixtures): void {
  rmSync(f.dir, { recursive: true, force: true });
}

// --- Values and mutations. -------------------------------------------------------------------

/** Strings a user (or an attacker) might type or put in a file. */
export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/\0/g, '')) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '', ' ', '-', '--', '-1', '0', '1', '2', '3', '64', '1.5', '1e9', '9007199254740993', 'NaN', 'Infinity', 'null', 'undefined', 'true',
      '\x1b[31mred', '\x1b]0;pwned\x07', '\x1b[2J', '\u009b31m', '\u202eevil', '\r\n', '\t', '%s%n%x', '${HOME}', '$(id)', '`id`',
      '../../etc/passwd', '/etc/passwd', '.', '..', 'a'.repeat(300), 'é', '🙂', '\uffff', '\ud800',
    ),
  },
);

const numberish = fc.oneof(fc.integer({ min: -5, max: 70 }).map(String), fc.constantFrom('0', '-1', '1e3', '0x10', '1.0', ' 5', '5 ', '+5', '99999999999999999999'));

/** A JSON value, hostile ones included: wrong types, huge numbers, control characters, deep nesting. */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  // Valid values in the wrong place (or the right one): a changed verdict, count or name is a
  // document that passes and makes daxcheck print differences.
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'holds', 'violated', 'reachable', 'unreachable', 'unknown', 'always', 'sometimes', 'deadlock', 'pointer-after-alloc', 'no-deadlock',
      'trusting', 'fsync', 'baseline', 'map-sync', 0, 1, 2, 13, 14, 132, 133, 134, 204, true, false, null,
    ),
  },
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, '', '[object Object]', 'undefined', 'NaN') },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 12000 }).map((d) => new Deep(d, 1)) },
  { weight: 1, arbitrary: fc.constantFrom([], {}, [null], { a: 1 }, ['holds'], { text: 1 }, { steps: [] }) },
);

/** An array nested `depth` deep. */
export function nest(depth: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/**
 * `inner` inside arrays nested `depth` deep, written into the document's text (`serialize`): as a
 * value it would overflow the stack of JSON.stringify (about 3,000 deep), and the point is to
 * send daxcheck nesting like the 10,000-deep trace of issue 14.
 */
export class Deep {
  constructor(
    readonly depth: number,
    readonly inner: unknown,
  ) {}
}

/** A document's text, Deep values written out as nested arrays. */
export function serialize(doc: unknown): string {
  const deep: Deep[] = [];
  const text = JSON.stringify(doc, (_k, v) => (v instanceof Deep ? `\u0000deep:${deep.push(v) - 1}\u0000` : v), 1);
  return text.replace(/"\\u0000deep:(\d+)\\u0000"/g, (_m, i: string) => {
    const d = deep[Number(i)];
    return `${'['.repeat(d.depth)}${serialize(d.inner)}${']'.repeat(d.depth)}`;
  });
}

type Op = 'replace' | 'delete' | 'duplicate' | 'wrap' | 'deepen' | 'emptyContainer' | 'renameKey';
export interface Mutation {
  at: number;
  op: Op;
  value: unknown;
}
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Op>('replace', 'replace', 'replace', 'delete', 'delete', 'duplicate', 'wrap', 'deepen', 'emptyContainer', 'renameKey'),
  value: jsonValue,
});

/** Every place in a document: [container, key] pairs, in depth-first order. */
function places(doc: unknown): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [];
  const stack: unknown[] = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || v instanceof Deep) continue;
    const c = v as Record<string | number, unknown>;
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys) {
      out.push([c, k]);
      stack.push(c[k]);
    }
  }
  return out;
}

/** A copy of `doc` with the mutations applied. */
export function mutate(doc: unknown, ms: Mutation[]): unknown {
  const copy = structuredClone(doc);
  for (const m of ms) {
    const ps = places(copy);
    if (!ps.length) break;
    const [c, k] = ps[m.at % ps.length];
    switch (m.op) {
      case 'replace':
        c[k] = m.value instanceof Deep ? m.value : structuredClone(m.value);
        break;
      case 'delete':
        if (Array.isArray(c)) c.splice(k as number, 1);
        else delete c[k];
        break;
      case 'duplicate':
        if (Array.isArray(c)) c.splice(k as number, 0, c[k]);
        else c[`${k}2`] = c[k];
        break;
      case 'wrap':
        c[k] = [c[k]];
        break;
      case 'deepen':
        c[k] = new Deep(60 + (m.at % 12000), c[k]);
        break;
      case 'emptyContainer':
        c[k] = Array.isArray(c[k]) ? [] : c[k] !== null && typeof c[k] === 'object' ? {} : '';
        break;
      case 'renameKey':
        if (!Array.isArray(c)) {
          c[typeof m.value === 'string' ? m.value : (JSON.stringify(m.value) ?? 'key')] = c[k];
          delete c[k];
        }
        break;
    }
  }
  return copy;
}

export interface TextEdit {
  kind: 'none' | 'truncate' | 'insert' | 'bom' | 'garbage' | 'double';
  at: number;
  bytes: Uint8Array;
}
export const textEdit: fc.Arbitrary<TextEdit> = fc.record({
  kind: fc.constantFrom<TextEdit['kind']>('none', 'none', 'none', 'none', 'none', 'none', 'truncate', 'insert', 'bom', 'garbage', 'double'),
  at: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

/** The document's bytes after a text-level edit (a file cut short, stray bytes, a BOM, ...). */
export function edited(text: string, e: TextEdit): Uint8Array | string {
  const b = Buffer.from(text);
  const at = b.length ? e.at % b.length : 0;
  switch (e.kind) {
    case 'none':
      return text;
    case 'truncate':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    case 'bom':
      return '\ufeff' + text;
    case 'garbage':
      return e.bytes;
    case 'double':
      return text + text;
  }
}

// --- The surfaces. ----------------------------------------------------------------------------

export type Profile = 'quick' | 'full';

const COMMANDS = ['check', 'report', 'list', 'replay', 'diff', 'new', 'help', '--help', '-h'];
const OPTIONS = [
  '--config', '--all-configs', '--json', '--max-states', '--max-memory', '--write', '--record-counts', '--workers', '--baseline', '--out',
  '--results', '--dir', '--covering', '--smoke', '--fs', '--host', '--timeout', '--dry-run', '--frobnicate', '-x', '--', '--config=trusting',
];
const STRING_OPTIONS = new Set(['--config', '--max-states', '--max-memory', '--write', '--workers', '--baseline', '--out', '--results', '--dir', '--fs', '--timeout']);
const SPECS = ['baseline', 'map-sync', 'nova', 'device-dax', 'nosync-flag', 'nope'];
const CONFIGS = ['trusting', 'fsync', 'non-dax', 'trusting,fsync', 'nope', ',', 'fault-cost-1'];
/** Options whose work grows with what they select: left out of the quick profile. */
const SLOW = new Set(['--all-configs', '--covering', '--smoke', 'diff', 'new', '--record-counts']);

/** A value for an option or a positional: valid-looking ones, hostile ones, paths good and bad. */
function valueArb(f: Fixtures) {
  return fc.oneof(
    { weight: 3, arbitrary: hostileString },
    { weight: 2, arbitrary: numberish },
    { weight: 2, arbitrary: fc.constantFrom(...SPECS, ...CONFIGS, 'ext4', 'xfs', 'ext4,xfs', 'btrfs') },
    { weight: 2, arbitrary: fc.constantFrom(...f.badInputs, ...f.badTargets) },
    { weight: 1, arbitrary: fc.constantFrom('good', 'fresh').map((k) => (k === 'good' ? f.goodTarget() : f.freshTarget())) },
  );
}

/** Random argument vectors over every command and option. */
export function cliArgs(f: Fixtures, profile: Profile): fc.Arbitrary<Input> {
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...OPTIONS) },
    { weight: 3, arbitrary: valueArb(f) },
  );
  return fc
    .record({
      command: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: hostileString }),
      spec: fc.option(fc.constantFrom(...SPECS), { nil: undefined }),
      tokens: fc.array(token, { maxLength: 8 }),
      // One vector in ten of the full profile keeps the options whose work grows (all
      // configurations, covering paths, the smoke set, workers, diff, new).
      heavy: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    })
    .map(({ command, spec, tokens, heavy }) => {
      let argv = [command, ...(spec ? [spec] : []), ...tokens.filter((t) => t !== '')];
      const light = profile === 'quick' || !heavy;
      // The command stays (new writes and checks a spec folder: a second each; the quick profile
      // lists instead); what follows it loses the options whose work grows.
      if (light) argv = [profile === 'quick' && argv[0] === 'new' ? 'list' : argv[0], ...argv.slice(1).filter((t) => !SLOW.has(t))];
      if (light && argv[0] === 'diff') argv[1] = `not-a-revision-${argv[1] ?? ''}`;
      // Without a spec, check and report run every spec: heavy vectors only.
      if (light && (argv[0] === 'check' || argv[0] === 'report') && !spec) argv.splice(1, 0, 'baseline');
      // Bounds on the work a valid vector may start (they do not change what the parser sees
      // first; a string option given twice takes the last value). Light vectors check, report
      // and replay one configuration (a report of every default configuration of a spec takes
      // seconds), heavy ones whatever they name.
      if (light && (argv[0] === 'report' || argv[0] === 'replay')) argv.push('--config', 'trusting');
      if (argv[0] === 'check' || argv[0] === 'report') argv.push('--max-states', light ? '100' : '300');
      if (argv[0] === 'replay') argv.push('--dry-run');
      // --workers above 1 starts threads: kept in heavy vectors only.
      if (light) for (let i = 0; i < argv.length; i++) if (argv[i] === '--workers' && i + 1 < argv.length) argv[i + 1] = '1';
      return { argv, expect: [0, 1, 2], ...manifestCopy(f) };
    });
}

/** Output targets for --write, --out and --dir: the bad ones must be refused (exit 2) before any work. */
export function outputTargets(f: Fixtures, profile: Profile = 'full'): fc.Arbitrary<Input> {
  // In-process under the test runner, a spec given by path cannot import the kit ('daxcheck'
  // resolves through node's loader hooks, which the runner's module loader does not use): `new`,
  // which checks the spec it writes, runs in the full profile only.
  const hows = ['check', 'check', 'check', 'report-check', 'report-results', 'report-results', ...(profile === 'quick' ? [] : ['new'])];
  return fc
    .record({
      how: fc.constantFrom(...hows),
      bad: fc.boolean(),
      target: fc.nat(),
      name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
    })
    .map(({ how, bad, target, name }) => {
      const t = bad ? f.badTargets[target % f.badTargets.length] : how === 'new' ? f.freshTarget() : f.goodTarget();
      // `new` needs only its folder; a folder holding a results.json folder is fine for it.
      const expect = bad && !(how === 'new' && t.endsWith('blocked-results')) ? [2] : [0];
      const results = join(f.dir, 'written', 'results.json');
      const argv =
        how === 'check'
          ? ['check', 'baseline', '--config', 'trusting', '--write', t]
          : how === 'report-check'
            ? ['report', 'baseline', '--config', 'trusting', '--out', t]
            : how === 'report-results'
              ? ['report', '--results', results, '--out', t]
              : // A fresh name too: in one process, two spec folders may not define the same name
                // (what a user running `new` in separate processes never meets).
                ['new', `p-${name}-${t.split('/').pop()}`, '--dir', t];
      return { argv, expect, ...manifestCopy(f) };
    });
}

/** Runs that may record counts write a scratch copy of every manifest, never the repository's. */
function manifestCopy(f: Fixtures): Pick<Input, 'env' | 'file'> {
  return { env: { DAXCHECK_MANIFEST: f.manifestsFile }, file: { path: f.manifestsFile, bytes: JSON.stringify(f.docs.manifests) } };
}

/** A mutated document: its JSON mutated, then maybe its text. */
function mutatedDoc(base: fc.Arbitrary<unknown>) {
  return fc.record({ doc: base, ms: fc.array(mutation, { minLength: 0, maxLength: 4 }), edit: textEdit }).map(({ doc, ms, edit }) => edited(serialize(mutate(doc, ms)), edit));
}

/** Trace files given to `replay FILE --dry-run`. */
export function traceFiles(f: Fixtures, _profile: Profile = 'full'): fc.Arbitrary<Input> {
  const path = f.scratch('trace.json');
  return mutatedDoc(fc.constantFrom(...f.docs.trace)).map((bytes) => ({ argv: ['replay', path, '--dry-run'], file: { path, bytes }, expect: [0, 2] }));
}

/** Verdicts files given to `check --baseline FILE`. */
export function baselines(f: Fixtures, _profile: Profile = 'full'): fc.Arbitrary<Input> {
  const path = f.scratch('verdicts.json');
  const all = f.docs.verdicts as { runs: { spec: string; config: string }[] };
  const trusting = { ...all, runs: all.runs.filter((r) => r.spec === 'baseline' && ['trusting', 'fsync'].includes(r.config)) };
  // The entry the run is compared with, alone: most mutations land where they make differences.
  const only = { ...all, runs: all.runs.filter((r) => r.spec === 'baseline' && r.config === 'trusting') };
  return mutatedDoc(fc.constantFrom<unknown>(only, only, trusting, all)).map((bytes) => ({
    argv: ['check', 'baseline', '--config', 'trusting', '--baseline', path],
    file: { path, bytes },
    expect: [0, 1, 2],
    sensible: true,
  }));
}

/** Results files given to `report --results FILE`. */
export function resultsFiles(f: Fixtures, _profile: Profile = 'full'): fc.Arbitrary<Input> {
  const path = f.scratch('results.json');
  const out = join(f.dir, 'report-out');
  return mutatedDoc(fc.constantFrom(...f.docs.results)).map((bytes) => ({ argv: ['report', '--results', path, '--out', out], file: { path, bytes }, expect: [0, 2], sensible: true }));
}

/** Manifests (every spec's, in the file DAXCHECK_MANIFEST names) read by check and list. */
export function manifests(f: Fixtures, _profile: Profile = 'full'): fc.Arbitrary<Input> {
  const path = f.scratch('manifests.json');
  return fc.record({ bytes: mutatedDoc(fc.constant(f.docs.manifests)), list: fc.boolean() }).map(({ bytes, list }) => ({
    argv: list ? ['list', '--json'] : ['check', 'baseline', '--config', 'trusting'],
    env: { DAXCHECK_MANIFEST: path },
    file: { path, bytes },
    expect: [0, 1, 2],
  }));
}

/** Device files, FIFOs, folders and other special paths given to every reader: always exit 2. */
export function specialPaths(f: Fixtures, _profile: Profile = 'full'): fc.Arbitrary<Input> {
  return fc
    .record({ reader: fc.nat(), path: fc.constantFrom(...f.badInputs), json: fc.boolean() })
    .map(({ reader, path, json }) => {
      const readers: Input[] = [
        { argv: ['check', 'baseline', '--config', 'trusting', '--baseline', path], expect: [2] },
        { argv: ['report', '--results', path, '--out', f.goodTarget()], expect: [2] },
        { argv: ['replay', path, '--dry-run'], expect: [2] },
        { argv: ['check', 'baseline', '--config', 'trusting'], env: { DAXCHECK_MANIFEST: path }, expect: [2] },
        { argv: ['check', path.startsWith('/') ? path : `./${path}`], expect: [2] },
        { argv: ['list', path.startsWith('/') ? path : `./${path}`], expect: [2] },
      ];
      const r = readers[reader % readers.length];
      return { ...r, argv: json && r.argv[0] !== 'replay' && r.argv[0] !== 'report' ? [...r.argv, '--json'] : r.argv };
    });
}

export interface Surface {
  name: string;
  /** The row of the table: what was tried. */
  tried: string;
  make(f: Fixtures, profile: Profile): fc.Arbitrary<Input>;
}

const wrap = (make: Surface['make']): Surface['make'] => (f, profile) => make(f, profile).map(printable);

export const SURFACES: Surface[] = [
  { name: 'cli', tried: 'CLI arguments (random vectors over every command and option)', make: wrap(cliArgs) },
  { name: 'outputs', tried: '`--write` / `--out` / `--dir` targets (files, devices, FIFOs, missing parents, empty names)', make: wrap((f, p) => outputTargets(f, p)) },
  { name: 'traces', tried: 'trace files (`replay FILE --dry-run`, mutated, nested deep, cut short)', make: wrap((f, p) => traceFiles(f, p)) },
  { name: 'baselines', tried: '`--baseline FILE` (mutated verdicts.json)', make: wrap((f, p) => baselines(f, p)) },
  { name: 'results', tried: '`report --results FILE` (mutated results)', make: wrap((f, p) => resultsFiles(f, p)) },
  { name: 'manifests', tried: 'manifests (mutated, read by `check` and `list`)', make: wrap((f, p) => manifests(f, p)) },
  { name: 'special', tried: 'device files, FIFOs, folders, loops, huge and non-UTF-8 files to every reader', make: wrap((f, p) => specialPaths(f, p)) },
];

/** Cores for --workers in generated vectors (the bound is tested in test/e2e/limits.test.ts). */
export const CORES = availableParallelism();
