// Is dist/ (the compiled CLI, `npm run build`) in step with the TypeScript sources? bin/daxcheck.mjs
// asks before every run: it starts from dist/ when it is, from the sources (through tsx) when not.
//
// dist/build.json, written by scripts/build.mjs, records every source file the build read with its
// size, modification time and SHA-256. A file whose size and time match is unchanged; one whose
// time differs (a git checkout touches files) is hashed and compared; a file added or removed
// makes dist/ stale. A few hundred stat calls: a few milliseconds.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const STAMP = join(DIST, 'build.json');
/** The folders the build compiles (bench/: `npm run bench` measures the compiled explorer), and the files besides them whose change changes its output. */
export const SOURCE_DIRS = ['checker', 'models', 'specs', 'src', 'bench'];
/** The JSON Schemas, compiled into dist/src/input/validators.cjs. */
export const SCHEMA_DIR = 'docs/schema';
export const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json'];
/** Not compiled: the spec template `daxcheck new` copies as text. */
const SKIP = `src${sep}new${sep}template`;

/** Every file the build depends on, relative to the root, sorted. */
export function sourceFiles(root = ROOT) {
  const out = SOURCE_FILES.filter((f) => existsSync(join(root, f)));
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = join(rel, e.name);
      if (e.isDirectory()) {
        if (r !== SKIP && e.name !== 'node_modules' && e.name !== 'reports') walk(r);
      } else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(d);
  if (existsSync(join(root, SCHEMA_DIR))) {
    for (const f of readdirSync(join(root, SCHEMA_DIR))) if (f.endsWith('.schema.json')) out.push(join(SCHEMA_DIR, f));
  }
  return out.map((f) => f.split(sep).join('/')).sort();
}

/** SHA-256 of a file; node:crypto is loaded only when a file's time has changed (start-up pays nothing). */
export const sha256 = (path) => createRequire(import.meta.url)('node:crypto').createHash('sha256').update(readFileSync(path)).digest('hex');

/** { fresh: true } or { fresh: false, reason } (a sentence: what is out of step). */
export function distStatus(root = ROOT) {
  const stampPath = join(root, 'dist', 'build.json');
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
  } catch {
    return { fresh: false, reason: existsSync(join(root, 'dist')) ? 'dist/ has no build stamp' : 'dist/ is not built' };
  }
  const recorded = stamp && typeof stamp.files === 'object' && stamp.files ? stamp.files : {};
  const files = sourceFiles(root);
  for (const f of files) {
    const was = recorded[f];
    if (!was) return { fresh: false, reason: `${f} is newer than dist/ (not in its build)` };
    const st = statSync(join(root, f));
    if (st.size !== was.size) return { fresh: false, reason: `${f} changed since dist/ was built` };
    if (st.mtimeMs !== was.mtimeMs && sha256(join(root, f)) !== was.sha256) return { fresh: false, reason: `${f} changed since dist/ was built` };
  }
  const gone = Object.keys(recorded).find((f) => !files.includes(f));
  if (gone) return { fresh: false, reason: `${gone} was removed since dist/ was built` };
  if (!existsSync(join(root, 'dist', 'src', 'cli.js'))) return { fresh: false, reason: 'dist/src/cli.js is missing' };
  return { fresh: true };
}

/** The stamp for the sources as they are now. */
export function makeStamp(root = ROOT) {
  const files = {};
  for (const f of sourceFiles(root)) {
    const st = statSync(join(root, f));
    files[f] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(join(root, f)) };
  }
  return { note: 'Written by npm run build (scripts/build.mjs); bin/dist-status.mjs compares the sources with it.', files };
}

