/**
 * Running a replay plan: on the VM (one boot per run segment, each ending in the power failure at
 * its step, then one boot that recovers and inspects), or on the host (no DAX, no crash: only the
 * results of the calls up to the first crash step are compared).
 *
 * Files go to harness/work/runs/<trace>-<fs>/ (host: harness/work/host/<trace>/) and nowhere
 * else. The disk image and initramfs of a replay that matched are removed; its logs are kept.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpioArchive } from './cpio.ts';
import { compare, emptyObservation, isMissing, kernelSummary, parseSerial, type Observation } from './compare.ts';
import type { ReplayPlan } from './program.ts';
import { knownDivergence } from './known.ts';
import { boot, buildReplayer, GUEST_EXIT, paths, tail, type Fs } from './vm.ts';
import { UsageError } from '../args.ts';

/** `known`: the differences are kernel behaviour the model leaves out, written down in known.ts. */
export type Outcome = 'match' | 'mismatch' | 'known' | 'error';

export interface ReplayResult {
  name: string;
  fs: Fs | 'host';
  outcome: Outcome;
  /** One line per difference (mismatch) or the error. */
  differences: string[];
  /** The model's durable state after recovery, and the kernel's. */
  model: string;
  kernel: string;
  boots: number;
  seconds: number;
  /** Where the serial logs are. */
  dir: string;
  notes: string[];
  /** For `known`: the rule that explains the differences. */
  known: { id: string; explanation: string } | null;
}

export interface VmOptions {
  /** Per boot; a VM still running then is killed. */
  timeoutMs: number;
}

/** Replays a plan on the VM with filesystem `fs`. */
export async function replayOnVm(plan: ReplayPlan, fs: Fs, o: VmOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const dir = join(paths.runs, `${plan.slug}-${fs}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'program.txt'), plan.program);
  const image = join(dir, 'pmem.img');
  const initrd = join(dir, 'initrd.cpio');
  const r = spawnSync('cp', ['--sparse=always', '--reflink=auto', paths.golden(fs), image]);
  if (r.status !== 0) copyFileSync(paths.golden(fs), image);
  writeFileSync(initrd, Buffer.concat([readFileSync(paths.baseCpio), cpioArchive([{ name: 'program.txt', data: Buffer.from(plan.program) }])]));

  const obs: Observation = emptyObservation();
  const result = (outcome: Outcome, differences: string[], boots: number): ReplayResult => {
    if (outcome === 'match' || outcome === 'known') {
      rmSync(image, { force: true });
      rmSync(initrd, { force: true });
    }
    return {
      name: plan.name,
      fs,
      outcome,
      differences,
      model: plan.prediction.durable.text,
      kernel: kernelSummary(plan, obs),
      boots,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      dir,
      notes: plan.notes,
      known: null,
    };
  };
  const params = { fs, dax: plan.config.dax ? 1 : 0 };
  const phases: { phase: string; seg: number; want: number }[] = [...Array(plan.segments).keys()].map((seg) => ({ phase: 'run', seg, want: GUEST_EXIT.crash }));
  phases.push({ phase: 'inspect', seg: 0, want: GUEST_EXIT.done });
  let boots = 0;
  for (const p of phases) {
    const log = join(dir, p.phase === 'run' ? `run-${p.seg}.log` : 'inspect.log');
    const b = await boot({ image, fs, initrd, params: { ...params, phase: p.phase, seg: p.seg }, log, timeoutMs: o.timeoutMs });
    boots++;
    parseSerial(b.serial, obs);
    const what = p.phase === 'run' ? `run segment ${p.seg}` : 'the inspection after recovery';
    if (b.timedOut) {
      const shown = b.serial.trim() ? tail(b.serial) : '(empty: nothing reached the serial console yet; the boot is quiet until /init)';
      return result('error', [`the VM hung during ${what}: killed after ${o.timeoutMs / 1000} s; serial log ${log}:\n${shown}`], boots);
    }
    if (b.status !== p.want) {
      const why = obs.errors.length ? obs.errors.join('; ') : b.status === 0 ? 'the kernel panicked or powered off' : `QEMU exit status ${b.status}`;
      return result('error', [`${what} did not end as planned (${why}); serial log ${log}:\n${tail(b.serial)}${b.stderr ? `\nqemu: ${b.stderr.trim()}` : ''}`], boots);
    }
  }
  const v = verdict(plan, fs, obs);
  return { ...result(v.outcome, v.differences, boots), known: v.known };
}

/**
 * The outcome of a replay whose boots all ended as planned: a line missing from the serial log is
 * an error (nothing was compared there); differences that a rule of known.ts explains are known;
 * any others a mismatch.
 */
export function verdict(plan: ReplayPlan, fs: Fs, obs: Observation): { outcome: Outcome; differences: string[]; known: ReplayResult['known'] } {
  const diffs = compare(plan, obs);
  if (diffs.some(isMissing)) return { outcome: 'error', differences: diffs, known: null };
  const known = knownDivergence(plan, fs, diffs, obs);
  if (known) return { outcome: 'known', differences: diffs, known: { id: known.id, explanation: known.explanation } };
  return { outcome: diffs.length ? 'mismatch' : 'match', differences: diffs, known: null };
}

/** Can this plan run on the host at all? Null when it can, else why not. */
export function hostProblem(plan: ReplayPlan): string | null {
  if (plan.config.dax) return 'the host has no DAX: only traces of non-DAX configurations (their error paths) run there';
  return null;
}

/** Runs the plan's first segment on the host, without a VM and without a crash. */
export function replayOnHost(plan: ReplayPlan): ReplayResult {
  const t0 = performance.now();
  const dir = join(paths.host, plan.slug);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const program = join(dir, 'program.txt');
  const file = join(dir, 'log');
  writeFileSync(program, plan.program);
  writeFileSync(file, '');
  const problem = buildReplayer();
  if (problem) throw new UsageError(problem);
  const r = spawnSync(paths.replayer, ['run', program, '0', file, '--host'], { encoding: 'utf8', timeout: 30_000 });
  writeFileSync(join(dir, 'output.log'), (r.stdout ?? '') + (r.stderr ?? ''));
  const obs = parseSerial(r.stdout ?? '');
  const diffs = r.status === 0 ? compare(plan, obs, { host: true }) : [`the replayer failed on the host (exit ${r.status}): ${(obs.errors.join('; ') || r.stderr || '').trim()}`];
  return {
    name: plan.name,
    fs: 'host',
    outcome: r.status !== 0 || diffs.some(isMissing) ? 'error' : diffs.length ? 'mismatch' : 'match',
    differences: diffs,
    model: '(not compared on the host)',
    kernel: '(no crash on the host)',
    boots: 0,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    dir,
    notes: ['host run: no DAX and no power failure, only the results of the calls before the first crash step are compared'],
    known: null,
  };
}
