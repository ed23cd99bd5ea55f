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

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  list: () => import('./commands/list.ts'),
  check: () => import('./commands/check.ts'),
  report: () => import('./commands/report.ts'),
  diff: () => import('./commands/diff.ts'),
  new: () => import('./commands/new.ts'),
  replay: () => import('./commands/replay.ts'),
};

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  return `usage:\n${all.map((c) => `  ${c.usage}`).join('\n')}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write((await usage()) + '\n');
    return name === undefined ? 2 : 0;
  }
  try {
    const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!load) throw new UsageError(`unknown command '${name}' (try: ${Object.keys(commands).join(', ')})`);
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError || err instanceof UnsupportedMachineError || err instanceof ModelError) {
      process.stderr.write(`daxcheck: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
