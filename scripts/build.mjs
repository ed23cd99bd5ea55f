#!/usr/bin/env node
// npm run build (and `prepare`, so npm install and npm ci build too): compiles the CLI's TypeScript
// (checker/, models/, specs/, src/, bench/) into dist/ with tsc (tsconfig.build.json: emit only, the type
// check is npm test's), copies the two plain .mjs modules beside their compiled neighbours,
// compiles the JSON Schemas of docs/schema/ into dist/src/input/validators.cjs, and writes
// dist/build.json, which bin/daxcheck.mjs reads to know dist/ is in step with the sources.
//
// `node scripts/build.mjs --check` builds nothing: exit 0 when dist/ is in step, else 1 with the
// reason (CI runs it after building).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, ROOT, STAMP, distStatus, makeStamp } from '../bin/dist-status.mjs';

if (process.argv.includes('--check')) {
  const s = distStatus();
  process.stdout.write(s.fresh ? 'dist/ is in step with the sources\n' : `dist/ is out of step: ${s.reason} (npm run build)\n`);
  process.exit(s.fresh ? 0 : 1);
}

const started = performance.now();
// The stamp describes the sources as the compiler reads them: taken first, so an edit made while
// tsc runs leaves dist/ stale rather than stamped as fresh.
const stamp = makeStamp();
rmSync(DIST, { recursive: true, force: true });
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  process.stderr.write('build: typescript is not installed (npm install); bin/daxcheck.mjs runs from the sources meanwhile\n');
  process.exit(1);
}
const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(DIST, { recursive: true, force: true });
  process.stderr.write(`build: tsc exited ${r.status ?? r.signal}; dist/ removed, bin/daxcheck.mjs runs from the sources\n`);
  process.exit(1);
}
for (const f of ['src/kit-resolve.mjs', 'checker/parallel-worker.mjs']) {
  mkdirSync(dirname(join(DIST, f)), { recursive: true });
  copyFileSync(join(ROOT, f), join(DIST, f));
}
// The JSON Schemas as ajv's standalone code: validating needs no schema compiler at run time.
const { standaloneSource } = await import(pathToFileURL(join(DIST, 'src', 'input', 'schema.js')).href);
writeFileSync(join(DIST, 'src', 'input', 'validators.cjs'), standaloneSource());
writeFileSync(STAMP, JSON.stringify(stamp, null, 1) + '\n');
process.stdout.write(`build: dist/ compiled from ${Object.keys(stamp.files).length} source files in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
