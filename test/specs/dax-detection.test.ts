/**
 * DAX detection (seed 003): the smaps application breaks on a kernel without VM_MIXEDMAP; the
 * statx one does not; and (seed 002, 2016) detecting DAX is not the same as being allowed to skip
 * fsync.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { NAMES } from '../../models/invariants.ts';
import { DETECTION_NAMES } from '../../specs/dax-detection/machine.ts';
import { findSpec } from '../../specs/index.ts';

const spec = findSpec('dax-detection')!;
const run = (name: string) => checkConfig(spec, spec.configs.find((c) => c.name === name)!, undefined);
const verdict = (r: Awaited<ReturnType<typeof run>>, p: string) => r.results.find((x) => x.property === p)!.verdict;

describe('DAX detection', () => {
  it('the smaps application refuses to start on a DAX file once VM_MIXEDMAP is gone (Jan Kara\'s customer)', async () => {
    const r = await run('smaps-4.19-dax');
    const c = r.results.find((x) => x.property === DETECTION_NAMES.matches)!;
    expect(c.verdict).toBe('violated');
    const steps = c.trace!.steps;
    expect(steps.map((s) => s.event)).toEqual(['T0.open', 'T0.ftruncate', 'T0.mmap', 'T0.read_smaps']);
    expect(steps.at(-1)!.text).toMatch(/VmFlags of 0x7f0010000000: rd wr sh mr mw me ms hg → no `mm` \(VM_MIXEDMAP\)/);
    expect(steps.at(-1)!.text).toMatch(/DAX support is missing/);
    expect(verdict(r, NAMES.finishes)).toBe('unreachable');
  });

  it('the same application was right on 4.18', async () => {
    const r = await run('smaps-4.18-dax');
    expect(verdict(r, DETECTION_NAMES.matches)).toBe('holds');
    expect(verdict(r, NAMES.finishes)).toBe('reachable');
  });

  it('statx STATX_ATTR_DAX is right on DAX and non-DAX files, and with MAP_SYNC the promise holds', async () => {
    const dax = await run('statx-5.8-dax-map-sync');
    expect(verdict(dax, DETECTION_NAMES.matches)).toBe('holds');
    expect(verdict(dax, NAMES.belief)).toBe('holds');
    expect(verdict(dax, NAMES.survives)).toBe('reachable');
    const plain = await run('statx-5.8-nodax');
    expect(verdict(plain, DETECTION_NAMES.matches)).toBe('holds');
    expect(verdict(plain, DETECTION_NAMES.refuses)).toBe('reachable');
  });

  it('a right answer is not a licence to skip fsync: on MAP_SHARED the DAX application loses its record', async () => {
    for (const name of ['smaps-4.18-dax', 'statx-5.8-dax']) {
      const r = await run(name);
      expect(verdict(r, DETECTION_NAMES.matches)).toBe('holds');
      const c = r.results.find((x) => x.property === NAMES.pointer)!;
      expect(c.verdict).toBe('violated');
      expect(c.trace!.steps.some((s) => /concludes DAX/.test(s.text))).toBe(true);
    }
  });
});
