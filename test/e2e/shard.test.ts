/**
 * Scale-out: `check --shard i/n` run as n separate processes, each alone, then `daxcheck merge`:
 * the merged verdicts and counterexample lengths are a single run's, and the merged state count
 * is at least the single run's (a state below several shards' parts is counted by each).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the command in a process of its own, alongside others. */
function start(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

type Doc = { results: { spec: string; config: string; id: string; verdict: string; trace: { steps: unknown[] } | null }[]; runs: { states: number; shard?: { split: boolean }; duplicates?: number }[] };

const key = (r: Doc['results'][number]) => `${r.spec}/${r.config} ${r.id}`;
const summary = (doc: Doc) => Object.fromEntries(doc.results.map((r) => [key(r), [r.verdict, r.trace?.steps.length ?? null]]));

// Without spec names, --config picks the configuration from whichever specs have it.
const CONFIGS = 'fsync-2threads,defrag-no-lock,two-step-swap,v9,maintenance-no-sync';
const N = 3;

describe('check --shard i/n and daxcheck merge', () => {
  it(`${CONFIGS} in ${N} processes merge to a single run's verdicts and trace lengths; a missing shard leaves the rest unknown`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-shard-'));
    const [whole, ...shards] = await Promise.all([
      start(['check', '--config', CONFIGS, '--json']),
      ...[...Array(N).keys()].map((i) => start(['check', '--config', CONFIGS, '--shard', `${i}/${N}`, '--split-at', '40', '--json'])),
    ]);
    expect(whole.code, whole.err).toBe(0);
    const single = JSON.parse(whole.out) as Doc;
    const files = shards.map((r, i) => {
      expect(r.code, r.err).toBe(0);
      expect((JSON.parse(r.out) as Doc).runs.every((x) => x.shard?.split)).toBe(true);
      const file = join(dir, `shard-${i}.json`);
      writeFileSync(file, r.out);
      return file;
    });
    const [merged, text, partial] = await Promise.all([start(['merge', ...files, '--json']), start(['merge', ...files]), start(['merge', files[0], files[1]])]);
    expect(merged.code, merged.err).toBe(0);
    const doc = JSON.parse(merged.out) as Doc;
    expect(summary(doc)).toEqual(summary(single));
    expect(doc.runs).toHaveLength(single.runs.length);
    doc.runs.forEach((r, k) => {
      expect(r.states).toBeGreaterThanOrEqual(single.runs[k].states);
      expect(r.duplicates).toBe(r.states - single.runs[k].states);
    });
    expect(text.out).toMatch(/were explored by more than one shard/);
    expect(text.out).toMatch(/all \d+ configuration\(s\) as the manifest expects/);
    expect(partial.code).toBe(1);
    expect(partial.out).toMatch(/INCOMPLETE: shard\(s\) 2 missing/);
    expect(partial.out).toMatch(/always\s+UNKNOWN\s+UNEXPECTED \(expected holds\)\s+pointer-after-alloc/);
  });

  const bad: [string[], RegExp][] = [
    [['check', '--shard', '3/3'], /^daxcheck: --shard must be I\/N, shard I \(counted from 0\) of N, e\.g\. 0\/4, got '3\/3'\n$/],
    [['merge', '/nonexistent.json'], /^daxcheck: cannot read \/nonexistent\.json\n$/],
  ];
  for (const [args, message] of bad) {
    it(args.join(' '), () => {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }
});
