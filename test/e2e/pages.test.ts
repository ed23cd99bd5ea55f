/**
 * The new pages in a real browser (headless Chromium, 1400 px wide), checked with bounding boxes:
 * the longest trace's timeline, the widest machine diagram, the deadlock page with its wait-for
 * graph, the v9 race, the design review, and `daxcheck explore` (its self-contained file, walked
 * by clicking). Nothing overflows its container, no two labels overlap, every value sits inside
 * its bar, and the power failure and end markers are in view without scrolling sideways.
 * Screenshots go to test-output/pages/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { checkConfig } from '../../src/check.ts';
import { loadManifest } from '../../src/manifest.ts';
import type { ResultsDoc } from '../../src/report/results.ts';
import { writeReports } from '../../src/report/index.ts';
import { checkTraceFiles } from '../../src/trace-check.ts';
import { run as explore } from '../../src/commands/explore.ts';
import { findSpec, specs } from '../../specs/index.ts';
import { requires } from '../requires.ts';
import { chromiumRequirement, ensureChromium, launch, watchErrors } from './chromium.ts';

// The checks below run in the page (page.evaluate): its globals, typed loosely, for this file only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
type Element = any;

const root = join(import.meta.dirname, '../..');
const shots = join(root, 'test-output', 'pages');
const chromium = ensureChromium();

/** The configurations whose pages are looked at (all small). */
const RUNS: [string, string][] = [
  ['baseline', 'trusting'],
  ['nosync-flag', 'leaf-reflink-split'],
  ['nosync-flag', 'write-fault'],
  ['nosync-flag', 'punch'],
  ['nosync-flag', 'punch-no-invalidate'],
  ['dax-fsync-tracking', 'v9'],
  ['pmem-immutable', 'rules'],
];

/**
 * What is wrong with the page's layout, as sentences: the page or a figure wider than its box,
 * a value outside its bar, a lane label running into the bars, two texts of one figure on top of
 * each other.
 */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const de = document.documentElement;
    if (de.scrollWidth > window.innerWidth + 1) out.push(`the page is ${de.scrollWidth} px wide in a ${window.innerWidth} px window`);
    document.querySelectorAll('.figure').forEach((f: Element, i: number) => {
      if (f.scrollWidth > f.clientWidth + 1) out.push(`figure ${i} (${f.firstElementChild?.getAttribute('class')}) needs ${f.scrollWidth} px in ${f.clientWidth}`);
    });
    const box = (e: Element) => e.getBoundingClientRect();
    document.querySelectorAll('svg.timeline g.seg').forEach((g: Element) => {
      const r = g.querySelector('rect')!;
      const t = g.querySelector('text')!;
      const a = box(r);
      const b = box(t);
      if (b.left < a.left - 0.5 || b.right > a.right + 0.5) out.push(`timeline value "${t.textContent}" (${g.getAttribute('data-field')}) is ${Math.round(b.width)} px in a ${Math.round(a.width)} px bar`);
      if (t.textContent!.includes('…')) out.push(`timeline value "${t.textContent}" is cut`);
    });
    document.querySelectorAll('svg.timeline g.band').forEach((band: Element) => {
      const bars = [...band.querySelectorAll('g.seg rect')].map((r: Element) => box(r).left);
      const first = Math.min(...bars);
      band.querySelectorAll('g.lane text').forEach((t: Element) => {
        if (box(t).right > first + 0.5) out.push(`lane label "${t.textContent}" runs into the bars`);
      });
    });
    document.querySelectorAll('svg').forEach((svg: Element, si: number) => {
      const texts = [...svg.querySelectorAll('text')].map((t: Element) => ({ t: t.textContent ?? '', b: box(t) })).filter((x) => x.t.trim() && x.b.width > 0);
      const s = box(svg);
      for (const x of texts) {
        if (x.b.left < s.left - 1 || x.b.right > s.right + 1 || x.b.top < s.top - 1 || x.b.bottom > s.bottom + 1) out.push(`svg ${si} (${svg.getAttribute('class')}): "${x.t}" is outside the figure`);
      }
      for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i].b;
          const b = texts[j].b;
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 1.5 && h > 3) out.push(`svg ${si} (${svg.getAttribute('class')}): "${texts[i].t}" overlaps "${texts[j].t}"`);
        }
      }
    });
    return out;
  });
}

