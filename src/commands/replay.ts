/**
 * `daxcheck replay`: runs model traces on a real Linux kernel (QEMU, emulated NVDIMM, ext4 and XFS
 * with DAX), with the power failure at the trace's exact step, and compares what the kernel did
 * with what the model predicts for the rig (see src/replay/). Exit codes: 0 every replayed trace
 * matched or differed only by kernel behaviour written down in src/replay/known.ts (traces of
 * proposals Linux never merged are reported as not replayable, which is not a failure), 1 a
 * mismatch or a VM that failed, 2 bad usage or input (before anything boots).
 */
import { readTrace } from '../input/trace.ts';
import { parse, positiveInt, UsageError } from '../args.ts';
import { checkConfig } from '../check.ts';
import { select } from '../select.ts';
import { findSpec } from '../../specs/index.ts';
import type { DaxRunConfig } from '../../specs/common/spec.ts';
import { coveringTraces } from '../replay/covering.ts';
import { planReplay, type NotReplayable, type ReplayPlan, type TraceInput } from '../replay/program.ts';
import { hostProblem, replayOnHost, replayOnVm, type ReplayResult } from '../replay/run.ts';
import { SMOKE, twoCrashTrace } from '../replay/smoke.ts';
import { FILESYSTEMS, kernelImage, lockRig, rigMissing, type Fs } from '../replay/vm.ts';
import { print, printJson, termLine, warn } from '../terminal.ts';

export const usage = `daxcheck replay [spec...|trace.json...] [--config NAME[,NAME]] [--all-configs] [--covering]
                 [--smoke] [--fs ext4|xfs[,..]] [--host] [--timeout SECONDS] [--dry-run] [--json]`;

interface Row {
  name: string;
  spec: string;
  config: string;
  property: string;
  kind: string;
  /** Other properties whose trace is the same event sequence. */
  alsoFor: string[];
  plan: ReplayPlan | null;
  notReplayable: string | null;
  results: ReplayResult[];
  /** Per filesystem (or host) when the trace cannot run there. */
  skipped: { fs: string; reason: string }[];
}

const looksLikeFile = (arg: string) => arg.endsWith('.json') || arg.includes('/');

/** Counterexamples and witnesses of one configuration, as `daxcheck check` finds them. */
async function tracesOf(specName: string, configName: string): Promise<{ trace: TraceInput; name: string }[]> {
  const spec = findSpec(specName)!;
  const config = spec.configs.find((c) => c.name === configName)!;
  const run = await checkConfig(spec, config, undefined);
  if (!run.complete) throw new UsageError(`${specName}/${configName}: exploration was cut short (${run.stopReason})`);
  return run.results.flatMap((r, i) =>
    r.trace
      ? [{ name: `${spec.name}/${config.name}/${i}-${r.kind}`, trace: { source: `${spec.name}/${config.name}`, spec: spec.name, config: config.name, property: r.property, kind: r.kind, steps: r.trace.steps } }]
      : [],
  );
}

function parseFs(value: string | undefined): Fs[] {
  if (value === undefined) return FILESYSTEMS;
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of list) if (!FILESYSTEMS.includes(f as Fs)) throw new UsageError(`--fs must be ext4 or xfs (comma-separated), got '${f}'`);
  if (!list.length) throw new UsageError('--fs needs a filesystem');
  return [...new Set(list)] as Fs[];
}

