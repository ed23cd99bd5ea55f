/**
 * Limits that hold: --workers is bounded by the cores the machine gives the process, and
 * --max-memory bounds the whole process (state stores, worker threads, traces, the report), as
 * the kernel measures it: the peak resident memory of a run stopped by the limit stays under it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');
const preload = join(import.meta.dirname, '../support/peak-rss.mjs');
const MiB = 1024 * 1024;

/** Runs daxcheck and reads its peak resident memory. */
function run(args: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'daxcheck-rss-')), 'peak');
  const r = spawnSync(process.execPath, ['--import', preload, bin, ...args], { encoding: 'utf8', env: { ...process.env, DAXCHECK_PEAK_RSS_FILE: file } });
  return { code: r.status, out: r.stdout, err: r.stderr, peak: Number(readFileSync(file, 'utf8')) };
}

describe('--workers', () => {
  it('above the cores available is one line and exit 2', () => {
    const n = availableParallelism() + 1;
    const r = run(['check', 'baseline', '--config', 'trusting', '--workers', String(n)]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`daxcheck: --workers ${n} is more than the ${n - 1} core(s) this machine gives daxcheck (os.availableParallelism()): give at most ${n - 1}\n`);
    expect(r.out).toBe('');
  });
});

describe('--max-memory bounds the whole process', () => {
  // baseline/third-party needs about 185 MB of resident memory to the end (744,208 states).
  const args = ['check', 'baseline', '--config', 'third-party', '--json'];
  let least = 0;

  it('a limit the process has used up before exploring is one line and exit 2, with the least that holds', () => {
    const r = run([...args, '--max-memory', '1']);
    expect(r.code).toBe(2);
    const m = r.err.match(/^daxcheck: --max-memory 1 MB is less than daxcheck needs: \d+ MB are in use before exploring \(more with --workers\); give at least (\d+)\n$/);
    expect(m, r.err).not.toBeNull();
    least = Number(m![1]);
    expect(r.out).toBe('');
  });

  for (const workers of availableParallelism() >= 2 ? [1, 2] : [1]) {
    it(`a run that would exceed it stops with its partial report, and its peak memory stays under it (${workers} worker(s))`, () => {
      // With workers, 8 MB each more: check keeps that for stopping their threads (WORKER_TEARDOWN).
      const limit = least + 24 + 10 * workers + (workers > 1 ? 8 * workers : 0);
      const r = run([...args, '--max-memory', String(limit), '--workers', String(workers)]);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toBe('');
      const doc = JSON.parse(r.out);
      expect(doc.runs[0].complete).toBe(false);
      expect(doc.runs[0].stopReason).toMatch(new RegExp(`^stopped: the process would need \\d+ MB of memory; --max-memory ${limit} MB leaves \\d+ MB for exploring$`));
      expect(doc.runs[0].states).toBeGreaterThan(0);
      expect(doc.runs[0].states).toBeLessThan(744208);
      for (const x of doc.results) expect(x.verdict).not.toBe('holds');
      expect(r.peak / MiB).toBeLessThanOrEqual(limit);
    });
  }
});
