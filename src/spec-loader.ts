/**
 * Where specs come from, and building one configuration ready for the explorer.
 *
 * A spec is either registered (specs/index.ts, named on the command line: `daxcheck check
 * map-sync`) or given by path (`daxcheck check ./my-proposal`): a spec folder anywhere on disk,
 * or its module file. A folder's module is the first of spec.ts, index.ts, machine.ts there; the
 * spec is the module's default export if that is a spec, else its one exported object that has
 * `name`, `configs` and `build`. Its manifest.json sits beside the module. A registered spec's
 * folder given by path is that registered spec.
 *
 * Path specs loaded in this process are remembered by name, so the manifests (src/manifest.ts)
 * and the parallel explorer's workers (`specLoader`, which cannot be handed a machine, only told
 * where to find it) find them again.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelError } from '../checker/bfs.ts';
import { bytePermutation, type Symmetry } from '../checker/symmetry.ts';
import { compileMachine, UnsupportedMachineError, type CompiledMachine } from '../checker/xstate/compile.ts';
import type { AnySpec, RunConfig, SpecSymmetry } from '../specs/common/spec.ts';
import { findSpec, specs } from '../specs/index.ts';
import { UsageError } from './args.ts';
import { repoPath, shown } from './paths.ts';
import { thrownText } from './terminal.ts';
import { errnoWords, fileType } from './input/read.ts';
import { ensureTypeScriptLoader } from './ts-loader.ts';

/** A spec and the files it comes with. */
export interface SpecSource {
  spec: AnySpec;
  /** The module that exports the spec (absolute path), named in messages. */
  file: string;
  /** Its manifest.json (absolute path). */
  manifest: string;
  /** Given by path on the command line rather than registered in specs/index.ts. */
  fromPath: boolean;
  /** How the command line names it: the registered name, or the path given. */
  ref: string;
}

/** The module files a spec folder may hold, in the order they are looked for. */
export const SPEC_MODULES = ['spec.ts', 'index.ts', 'machine.ts'] as const;

const REPO_SPECS = repoPath('specs/');

/** Path specs this process has loaded, by spec name. */
const loaded = new Map<string, SpecSource>();

/**
 * Is this command-line argument a path rather than a registered spec's name? Anything with a `/`
 * or starting with `.` is; so is an existing file or folder whose name is not a registered spec
 * (write `./baseline` for a folder that has a registered spec's name).
 */
export function isSpecPath(arg: string): boolean {
  if (arg.includes('/') || arg.includes(sep) || arg.startsWith('.')) return true;
  return !findSpec(arg) && existsSync(arg);
}

/** A registered spec's files. */
function registeredSource(spec: AnySpec): SpecSource {
  return { spec, file: join(REPO_SPECS, spec.name, 'machine.ts'), manifest: join(REPO_SPECS, spec.name, 'manifest.json'), fromPath: false, ref: spec.name };
}

/** The spec a name stands for in this process: a path spec loaded under that name, else the registered one. */
export function sourceOf(name: string): SpecSource | undefined {
  const l = loaded.get(name);
  if (l) return l;
  const s = findSpec(name);
  return s && registeredSource(s);
}

/** Path specs loaded so far. */
export function loadedFromPaths(): SpecSource[] {
  return [...loaded.values()];
}

export { shown };

