/**
 * A counterexample explained as an argument (after Elle): what was promised, which step made it
 * false, what the volatile state held that the durable state did not when the power failed, what
 * recovery rebuilt, and why that contradicts the property. Built from the trace alone (field names
 * and values), so it reads the same for every spec.
 */
import type { PropertyResult } from '../check.ts';
import type { Trace } from '../trace.ts';
import { esc } from './html.ts';
import { crashSteps, crashes, fieldsOf, laneKind, statesOf } from './timeline.ts';

/** A volatile field and its durable counterpart whose values differ at some state. */
export interface Divergence {
  volatile: string;
  durable: string;
  volatileValue: string;
  durableValue: string;
  /** The step that last changed the volatile field before that state (0: it was so from the start). */
  since: number;
}

/**
 * Durable fields and their volatile twins: `X (committed)` and `X`, or a durable and a cache field
 * naming the same numbers (`pmem 0.1` and `cache 0.1`).
 */
export function twins(fields: string[]): { volatile: string; durable: string }[] {
  const set = new Set(fields);
  const out: { volatile: string; durable: string }[] = [];
  const nums = (f: string) => (f.match(/\d+(?:\.\d+)*/g) ?? []).join(',');
  for (const d of fields) {
    if (laneKind(d) !== 'durable') continue;
    const plain = d.replace(/\s*\((committed|durable|on disk)\)\s*$/i, '').trim();
    if (plain !== d && set.has(plain)) {
      out.push({ volatile: plain, durable: d });
      continue;
    }
    const n = nums(d);
    if (!n) continue;
    const cache = fields.find((f) => f !== d && laneKind(f) === 'cache' && nums(f) === n);
    if (cache) out.push({ volatile: cache, durable: d });
  }
  return out;
}

/** What the volatile state held that the durable state did not, in state `k` of the trace. */
export function divergences(trace: Trace, k: number): Divergence[] {
  const states = statesOf(trace);
  const s = states[k];
  const out: Divergence[] = [];
  for (const { volatile, durable } of twins(fieldsOf(trace).all)) {
    const v = s[volatile];
    const d = s[durable];
    if (v === undefined || d === undefined || v === d) continue;
    // A cache line only matters while dirty; a clean one holds what the media holds.
    if (laneKind(volatile) === 'cache' && !/dirty/i.test(v)) continue;
    let since = 0;
    for (let j = k; j >= 1; j--) {
      if (trace.steps[j - 1].changes.some((c) => c.field === volatile)) {
        since = j;
        break;
      }
    }
    out.push({ volatile, durable, volatileValue: v, durableValue: d, since });
  }
  return out;
}

const code = (t: string) => `<code>${esc(t)}</code>`;
const q = (t: string) => `“${esc(t)}”`;

function stepRef(trace: Trace, k: number): string {
  const s = trace.steps[k - 1];
  return `step ${k} (${esc(s.actor)}: ${esc(s.text)})`;
}

function changeList(trace: Trace, k: number): string {
  const cs = trace.steps[k - 1].changes;
  if (!cs.length) return 'no state field';
  return cs.map((c) => `${code(c.field)} ${code(c.before)} → ${code(c.after)}`).join(', ');
}

