/**
 * What the thread argued about PMEM_IMMUTABLE, MAP_DIRECT and MSYNC_PMEM_PREPARE_WRITE, checked
 * on the counterexamples themselves (every verdict is already pinned by verdicts.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkConfig, measurementsOf, type ConfigRun } from '../../src/check.ts';
import { findSpec } from '../../specs/index.ts';

async function run(spec: string, config: string): Promise<ConfigRun> {
  const s = findSpec(spec)!;
  return checkConfig(s, s.configs.find((c) => c.name === config)!, undefined);
}
const trace = (r: ConfigRun, property: string) => r.results.find((x) => x.property === property)!.trace!;
const texts = (r: ConfigRun, property: string) => trace(r, property).steps.map((s) => `${s.actor}: ${s.text}`);

describe('PMEM_IMMUTABLE (seed 002)', () => {
  it('refuses every third-party operation with EPERM once the flag is set', async () => {
    const r = await run('pmem-immutable', 'rules');
    const witness = texts(r, 'PMEM_IMMUTABLE gets set and the application runs without fsync');
    expect(witness.some((t) => /FALLOC_FL_PMEM_IMMUTABLE.*committed before the call returns/.test(t))).toBe(true);
    // No extent operation ever ran: the third party only ever reached its refusals.
    const started = r.transitionFires.filter((t) => /--M\.\w+ \[and\(.*canRunThirdParty/.test(t.transition));
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((t) => t.fired === 0)).toBe(true);
    const refused = r.transitionFires.filter((t) => /isThirdPartyRefused/.test(t.transition));
    expect(refused.some((t) => t.fired > 0)).toBe(true);
  });

  it('is broken by a background defrag the flag forgets to stop', async () => {
    const r = await run('pmem-immutable', 'forgets-defrag');
    const steps = texts(r, 'once PMEM_IMMUTABLE is set, the metadata behind every block is durable and unchanging');
    expect(steps.at(-1)).toMatch(/defrag .* moves block 1: written → pmem block \d → written → pmem block \d \(copied; running transaction\)/);
  });

  it('refuses write(2) and clearing the flag while mapped (rules 4 and 6)', async () => {
    const r = await run('pmem-immutable', 'rules');
    for (const op of ['write', 'clearflag']) {
      const refusals = r.transitionFires.filter((t) => t.transition.includes(`isThirdPartyRefused({"op":"${op}"`));
      expect(refusals.length, op).toBeGreaterThan(0);
      expect(refusals.some((t) => t.fired > 0), op).toBe(true);
    }
  });

  it('is broken by a write(2) the flag forgets to refuse: new timestamps in the running transaction', async () => {
    const r = await run('pmem-immutable', 'forgets-write');
    const steps = texts(r, 'once PMEM_IMMUTABLE is set, the metadata behind every block is durable and unchanging');
    expect(steps.at(-1)).toMatch(/^third party: pwrite\(2\) .* file_update_time → mtime\/ctime changed \(running transaction\)$/);
  });

  it('is broken when the flag can be cleared while the file is mapped (rule 6 not enforced)', async () => {
    const r = await run('pmem-immutable', 'clears-while-mapped');
    const steps = texts(r, 'what the application believes durable survives a crash');
    const cleared = steps.findIndex((t) => /ioctl clearing PMEM_IMMUTABLE: the inode is no longer PMEM_IMMUTABLE/.test(t));
    const mmapped = steps.findIndex((t) => /^T0: mmap\(/.test(t));
    const moved = steps.findIndex((t) => /defrag .* moves block 1/.test(t));
    expect(mmapped).toBeGreaterThanOrEqual(0);
    expect(cleared).toBeGreaterThan(mmapped);
    expect(moved).toBeGreaterThan(cleared);
  });

  it('is broken by preallocating with unwritten extents, as ZERO_RANGE does', async () => {
    const r = await run('pmem-immutable', 'unwritten-zeroing');
    // Rule 1 is already broken when the flag is set: the extents are unwritten.
    const promise = texts(r, 'once PMEM_IMMUTABLE is set, the metadata behind every block is durable and unchanging');
    expect(promise.at(-1)).toMatch(/allocated as unwritten extents .* PMEM_IMMUTABLE set/);
    // And the first write converts an extent in the running transaction, which a crash undoes.
    const lost = texts(r, 'what the application believes durable survives a crash');
    expect(lost.some((t) => /unwritten extent of block \d zeroed and converted in running transaction/.test(t))).toBe(true);
  });
});

describe('MAP_DIRECT (seed 003)', () => {
  it('as a guarantee, kills the application for a reflink another process did', async () => {
    const r = await run('map-direct', 'guarantee');
    const steps = texts(r, 'an application is never killed by SIGBUS for what another process did');
    expect(steps.some((t) => /^third party: ioctl\(FICLONE\)/.test(t))).toBe(true);
    expect(steps.at(-1)).toMatch(/^T0: .*MAP_DIRECT is a guarantee: SIGBUS$/);
  });

  it('as a hint, falls back to the page cache and the fsync application keeps its record', async () => {
    const r = await run('map-direct', 'hint');
    expect(r.results.find((x) => x.property === 'what the application believes durable survives a crash')!.verdict).toBe('holds');
    const steps = texts(r, 'a MAP_DIRECT mapping falls back to the page cache when another process shares its blocks');
    expect(steps.at(-1)).toMatch(/MAP_DIRECT falls back to the page cache/);
  });

  it('alone does not make userspace flushes durable', async () => {
    const r = await run('map-direct', 'trusting');
    const t = trace(r, 'what the application believes durable survives a crash');
    expect(t.steps.some((s) => /fsync|msync/.test(s.event))).toBe(false);
    expect(t.durableAfterCrash!.text).not.toMatch(/record 0: record intact/);
  });
});

describe('MSYNC_PMEM_PREPARE_WRITE (seed 000)', () => {
  it('loses the record when the prepared state is not sticky', async () => {
    const r = await run('prepare-write', 'not-sticky');
    const steps = texts(r, 'what the application believes durable survives a crash');
    expect(steps.some((t) => /kept by the mapping only/.test(t))).toBe(true);
    expect(steps.some((t) => /copied to pmem block \d in running transaction \(copy on write\)/.test(t))).toBe(true);
  });

  it('loses the record when maintenance lets page_mkwrite through before syncing', async () => {
    const r = await run('prepare-write', 'maintenance-no-sync');
    const steps = texts(r, 'writes in a prepared range never need a metadata sync');
    expect(steps.at(-1)).toMatch(/done, MMAPLOCK released$/);
  });
});

describe('fault cost (seed 000)', () => {
  it('grows with N for MAP_SYNC and stays flat for PMEM_IMMUTABLE, PREPARE_WRITE and MAP_DIRECT', async () => {
    const runs: ConfigRun[] = [];
    for (const spec of ['map-sync', 'pmem-immutable', 'prepare-write', 'map-direct']) {
      for (const n of [1, 2, 4, 8]) runs.push(await run(spec, `fault-cost-${n}`));
    }
    const series = Object.fromEntries(measurementsOf(runs).map((m) => [m.spec, m.series[0].points.map((p) => p.y)]));
    const mapSync = series['map-sync'];
    for (let i = 1; i < mapSync.length; i++) expect(mapSync[i]).toBeGreaterThan(mapSync[i - 1]);
    for (const flat of ['pmem-immutable', 'prepare-write', 'map-direct']) expect(new Set(series[flat]).size, flat).toBe(1);
    expect(series['pmem-immutable'][0]).toBe(0);
  });
});
