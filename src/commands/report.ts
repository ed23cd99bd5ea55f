/**
 * `daxcheck report`: checks the specs (as `daxcheck check --write DIR` does) and writes the reports
 * into DIR: the counterexample catalog (DIR/catalog/index.html), the design review
 * (DIR/design-review.md and .html) and the committed verdicts (DIR/verdicts.json). With
 * `--results FILE` it renders an existing results document instead of checking. `npm run report`
 * runs it; its exit code is the check's (0: every verdict as the manifests expect). DIR (--out)
 * is reports/ in the working directory, or, for one spec given by path, reports/ in its folder.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specs } from '../../specs/index.ts';
import { parse, UsageError } from '../args.ts';
import { checkOutputDir, type OutputPlan } from '../output.ts';
import { readResults } from '../report/results.ts';
import { formatChanges } from '../report/verdicts.ts';
import { isSpecPath, loadedFromPaths, specModuleFile } from '../spec-loader.ts';
import * as check from './check.ts';
import { print } from '../terminal.ts';

export const usage = `daxcheck report [spec|PATH...] [--config NAME[,NAME]] [--all-configs] [--max-states N]
                 [--max-memory MB] [--out DIR] [--results FILE]`;

/**
 * Where reports go without --out: reports/ in the working directory for registered specs; for
 * one spec given by path, reports/ in its folder (never the repository's reports/, whose
 * verdicts.json CI compares with); for several, --out must say.
 */
function defaultOut(positionals: string[]): string {
  const paths = positionals.filter(isSpecPath);
  if (!paths.length) return 'reports';
  if (positionals.length === 1) return join(dirname(specModuleFile(paths[0])), 'reports');
  throw new UsageError('with specs given by path, give --out DIR (one spec folder alone reports into its reports/)');
}

/** What a report writes into its folder besides what the check writes there (src/report/index.ts). */
const REPORT_PLAN: OutputPlan = {
  files: ['results.json', 'verdicts.json', 'design-review.md', 'design-review.html'],
  dirs: ['traces', '.cache', join('.cache', 'diagrams')],
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    'all-configs': { type: 'boolean' },
    'max-states': { type: 'string' },
    'max-memory': { type: 'string' },
    out: { type: 'string' },
    results: { type: 'string' },
  });
  const v = values as { config?: string; 'all-configs'?: boolean; 'max-states'?: string; 'max-memory'?: string; out?: string; results?: string };
  const out = v.out ?? defaultOut(positionals);
  // Every file the report writes, checked before anything is checked or rendered.
  checkOutputDir(v.out !== undefined ? '--out' : 'the reports folder', out, REPORT_PLAN);

  let code = 0;
  let resultsPath: string;
  if (v.results !== undefined) {
    if (positionals.length || v.config || v['all-configs'] || v['max-states'] || v['max-memory']) {
      throw new UsageError('--results renders an existing results file; it takes no spec or check options');
    }
    resultsPath = v.results;
    checkOutputDir('--out', out, REPORT_PLAN, true);
  } else {
    const checkArgs = [...positionals, '--write', out];
    if (v.config !== undefined) checkArgs.push('--config', v.config);
    if (v['all-configs']) checkArgs.push('--all-configs');
    if (v['max-states'] !== undefined) checkArgs.push('--max-states', v['max-states']);
    if (v['max-memory'] !== undefined) checkArgs.push('--max-memory', v['max-memory']);
    code = await check.run(checkArgs);
    resultsPath = join(out, 'results.json');
    if (!existsSync(resultsPath)) throw new UsageError(`the check wrote no ${resultsPath}`);
  }

  const doc = readResults(resultsPath);
  const started = performance.now();
  // Loaded here, not at start-up: ts-morph and elkjs take a moment, and other commands need neither.
  const { writeReports } = await import('../report/index.ts');
  // Specs given by path (loaded by the check) render with their own titles and promises.
  const fromPaths = loadedFromPaths().map((s) => s.spec);
  const known = [...specs.filter((s) => !fromPaths.some((p) => p.name === s.name)), ...fromPaths];
  const outcome = await writeReports(out, doc, known);
  const seconds = (performance.now() - started) / 1000;
  const pages = outcome.files.filter((f) => f.startsWith('catalog/') && f.endsWith('.html')).length;
  const lines = [
    `reports written in ${seconds.toFixed(1)} s: ${join(out, 'catalog', 'index.html')} (${pages} pages), ${join(out, 'design-review.md')}, ${join(out, 'design-review.html')}`,
  ];
  const vs = outcome.verdicts;
  if (!vs.written) lines.push(`${join(out, 'verdicts.json')} not updated: ${vs.reason}`);
  else if (vs.created && fromPaths.length) lines.push(`${join(out, 'verdicts.json')} created: \`daxcheck check ${positionals.join(' ')} --baseline ${join(out, 'verdicts.json')}\` compares later runs with it`);
  // Only the repository's reports/verdicts.json is committed and compared by CI; elsewhere say how to use it.
  else if (vs.created && resolve(out) === fileURLToPath(new URL('../../reports', import.meta.url))) lines.push(`${join(out, 'verdicts.json')} created: commit it (CI compares every run with it)`);
  else if (vs.created) lines.push(`${join(out, 'verdicts.json')} created: \`daxcheck check --baseline ${join(out, 'verdicts.json')}\` compares later runs with it`);
  else if (!vs.changes.length) lines.push(`${join(out, 'verdicts.json')}: no verdict changed`);
  else {
    lines.push(`${join(out, 'verdicts.json')} updated, ${vs.changes.length} change(s) (commit it with the change that caused them):`);
    lines.push(...formatChanges(vs.changes).map((l) => `  ${l}`));
  }
  print(lines.join('\n') + '\n');
  return code;
}
