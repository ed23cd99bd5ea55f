/**
 * The design review opens with the answer: proposals against scenarios (application, platform,
 * third party) as chips, keeps / breaks (linked) / by design / not applicable, the fault cost
 * beside; a violation a configuration shows by design is set apart from bugs.
 */
import { describe, expect, it } from 'vitest';
import type { PropertyResult } from '../../src/check.ts';
import { makeContext } from '../../src/report/context.ts';
import type { ResultsDoc, RunSummary } from '../../src/report/results.ts';
import { reviewFiles, scenarioOf } from '../../src/report/review.ts';
import { findSpec } from '../../specs/index.ts';

const trace = {
  initialState: { x: '0' },
  steps: [{ event: 'e', payload: null, actor: 'T0', text: 'does it', outcome: null, transitions: [], actions: [], changes: [{ field: 'x', before: '0', after: '1' }] }],
  durableAfterCrash: null,
};

function doc(): ResultsDoc {
  const runs: [string, string, string | null][] = [
    ['trusting', 'holds', null],
    ['punch', 'violated', null],
    ['punch-no-invalidate', 'violated', null],
    ['eadr-like', 'holds', null],
  ];
  const results: PropertyResult[] = runs.map(([config, verdict]) => ({
    spec: 'nosync-flag',
    config,
    id: 'pointer-after-alloc',
    property: 'a data pointer never precedes a durable allocation',
    kind: 'always',
    verdict: verdict as PropertyResult['verdict'],
    expected: verdict as PropertyResult['verdict'],
    states: 10,
    transitions: 20,
    depth: 3,
    seconds: 0,
    trace: verdict === 'violated' ? trace : null,
  }));
  return {
    interrupted: false,
    results,
    runs: runs.map(([config]) => ({ spec: 'nosync-flag', config, description: config, complete: true, states: 10, transitions: 20, depth: 3, seconds: 0, measurement: null }) as unknown as RunSummary),
    measurements: [{ spec: 'nosync-flag', name: 'fault-cost', title: 'fault cost', unit: 'items', xLabel: 'N', series: [{ label: 'commit', points: [{ x: 1, y: 3 }, { x: 2, y: 4 }] }] }],
  };
}

describe('the design review', () => {
  it('classifies configurations by what they declare', () => {
    const spec = findSpec('map-sync')!;
    const of = (name: string) => scenarioOf(spec.configs.find((c: { name: string }) => c.name === name));
    expect(of('trusting')).toBe('application');
    expect(of('virtual-nvdimm')).toBe('platform');
    expect(of('non-dax')).toBe('platform');
    expect(scenarioOf(findSpec('nosync-flag')!.configs.find((c: { name: string }) => c.name === 'punch'))).toBe('third party');
  });

  it('opens with proposals against scenarios, keeps / breaks / by design / n/a as chips, and sets by-design violations apart', () => {
    const ctx = makeContext(doc(), [findSpec('nosync-flag')!], { sources: null });
    const files = reviewFiles(ctx);
    const html = files.find((f) => f.path === 'design-review.html')!.content;
    const md = files.find((f) => f.path === 'design-review.md')!.content;
    // The answer comes before anything else.
    expect(html.indexOf('The answer')).toBeLessThan(html.indexOf('The proposals'));
    const answer = html.slice(html.indexOf('<table class="answer">'), html.indexOf('</table>', html.indexOf('<table class="answer">')));
    expect(answer).toContain('<th>application</th><th>platform</th><th>third party</th><th>fault cost</th>');
    expect(answer).toMatch(/<a class="chip chip-breaks" href="catalog\/nosync-flag\/punch-no-invalidate\/pointer-after-alloc.html"[^>]*>✗ punch-no-invalidate<\/a>/);
    expect(answer).toMatch(/<a class="chip chip-design" href="catalog\/nosync-flag\/punch\/pointer-after-alloc.html" title="by design: the punch deletes block 1[^"]*">○ punch<\/a>/);
    expect(answer).toMatch(/chip-keeps" title="trusting, eadr-like">✓ keeps 2</);
    expect(answer).toContain('– n/a');
    expect(answer).toContain('N = 1, 2: commit 3, 4');
    // Counterexamples: the bug listed as one, the punch under "expected by design".
    const cex = html.slice(html.indexOf('<h2>Counterexamples</h2>'), html.indexOf('<h2>Deadlocks</h2>'));
    expect(cex.indexOf('punch-no-invalidate')).toBeLessThan(cex.indexOf('Expected by design, not bugs'));
    expect(cex.slice(cex.indexOf('Expected by design'))).toContain('nosync-flag/punch</a>');
    // Verdict cells are chips, not lists of names.
    expect(html).toMatch(/<span class="chip chip-holds" title="trusting, eadr-like">✓ holds 2<\/span>/);
    // The Markdown says the same.
    expect(md).toContain('[○ punch](catalog/nosync-flag/punch/pointer-after-alloc.html)');
    expect(md).toContain('[✗ punch-no-invalidate](catalog/nosync-flag/punch-no-invalidate/pointer-after-alloc.html)');
  });
});