/** The argument as HTML paragraphs. `promise` is the spec's promise, when known. */
export function explainHtml(result: PropertyResult, promise: string | null): string {
  const trace = result.trace;
  const out: string[] = [];
  if (promise) out.push(`<p><b>Promised.</b> ${esc(promise)}</p>`);
  if (!trace) {
    out.push(`<p>No trace: ${q(result.property)} is ${esc(result.verdict)}.</p>`);
    return out.join('\n');
  }
  const n = trace.steps.length;
  if (result.kind === 'sometimes') {
    out.push(
      `<p><b>Witness.</b> <code>${esc(result.id)}</code>, ${q(result.property)}, can happen: this is a shortest run to it, ${n} step${n === 1 ? '' : 's'}` +
        (n ? `; ${stepRef(trace, n)} reaches it.` : '; the initial state already has it.') +
        '</p>',
    );
    if (trace.durableAfterCrash) out.push(`<p>The durable state after the crash and recovery: ${esc(trace.durableAfterCrash.text)}.</p>`);
    return out.join('\n');
  }
  if (result.kind === 'deadlock') {
    out.push(`<p><b>Property.</b> <code>${esc(result.id)}</code>, ${q(result.property)}: in no reachable state may a thread be unfinished while no thread can move.</p>`);
    if (n) {
      out.push(`<p><b>Let</b> D = ${stepRef(trace, n)}, the last step of a shortest run to such a state.</p>`);
      out.push(`<p><b>Then</b> after D no thread can take a step, yet some thread has not finished its work; D changed ${changeList(trace, n)}.</p>`);
    } else out.push('<p>The initial state is already stuck.</p>');
    if (trace.waits?.length) {
      out.push(`<p>Who waits for what after ${n ? 'D' : 'the start'}:</p><ul>${trace.waits.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
      out.push('<p>None of them can go on before another does, and no other actor can step in: the waits close on themselves.</p>');
    }
    out.push(`<p><b>Hence</b> a thread waits forever: ${q(result.property)} is violated.</p>`);
    return out.join('\n');
  }

  out.push(`<p><b>Property.</b> <code>${esc(result.id)}</code>, ${q(result.property)}, must hold in every reachable state.</p>`);
  if (n === 0) {
    out.push('<p>It is already false in the initial state.</p>');
    return out.join('\n');
  }
  out.push(
    `<p>The states before step ${n} satisfy it: the search is breadth-first, so any shorter run breaking it would have been reported instead. ` +
      `Step ${n} is the one that makes it false.</p>`,
  );
  const runs = crashes(trace);
  const lastRun = runs.length ? runs[runs.length - 1] : null;
  const crash = lastRun ? lastRun[0] : null;
  if (crash !== null && lastRun) {
    const [, crashEnd] = lastRun;
    const div = divergences(trace, crash - 1);
    const origins = [...new Set(div.map((d) => d.since).filter((s) => s > 0))].sort((a, b) => a - b);
    const names = origins.map((s, i) => ({ s, name: `S${i + 1}` }));
    const nameOf = (s: number) => names.find((x) => x.s === s)?.name;
    const lets = names.map(({ s, name }) => `${name} = ${stepRef(trace, s)}`);
    lets.push(crashEnd > crash ? `C = steps ${crash}–${crashEnd} (${esc(trace.steps[crash - 1].actor)}: ${[...Array(crashEnd - crash + 1).keys()].map((i) => esc(trace.steps[crash + i - 1].text)).join('; ')})` : `C = ${stepRef(trace, crash)}`);
    out.push(`<p><b>Let</b> ${lets.join('; ')}.</p>`);
    if (div.length) {
      const items = div.map(
        (d) =>
          `<li>${code(d.volatile)} held ${code(d.volatileValue)}` +
          (d.since ? ` (since ${nameOf(d.since)})` : ' (from the start)') +
          `, but ${code(d.durable)} held ${code(d.durableValue)}</li>`,
      );
      out.push(`<p><b>Then</b> just before C the volatile state was ahead of the durable state:</p><ul>${items.join('')}</ul>`);
      out.push('<p>Nothing between those steps and C made them durable. C keeps only what is durable (and whatever dirty lines the crash image lets reach the media), and recovery rebuilds the file from that.</p>');
    } else {
      out.push('<p><b>Then</b> C keeps only the durable state (and whatever dirty lines the crash image lets reach the media), and recovery rebuilds the file from it.</p>');
    }
    const after = [...Array(n - crashEnd).keys()].map((i) => stepRef(trace, crashEnd + i + 1));
    if (after.length) out.push(`<p>After C: ${after.join('; ')}.</p>`);
    if (trace.durableAfterCrash) out.push(`<p><b>So after the crash and recovery</b> the durable state is: ${esc(trace.durableAfterCrash.text)}.</p>`);
    out.push(`<p><b>However</b> the property says ${q(result.property)}, and the recovered state does not satisfy it: a contradiction. The promise does not survive this crash.</p>`);
  } else {
    out.push(`<p><b>Let</b> F = ${stepRef(trace, n)}. F changed ${changeList(trace, n)}.</p>`);
    out.push(`<p><b>However</b> the property says ${q(result.property)}, and the state after F does not satisfy it: a contradiction, with no crash needed.</p>`);
  }
  return out.join('\n');
}

/** A one-line summary of a result's trace, for lists and the design review. */
export function traceSummary(result: PropertyResult): string {
  const t = result.trace;
  if (!t) return '';
  const n = t.steps.length;
  const crash = crashSteps(t).length ? ', with a power failure' : '';
  return `${n} step${n === 1 ? '' : 's'}${crash}`;
}
