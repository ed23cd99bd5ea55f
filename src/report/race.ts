/**
 * The race behind a counterexample without a crash: which steps of which actors matter, and the
 * order among them that breaks the property. Found by trying the other order: two adjacent steps
 * of different actors are swapped and the trace is run again through the compiled machine. If
 * the swapped run is possible and keeps the property, the order of those two steps is part of
 * the race; if the later step cannot run before the earlier one, it depends on it.
 */
import type { Trace } from '../trace.ts';
import { crashSteps } from './timeline.ts';

/** Runs sequences of events (by label) through a configuration's compiled machine. */
export interface Replayer {
  /**
   * Runs the events from the initial state, stopping at the first that is not enabled: how many
   * ran, and whether a state along the way breaks the property.
   */
  run(labels: string[]): { ran: number; violated: boolean };
  /**
   * Can any continuation from the state these events lead to break the property? Every state
   * reachable from there is explored; null when there are too many to tell.
   */
  canBreakAfter(labels: string[]): boolean | null;
}

export interface RaceOrder {
  /** Step numbers (1-based), `first` before `second` in the trace. */
  first: number;
  second: number;
  /** race: the other order keeps the property; after: `second` cannot run before `first`. */
  kind: 'race' | 'after';
}

export interface Race {
  /** Each actor's steps that matter, in the order actors first act. */
  steps: { actor: string; steps: number[] }[];
  /** The orders that matter, in trace order. */
  orders: RaceOrder[];
}

/** Do two or more actors interleave (one acts, another, then the first again)? */
export function interleaves(trace: Trace): boolean {
  const seen: string[] = [];
  for (const s of trace.steps) {
    const last = seen[seen.length - 1];
    if (last === s.actor) continue;
    if (seen.includes(s.actor)) return true;
    seen.push(s.actor);
  }
  return false;
}

/**
 * The race of a trace that breaks an invariant without a crash, or null when its actors do not
 * interleave or no order between them matters.
 */
export function findRace(trace: Trace, replay: Replayer): Race | null {
  const n = trace.steps.length;
  if (n < 2 || crashSteps(trace).length || !interleaves(trace)) return null;
  const labels = trace.steps.map((s) => s.event);
  // The trace itself must replay and break the property, or nothing here can be trusted.
  const self = replay.run(labels);
  if (self.ran !== n || !self.violated) return null;
  const orders: RaceOrder[] = [];
  for (let i = 0; i + 1 < n; i++) {
    const a = trace.steps[i];
    const b = trace.steps[i + 1];
    if (a.actor === b.actor) continue;
    // The other order, then the rest of the trace as far as it can go; where it cannot, any
    // continuation at all.
    const swapped = [...labels.slice(0, i), labels[i + 1], labels[i], ...labels.slice(i + 2)];
    const r = replay.run(swapped);
    if (r.ran <= i) orders.push({ first: i + 1, second: i + 2, kind: 'after' });
    else if (r.violated) continue;
    else if (r.ran === n || replay.canBreakAfter(swapped.slice(0, r.ran)) === false) orders.push({ first: i + 1, second: i + 2, kind: 'race' });
  }
  if (!orders.some((o) => o.kind === 'race')) return null;
  // Dependencies matter where they link the race to the end: keep an `after` only when its
  // second step is the last step or a step of a race order, or leads (by further afters) to one.
  const racing = new Set(orders.filter((o) => o.kind === 'race').flatMap((o) => [o.first, o.second]));
  const keep = new Set<RaceOrder>(orders.filter((o) => o.kind === 'race'));
  let grew = true;
  while (grew) {
    grew = false;
    for (const o of orders) {
      if (keep.has(o)) continue;
      if (racing.has(o.first) && (o.second === n || racing.has(o.second) || orders.some((p) => keep.has(p) && p.first === o.second))) {
        keep.add(o);
        racing.add(o.second);
        grew = true;
      }
    }
  }
  const kept = orders.filter((o) => keep.has(o));
  const stepsByActor: { actor: string; steps: number[] }[] = [];
  for (const k of [...racing].sort((x, y) => x - y)) {
    const actor = trace.steps[k - 1].actor;
    let e = stepsByActor.find((x) => x.actor === actor);
    if (!e) stepsByActor.push((e = { actor, steps: [] }));
    e.steps.push(k);
  }
  return { steps: stepsByActor, orders: kept };
}
