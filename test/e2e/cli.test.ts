/** The daxcheck command as a user runs it: exit codes, one-line errors, JSON and files. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specs } from '../../specs/index.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');

/** Every spec's manifest as one object, the format DAXCHECK_MANIFEST takes. */
function loadAll() {
  const specsDir = join(import.meta.dirname, '../../specs');
  return Object.fromEntries(
    readdirSync(specsDir)
      .filter((d) => existsSync(join(specsDir, d, 'manifest.json')))
      .map((d) => [d, JSON.parse(readFileSync(join(specsDir, d, 'manifest.json'), 'utf8'))]),
  );
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('daxcheck: bad usage is one clear line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['check', 'nope'], /^daxcheck: unknown spec 'nope' \(known: baseline, map-sync.*\)\n$/],
    [['check', 'baseline', '--config', 'nope'], /^daxcheck: spec 'baseline' has no configuration 'nope' \(it has: trusting, fsync/],
    [['check', '--config', 'nope'], /^daxcheck: no spec has configuration 'nope'\n$/],
    [['check', '--max-states', 'abc'], /^daxcheck: --max-states must be a positive integer, got 'abc'\n$/],
    [['check', '--max-states', '-5'], /^daxcheck: --max-states must be a positive integer, got '-5'\n$/],
    [['check', '--max-states', '0'], /^daxcheck: --max-states must be a positive integer, got '0'\n$/],
    [['check', '--max-memory', '1.5'], /^daxcheck: --max-memory must be a positive integer, got '1.5'\n$/],
    [['check', '--frobnicate'], /^daxcheck: Unknown option '--frobnicate'\n$/],
    [['frobnicate'], /^daxcheck: unknown command 'frobnicate'/],
    [['list', 'extra'], /^daxcheck: unknown spec 'extra'/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.out).toBe('');
    });
  }

  it('a malformed manifest is bad input, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-'));
    const path = join(dir, 'manifest.json');
    writeFileSync(path, '{ not json');
    const r = run(['check', 'baseline'], { DAXCHECK_MANIFEST: path });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^daxcheck: the manifest .* is not valid JSON/);
  });
});

