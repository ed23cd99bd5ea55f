/**
 * A module resolve hook (node:module `register`) that lets a spec anywhere on disk import the kit
 * by package name: `import { buildDaxSpec } from 'daxcheck'` resolves to the kit. Registered beside
 * tsx by bin/daxcheck.mjs (running from the sources), by src/ts-loader.ts (running from dist/, when
 * a spec is loaded from a path) and by each parallel-explorer worker that loads one.
 *
 * The kit is the one this process runs: src/kit.ts from the sources, dist/src/kit.js from the
 * build (scripts/build.mjs copies this file to dist/src/). Running from dist/, an import of one of
 * the repository's own source files (`../daxcheck/models/layout.ts`) also resolves to its compiled
 * copy, so there is one copy of every module, of its classes and of XState in the process.
 *
 * Two more things a spec outside the repository needs:
 *  - `xstate` (and `xstate/...`), when the spec's own folder cannot resolve it, resolves from
 *    here, so the spec and the checker share one XState;
 *  - a `.ts` file outside node_modules is an ES module even where no package.json says
 *    `"type": "module"` (tsx would otherwise load it as CommonJS, and `import` would fail).
 *
 * Register it before tsx: hooks run last-registered first, so tsx's resolve then calls this one
 * and keeps the format it returns (tsx asks package.json only when no format is given).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const COMPILED_KIT = new URL('./kit.js', import.meta.url);
const COMPILED = existsSync(fileURLToPath(COMPILED_KIT));
const KIT = COMPILED ? COMPILED_KIT.href : new URL('./kit.ts', import.meta.url).href;
/** Running from dist/: the repository's root and dist/ (URLs with a trailing slash). */
const DIST = COMPILED ? new URL('../', import.meta.url).href : null;
const ROOT = COMPILED ? new URL('../../', import.meta.url).href : null;
const COMPILED_DIRS = /^(checker|models|specs|src)\/.*\.ts$/;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'daxcheck') return { url: KIT, format: 'module', shortCircuit: true };
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^xstate(\/|$)/.test(specifier)) throw err;
    resolved = await nextResolve(specifier, { ...context, parentURL: KIT });
  }
  const url = resolved.url;
  if (ROOT && url.startsWith(ROOT) && !url.startsWith(DIST)) {
    const rel = url.slice(ROOT.length);
    if (COMPILED_DIRS.test(rel) && !rel.startsWith('src/new/template/')) {
      const js = DIST + rel.replace(/\.ts$/, '.js');
      if (existsSync(fileURLToPath(js))) return { url: js, format: 'module', shortCircuit: true };
    }
  }
  if (url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/')) return { ...resolved, format: 'module' };
  return resolved;
}