/** Is the element inside the window horizontally, and inside its figure, once scrolled to vertically? */
async function inView(page: Page, selector: string): Promise<boolean> {
  const el = page.locator(selector).first();
  await el.scrollIntoViewIfNeeded();
  return el.evaluate((e) => {
    const b = e.getBoundingClientRect();
    const f = e.closest('.figure')!.getBoundingClientRect();
    return b.width > 0 && b.left >= f.left && b.right <= f.right && b.left >= 0 && b.right <= window.innerWidth && b.top >= 0 && b.bottom <= window.innerHeight;
  });
}

requires(chromiumRequirement(chromium)).describe('the pages in headless Chromium, 1400 px wide', () => {
  let out = '';
  let context: import('playwright-core').BrowserContext | null = null;
  let profile = '';

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'daxcheck-pages-'));
    const manifest = loadManifest();
    const doc: ResultsDoc = { interrupted: false, results: [], runs: [] };
    for (const [s, c] of RUNS) {
      const spec = findSpec(s)!;
      const { results, ...stats } = await checkConfig(spec, spec.configs.find((x: { name: string }) => x.name === c)!, manifest[s]?.[c]);
      doc.results.push(...results);
      doc.runs.push(stats);
    }
    await writeReports(join(out, 'reports'), doc, specs, { cacheDir: null, replayAvailable: false });
    mkdirSync(shots, { recursive: true });
    ({ context, profile } = await launch(chromium!));
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const open = async (path: string) => {
    const page = await context!.newPage();
    const errors = watchErrors(page);
    await page.goto(pathToFileURL(join(out, 'reports', path)).href);
    return { page, errors };
  };

  it('the longest trace (20 steps) fits: every value whole, labels in view, the power failure and "property false" on screen', async () => {
    const { page, errors } = await open('catalog/nosync-flag/leaf-reflink-split/pointer-after-alloc.html');
    await page.setViewportSize({ width: 1400, height: 1000 });
    expect(await layoutProblems(page)).toEqual([]);
    expect(await page.locator('svg.timeline g.crash').count()).toBe(1);
    expect(await inView(page, 'svg.timeline g.crash')).toBe(true);
    expect(await inView(page, 'svg.timeline g.end')).toBe(true);
    expect(await page.locator('svg.timeline g.end text').textContent()).toBe('property false');
    // Colours from declared kinds: durable media lanes are durable, nothing is undeclared.
    expect(await page.locator('svg.timeline g.lane[data-field="pmem 1.0"]').first().getAttribute('data-kind')).toBe('durable');
    expect(await page.locator('svg.timeline g.lane[data-kind="undeclared"]').count()).toBe(0);
    await page.locator('svg.timeline').screenshot({ path: join(shots, 'timeline-longest.png') });
    await page.screenshot({ path: join(shots, 'counterexample-longest.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('Chinner\'s counterexample draws the constant lane its argument rests on, its value whole', async () => {
    const { page, errors } = await open('catalog/baseline/trusting/pointer-after-alloc.html');
    expect(await page.locator('.argument').textContent()).toMatch(/block 1 \(committed\) held hole/);
    expect(await page.locator('svg.timeline g.lane[data-field="block 1 (committed)"]').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.timeline g.seg[data-field="cache 1.0"] text').allTextContents()).toContain('DATA0 (dirty)');
    expect(await layoutProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the v9 race is named step by step, the ghost lane drawn as ghost', async () => {
    const { page, errors } = await open('catalog/dax-fsync-tracking/v9/fsync-covers-prior-stores.html');
    const arg = (await page.locator('.argument').textContent())!;
    expect(arg).toContain('The race.');
    expect(arg).toMatch(/F1: tag_pages_for_writeback: index 0 \(PTE entry\) already TOWRITE[^]*before[^]*F0: radix_tree_tag_clear\(index 0, TOWRITE\)/);
    expect(await page.locator('svg.timeline g.lane[data-field="F1 must make durable"]').first().getAttribute('data-kind')).toBe('ghost');
    expect(await layoutProblems(page)).toEqual([]);
    await page.locator('.argument').screenshot({ path: join(shots, 'race-v9.png') });
    expect(errors).toEqual([]);
  });

  it('the deadlock is a wait-for graph, and every waiting thread has a lane', async () => {
    const { page, errors } = await open('catalog/nosync-flag/write-fault/no-deadlock.html');
    expect(await page.locator('svg.waitfor g.wf-node').count()).toBe(3);
    expect(await page.locator('svg.waitfor g.wf-cycle').count()).toBe(2);
    for (const a of ['T0', 'jbd2', 'T1']) expect(await page.locator(`svg.timeline g.lane[data-field="${a} (thread)"]`).count()).toBeGreaterThan(0);
    expect(await layoutProblems(page)).toEqual([]);
    expect(await inView(page, 'svg.timeline g.end')).toBe(true);
    // The boxes do not overlap one another.
    const boxes = await page.locator('svg.waitfor g.wf-node rect').evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().toJSON()));
    for (let i = 1; i < boxes.length; i++) expect(boxes[i].left).toBeGreaterThan(boxes[i - 1].right);
    await page.screenshot({ path: join(shots, 'deadlock.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('the widest machine diagram (pmem-immutable, every third-party operation) fits the page', async () => {
    const { page, errors } = await open('catalog/pmem-immutable/machine.html');
    expect(await layoutProblems(page)).toEqual([]);
    const svg = await page.locator('svg.machine').first().boundingBox();
    const fig = await page.locator('.figure').first().boundingBox();
    expect(svg!.x + svg!.width).toBeLessThanOrEqual(fig!.x + fig!.width + 0.5);
    await page.locator('.figure').first().screenshot({ path: join(shots, 'machine-widest.png') });
    expect(errors).toEqual([]);
  });

  it('the design review opens with the answer on one screen: proposals against scenarios, by design apart from bugs', async () => {
    const { page, errors } = await open('design-review.html');
    const answer = await page.locator('table.answer').boundingBox();
    expect(answer!.y + answer!.height).toBeLessThanOrEqual(1000);
    expect(await page.locator('table.answer a.chip-design').first().textContent()).toContain('punch');
    expect(await page.locator('table.answer a.chip-breaks', { hasText: 'punch-no-invalidate' }).count()).toBe(1);
    expect(await layoutProblems(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'design-review.png') });
    // A breaks chip opens its counterexample.
    await Promise.all([page.waitForURL(/punch-no-invalidate\/[a-z-]+\.html$/), page.locator('table.answer a.chip-breaks', { hasText: 'punch-no-invalidate' }).click()]);
    expect(errors).toEqual([]);
  });

  it('daxcheck explore: walk from a counterexample\'s step, follow, step back, and save the path as a trace file check reads', async () => {
    const file = join(out, 'explore.html');
    const log = process.stdout.write;
    process.stdout.write = () => true;
    try {
      expect(await explore(['baseline', '--config', 'trusting', '--out', file])).toBe(0);
    } finally {
      process.stdout.write = log;
    }
    const page = await context!.newPage();
    const errors = watchErrors(page);
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('#events li');
    const status = (id: string) => page.locator(`#props tr[data-property="${id}"] td`).first().textContent();
    expect(await status('pointer-after-alloc')).toContain('holds');
    // From step 12 of the counterexample, follow the event it takes next, twice.
    const cex = page.locator('#traces details[data-trace="pointer-after-alloc"]');
    await cex.locator('summary').click();
    await cex.locator('a[data-step="12"]').click();
    await page.waitForFunction(() => document.body.getAttribute('data-steps') === '12');
    for (const n of [13, 14]) {
      await page.locator('ul.events li.suggested button').click();
      await page.waitForFunction((k) => document.body.getAttribute('data-steps') === String(k), n);
    }
    expect(await status('pointer-after-alloc')).toContain('false');
    expect(await page.locator('#state tr[data-field="block 1 (committed)"] td.value').textContent()).toBe('hole');
    await page.screenshot({ path: join(shots, 'explore.png'), fullPage: true });
    await page.locator('#back').click();
    await page.waitForFunction(() => document.body.getAttribute('data-steps') === '13');
    expect(await status('pointer-after-alloc')).toContain('holds');
    await page.locator('ul.events li.suggested button').click();
    await page.waitForFunction(() => document.body.getAttribute('data-steps') === '14');
    expect(await layoutProblems(page)).toEqual([]);
    // The trace file: the counterexample again, which check reads and confirms.
    const text = await page.locator('#trace').inputValue();
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ spec: 'baseline', config: 'trusting', id: 'pointer-after-alloc', kind: 'always', verdict: 'violated' });
    const saved = join(out, 'explored.json');
    writeFileSync(saved, text);
    const checked = await checkTraceFiles([saved], []);
    expect(checked.text).toContain('as the file says: pointer-after-alloc violated');
    expect(checked.code).toBe(0);
    expect(readFileSync(saved, 'utf8')).toBe(text);
    expect(errors).toEqual([]);
  });
});
