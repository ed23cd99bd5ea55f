/**
 * Ctrl-C while a command explores: the first stops the exploration and the command reports what it
 * found; a second quits at once (exit code 130). While a command holds it, bin/daxcheck.mjs's own
 * start-up handler (one line, exit 130) stands aside.
 */
const SIGINT_OWNER = Symbol.for('daxcheck.sigint-owner');

export interface Interrupt {
  /** Has Ctrl-C been pressed since `takeCtrlC`? */
  readonly interrupted: boolean;
  /** Gives Ctrl-C back to the start-up handler. */
  release(): void;
}

export function takeCtrlC(): Interrupt {
  const owner = globalThis as { [SIGINT_OWNER]?: boolean };
  const state = {
    interrupted: false,
    release() {
      process.off('SIGINT', onSigint);
      owner[SIGINT_OWNER] = false;
    },
  };
  const onSigint = () => {
    if (state.interrupted) process.exit(130);
    state.interrupted = true;
    process.stderr.write('\ndaxcheck: interrupted, reporting what was found (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  owner[SIGINT_OWNER] = true;
  return state;
}
