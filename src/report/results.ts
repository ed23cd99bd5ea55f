/**
 * The document the reports are made from: what `daxcheck check --json` prints and
 * `daxcheck check --write DIR` stores as DIR/results.json. The reports read only this document and
 * the spec registry, so a spec added to specs/index.ts appears in every report without more work.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../args.ts';
import type { ConfigRun, PropertyResult } from '../check.ts';

/** A run of one configuration as the JSON document carries it (its results are listed apart). */
export type RunSummary = Omit<ConfigRun, 'results'> & { asExpected?: boolean };

/**
 * A measured figure (fault cost, issue 3), plotted when present: e.g. journal items committed
 * inside one page fault (y) against the number N of unrelated dirty objects (x), one series per
 * proposal.
 */
export interface Measurement {
  spec: string;
  name: string;
  /** A sentence naming the figure, when the measurement has one. */
  title?: string;
  unit: string;
  xLabel: string;
  series: { label: string; points: { x: number; y: number }[] }[];
}

export interface ResultsDoc {
  interrupted: boolean;
  results: PropertyResult[];
  runs: RunSummary[];
  measurements?: Measurement[];
}

/**
 * Reads and checks the shape of a results document; bad input is a UsageError (exit code 2).
 * Results without a property `id` (documents of a daxcheck before ids, e.g. an old revision's for
 * `daxcheck diff`) are accepted: verdicts are compared by sentence then; the reports refuse them.
 */
export function readResults(path: string): ResultsDoc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the results file ${path}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the results file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return asResults(doc, path);
}

export function asResults(doc: unknown, where: string): ResultsDoc {
  const d = doc as Partial<ResultsDoc> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.results) || !Array.isArray(d.runs)) {
    throw new UsageError(`${where} is not a daxcheck results document (expected { results: [...], runs: [...] })`);
  }
  for (const r of d.results) {
    if (!r || typeof r.spec !== 'string' || typeof r.config !== 'string' || typeof r.property !== 'string' || typeof r.verdict !== 'string') {
      throw new UsageError(`${where}: a result lacks spec, config, property or verdict`);
    }
  }
  for (const r of d.runs) {
    if (!r || typeof r.spec !== 'string' || typeof r.config !== 'string') throw new UsageError(`${where}: a run lacks spec or config`);
  }
  if (d.measurements !== undefined && !Array.isArray(d.measurements)) throw new UsageError(`${where}: measurements must be an array`);
  return { interrupted: !!d.interrupted, results: d.results, runs: d.runs, measurements: d.measurements };
}

/** The results of one configuration, in the order the run listed them (trace files are numbered so). */
export function resultsOf(doc: ResultsDoc, spec: string, config: string): PropertyResult[] {
  return doc.results.filter((r) => r.spec === spec && r.config === config);
}
