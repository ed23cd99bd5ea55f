/**
 * The manifests: a spec's manifest.json, beside its module (`specs/<spec>/manifest.json` for a
 * registered spec, `<folder>/manifest.json` for a spec given by path), records for every
 * configuration of the spec the verdict each property is expected to have and the size of the
 * state space. Tests and `daxcheck check` compare every run against them, so a change to a spec
 * that flips a verdict or changes the state space is seen.
 *
 * Expected verdicts are the spec author's claims ("the checker must find this bug", "the fixed
 * design must pass"); they are written by hand. State and transition counts are measured, and
 * `daxcheck check --record-counts` writes them for runs whose verdicts are all as expected (and,
 * where a manifest, a configuration or a property is missing, adds it with a null verdict for
 * the author to fill in).
 *
 * DAXCHECK_MANIFEST names one file holding every spec's entries instead (tests use a copy).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { MANIFEST, MANIFESTS } from './input/documents.ts';
import { readDocument } from './input/read.ts';
import type { Property } from '../checker/system.ts';
import type { RunConfig } from '../specs/common/spec.ts';
import { specs } from '../specs/index.ts';
import { UsageError } from './args.ts';
import type { Verdict } from './check.ts';
import { loadedFromPaths, shown, sourceOf, type SpecSource } from './spec-loader.ts';

export interface ConfigExpectation {
  states?: number;
  transitions?: number;
  /**
   * Counts of the run with symmetry reduction (`check --symmetry`), where the configuration's
   * threads are interchangeable: one representative per class of symmetric states.
   */
  symmetry?: { states: number; transitions: number };
  /** Measured quantities (largest value over all transitions), e.g. `{ "fault-cost": 10 }`. */
  measures?: Record<string, number | null>;
  /** Expected verdict by property key (`propertyKey`); null: not written yet. */
  expect: Record<string, Verdict>;
}

/** Expectations of one spec, by configuration name. */
export type SpecManifest = Record<string, ConfigExpectation>;
/** Expectations of every spec, by spec name. */
export type Manifest = Record<string, SpecManifest>;

/**
 * The key a manifest's `expect` has for a property: the one src/check.ts looks expected verdicts
 * up by. Every check of a manifest's keys goes through here.
 */
export function propertyKey(p: Pick<Property<unknown>, 'id'>): string {
  return p.id;
}

export function specManifestPath(spec: string): string {
  const s = sourceOf(spec);
  if (!s) throw new Error(`no spec '${spec}'`);
  return s.manifest;
}

/** A manifest file, read and checked against its schema by the input layer (src/input/). */
function readManifestFile(path: string): SpecManifest {
  return readDocument(path, MANIFEST);
}

/** Is this spec's manifest missing (and no DAXCHECK_MANIFEST stands in for it)? */
export function manifestMissing(spec: string): boolean {
  return !process.env.DAXCHECK_MANIFEST && !existsSync(specManifestPath(spec));
}

/** Every registered spec's manifest, and those of the specs loaded from paths. */
export function loadManifest(): Manifest {
  const single = process.env.DAXCHECK_MANIFEST;
  if (single) return readDocument(single, MANIFESTS);
  const out: Manifest = {};
  const names = [...new Set([...specs.map((s) => s.name), ...loadedFromPaths().map((s) => s.spec.name)])];
  for (const name of names) {
    const path = specManifestPath(name);
    out[name] = existsSync(path) ? readManifestFile(path) : {};
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
  for (const spec of specs) writeFileSync(specManifestPath(spec), JSON.stringify(m[spec] ?? {}, null, 2) + '\n');
}

const VERDICTS: Record<Property<unknown>['kind'], string[]> = {
  always: ['holds', 'violated'],
  deadlock: ['holds', 'violated'],
  sometimes: ['reachable', 'unreachable'],
  'leads-to': ['holds', 'violated'],
};
const choices = (kind: Property<unknown>['kind']) => VERDICTS[kind].map((v) => `"${v}"`).join(' or ');

/** A configuration to check, with its properties (from building it). */
export interface ManifestJob {
  config: RunConfig;
  properties: Pick<Property<unknown>, 'kind' | 'id' | 'name'>[];
}

/**
 * Is the spec's manifest complete for these configurations: an entry for each, an expected
 * verdict of the right kind for each of its properties, and nothing for a configuration or a
 * property the spec does not have? Throws the first problem as one line naming the manifest.
 */
export function checkManifest(source: SpecSource, manifest: Manifest, jobs: ManifestJob[]): void {
  const where = process.env.DAXCHECK_MANIFEST ? `${shown(process.env.DAXCHECK_MANIFEST)} (${source.spec.name})` : shown(source.manifest);
  const rerun = (config?: string) => `daxcheck check ${source.ref}${config ? ` --config ${config}` : ''} --record-counts`;
  if (manifestMissing(source.spec.name)) {
    throw new UsageError(
      `${where} is missing: it records the verdict you expect of each property; \`${rerun()}\` writes one with each verdict null for you to fill in`,
    );
  }
  const entries = manifest[source.spec.name] ?? {};
  const configNames = source.spec.configs.map((c: RunConfig) => c.name);
  for (const name of Object.keys(entries)) {
    if (!configNames.includes(name)) {
      throw new UsageError(`${where} has an entry for configuration '${name}', which ${shown(source.file)} does not define (it has: ${configNames.join(', ')}): remove the entry or rename it`);
    }
  }
  for (const { config, properties } of jobs) {
    const entry = entries[config.name];
    if (!entry || typeof entry !== 'object' || !entry.expect || typeof entry.expect !== 'object') {
      throw new UsageError(`${where} has no expected verdicts for configuration '${config.name}': add "${config.name}": { "expect": { ... } }, or run \`${rerun(config.name)}\` to add it with each verdict null to fill in`);
    }
    const keys = new Set(properties.map(propertyKey));
    for (const p of properties) {
      const key = propertyKey(p);
      const v = entry.expect[key] as string | null | undefined;
      if (v === undefined) {
        throw new UsageError(`${where}: configuration '${config.name}' has no expected verdict for property '${key}': add "${key}": ${choices(p.kind)} to its "expect"`);
      }
      if (v === null) throw new UsageError(`${where}: configuration '${config.name}', property '${key}': replace null with the verdict you expect, ${choices(p.kind)}`);
      if (!VERDICTS[p.kind].includes(v)) {
        throw new UsageError(`${where}: configuration '${config.name}', property '${key}' (${p.kind}): ${JSON.stringify(v)} is not a verdict it can have: write ${choices(p.kind)}`);
      }
    }
    for (const key of Object.keys(entry.expect)) {
      if (!keys.has(key)) {
        throw new UsageError(`${where}: configuration '${config.name}' expects a verdict for '${key}', which is no property of it: remove the line or rename it to one of its properties (\`daxcheck list ${source.ref}\` shows them)`);
      }
    }
  }
}

/**
 * Adds what `checkManifest` would find missing, with null verdicts to fill in: the manifest, an
 * entry per configuration, a key per property. Returns how many verdicts are still to be written
 * (0: nothing was added and none is null).
 */
export function addMissingEntries(source: SpecSource, manifest: Manifest, jobs: ManifestJob[]): number {
  const entries = (manifest[source.spec.name] ??= {});
  let open = 0;
  for (const { config, properties } of jobs) {
    const entry = (entries[config.name] ??= { expect: {} });
    entry.expect ??= {};
    for (const p of properties) {
      const key = propertyKey(p);
      if (entry.expect[key] === undefined) (entry.expect as Record<string, Verdict | null>)[key] = null;
      if (entry.expect[key] === null) open++;
    }
  }
  return open;
}
