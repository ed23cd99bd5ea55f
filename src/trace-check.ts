/**
 * `daxcheck check TRACE.json`: a trace file (written by `check --write`, saved from `daxcheck
 * explore`, or by hand) checked against its spec. Every step is run again through the compiled
 * machine, with the same actions and parameters; the trace is printed as the model words it, with
 * what it shows for each property (violated or reached at which step, or holding all along).
 * Exit 0 when the model makes this trace and it shows what the file says it does (its property's
 * verdict), 1 when it shows something else, 2 when the model does not make it or the file is bad.
 */
import { readFileSync, statSync } from 'node:fs';
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import { findSpec } from '../specs/index.ts';
import { UsageError } from './args.ts';
import { Explorer } from './explore/engine.ts';
import { validateTraceDoc } from './replay/program.ts';
import { resolveSpecs } from './spec-loader.ts';

const MAX_BYTES = 16 * 1024 * 1024;

/** Is this command-line argument a trace file (an existing .json file)? */
export function isTraceFile(arg: string): boolean {
  if (!arg.endsWith('.json')) return false;
  try {
    return statSync(arg).isFile();
  } catch {
    return false;
  }
}

/** Checks trace files; `specArgs` are spec folders (or names) a trace's spec may be found among. */
export async function checkTraceFiles(files: string[], specArgs: string[]): Promise<{ code: number; text: string }> {
  const given = specArgs.length ? (await resolveSpecs(specArgs)).map((s) => s.spec) : [];
  const out: string[] = [];
  let code = 0;
  for (const file of files) {
    const r = checkOne(file, given);
    out.push(r.text);
    code = Math.max(code, r.code);
  }
  return { code, text: out.join('\n\n') };
}

/**
 * What a trace shows for a leads-to property: violated when it is a lasso (`loopStart`) whose
 * cycle returns to the state it starts from, the obligation is open all along the cycle, and the
 * cycle is weakly fair (each fair actor moves in it or is disabled somewhere on it); or when it
 * stops, with the obligation open, where nothing can move.
 */
function lassoShows(x: Explorer, p: Extract<Explorer['properties'][number], { kind: 'leads-to' }>, states: Uint8Array[], events: number[], loopStart: number | undefined): { verdict: string; text: string } {
  const none = { verdict: 'holds', text: 'no lasso: the trace does not show it violated' };
  if (loopStart === undefined) return none;
  const n = states.length - 1;
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (loopStart < n && !same(states[loopStart], states[n])) return { verdict: 'holds', text: `not a lasso: the state after the last step is not the one before step ${loopStart + 1}` };
  const view = (s: Uint8Array) => x.sys.view(s);
  // The obligation opens at some state and stays open (q never) from there to the end.
  let open = -1;
  for (let i = 0; i <= n; i++) {
    const v = view(states[i]);
    if (p.q(v)) open = -1;
    else if (open < 0 && p.p(v)) open = i;
  }
  if (open < 0 || (loopStart < n && open > loopStart)) return { verdict: 'holds', text: 'the obligation is not open all along the cycle' };
  const cycle = states.slice(loopStart, n);
  const enabledActors = (s: Uint8Array) => new Set(x.edges(s).map((e) => p.fairness.actorOf(e.edge.e)).filter((a) => a >= 0));
  if (loopStart === n) {
    if (x.edges(states[n]).length > 0) return { verdict: 'holds', text: 'the trace stops where a step is still possible' };
    return { verdict: 'violated', text: `violated: the obligation open ${open === 0 ? "from the start" : `after step ${open}`} and nothing can move after the last step` };
  }
  const moved = new Set(events.slice(loopStart).map((e) => p.fairness.actorOf(e)).filter((a) => a >= 0));
  for (let a = 0; a < p.fairness.actors.length; a++) {
    if (moved.has(a)) continue;
    if (cycle.every((s) => enabledActors(s).has(a))) return { verdict: 'holds', text: `an unfair lasso: ${p.fairness.actors[a]} could move all along the cycle and never does` };
  }
  return { verdict: 'violated', text: `violated: a fair lasso, the obligation open ${open === 0 ? "from the start" : `after step ${open}`}, steps ${loopStart + 1}..${n} repeat forever` };
}

