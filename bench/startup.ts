/**
 * Start-up of the CLI, as a user meets it: the wall time of fresh `node bin/daxcheck.mjs`
 * processes, the median of several, for
 *  - `check baseline --config trusting` (133 states, 0.03 s of exploring: nearly all of it is
 *    start-up) from the compiled dist/, and the same from the TypeScript sources through tsx
 *    (DAXCHECK_FROM_SOURCE=1: what every call cost before dist/);
 *  - `help` (loads every command's module).
 *
 * `npm run bench` includes it; `npm run bench:startup [-- --runs N] [-- --json]` runs only this.
 * Exit 1 when dist/ is not in step with the sources (`npm run build`) or a run fails.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distStatus } from '../bin/dist-status.mjs';

const bin = join(import.meta.dirname, '..', 'bin', 'daxcheck.mjs');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall seconds of `runs` fresh processes running `args`; throws if one fails. */
function wall(args: string[], runs: number, env: Record<string, string> = {}): { median: number; min: number; max: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    times.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`daxcheck ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return { median: round(median(times)), min: round(Math.min(...times)), max: round(Math.max(...times)) };
}

export function startup(runs = 7) {
  const status = distStatus();
  if (!status.fresh) throw new Error(`dist/ is not in step with the sources (${status.reason}): npm run build`);
  const check = ['check', 'baseline', '--config', 'trusting'];
  return {
    runs,
    check: wall(check, runs),
    checkFromSources: wall(check, runs, { DAXCHECK_FROM_SOURCE: '1' }),
    help: wall(['help'], runs),
  };
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, json: { type: 'boolean' } } });
  try {
    const r = startup(Number(values.runs));
    if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      process.stdout.write(
        `start-up (median of ${r.runs} processes, wall time): check baseline --config trusting ${r.check.median} s from dist/ ` +
          `(${r.check.min} to ${r.check.max}), ${r.checkFromSources.median} s from the sources through tsx; help ${r.help.median} s\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
