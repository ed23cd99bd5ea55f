/**
 * Command-line parsing with one clear line for every mistake (exit code 2), never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage or input: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
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
