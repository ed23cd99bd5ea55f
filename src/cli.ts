/**
 * The `daxcheck` command.
 *
 *   daxcheck list [--json]
 *   daxcheck check [spec...] [--config NAME[,NAME]] [--all-configs] [--json] [--max-states N]
 *                  [--max-memory MB] [--write DIR] [--record-counts]
 *
 * Exit codes: 0 every verdict as the manifest expects, 1 something differs (or exploration was
 * cut short), 2 bad usage or input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { ModelError } from '../checker/bfs.ts';
import { UnsupportedMachineError } from '../checker/xstate/compile.ts';
import type { RunConfig, Spec } from '../specs/common/spec.ts';
import { findSpec, specs } from '../specs/index.ts';
import { parse, positiveInt, UsageError } from './args.ts';
import { checkConfig, runAsExpected, type ConfigRun } from './check.ts';
import { loadManifest, saveManifest } from './manifest.ts';
import { renderRuns } from './render.ts';

const USAGE = `usage:
  daxcheck list [--json]
  daxcheck check [spec...] [--config NAME[,NAME]] [--all-configs] [--json]
                 [--max-states N] [--max-memory MB] [--write DIR] [--record-counts]`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'list':
        return list(rest);
      case 'check':
        return await check(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (try: list, check)`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof UnsupportedMachineError || err instanceof ModelError) {
      process.stderr.write(`daxcheck: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function list(argv: string[]): number {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`list takes no arguments, got '${positionals[0]}'`);
  const manifest = loadManifest();
  const data = specs.map((s) => ({
    spec: s.name,
    title: s.title,
    sources: s.sources,
    promise: s.promise,
    configs: s.configs.map((c) => {
      const props = s.build(c).properties.map((p) => ({ kind: p.kind, property: p.name, expected: manifest[s.name]?.[c.name]?.expect[p.name] ?? null }));
      return { config: c.name, default: c.default, description: c.description, properties: props };
    }),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify({ specs: data }, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const s of data) {
    out.push(`${s.spec} — ${s.title} (seeds ${s.sources.join(', ')})`, `  promise: ${s.promise}`);
    for (const c of s.configs) {
      out.push(`  --config ${c.config}${c.default ? ' (default)' : ''}: ${c.description}`);
      for (const p of c.properties) out.push(`      ${p.kind.padEnd(9)} ${p.property}${p.expected ? `  [expected: ${p.expected}]` : ''}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

/** Which spec configurations to run. */
export function select(names: string[], configOpt: string | undefined, allConfigs: boolean): { spec: Spec; config: RunConfig }[] {
  const chosen = names.length ? names : specs.map((s) => s.name);
  const selected: Spec[] = chosen.map((n) => {
    const s = findSpec(n);
    if (!s) throw new UsageError(`unknown spec '${n}' (known: ${specs.map((x) => x.name).join(', ')})`);
    return s;
  });
  const wanted = configOpt?.split(',').map((c) => c.trim()).filter(Boolean);
  if (configOpt !== undefined && !wanted?.length) throw new UsageError('--config needs a configuration name');
  const out: { spec: Spec; config: RunConfig }[] = [];
  for (const spec of selected) {
    if (!wanted) {
      for (const config of spec.configs) if (allConfigs || config.default) out.push({ spec, config });
      continue;
    }
    for (const w of wanted) {
      const config = spec.configs.find((c) => c.name === w);
      if (config) out.push({ spec, config });
      else if (names.length) {
        throw new UsageError(`spec '${spec.name}' has no configuration '${w}' (it has: ${spec.configs.map((c) => c.name).join(', ')})`);
      }
    }
  }
  if (!out.length) throw new UsageError(`no spec has configuration '${configOpt}'`);
  return out;
}