/** The module file a path stands for: the file itself, or a spec folder's module. */
export function specModuleFile(arg: string): string {
  if (!arg || arg.includes('\0')) throw new UsageError(`no spec at '${arg}': not a path`);
  const abs = resolve(arg);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    throw new UsageError(`no spec at '${arg}': ${shown(abs)} ${(err as { code?: string }).code === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoWords(err)})`}`);
  }
  const found = st.isDirectory() ? SPEC_MODULES.map((f) => join(abs, f)).find((f) => existsSync(f)) : abs;
  if (!found) throw new UsageError(`${shown(abs)} holds no spec module: write ${SPEC_MODULES.join(', ')} or name the module file`);
  // A module is read whole before it runs: /dev/zero would never end and a FIFO would block.
  const mod = statSync(found);
  if (!mod.isFile()) throw new UsageError(`no spec at '${arg}': ${shown(found)} is ${fileType(mod)}, not a module file`);
  if (!/\.(ts|mts|js|mjs)$/.test(found)) throw new UsageError(`no spec at '${arg}': ${shown(found)} is not a TypeScript or JavaScript module (.ts, .mts, .js, .mjs)`);
  if (mod.size > MAX_MODULE_BYTES) throw new UsageError(`no spec at '${arg}': ${shown(found)} is ${mod.size} bytes, more than the ${MAX_MODULE_BYTES} a spec module may have`);
  return found;
}

/** Largest spec module accepted (the repository's largest is about 40 KB). */
const MAX_MODULE_BYTES = 4 * 1024 * 1024;

export { thrownText };

const looksLikeSpec = (x: unknown): x is AnySpec =>
  !!x && typeof x === 'object' && typeof (x as AnySpec).name === 'string' && Array.isArray((x as AnySpec).configs) && typeof (x as AnySpec).build === 'function';

/** The spec a module exports (see the header for the convention), checked for the fields every command reads. */
export function specOfModule(mod: Record<string, unknown>, file: string): AnySpec {
  let spec: AnySpec;
  if (looksLikeSpec(mod.default)) spec = mod.default;
  else {
    const named = Object.entries(mod).filter(([k, v]) => k !== 'default' && looksLikeSpec(v));
    if (!named.length) {
      throw new UsageError(`${shown(file)} exports no spec: export (default) an object with name, title, sources, promise, capabilities, configs and build (a Spec; see 'daxcheck new')`);
    }
    if (named.length > 1) throw new UsageError(`${shown(file)} exports ${named.length} specs (${named.map(([k]) => k).join(', ')}): make the one to check its default export`);
    spec = named[0][1] as AnySpec;
  }
  const problem = specProblem(spec);
  if (problem) throw new UsageError(`${shown(file)}: the spec ${problem}`);
  return spec;
}

/** Spec and configuration names: file and folder names in reports, keys in every document (docs/schema/defs.schema.json `name`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function specProblem(s: AnySpec): string | null {
  if (!NAME.test(s.name)) return `name '${s.name}' is not a plain name (letters, digits, '-', '_', '.'; at most 64)`;
  if (typeof s.title !== 'string') return `'${s.name}' needs a title (a string)`;
  if (typeof s.promise !== 'string') return `'${s.name}' needs a promise (a sentence: what the proposal promises)`;
  if (!Array.isArray(s.sources)) return `'${s.name}' needs sources (an array, e.g. [] or ['000'])`;
  if (!s.capabilities || typeof s.capabilities !== 'object') return `'${s.name}' needs capabilities (an object, e.g. {})`;
  if (!s.configs.length) return `'${s.name}' has no configurations: add one to its configs`;
  const seen = new Set<string>();
  for (const c of s.configs as RunConfig[]) {
    if (!c || typeof c.name !== 'string' || !c.name) return `'${s.name}' has a configuration without a name`;
    if (!NAME.test(c.name)) return `'${s.name}' configuration '${c.name}' is not a plain name (letters, digits, '-', '_', '.'; at most 64)`;
    if (seen.has(c.name)) return `'${s.name}' has two configurations named '${c.name}'`;
    seen.add(c.name);
    if (typeof c.description !== 'string') return `'${s.name}' configuration '${c.name}' needs a description`;
    if (typeof c.default !== 'boolean') return `'${s.name}' configuration '${c.name}' needs default: true or false`;
  }
  return null;
}

/** Imports a spec module, with one line naming the file when importing it throws. */
export async function importSpecModule(file: string): Promise<Record<string, unknown>> {
  await ensureTypeScriptLoader();
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`${shown(file)}: importing it throws ${thrownText(err)}; fix the module (or what it imports) so it loads`);
  }
}

/** Loads the spec a path stands for and remembers it by name. */
export async function loadSpecPath(arg: string): Promise<SpecSource> {
  const file = specModuleFile(arg);
  const spec = specOfModule(await importSpecModule(file), file);
  if (specs.includes(spec)) return registeredSource(spec);
  const source: SpecSource = { spec, file, manifest: join(dirname(file), 'manifest.json'), fromPath: true, ref: shown(resolve(arg)) };
  const before = loaded.get(spec.name);
  if (before && before.file !== file) throw new UsageError(`${shown(file)} and ${shown(before.file)} both define a spec named '${spec.name}': rename one`);
  loaded.set(spec.name, source);
  return source;
}

/**
 * The specs command-line arguments name: registered names and paths, in order, each once. None:
 * every registered spec.
 */
export async function resolveSpecs(args: string[]): Promise<SpecSource[]> {
  if (!args.length) return specs.map(registeredSource);
  const out: SpecSource[] = [];
  for (const arg of args) {
    let s: SpecSource;
    if (isSpecPath(arg)) s = await loadSpecPath(arg);
    else {
      const r = findSpec(arg);
      if (!r) throw new UsageError(`unknown spec '${arg}' (known: ${specs.map((x) => x.name).join(', ')}; or give a spec folder's path)`);
      s = registeredSource(r);
    }
    const same = out.find((o) => o.spec.name === s.spec.name);
    if (same && same.spec !== s.spec) throw new UsageError(`two specs named '${s.spec.name}' (${shown(same.file)} and ${shown(s.file)}): rename one`);
    if (!same) out.push(s);
  }
  return out;
}

