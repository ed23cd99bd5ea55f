/**
 * `daxcheck new NAME [--dir D]`: writes a starting spec folder D/NAME (machine.ts, configs.ts,
 * manifest.json, tsconfig.json) from src/new/template/, then explores it and records its state
 * counts, so `daxcheck check D/NAME` passes as written, wherever D is.
 *
 * The template's expected verdicts are its author's claims (src/new/template/manifest.json,
 * keyed by property id); the state and transition counts are measured here, as
 * `daxcheck check D/NAME --record-counts` would. The spec imports only from 'daxcheck' (the
 * kit, src/kit.ts); tsconfig.json maps that name to the kit for editors and tsc.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../specs/common/spec.ts';
import { findSpec } from '../../specs/index.ts';
import { parse, UsageError } from '../args.ts';
import { checkConfig, runAsExpected, type ConfigRun } from '../check.ts';
import { checkManifest, loadManifest, propertyKey, type SpecManifest } from '../manifest.ts';
import { MANIFEST } from '../input/documents.ts';
import { readDocument } from '../input/read.ts';
import { checkOutputDir, makeDirs } from '../output.ts';
import { REPO_ROOT, repoPath } from '../paths.ts';
import { renderRuns } from '../render.ts';
import { authorError, resolveSpecs, shown } from '../spec-loader.ts';
import { recordCounts } from './check.ts';
import { print } from '../terminal.ts';

export const usage = 'daxcheck new NAME [--dir D]';

const TEMPLATE = repoPath('src/new/template/');
/** The kit's TypeScript source: what editors and tsc read for the new folder's types. */
const KIT = repoPath('src/kit.ts');
const REPO = REPO_ROOT;
/** The template's spec name and exported identifier, replaced by NAME and its camel case. */
const TEMPLATE_NAME = 'my-proposal';
const TEMPLATE_IDENT = 'myProposal';

const camel = (name: string) => name.replace(/-+([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** tsconfig.json for the new folder: the kit and XState by path, so editors and tsc see the types. */
function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ['ES2023'],
      types: ['node'],
      typeRoots: [join(REPO, 'node_modules', '@types')],
      paths: { daxcheck: [KIT], xstate: [join(REPO, 'node_modules', 'xstate')] },
    },
    include: ['*.ts'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { dir: { type: 'string' } });
  // The new spec's manifest is its own file, beside it, even where tests point DAXCHECK_MANIFEST elsewhere.
  delete process.env.DAXCHECK_MANIFEST;
  if (positionals.length !== 1) throw new UsageError('new takes one name, e.g. daxcheck new my-proposal --dir ~/proposals');
  const [name] = positionals;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) throw new UsageError(`'${name}' is not a spec name: use lower-case words joined by '-', e.g. map-sync`);
  if (findSpec(name)) throw new UsageError(`'${name}' is a spec of this repository already: choose another name`);
  const parent = checkOutputDir('--dir', String(values.dir ?? '.'), { dirs: [name] });
  const target = join(parent, name);
  if (existsSync(target) && (!statIsDir(target) || readdirSync(target).length)) throw new UsageError(`${shown(target)} exists already: choose another name or --dir`);
  makeDirs(target);

  const written: string[] = [];
  for (const file of readdirSync(TEMPLATE).filter((f) => f.endsWith('.ts')).sort()) {
    const text = readFileSync(join(TEMPLATE, file), 'utf8').replaceAll(TEMPLATE_NAME, name).replaceAll(TEMPLATE_IDENT, camel(name));
    writeFileSync(join(target, file), text);
    written.push(file);
  }
  writeFileSync(join(target, 'tsconfig.json'), tsconfig());

  // The template's claims, keyed as the manifest keys properties; counts are measured below.
  const [source] = await resolveSpecs([target]);
  const claims = readDocument(join(TEMPLATE, 'manifest.json'), MANIFEST);
  const manifest: SpecManifest = {};
  const jobs = (source.spec.configs as RunConfig[]).map((config) => {
    let properties;
    try {
      properties = source.spec.build(config).properties;
    } catch (err) {
      throw authorError(source, config.name, err);
    }
    const claimed = claims[config.name]?.expect ?? {};
    const expect: Record<string, string> = {};
    for (const p of properties) {
      const v = claimed[p.id] ?? claimed[p.name];
      if (v === undefined) throw new Error(`src/new/template/manifest.json: configuration '${config.name}' has no verdict for '${p.id}'`);
      expect[propertyKey(p)] = v;
    }
    manifest[config.name] = { expect } as SpecManifest[string];
    return { config, properties };
  });
  writeFileSync(source.manifest, JSON.stringify(manifest, null, 2) + '\n');
  written.push('manifest.json', 'tsconfig.json');

  const all = loadManifest();
  checkManifest(source, all, jobs);
  const runs: ConfigRun[] = [];
  for (const { config } of jobs) {
    try {
      runs.push(await checkConfig(source.spec, config, all[source.spec.name][config.name]));
    } catch (err) {
      throw authorError(source, config.name, err);
    }
  }
  recordCounts(runs, all);
  const ok = runs.every(runAsExpected);
  const out = [`wrote ${shown(target)}: ${written.sort().join(', ')}`];
  if (ok) {
    out.push(
      `explored its ${runs.length} configurations (${runs.map((r) => `${r.config}: ${r.states} states`).join(', ')}): every verdict as manifest.json expects; state counts recorded`,
      `next: daxcheck check ${shown(target)}   (daxcheck list ${shown(target)} shows its properties; daxcheck report ${shown(target)} writes its reports into ${shown(join(target, 'reports'))})`,
    );
  } else {
    out.push(renderRuns(runs), `the template's verdicts differ from its manifest (a daxcheck bug): see above`);
  }
  print(out.join('\n') + '\n');
  return ok ? 0 : 1;
}

function statIsDir(path: string): boolean {
  return statSync(path).isDirectory();
}
