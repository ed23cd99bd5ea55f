/**
 * x86 persistency (models/persistency.ts): the Px86 rules on a context, and on whole state spaces
 * the issue's claim: the correct flush sequences keep the verdicts of the one-step flush; the
 * faulty ones (no fence, the wrong line, non-temporal stores without a fence) are found on ADR and
 * harmless on eADR, except non-temporal stores where eADR does not drain the WC buffers.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { loadManifest } from '../../src/manifest.ts';
import { persistency, persistencyFields } from '../../models/persistency.ts';
import { Layout, PTE_RW, initialContext, DATA, HDR } from '../../models/layout.ts';
import { setPte } from '../../models/faults.ts';
import { IDS, PX86_IDS } from '../../models/invariants.ts';
import { findSpec } from '../../specs/index.ts';
import { CORRECT_FLUSHES, FLUSH_SEQUENCES, px86Steps, program, type FlushSequence } from '../../specs/apps/pmem-log.ts';
import type { AnySpec, DaxRunConfig } from '../../specs/common/spec.ts';

const dims = { threads: 2, blocks: 3, phys: 3, words: 3, unrelated: 0 };

function setup(platform: 'adr' | 'eadr' = 'adr') {
  const L = new Layout(dims, { fields: persistencyFields(dims) });
  const c = initialContext(L as Layout, { size: 3, dax: true, platform });
  // Both threads' mappings map file block b to pmem block b, writable.
  for (let m = 0; m < 2; m++) for (let b = 0; b < 3; b++) setPte(c, L as Layout, m, b, PTE_RW, b);
  const x = persistency(L as Layout).ops;
  const pmem = (b: number, w: number) => c.durable[L.dPmem + L.word(b, w)];
  const dirty = (b: number, w: number) => c.volatile[L.vDirty + L.word(b, w)] === 1;
  const at = (t: number, b: number, w: number) => ({ t, m: t, b, w });
  return { L, c, x, pmem, dirty, at };
}

describe('Px86 rules on one context', () => {
  it('clwb is durable only at a later fence of the same thread', () => {
    const { c, x, pmem, dirty, at } = setup();
    x.store(c, { ...at(0, 1, 0), value: DATA(0) }, false);
    x.clwb(c, at(0, 1, 0));
    expect([dirty(1, 0), pmem(1, 0)]).toEqual([true, 1]);
    x.fence(c, 1); // another thread's fence orders nothing of thread 0
    expect(dirty(1, 0)).toBe(true);
    x.fence(c, 0);
    expect([dirty(1, 0), pmem(1, 0)]).toEqual([false, DATA(0)]);
  });

  it('clflush takes effect when it executes; a fence without a flush persists nothing', () => {
    const { c, x, pmem, dirty, at } = setup();
    x.store(c, { ...at(0, 2, 1), value: DATA(1) }, false);
    x.fence(c, 0);
    expect(dirty(2, 1)).toBe(true);
    x.clflush(c, at(0, 2, 1));
    expect([dirty(2, 1), pmem(2, 1)]).toEqual([false, DATA(1)]);
  });

  it('a flush of the wrong line leaves the stored line dirty after the fence', () => {
    const { c, x, dirty, at } = setup();
    x.store(c, { ...at(0, 1, 0), value: DATA(0) }, false);
    x.clwb(c, at(0, 1, 1));
    x.fence(c, 0);
    expect(dirty(1, 0)).toBe(true);
  });

  it('a non-temporal store sits in its thread\'s WC buffer: clwb cannot drain it, that thread\'s fence does', () => {
    const { c, x, pmem, dirty, at } = setup();
    x.store(c, { ...at(1, 1, 0), value: DATA(1) }, true);
    expect(x.inWc(c, 1 * dims.words + 0)).toBe(true);
    x.clwb(c, at(1, 1, 0));
    x.fence(c, 0);
    x.clflush(c, at(0, 1, 0));
    expect(dirty(1, 0)).toBe(true);
    x.fence(c, 1);
    expect([dirty(1, 0), pmem(1, 0)]).toEqual([false, DATA(1)]);
  });

  it('a second unguaranteed value on one line is beyond the store history the model keeps', () => {
    const { c, x, at } = setup();
    x.store(c, { ...at(0, 0, 0), value: HDR }, false);
    x.store(c, { ...at(1, 0, 0), value: HDR }, false); // the same value: nothing to lose
    expect(() => x.store(c, { ...at(0, 0, 0), value: DATA(0) }, false)).toThrow(/store history/);
  });

  it('a flush satisfied by an eviction does not bring an old value back at the fence', () => {
    const { L, c, x, pmem, dirty, at } = setup();
    x.store(c, { ...at(0, 1, 0), value: DATA(0) }, false);
    x.clwb(c, at(0, 1, 0));
    // The CPU evicts the line (models/pmem.ts writeBackPhys), then the thread stores again.
    const i = L.word(1, 0);
    c.durable[L.dPmem + i] = c.volatile[L.vCache + i];
    c.volatile[L.vDirty + i] = 0;
    x.store(c, { ...at(0, 1, 0), value: DATA(1) }, false);
    x.fence(c, 0);
    expect([dirty(1, 0), pmem(1, 0)]).toEqual([true, DATA(0)]);
  });
});

describe('the flush sequences as programs', () => {
  const main = program('trusting', 0, 2, 'shared_validate_sync').slice(3);
  const ops = (seq: FlushSequence) => px86Steps(main, seq).map((s) => (s.op === 'cpu' ? `${s.insn}${s.w === undefined ? '' : `(${s.b}.${s.w})`}` : s.op === 'store' ? (s.nt ? 'movnti' : 'store') : s.op));
  it('says each sequence in instructions; what the application believes moves to the last one', () => {
    expect(ops('clwb')).toEqual(['store', 'clwb(0.0)', 'sfence', 'store', 'clwb(1.0)', 'sfence', 'store', 'clwb(0.1)', 'sfence']);
    expect(ops('clflush')).toEqual(['store', 'clflush(0.0)', 'store', 'clflush(1.0)', 'store', 'clflush(0.1)']);
    expect(ops('movnti')).toEqual(['movnti', 'sfence', 'movnti', 'sfence', 'movnti', 'sfence']);
    expect(ops('wrong-line')).toEqual(['store', 'clwb(0.1)', 'sfence', 'store', 'clwb(1.1)', 'sfence', 'store', 'clwb(0.0)', 'sfence']);
    expect(ops('movnti-no-fence')).toEqual(['movnti', 'movnti', 'movnti']);
    for (const seq of Object.keys(FLUSH_SEQUENCES) as FlushSequence[]) {
      const steps = px86Steps(main, seq) as { believe?: boolean }[];
      expect(steps.findIndex((s) => s.believe), seq).toBe(steps.length - 1);
    }
  });
});

// ---- whole state spaces
const SPECS: { spec: string; base: string | null }[] = [
  { spec: 'map-sync', base: 'trusting' },
  { spec: 'device-dax', base: 'trusting' },
  { spec: 'pmem-immutable', base: null },
  { spec: 'baseline', base: 'trusting' },
];
const manifest = loadManifest();

async function verdicts(spec: AnySpec, name: string) {
  const config = spec.configs.find((c: DaxRunConfig) => c.name === name) as DaxRunConfig;
  expect(config, name).toBeDefined();
  const run = await checkConfig(spec, config, manifest[spec.name]?.[name]);
  expect(run.complete).toBe(true);
  return { run, v: Object.fromEntries(run.results.map((r) => [r.id, r.verdict])) as Record<string, string> };
}

describe('Px86 configurations, explored', () => {
  for (const { spec: specName, base } of SPECS) {
    const spec = findSpec(specName)!;
    it(`${specName}: the correct sequences keep the one-step flush's verdicts on ADR and eADR`, async () => {
      // pmem-immutable's configurations all have a third party: compare with the clwb sequence there.
      const reference = base ? (await verdicts(spec, base)).v : null;
      for (const seq of CORRECT_FLUSHES) {
        for (const suffix of ['', '-eadr']) {
          const { v } = await verdicts(spec, `px86-${seq}${suffix}`);
          expect(v[PX86_IDS.data], `${seq}${suffix}`).toBe('holds');
          const { [PX86_IDS.data]: _d, ...rest } = v;
          if (reference) expect(rest, `${seq}${suffix}`).toEqual(reference);
          else expect(rest[IDS.belief], `${seq}${suffix}`).toBe('holds');
        }
      }
    });

    it(`${specName}: forgetting the fence, flushing the wrong line, movnti without a fence are found on ADR, and only the last on eADR`, async () => {
      const beliefHeld = base ? (await verdicts(spec, base)).v[IDS.belief] === 'holds' : true;
      for (const seq of ['no-fence', 'wrong-line', 'movnti-no-fence'] as const) {
        const adr = await verdicts(spec, `px86-${seq}`);
        expect(adr.v[PX86_IDS.data], seq).toBe('violated');
        expect(adr.v[IDS.belief], seq).toBe('violated');
        const eadr = (await verdicts(spec, `px86-${seq}-eadr`)).v;
        const wcLost = seq === 'movnti-no-fence';
        expect(eadr[PX86_IDS.data], `${seq} on eADR`).toBe(wcLost ? 'violated' : 'holds');
        if (beliefHeld) expect(eadr[IDS.belief], `${seq} on eADR`).toBe(wcLost ? 'violated' : 'holds');
      }
      const drained = (await verdicts(spec, 'px86-movnti-no-fence-eadr-drained')).v;
      expect(drained[PX86_IDS.data]).toBe('holds');
      if (beliefHeld) expect(drained[IDS.belief]).toBe('holds');
    });
  }

  it('speaks x86 in its counterexamples', async () => {
    const spec = findSpec('map-sync')!;
    const texts = async (name: string, id: string) => {
      const r = (await verdicts(spec, name)).run.results.find((x) => x.id === id)!;
      return r.trace!.steps.map((s) => s.text).join('\n');
    };
    const noFence = await texts('px86-no-fence', PX86_IDS.data);
    expect(noFence).toMatch(/clwb\(line 0 of block 1\) → write-back started: durable only after this thread's next sfence/);
    expect(noFence).not.toMatch(/sfence →/);
    const nt = await texts('px86-movnti-no-fence-eadr', PX86_IDS.data);
    expect(nt).toMatch(/movnti DATA0 → block 1 word 0 .*write-combining buffer/);
    expect(nt).toMatch(/still in a write-combining buffer: lost/);
    const wrong = await texts('px86-wrong-line', PX86_IDS.data);
    expect(wrong).toMatch(/clwb\(line 1 of block 1\)/);
    expect(wrong).toMatch(/sfence →/);
  });

  it('adds no state to configurations that do not ask for Px86', () => {
    for (const { spec: specName } of SPECS) {
      const spec = findSpec(specName)!;
      for (const config of spec.configs as DaxRunConfig[]) {
        if (config.scaled) continue;
        const b = spec.build(config);
        const names = new Set<string>();
        for (const part of ['durable', 'volatile', 'ghost'] as const) {
          const n = (b.bounds as Record<string, number[]>)[part].length;
          for (let i = 0; i < n; i++) names.add((b.byteName?.(part, i) ?? '').replace(/\[.*/, ''));
        }
        const px86 = config.appOptions?.persistency === 'px86';
        expect(names.has('flushPending') && names.has('wcBuffer'), `${specName}/${config.name}`).toBe(px86);
        expect(b.properties.some((p) => p.id === PX86_IDS.data), `${specName}/${config.name}`).toBe(px86);
      }
    }
  });
});
