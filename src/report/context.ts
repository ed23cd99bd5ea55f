/**
 * What every report page needs to know besides the results: the spec registry (titles, promises,
 * capabilities, configurations), where each trace's page lives, and where each machine transition
 * was written in the sources. Everything is looked up by the names the results carry, so results
 * from a spec the registry no longer has still render (without its promise or sources).
 */
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { compileMachine, type CompiledMachine, type CompiledTransition } from '../../checker/xstate/compile.ts';
import { UsageError } from '../args.ts';
import type { AnySpec, BuiltSpec, RunConfig } from '../../specs/common/spec.ts';
import type { PropertyResult } from '../check.ts';
import { slug } from './html.ts';
import type { Replayer } from './race.ts';
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
  /**
   * Runs event sequences of a configuration through its compiled machine, checking the property
   * with this id in every state (for the race analysis); null when the spec, configuration or
   * property is not known here.
   */
  replayer(spec: string, config: string, propertyId: string): Replayer | null;
}

/** How many states the race analysis explores after a reordering before it gives up on it. */
const RACE_STATES = 20000;

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
  const machines = new Map<string, { built: BuiltSpec; sys: CompiledMachine; transitions: Map<string, CompiledTransition> } | null>();
  const machineOf = (spec: string, config: string) => {
    const k = `${spec}\u0000${config}`;
    if (!machines.has(k)) {
      const s = specOf(spec);
      const c = configOf(spec, config);
      let m: { built: BuiltSpec; sys: CompiledMachine; transitions: Map<string, CompiledTransition> } | null = null;
      if (s && c) {
        try {
          const built = s.build(c) as BuiltSpec;
          const sys = compileMachine(built.machine, { name: `${spec}/${config}`, events: built.events, bounds: built.bounds });
          m = { built, sys, transitions: new Map(sys.transitions.map((t) => [t.label, t])) };
        } catch {
          m = null;
        }
      }
      machines.set(k, m);
    }
    return machines.get(k)!;
  };
  const transitionsOf = (spec: string, config: string) => machineOf(spec, config)?.transitions ?? null;

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
    replayer(spec, config, propertyId) {
      const m = machineOf(spec, config);
      const property = m?.built.properties.find((p) => p.id === propertyId);
      if (!m || !property || property.kind !== 'always') return null;
      const { sys } = m;
      const byLabel = new Map<string, number>();
      for (let e = 0; e < sys.eventCount; e++) if (!byLabel.has(sys.eventLabel(e))) byLabel.set(sys.eventLabel(e), e);
      const runFrom = (labels: string[]) => {
        let cur = sys.initialStates()[0];
        let violated = !property.holds(sys.view(cur));
        let ran = 0;
        for (const l of labels) {
          const e = byLabel.get(l);
          const next = new Uint8Array(sys.stateBytes);
          if (e === undefined || sys.step(cur, e, next) < 0) break;
          cur = next;
          ran++;
          if (!property.holds(sys.view(cur))) violated = true;
        }
        return { ran, violated, state: cur };
      };
      return {
        run(labels) {
          const { ran, violated } = runFrom(labels);
          return { ran, violated };
        },
        canBreakAfter(labels) {
          // Breadth-first over every state reachable from there, up to a bound.
          const start = runFrom(labels).state;
          const key = (st: Uint8Array) => Buffer.from(st).toString('latin1');
          const seen = new Set([key(start)]);
          let frontier = [start];
          while (frontier.length) {
            const next: Uint8Array[] = [];
            for (const st of frontier) {
              if (!property.holds(sys.view(st))) return true;
              for (let e = 0; e < sys.eventCount; e++) {
                const dst = new Uint8Array(sys.stateBytes);
                if (sys.step(st, e, dst) < 0) continue;
                const k = key(dst);
                if (seen.has(k)) continue;
                if (seen.size >= RACE_STATES) return null;
                seen.add(k);
                next.push(dst);
              }
            }
            frontier = next;
          }
          return false;
        },
      };
    },
  };
}

/** Quotes a command-line argument for a POSIX shell when it needs it. */
export function shellArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
