/**
 * Every configuration of every spec against specs/manifest.json: each property's verdict (keyed by
 * property id) and the size of the state space. A buggy variant the thread describes must be
 * found, a fixed one pass.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { loadManifest } from '../../src/manifest.ts';
import type { DurableState } from '../../models/describe.ts';
import { IDS } from '../../models/invariants.ts';
import { specs, findSpec } from '../../specs/index.ts';
import type { RunConfig } from '../../specs/common/spec.ts';

const manifest = loadManifest();

describe('every spec configuration has its verdicts and state count recorded', () => {
  for (const spec of specs) {
    // Scaled-up configurations take minutes or more: their results are in the README; here only
    // that they build and that the manifest has a verdict for each of their properties.
    for (const config of spec.configs.filter((c: RunConfig) => c.scaled)) {
      it(`${spec.name}/${config.name} (scaled up: built, manifest entry only)`, () => {
        const entry = manifest[spec.name]?.[config.name];
        expect(entry, 'manifest entry').toBeDefined();
        const ids = spec.build(config).properties.map((p: { id: string }) => p.id).sort();
        expect(Object.keys(entry!.expect).sort()).toEqual(ids);
      });
    }
    for (const config of spec.configs.filter((c: RunConfig) => !c.scaled)) {
      it(`${spec.name}/${config.name}`, async () => {
        const entry = manifest[spec.name]?.[config.name];
        expect(entry, 'manifest entry').toBeDefined();
        const run = await checkConfig(spec, config, entry);
        expect(run.complete).toBe(true);
        const got = Object.fromEntries(run.results.map((r) => [r.id, r.verdict]));
        expect(got).toEqual(entry!.expect);
        expect([run.states, run.transitions]).toEqual([entry!.states, entry!.transitions]);
        for (const m of run.measures) expect(m.max, m.name).toBe(entry!.measures?.[m.name]);
        // A spec cannot pass because nothing happens: some sometimes-property is reachable.
        expect(run.results.some((x) => x.kind === 'sometimes' && x.verdict === 'reachable')).toBe(true);
      });
    }
  }
  it('records no configuration that no spec has', () => {
    for (const [spec, configs] of Object.entries(manifest)) {
      for (const name of Object.keys(configs)) expect(findSpec(spec)?.configs.some((c) => c.name === name), `${spec}/${name}`).toBe(true);
    }
  });
});

describe('property ids', () => {
  // id -> sentence over every configuration of every spec
  const seen = new Map<string, { sentence: string; where: string }>();
  for (const spec of specs) {
    it(`${spec.name}: ids are kebab-case and unique in each configuration, and one id is one sentence in every spec`, () => {
      for (const config of spec.configs) {
        const props = spec.build(config).properties;
        expect(new Set(props.map((p) => p.id)).size, `${spec.name}/${config.name}: ids unique`).toBe(props.length);
        for (const p of props) {
          expect(p.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
          const other = seen.get(p.id);
          if (other) expect(p.name, `id ${p.id} in ${spec.name}/${config.name} and ${other.where}`).toBe(other.sentence);
          else seen.set(p.id, { sentence: p.name, where: `${spec.name}/${config.name}` });
        }
      }
    });
  }
});

describe("Chinner's counterexample (seed 002, 2016-09-14) in the baseline", () => {
  it('has the shape of DOMAIN.md\'s five steps', async () => {
    const spec = findSpec('baseline')!;
    const run = await checkConfig(spec, spec.configs.find((c) => c.name === 'trusting')!, undefined);
    const r = run.results.find((x) => x.id === IDS.pointer)!;
    expect(r.verdict).toBe('violated');
    const steps = r.trace!.steps;
    const at = (re: RegExp) => steps.findIndex((s) => re.test(`${s.event} ${s.text}`));
    const fault0 = at(/dax_iomap_fault\(write, block 0\) → block 0 allocated in running transaction/);
    const commit = at(/jbd2_journal_commit_transaction → .*block 0 extent/);
    const fault1 = at(/dax_iomap_fault\(write, block 1\) → block 1 allocated in running transaction/);
    const data = at(/store DATA0 to block 1/);
    const pointer = at(/store →blk1 to block 0/);
    const crash = at(/^power_fail /);
    // 1. block 0 allocated, 2. committed, 3. block 1 allocated, 4. data and pointer stored, 5. crash
    expect(fault0).toBeGreaterThanOrEqual(0);
    expect([fault0 < commit, commit < fault1, fault1 < data, data < pointer, pointer < crash]).toEqual([true, true, true, true, true]);
    // After the power failure only crash-image decisions and the remount follow.
    expect(steps.slice(crash + 1).every((s) => s.actor === 'power' || s.actor === 'mount')).toBe(true);
    expect(steps.at(-1)!.event).toBe('mount');
    expect(steps.some((s, i) => i > fault1 && /fsync|msync/.test(s.event))).toBe(false);
    // After recovery block 0 points into block 1, which is not part of the file.
    const durable = r.trace!.durableAfterCrash as DurableState;
    expect(durable.blocks[0].words[1]).toBe('→blk1');
    expect(durable.blocks[1].extent).toBe('hole');
    expect(durable.records[0].found).toBe('dangling pointer');
  });

  it('does not exist under MAP_SYNC: the fault commits the allocation before the store', async () => {
    const spec = findSpec('map-sync')!;
    const run = await checkConfig(spec, spec.configs.find((c) => c.name === 'trusting')!, undefined);
    expect(run.results.find((x) => x.id === IDS.pointer)!.verdict).toBe('holds');
    const witness = run.results.find((x) => x.id === IDS.survives)!.trace!;
    expect(witness.steps.some((s) => /dax_finish_sync_fault → MAP_SYNC: journal committed/.test(s.text))).toBe(true);
  });
});
