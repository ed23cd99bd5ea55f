/**
 * The JSON Schemas of daxcheck's documents (docs/schema/*.schema.json, draft 2020-12) as
 * validators, and a validator's first error turned into a JSON path and what was expected there.
 * src/input/read.ts applies them to every document the tool reads.
 *
 * Compiling the schemas with ajv costs about half a second, so the build (scripts/build.mjs)
 * compiles them once into dist/src/input/validators.cjs (ajv's standalone code); the CLI running
 * from dist/ loads that file, and from the sources (tests, the TypeScript fallback) ajv compiles
 * them on first use. Both come from `makeAjv`, with the same options.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { COMPILED, repoPath } from '../paths.ts';

export type SchemaName = 'verdicts' | 'results' | 'trace' | 'manifest' | 'manifests' | 'itf';
export const SCHEMA_NAMES: SchemaName[] = ['verdicts', 'results', 'trace', 'manifest', 'manifests', 'itf'];
const FILES = ['defs', 'manifest', 'verdicts', 'results', 'trace', 'manifests', 'itf'];
const BASE = 'https://daxcheck.invalid/schema/';
const STANDALONE = new URL('./validators.cjs', import.meta.url);

type Json = Record<string, unknown>;
type Validate = ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

const require = createRequire(import.meta.url);
let documents: Map<string, Json> | null = null;
const compiled = new Map<SchemaName, (doc: unknown) => SchemaProblem | null>();

export interface SchemaProblem {
  path: (string | number)[];
  /** What was wrong there: "expected a verdict: ..., got null". */
  message: string;
}

/** The schema documents by file name (`defs.schema.json`). */
function schemaDocuments(): Map<string, Json> {
  documents ??= new Map(FILES.map((f) => [`${f}.schema.json`, JSON.parse(readFileSync(repoPath(`docs/schema/${f}.schema.json`), 'utf8')) as Json]));
  return documents;
}

/** ajv (its 2020-12 build) with every schema added; `source` keeps the code for standaloneSource. */
function makeAjv(source: boolean) {
  const Ajv2020 = require('ajv/dist/2020.js') as new (options: object) => { addSchema(schema: object): void; getSchema(id: string): Validate | undefined };
  const ajv = new Ajv2020({ allErrors: false, useDefaults: true, allowUnionTypes: true, strict: true, validateSchema: false, code: { source } });
  for (const doc of schemaDocuments().values()) ajv.addSchema(doc);
  return ajv;
}

/** The standalone validators module (CommonJS) the build writes to dist/src/input/validators.cjs. */
export function standaloneSource(): string {
  const standalone = require('ajv/dist/standalone/index.js').default as (ajv: unknown, refs: Record<string, string>) => string;
  return standalone(makeAjv(true), Object.fromEntries(SCHEMA_NAMES.map((n) => [n, `${BASE}${n}.schema.json`])));
}

let runtime: ReturnType<typeof makeAjv> | null = null;
function rawValidator(name: SchemaName): Validate {
  if (COMPILED && existsSync(fileURLToPath(STANDALONE))) return (require(fileURLToPath(STANDALONE)) as Record<SchemaName, Validate>)[name];
  runtime ??= makeAjv(false);
  const fn = runtime.getSchema(`${BASE}${name}.schema.json`);
  if (!fn) throw new Error(`docs/schema/${name}.schema.json is not loaded`);
  return fn;
}

/** The schema node a JSON pointer names, in `file` (a `#/$defs/...` pointer not in it: in defs). */
function nodeAt(file: string, pointer: string): Json | undefined {
  const walk = (doc: unknown) => {
    let node = doc;
    for (const seg of pointer.split('/').filter(Boolean)) node = (node as Json | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node as Json | undefined;
  };
  const docs = schemaDocuments();
  return walk(docs.get(file)) ?? walk(docs.get('defs.schema.json'));
}

/** The schema a `$ref` names (`defs.schema.json#/$defs/name`, `#/$defs/name`, `manifest.schema.json`). */
function resolveRef(ref: string, from: string): Json | undefined {
  const [file, pointer = ''] = ref.split('#');
  return nodeAt(file || from, pointer);
}

/** What a schema node expects, in words: its description (through $refs), else null. */
function expectation(node: unknown, file: string): string | null {
  for (let n = node as Json | undefined, hops = 0; n && hops < 8; hops++) {
    if (typeof n.description === 'string') return n.description;
    if (typeof n.$ref !== 'string') return null;
    n = resolveRef(n.$ref, file);
  }
  return null;
}

const TYPE_WORDS: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false', null: 'null' };

/** A value in a message: short, never the whole of a large one. */
export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

/** The JSON path segments of an instancePath (`/runs/0/verdict`), and the value there. */
function locate(doc: unknown, pointer: string): { path: (string | number)[]; value: unknown } {
  const path: (string | number)[] = [];
  let node = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(key));
      node = node[Number(key)];
    } else {
      path.push(key);
      node = (node as Json | null)?.[key];
    }
  }
  return { path, value: node };
}

/** A validator's error as a JSON path and what was expected there. */
function problemOf(doc: unknown, e: ErrorObject, root: string): SchemaProblem {
  const { path, value } = locate(doc, e.instancePath);
  const [file, pointer = ''] = e.schemaPath.split('#');
  const from = file || root;
  // The schema holding the failing keyword: the schema path without its last segment.
  const parent = nodeAt(from, pointer.split('/').slice(0, -1).join('/'));
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') {
    const missing = String(params.missingProperty);
    const what = expectation((parent?.properties as Json | undefined)?.[missing], from);
    return { path: [...path, missing], message: `missing: expected ${what ?? 'a value'}` };
  }
  if (e.propertyName !== undefined) {
    return { path, message: `the key ${preview(e.propertyName)} is not ${expectation(parent, from) ?? 'a valid name'}` };
  }
  const what = expectation(parent, from) ?? (e.keyword === 'type' ? TYPE_WORDS[String(params.type)] : null) ?? e.message ?? 'a valid value';
  return { path, message: `expected ${what}, got ${preview(value)}` };
}

/** The validator of one schema: null when the document is valid, else its first problem. */
export function validatorFor(name: SchemaName): (doc: unknown) => SchemaProblem | null {
  let v = compiled.get(name);
  if (!v) {
    const fn = rawValidator(name);
    const root = `${name}.schema.json`;
    v = (doc) => (fn(doc) ? null : problemOf(doc, fn.errors![0], root));
    compiled.set(name, v);
  }
  return v;
}
