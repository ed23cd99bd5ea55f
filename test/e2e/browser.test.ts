/**
 * The catalog in a real browser: headless Chromium (Debian's, at /usr/bin/chromium, driven by
 * playwright-core; no browser is ever downloaded) opens reports/catalog/index.html from disk,
 * follows a link to a counterexample, and checks that the timeline and the steps render and that
 * the console shows no error. Screenshots go to test-output/browser/.
 *
 * Where Chromium is missing the test installs it (`npm run chromium`, Debian's package, as root).
 * If that is impossible it is skipped with a loud message, except under CI, where a missing
 * browser fails the run: CI must never pass without having looked (test/requires.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requires } from '../requires.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/daxcheck.mjs');
const shots = join(root, 'test-output', 'browser');

/** Chromium's path, installing Debian's package when it is missing and we may; null if it cannot be had. */
function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.DAXCHECK_NO_INSTALL !== '1' && process.getuid?.() === 0) {
    process.stderr.write('browser test: /usr/bin/chromium is missing; installing Debian\'s chromium (npm run chromium)...\n');
    spawnSync('npm', ['run', '--silent', 'chromium'], { cwd: root, stdio: 'inherit', timeout: 15 * 60_000 });
  }
  return existsSync(CHROMIUM) ? CHROMIUM : null;
}

const chromium = ensureChromium();

// Skipped with the reason when Chromium cannot be had; under CI a missing browser is a failure.
const browser = { what: "Debian's chromium", missing: chromium ? null : `${CHROMIUM} is missing and could not be installed`, install: 'npm run chromium (as root)' };
requires(browser).describe('the catalog in headless Chromium', () => {
  let out = '';
  let context: import('playwright-core').BrowserContext | null = null;
  let profile = '';

  beforeAll(async () => {
    expect(chromium, `${CHROMIUM} is missing (CI must install it: npm run chromium)`).toBeTruthy();
    out = mkdtempSync(join(tmpdir(), 'daxcheck-browser-'));
    // One configuration with a counterexample is enough to exercise every kind of page.
    const r = spawnSync(process.execPath, [bin, 'report', 'baseline', '--config', 'trusting', '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    mkdirSync(shots, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'daxcheck-chromium-'));
    const { chromium: driver } = await import('playwright-core');
    context = await driver.launchPersistentContext(profile, {
      executablePath: chromium!,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      // This machine's network is closed: without the background-networking flags Chromium's own
      // connections are refused and show up as console noise.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('opens the index from disk, follows a counterexample link, and renders the timeline and the steps without console errors', async () => {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));

    await page.goto(pathToFileURL(join(out, 'catalog', 'index.html')).href);
    await expect(page.title()).resolves.toBe('daxcheck counterexample catalog');
    expect(await page.locator('table.matrix tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('table.matrix a.trace-link').count()).toBeGreaterThanOrEqual(1);
    // timings.js filled in the time column.
    expect(await page.locator('td.time').first().textContent()).toMatch(/s$/);
    await page.screenshot({ path: join(shots, 'index.png'), fullPage: true });

    const link = page.locator('a.trace-link[data-kind="always"]').first();
    const href = await link.getAttribute('href');
    expect(href).toMatch(/\.html$/);
    await Promise.all([page.waitForURL(/\/catalog\/[^/]+\/[^/]+\/[a-z0-9-]+\.html$/), link.click()]);

    // The timeline: lanes, bars, the power failure.
    const timeline = page.locator('svg.timeline');
    await expect(timeline.isVisible()).resolves.toBe(true);
    const box = await timeline.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(100);
    expect(await page.locator('svg.timeline g.lane').count()).toBeGreaterThan(3);
    expect(await page.locator('svg.timeline g.crash').count()).toBeGreaterThanOrEqual(1);

    // The steps: one row per step of the trace the page offers for download.
    const jsonHref = await page.locator('a[download]').getAttribute('href');
    const trace = JSON.parse(readFileSync(join(out, 'catalog', href!.replace(/[^/]+$/, ''), jsonHref!), 'utf8'));
    expect(await page.locator('table.steps tbody tr').count()).toBe(trace.steps.length);
    expect(await page.locator('table.steps').textContent()).toContain(trace.steps[0].text);
    expect(await page.locator('.argument').textContent()).toMatch(/Promised[\s\S]*However/);
    expect(await page.locator('table.steps').textContent()).toMatch(/specs\/[\w/.-]+\.ts:\d+/);
    await page.screenshot({ path: join(shots, 'counterexample.png'), fullPage: true });

    // The machine diagram page, one link up.
    await page.locator('nav.crumbs a').nth(1).click();
    await expect(page.locator('svg.machine').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, 'machine.png'), fullPage: true });

    expect(errors).toEqual([]);
    expect(existsSync(join(shots, 'counterexample.png'))).toBe(true);
  });
});
