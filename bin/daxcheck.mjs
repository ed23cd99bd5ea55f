#!/usr/bin/env node
// Entry point of the daxcheck CLI.
//
// First of all, Ctrl-C: until a command takes it over (check: stop exploring and report what was
// found), an interrupt ends the process with one line and exit code 130, even during start-up.
//
// Then the CLI itself: the compiled JavaScript in dist/ (npm run build; npm install builds it)
// when dist/ is in step with the sources (bin/dist-status.mjs), else the TypeScript sources through
// tsx, with a note on a terminal. From the sources, the kit's resolve hook is registered before
// tsx, so a spec anywhere on disk can `import ... from 'daxcheck'`: tsx's resolve then runs before
// it and keeps the ES module format it gives a spec's .ts files (src/kit-resolve.mjs). From dist/,
// src/ts-loader.ts registers both only when a spec is loaded from a path.
//
// Whatever goes wrong is one line on stderr, never a stack trace (src/cli.ts `failure`).
const SIGINT_OWNER = Symbol.for('daxcheck.sigint-owner');
process.on('SIGINT', () => {
  if (globalThis[SIGINT_OWNER]) return;
  process.stderr.write('\ndaxcheck: interrupted\n');
  process.exit(130);
});

let cli = null;
/** Before the CLI is loaded there is no `failure` to ask: the same line, by hand. */
function fatal(err) {
  if (cli) return cli.failure(err);
  if (process.env.DAXCHECK_DEBUG === '1') process.stderr.write(`${err?.stack ?? err}\n`);
  const first = String(err?.message ?? err).split('\n')[0].replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  process.stderr.write(`daxcheck: internal error: ${first} (a daxcheck bug; DAXCHECK_DEBUG=1 prints its stack trace)\n`);
  return 70;
}
process.on('uncaughtException', (err) => process.exit(fatal(err)));
process.on('unhandledRejection', (err) => process.exit(fatal(err)));
// `daxcheck list | head -1`: once the reader has gone, what is left to print is dropped and the
// command finishes with its own exit code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err?.code !== 'EPIPE') process.exit(fatal(err));
  });
}

const { distStatus } = await import('./dist-status.mjs');
const status = process.env.DAXCHECK_FROM_SOURCE === '1' ? { fresh: false, reason: 'DAXCHECK_FROM_SOURCE=1' } : distStatus();
if (status.fresh) cli = await import('../dist/src/cli.js');
else {
  if (process.stderr.isTTY && process.env.DAXCHECK_FROM_SOURCE !== '1') {
    process.stderr.write(`daxcheck: note: running from the TypeScript sources, a slower start (${status.reason}; npm run build compiles them)\n`);
  }
  const { register: registerHook } = await import('node:module');
  const { register } = await import('tsx/esm/api');
  registerHook('../src/kit-resolve.mjs', import.meta.url);
  register();
  cli = await import('../src/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
