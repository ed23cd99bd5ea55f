/**
 * Debian's Chromium for the browser tests, driven by playwright-core (no browser is ever
 * downloaded). Where it is missing it is installed (`npm run chromium`, as root); if that is
 * impossible the tests that need it are skipped with a loud message, except under CI, where they
 * fail (test/requires.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Requirement } from '../requires.ts';

export const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '../..');

/** Chromium's path, installing Debian's package when it is missing and we may; null if it cannot be had. */
export function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.DAXCHECK_NO_INSTALL !== '1' && process.getuid?.() === 0) {
    process.stderr.write("browser test: /usr/bin/chromium is missing; installing Debian's chromium (npm run chromium)...\n");
    spawnSync('npm', ['run', '--silent', 'chromium'], { cwd: root, stdio: 'inherit', timeout: 15 * 60_000 });
  }
  return existsSync(CHROMIUM) ? CHROMIUM : null;
}

/** The requirement for test/requires.ts. */
export function chromiumRequirement(path: string | null): Requirement {
  return { what: "Debian's chromium", missing: path ? null : `${CHROMIUM} is missing and could not be installed`, install: 'npm run chromium (as root)' };
}

/** A headless Chromium with its own profile, 1400 px wide. Close it, then remove `profile`. */
export async function launch(path: string): Promise<{ context: import('playwright-core').BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'daxcheck-chromium-'));
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: path,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    // This machine's network is closed: without the background-networking flags Chromium's own
    // connections are refused and show up as console noise.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { context, profile };
}

/** Collects console errors, page errors and failed requests of a page. */
export function watchErrors(page: import('playwright-core').Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return errors;
}
