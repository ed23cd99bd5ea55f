/**
 * Liveness end to end through the CLI (specs/fsync-loop): the livelocks found as lassos in the
 * text, the JSON and the trace files, the fix holding, and `check TRACE.json` re-checking a lasso
 * (its cycle, its obligation, its fairness) and refusing a bad one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateTraceDoc } from '../../src/input/trace.ts';
import { readItf } from '../../src/itf.ts';
import { validatorFor } from '../../src/input/schema.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('daxcheck check fsync-loop: liveness with lasso counterexamples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxcheck-live-'));
  const text = run(['check', 'fsync-loop', '--all-configs', '--write', dir]);

  it('earns the manifest verdicts: two livelocks and their fix', () => {
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/fsync-loop\/wrprotect\s+leads-to\s+VIOLATED\s+as expected\s+store-completes/);
    expect(text.out).toMatch(/fsync-loop\/idle-wait\s+leads-to\s+VIOLATED\s+as expected\s+fsync-returns/);
    expect(text.out).toMatch(/fsync-loop\/tid-wait\s+leads-to\s+HOLDS\s+as expected\s+store-completes/);
    expect(text.out).toMatch(/fsync-loop\/tid-wait\s+leads-to\s+HOLDS\s+as expected\s+fsync-returns/);
  });

  it('prints the lasso in kernel terms with the cycle marked', () => {
    const block = text.out.split('\n\n').find((b) => b.startsWith('fsync-loop/wrprotect: lasso counterexample to store-completes'))!;
    expect(block).toBeDefined();
    expect(block).toMatch(/── from here the last 2 steps repeat forever ──\n\s+7\. T0: dax_pfn_mkwrite\(block 0\) → PTE writable\n\s+8\. syncer: fsync\(3\) → dax_writeback_mapping_range: .*dax_entry_mkclean → 1 PTE write-protected/);
    expect(block).toMatch(/back to the state before step 7: the last 2 steps repeat forever/);
  });

  it('writes the lasso into --json and the trace files, which the schema accepts', () => {
    const json = run(['check', 'fsync-loop', '--config', 'idle-wait', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out);
    const r = doc.results.find((x: { id: string }) => x.id === 'fsync-returns');
    expect(r.kind).toBe('leads-to');
    expect(r.verdict).toBe('violated');
    const steps = r.trace.steps as { actor: string }[];
    expect(steps.slice(r.trace.loopStart).map((s) => s.actor)).toEqual(['other inodes', 'jbd2']);
    expect(validatorFor('results')(structuredClone(doc))).toBeNull();
    const file = join(dir, 'traces/fsync-loop/idle-wait/fsync-returns.json');
    const t = validateTraceDoc(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(t.loopStart).toBe(r.trace.loopStart);
  });

  it('check TRACE.json re-checks the lasso: a real cycle, open obligation, fair', () => {
    const file = join(dir, 'traces/fsync-loop/wrprotect/store-completes.json');
    const r = run(['check', file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/store-completes\s+violated: a fair lasso, the obligation open after step 3, steps 7\.\.8 repeat forever/);
    expect(r.out).toMatch(/as the file says: store-completes violated/);
  });

  it('a lasso whose cycle does not return, or leaves a fair actor always enabled, shows no violation (exit 1)', () => {
    const file = join(dir, 'traces/fsync-loop/wrprotect/store-completes.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    // Only the syncer's fsync repeats (the entry stays write-protected): T0 could fault it back
    // in every state of that cycle and never does, which weak fairness rules out.
    const unfair = { ...doc, steps: [...doc.steps.slice(0, 6), doc.steps[5]], loopStart: 6 };
    const f1 = join(dir, 'unfair.json');
    writeFileSync(f1, JSON.stringify(unfair));
    // Steps 7..8 after the first fsync's return are no cycle from step 6.
    const open = { ...doc, loopStart: 5 };
    const f2 = join(dir, 'open.json');
    writeFileSync(f2, JSON.stringify(open));
    const r1 = run(['check', f1]);
    expect(r1.code).toBe(1);
    expect(r1.out).toMatch(/store-completes\s+an unfair lasso: T0 could move all along the cycle and never does/);
    const r2 = run(['check', f2]);
    expect(r2.code).toBe(1);
    expect(r2.out).toMatch(/store-completes\s+not a lasso: the state after the last step is not the one before step 6/);
  });

  it('writes the lasso in ITF as `loop`: the stem, then the cycle forever, without the repeated state', () => {
    const itfDir = join(dir, 'itf');
    expect(run(['check', 'fsync-loop', '--config', 'wrprotect', '--itf', itfDir]).code).toBe(0);
    const itf = readItf(join(itfDir, 'fsync-loop/wrprotect/store-completes.itf.json'));
    expect(itf.loop).toBe(6);
    expect(itf.states.map((x) => (x['#meta'] as { action: string }).action)).toEqual(['init', 'T0.open', 'T0.ftruncate', 'T0.mmap', 'T0.dax_iomap_fault', 'jbd2.commit', 'syncer.fsync', 'T0.pfn_mkwrite']);
  });

  it('refuses a loopStart past the steps, in one line (exit 2)', () => {
    const file = join(dir, 'traces/fsync-loop/wrprotect/store-completes.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const f = join(dir, 'past.json');
    writeFileSync(f, JSON.stringify({ ...doc, loopStart: 99 }));
    const r = run(['check', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^daxcheck: .*loopStart 99 is past the trace's 8 steps\n$/);
  });
});
