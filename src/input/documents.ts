/**
 * The kinds of document daxcheck reads besides traces (src/input/trace.ts): verdicts files
 * (reports/verdicts.json, a --baseline), results documents (check --json, DIR/results.json) and
 * manifests, each with its schema, size cap and the checks a schema cannot express.
 */
import type { ResultsDoc } from '../report/results.ts';
import type { VerdictsFile } from '../report/verdicts.ts';
import type { Manifest, SpecManifest } from '../manifest.ts';
import type { DocumentKind } from './read.ts';

const MB = 1024 * 1024;

/** Each key once: the path of an entry whose key an earlier one has. */
function firstRepeat<T>(items: T[], key: (x: T) => string): [number, number] | null {
  const seen = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const k = key(items[i]);
    const before = seen.get(k);
    if (before !== undefined) return [before, i];
    seen.set(k, i);
  }
  return null;
}

const pair = (x: { spec: string; config: string }) => `${x.spec}\u0000${x.config}`;
/** A configuration as messages name it: 'baseline/trusting'. */
const named = (x: { spec: string; config: string }) => `'${x.spec}/${x.config}'`;

/** A verdicts file; `noun` says what it is to the command ("baseline", "verdicts file"). */
export function verdictsKind(noun: string): DocumentKind<VerdictsFile> {
  return {
    noun,
    what: 'a verdicts file',
    schema: 'verdicts',
    maxBytes: 64 * MB,
    check(doc, fail) {
      const twice = firstRepeat(doc.runs, pair);
      if (twice) fail(['runs', twice[1]], `a second entry for ${named(doc.runs[twice[1]])} (the first is $.runs[${twice[0]}])`);
      doc.runs.forEach((run, r) => {
        const again = firstRepeat(run.properties, (p) => p.id ?? `\u0000${p.property}`);
        if (again) fail(['runs', r, 'properties', again[1]], `a second entry for property ${JSON.stringify(run.properties[again[1]].id ?? run.properties[again[1]].property)}`);
      });
    },
  };
}

/** A results document (check --json, check --write DIR's results.json). */
export function resultsKind(noun = 'results file'): DocumentKind<ResultsDoc> {
  return {
    noun,
    what: 'a daxcheck results document',
    schema: 'results',
    maxBytes: 256 * MB,
    check(doc, fail) {
      const twice = firstRepeat(doc.runs, pair);
      if (twice) fail(['runs', twice[1]], `a second run of ${named(doc.runs[twice[1]])} (the first is $.runs[${twice[0]}])`);
      const runs = new Set(doc.runs.map(pair));
      const ids = new Set<string>();
      doc.results.forEach((r, i) => {
        if (!runs.has(pair(r))) fail(['results', i], `a result of ${named(r)}, which $.runs does not list`);
        if (r.id === undefined) return;
        const k = `${pair(r)}\u0000${r.id}`;
        if (ids.has(k)) fail(['results', i, 'id'], `a second result for property '${r.id}' of ${named(r)}`);
        ids.add(k);
      });
    },
  };
}

/** A spec's manifest.json (its entries' meaning is checked against the spec: src/manifest.ts). */
export const MANIFEST: DocumentKind<SpecManifest> = { noun: 'manifest', what: 'a manifest', schema: 'manifest', maxBytes: 16 * MB };

/** Every spec's manifest in one file, by spec name (DAXCHECK_MANIFEST). */
export const MANIFESTS: DocumentKind<Manifest> = { noun: 'manifest', what: 'an object of manifests by spec name', schema: 'manifests', maxBytes: 64 * MB };
