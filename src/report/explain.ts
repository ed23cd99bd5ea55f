/**
 * A counterexample explained as an argument (after Elle): what was promised, which step made it
 * false, what the volatile state held that the durable state did not when the power failed, what
 * recovery rebuilt, and why that contradicts the property. Built from the trace alone (field names
 * and values), so it reads the same for every spec.
 */
import type { PropertyResult } from '../check.ts';
import type { Trace } from '../trace.ts';
import { esc } from './html.ts';
import type { Race } from './race.ts';
import { crashSteps, crashes, fieldsOf, laneKind, statesOf } from './timeline.ts';
import { firstCycle } from '../../checker/cycle.ts';

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
 * Durable fields and their volatile twins, as the trace declares them (FieldInfo.durable: `block 1`
 * runs ahead of `block 1 (committed)`, `cache 1.0` of `pmem 1.0`). A trace that declares nothing
 * (written before declarations) pairs `X` with `X (committed)` by name.
 */
export function twins(trace: Trace): { volatile: string; durable: string }[] {
  const fields = fieldsOf(trace).all;
  const set = new Set(fields);
  const out: { volatile: string; durable: string }[] = [];
  if (trace.fieldInfo) {
    for (const f of fields) {
      const d = trace.fieldInfo[f]?.durable;
      if (d && set.has(d)) out.push({ volatile: f, durable: d });
    }
    return out;
  }
  for (const d of fields) {
    const plain = d.replace(/\s*\((committed|durable|on disk)\)\s*$/i, '').trim();
    if (plain !== d && set.has(plain)) out.push({ volatile: plain, durable: d });
  }
  return out;
}