function checkOne(file: string, given: AnySpec[]): { code: number; text: string } {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) throw new UsageError(`${file}: larger than ${MAX_BYTES} bytes; not a trace file`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the trace ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const t = validateTraceDoc(raw, file);
  const claim = raw as { id?: unknown; verdict?: unknown };
  const spec = given.find((s) => s.name === t.spec) ?? findSpec(t.spec);
  if (!spec) throw new UsageError(`${file}: spec '${t.spec}' is not registered; give its folder too (daxcheck check PATH ${file})`);
  const config = spec.configs.find((c: RunConfig) => c.name === t.config);
  if (!config) throw new UsageError(`${file}: spec '${t.spec}' has no configuration '${t.config}'`);

  const x = new Explorer(spec, config);
  const labels = t.steps.map((s) => s.event);
  const { states, at } = x.walk(labels);
  if (at < labels.length) throw new UsageError(`${file}: step ${at + 1} (${labels[at]}) is not possible at that point in the model of ${t.spec}/${t.config}: the model does not make this trace`);
  const out = [`${file}: ${t.spec}/${t.config}, ${labels.length} steps, every one the model's`];
  const events: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const edge = x.edges(states[i]).find((e) => e.edge.label === labels[i])!.edge;
    events.push(edge.e);
    if (i === t.loopStart) out.push(`  ── from here the last ${labels.length - i} step${labels.length - i === 1 ? '' : 's'} repeat forever ──`);
    const want = JSON.stringify(edge.actions.map((a) => ({ type: a.type, params: a.params ?? null })));
    const got = JSON.stringify(t.steps[i].actions.map((a) => ({ type: a.type, params: a.params ?? null })));
    if (want !== got) throw new UsageError(`${file}: step ${i + 1} (${labels[i]}): the trace's actions ${got.slice(0, 120)} are not the model's ${want.slice(0, 120)}`);
    out.push(`  ${String(i + 1).padStart(String(labels.length).length)}. ${edge.actor}: ${edge.text}`);
  }
  const last = x.info(states[states.length - 1]);
  if (last.durable) out.push(`  durable after crash and recovery: ${last.durable.text}`);

  // What the trace shows for each property.
  const infos = states.map((s) => x.info(s));
  const shows = x.properties.map((p, j) => {
    if (p.kind === 'always') {
      const k = infos.findIndex((s) => !s.props[j]);
      return { id: p.id, name: p.name, verdict: k >= 0 ? 'violated' : 'holds', text: k >= 0 ? `violated at step ${k}` : 'holds along the trace' };
    }
    if (p.kind === 'sometimes') {
      const k = infos.findIndex((s) => s.props[j]);
      return { id: p.id, name: p.name, verdict: k >= 0 ? 'reachable' : 'unreachable', text: k >= 0 ? `reached at step ${k}` : 'not reached' };
    }
    if (p.kind === 'leads-to') return { id: p.id, name: p.name, ...lassoShows(x, p, states, events, t.loopStart) };
    const stuck = !last.props[j];
    return { id: p.id, name: p.name, verdict: stuck ? 'violated' : 'holds', text: stuck ? 'every thread stuck at the end: a deadlock' : 'no deadlock at the end' };
  });
  out.push('  what it shows:');
  const w = Math.max(...shows.map((s) => s.id.length));
  for (const s of shows) out.push(`    ${s.id.padEnd(w)}  ${s.text}`);
  // The file's claim, when it names a property: does the trace show that verdict?
  const claimed = typeof claim.id === 'string' ? shows.find((s) => s.id === claim.id) : undefined;
  if (claimed && typeof claim.verdict === 'string' && claim.verdict !== claimed.verdict) {
    out.push(`  the file says ${claim.id} is ${claim.verdict}; this trace shows it ${claimed.verdict}`);
    return { code: 1, text: out.join('\n') };
  }
  if (claimed) out.push(`  as the file says: ${claimed.id} ${claimed.verdict}`);
  return { code: 0, text: out.join('\n') };
}
