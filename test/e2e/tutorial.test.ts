/**
 * docs/writing-a-spec.md, run as a reader would: the code it shows is exactly the code of its two
 * folders (docs/writing-a-spec/), which are copied to a temporary directory outside the repository
 * and checked there by the real CLI (`node bin/daxcheck.mjs`, its own process): check, with two
 * workers, the report with the spec-source column, and the variant of map-sync. The tutorial's
 * spec, loaded from that path, also passes the XState agreement property.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnySpec } from '../../specs/common/spec.ts';
import { checkSequences } from '../checker/agreement.ts';

const repo = join(import.meta.dirname, '../..');
const bin = join(repo, 'bin/daxcheck.mjs');
const docs = join(repo, 'docs/writing-a-spec');
const FOLDERS = ['async-commit', 'map-sync-fast-commit'];

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, env: { ...process.env, DAXCHECK_MANIFEST: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'daxcheck-tutorial-'));
  for (const f of FOLDERS) cpSync(join(docs, f), join(tmp, f), { recursive: true });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('docs/writing-a-spec.md', () => {
  it('shows exactly the code of its folders', () => {
    const text = readFileSync(join(repo, 'docs/writing-a-spec.md'), 'utf8');
    const blocks = [...text.matchAll(/```ts ([\w./-]+)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1], code: m[2] }));
    const files = FOLDERS.flatMap((f) => readdirSync(join(docs, f)).filter((x) => x.endsWith('.ts')).map((x) => `${f}/${x}`)).sort();
    expect(blocks.map((b) => b.file).sort()).toEqual(files);
    for (const b of blocks) expect(b.code, b.file).toBe(readFileSync(join(docs, b.file), 'utf8'));
  });

  it('finds the counterexample to async-commit from a folder outside the repository, with one and two workers', () => {
    const one = run(['check', './async-commit'], tmp);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toContain('shortest counterexample to pointer-after-alloc');
    expect(one.out).toContain('jbd2_log_start_commit → commit of the running transaction queued; the fault returns without waiting');
    expect(one.out).toContain('record 0: dangling pointer');
    const two = run(['check', './async-commit', '--workers', '2'], tmp);
    expect(two.code, two.err).toBe(0);
    // The same verdict table and the same counterexample lengths (two workers may find another
    // interleaving of the same length).
    const table = (s: string) => s.split('\n\n')[0];
    const titles = (s: string) => s.split('\n').filter((l) => /^async-commit\/.*(counterexample|witness).*steps$/.test(l));
    expect(table(two.out)).toBe(table(one.out));
    expect(titles(two.out)).toEqual(titles(one.out));
    expect(titles(one.out).length).toBeGreaterThan(0);
  });

  it('writes the report beside the spec, with each step traced to a source line', () => {
    const r = run(['report', './async-commit'], tmp);
    expect(r.code, r.err).toBe(0);
    const page = join(tmp, 'async-commit/reports/catalog/async-commit/trusting/pointer-after-alloc.html');
    expect(existsSync(page)).toBe(true);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('pointer-after-alloc');
    expect(html).toMatch(/specs\/apps\/pmem-log\.ts:\d+/);
    expect(html).not.toContain('not found');
  });

  it('checks the variant of map-sync: the same verdicts, and a fault cost of 2 at every N', () => {
    const r = run(['check', './map-sync-fast-commit', '--json'], tmp);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as {
      measurements?: { name: string; series: { points: { x: number; y: number }[] }[] }[];
      results: { config: string; verdict: string }[];
    };
    const costs = (doc.measurements ?? []).filter((m) => m.name === 'fault-cost').flatMap((m) => m.series.flatMap((s) => s.points.map((p) => p.y)));
    expect(costs.length).toBe(4);
    expect(new Set(costs)).toEqual(new Set([2]));
    expect(doc.results.filter((x) => x.verdict === 'violated')).toEqual([]);
  });

  it('the tutorial spec loaded from its path agrees with XState on random event sequences', async () => {
    const mod = (await import(pathToFileURL(join(tmp, 'async-commit/machine.ts')).href)) as { default: AnySpec };
    for (const config of mod.default.configs) {
      const b = mod.default.build(config);
      const r = checkSequences(b.machine, b.events, { runs: 100, maxLength: 40, bounds: b.bounds });
      expect(r.failed, r.counterexample ? String(r.errorInstance) : '').toBe(false);
    }
  });
});