/** What the volatile state held that the durable state did not, in state `k` of the trace. */
export function divergences(trace: Trace, k: number): Divergence[] {
  const states = statesOf(trace);
  const s = states[k];
  const out: Divergence[] = [];
  for (const { volatile, durable } of twins(trace)) {
    const v = s[volatile];
    const d = s[durable];
    if (v === undefined || d === undefined || v === d) continue;
    // A cache line only matters while dirty; a clean one holds what the media holds.
    if (laneKind(trace, volatile) === 'cache' && !/dirty/i.test(v)) continue;
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

/** The argument as HTML paragraphs, and the fields it cites (the timeline draws each of them). */
export interface Argument {
  html: string;
  /** State fields the argument names, in the order it names them. */
  cites: string[];
}

/** The argument as HTML paragraphs. `promise` is the spec's promise, when known. */
export function explainHtml(result: PropertyResult, promise: string | null, race: Race | null = null): string {
  return argumentOf(result, promise, race).html;
}

/** What each waiting actor holds and waits for, as a list (the wait-for graph draws the same). */
function waitsList(trace: Trace): string {
  const g = trace.waitGraph ?? [];
  if (!g.length) return `<ul>${(trace.waits ?? []).map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
  const lastOf = (actor: string) => {
    for (let k = trace.steps.length; k >= 1; k--) if (trace.steps[k - 1].actor === actor) return k;
    return 0;
  };
  return (
    '<ul class="waits">' +
    g
      .map((w) => {
        const k = lastOf(w.actor);
        return (
          `<li><b>${esc(w.actor)}</b> waits for <b>${esc(w.waitsFor)}</b>${w.where ? ` in ${code(w.where)}` : ''}, which ${esc(w.on)} must give up first; ` +
          `it holds ${w.holds.length ? w.holds.map(esc).join(', ') : 'nothing'}; ` +
          (k ? `its last step is step ${k} (${esc(trace.steps[k - 1].text)})` : 'it takes no step in this trace (it was already there)') +
          '.</li>'
        );
      })
      .join('') +
    '</ul>'
  );
}

/** The race paragraph: each actor's steps that matter, then the orders that break the property. */
function raceHtml(trace: Trace, race: Race): string {
  const ref = (k: number) => `step ${k} (${esc(trace.steps[k - 1].actor)}: ${esc(trace.steps[k - 1].text)})`;
  const who = race.steps.map((x) => `${esc(x.actor)}: step${x.steps.length > 1 ? 's' : ''} ${x.steps.join(', ')}`).join('; ');
  const orders = race.orders.map((o) =>
    o.kind === 'race'
      ? `<li>${ref(o.first)} <b>before</b> ${ref(o.second)}: in the other order the property holds.</li>`
      : `<li>${ref(o.second)} <b>only after</b> ${ref(o.first)}: it cannot run before it.</li>`,
  );
  const chain = race.orders
    .flatMap((o) => [o.first, o.second])
    .filter((k, i, a) => a.indexOf(k) === i)
    .sort((a, b) => a - b)
    .map((k) => `${esc(trace.steps[k - 1].actor)} ${esc(shortText(trace.steps[k - 1].text))}`);
  return (
    `<p><b>The race.</b> The steps of ${race.steps.map((x) => esc(x.actor)).join(', ')} interleave; the steps that matter are ${who}. ` +
    'The order that breaks the property (each pair was tried the other way round on the same machine):</p>' +
    `<ul class="race">${orders.join('')}</ul>` +
    `<p>In short: ${chain.join('; then ')}.</p>`
  );
}

/** A step's text up to its first clause: `radix_tree_tag_clear(index 0, TOWRITE) on the PTE entry`. */
function shortText(text: string): string {
  const cut = text.search(/;\s/);
  return cut > 0 ? text.slice(0, cut) : text;
}

/** The argument, and the fields it cites. */
export function argumentOf(result: PropertyResult, promise: string | null, race: Race | null = null, opts: { shortest?: boolean } = {}): Argument {
  const trace = result.trace;
  // A trace from a search is the shortest; one read from a file (walked by hand) need not be.
  const shortest = opts.shortest ?? true;
  const out: string[] = [];
  const cites: string[] = [];
  const cite = (f: string) => {
    if (!cites.includes(f)) cites.push(f);
  };
  if (promise) out.push(`<p><b>Promised.</b> ${esc(promise)}</p>`);
  if (!trace) {
    out.push(`<p>No trace: ${q(result.property)} is ${esc(result.verdict)}.</p>`);
    return { html: out.join('\n'), cites };
  }
  const n = trace.steps.length;
  if (result.kind === 'sometimes') {
    out.push(
      `<p><b>Witness.</b> <code>${esc(result.id)}</code>, ${q(result.property)}, can happen: this is ${shortest ? 'a shortest run' : 'a run'} to it, ${n} step${n === 1 ? '' : 's'}` +
        (n ? `; ${stepRef(trace, n)} reaches it.` : '; the initial state already has it.') +
        '</p>',
    );
    if (trace.durableAfterCrash) out.push(`<p>The durable state after the crash and recovery: ${esc(trace.durableAfterCrash.text)}.</p>`);
    return { html: out.join('\n'), cites };
  }
  if (result.kind === 'leads-to') {
    const loop = trace.loopStart ?? n;
    const k = n - loop;
    out.push(`<p><b>Property.</b> <code>${esc(result.id)}</code>, ${q(result.property)}: once the obligation opens, it must be met, on every run that is weakly fair to the threads and the journal (none of them stays able to move forever without moving).</p>`);
    out.push(
      k > 0
        ? `<p><b>A lasso.</b> ${loop ? `Steps 1 to ${loop} are the stem, a run to the cycle; s` : 'S'}teps ${loop + 1} to ${n} are the cycle: after ${stepRef(trace, n)} the state is again the one before ${stepRef(trace, loop + 1)}, so those ${k} step${k === 1 ? '' : 's'} can repeat forever.</p>`
        : `<p><b>A stop.</b> After ${n ? stepRef(trace, n) : 'the start'} nothing can move at all, so the run ends there forever.</p>`,
    );
    out.push(
      k > 0
        ? `<p><b>Fair.</b> Every thread or journal that could move in every state of the cycle takes a step in it (the rest are each unable to move somewhere on it): the scheduler is not starving anyone; the obligation is never met all the same.</p>`
        : '<p><b>Fair.</b> No actor can move there, so no fairness is broken, and the obligation is still open.</p>',
    );
    out.push(`<p><b>Hence</b> ${q(result.property)} is violated: a livelock${k > 0 ? '' : ' (the run stops with the obligation open)'}.</p>`);
    return { html: out.join('\n'), cites };
  }
  if (result.kind === 'deadlock') {
    out.push(`<p><b>Property.</b> <code>${esc(result.id)}</code>, ${q(result.property)}: in no reachable state may a thread be unfinished while no thread can move.</p>`);
    if (n) {
      out.push(`<p><b>Let</b> D = ${stepRef(trace, n)}, the last step of ${shortest ? 'a shortest' : 'a'} run to such a state.</p>`);
      out.push(`<p><b>Then</b> after D no thread can take a step, yet some thread has not finished its work; D changed ${changeList(trace, n)}.</p>`);
      for (const c of trace.steps[n - 1].changes) cite(c.field);
    } else out.push('<p>The initial state is already stuck.</p>');
    if (trace.waitGraph?.length || trace.waits?.length) {
      out.push(`<p>Who waits for what after ${n ? 'D' : 'the start'} (the wait-for graph below draws it):</p>${waitsList(trace)}`);
      const cycle = waitCycleOf(trace);
      out.push(
        cycle
          ? `<p>The waits close on themselves: ${cycle.map(esc).join(' → ')}. None of them can go on before another does, and no other actor can step in.</p>`
          : '<p>None of them can go on before another does, and no other actor can step in: the waits close on themselves.</p>',
      );
    }
    out.push(`<p><b>Hence</b> a thread waits forever: ${q(result.property)} is violated.</p>`);
    return { html: out.join('\n'), cites };
  }

  out.push(`<p><b>Property.</b> <code>${esc(result.id)}</code>, ${q(result.property)}, must hold in every reachable state.</p>`);
  if (n === 0) {
    out.push('<p>It is already false in the initial state.</p>');
    return { html: out.join('\n'), cites };
  }
  out.push(
    shortest
      ? `<p>The states before step ${n} satisfy it: the search is breadth-first, so any shorter run breaking it would have been reported instead. Step ${n} is the one that makes it false.</p>`
      : `<p>This run was not found by a search (it comes from a trace file), so it need not be the shortest; its last state breaks the property.</p>`,
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
      const items = div.map((d) => {
        cite(d.volatile);
        cite(d.durable);
        return (
          `<li>${code(d.volatile)} held ${code(d.volatileValue)}` +
          (d.since ? ` (since ${nameOf(d.since)})` : ' (from the start)') +
          `, but ${code(d.durable)} held ${code(d.durableValue)}</li>`
        );
      });
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
    const last = trace.steps[n - 1];
    const outcome = last.outcome && Object.keys(last.outcome).length ? ` Its outcome: ${code(JSON.stringify(last.outcome))}.` : '';
    if (last.changes.length) {
      for (const c of last.changes) cite(c.field);
      out.push(`<p><b>Let</b> F = ${stepRef(trace, n)}. F changed ${changeList(trace, n)}.${outcome}</p>`);
    } else {
      out.push(
        `<p><b>Let</b> F = ${stepRef(trace, n)}. F changes no field the timeline shows: it does what the state before it allows, ` +
          `and that state is wrong because of the order of the steps before it${race ? ' (the race below)' : ''}.${outcome}</p>`,
      );
    }
    if (race) {
      out.push(raceHtml(trace, race));
      for (const k of race.steps.flatMap((x) => x.steps)) for (const c of trace.steps[k - 1].changes) cite(c.field);
    }
    out.push(`<p><b>However</b> the property says ${q(result.property)}, and the state after F does not satisfy it: a contradiction, with no crash needed.</p>`);
  }
  return { html: out.join('\n'), cites };
}

/** The cycle of the wait-for graph (actors, first = last), or null. */
export function waitCycleOf(trace: Trace): string[] | null {
  return firstCycle((trace.waitGraph ?? []).map((w) => [w.actor, w.on] as const));
}

/** A one-line summary of a result's trace, for lists and the design review. */
export function traceSummary(result: PropertyResult): string {
  const t = result.trace;
  if (!t) return '';
  const n = t.steps.length;
  const crash = crashSteps(t).length ? ', with a power failure' : '';
  return `${n} step${n === 1 ? '' : 's'}${crash}`;
}
