/**
 * The `daxcheck` command: one module per subcommand under src/commands/, each exporting `usage`
 * and `run(argv)`, which returns the exit code.
 *
 * Exit codes: 0 every verdict as the manifests expect, 1 something differs (or exploration was
 * cut short), 2 bad usage or input (one line on stderr, never a stack trace).
 */
import { ModelError } from '../checker/bfs.ts';
import { UnsupportedMachineError } from '../checker/xstate/compile.ts';
import { UsageError } from './args.ts';
import * as check from './commands/check.ts';
import * as diff from './commands/diff.ts';
import * as list from './commands/list.ts';
import * as merge from './commands/merge.ts';
import * as newSpec from './commands/new.ts';
import * as replay from './commands/replay.ts';
import * as report from './commands/report.ts';
import * as simulate from './commands/simulate.ts';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = { list, check, simulate, merge, report, diff, new: newSpec, replay, explore: { usage: 'daxcheck explore SPEC|PATH --config NAME [--out FILE] [--max-states N] [--port N] [--minutes N]', run: async (argv) => (await import('./commands/explore.ts')).run(argv) } };

const USAGE = `usage:\n${Object.values(commands).map((c) => `  ${c.usage}`).join('\n')}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  try {
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command '${name}' (try: ${Object.keys(commands).join(', ')})`);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || err instanceof UnsupportedMachineError || err instanceof ModelError) {
      process.stderr.write(`daxcheck: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