describe('daxcheck check', () => {
  it('exits 0 when every verdict is as the manifest expects, and shows the counterexample in kernel terms', () => {
    const r = run(['check']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/baseline\/trusting\s+always\s+VIOLATED\s+as expected\s+pointer-after-alloc\s+a data pointer never precedes a durable allocation/);
    expect(r.out).toMatch(/dax_iomap_fault\(write, block 1\) → block 1 allocated in running transaction/);
    expect(r.out).toMatch(/durable after crash and recovery: .*record 0: dangling pointer/);
    expect(r.out).toMatch(/exhaustive within its bounds/);
    expect(r.out).toMatch(/configuration\(s\) as the manifest expects/);
  });

  it('--json prints one document with the documented fields', () => {
    const r = run(['check', 'baseline', '--config', 'trusting', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const v = doc.results.find((x: { id: string }) => x.id === 'pointer-after-alloc');
    expect(v.property).toBe('a data pointer never precedes a durable allocation');
    for (const k of ['spec', 'config', 'id', 'property', 'kind', 'verdict', 'expected', 'states', 'transitions', 'depth', 'seconds', 'trace']) expect(v).toHaveProperty(k);
    expect(v.verdict).toBe('violated');
    expect(v.trace.steps[0]).toMatchObject({ event: 'T0.open', text: expect.stringContaining('open(') });
    expect(v.trace.durableAfterCrash.records[0].found).toBe('dangling pointer');
  });

  it('--max-states cuts exploration short: verdicts unknown, never holds, exit 1', () => {
    const r = run(['check', 'map-sync', '--config', 'trusting', '--max-states', '5', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    for (const x of doc.results) expect(x.verdict).not.toBe('holds');
    expect(doc.results.some((x: { verdict: string }) => x.verdict === 'unknown')).toBe(true);
    expect(doc.runs[0].complete).toBe(false);
  });

  it('exits 1 when a verdict differs from the manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-'));
    const path = join(dir, 'manifest.json');
    const m = loadAll();
    m.baseline.trusting.expect['pointer-after-alloc'] = 'holds';
    writeFileSync(path, JSON.stringify(m));
    const r = run(['check', 'baseline', '--config', 'trusting'], { DAXCHECK_MANIFEST: path });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIOLATED\s+UNEXPECTED \(expected holds\)/);
  });

  it('--record-counts writes measured counts only for runs whose verdicts are as expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-'));
    const path = join(dir, 'manifest.json');
    writeFileSync(path, JSON.stringify(loadAll()));
    const m = JSON.parse(readFileSync(path, 'utf8'));
    const want = m.baseline.fsync.states;
    delete m.baseline.fsync.states;
    writeFileSync(path, JSON.stringify(m));
    expect(run(['check', 'baseline', '--config', 'fsync'], { DAXCHECK_MANIFEST: path }).code).toBe(1);
    expect(run(['check', 'baseline', '--config', 'fsync', '--record-counts'], { DAXCHECK_MANIFEST: path }).code).toBe(0);
    expect(JSON.parse(readFileSync(path, 'utf8')).baseline.fsync.states).toBe(want);
  });

  it('--write DIR stores results.json and one JSON file per trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-'));
    expect(run(['check', 'baseline', '--config', 'trusting', '--write', dir]).code).toBe(0);
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
    const traces = readdirSync(join(dir, 'traces', 'baseline', 'trusting'));
    expect(traces.length).toBeGreaterThanOrEqual(3);
    expect(traces).toContain('pointer-after-alloc.json');
    const t = JSON.parse(readFileSync(join(dir, 'traces', 'baseline', 'trusting', 'pointer-after-alloc.json'), 'utf8'));
    expect(t.id).toBe('pointer-after-alloc');
    expect(t.property).toBe('a data pointer never precedes a durable allocation');
    expect(t.steps.at(-1).actions[0].type).toBe('mount_and_recover');
  });
});

describe('daxcheck list', () => {
  it('lists specs, configurations and properties', () => {
    const r = run(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^baseline — /m);
    expect(r.out).toMatch(/--config non-dax \(default\)/);
    expect(r.out).toMatch(/always\s+sync-pages-committed: every writable page of a MAP_SYNC mapping is backed by committed metadata/);
    const j = JSON.parse(run(['list', '--json']).out);
    expect(j.specs.map((s: { spec: string }) => s.spec)).toEqual(specs.map((s) => s.name));
  });
});

