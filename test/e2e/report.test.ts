/**
 * `daxcheck report`, `check --baseline` and `diff` as a user runs them: the files written, exit
 * codes, what a changed verdict prints, one-line errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');

/** The command in its own process, as a user runs it. */
function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same command in this process (no start-up cost), for the many error cases. */
async function runHere(args: string[]) {
  let out = '';
  let err = '';
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((s: string) => ((out += s), true)) as never;
  process.stderr.write = ((s: string) => ((err += s), true)) as never;
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

function oneLineError(r: { code: number | null; out: string; err: string }, message: RegExp) {
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
}

describe('daxcheck report and check --baseline', () => {
  const out = mkdtempSync(join(tmpdir(), 'daxcheck-report-'));
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    first = run(['report', 'baseline', '--config', 'trusting', '--out', out]);
  });

  it('report checks, then writes the catalog, the design review and verdicts.json; its exit code is the check\'s', () => {
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/as the manifest expects/);
    expect(first.out).toMatch(/reports written in [\d.]+ s/);
    for (const f of ['results.json', 'catalog/index.html', 'catalog/timings.js', 'catalog/baseline/machine.html', 'design-review.md', 'design-review.html', 'verdicts.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const v = JSON.parse(readFileSync(join(out, 'verdicts.json'), 'utf8'));
    expect(v.runs).toEqual([expect.objectContaining({ spec: 'baseline', config: 'trusting' })]);
    // Keyed by property id, with the sentence beside it.
    expect(v.runs[0].properties[0]).toEqual({ id: 'pointer-after-alloc', property: 'a data pointer never precedes a durable allocation', kind: 'always', verdict: 'violated', traceLength: expect.any(Number) });
    expect(JSON.stringify(v)).not.toMatch(/seconds/);
  });

  it('check --baseline passes when nothing changed', () => {
    const r = run(['check', 'baseline', '--config', 'trusting', '--baseline', join(out, 'verdicts.json')]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/no verdict, trace length or state count changed \(1 configuration\(s\) compared\)/);
  });

  it('check --baseline exits 1 and says what changed: verdict, trace length, state count', async () => {
    const v = JSON.parse(readFileSync(join(out, 'verdicts.json'), 'utf8'));
    const entry = v.runs[0];
    const violated = entry.properties.find((p: { verdict: string }) => p.verdict === 'violated');
    const traced = entry.properties.find((p: { verdict: string; traceLength: number | null }) => p.verdict !== 'violated' && p.traceLength !== null);
    violated.verdict = 'holds';
    traced.traceLength += 1;
    entry.states += 1;
    const tampered = join(out, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(v));
    const r = run(['check', 'baseline', '--config', 'trusting', '--baseline', tampered]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`baseline/trusting: ${violated.id} ("${violated.property}"): verdict holds → violated`);
    expect(r.out).toContain(`baseline/trusting: ${traced.id} ("${traced.property}"): trace length ${traced.traceLength} → ${traced.traceLength - 1} steps`);
    expect(r.out).toContain(`baseline/trusting: states ${entry.states} → ${entry.states - 1}`);
    expect(r.out).toMatch(/regenerate the baseline with `npm run report`/);
    // With --json the document stays clean on stdout; the differences go to stderr.
    const j = await runHere(['check', 'baseline', '--config', 'trusting', '--json', '--baseline', tampered]);
    expect(j.code).toBe(1);
    expect(() => JSON.parse(j.out)).not.toThrow();
    expect(j.err).toMatch(/3 difference\(s\)/);
  });

  it('a missing or malformed baseline, or results file, is one line and exit 2', async () => {
    oneLineError(await runHere(['check', 'baseline', '--config', 'trusting', '--baseline', join(out, 'nope.json')]), /^daxcheck: cannot read the baseline .*nope\.json: no such file\n$/);
    const bad = join(out, 'bad.json');
    writeFileSync(bad, '{ not json');
    oneLineError(await runHere(['check', 'baseline', '--baseline', bad]), /^daxcheck: the baseline .*bad\.json is not valid JSON/);
    writeFileSync(join(out, 'shape.json'), '{"runs": 3}');
    oneLineError(await runHere(['check', 'baseline', '--baseline', join(out, 'shape.json')]), /^daxcheck: the baseline .*shape\.json is not a verdicts file: at \$\.runs, expected an array, got 3\n$/);
    oneLineError(await runHere(['report', '--results', bad, '--out', out]), /^daxcheck: the results file .*bad\.json is not valid JSON/);
    oneLineError(await runHere(['report', '--results', join(out, 'results.json'), 'baseline']), /takes no spec or check options/);
    // Results from before property ids cannot be rendered (every page names properties by id).
    const old = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    for (const x of old.results) delete x.id;
    writeFileSync(join(out, 'old-results.json'), JSON.stringify(old));
    oneLineError(await runHere(['report', '--results', join(out, 'old-results.json'), '--out', join(out, 'old')]), /lack property ids/);
  });

  it('report --results renders an existing results file, the same bytes again', async () => {
    const before = readFileSync(join(out, 'catalog', 'index.html'), 'utf8');
    const review = readFileSync(join(out, 'design-review.md'), 'utf8');
    const r = await runHere(['report', '--results', join(out, 'results.json'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/verdicts\.json: no verdict changed/);
    expect(readFileSync(join(out, 'catalog', 'index.html'), 'utf8')).toBe(before);
    expect(readFileSync(join(out, 'design-review.md'), 'utf8')).toBe(review);
  });
});

describe('daxcheck diff', () => {
  it('summarises API surface and verdicts against a revision', async () => {
    const r = await runHere(['diff', 'HEAD', 'baseline', '--config', 'trusting']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^daxcheck diff HEAD \([0-9a-f]{12} ".*"\) → working tree/);
    expect(r.out).toMatch(/API surface/);
    expect(r.out).toMatch(/verdicts \(1 configurations\) the same as at HEAD/);
    const j = await runHere(['diff', 'HEAD', 'baseline', '--config', 'trusting', '--json']);
    const doc = JSON.parse(j.out);
    expect(doc.surface.after.baseline.syscalls).toEqual(expect.arrayContaining(['open', 'mmap', 'fsync']));
    expect(doc.surface.after.baseline.flags).toEqual(expect.arrayContaining(['MAP_SHARED']));
  });

  it('bad revisions and spec names are one line and exit 2', async () => {
    oneLineError(await runHere(['diff']), /^daxcheck: diff takes a git revision/);
    oneLineError(await runHere(['diff', 'no-such-revision']), /^daxcheck: unknown git revision 'no-such-revision'\n$/);
    oneLineError(await runHere(['diff', 'HEAD', 'no-such-spec']), /^daxcheck: unknown spec 'no-such-spec'/);
  });
});
