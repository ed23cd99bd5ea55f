// Starts a parallel-explorer worker: registers the kit's resolve hook (a spec loaded from a path
// imports 'daxcheck') and tsx in this thread, in bin/daxcheck.mjs's order, then loads the
// TypeScript worker.
import { register as registerHook } from 'node:module';
import { register } from 'tsx/esm/api';
registerHook('../src/kit-resolve.mjs', import.meta.url);
register();
await import('./parallel-worker.ts');
