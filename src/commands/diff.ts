/**
 * `daxcheck diff REV`: what changed in the specs between a git revision and the working tree, as a
 * summary a reviewer can paste into a reply: specs added or removed, each spec's declared API
 * surface (system calls, flags, errnos, signals, read from the sources with ts-morph), and every
 * verdict, trace length and state count that differs.
 *
 * The revision's verdicts are its committed reports/verdicts.json; a revision without one is
 * checked in a scratch copy (`git archive`, nothing in the checkout is touched). The working
 * tree's verdicts come from checking it now: the default configurations, plus any configuration
 * the revision recorded that still exists.
 *
 * A spec given by path that lives outside this repository is compared within the git repository
 * that holds its folder (a reviewer's own proposals repository): the folder at REV, from a scratch
 * copy, against the folder as it is now, both checked with this daxcheck.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { AnySpec, RunConfig } from '../../specs/common/spec.ts';
import { specs } from '../../specs/index.ts';
import { parse, UsageError } from '../args.ts';
import { checkConfig } from '../check.ts';
import { loadManifest } from '../manifest.ts';
import { parseResults } from '../report/results.ts';
import { REPO_ROOT } from '../paths.ts';
import { importSpecModule, isSpecPath, loadSpecPath, shown, specOfModule, type SpecSource } from '../spec-loader.ts';
import { compareVerdicts, readVerdicts, formatChanges, unchangedCount, verdictsOf, type ConfigVerdicts, type VerdictChange } from '../report/verdicts.ts';
import { print, printJson } from '../terminal.ts';

export const usage = 'daxcheck diff REV [spec|PATH...] [--config NAME[,NAME]] [--json]';

function git(args: string[], input?: Buffer) {
  return spawnSync('git', args, { cwd: REPO_ROOT, input, maxBuffer: 1 << 30 });
}

/** The .ts files under specs/ and models/ of a tree, path → text. */
function sourcesOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs).sort()) {
      const r = `${rel}/${e}`;
      if (statSync(join(root, r)).isDirectory()) walk(r);
      else if (e.endsWith('.ts')) out[r] = readFileSync(join(root, r), 'utf8');
    }
  };
  walk('specs');
  walk('models');
  return out;
}

/** The revision's verdicts: its committed file, or a check run in its own tree. */
function verdictsAt(tree: string, only: string[], configs: string[] | null): { runs: ConfigVerdicts[]; from: string } | { runs: null; from: string } {
  const file = join(tree, 'reports', 'verdicts.json');
  const wanted = (spec: string, config: string) => (!only.length || only.includes(spec)) && (!configs || configs.includes(config));
  if (existsSync(file)) {
    try {
      return { runs: readVerdicts(file, 'verdicts file').runs.filter((r) => wanted(r.spec, r.config)), from: 'its reports/verdicts.json' };
    } catch {
      // Fall through to checking the revision itself.
    }
  }
  if (!existsSync(join(tree, 'bin', 'daxcheck.mjs'))) return { runs: null, from: 'no daxcheck at that revision' };
  // Only specs that exist there: the revision's check refuses names it does not know.
  const names = only.filter((s) => existsSync(join(tree, 'specs', s, 'machine.ts')));
  if (only.length && !names.length) return { runs: [], from: 'none of these specs exist there' };
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  const args = ['bin/daxcheck.mjs', 'check', ...names, '--json', ...(configs ? ['--config', configs.join(',')] : [])];
  const r = spawnSync(process.execPath, args, { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 30 });
  try {
    return { runs: verdictsOf(parseResults(r.stdout, 'the output of its daxcheck check --json')), from: 'checking it (no reports/verdicts.json there)' };
  } catch {
    return { runs: null, from: `checking it failed: ${(r.stderr || '').split('\n')[0] || `exit code ${r.status}`}` };
  }
}

