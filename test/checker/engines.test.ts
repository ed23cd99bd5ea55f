/**
 * The two engines, sequential (checker/bfs.ts) and parallel (checker/parallel.ts), on the same
 * systems: the same states, transitions and depth, the same verdicts, counterexamples of the same
 * (shortest) length, and the parallel one deterministic for a given number of workers.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../checker/bfs.ts';
import { closeRestingWorkers, exploreParallel, workerThreads, type Loader } from '../../checker/parallel.ts';
import { loadFixture } from './fixtures.ts';

const fixtures: [string, number[]][] = [
  ['grid', [7, 5]],
  ['bits', [12]],
  ['twoLocks', []],
];
const loader = (name: string, args: number[]): Loader => ({ module: new URL('./fixtures.ts', import.meta.url).href, export: 'loadFixture', args: [name, ...args] });

describe('the parallel explorer agrees with the sequential one', () => {
  for (const [name, args] of fixtures) {
    it(`on ${name}(${args.join(', ')})`, async () => {
      const { system, properties } = loadFixture(name, ...args);
      const seq = await explore(system, properties);
      for (const workers of [2, 3]) {
        const par = await exploreParallel(system, properties, loader(name, args), { workers });
        expect([par.states, par.transitions, par.depth, par.complete]).toEqual([seq.states, seq.transitions, seq.depth, true]);
        expect([...par.eventFires]).toEqual([...seq.eventFires]);
        par.outcomes.forEach((o, i) => {
          expect(o.state >= 0, o.property.name).toBe(seq.outcomes[i].state >= 0);
          if (o.state < 0) return;
          const p = par.path(o.state);
          expect(p.events.length).toBe(seq.path(seq.outcomes[i].state).events.length);
          // The path is a real path of the system.
          const dst = new Uint8Array(system.stateBytes);
          p.events.forEach((e, k) => {
            expect(system.step(p.states[k], e, dst)).toBeGreaterThanOrEqual(0);
            expect([...dst]).toEqual([...p.states[k + 1]]);
          });
        });
      }
    });
  }

  it('gives the same counterexample on every run with the same number of workers', async () => {
    const { system, properties } = loadFixture('grid', 9, 9);
    const a = await exploreParallel(system, properties, loader('grid', [9, 9]), { workers: 2 });
    const b = await exploreParallel(system, properties, loader('grid', [9, 9]), { workers: 2 });
    expect(a.path(a.outcomes[0].state)).toEqual(b.path(b.outcomes[0].state));
  });

  it('stores the same states in the same order whoever expands which unit (work stealing)', async () => {
    const { system, properties } = loadFixture('grid', 9, 9);
    for (const workers of [2, 3]) {
      const usual = await exploreParallel(system, properties, loader('grid', [9, 9]), { workers });
      // Every state a unit, and worker 0 pausing after each: the others take most of its units.
      const stolen = await exploreParallel(system, properties, loader('grid', [9, 9]), { workers, chunkStates: 1, slowWorker: 0 });
      expect(stolen.stolenChunks).toBeGreaterThan(10);
      expect([stolen.states, stolen.transitions, stolen.depth]).toEqual([usual.states, usual.transitions, usual.depth]);
      expect(stolen.outcomes.map((o) => o.state)).toEqual(usual.outcomes.map((o) => o.state));
      for (const o of usual.outcomes) if (o.state >= 0) expect(stolen.path(o.state)).toEqual(usual.path(o.state));
    }
  });

  it('stores the same states with one worker slow at expanding and at absorbing, on a model whose keys move to larger buffers', async () => {
    // The reference model of MODEL.md (T=2, B=3): 205,595 states, so each worker's keys move to
    // larger buffers several times as it absorbs; the others read them where they are next level.
    const { loadReference } = await import('../../bench/reference-model.ts');
    const { system, properties } = loadReference(2, 3);
    const ref: Loader = { module: new URL('../../bench/reference-model.ts', import.meta.url).href, export: 'loadReference', args: [2, 3] };
    const usual = await exploreParallel(system, properties, ref, { workers: 2 });
    // Worker 0 pauses after each unit and each batch it absorbs: worker 1 takes most of its units.
    const slow = await exploreParallel(system, properties, ref, { workers: 2, chunkStates: 64, slowWorker: 0 });
    expect(slow.stolenChunks).toBeGreaterThan(10);
    expect([slow.states, slow.transitions, slow.depth]).toEqual([usual.states, usual.transitions, usual.depth]);
    expect(slow.outcomes.map((o) => o.state)).toEqual(usual.outcomes.map((o) => o.state));
    for (const o of usual.outcomes) if (o.state >= 0) expect(slow.path(o.state)).toEqual(usual.path(o.state));
  });

  it('keeps its workers from run to run, another spec loaded in them, and starts new ones after a memory stop', async () => {
    const grid = loadFixture('grid', 9, 9);
    const bits = loadFixture('bits', 12);
    await exploreParallel(grid.system, grid.properties, loader('grid', [9, 9]), { workers: 2 });
    const before = workerThreads();
    expect(before.resting).toBeGreaterThanOrEqual(2);
    // Threads of the pool, now with another system loaded: the same answers as the sequential explorer.
    const again = await exploreParallel(bits.system, bits.properties, loader('bits', [12]), { workers: 2 });
    const seq = await explore(bits.system, bits.properties);
    expect([again.states, again.transitions, again.depth, again.outcomes[0].state >= 0]).toEqual([seq.states, seq.transitions, seq.depth, true]);
    expect(again.path(again.outcomes[0].state).events.length).toBe(seq.path(seq.outcomes[0].state).events.length);
    expect(workerThreads()).toEqual(before);
    // One more worker than the pool holds: one is started, and kept.
    await exploreParallel(grid.system, grid.properties, loader('grid', [9, 9]), { workers: before.resting + 1 });
    expect(workerThreads()).toEqual({ started: before.started + 1, resting: before.resting + 1 });
    // Workers stopped by a memory limit are not kept.
    const small = await exploreParallel(bits.system, bits.properties, loader('bits', [14]), { workers: 2, maxBytes: 200_000 });
    expect(small.stopReason).toBe('memory');
    expect(workerThreads()).toEqual({ started: before.started + 1, resting: before.resting - 1 });
    const fresh = await exploreParallel(bits.system, bits.properties, loader('bits', [12]), { workers: before.resting + 1 });
    expect(workerThreads()).toEqual({ started: before.started + 3, resting: before.resting + 1 });
    expect([fresh.states, fresh.transitions]).toEqual([seq.states, seq.transitions]);
    // The bench stops the resting workers before each run it measures: that run starts its own.
    await closeRestingWorkers();
    expect(workerThreads()).toEqual({ started: before.started + 3, resting: 0 });
    await exploreParallel(bits.system, bits.properties, loader('bits', [12]), { workers: 2 });
    expect(workerThreads()).toEqual({ started: before.started + 5, resting: 2 });
  });

  it('stops between levels at --max-states and says so', async () => {
    const { system, properties } = loadFixture('bits', 14);
    const r = await exploreParallel(system, properties, loader('bits', [14]), { workers: 2, maxStates: 100 });
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('max-states');
  });

  it('counts the reference model of MODEL.md exactly (T=2, B=3)', async () => {
    const { loadReference } = await import('../../bench/reference-model.ts');
    const { system, properties } = loadReference(2, 3);
    const ref: Loader = { module: new URL('../../bench/reference-model.ts', import.meta.url).href, export: 'loadReference', args: [2, 3] };
    const r = await exploreParallel(system, properties, ref, { workers: 2 });
    expect([r.states, r.transitions, r.depth]).toEqual([205_595, 1_764_867, 19]);
    expect(r.path(r.outcomes[0].state).events.length).toBe(4);
  });
});