async function check(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    config: { type: 'string' },
    'all-configs': { type: 'boolean' },
    json: { type: 'boolean' },
    'max-states': { type: 'string' },
    'max-memory': { type: 'string' },
    write: { type: 'string' },
    'record-counts': { type: 'boolean' },
  });
  const positionals = parsed.positionals;
  const values = parsed.values as {
    config?: string;
    'all-configs'?: boolean;
    json?: boolean;
    'max-states'?: string;
    'max-memory'?: string;
    write?: string;
    'record-counts'?: boolean;
  };
  const maxStates = positiveInt('max-states', values['max-states']);
  const maxMemoryMb = positiveInt('max-memory', values['max-memory']);
  const jobs = select(positionals, values.config, values['all-configs'] ?? false);
  const manifest = loadManifest();
  const maxBytes = maxMemoryMb !== undefined ? maxMemoryMb * 1024 * 1024 : Math.floor(totalmem() * 0.6);

  // Ctrl-C stops the current exploration; what was found so far is still reported.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ndaxcheck: interrupted, reporting what was found (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  const runs: ConfigRun[] = [];
  try {
    for (const { spec, config } of jobs) {
      if (interrupted) break;
      const progress = process.stderr.isTTY && !values.json;
      const run = await checkConfig(spec, config, manifest[spec.name]?.[config.name], {
        maxStates,
        maxBytes,
        shouldStop: () => interrupted,
        onProgress: progress
          ? (p) => process.stderr.write(`\r  ${spec.name}/${config.name}: ${p.states} states, depth ${p.depth}, ${p.seconds.toFixed(0)} s   `)
          : undefined,
        progressEveryMs: 1000,
      });
      if (progress) process.stderr.write('\r\x1b[K');
      runs.push(run);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (values['record-counts']) recordCounts(runs, manifest);
  if (values.write) writeResults(values.write, runs);
  if (values.json) process.stdout.write(JSON.stringify(toJson(runs, interrupted), null, 2) + '\n');
  else {
    process.stdout.write(renderRuns(runs) + '\n');
    if (interrupted) process.stdout.write(`interrupted: ${jobs.length - runs.length} configuration(s) not run\n`);
  }
  return !interrupted && runs.every(runAsExpected) ? 0 : 1;
}

function toJson(runs: ConfigRun[], interrupted: boolean) {
  return {
    interrupted,
    results: runs.flatMap((r) => r.results),
    runs: runs.map(({ results: _r, ...stats }) => ({ ...stats, asExpected: runAsExpected({ ...stats, results: _r }) })),
  };
}

function recordCounts(runs: ConfigRun[], manifest: ReturnType<typeof loadManifest>): void {
  for (const run of runs) {
    const entry = manifest[run.spec]?.[run.config];
    const verdictsOk = run.results.every((r) => r.verdict === r.expected);
    if (!entry || !run.complete || !verdictsOk) {
      process.stderr.write(`daxcheck: not recording ${run.spec}/${run.config}: ${!entry ? 'no manifest entry' : !run.complete ? 'incomplete run' : 'verdicts differ from the manifest'}\n`);
      continue;
    }
    entry.states = run.states;
    entry.transitions = run.transitions;
    run.expectedStates = run.states;
    run.expectedTransitions = run.transitions;
  }
  saveManifest(manifest);
}

/** DIR/results.json and one JSON file per trace: DIR/traces/<spec>/<config>/<kind>-<n>.json. */
function writeResults(dir: string, runs: ConfigRun[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), JSON.stringify(toJson(runs, false), null, 2) + '\n');
  for (const run of runs) {
    const d = join(dir, 'traces', run.spec, run.config);
    mkdirSync(d, { recursive: true });
    run.results.forEach((r, i) => {
      if (!r.trace) return;
      writeFileSync(join(d, `${i}-${r.kind}.json`), JSON.stringify({ spec: r.spec, config: r.config, property: r.property, kind: r.kind, verdict: r.verdict, ...r.trace }, null, 2) + '\n');
    });
  }
}