/** The working tree's verdicts: default configurations plus those `also` names that still exist. */
async function verdictsNow(also: ConfigVerdicts[], only: string[], configs: string[] | null): Promise<ConfigVerdicts[]> {
  const manifest = loadManifest();
  const out: ConfigVerdicts[] = [];
  for (const spec of specs.filter((s) => !only.length || only.includes(s.name))) {
    for (const config of spec.configs as RunConfig[]) {
      if (configs ? !configs.includes(config.name) : !config.default && !also.some((v) => v.spec === spec.name && v.config === config.name)) continue;
      const run = await checkConfig(spec, config, manifest[spec.name]?.[config.name]);
      const { results, ...rest } = run;
      out.push(...verdictsOf({ interrupted: false, results, runs: [rest] }));
    }
  }
  return out;
}

const list = (xs: string[] | undefined) => (xs?.length ? xs.join(', ') : '');

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, config: { type: 'string' } });
  const configs = values.config !== undefined ? String(values.config).split(',').map((c) => c.trim()).filter(Boolean) : null;
  if (configs && !configs.length) throw new UsageError('--config needs a configuration name');
  if (positionals.length < 1) throw new UsageError('diff takes a git revision, e.g. daxcheck diff HEAD~1');
  const [rev, ...args] = positionals;
  // A path names a spec only if it is a registered spec's folder: the revision's side of the
  // comparison is read from the repository's history, which knows nothing of specs elsewhere.
  const only: string[] = [];
  for (const a of args) {
    if (!isSpecPath(a)) only.push(a);
    else {
      const s = await loadSpecPath(a);
      if (s.fromPath) {
        if (args.length > 1) throw new UsageError(`diff compares one spec given by path at a time (${a} is one)`);
        return diffOutside(rev, s, configs, !!values.json);
      }
      only.push(s.spec.name);
    }
  }
  // A name neither tree knows is a typo; one only the revision knows is a removed spec.
  if (rev.startsWith('-')) throw new UsageError(`'${rev}' is not a git revision`);
  const resolved = git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (resolved.status !== 0) throw new UsageError(`unknown git revision '${rev}'`);
  const sha = resolved.stdout.toString().trim();
  // Spec names are checked before any work: known now, or at the revision (a removed spec).
  for (const name of only) {
    const atRev = git(['cat-file', '-e', `${sha}:specs/${name}/machine.ts`]).status === 0;
    if (!atRev && !specs.some((s) => s.name === name)) throw new UsageError(`unknown spec '${name}' (neither ${rev} nor the working tree has it)`);
  }
  const subject = git(['log', '-1', '--format=%s', sha]).stdout.toString().trim();

  const { surfaces, compareSurfaces, SURFACE_KINDS } = await import('../report/surface.ts');
  type Surface = import('../report/surface.ts').Surface;
  const tmp = mkdtempSync(join(tmpdir(), 'daxcheck-diff-'));
  try {
    const tree = join(tmp, 'tree');
    mkdirSync(tree);
    const archive = git(['archive', '--format=tar', sha]);
    if (archive.status !== 0) throw new UsageError(`cannot read revision '${rev}': ${archive.stderr.toString().split('\n')[0]}`);
    const untar = spawnSync('tar', ['-x', '-C', tree], { input: archive.stdout });
    if (untar.status !== 0) throw new UsageError(`cannot unpack revision '${rev}': ${untar.stderr.toString().split('\n')[0]}`);

    const pick = (m: Map<string, Surface>) => new Map([...m].filter(([k]) => !only.length || only.includes(k)));
    const before = pick(surfaces(sourcesOf(tree)));
    const after = pick(surfaces(sourcesOf(REPO_ROOT)));
    const surfaceChanges = compareSurfaces(before, after);
    const then = verdictsAt(tree, only, configs);
    const now = await verdictsNow(then.runs ?? [], only, configs);
    const verdictChanges: VerdictChange[] = then.runs ? compareVerdicts(then.runs, now, () => true) : [];

    if (values.json) {
      printJson({ rev, commit: sha, surface: { before: Object.fromEntries(before), after: Object.fromEntries(after), changes: surfaceChanges }, verdicts: { from: then.from, changes: verdictChanges } });
      return 0;
    }

    const out: string[] = [`daxcheck diff ${rev} (${sha.slice(0, 12)} "${subject}") → working tree`, ''];
    const added = surfaceChanges.filter((c) => c.status === 'added').map((c) => c.spec);
    const removed = surfaceChanges.filter((c) => c.status === 'removed').map((c) => c.spec);
    out.push(`Specs: ${after.size} now, ${before.size} at ${rev}${added.length ? `; new: ${added.join(', ')}` : ''}${removed.length ? `; removed: ${removed.join(', ')}` : ''}`);
    out.push('');
    out.push('API surface (system calls, flags, errnos and signals each spec declares):');
    const surfaceText = (s: Partial<Record<string, string[]>>) =>
      SURFACE_KINDS.filter((k) => s[k]?.length)
        .map((k) => `${k} ${list(s[k])}`)
        .join('; ') || 'nothing';
    for (const c of surfaceChanges) {
      if (c.status === 'added') out.push(`  ${c.spec} (new): ${surfaceText(c.added)}`);
      else if (c.status === 'removed') out.push(`  ${c.spec} (removed): had ${surfaceText(c.removed)}`);
      else {
        const parts = [
          ...SURFACE_KINDS.filter((k) => c.added[k]?.length).map((k) => `+ ${k} ${list(c.added[k])}`),
          ...SURFACE_KINDS.filter((k) => c.removed[k]?.length).map((k) => `− ${k} ${list(c.removed[k])}`),
        ];
        out.push(`  ${c.spec}: ${parts.join('; ')}`);
      }
    }
    const same = [...after.keys()].filter((s) => before.has(s) && !surfaceChanges.some((c) => c.spec === s));
    if (same.length) out.push(`  unchanged: ${same.join(', ')}`);
    out.push('');
    out.push(`Verdicts (at ${rev}: ${then.from}; now: checked in the working tree):`);
    if (!then.runs) out.push('  cannot compare: no verdicts for the revision');
    else {
      out.push(...formatChanges(verdictChanges, rev).map((l) => `  ${l}`));
      const { same, total } = unchangedCount(then.runs, now);
      out.push(`  ${same} of ${total} verdicts (${now.length} configurations) the same as at ${rev}`);
    }
    print(out.join('\n') + '\n');
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** git in the repository that holds `dir`, or null when no repository does. */
function gitIn(dir: string, args: string[]) {
  return spawnSync('git', ['-C', dir, ...args], { maxBuffer: 1 << 30 });
}

/** A spec's run configurations checked now: `which` by name, else its default ones. */
async function verdictsOfSpec(spec: AnySpec, configs: string[] | null): Promise<ConfigVerdicts[]> {
  const out: ConfigVerdicts[] = [];
  for (const config of spec.configs as RunConfig[]) {
    if (configs ? !configs.includes(config.name) : !config.default) continue;
    const run = await checkConfig(spec, config, undefined);
    const { results, ...rest } = run;
    out.push(...verdictsOf({ interrupted: false, results, runs: [rest] }));
  }
  return out;
}

/**
 * `diff REV PATH` for a spec folder outside this repository: its folder at REV (in the git
 * repository that holds it) against the folder now, each checked with this daxcheck: the API
 * surface each declares and every verdict, trace length and state count that differs.
 */
async function diffOutside(rev: string, source: SpecSource, configs: string[] | null, json: boolean): Promise<number> {
  const folder = dirname(source.file);
  const top = gitIn(folder, ['rev-parse', '--show-toplevel']);
  if (top.status !== 0) {
    throw new UsageError(
      `${shown(folder)} is not in a git repository, so it has no revision '${rev}': commit the spec folder to compare revisions, or compare runs with \`daxcheck check ${shown(folder)} --baseline FILE\` (\`daxcheck report\` writes ${shown(join(folder, 'reports', 'verdicts.json'))})`,
    );
  }
  const root = top.stdout.toString().trim();
  if (rev.startsWith('-')) throw new UsageError(`'${rev}' is not a git revision`);
  const resolved = gitIn(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (resolved.status !== 0) throw new UsageError(`unknown git revision '${rev}' in ${shown(root)}`);
  const sha = resolved.stdout.toString().trim();
  const rel = relative(root, folder).split(sep).join('/');
  const moduleRel = relative(root, source.file).split(sep).join('/');
  if (gitIn(root, ['cat-file', '-e', `${sha}:${moduleRel}`]).status !== 0) {
    throw new UsageError(`${shown(source.file)} does not exist at ${rev} (${sha.slice(0, 12)}): nothing to compare it with`);
  }
  const subject = gitIn(root, ['log', '-1', '--format=%s', sha]).stdout.toString().trim();
  const { surfaces, compareSurfaces, SURFACE_KINDS } = await import('../report/surface.ts');
  const tmp = mkdtempSync(join(tmpdir(), 'daxcheck-diff-'));
  try {
    const archive = gitIn(root, ['archive', '--format=tar', sha, '--', rel || '.']);
    if (archive.status !== 0) throw new UsageError(`cannot read ${rel || 'the folder'} at '${rev}': ${archive.stderr.toString().split('\n')[0]}`);
    const untar = spawnSync('tar', ['-x', '-C', tmp], { input: archive.stdout });
    if (untar.status !== 0) throw new UsageError(`cannot unpack revision '${rev}': ${untar.stderr.toString().split('\n')[0]}`);
    const oldFile = join(tmp, moduleRel);
    const old = specOfModule(await importSpecModule(oldFile), oldFile);

    // The spec's files as the surface reader expects a spec folder, beside the shared tables.
    const shared = sourcesOf(REPO_ROOT);
    const asSpecFolder = (dir: string, module: string, name: string) => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(shared)) if (k.startsWith('models/') || k.startsWith('specs/common/') || k.startsWith('specs/apps/')) out[k] = v;
      for (const e of readdirSync(dir).sort()) {
        if (!e.endsWith('.ts') || !statSync(join(dir, e)).isFile()) continue;
        out[`specs/${name}/${join(dir, e) === module ? 'machine.ts' : e}`] = readFileSync(join(dir, e), 'utf8');
      }
      return out;
    };
    const before = surfaces(asSpecFolder(dirname(oldFile), oldFile, source.spec.name));
    const after = surfaces(asSpecFolder(folder, source.file, source.spec.name));
    const surfaceChanges = compareSurfaces(before, after);
    const then = await verdictsOfSpec(old, configs);
    const now = await verdictsOfSpec(source.spec, configs);
    const verdictChanges = compareVerdicts(then, now, () => true);
    if (json) {
      process.stdout.write(
        JSON.stringify({ rev, commit: sha, surface: { before: Object.fromEntries(before), after: Object.fromEntries(after), changes: surfaceChanges }, verdicts: { from: 'checking it', changes: verdictChanges } }, null, 2) + '\n',
      );
      return 0;
    }
    const list = (xs: string[] | undefined) => (xs?.length ? xs.join(', ') : '');
    const out: string[] = [`daxcheck diff ${rev} (${sha.slice(0, 12)} "${subject}") → ${shown(folder)} now`, ''];
    out.push('API surface (system calls, flags, errnos and signals the spec declares):');
    const c = surfaceChanges[0];
    if (!c) out.push('  unchanged');
    else {
      const parts = [
        ...SURFACE_KINDS.filter((k) => c.added[k]?.length).map((k) => `+ ${k} ${list(c.added[k])}`),
        ...SURFACE_KINDS.filter((k) => c.removed[k]?.length).map((k) => `− ${k} ${list(c.removed[k])}`),
      ];
      out.push(`  ${source.spec.name}: ${parts.join('; ') || c.status}`);
    }
    out.push('');
    out.push(`Verdicts (both checked now, ${rev} from a scratch copy of the folder):`);
    out.push(...formatChanges(verdictChanges, rev).map((l) => `  ${l}`));
    const { same, total } = unchangedCount(then, now);
    out.push(`  ${same} of ${total} verdicts (${now.length} configurations) the same as at ${rev}`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
