/**
 * Trace files (`daxcheck check --write` writes them, `daxcheck replay FILE` reads them): the
 * schema (docs/schema/trace.schema.json) through src/input/read.ts, then the replay's own limits.
 * src/replay/ receives only a TraceInput that passed both.
 */
import { termLine } from '../terminal.ts';
import { checkDocument, InputError, parseDocument, readDocument, type DocumentKind } from './read.ts';
import { shown } from '../paths.ts';

/** Limits on input: far above any trace the model makes, far below anything harmful. */
export const LIMITS = { steps: 400, actionsPerStep: 16, eventChars: 120, number: 1 << 20, pagesPerBlock: 256 } as const;

/** A trace as read from a JSON file or produced by `daxcheck check`. */
export interface TraceInput {
  /** Where it came from: a file path or `spec/config`. */
  source: string;
  spec: string;
  config: string;
  property: string;
  kind: string;
  steps: { event: string; actions: { type: string; params: unknown }[] }[];
  /** A lasso's cycle: the steps from this index on repeat forever (Trace.loopStart). */
  loopStart?: number;
}

/** A trace file as its schema describes it (the fields replay reads). */
interface TraceDoc {
  spec: string;
  config: string;
  property?: string;
  kind?: string;
  steps: { event: string; actions: { type: string; params?: Record<string, unknown> | null }[] }[];
  loopStart?: number;
}

export const TRACE: DocumentKind<TraceDoc> = { noun: 'trace', what: 'a daxcheck trace', schema: 'trace', maxBytes: 4 * 1024 * 1024 };

const bad = (source: string, msg: string): never => {
  throw new InputError(termLine(`${source}: ${msg}`));
};

/** Checks a parsed trace document (its schema, then the replay's limits); returns it typed, or throws InputError. */
export function validateTraceDoc(doc: unknown, source: string): TraceInput {
  const d = checkDocument(doc, TRACE, source);
  return limited(d, source);
}

function limited(d: TraceDoc, source: string): TraceInput {
  if (d.steps.length < 1) bad(source, 'the trace has no steps');
  if (d.steps.length > LIMITS.steps) bad(source, `the trace has ${d.steps.length} steps; at most ${LIMITS.steps} are replayed`);
  if (d.loopStart !== undefined && d.loopStart > d.steps.length) bad(source, `loopStart ${d.loopStart} is past the trace's ${d.steps.length} steps`);
  const steps: TraceInput['steps'] = d.steps.map((st, i) => {
    const at = `step ${i + 1}`;
    if (st.actions.length > LIMITS.actionsPerStep) bad(source, `${at}: ${st.actions.length} actions; at most ${LIMITS.actionsPerStep}`);
    return {
      event: st.event,
      actions: st.actions.map((a) => {
        const params = a.params ?? null;
        for (const [k, v] of Object.entries(params ?? {})) {
          if (typeof v === 'number' && !(Number.isInteger(v) && v >= 0 && v <= LIMITS.number)) {
            bad(source, `${at}: ${a.type} parameter ${k} = ${v} is out of range (0..${LIMITS.number})`);
          }
          if (typeof v === 'string' && v.length > 64) bad(source, `${at}: ${a.type} parameter ${k} is too long`);
          if (typeof v === 'object' && v !== null) bad(source, `${at}: ${a.type} parameter ${k} must be a number, string or boolean`);
        }
        return { type: a.type, params };
      }),
    };
  });
  return {
    source,
    spec: d.spec,
    config: d.config,
    property: typeof d.property === 'string' ? d.property.slice(0, 200) : '(no property)',
    kind: typeof d.kind === 'string' ? d.kind : 'trace',
    steps,
    ...(d.loopStart !== undefined ? { loopStart: d.loopStart } : {}),
  };
}

/** Parses a trace file's text; `source` names it in messages. */
export function parseTraceText(text: string, source: string): TraceInput {
  return limited(parseDocument(text, TRACE, source), source);
}

/** Reads a trace file (a regular file of at most 4 MiB, UTF-8 JSON, its schema, the replay's limits). */
export function readTrace(path: string): TraceInput {
  return limited(readDocument(path, TRACE), shown(path));
}
