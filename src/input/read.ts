/**
 * The one way daxcheck reads a document from outside: traces, results, verdicts files (baselines),
 * manifests. Every reader goes through `readDocument` (a file) or `parseDocument` (text another
 * process printed), which
 *
 *  1. accepts regular files only (no folder, FIFO, socket or device: `/dev/zero` would never end
 *     and a FIFO would block), opened without blocking and checked again once open;
 *  2. reads at most the kind's size cap, stopping as soon as the file is larger;
 *  3. requires UTF-8 text and valid JSON;
 *  4. refuses nesting deeper than MAX_DEPTH (checked without recursion, before anything recurses);
 *  5. validates against the kind's JSON Schema (docs/schema/, with ajv), filling in the defaults
 *     the schema gives for optional fields;
 *  6. runs the kind's own checks of what a schema cannot say (no configuration listed twice, ...).
 *
 * A violation is an InputError (a UsageError: one line, exit code 2) naming the file, the JSON path
 * and what was expected there, with every control character escaped. Code under src/report/ and
 * src/replay/ only ever receives documents that passed.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../args.ts';
import { shown } from '../paths.ts';
import { termLine } from '../terminal.ts';
import { validatorFor, type SchemaName } from './schema.ts';

/** Deepest nesting of arrays and objects any daxcheck document needs (results reach 9). */
export const MAX_DEPTH = 64;

/** Bad input read from a file: one line, exit code 2. */
export class InputError extends UsageError {}

/** What kind of document a file is, and how it is checked. */
export interface DocumentKind<T> {
  /** How messages name the file: "baseline", "results file", "trace", "manifest". */
  noun: string;
  /** What a valid one is, for "... is not <what>": "a verdicts file". */
  what: string;
  /** Its JSON Schema, docs/schema/<schema>.schema.json. */
  schema: SchemaName;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Checks beyond the schema; `fail(path, message)` refuses the document at a JSON path. */
  check?(doc: T, fail: (path: (string | number)[], message: string) => never): void;
}

/** `$.runs[3].properties[0].verdict`: a JSON path as messages show it. */
export function jsonPath(segments: (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return out;
}

const FILE_TYPES: [keyof Stats, string][] = [
  ['isDirectory', 'a folder'],
  ['isFIFO', 'a FIFO'],
  ['isSocket', 'a socket'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
];
/** What a non-regular file is, in words. */
export function fileType(st: Stats): string {
  for (const [test, name] of FILE_TYPES) if ((st[test] as () => boolean).call(st)) return name;
  return 'not a regular file';
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EISDIR: 'it is a folder',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};
/** An error of the file system in words: "no such file", "permission denied". */
export function errnoWords(err: unknown): string {
  const code = (err as { code?: string })?.code;
  return (code && ERRNO_WORDS[code]) ?? code ?? (err instanceof Error ? err.message : String(err));
}

/** The file's text: a regular file, at most `maxBytes`, UTF-8. */
function readCapped(path: string, kind: DocumentKind<unknown>): string {
  const name = `the ${kind.noun} ${shown(path)}`;
  if (!path) throw new InputError(`the ${kind.noun} needs a file name`);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InputError(`cannot read the ${kind.noun} ${shown(path)}: ${errnoWords(err)}`);
  }
  if (!st.isFile()) throw new InputError(`${name} is ${fileType(st)}, not a regular file`);
  const tooBig = (n: number | string) => new InputError(`${name} is ${n} bytes, more than the ${kind.maxBytes} a ${kind.noun} may have`);
  if (st.size > kind.maxBytes) throw tooBig(st.size);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, opening it must not wait.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new InputError(`cannot read the ${kind.noun} ${shown(path)}: ${errnoWords(err)}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    const again = fstatSync(fd);
    if (!again.isFile()) throw new InputError(`${name} is ${fileType(again)}, not a regular file`);
    // The size the file says it has, and one byte more to see it did not grow; then as it comes.
    let want = Math.min(again.size + 1, kind.maxBytes + 1);
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(want, kind.maxBytes + 1 - total)));
      want = 1 << 16;
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw new InputError(`cannot read the ${kind.noun} ${shown(path)}: ${errnoWords(err)}`);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > kind.maxBytes) throw tooBig(`over ${kind.maxBytes}`);
    }
  } finally {
    closeSync(fd);
  }
  const bytes = Buffer.concat(chunks, total);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${name} is not UTF-8 text`);
  }
}

/** The path to the first place nested deeper than `max`, or null; without recursion. */
export function tooDeep(doc: unknown, max = MAX_DEPTH): (string | number)[] | null {
  interface Frame {
    value: unknown;
    depth: number;
    key: string | number | null;
    up: Frame | null;
  }
  const stack: Frame[] = [{ value: doc, depth: 0, key: null, up: null }];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.value === null || typeof f.value !== 'object') continue;
    if (f.depth >= max) {
      const path: (string | number)[] = [];
      for (let g: Frame | null = f; g && g.key !== null; g = g.up) path.push(g.key);
      return path.reverse();
    }
    if (Array.isArray(f.value)) {
      for (let i = f.value.length - 1; i >= 0; i--) {
        const v = f.value[i];
        if (v !== null && typeof v === 'object') stack.push({ value: v, depth: f.depth + 1, key: i, up: f });
      }
    } else {
      for (const [k, v] of Object.entries(f.value).reverse()) {
        if (v !== null && typeof v === 'object') stack.push({ value: v, depth: f.depth + 1, key: k, up: f });
      }
    }
  }
  return null;
}

/** A path shortened for a message: its first segments, "…", its last. */
function shortPath(path: (string | number)[]): string {
  if (path.length <= 12) return jsonPath(path);
  return `${jsonPath(path.slice(0, 8))}…${jsonPath(path.slice(-2)).slice(1)}`;
}

/** Checks a parsed document (steps 4 to 6 above); `where` names it in messages. */
export function checkDocument<T>(doc: unknown, kind: DocumentKind<T>, where: string): T {
  const deep = tooDeep(doc);
  if (deep) throw new InputError(termLine(`${where} is nested deeper than ${MAX_DEPTH} levels (at ${shortPath(deep)}); no ${kind.what.replace(/^an? /, '')} is`));
  const problem = validatorFor(kind.schema)(doc);
  if (problem) throw new InputError(termLine(`${where} is not ${kind.what}: at ${jsonPath(problem.path)}, ${problem.message}`));
  kind.check?.(doc as T, (path, message) => {
    throw new InputError(termLine(`${where} is not ${kind.what}: at ${jsonPath(path)}, ${message}`));
  });
  return doc as T;
}

/** Parses and checks a document's text; `where` names it in messages ("the results file ./r.json"). */
export function parseDocument<T>(text: string, kind: DocumentKind<T>, where: string): T {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(termLine(`${where} is not valid JSON: ${(err as Error).message.split('\n')[0].slice(0, 200)}`));
  }
  return checkDocument(doc, kind, where);
}

/** Reads, parses and checks a document file (all six steps above). */
export function readDocument<T>(path: string, kind: DocumentKind<T>): T {
  try {
    return parseDocument(readCapped(path, kind as DocumentKind<unknown>), kind, `the ${kind.noun} ${shown(path)}`);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(termLine(err.message));
    throw err;
  }
}
