/**
 * Interop (issue 12 point 7): `check --itf DIR` writes every trace in the Informal Trace Format
 * that Apalache and Quint use, and they read back to the trace's own states; `check --json`
 * carries its format version and is valid against docs/schema/results.schema.json (ajv).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_FORMAT } from '../../src/check.ts';
import { InputError } from '../../src/input/read.ts';
import { validatorFor } from '../../src/input/schema.ts';
import { itfValues, parseItf, readItf } from '../../src/itf.ts';
import { parseResults } from '../../src/report/results.ts';
import { statesOf, type Trace } from '../../src/trace.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');
const schemaDir = join(import.meta.dirname, '../../docs/schema');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

type TraceFile = Trace & { spec: string; config: string; id: string; property: string; kind: string; verdict: string };

describe('check --itf DIR and check --json (baseline --config trusting)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxcheck-itf-'));
  const itfDir = join(dir, 'itf');
  const writeDir = join(dir, 'write');
  let json: unknown;
  let traces: TraceFile[];

  beforeAll(() => {
    const r = run(['check', 'baseline', '--config', 'trusting', '--json', '--itf', itfDir, '--write', writeDir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    json = JSON.parse(r.out);
    const td = join(writeDir, 'traces', 'baseline', 'trusting');
    traces = readdirSync(td)
      .sort()
      .map((f) => JSON.parse(readFileSync(join(td, f), 'utf8')) as TraceFile);
  });

  it('writes one ITF file per trace, under DIR/<spec>/<config>/<id>.itf.json', () => {
    expect(traces.length).toBeGreaterThan(0);
    const files = readdirSync(join(itfDir, 'baseline', 'trusting')).sort();
    expect(files).toEqual(traces.map((t) => `${t.id}.itf.json`).sort());
  });

  it('each ITF trace reads back to the trace: one state per step plus the initial one, the vars, every value, the action of each step', () => {
    for (const t of traces) {
      const itf = readItf(join(itfDir, 'baseline', 'trusting', `${t.id}.itf.json`));
      const meta = itf['#meta']!;
      expect(meta.format).toBe('ITF');
      expect(meta['format-description']).toBe('https://apalache-mc.org/docs/adr/015adr-trace.html');
      expect([meta.spec, meta.config, meta.id, meta.property, meta.verdict]).toEqual([t.spec, t.config, t.id, t.property, t.verdict]);

      expect(itf.states).toHaveLength(t.steps.length + 1);
      const fields = [...new Set([...Object.keys(t.initialState), ...t.steps.flatMap((s) => s.changes.map((c) => c.field))])];
      expect(itf.vars).toEqual(fields);

      const expected = statesOf(t);
      expect(itfValues(itf)).toEqual(expected);
      itf.states.forEach((s, k) => {
        expect(s['#meta']!.index).toBe(k);
        expect(s['#meta']!.action).toBe(k === 0 ? 'init' : t.steps[k - 1].event);
        if (k > 0) expect(s['#meta']!.text).toBe(t.steps[k - 1].text);
      });
    }
  });

  it('writes ITF values: whole numbers as #bigint, other fields as strings, one type per variable (#meta.varTypes)', () => {
    const itf = readItf(join(itfDir, 'baseline', 'trusting', `${traces[0].id}.itf.json`));
    const types = itf['#meta']!.varTypes as Record<string, string>;
    expect(Object.keys(types)).toEqual(itf.vars);
    // baseline's i_size is a number of bytes; its block fields are words ("hole", ...).
    expect(types.i_size).toBe('Int');
    expect(itf.states[0].i_size).toEqual({ '#bigint': traces[0].initialState.i_size });
    expect(types['block 0']).toBe('Str');
    for (const s of itf.states) {
      for (const v of itf.vars) {
        const x = s[v];
        if (types[v] === 'Int') expect(x).toEqual({ '#bigint': expect.stringMatching(/^(0|-?[1-9]\d*)$/) });
        else if (types[v] === 'Bool') expect(typeof x).toBe('boolean');
        else expect(typeof x).toBe('string');
      }
    }
  });

  it('check --json carries the results format and is valid against docs/schema/results.schema.json', () => {
    expect((json as { format: string }).format).toBe(RESULTS_FORMAT);
    expect(validatorFor('results')(structuredClone(json))).toBeNull();
    // The same with a fresh ajv that also checks the schemas themselves against draft 2020-12.
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020.js') as new (o: object) => {
      addSchema(s: object): void;
      getSchema(id: string): ((d: unknown) => boolean) & { errors?: unknown };
    };
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateSchema: true, allErrors: true });
    for (const f of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, f), 'utf8')));
    const results = ajv.getSchema('https://daxcheck.invalid/schema/results.schema.json');
    expect(results(json), JSON.stringify(results.errors)).toBe(true);
    const itf = ajv.getSchema('https://daxcheck.invalid/schema/itf.schema.json');
    const one = JSON.parse(readFileSync(join(itfDir, 'baseline', 'trusting', `${traces[0].id}.itf.json`), 'utf8'));
    expect(itf(one), JSON.stringify(itf.errors)).toBe(true);
    // results.json (check --write) is the same document.
    const written = JSON.parse(readFileSync(join(writeDir, 'results.json'), 'utf8'));
    expect(written.format).toBe(RESULTS_FORMAT);
    expect(results(written), JSON.stringify(results.errors)).toBe(true);
  });

  it('the results reader accepts this format and documents from before it, and refuses another', () => {
    const text = JSON.stringify(json);
    expect(parseResults(text, 'here').results.length).toBeGreaterThan(0);
    const { format: _f, ...unversioned } = json as Record<string, unknown>;
    expect(parseResults(JSON.stringify(unversioned), 'here').runs).toHaveLength(1);
    expect(() => parseResults(JSON.stringify({ ...(json as object), format: 'daxcheck-results/9' }), 'the results file r.json')).toThrow(
      /the results file r\.json is not a daxcheck results document: at \$\.format, expected "daxcheck-results\/1"/,
    );
  });
});

describe('the ITF reader', () => {
  it("reads an ITF trace as Quint writes one (plain numbers, #bigint, booleans, no daxcheck #meta)", () => {
    const quint = { vars: ['x', 'y', 'z'], states: [{ '#meta': { index: 0 }, x: { '#bigint': '2' }, y: true, z: 'a' }, { '#meta': { index: 1 }, x: 3, y: false, z: 'b' }] };
    const itf = parseItf(JSON.stringify(quint));
    expect(itfValues(itf)).toEqual([
      { x: '2', y: 'true', z: 'a' },
      { x: '3', y: 'false', z: 'b' },
    ]);
  });

  it('refuses a state without a variable, an unlisted variable, and what is not ITF, with the JSON path', () => {
    const bad: [unknown, RegExp][] = [
      [{ vars: ['x'], states: [{ '#meta': { index: 0 } }] }, /at \$\.states\[0\]\.x, missing/],
      [{ vars: ['x'], states: [{ x: 1, y: 2 }] }, /at \$\.states\[0\]\.y, a variable \$\.vars does not list/],
      [{ vars: ['x'], states: [{ x: null }] }, /at \$\.states\[0\]\.x/],
      [{ states: [] }, /at \$\.vars, missing/],
      [{ vars: ['x'], states: [{ x: { '#bigint': '1.5' } }] }, /\$\.states\[0\]\.x\["#bigint"\]/],
    ];
    for (const [doc, message] of bad) {
      let err: unknown;
      try {
        parseItf(JSON.stringify(doc), 'the ITF trace t.itf.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/^the ITF trace t\.itf\.json is not an ITF trace: /);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('check --itf to a file is one line and exit 2, before exploring', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-itf-'));
    const file = join(dir, 'f');
    writeFileSync(file, '');
    const r = run(['check', 'baseline', '--config', 'trusting', '--itf', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^daxcheck: --itf .* is a file, not a folder\n$/);
    expect(r.out).toBe('');
  });
});
