/**
 * device-dax (seed 002): what is specific to the character device, beyond the manifest's verdicts.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { NAMES } from '../../models/invariants.ts';
import { findSpec } from '../../specs/index.ts';
import { DEVICE_DAX_NAMES } from '../../specs/device-dax/machine.ts';

const spec = findSpec('device-dax')!;
const run = (name: string) => checkConfig(spec, spec.configs.find((c) => c.name === name)!, undefined);

describe('device-dax', () => {
  it('keeps the trusting application\'s promise with no fsync, no allocation and no commit', async () => {
    const r = await run('trusting');
    expect(r.results.find((x) => x.property === NAMES.belief)!.verdict).toBe('holds');
    expect(r.results.find((x) => x.property === NAMES.pointer)!.verdict).toBe('holds');
    const witness = r.results.find((x) => x.property === NAMES.survives)!.trace!;
    const texts = witness.steps.map((s) => s.text);
    expect(texts[0]).toMatch(/^open\("\/dev\/dax0\.0"/);
    // No ftruncate on a character device, and no journal at any point of the witness.
    expect(texts.some((t) => /ftruncate|jbd2|journal committed|allocated/.test(t))).toBe(false);
    expect(texts.filter((t) => /dev_dax_huge_fault\(write, page \d\) → dax_pgoff_to_phys/.test(t))).toHaveLength(2);
  });

  it('a page fault writes no metadata, whatever the number of unrelated dirty objects', async () => {
    for (const n of [1, 2, 4, 8]) {
      const r = await run(`fault-cost-${n}`);
      expect(r.measures.find((m) => m.name === 'fault-cost')!.max).toBe(0);
    }
  });

  it('fsync fails with EINVAL (no ->fsync) and the flushed data is durable anyway', async () => {
    const r = await run('fsync');
    const w = r.results.find((x) => x.property === DEVICE_DAX_NAMES.fsync)!;
    expect(w.verdict).toBe('reachable');
    expect(w.trace!.steps.at(-1)!.text).toMatch(/^fsync\(3\) = -EINVAL/);
    expect(r.results.find((x) => x.property === NAMES.belief)!.verdict).toBe('holds');
  });

  it('an application written for files stops at ftruncate', async () => {
    const r = await run('file-app');
    const w = r.results.find((x) => x.property === DEVICE_DAX_NAMES.fileApp)!.trace!;
    expect(w.steps.map((s) => s.event)).toEqual(['T0.open', 'T0.ftruncate']);
    expect(w.steps[1].text).toMatch(/ftruncate\(3, 8192\) = -EINVAL/);
  });

  it('on a virtualized NVDIMM nothing can make data durable: the flush reaches the host page cache and fsync is EINVAL', async () => {
    const r = await run('virtual-nvdimm');
    const c = r.results.find((x) => x.property === NAMES.belief)!;
    expect(c.verdict).toBe('violated');
    const texts = c.trace!.steps.map((s) => s.text);
    expect(texts.some((t) => /host's page cache/.test(t))).toBe(true);
    expect(texts.some((t) => /fsync\(3\) = -EINVAL/.test(t))).toBe(true);
  });
});