/** A registered spec configuration, by name. */
export function loadSpec(specName: string, configName: string) {
  const spec = findSpec(specName);
  const config = spec?.configs.find((c: RunConfig) => c.name === configName);
  if (!spec || !config) throw new Error(`no spec configuration ${specName}/${configName}`);
  return compileSpec(spec, config);
}

/** A configuration of the spec a module file exports (what a worker runs for a path spec). */
export async function loadSpecFile(file: string, configName: string) {
  const spec = specOfModule(await importSpecModule(file), file);
  const config = spec.configs.find((c: RunConfig) => c.name === configName);
  if (!config) throw new Error(`${file}: no configuration ${configName}`);
  return compileSpec(spec, config);
}

/** A spec configuration built and compiled. */
export function compileSpec(spec: AnySpec, config: RunConfig) {
  const built = spec.build(config);
  const system = compileMachine(built.machine, { name: `${spec.name}/${config.name}`, events: built.events, bounds: built.bounds });
  // Messages about a byte (a value beyond its bound) name the declared field, e.g. `pte[1][0]`.
  if (built.byteName) {
    const plain = system.byteLabel.bind(system);
    system.byteLabel = (i: number) => {
      const f = system.fields.find((x) => i >= x.offset && i < x.offset + x.length);
      return (f && built.byteName!(f.name, i - f.offset)) ?? plain(i);
    };
  }
  if (built.symmetry) system.symmetry = machineSymmetry(system, built.symmetry);
  return { built, system, properties: built.properties, measures: built.measures ?? [] };
}

/** A spec's declared symmetry as permutations of the compiled machine's state vectors. */
export function machineSymmetry(system: CompiledMachine, sym: SpecSymmetry): Symmetry {
  const except = sym.except ?? [];
  // Per configuration number: 1 reduced, 2 not (one of `except` is active), 0 not known yet.
  const kind = new Uint8Array(0x10000);
  return {
    description: sym.description,
    ...(except.length
      ? {
          reduces: (state: Uint8Array) => {
            const id = state[0] | (state[1] << 8);
            let k = kind[id];
            if (k === 0) k = kind[id] = except.some((path) => system.matches(state, path)) ? 2 : 1;
            return k === 1;
          },
        }
      : {}),
    permutations: sym.permutations.map((p) => {
      const source = Int32Array.from({ length: system.stateBytes }, (_, i) => i);
      const values: (Uint8Array | null)[] = new Array(system.stateBytes).fill(null);
      for (const f of system.fields) {
        const c = p.context[f.name];
        if (!c) continue;
        if (c.source.length !== f.length) throw new Error(`${system.name}: symmetry of context field '${f.name}' has ${c.source.length} bytes, the field ${f.length}`);
        for (let j = 0; j < f.length; j++) {
          source[f.offset + j] = f.offset + c.source[j];
          values[f.offset + j] = c.values[j];
        }
      }
      return bytePermutation(source, values, system.regionPermutation(sym.regions, p.order));
    }),
  };
}

/** Where the parallel explorer's workers find a spec configuration: by name, or by its module for a path spec. */
export function specLoader(specName: string, configName: string) {
  // This module itself, compiled or not: the worker loads the copy the main thread runs.
  const module = import.meta.url;
  const l = loaded.get(specName);
  if (l) return { module, export: 'loadSpecFile', args: [l.file, configName] };
  return { module, export: 'loadSpec', args: [specName, configName] };
}

/**
 * An error met while building, compiling or exploring a configuration, as one line naming the
 * spec's file (exit code 2): a construct the compiler does not support, a value outside its
 * declared bound, anything a spec given by path throws. Other errors of a registered spec are
 * the repository's bugs and keep their stack trace.
 */
export function authorError(source: SpecSource, config: string, err: unknown): unknown {
  if (err instanceof UsageError) return err;
  const file = shown(source.file);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UnsupportedMachineError) return new UsageError(`${file}: ${message}`);
  // A worker of the parallel explorer reports a model error as its message only.
  const bound = message.match(/(\S+) = (\d+) exceeds its declared bound (\d+)/);
  if (bound) {
    return new UsageError(
      `${file}: configuration '${config}': ${bound[1]} = ${bound[2]} exceeds its declared bound ${bound[3]}: an action stores a value the field cannot hold; keep it within 0..${bound[3]} or declare a larger bound for the field`,
    );
  }
  if (err instanceof ModelError) return new UsageError(`${file}: configuration '${config}': ${message.replace(`${source.spec.name}/${config}: `, '')}`);
  if (source.fromPath) return new UsageError(`${file}: configuration '${config}': ${thrownText(err)}`);
  return err;
}
