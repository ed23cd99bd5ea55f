/**
 * The argument of a counterexample on real traces: the v9 race named step by step (which thread's
 * steps matter, the order that breaks the property, each pair tried the other way round), and
 * Chinner's deadlock drawn as a wait-for graph with a lane for every waiting thread.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkConfig, type PropertyResult } from '../../src/check.ts';
import { makeContext } from '../../src/report/context.ts';
import { argumentOf } from '../../src/report/explain.ts';
import { findRace, type Race } from '../../src/report/race.ts';
import type { ResultsDoc } from '../../src/report/results.ts';
import { timelineSvg } from '../../src/report/timeline.ts';
import { waitForSvg } from '../../src/report/waits.ts';
import { findSpec } from '../../specs/index.ts';
import { loadManifest } from '../../src/manifest.ts';

async function resultOf(specName: string, configName: string, id: string): Promise<{ r: PropertyResult; doc: ResultsDoc }> {
  const spec = findSpec(specName)!;
  const config = spec.configs.find((c: { name: string }) => c.name === configName)!;
  const run = await checkConfig(spec, config, loadManifest()[specName]?.[configName]);
  const { results, ...stats } = run;
  return { r: results.find((x) => x.id === id)!, doc: { interrupted: false, results, runs: [stats] } };
}

describe('the race behind dax-fsync-tracking/v9', () => {
  let r: PropertyResult;
  let race: Race | null;
  beforeAll(async () => {
    const got = await resultOf('dax-fsync-tracking', 'v9', 'fsync-covers-prior-stores');
    r = got.r;
    const ctx = makeContext(got.doc, [findSpec('dax-fsync-tracking')!], { sources: null });
    race = findRace(r.trace!, ctx.replayer(r.spec, r.config, r.id)!);
  });

  it('names each thread\'s steps that matter and the order that breaks the property', () => {
    const t = r.trace!;
    const stepOf = (actor: string, text: RegExp) => t.steps.findIndex((s) => s.actor === actor && text.test(s.text)) + 1;
    const found = stepOf('F1', /tag_pages_for_writeback: .*already TOWRITE/);
    const cleared = stepOf('F0', /^radix_tree_tag_clear\(index 0, TOWRITE\)/);
    const skipped = stepOf('F1', /find_get_entries_tag\(TOWRITE\) → nothing left/);
    expect([found, cleared, skipped].every((k) => k > 0)).toBe(true);
    expect(race).not.toBeNull();
    // F1 found TOWRITE set before F0 cleared it (the other order keeps the property), and F1
    // could skip the entry only after the clear.
    expect(race!.orders).toContainEqual({ first: found, second: cleared, kind: 'race' });
    expect(race!.orders).toContainEqual({ first: cleared, second: skipped, kind: 'after' });
    expect(race!.steps.find((x) => x.actor === 'F1')!.steps).toEqual(expect.arrayContaining([found, skipped]));
    expect(race!.steps.find((x) => x.actor === 'F0')!.steps).toContain(cleared);
    expect(race!.steps.find((x) => x.actor === 'W0')).toBeDefined();

    const { html, cites } = argumentOf(r, null, race);
    expect(html).toContain('The race.');
    expect(html).toContain('radix_tree_tag_clear(index 0, TOWRITE)');
    expect(html).not.toMatch(/changed no state field/);
    // The lanes the race's steps changed are cited, so the timeline draws them.
    expect(cites).toEqual(expect.arrayContaining(['radix 0', 'cache 0.0']));
    const svg = timelineSvg(r.trace!, { kind: r.kind, verdict: r.verdict, include: cites });
    expect(svg).toContain('data-kind="ghost"');
  });
});

describe('Chinner\'s deadlock (nosync-flag/write-fault)', () => {
  let r: PropertyResult;
  beforeAll(async () => {
    r = (await resultOf('nosync-flag', 'write-fault', 'no-deadlock')).r;
  });

  it('is a wait-for graph: each actor, what it holds, what it waits for, its last step; the cycle in red', () => {
    const t = r.trace!;
    expect(t.waitGraph?.map((w) => [w.actor, w.on])).toEqual([
      ['T0', 'jbd2'],
      ['jbd2', 'T0'],
      ['T1', 'T0'],
    ]);
    const svg = waitForSvg(t);
    expect(svg.match(/class="wf-node"/g)).toHaveLength(3);
    expect(svg.match(/class="wf-edge wf-cycle"/g)).toHaveLength(2);
    expect(svg.match(/class="wf-edge"/g)).toHaveLength(1);
    expect(svg).toContain('lock_page(file2 page 0)');
    expect(svg).toContain('the page lock of file2 page 0');
    expect(svg).toContain('3. T0.dax_iomap_fault');
    const { html } = argumentOf(r, null);
    expect(html).toContain('T0 → jbd2 → T0');
    expect(html).toMatch(/<b>jbd2<\/b> waits for <b>lock_page\(file2 page 0\)<\/b>/);
  });

  it('gives every waiting thread a lane, the ones that never step too', () => {
    const svg = timelineSvg(r.trace!, { kind: r.kind, verdict: r.verdict });
    for (const a of ['T0', 'jbd2', 'T1']) expect(svg).toContain(`data-field="${a} (thread)" data-kind="thread"`);
    expect(svg).toContain('waits for mmap_lock for write (down_write)');
    expect(svg).toContain('deadlock: no thread can move');
  });
});
