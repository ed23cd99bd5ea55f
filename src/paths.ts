/**
 * Where the repository's own files are, whether this code runs from its TypeScript sources or
 * compiled into dist/ (npm run build): manifests, templates, the harness and the spec sources
 * that reports cite live in the repository, never in dist/.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when this module is the compiled dist/src/paths.js. */
export const COMPILED = import.meta.url.endsWith('.js');

/** The repository's root folder, with a trailing separator. */
export const REPO_ROOT = fileURLToPath(new URL(COMPILED ? '../../' : '../', import.meta.url));

/** A file or folder of the repository, by its path from the root (`specs/baseline/manifest.json`). */
export function repoPath(rel: string): string {
  return REPO_ROOT + rel;
}

/** A path as messages show it: relative to the working directory when inside it (`./x/manifest.json`), else absolute. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  if (!rel) return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : `.${sep}${rel}`;
}
