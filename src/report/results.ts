/**
 * The document the reports are made from: what `daxcheck check --json` prints and
 * `daxcheck check --write DIR` stores as DIR/results.json. The reports read only this document and
 * the spec registry, so a spec added to specs/index.ts appears in every report without more work.
 */
import { resultsKind } from '../input/documents.ts';
import { checkDocument, InputError, parseDocument, readDocument } from '../input/read.ts';
import { TRACE } from '../input/trace.ts';
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
  /** RESULTS_FORMAT (src/check.ts); absent in documents of a daxcheck before it was versioned. */
  format?: string;
  interrupted: boolean;
  /** The document is one trace file (its run was not a search: not necessarily the shortest). */
  traceFile?: boolean;
  results: PropertyResult[];
  runs: RunSummary[];
  measurements?: Measurement[];
}

/**
 * Reads a results document through the input layer (src/input/: a regular file within its size
 * cap, JSON, docs/schema/results.schema.json, no run listed twice, no result without its run); bad
 * input is an InputError (exit code 2). Results without a property `id` (documents of a daxcheck
 * before ids, e.g. an old revision's for `daxcheck diff`) are accepted: verdicts are compared by
 * sentence then; the reports refuse them.
 */
export function readResults(path: string): ResultsDoc {
  try {
    return normalized(readDocument(path, resultsKind()));
  } catch (err) {
    // A trace file (check --write, or saved by explore) is read as a results document of one
    // result, once it passes the trace schema; anything else keeps the results file's message.
    if (!(err instanceof InputError)) throw err;
    let trace: unknown;
    try {
      trace = readDocument(path, TRACE);
    } catch {
      throw err;
    }
    const t = traceFileOf(trace);
    if (!t) throw err;
    return t;
  }
}

/** Checks a parsed results document as readResults does; `where` names it in messages. */
export function asResults(doc: unknown, where: string): ResultsDoc {
  const t = traceFileOf(doc);
  if (t) return t;
  return normalized(checkDocument(doc, resultsKind(), where));
}

/** Parses and checks a results document's text (another process's output); `where` names it in messages. */
export function parseResults(text: string, where: string): ResultsDoc {
  return normalized(parseDocument(text, resultsKind(), where));
}

function normalized(d: ResultsDoc): ResultsDoc {
  return { interrupted: d.interrupted ?? false, results: d.results, runs: d.runs, measurements: d.measurements ?? [] };
}

/** The results of one configuration, in the order the run listed them (trace files are numbered so). */
export function resultsOf(doc: ResultsDoc, spec: string, config: string): PropertyResult[] {
  return doc.results.filter((r) => r.spec === spec && r.config === config);
}

/**
 * A trace file (what `daxcheck check --write` writes per trace, and `daxcheck explore` saves) as
 * a results document of one result, so `report --results TRACE.json` renders its page; null when
 * the document is not one.
 */
export function traceFileOf(doc: unknown): ResultsDoc | null {
  const d = doc as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || 'results' in d || !Array.isArray(d.steps) || typeof d.spec !== 'string' || typeof d.config !== 'string') return null;
  if (!d.initialState || typeof d.initialState !== 'object') return null;
  const kinds = ['always', 'sometimes', 'deadlock', 'leads-to'];
  const verdicts = ['holds', 'violated', 'reachable', 'unreachable', 'unknown'];
  const kind = (typeof d.kind === 'string' && kinds.includes(d.kind) ? d.kind : 'sometimes') as PropertyResult['kind'];
  const verdict = (typeof d.verdict === 'string' && verdicts.includes(d.verdict) ? d.verdict : 'reachable') as PropertyResult['verdict'];
  const steps = d.steps as unknown[];
  const { spec, config, id, property, kind: _k, verdict: _v, ...trace } = d;
  const result: PropertyResult = {
    spec: spec as string,
    config: config as string,
    id: typeof id === 'string' && id ? id : 'path',
    property: typeof property === 'string' ? property : 'a path',
    kind,
    verdict,
    expected: verdict,
    states: 0,
    transitions: 0,
    depth: steps.length,
    seconds: 0,
    trace: trace as unknown as PropertyResult['trace'],
  };
  const run = {
    spec: result.spec,
    config: result.config,
    description: 'one trace file',
    complete: true,
    stopReason: null,
    states: 0,
    transitions: 0,
    depth: steps.length,
    seconds: 0,
    asExpected: true,
  } as unknown as RunSummary;
  return { interrupted: false, traceFile: true, results: [result], runs: [run] };
}
