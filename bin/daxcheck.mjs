#!/usr/bin/env node
// Entry point of the daxcheck CLI: registers the kit's resolve hook, so a spec anywhere on disk can
// `import ... from 'daxcheck'`, and tsx, so TypeScript runs as it is; then hands over. The hook
// goes first: tsx's resolve then runs before it and keeps the ES module format it gives a spec's
// .ts files (src/kit-resolve.mjs).
import { register as registerHook } from 'node:module';
import { register } from 'tsx/esm/api';
registerHook('../src/kit-resolve.mjs', import.meta.url);
register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
