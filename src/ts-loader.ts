/**
 * Loading TypeScript at run time, for specs given by path (`daxcheck check ./my-proposal`). From
 * the sources, bin/daxcheck.mjs (or the test runner) already loads TypeScript. From dist/ (the
 * compiled CLI) nothing does until a path spec is imported: then the kit's resolve hook (which maps
 * `daxcheck` and the repository's own sources to their compiled copies) and tsx are registered,
 * once per thread, so start-up does not pay for them when no path spec is checked.
 */
import { COMPILED } from './paths.ts';

let ready: Promise<void> | null = null;

export function ensureTypeScriptLoader(): Promise<void> {
  ready ??= (async () => {
    if (!COMPILED) return;
    const { register: registerHook } = await import('node:module');
    registerHook('./kit-resolve.mjs', import.meta.url);
    const { register } = await import('tsx/esm/api');
    register();
  })();
  return ready;
}
