/**
 * Command-line parsing with one clear line for every mistake (exit code 2), never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage or input: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  // `--max-states -5` would otherwise be rejected as "ambiguous"; join it so the value check can
  // say what is wrong with it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (options[name]?.type === 'string' && /^-\d/.test(argv[i + 1] ?? '')) {
      args.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(msg);
  }
}

/** A positive integer option, or undefined when absent. */
export function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  }
  return Number(value);
}
