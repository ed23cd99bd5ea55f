/**
 * Output paths are checked before any work starts: a run of minutes must not end in an ENOTDIR.
 * A folder given for output (`check --write DIR`, `report --out DIR`, `new --dir D`) must be a
 * folder, or not exist yet under a folder that does; everything must be writable; and the files
 * and folders the command will write inside it must not be in the way (a folder where a file is
 * written, a file where a folder is needed). Each problem is one line naming the option and the
 * path (a UsageError, exit code 2).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from './args.ts';
import { errnoWords, fileType } from './input/read.ts';
import { shown } from './paths.ts';

/** What a command writes inside its output folder, by path relative to it. */
export interface OutputPlan {
  /** Files it writes (each must be absent or a regular file). */
  files?: string[];
  /** Folders it creates or writes into (each must be absent or a folder). */
  dirs?: string[];
}

/** What a file system entry is, in words: "a file", "a folder", "a character device". */
function kindOf(st: Stats): string {
  return st.isFile() ? 'a file' : fileType(st);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return null; // reported below, at the part that is not a folder
    throw err;
  }
}

function writable(path: string): string | null {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    return errnoWords(err);
  }
}

/** The nearest existing ancestor of a path that does not exist, and what it is. */
function existingAncestor(path: string): { path: string; stat: Stats } {
  for (let p = dirname(path); ; p = dirname(p)) {
    const st = statOrNull(p);
    if (st) return { path: p, stat: st };
    if (dirname(p) === p) throw new UsageError(`${shown(path)}: no part of it exists`);
  }
}

/**
 * Creates a folder and its missing parents one level at a time. (Node's recursive mkdirSync never
 * returns where the kernel answers ENOENT for a path whose parents exist, as under /proc.)
 */
export function makeDirs(path: string): void {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let p = abs; !statOrNull(p); p = dirname(p)) {
    if (dirname(p) === p) break;
    missing.push(p);
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Checks that `dir`, given by option `option` (`--write`), can hold what `plan` says; throws a
 * UsageError naming the first problem. With `create`, makes the folder when it does not exist (a
 * file system that refuses is found here too). Returns the folder's absolute path.
 */
export function checkOutputDir(option: string, dir: string, plan: OutputPlan = {}, create = false): string {
  if (!dir.trim()) throw new UsageError(`${option} needs a folder name`);
  if (dir.includes('\0')) throw new UsageError(`${option}: a path cannot hold a NUL character`);
  const abs = resolve(dir);
  const long = abs.split(sep).find((part) => Buffer.byteLength(part) > 255);
  if (long !== undefined || Buffer.byteLength(abs) >= 4096) throw new UsageError(`${option} ${shown(abs)}: the name is too long`);
  const where = `${option} ${shown(abs)}`;
  let st: Stats | null;
  try {
    st = statOrNull(abs);
  } catch (err) {
    throw new UsageError(`${where}: ${errnoWords(err)}`);
  }
  if (st) {
    if (!st.isDirectory()) throw new UsageError(`${where} is ${kindOf(st)}, not a folder`);
    const denied = writable(abs);
    if (denied) throw new UsageError(`${where}: cannot write there (${denied})`);
  } else {
    const up = existingAncestor(abs);
    if (!up.stat.isDirectory()) throw new UsageError(`${where}: ${shown(up.path)} is ${kindOf(up.stat)}, not a folder`);
    const denied = writable(up.path);
    if (denied) throw new UsageError(`${where}: cannot create it in ${shown(up.path)} (${denied})`);
    if (create) {
      try {
        makeDirs(abs);
      } catch (err) {
        throw new UsageError(`${where}: cannot create it (${errnoWords(err)})`);
      }
      probe(where, abs);
    }
    return abs;
  }
  if (create) probe(where, abs);
  for (const rel of plan.dirs ?? []) {
    const p = join(abs, rel);
    const s = statOrNull(p);
    if (!s) continue;
    if (!s.isDirectory()) throw new UsageError(`${where}: ${shown(p)} is ${kindOf(s)} where a folder is written`);
    const denied = writable(p);
    if (denied) throw new UsageError(`${where}: cannot write in ${shown(p)} (${denied})`);
  }
  for (const rel of plan.files ?? []) {
    const p = join(abs, rel);
    const s = statOrNull(p);
    if (!s) continue;
    if (!s.isFile()) throw new UsageError(`${where}: ${shown(p)} is ${fileType(s)} where a file is written`);
    const denied = writableFile(p);
    if (denied) throw new UsageError(`${where}: cannot write ${shown(p)} (${denied})`);
  }
  return abs;
}

/**
 * Creates and removes a file in the folder: the one test that holds where permission bits say
 * nothing (root, sysfs, a read-only mount, a full disk's quota).
 */
function probe(where: string, dir: string): void {
  const p = join(dir, `.daxcheck-probe-${process.pid}`);
  try {
    closeSync(openSync(p, 'wx'));
    unlinkSync(p);
  } catch (err) {
    throw new UsageError(`${where}: cannot write there (${errnoWords(err)})`);
  }
}

function writableFile(path: string): string | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (err) {
    return errnoWords(err);
  }
}

/** Checks that a file can be written (created or replaced), before the work that writes it. */
export function checkOutputFile(what: string, path: string): void {
  const abs = resolve(path);
  const st = statOrNull(abs);
  if (st) {
    if (!st.isFile()) throw new UsageError(`${what} ${shown(abs)} is ${kindOf(st)}, not a file daxcheck can write`);
    const denied = writableFile(abs);
    if (denied) throw new UsageError(`cannot write ${what} ${shown(abs)} (${denied})`);
    return;
  }
  const up = existingAncestor(abs);
  if (!up.stat.isDirectory()) throw new UsageError(`cannot write ${what} ${shown(abs)}: ${shown(up.path)} is ${kindOf(up.stat)}, not a folder`);
  const denied = writable(up.path);
  if (denied) throw new UsageError(`cannot write ${what} ${shown(abs)} (${denied})`);
}
