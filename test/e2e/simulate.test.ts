/** `daxcheck simulate` as a user runs it: seeds that re-run a walk, traces as `check` prints and writes them, exit codes. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clock, progressLine } from '../../src/progress.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The printed trace of a property: its title line to the line naming the walk. */
function traceOf(out: string, id: string): string {
  const start = out.indexOf(`counterexample to ${id} `);
  const end = out.indexOf('re-run:', start);
  return out.slice(start, end);
}

describe('daxcheck simulate', () => {
  it('finds Chinner\'s counterexample, prints it in kernel terms with its seed, and the seed re-runs the same trace', () => {
    const r = run(['simulate', 'baseline', '--config', 'trusting', '--seed', '1', '--runs', '1000']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/baseline\/trusting\s+always\s+VIOLATED\s+as expected\s+pointer-after-alloc/);
    expect(r.out).toMatch(/baseline\/trusting\s+always\s+no counterexample in 1,000 walks\s+consistent \(expected holds\)\s+fsync-makes-durable/);
    expect(r.out).toMatch(/counterexample to pointer-after-alloc \("a data pointer never precedes a durable allocation"\), \d+ steps/);
    expect(r.out).toMatch(/durable after crash and recovery: .*record 0: dangling pointer/);
    expect(r.out).toMatch(/coverage: [\d,]+ distinct states \([\d.]+% of the 133 an exhaustive check counts\); events \d+ of \d+; machine transitions \d+ of \d+/);
    const seed = r.out.match(/pointer-after-alloc[^]*?re-run: daxcheck simulate baseline --config trusting --seed (\d+) --runs 1/)![1];
    const again = run(['simulate', 'baseline', '--config', 'trusting', '--seed', seed, '--runs', '1']);
    expect(again.out).toMatch(/found by walk 0 \(seed \d+\)/);
    expect(traceOf(again.out, 'pointer-after-alloc')).toBe(traceOf(r.out, 'pointer-after-alloc').replace(/found by walk \d+/, 'found by walk 0'));
  });

  it('--json and --write give the results and the trace files check writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-sim-'));
    const r = run(['simulate', 'baseline', '--config', 'trusting', '--seed', '1', '--runs', '1000', '--json', '--write', dir]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    const v = doc.results.find((x: { id: string }) => x.id === 'pointer-after-alloc');
    expect(v).toMatchObject({ spec: 'baseline', config: 'trusting', kind: 'always', verdict: 'violated', expected: 'violated' });
    expect(v.foundBy).toMatchObject({ seed: expect.any(Number), walk: expect.any(Number), walked: expect.any(Number) });
    expect(v.trace.steps[0]).toMatchObject({ event: 'T0.open' });
    expect(doc.runs[0]).toMatchObject({ seed: 1, walks: 1000, asExpected: true, coverage: { exhaustiveStates: 133 } });
    const file = join(dir, 'traces', 'baseline', 'trusting', 'pointer-after-alloc.json');
    expect(existsSync(file)).toBe(true);
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(trace).toMatchObject({ spec: 'baseline', config: 'trusting', id: 'pointer-after-alloc', verdict: 'violated' });
    expect(trace.steps.length).toBe(v.trace.steps.length);
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
  });

  it('exits 1 when it finds a violation the manifest does not expect', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-sim-'));
    const m = JSON.parse(readFileSync(join(import.meta.dirname, '../../specs/baseline/manifest.json'), 'utf8'));
    m.trusting.expect['pointer-after-alloc'] = 'holds';
    const path = join(dir, 'manifest.json');
    writeFileSync(path, JSON.stringify({ baseline: m }));
    const r = run(['simulate', 'baseline', '--config', 'trusting', '--seed', '1', '--runs', '1000'], { DAXCHECK_MANIFEST: path });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIOLATED\s+UNEXPECTED \(expected holds\)\s+pointer-after-alloc/);
  });

  it('shows progress on a terminal, with an ETA for bounded work, and nothing when piped', () => {
    const shown = run(['simulate', 'baseline', '--config', 'third-party', '--seed', '1', '--time', '2'], { DAXCHECK_PROGRESS: '1' });
    expect(shown.err).toMatch(/\[1\/1\] baseline\/third-party: [\d,]+ states, [\d,]+ states\/s, depth \d+, [\d,]+ MB, [\d,]+ walks, ETA 0:0\d/);
    const piped = run(['simulate', 'baseline', '--config', 'third-party', '--seed', '1', '--time', '1']);
    expect(piped.err).toBe('');
  });

  it('progress line: configuration k of n, states, states/s, depth, memory, ETA', () => {
    expect(progressLine(3, 98, 'baseline/trusting', { states: 120000, depth: 12, seconds: 2, done: 0.25 }, 300 * 1048576)).toBe(
      '[3/98] baseline/trusting: 120,000 states, 60,000 states/s, depth 12, 300 MB, ETA 0:06',
    );
    expect(clock(3725)).toBe('1:02:05');
  });

  const bad: [string[], RegExp][] = [
    [['simulate', '--seed', '-1'], /^daxcheck: --seed must be an integer from 0 to 4294967295, got '-1'\n$/],
    [['simulate', '--time', '0'], /^daxcheck: --time must be a positive number of seconds, got '0'\n$/],
    [['simulate', '--runs', 'many'], /^daxcheck: --runs must be a positive integer, got 'many'\n$/],
    [['simulate', 'nope'], /^daxcheck: unknown spec 'nope'/],
  ];
  for (const [args, message] of bad) {
    it(args.join(' '), () => {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }
});
