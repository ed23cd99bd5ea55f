/**
 * A module resolve hook (node:module `register`) that lets a spec anywhere on disk import the kit
 * by package name: `import { buildDaxSpec } from 'daxcheck'` resolves to src/kit.ts. Registered by
 * bin/daxcheck.mjs and by each parallel-explorer worker (checker/parallel-worker.mjs), beside tsx.
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
const KIT = new URL('./kit.ts', import.meta.url).href;

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
  if (url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/')) return { ...resolved, format: 'module' };
  return resolved;
}
