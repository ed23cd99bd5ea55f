// Starts a parallel-explorer worker. Compiled (dist/checker/, npm run build): the worker's
// JavaScript is beside this file and loads at once; a spec given by path registers the TypeScript
// loader when it is imported (src/ts-loader.ts). From the sources: registers the kit's resolve hook
// (a spec loaded from a path imports 'daxcheck') and tsx in this thread, in bin/daxcheck.mjs's
// order, then loads the TypeScript worker.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (existsSync(fileURLToPath(new URL('./parallel-worker.js', import.meta.url)))) {
  await import('./parallel-worker.js');
} else {
  const { register: registerHook } = await import('node:module');
  const { register } = await import('tsx/esm/api');
  registerHook('../src/kit-resolve.mjs', import.meta.url);
  register();
  await import('./parallel-worker.ts');
}
