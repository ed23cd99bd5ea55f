/**
 * What every report page needs to know besides the results: the spec registry (titles, promises,
 * capabilities, configurations), where each trace's page lives, and where each machine transition
 * was written in the sources. Everything is looked up by the names the results carry, so results
 * from a spec the registry no longer has still render (without its promise or sources).
 */
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { compileMachine, type CompiledTransition } from '../../checker/xstate/compile.ts';
import { UsageError } from '../args.ts';
import type { AnySpec, RunConfig } from '../../specs/common/spec.ts';
import type { PropertyResult } from '../check.ts';
import { slug } from './html.ts';
import { resultsOf, type ResultsDoc, type RunSummary } from './results.ts';
import { loadedFromPaths } from '../spec-loader.ts';
import { REPO_ROOT, SourceIndex, transitionFacts, type SourceLocation } from './sources.ts';

export interface ReportContext {
  doc: ResultsDoc;
  specs: AnySpec[];
  spec(name: string): AnySpec | undefined;
  config(spec: string, config: string): RunConfig | undefined;
  /** Runs in the document's order, grouped by spec in registry order (unknown specs last). */
  runsBySpec(): { spec: string; runs: RunSummary[] }[];
  /** Path (relative to the report root) of a result's trace page, or null when it has no trace. */
  tracePage(r: PropertyResult): string | null;
  /** Path (relative to the report root) of a spec's machine diagram page. */
  machinePage(spec: string): string;
  /** Where the transition with this label (in this configuration) was written, if found. */
  sourceOf(spec: string, config: string, label: string): SourceLocation | null;
  /** Is `daxcheck replay` (the native harness) available in this tree? */
  replayAvailable: boolean;
  /** Where laid-out diagrams are cached between runs, or null. */
  cacheDir: string | null;
}

export interface ContextOptions {
  /** Where transitions are looked up; null to skip source locations. Default: the repository's specs/. */
  sources?: SourceIndex | null;
  replayAvailable?: boolean;
  /** Cache for laid-out machine diagrams (writeReports uses DIR/.cache/diagrams); none by default. */
  cacheDir?: string | null;
}

export function makeContext(doc: ResultsDoc, specs: AnySpec[], options: ContextOptions = {}): ReportContext {
  const specOf = (name: string) => specs.find((s) => s.name === name);
  const configOf = (spec: string, config: string) => specOf(spec)?.configs.find((c: RunConfig) => c.name === config);

  // Every page names a property by its id; a document from before property ids cannot be rendered.
  const noId = doc.results.find((r) => typeof r.id !== 'string' || !r.id);
  if (noId) throw new UsageError(`results of ${noId.spec}/${noId.config} lack property ids (written by a daxcheck before them): run the check again`);

  // Trace pages: catalog/<spec>/<config>/<id>.html, named by the property's id as
  // `daxcheck check --write` names its trace files (ids are unique within a configuration).
  const pages = new Map<PropertyResult, string>();
  const dirs = new Map<string, string>();
  const taken = new Set<string>();
  const dirOf = (spec: string, config: string) => {
    const k = `${spec}\u0000${config}`;
    let d = dirs.get(k);
    if (!d) {
      const base = `catalog/${slug(spec)}/${slug(config)}`;
      d = base;
      for (let i = 2; taken.has(d); i++) d = `${base}-${i}`;
      taken.add(d);
      dirs.set(k, d);
    }
    return d;
  };
  for (const run of doc.runs) {
    const names = new Set<string>();
    for (const r of resultsOf(doc, run.spec, run.config)) {
      if (!r.trace) continue;
      let name = slug(r.id);
      for (let i = 2; names.has(name); i++) name = `${slug(r.id)}-${i}`;
      names.add(name);
      pages.set(r, `${dirOf(run.spec, run.config)}/${name}.html`);
    }
  }
  const machineDirs = new Map<string, string>();
  const machineTaken = new Set<string>();

  let sources: SourceIndex | null | undefined = options.sources;
  const compiled = new Map<string, Map<string, CompiledTransition> | null>();
  const transitionsOf = (spec: string, config: string) => {
    const k = `${spec}\u0000${config}`;
    if (!compiled.has(k)) {
      const s = specOf(spec);
      const c = configOf(spec, config);
      let m: Map<string, CompiledTransition> | null = null;
      if (s && c) {
        try {
          const b = s.build(c);
          const sys = compileMachine(b.machine, { name: `${spec}/${config}`, events: b.events, bounds: b.bounds });
          m = new Map(sys.transitions.map((t) => [t.label, t]));
        } catch {
          m = null;
        }
      }
      compiled.set(k, m);
    }
    return compiled.get(k)!;
  };

  return {
    doc,
    specs,
    spec: specOf,
    config: configOf,
    runsBySpec() {
      const order = (name: string) => {
        const i = specs.findIndex((s) => s.name === name);
        return i < 0 ? specs.length : i;
      };
      const names = [...new Set(doc.runs.map((r) => r.spec))];
      names.sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
      return names.map((spec) => ({ spec, runs: doc.runs.filter((r) => r.spec === spec) }));
    },
    tracePage: (r) => pages.get(r) ?? null,
    machinePage(spec) {
      let d = machineDirs.get(spec);
      if (!d) {
        const base = `catalog/${slug(spec)}`;
        d = base;
        for (let i = 2; machineTaken.has(d); i++) d = `${base}-${i}`;
        machineTaken.add(d);
        machineDirs.set(spec, d);
      }
      return `${d}/machine.html`;
    },
    sourceOf(spec, config, label) {
      // The repository's specs/, and the folder of every spec given by path.
      if (sources === undefined) sources = SourceIndex.load(REPO_ROOT, ['specs'], loadedFromPaths().map((s) => dirname(s.file)).filter((d) => !d.startsWith(join(REPO_ROOT, 'specs'))));
      if (sources === null) return null;
      const t = transitionsOf(spec, config)?.get(label);
      return t ? sources.locate(transitionFacts(t)) : null;
    },
    replayAvailable: options.replayAvailable ?? existsSync(join(REPO_ROOT, 'src', 'commands', 'replay.ts')),
    cacheDir: options.cacheDir ?? null,
  };
}

/** Quotes a command-line argument for a POSIX shell when it needs it. */
export function shellArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
