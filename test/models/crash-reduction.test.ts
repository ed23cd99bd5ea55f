/**
 * The crash-image reduction (models/crash.ts, issue 13 point 5) changes no verdict: every
 * configuration of every spec (but the scaled-up ones, which take minutes) is explored with the
 * reduction and without it (word by word), and the two runs must agree on every property's
 * verdict and on the length of every counterexample and witness. Each trace must be one its own
 * model makes, and a reduced trace, with each `power.skip` read as the decision it stands for,
 * one the word-by-word model makes too. The reduced run explores no more crash images and no more
 * transitions than the word-by-word one.
 */
import { describe, expect, it } from 'vitest';
import { checkConfig, type ConfigRun } from '../../src/check.ts';
import { Explorer } from '../../src/explore/engine.ts';
import { specs } from '../../specs/index.ts';
import type { AnySpec, RunConfig } from '../../specs/common/spec.ts';

/** Walks a trace's event labels through the model of `config`; returns how many steps it made. */
function walkable(spec: AnySpec, config: RunConfig, labels: string[]): number {
  return new Explorer(spec, config).walk(labels).at;
}

/** A reduced trace in word-by-word events: each power.skip becomes the drop (or, on eADR, keep) it stands for. */
function wordByWord(spec: AnySpec, config: RunConfig, labels: string[]): string[] | null {
  const x = new Explorer(spec, config);
  const out: string[] = [];
  for (const label of labels) {
    const tries = label === 'power.skip' ? ['power.drop', 'power.keep'] : [label];
    const next = tries.find((l) => x.walk([...out, l]).at === out.length + 1);
    if (!next) return null;
    out.push(next);
  }
  return out;
}

const lengths = (r: ConfigRun) => Object.fromEntries(r.results.map((x) => [x.id, x.trace ? x.trace.steps.length : null]));
const verdicts = (r: ConfigRun) => Object.fromEntries(r.results.map((x) => [x.id, x.verdict]));

describe('crash-image reduction: verdicts unchanged on every configuration', () => {
  for (const spec of specs) {
    for (const config of spec.configs.filter((c: RunConfig) => !c.scaled)) {
      it(`${spec.name}/${config.name}`, async () => {
        const reduced = await checkConfig(spec, config, undefined);
        const raw = await checkConfig(spec, config, undefined, { crashReduction: false });
        expect(reduced.complete && raw.complete).toBe(true);
        expect(verdicts(reduced)).toEqual(verdicts(raw));
        expect(lengths(reduced)).toEqual(lengths(raw));
        expect(reduced.states).toBeLessThanOrEqual(raw.states);
        expect(reduced.transitions).toBeLessThanOrEqual(raw.transitions);
        if (raw.crashImages) expect(reduced.crashImages!.distinct!).toBeLessThanOrEqual(raw.crashImages.raw!);
        const rawConfig = { ...config, crashReduction: false } as RunConfig;
        for (const r of reduced.results) {
          if (!r.trace) continue;
          const labels = r.trace.steps.map((s) => s.event);
          expect(walkable(spec, config, labels), `${r.id}: the reduced model makes its trace`).toBe(labels.length);
          expect(wordByWord(spec, rawConfig, labels), `${r.id}: the word-by-word model makes it too`).not.toBeNull();
        }
        for (const r of raw.results) {
          if (!r.trace) continue;
          const labels = r.trace.steps.map((s) => s.event);
          expect(walkable(spec, rawConfig, labels), `${r.id}: the word-by-word model makes its trace`).toBe(labels.length);
          expect(labels.includes('power.skip')).toBe(false);
        }
      });
    }
  }
});

describe('what the reduction does', () => {
  const baseline = specs.find((s) => s.name === 'baseline')!;
  it('explores fewer crash images where a dirty word cannot be observed (zeroing through the cache: the stale word of a block recovery drops)', async () => {
    const config = baseline.configs.find((c: RunConfig) => c.name === 'zeroing-not-flushed')!;
    const reduced = await checkConfig(baseline, config, undefined, { crashImages: true });
    expect(reduced.crashImages!.distinct!).toBeLessThan(reduced.crashImages!.raw!);
    expect(reduced.eventFires.find((e) => e.event === 'power.skip')!.fired).toBeGreaterThan(0);
  });
  it('is absent without a crash, and the word-by-word model has no power.skip event at all', async () => {
    const config = baseline.configs.find((c: RunConfig) => c.name === 'trusting')!;
    const raw = await checkConfig(baseline, config, undefined, { crashReduction: false });
    expect(raw.eventFires.some((e) => e.event === 'power.skip')).toBe(false);
    expect(raw.crashReduction).toBe(false);
    expect(raw.crashImages!.raw).toBeGreaterThan(0);
  });
});
