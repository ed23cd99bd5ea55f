/**
 * specs/manifest.json: for every spec configuration, the verdict each property is expected to
 * have and the size of the state space. Tests and `daxcheck check` compare every run against it,
 * so a change to a spec that flips a verdict or changes the state space is seen.
 *
 * Expected verdicts are the spec author's claims ("the checker must find this bug", "the fixed
 * design must pass"); they are written by hand. State and transition counts are measured, and
 * `daxcheck check --record-counts` writes them for runs whose verdicts are all as expected.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from './args.ts';
import type { Verdict } from './check.ts';

export interface ConfigExpectation {
  states?: number;
  transitions?: number;
  expect: Record<string, Verdict>;
}

export type Manifest = Record<string, Record<string, ConfigExpectation>>;

/** specs/manifest.json, or the file named by DAXCHECK_MANIFEST (tests use a copy). */
export const MANIFEST_PATH = process.env.DAXCHECK_MANIFEST ?? fileURLToPath(new URL('../specs/manifest.json', import.meta.url));

export function loadManifest(path = MANIFEST_PATH): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the manifest ${path}`);
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (err) {
    throw new UsageError(`the manifest ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes the manifest with stable key order and formatting. */
export function saveManifest(m: Manifest, path = MANIFEST_PATH): void {
  writeFileSync(path, JSON.stringify(m, null, 2) + '\n');
}
