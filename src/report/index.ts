/**
 * Writes every report from a results document: the catalog (reports/catalog/), the design review
 * (reports/design-review.md and .html) and the committed verdicts (reports/verdicts.json).
 *
 * Deterministic: the same results give the same bytes, whatever the run's timing, except
 * catalog/timings.js, which holds the wall-clock seconds and nothing else.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../output.ts';
import { InputError } from '../input/read.ts';
import { dirname, join } from 'node:path';
import type { AnySpec } from '../../specs/common/spec.ts';
import { indexPage, machinePages, timingsFile, tracePages, type ReportFile } from './catalog.ts';
import { makeContext, type ContextOptions } from './context.ts';
import { pruneDiagramCache } from './diagram.ts';
import type { ResultsDoc } from './results.ts';
import { reviewFiles } from './review.ts';
import {
  compareVerdicts,
  mergeVerdicts,
  readVerdicts,
  serializeVerdicts,
  verdictsOf,
  type VerdictChange,
  type VerdictsFile,
} from './verdicts.ts';

export interface ReportOutcome {
  /** Paths written, relative to the report directory. */
  files: string[];
  /** Whether verdicts.json was (re)written, and why not when it was not. */
  verdicts: { written: boolean; created: boolean; reason: string | null; changes: VerdictChange[] };
}

/** Every report file for a results document (without verdicts.json). */
export async function renderReports(doc: ResultsDoc, specs: AnySpec[], options: ContextOptions = {}): Promise<ReportFile[]> {
  const ctx = makeContext(doc, specs, options);
  return [indexPage(ctx), timingsFile(doc.runs), ...tracePages(ctx), ...(await machinePages(ctx)), ...reviewFiles(ctx)];
}

/** The verdicts file after this run, merged with the previous one (configurations not run are kept). */
export function nextVerdicts(doc: ResultsDoc, specs: AnySpec[], previous: VerdictsFile | null): VerdictsFile {
  const exists = (spec: string, config: string) => !!specs.find((s) => s.name === spec)?.configs.some((c: { name: string }) => c.name === config);
  const order = (spec: string, config: string) => {
    const si = specs.findIndex((s) => s.name === spec);
    const ci = si < 0 ? -1 : specs[si].configs.findIndex((c: { name: string }) => c.name === config);
    return (si < 0 ? specs.length : si) * 100000 + (ci < 0 ? 99999 : ci);
  };
  return mergeVerdicts(previous, verdictsOf(doc), exists, order);
}

/** The verdicts file the reports replace, if there is one and it is one (anything else is written anew). */
function readPrevious(path: string): VerdictsFile | null {
  if (!existsSync(path)) return null;
  try {
    return readVerdicts(path, 'verdicts file');
  } catch (err) {
    if (err instanceof InputError) return null;
    throw err;
  }
}

/** Writes the reports into `dir` (the catalog is rebuilt from scratch). */
export async function writeReports(dir: string, doc: ResultsDoc, specs: AnySpec[], options: ContextOptions = {}): Promise<ReportOutcome> {
  const cacheDir = join(dir, '.cache', 'diagrams');
  const files = await renderReports(doc, specs, { cacheDir, ...options });
  if (options.cacheDir === undefined) pruneDiagramCache(cacheDir);
  rmSync(join(dir, 'catalog'), { recursive: true, force: true });
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) if (/^design-review-figure-\d+\.svg$/.test(f)) rmSync(join(dir, f));
  }
  for (const f of files) {
    const p = join(dir, f.path);
    makeDirs(dirname(p));
    writeFileSync(p, f.content);
  }
  const written = files.map((f) => f.path);

  const vpath = join(dir, 'verdicts.json');
  const previous = readPrevious(vpath);
  const incomplete = doc.runs.filter((r) => !r.complete).map((r) => `${r.spec}/${r.config}`);
  let reason: string | null = null;
  if (doc.traceFile) reason = 'the results are one trace file, not a check';
  else if (doc.interrupted) reason = 'the run was interrupted';
  else if (incomplete.length) reason = `exploration was cut short (${incomplete.join(', ')})`;
  else if (!doc.runs.length) reason = 'no configuration was run';
  let changes: VerdictChange[] = [];
  if (reason === null) {
    const next = nextVerdicts(doc, specs, previous);
    changes = previous ? compareVerdicts(previous.runs, verdictsOf(doc)) : [];
    writeFileSync(vpath, serializeVerdicts(next));
    written.push('verdicts.json');
  }
  return { files: written, verdicts: { written: reason === null, created: reason === null && previous === null, reason, changes } };
}
