/**
 * Traces in the Informal Trace Format (ITF) that Apalache and Quint read and write
 * (https://apalache-mc.org/docs/adr/015adr-trace.html), so that their tools (the ITF trace viewer,
 * Quint's model-based testing drivers, the itf crate) can read a daxcheck counterexample or witness.
 *
 * A daxcheck trace's state is the renderer's named fields (`trace.initialState`, updated by each
 * step's `changes`). In ITF:
 *  - `vars` are the field names, in the renderer's order (then fields that appear only later);
 *  - `states[0]` is the initial state and `states[k]` the state after step k, each with
 *    `#meta: { index, action, actor, text }` (`action` is the step's event, `"init"` for state 0,
 *    as Quint names the initial action);
 *  - a field is typed by all its values in the trace: `Int` when each is a whole number (written
 *    `{ "#bigint": "12" }`), `Bool` when each is true or false, else `Str` (JSON strings). The top
 *    `#meta.varTypes` says which, as Apalache's traces do;
 *  - a field a state does not have yet (a block's leaf before it is allocated) is
 *    `{ "#unserializable": "absent" }`, since ITF wants every variable in every state.
 *
 * `readItf` / `parseItf` read such a file back through the input layer (docs/schema/itf.schema.json);
 * `itfValues` turns its states back into daxcheck's field strings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PropertyResult } from './check.ts';
import { InputError, jsonPath, parseDocument, readDocument, type DocumentKind } from './input/read.ts';
import { makeDirs, type OutputPlan } from './output.ts';
import { termLine } from './terminal.ts';
import { statesOf, type Trace } from './trace.ts';

export const ITF_FORMAT_DESCRIPTION = 'https://apalache-mc.org/docs/adr/015adr-trace.html';
/** The value of a field a state does not have. */
const ABSENT = { '#unserializable': 'absent' } as const;

export type ItfValue = boolean | string | number | ItfValue[] | { [key: string]: ItfValue };
export interface ItfState {
  '#meta'?: { index?: number; action?: string; actor?: string; text?: string; [key: string]: unknown };
  [variable: string]: ItfValue | ItfState['#meta'];
}
export interface ItfTrace {
  '#meta'?: Record<string, unknown>;
  params?: string[];
  vars: string[];
  states: ItfState[];
  loop?: number;
}

type VarType = 'Int' | 'Bool' | 'Str';
const WHOLE = /^(0|-?[1-9]\d*)$/;


/** The state variables: the initial state's fields, then those that appear only in changes. */
function varsOf(trace: Trace): string[] {
  const vars = Object.keys(trace.initialState);
  const seen = new Set(vars);
  for (const s of trace.steps) for (const c of s.changes) if (!seen.has(c.field)) (seen.add(c.field), vars.push(c.field));
  return vars;
}

function encode(value: string | undefined, type: VarType): ItfValue {
  if (value === undefined) return ABSENT;
  if (type === 'Int') return { '#bigint': value };
  if (type === 'Bool') return value === 'true';
  return value;
}

/** The ITF form of a result's trace. */
export function toItf(r: Pick<PropertyResult, 'spec' | 'config' | 'id' | 'property' | 'kind' | 'verdict'> & { trace: Trace }): ItfTrace {
  const { trace } = r;
  const vars = varsOf(trace);
  const states = statesOf(trace);
  const types = Object.fromEntries(
    vars.map((v): [string, VarType] => {
      const values = states.map((s) => s[v]).filter((x): x is string => x !== undefined);
      return [v, values.every((x) => WHOLE.test(x)) ? 'Int' : values.every((x) => x === 'true' || x === 'false') ? 'Bool' : 'Str'];
    }),
  );
  const what = r.kind === 'sometimes' ? 'a witness' : 'a counterexample';
  return {
    '#meta': {
      format: 'ITF',
      'format-description': ITF_FORMAT_DESCRIPTION,
      source: `${r.spec}/${r.config}`,
      description: `daxcheck: ${what} (${r.verdict}) of property '${r.id}' of ${r.spec}/${r.config}: ${r.property}`,
      generator: 'daxcheck',
      spec: r.spec,
      config: r.config,
      id: r.id,
      property: r.property,
      kind: r.kind,
      verdict: r.verdict,
      varTypes: types,
      ...(trace.durableAfterCrash ? { durableAfterCrash: trace.durableAfterCrash } : {}),
      ...(trace.waits ? { waits: trace.waits } : {}),
    },
    vars,
    // A lasso (liveness) is ITF's `loop`: states[0 .. loop) then states[loop ..] forever. The
    // trace's last state equals the one the cycle starts from, so it is left out (the last step
    // leads back to states[loop]); a run that stops repeats its last state.
    states: (trace.loopStart !== undefined && trace.loopStart < trace.steps.length ? states.slice(0, -1) : states).map((s, k) => {
      const step = k > 0 ? trace.steps[k - 1] : null;
      const meta = step ? { index: k, action: step.event, actor: step.actor, text: step.text } : { index: 0, action: 'init' };
      return { '#meta': meta, ...Object.fromEntries(vars.map((v) => [v, encode(s[v], types[v])])) };
    }),
    ...(trace.loopStart !== undefined ? { loop: trace.loopStart } : {}),
  };
}

