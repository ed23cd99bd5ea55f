/**
 * The manifests: `specs/<spec>/manifest.json` records, for every configuration of the spec, the
 * verdict each property is expected to have and the size of the state space. Tests and
 * `daxcheck check` compare every run against them, so a change to a spec that flips a verdict or
 * changes the state space is seen.
 *
 * Expected verdicts are the spec author's claims ("the checker must find this bug", "the fixed
 * design must pass"); they are written by hand. State and transition counts are measured, and
 * `daxcheck check --record-counts` writes them for runs whose verdicts are all as expected.
 *
 * DAXCHECK_MANIFEST names one file holding every spec's entries instead (tests use a copy).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { specs } from '../specs/index.ts';
import { UsageError } from './args.ts';
import type { Verdict } from './check.ts';

export interface ConfigExpectation {
  states?: number;
  transitions?: number;
  /** Measured quantities (largest value over all transitions), e.g. `{ "fault-cost": 10 }`. */
  measures?: Record<string, number | null>;
  expect: Record<string, Verdict>;
}

/** Expectations of one spec, by configuration name. */
export type SpecManifest = Record<string, ConfigExpectation>;
/** Expectations of every spec, by spec name. */
export type Manifest = Record<string, SpecManifest>;

export function specManifestPath(spec: string): string {
  return fileURLToPath(new URL(`../specs/${spec}/manifest.json`, import.meta.url));
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the manifest ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the manifest ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function loadManifest(): Manifest {
  const single = process.env.DAXCHECK_MANIFEST;
  if (single) return readJson(single) as Manifest;
  const out: Manifest = {};
  for (const s of specs) {
    const path = specManifestPath(s.name);
    out[s.name] = existsSync(path) ? (readJson(path) as SpecManifest) : {};
  }
  return out;
}

/**
 * Writes back the manifests of `specs` (only those: another spec's manifest may have changed on
 * disk since it was loaded) with stable formatting.
 */
export function saveManifest(m: Manifest, specs: string[]): void {
  const single = process.env.DAXCHECK_MANIFEST;
  if (single) {
    writeFileSync(single, JSON.stringify(m, null, 2) + '\n');
    return;
  }
  for (const spec of specs) writeFileSync(specManifestPath(spec), JSON.stringify(m[spec], null, 2) + '\n');
}