/** Runs `daxcheck replay` with its arguments; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    'all-configs': { type: 'boolean' },
    covering: { type: 'boolean' },
    smoke: { type: 'boolean' },
    fs: { type: 'string' },
    host: { type: 'boolean' },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const v = values as { config?: string; 'all-configs'?: boolean; covering?: boolean; smoke?: boolean; fs?: string; host?: boolean; timeout?: string; 'dry-run'?: boolean; json?: boolean };
  const filesystems = parseFs(v.fs);
  if (v.host && v.fs !== undefined) throw new UsageError('--host runs on the host filesystem; --fs does not apply');
  const timeoutS = positiveInt('timeout', v.timeout) ?? 120;
  if (timeoutS > 3600) throw new UsageError(`--timeout is at most 3600 seconds, got ${timeoutS}`);
  const files = positionals.filter(looksLikeFile);
  const specNames = positionals.filter((p) => !looksLikeFile(p));
  if (!files.length && !specNames.length && !v.smoke) throw new UsageError('name a spec, a trace file, or --smoke (see daxcheck help)');
  if (files.length && (v.config || v['all-configs'] || v.covering) && !specNames.length) {
    throw new UsageError('--config, --all-configs and --covering choose configurations of specs; they do not apply to trace files');
  }

  // Everything is read, checked against the model and planned before anything boots.
  const inputs: { name: string; trace: TraceInput }[] = [];
  for (const f of files) {
    const t = readTrace(f);
    const base = `${t.spec}/${t.config}/${f.split('/').pop()!.replace(/\.json$/, '')}`;
    let name = base;
    for (let k = 2; inputs.some((x) => x.name === name); k++) name = `${base}#${k}`;
    inputs.push({ name, trace: t });
  }
  if (specNames.length) {
    for (const { spec, config } of select(specNames, v.config, v['all-configs'] ?? false)) {
      inputs.push(...(await tracesOf(spec.name, config.name)));
      if (v.covering) for (const t of coveringTraces(spec, config as DaxRunConfig)) inputs.push({ name: `${spec.name}/${config.name}/${t.property.replace('covering path to ', 'cover:')}`, trace: t });
    }
  }
  const smokeNames = new Set<string>();
  if (v.smoke) {
    for (const c of SMOKE) {
      const found = (await tracesOf(c.spec, c.config)).find((x) => x.trace.property === c.property);
      if (!found) {
        // The model changed so that this case has no counterexample or witness any more.
        warn(`the smoke case ${c.spec}/${c.config} has no trace for "${c.property}" (${c.shows})`);
        return 1;
      }
      inputs.push(found);
      smokeNames.add(found.name);
    }
    inputs.push({ name: 'baseline/fsync-2crashes/two-crashes', trace: twoCrashTrace() });
    smokeNames.add('baseline/fsync-2crashes/two-crashes');
  }

  const rows: Row[] = [];
  const seen = new Map<string, Row>();
  const slugs = new Set<string>();
  for (const { name, trace } of inputs) {
    const key = `${trace.spec}/${trace.config}:${trace.steps.map((s) => s.event).join(' ')}`;
    const dup = seen.get(key);
    if (dup) {
      if (!dup.alsoFor.includes(trace.property) && dup.property !== trace.property) dup.alsoFor.push(trace.property);
      continue;
    }
    const p = planReplay(trace, name);
    if (!('reason' in p)) {
      // Two trace files of the same name from different folders must not share a run folder.
      let slug = p.slug;
      for (let k = 2; slugs.has(slug); k++) slug = `${p.slug}-${k}`;
      p.slug = slug;
      slugs.add(slug);
    }
    const row: Row = {
      name,
      spec: trace.spec,
      config: trace.config,
      property: trace.property,
      kind: trace.kind,
      alsoFor: [],
      plan: 'reason' in p ? null : p,
      notReplayable: 'reason' in p ? (p as NotReplayable).reason : null,
      results: [],
      skipped: [],
    };
    seen.set(key, row);
    rows.push(row);
  }

  // The smoke set exists to be replayed: one of its traces turning unreplayable (a model change the
  // harness does not translate yet) must fail CI, not shrink the set silently.
  const smokeUnreplayable = rows.filter((r) => smokeNames.has(r.name) && r.notReplayable);
  for (const r of smokeUnreplayable) warn(`smoke trace ${r.name} is not replayable: ${r.notReplayable}`);

  if (v['dry-run']) {
    if (v.json) printJson({ plans: rows.map((r) => ({ trace: r.name, property: r.property, notReplayable: r.notReplayable, notes: r.plan?.notes ?? [], program: r.plan?.program ?? null, model: r.plan?.prediction.durable.text ?? null })) });
    else {
      for (const r of rows) {
        print(`${r.name}: ${r.property}\n`);
        if (r.notReplayable) print(`  not replayable: ${r.notReplayable}\n`);
        else {
          for (const n of r.plan!.notes) print(`  note: ${n}\n`);
          print(`  model after recovery: ${r.plan!.prediction.durable.text}\n`);
          print(r.plan!.program.replace(/^/gm, '    ').replace(/ +$/, ''));
        }
      }
    }
    return smokeUnreplayable.length ? 1 : 0;
  }

  const progress = (msg: string) => process.stderr.write(`replay: ${termLine(msg)}\n`);
  if (v.host) {
    for (const r of rows) {
      if (!r.plan) continue;
      const problem = hostProblem(r.plan);
      if (problem) r.skipped.push({ fs: 'host', reason: problem });
      else {
        const res = replayOnHost(r.plan);
        r.results.push(res);
        progress(`${r.name} on the host: ${res.outcome}`);
      }
    }
  } else if (rows.some((r) => r.plan)) {
    const missing = rigMissing(filesystems);
    if (missing.length) throw new UsageError(`the replay rig is not set up (missing ${missing.join(', ')}): run npm run replay:setup`);
    const lock = lockRig();
    if ('heldBy' in lock) throw new UsageError(`another daxcheck replay is using the rig (pid ${lock.heldBy}); wait for it to finish`);
    const release = () => lock.release();
    process.once('exit', release);
    try {
      for (const r of rows) {
        if (!r.plan) continue;
        for (const fs of filesystems) {
          const res = await replayOnVm(r.plan, fs, { timeoutMs: timeoutS * 1000 });
          r.results.push(res);
          progress(`${r.name} on ${fs}: ${res.outcome} (${res.boots} boots, ${res.seconds} s)`);
        }
      }
    } finally {
      release();
      process.off('exit', release);
    }
  }

  const columns: string[] = v.host ? ['host'] : filesystems;
  if (v.json) printJson(toJson(rows, columns));
  else print(render(rows, columns) + '\n');
  const failed = smokeUnreplayable.length > 0 || rows.some((r) => r.results.some((x) => x.outcome === 'mismatch' || x.outcome === 'error'));
  return failed ? 1 : 0;
}

function cell(r: Row, col: string): string {
  if (r.notReplayable) return 'not replayable';
  const skip = r.skipped.find((s) => s.fs === col);
  if (skip) return 'n/a';
  return r.results.find((x) => x.fs === col)?.outcome ?? '-';
}

function describeTrace(r: Row): string {
  const what = r.kind === 'always' || r.kind === 'deadlock' ? 'counterexample to' : r.kind === 'sometimes' ? 'witness of' : r.kind === 'cover' ? '' : `${r.kind}:`;
  const also = r.alsoFor.length ? ` (also: ${r.alsoFor.map((p) => `"${p}"`).join(', ')})` : '';
  return r.kind === 'cover' ? `${r.property}${also}` : `${what} "${r.property}"${also}`;
}

/** The trace × filesystem table, then the differences, the reasons and the notes. */
export function render(rows: Row[], columns: string[]): string {
  const kernel = kernelImage()?.split('/').pop()?.replace('vmlinuz-', '') ?? 'no kernel';
  const out: string[] = [
    columns.includes('host')
      ? 'replay on the host (no DAX, no power failure: error paths only)'
      : `replay on Linux ${kernel} (QEMU TCG, emulated NVDIMM in fsdax mode; the rig behaves like eADR)`,
  ];
  const width = Math.max(5, ...rows.map((r) => r.name.length));
  out.push(`  ${'trace'.padEnd(width)}  ${columns.map((c) => c.padEnd(14)).join('  ')}`.trimEnd());
  for (const r of rows) {
    out.push(`  ${r.name.padEnd(width)}  ${columns.map((c) => cell(r, c).padEnd(14)).join('  ')}`.trimEnd());
    out.push(`  ${''.padEnd(width)}    ${describeTrace(r)}`);
  }
  const known = rows.flatMap((r) => r.results.filter((x) => x.outcome === 'known').map((x) => ({ r, x })));
  if (known.length) {
    out.push('', 'known kernel behaviour the model leaves out (src/replay/known.ts):');
    for (const { r, x } of known) {
      out.push(`  ${r.name} on ${x.fs}: ${x.known!.id}`);
      for (const d of x.differences) out.push(`    ${d}`);
    }
    for (const id of [...new Set(known.map(({ x }) => x.known!.id))]) {
      out.push(`  ${id}: ${known.find(({ x }) => x.known!.id === id)!.x.known!.explanation}`);
    }
  }
  const bad = rows.flatMap((r) => r.results.filter((x) => x.outcome !== 'match' && x.outcome !== 'known').map((x) => ({ r, x })));
  if (bad.length) {
    out.push('', 'mismatches and errors:');
    for (const { r, x } of bad) {
      out.push(`  ${r.name} on ${x.fs}: ${x.outcome}`);
      for (const d of x.differences) out.push(...d.split('\n').map((l) => `    ${l}`));
      if (x.outcome === 'mismatch') out.push(`    model:  ${x.model}`, `    kernel: ${x.kernel}`);
      out.push(`    logs: ${x.dir}`);
    }
  }
  const nr = rows.filter((r) => r.notReplayable);
  if (nr.length) {
    out.push('', 'not replayable:');
    for (const r of nr) out.push(`  ${r.name}: ${r.notReplayable}`);
  }
  const skipped = rows.flatMap((r) => r.skipped.map((s) => `  ${r.name} (${s.fs}): ${s.reason}`));
  if (skipped.length) out.push('', 'not run:', ...skipped);
  const notes = rows.filter((r) => r.plan?.notes.length);
  if (notes.length) {
    out.push('', 'how the replays differ from the model\'s steps:');
    for (const r of notes) out.push(`  ${r.name}: ${r.plan!.notes.join('; ')}`);
  }
  const all = rows.flatMap((r) => r.results);
  const count = (o: string) => all.filter((x) => x.outcome === o).length;
  out.push('', `${all.length} replay(s): ${count('match')} match, ${count('known')} known divergence, ${count('mismatch')} mismatch, ${count('error')} error; ${nr.length} trace(s) not replayable`);
  // The plain closing line test runners print, so CI logs read the same way.
  const passed = count('match') + count('known');
  out.push(`replays: ${passed} passed, ${all.length - passed} failed`);
  return out.join('\n');
}

function toJson(rows: Row[], columns: string[]) {
  return {
    kernel: kernelImage()?.split('/').pop()?.replace('vmlinuz-', '') ?? null,
    platform: 'eadr',
    columns,
    traces: rows.map((r) => ({
      trace: r.name,
      spec: r.spec,
      config: r.config,
      property: r.property,
      kind: r.kind,
      alsoFor: r.alsoFor,
      notReplayable: r.notReplayable,
      notes: r.plan?.notes ?? [],
      model: r.plan?.prediction.durable.text ?? null,
      results: r.results.map((x) => ({ fs: x.fs, outcome: x.outcome, differences: x.differences, known: x.known, kernel: x.kernel, boots: x.boots, logs: x.dir })),
      skipped: r.skipped,
    })),
  };
}
