/**
 * `daxcheck check --baseline FILE`: compares a run with a committed verdicts file
 * (reports/verdicts.json) and says what changed: a verdict, a trace length, a state or transition
 * count, a configuration added or gone. Any difference fails the check, so a spec change that
 * flips a verdict cannot land silently; an intended one is recorded by regenerating the file
 * (`npm run report`) and committing it with the change.
 */
import type { AnySpec } from '../../specs/common/spec.ts';
import type { ResultsDoc } from './results.ts';
import { compareVerdicts, formatChanges, verdictsOf, type VerdictChange, type VerdictsFile } from './verdicts.ts';

export interface BaselineOutcome {
  ok: boolean;
  changes: VerdictChange[];
  /** What to print, one line each. */
  lines: string[];
}

/**
 * Compares the configurations run with the baseline. `fullDefaultRun` says the run was the default
 * selection (no spec names, no --config, no --all-configs): then a baseline entry for a default
 * configuration that was not run, or for one the registry no longer has, counts as removed.
 */
export function checkBaseline(path: string, baseline: VerdictsFile, doc: ResultsDoc, specs: AnySpec[], fullDefaultRun: boolean): BaselineOutcome {
  const expectedToRun = (spec: string, config: string) => {
    if (!fullDefaultRun) return false;
    const c = specs.find((s) => s.name === spec)?.configs.find((x: { name: string }) => x.name === config);
    return !c || c.default === true;
  };
  const changes = compareVerdicts(baseline.runs, verdictsOf(doc), expectedToRun);
  const n = doc.runs.length;
  if (!changes.length) {
    return { ok: true, changes, lines: [`baseline ${path}: no verdict, trace length or state count changed (${n} configuration(s) compared)`] };
  }
  return {
    ok: false,
    changes,
    lines: [
      `baseline ${path}: ${changes.length} difference(s):`,
      ...formatChanges(changes).map((l) => `  ${l}`),
      `If the change is intended, regenerate the baseline with \`npm run report\` and commit ${path} with it.`,
    ],
  };
}