describe('daxcheck check --symmetry', () => {
  it('explores one state per class of symmetric states, compares with the manifest\'s symmetry counts, and prints real traces', () => {
    const r = run(['check', 'baseline', '--config', 'trusting-2threads,trusting', '--symmetry', '--json']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    const two = doc.runs.find((x: { config: string }) => x.config === 'trusting-2threads');
    expect(two.symmetry).toMatch(/^threads T0, T1/);
    expect(two.states).toBe(two.expectedStates);
    expect(two.states).toBeLessThan(2181);
    expect(doc.runs.find((x: { config: string }) => x.config === 'trusting').symmetry).toBeNull();
    const v = doc.results.find((x: { config: string; id: string }) => x.config === 'trusting-2threads' && x.id === 'pointer-after-alloc');
    expect(v.verdict).toBe('violated');
    expect(v.trace.steps[0].event).toMatch(/^T[01]\.open$/);
    const bad = run(['check', '--symmetry', '--baseline', 'reports/verdicts.json']);
    expect(bad.code).toBe(2);
  });
});

describe('daxcheck check --compact', () => {
  it('fits the state space where the full store does not, and never says plain holds', () => {
    // --max-memory bounds the whole process (about 60 MB are in use before exploring): at 130 MB
    // the full store holds about three quarters of baseline/third-party's 744,208 states, the
    // fingerprints all of them.
    const full = run(['check', 'baseline', '--config', 'third-party', '--max-memory', '130', '--json']);
    expect(full.code).toBe(1);
    expect(JSON.parse(full.out).runs[0].complete).toBe(false);
    const r = run(['check', 'baseline', '--config', 'third-party', '--max-memory', '130', '--compact']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/always\s+HOLDS \(probably, p = \d\.\de-\d+\)\s+as expected\s+\S+/);
    expect(r.out).toMatch(/sometimes\s+REACHABLE\s+as expected/);
    expect(r.out).not.toMatch(/ HOLDS  /);
    expect(r.out).toMatch(/hash compaction: [\d.]+ bytes\/state; the probability that a state was missed .* is at most \d\.\de-\d+/);
    expect(r.out).toMatch(/baseline\/third-party: 744208 states/);
  });
});

describe('daxcheck check stops cleanly and reports what it found', () => {
  it('when the state space outgrows --max-memory', () => {
    // The limit is the whole process's (test/e2e/limits.test.ts); about 60 MB are in use before exploring.
    const r = run(['check', 'baseline', '--config', 'third-party', '--max-memory', '100', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.runs[0].complete).toBe(false);
    expect(doc.runs[0].stopReason).toMatch(/the process would need \d+ MB of memory; --max-memory 100 MB leaves 92 MB for exploring/);
    expect(doc.runs[0].states).toBeGreaterThan(0);
    for (const x of doc.results) expect(x.verdict).not.toBe('holds');
    expect(r.err).toBe('');
  });

  it('on Ctrl-C, with the partial results', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'check', 'baseline', '--config', 'third-party,fsync'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DAXCHECK_PROGRESS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    // Interrupt once exploration is under way: at its first progress line.
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d) => {
        err += d;
        if (/states\/s, depth/.test(err)) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(1);
    expect(err).toMatch(/interrupted, reporting what was found/);
    expect(out).toMatch(/baseline\/third-party: \d+ states, .*INCOMPLETE: interrupted/);
    expect(out).toMatch(/interrupted: 1 configuration\(s\) not run/);
    expect(out).not.toMatch(/HOLDS/);
  });
});

describe('a CLI like its peers', () => {
  const COMMANDS = ['list', 'check', 'simulate', 'merge', 'report', 'diff', 'new', 'replay', 'explore'];

  it('describes every command and every option its usage names (--help, -h, help CMD), with the exit codes', () => {
    for (const c of COMMANDS) {
      const r = run([c, '--help']);
      expect(r.code, `${c}: ${r.err}`).toBe(0);
      expect(r.err).toBe('');
      const options = new Set(r.out.split('\n')[0].match(/--[a-z-]+/g) ?? []);
      const described = new Set([...r.out.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]));
      for (const o of options) expect(described.has(o), `${c} --help describes ${o}`).toBe(true);
      expect(r.out).toMatch(/exit codes:\n {2}0 /);
      expect(run([c, '-h']).out).toBe(r.out);
      expect(run(['help', c]).out).toBe(r.out);
    }
  });

  it('says its version, names the commands in one line on stderr when none is given, and stops quietly when its reader does', () => {
    expect(run(['--version'])).toMatchObject({ code: 0, out: expect.stringMatching(/^daxcheck \d+\.\d+\.\d+\n$/) });
    // No command is bad usage like any other: one line on stderr naming the commands, exit 2.
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toMatch(/^daxcheck: name a command: list, check, .*--help/);
    expect(none.err.split('\n').filter(Boolean)).toHaveLength(1);
    const all = run(['--help']);
    expect(all.code).toBe(0);
    for (const c of COMMANDS) expect(all.out).toContain(`daxcheck ${c}`);
    // `daxcheck list | head -1`: the reader goes away; no error, no stack trace.
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" list | head -1`], { encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(piped.stderr).toBe('');
  });
});
