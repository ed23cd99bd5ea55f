/**
 * The reports as files: every label escaped, the same bytes from the same results, generic over
 * the registry (a spec nobody wrote the reports for appears, with its machine, traces and
 * capabilities), fault-cost plots only where measured.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { checkConfig } from '../../src/check.ts';
import type { PropertyResult } from '../../src/check.ts';
import { renderReports } from '../../src/report/index.ts';
import type { ResultsDoc, RunSummary } from '../../src/report/results.ts';
import { SourceIndex } from '../../src/report/sources.ts';
import type { AnySpec } from '../../specs/common/spec.ts';
import { specs } from '../../specs/index.ts';

const EVIL = '<script>alert("x")</script>';

/** A spec whose every label is hostile, with a real (tiny) XState machine. */
const evilSpec: AnySpec = {
  name: `evil${EVIL}`,
  title: `Title ${EVIL}`,
  sources: [EVIL],
  promise: `Promise ${EVIL}`,
  capabilities: { [`cap ${EVIL}`]: `answer ${EVIL}` },
  configs: [{ name: `cfg${EVIL}`, description: `desc ${EVIL}`, default: true }],
  build: () => ({
    machine: createMachine({
      id: 'evil',
      initial: 'a',
      context: { x: new Uint8Array(1) },
      states: { a: { on: { [`go${EVIL}`]: { target: 'b' } } }, b: { type: 'final' } },
    }),
    events: [],
    bounds: {},
    properties: [],
    render: {} as never,
  }),
};

function evilDoc(): ResultsDoc {
  const property = `prop ${EVIL}`;
  const result: PropertyResult = {
    spec: evilSpec.name,
    config: evilSpec.configs[0].name,
    id: `prop-${EVIL}`,
    property,
    kind: 'always',
    verdict: 'violated',
    expected: 'holds',
    states: 3,
    transitions: 2,
    depth: 2,
    seconds: 0.5,
    trace: {
      initialState: { [`block 1 ${EVIL}`]: `v ${EVIL}`, 'cache 0.0': 'clean', 'pmem 0.0': '0' },
      steps: [
        {
          event: `go${EVIL}`,
          payload: { p: EVIL },
          actor: `T0${EVIL}`,
          text: `text ${EVIL}`,
          outcome: { errno: EVIL },
          transitions: [`evil.a --go${EVIL}--> evil.b`],
          actions: [{ type: EVIL, params: { x: EVIL } }],
          changes: [
            { field: `block 1 ${EVIL}`, before: `v ${EVIL}`, after: `w ${EVIL}` },
            { field: 'cache 0.0', before: 'clean', after: `${EVIL} (dirty)` },
          ],
        },
        { event: 'power_fail', payload: null, actor: 'power', text: `power ${EVIL}`, outcome: null, transitions: [], actions: [], changes: [] },
      ],
      durableAfterCrash: { text: `durable ${EVIL}`, extra: EVIL },
    },
  };
  const run = {
    spec: result.spec,
    config: result.config,
    description: `desc ${EVIL}`,
    complete: false,
    stopReason: `stop ${EVIL}`,
    states: 3,
    transitions: 2,
    depth: 2,
    seconds: 0.5,
  } as unknown as RunSummary;
  // A deadlock whose wait-for graph and field declarations are hostile too.
  const dead: PropertyResult = {
    ...result,
    id: `dead-${EVIL}`,
    kind: 'deadlock',
    trace: {
      ...result.trace!,
      fieldInfo: { [`block 1 ${EVIL}`]: { kind: 'volatile', durable: EVIL }, 'cache 0.0': { kind: 'cache', durable: 'pmem 0.0' }, 'pmem 0.0': { kind: 'durable' } },
      waits: [EVIL],
      waitGraph: [
        { actor: `T0${EVIL}`, holds: [EVIL], waitsFor: `w ${EVIL}`, on: `J${EVIL}`, where: EVIL },
        { actor: `J${EVIL}`, holds: [], waitsFor: `v ${EVIL}`, on: `T0${EVIL}` },
      ],
    },
  };
  return {
    interrupted: false,
    results: [result, dead],
    runs: [run],
    measurements: [{ spec: result.spec, name: `m${EVIL}`, unit: EVIL, xLabel: EVIL, series: [{ label: EVIL, points: [{ x: 1, y: 2 }, { x: 2, y: 5 }] }] }],
  };
}

const noSources = { sources: null, replayAvailable: true };

