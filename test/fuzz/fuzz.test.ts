/**
 * The fuzz surfaces of fuzz/surfaces.ts, a few dozen inputs each, in this process: random argument
 * vectors, output targets, and mutated traces, verdicts files, results files and manifests, device
 * files and other special paths. Each input must end in exit code 0, 1 or 2 (2 where the input is
 * known to be bad), with one line on stderr for 2, no stack trace, no internal error, no raw
 * control character and no nonsense in what is printed. `npm run fuzz` runs thousands per surface,
 * in this process and as real processes, and prints the table of the README.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge, makeFixtures, PROBLEMS, removeFixtures, runInProcess, SURFACES, type Fixtures, type Input } from '../../fuzz/surfaces.ts';

let f: Fixtures;
beforeAll(async () => {
  f = await makeFixtures();
});
afterAll(() => removeFixtures(f));

/** Inputs per surface: small enough for npm test (a few seconds each); npm run fuzz runs 10,000. */
const RUNS: Record<string, number> = { cli: 60, outputs: 25, traces: 60, baselines: 60, results: 25, manifests: 50, special: 40 };

describe('fuzz: no stack trace, no wrong exit code, on every surface', () => {
  for (const s of SURFACES) {
    it(s.tried, async () => {
      await fc.assert(
        fc.asyncProperty(s.make(f, 'quick'), async (input: Input) => {
          const o = await runInProcess(input, f.cwd);
          const j = judge(input, o);
          const problems = PROBLEMS.filter((p) => j[p]);
          expect(problems, `daxcheck ${JSON.stringify(input.argv)} → exit ${o.code}\n${o.err.slice(0, 2000)}${o.threw ?? ''}`).toEqual([]);
        }),
        { numRuns: RUNS[s.name] ?? 30 },
      );
    });
  }
});