/** The ITF file of a result: DIR/<spec>/<config>/<property id>.itf.json. */
export const itfFile = (spec: string, config: string, id: string) => join(spec, config, `${id}.itf.json`);

/** What `check --itf DIR` writes, for the output check before exploring (src/output.ts). */
export function itfPlan(properties: { spec: string; config: string; ids: string[] }[]): OutputPlan {
  return {
    files: properties.flatMap((p) => p.ids.map((id) => itfFile(p.spec, p.config, id))),
    dirs: [...new Set(properties.flatMap((p) => [p.spec, join(p.spec, p.config)]))],
  };
}

/** Writes each result's trace as DIR/<spec>/<config>/<id>.itf.json; returns the files written (relative to DIR). */
export function writeItfFiles(dir: string, runs: { results: PropertyResult[] }[]): string[] {
  const written: string[] = [];
  for (const run of runs) {
    for (const r of run.results) {
      if (!r.trace) continue;
      const rel = itfFile(r.spec, r.config, r.id);
      makeDirs(join(dir, r.spec, r.config));
      writeFileSync(join(dir, rel), JSON.stringify(toItf({ ...r, trace: r.trace }), null, 2) + '\n');
      written.push(rel);
    }
  }
  return written;
}

/** An ITF trace file, read through the input layer (docs/schema/itf.schema.json). */
const ITF: DocumentKind<ItfTrace> = {
  noun: 'ITF trace',
  what: 'an ITF trace',
  schema: 'itf',
  maxBytes: 16 * 1024 * 1024,
  check(doc, fail) {
    const vars = new Set(doc.vars);
    doc.states.forEach((s, i) => {
      for (const v of doc.vars) if (!(v in s)) fail(['states', i, v], `missing: expected a value of each variable in $.vars`);
      for (const k of Object.keys(s)) if (k !== '#meta' && !vars.has(k)) fail(['states', i, k], `a variable $.vars does not list`);
    });
    if (doc.loop !== undefined && doc.loop >= doc.states.length) fail(['loop'], `expected the index of a state (fewer than ${doc.states.length}), got ${doc.loop}`);
  },
};

/** Reads an ITF trace file (Apalache's, Quint's or daxcheck's). Bad input is an InputError (exit code 2). */
export function readItf(path: string): ItfTrace {
  return readDocument(path, ITF);
}

/** Parses an ITF trace's text; `where` names it in messages. */
export function parseItf(text: string, where = 'the ITF trace'): ItfTrace {
  return parseDocument(text, ITF, where);
}

/** An ITF value as daxcheck writes a field: a string; undefined for an absent field. */
function decode(v: unknown, path: (string | number)[]): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o['#bigint'] === 'string' && WHOLE.test(o['#bigint'])) return o['#bigint'];
    if (keys.length === 1 && o['#unserializable'] === 'absent') return undefined;
  }
  throw new InputError(termLine(`at ${jsonPath(path)}: not a value a daxcheck field holds (a string, a whole number, true or false)`));
}

/** The states of an ITF trace as daxcheck's fields (each value a string), state 0 first. */
export function itfValues(itf: ItfTrace): Record<string, string>[] {
  return itf.states.map((s, i) => {
    const out: Record<string, string> = {};
    for (const v of itf.vars) {
      const x = decode(s[v], ['states', i, v]);
      if (x !== undefined) out[v] = x;
    }
    return out;
  });
}
