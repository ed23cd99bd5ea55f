/** Covering paths from xstate/graph: one shortest path per control state, each one the model's. */
import { describe, expect, it } from 'vitest';
import { covering, valueName } from '../../src/replay/covering.ts';
import { planReplay } from '../../src/replay/program.ts';
import { findSpec } from '../../specs/index.ts';
import type { DaxRunConfig } from '../../specs/common/spec.ts';

const config = (spec: string, name: string) => findSpec(spec)!.configs.find((c) => c.name === name) as DaxRunConfig;

describe('covering paths of map-sync/trusting', () => {
  const spec = findSpec('map-sync')!;
  const c = covering(spec, config('map-sync', 'trusting'));
  it('come from full snapshots, one per control state', () => {
    expect(c.serialization).toBe('full');
    expect(c.dropped).toBe(0);
    const names = c.traces.map((t) => t.property.replace('covering path to ', ''));
    expect(new Set(names).size).toBe(names.length);
    for (const state of ['running.T0.mmap', 'running.T0.storePointer', 'running.T0.done', 'crashing', 'recovered', 'checked']) expect(names).toContain(state);
  });
  it('are shortest: the path to a later program step extends the one to an earlier step', () => {
    const byName = new Map(c.traces.map((t) => [t.property.replace('covering path to ', ''), t.steps.map((s) => s.event)]));
    const mmap = byName.get('running.T0.mmap')!;
    expect(mmap).toEqual(['T0.open', 'T0.ftruncate']);
    expect(byName.get('recovered')).toEqual(['power_fail', 'mount']);
  });
  it('each plans as a replay that ends in a crash', () => {
    for (const t of c.traces) {
      const p = planReplay(t, t.property);
      expect('reason' in p ? p.reason : null).toBeNull();
      if (!('reason' in p)) expect(p.program.trim().split('\n').at(-1)).toMatch(/^crash \d+$/);
    }
  });
});

describe('a configuration too large for full snapshots', () => {
  it('falls back to state values, and keeps only paths the compiled machine can take', () => {
    const c = covering(findSpec('map-sync')!, config('map-sync', 'third-party'));
    expect(c.serialization).toBe('value');
    expect(c.traces.length).toBeGreaterThan(0);
    for (const t of c.traces) expect(t.steps.length).toBeGreaterThan(0);
  });
});

describe('state value names', () => {
  it('join parallel regions', () => {
    expect(valueName('recovered')).toBe('recovered');
    expect(valueName({ running: { T0: 'done' } })).toBe('running.T0.done');
    expect(valueName({ running: { T0: 'done', T1: 'mmap' } })).toBe('running.(T0.done+T1.mmap)');
  });
});
