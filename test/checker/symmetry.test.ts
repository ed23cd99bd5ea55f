/**
 * Symmetry reduction (checker/symmetry.ts, models/symmetry.ts): on every registered configuration
 * where a spec's threads are interchangeable, and on two-thread versions of one-thread
 * configurations, the declared permutations are automorphisms of the explored system — the
 * reachable states are closed under them, and every property answers the same on a state and
 * its images — and verdicts and shortest trace lengths are the same with and without the
 * reduction, whose traces are real paths of the machine.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { canonicalizer } from '../../checker/symmetry.ts';
import type { RunConfig } from '../../specs/common/spec.ts';
import { findSpec, specs } from '../../specs/index.ts';
import { compileSpec } from '../../src/spec-loader.ts';

type Job = { spec: string; config: RunConfig; closure: boolean };

// Registered configurations where the reduction applies (closure checked where small).
const registered: Job[] = specs.flatMap((spec) =>
  spec.configs.filter((c: RunConfig) => !!compileSpec(spec, c).system.symmetry).map((config: RunConfig) => ({ spec: spec.name, config, closure: false })),
);
// Two-thread versions of one-thread configurations, small enough to check closure on.
const twoThreads = (spec: string, name: string): Job => {
  const config = findSpec(spec)!.configs.find((c: RunConfig) => c.name === name)!;
  return { spec, config: { ...config, name: `${name}@2threads`, threads: 2 } as RunConfig, closure: true };
};
const variants: Job[] = [
  twoThreads('baseline', 'trusting'),
  twoThreads('baseline', 'msync'),
  twoThreads('baseline', 'zeroing-not-flushed'),
  twoThreads('map-sync', 'non-dax'),
  twoThreads('map-sync', 'virtio-pmem'),
  twoThreads('map-sync', 'fsync'),
  twoThreads('map-direct', 'trusting'),
  twoThreads('nova', 'trusting'),
];

describe('symmetry reduction', () => {
  it('on the reference model of MODEL.md, threads and blocks: an automorphism, the same verdict and trace length', async () => {
    const { loadReference } = await import('../../bench/reference-model.ts');
    const { system, properties } = loadReference(2, 2);
    const full = await explore(system, properties);
    const reduced = await explore(system, properties, { symmetry: true });
    expect([full.states, reduced.states]).toEqual([3517, 915]);
    expect(reduced.path(reduced.outcomes[0].state).events.length).toBe(full.path(full.outcomes[0].state).events.length);
    const key = (x: Uint8Array) => Buffer.from(x).toString('latin1');
    const all = new Set<string>();
    for (let i = 0; i < full.states; i++) all.add(key(full.state!(i)));
    const image = new Uint8Array(system.stateBytes);
    for (let i = 0; i < full.states; i++) {
      const st = full.state!(i);
      const holds = properties[0].kind === 'always' && properties[0].holds(system.view(st));
      for (const perm of system.symmetry!.permutations) {
        perm.apply(st, image);
        expect(all.has(key(image))).toBe(true);
        expect(properties[0].kind === 'always' && properties[0].holds(system.view(image))).toBe(holds);
      }
    }
  });

  it('applies to the registered configurations with interchangeable threads', () => {
    expect(registered.map((j) => `${j.spec}/${j.config.name}`)).toEqual(expect.arrayContaining(['baseline/trusting-2threads', 'baseline/fsync-2threads', 'map-sync/trusting-2threads', 'nova/trusting-2threads']));
    // And not where something tells the threads apart: one thread, a third party, fallocate.
    const names = registered.map((j) => j.config.name);
    expect(names.some((n) => n === 'trusting' || n === 'third-party' || n === 'fallocate-trusting')).toBe(false);
  });

  for (const job of [...registered.map((j) => ({ ...j, closure: j.spec !== 'nova' })), ...variants]) {
    it(`${job.spec}/${job.config.name}: ${job.closure ? 'an automorphism; ' : ''}the same verdicts and trace lengths with and without`, async () => {
      const { system, built } = compileSpec(findSpec(job.spec)!, job.config);
      const sym = system.symmetry!;
      expect(sym).toBeDefined();
      const full = await explore(system, built.properties);
      const reduced = await explore(system, built.properties, { symmetry: true });
      expect(full.complete && reduced.complete).toBe(true);
      expect(reduced.states).toBeLessThan(full.states);
      const lengths = (r: typeof full) => r.outcomes.map((o) => (o.state >= 0 ? r.path(o.state).events.length : null));
      expect(lengths(reduced)).toEqual(lengths(full));
      // Reduced traces are real paths from the real initial state, ending where the property says.
      const dst = new Uint8Array(system.stateBytes);
      reduced.outcomes.forEach((o) => {
        if (o.state < 0) return;
        const p = reduced.path(o.state);
        expect([...p.states[0]]).toEqual([...system.initialStates()[0]]);
        p.events.forEach((e, k) => {
          expect(system.step(p.states[k], e, dst)).toBeGreaterThanOrEqual(0);
          expect([...dst]).toEqual([...p.states[k + 1]]);
        });
        const v = system.view(p.states.at(-1)!);
        if (o.property.kind === 'always') expect(o.property.holds(v)).toBe(false);
        if (o.property.kind === 'sometimes') expect(o.property.reached(v)).toBe(true);
      });
      if (!job.closure) return;
      // Closure: every image of a reachable state is reachable (but for states the symmetry
      // leaves as they are: a crash image decided in word order); properties agree on it.
      const key = (s: Uint8Array) => Buffer.from(s).toString('latin1');
      const all = new Set<string>();
      for (let i = 0; i < full.states; i++) all.add(key(full.state!(i)));
      const image = new Uint8Array(system.stateBytes);
      const canon = canonicalizer(sym, system.stateBytes);
      const classes = new Set<string>();
      const views = built.properties.filter((p) => p.kind !== 'deadlock');
      for (let i = 0; i < full.states; i++) {
        const s = full.state!(i);
        if (sym.reduces && !sym.reduces(s)) continue;
        const answers = views.map((p) => (p.kind === 'always' ? p.holds(system.view(s)) : p.kind === 'sometimes' ? p.reached(system.view(s)) : null));
        for (const perm of sym.permutations) {
          perm.apply(s, image);
          if (!all.has(key(image))) throw new Error(`state ${i}'s image is not reachable`);
          expect(views.map((p) => (p.kind === 'always' ? p.holds(system.view(image)) : p.kind === 'sometimes' ? p.reached(system.view(image)) : null))).toEqual(answers);
        }
        const c = s.slice();
        canon(c);
        classes.add(key(c));
      }
      // One stored state per class of reduced states.
      let stored = 0;
      for (let i = 0; i < reduced.states; i++) if (!sym.reduces || sym.reduces(reduced.state!(i))) stored++;
      expect(classes.size).toBe(stored);
    });
  }
});
