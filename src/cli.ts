/**
 * The `daxcheck` command: one module per subcommand under src/commands/, each exporting `usage`
 * and `run(argv)`, which returns the exit code. A command's module is loaded only when it runs:
 * start-up pays for what the command needs, not for every command's libraries.
 *
 * Exit codes: 0 every verdict as the manifests expect, 1 something differs (or exploration was
 * cut short), 2 bad usage or input (one line on stderr, never a stack trace).
 */
import { ModelError } from '../checker/bfs.ts';
import { UnsupportedMachineError } from '../checker/xstate/compile.ts';
import { UsageError } from './args.ts';
import { errnoWords } from './input/read.ts';
import { shown } from './paths.ts';
import { termLine, thrownText } from './terminal.ts';
import { commandHelp, EXIT_CODES, version } from './help.ts';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  list: () => import('./commands/list.ts'),
  check: () => import('./commands/check.ts'),
  simulate: () => import('./commands/simulate.ts'),
  merge: () => import('./commands/merge.ts'),
  report: () => import('./commands/report.ts'),
  diff: () => import('./commands/diff.ts'),
  new: () => import('./commands/new.ts'),
  replay: () => import('./commands/replay.ts'),
  explore: () => import('./commands/explore.ts'),
};

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  return `usage:\n${all.map((c) => `  ${c.usage}`).join('\n')}\n\n'daxcheck COMMAND --help' describes a command and every option it takes.\n\n${EXIT_CODES}`;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`daxcheck list | head`) is handled once per process, in bin/daxcheck.mjs.
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`daxcheck ${version()}\n`);
    return 0;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write((await usage()) + '\n');
    return 0;
  }
  // No command is bad usage like any other: one line, exit 2 (help prints the usage).
  if (name === undefined) return failure(new UsageError(`name a command: ${Object.keys(commands).join(', ')} (daxcheck --help shows what each does)`));
  try {
    // `daxcheck help CMD` and `daxcheck CMD --help` (before any `--`) describe one command.
    const asked = name === 'help' ? rest[0] : name;
    const helpWanted = name === 'help' || rest.slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length).some((a) => a === '--help' || a === '-h');
    const load = Object.hasOwn(commands, asked) ? commands[asked] : undefined;
    if (!load) throw new UsageError(`unknown command '${asked}' (try: ${Object.keys(commands).join(', ')}; daxcheck --help)`);
    const command = await load();
    if (helpWanted) {
      process.stdout.write(commandHelp(asked, command.usage));
      return 0;
    }
    return await command.run(rest);
  } catch (err) {
    return failure(err);
  }
}

/** Exit code of an internal error: daxcheck's own bug, not the user's input (sysexits' EX_SOFTWARE). */
export const INTERNAL_ERROR = 70;

/**
 * What a command's error becomes: always one line on stderr, every control character escaped.
 * Bad usage or input, a spec the compiler refuses and a file the system would not let daxcheck
 * read or write are exit code 2; anything else is daxcheck's own bug, exit code 70, with its stack
 * trace only when DAXCHECK_DEBUG=1.
 */
export function failure(err: unknown): number {
  const line = (text: string) => process.stderr.write(`daxcheck: ${termLine(text)}\n`);
  if (err instanceof UsageError || err instanceof UnsupportedMachineError || err instanceof ModelError) {
    line(err.message);
    return 2;
  }
  const sys = err as { code?: unknown; syscall?: unknown; path?: unknown };
  if (err instanceof Error && typeof sys.code === 'string' && typeof sys.syscall === 'string' && typeof sys.path === 'string') {
    line(`cannot ${sys.syscall} ${shown(sys.path)}: ${errnoWords(err)}`);
    return 2;
  }
  if (process.env.DAXCHECK_DEBUG === '1') process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  line(`internal error: ${thrownText(err)} (a daxcheck bug; DAXCHECK_DEBUG=1 prints its stack trace)`);
  return INTERNAL_ERROR;
}