describe('reports', () => {
  it('escape every label: a spec, config, property, field or step holding <script> shows as text', async () => {
    const files = await renderReports(evilDoc(), [evilSpec], noSources);
    const html = files.filter((f) => f.path.endsWith('.html') || f.path.endsWith('.svg') || f.path.endsWith('.md'));
    expect(html.length).toBeGreaterThanOrEqual(5);
    for (const f of html) {
      expect(f.content, f.path).not.toContain('<script>alert');
      expect(f.content, f.path).not.toMatch(/<script>(?!\s*\(function)/);
    }
    // A trace page is named by its property's id (slugged).
    const page = files.find((f) => /catalog\/.+\/prop-+script-alert-x-script\.html$/.test(f.path))!;
    expect(page.content).toContain('text &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page.content).toContain('Promise &lt;script&gt;');
    // Paths are made from labels too: nothing that could climb out of the report folder.
    for (const f of files) expect(f.path).toMatch(/^[A-Za-z0-9._/-]+$/);
    expect(files.find((f) => f.path === 'design-review.md')!.content).toContain('&lt;script&gt;');
  });

  it('are byte-identical from the same results, except timings.js', async () => {
    const a = await renderReports(evilDoc(), [evilSpec], noSources);
    const doc = evilDoc();
    doc.results[0].seconds = 99;
    doc.results[1].seconds = 99;
    doc.runs[0].seconds = 99;
    const b = await renderReports(doc, [evilSpec], noSources);
    expect(a.map((f) => f.path)).toEqual(b.map((f) => f.path));
    for (let i = 0; i < a.length; i++) {
      if (a[i].path.endsWith('timings.js')) expect(a[i].content).not.toBe(b[i].content);
      else expect(a[i].content, a[i].path).toBe(b[i].content);
    }
  });

  it('are byte-identical across two real check runs of a registered spec', async () => {
    const spec = specs[0];
    const config = spec.configs.find((c: { default: boolean }) => c.default)!;
    const docOf = async (): Promise<ResultsDoc> => {
      const run = await checkConfig(spec, config, undefined);
      const { results, ...rest } = run;
      return { interrupted: false, results, runs: [rest] };
    };
    const sources = SourceIndex.load();
    const [d1, d2] = [await docOf(), await docOf()];
    const a = await renderReports(d1, specs, { sources, replayAvailable: false });
    const b = await renderReports(d2, specs, { sources, replayAvailable: false });
    expect(a.length).toBeGreaterThan(4);
    for (let i = 0; i < a.length; i++) if (!a[i].path.endsWith('timings.js')) expect(a[i].content, a[i].path).toBe(b[i].content);
    // Each step of a trace names the spec source that wrote its transition.
    const tracePage = a.find((f) => /catalog\/.+\/.+\/[\w-]+\.html$/.test(f.path))!;
    expect(tracePage.content).toMatch(/specs\/[\w/.-]+\.ts:\d+/);
    expect(tracePage.content).not.toContain('>not found<');
    // Properties are named by id with the sentence beside it, never by a number that depends on the run.
    const p = d1.results.find((r) => r.trace)!;
    expect(a.some((f) => f.path === `catalog/${spec.name}/${config.name}/${p.id}.html`)).toBe(true);
    const index = a.find((f) => f.path === 'catalog/index.html')!.content;
    for (const r of d1.results) {
      expect(index).toContain(`<code>${r.id}</code>`);
      expect(index).toContain(r.property);
    }
    expect(index).not.toMatch(/>P\d+</);
    const review = a.find((f) => f.path === 'design-review.md')!.content;
    for (const r of d1.results) expect(review).toContain(`| \`${r.id}\` | ${r.property} |`);
  });

  it('plot fault cost only when measured, and show a spec no report code knows about', async () => {
    const files = await renderReports(evilDoc(), [evilSpec], noSources);
    const review = files.find((f) => f.path === 'design-review.html')!.content;
    expect(review).toContain('<svg class="plot"');
    expect(files.some((f) => f.path === 'design-review-figure-1.svg')).toBe(true);
    expect(files.find((f) => f.path === `catalog/${'evil-script-alert-x-script'}/machine.html`)?.content).toContain('<svg class="machine"');
    expect(review).toContain('cap &lt;script&gt;');

    const doc = evilDoc();
    delete doc.measurements;
    const without = await renderReports(doc, [evilSpec], noSources);
    expect(without.find((f) => f.path === 'design-review.html')!.content).not.toContain('Fault cost');
    expect(without.some((f) => f.path.endsWith('.svg'))).toBe(false);
  });
});
