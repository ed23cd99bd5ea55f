/**
 * Before the tests: the compiled CLI in dist/ is brought in step with the sources (npm run build)
 * when it is not, so the tests that run `node bin/daxcheck.mjs` run what a user runs after
 * `npm install`, not the TypeScript fallback.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { distStatus } from '../bin/dist-status.mjs';

export default function setup(): void {
  if (distStatus().fresh) return;
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}): the CLI tests need dist/`);
}
