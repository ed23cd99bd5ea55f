/**
 * The bench's count check: every tool must find the same distinct reachable states of the
 * reference model (../shared/bench/MODEL.md), so a bench whose explorer counts differently from
 * MODEL.md's table, from its own parallel engine, or from Spin in the same run measured something
 * else, and fails.
 */

/** MODEL.md's table, by `T,B`. */
export const MODEL_MD_COUNTS: Record<string, { states: number; transitions: number }> = {
  '2,3': { states: 205_595, transitions: 1_764_867 },
  '2,4': { states: 12_118_657, transitions: 126_718_843 },
};

export interface Counts {
  states: number;
  transitions: number;
}

/** What the bench learnt from Spin: its JSON line, a reason it was not run, or why it failed. */
export type SpinResult = { states?: unknown; skipped?: string; failed?: string } & Record<string, unknown>;

export interface CountCheck {
  /** One line for the text output: each comparison and its result. */
  line: string;
  /** Empty when every count agrees; otherwise one short sentence per disagreement. */
  failures: string[];
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * Compares the explorer's counts with MODEL.md's table for T, B, with the parallel engine's (when
 * it ran) and with Spin's state count (Spin reports no transitions comparable to ours).
 */
export function checkCounts(T: number, B: number, ours: Counts, parallel: Counts | null, spin: SpinResult | null): CountCheck {
  const parts: string[] = [`explorer ${n(ours.states)} states / ${n(ours.transitions)} transitions`];
  const failures: string[] = [];
  const table = MODEL_MD_COUNTS[`${T},${B}`];
  if (!table) parts.push(`MODEL.md: no count for T=${T}, B=${B}`);
  else {
    const same = table.states === ours.states && table.transitions === ours.transitions;
    parts.push(`MODEL.md ${n(table.states)} / ${n(table.transitions)}: ${same ? 'same' : 'DIFFERENT'}`);
    if (!same) failures.push(`the explorer counted ${n(ours.states)} states / ${n(ours.transitions)} transitions, MODEL.md says ${n(table.states)} / ${n(table.transitions)} for T=${T}, B=${B}`);
  }
  if (parallel) {
    const same = parallel.states === ours.states && parallel.transitions === ours.transitions;
    parts.push(`parallel ${n(parallel.states)} / ${n(parallel.transitions)}: ${same ? 'same' : 'DIFFERENT'}`);
    if (!same) failures.push(`the parallel explorer counted ${n(parallel.states)} states / ${n(parallel.transitions)} transitions, the sequential one ${n(ours.states)} / ${n(ours.transitions)}`);
  }
  if (!spin) parts.push('Spin: not run (--no-spin)');
  else if (spin.skipped) parts.push(`Spin: not run (${spin.skipped})`);
  else if (spin.failed) {
    parts.push(`Spin: FAILED (${spin.failed})`);
    failures.push(`Spin failed: ${spin.failed}`);
  } else if (typeof spin.states !== 'number' || !Number.isFinite(spin.states)) {
    parts.push('Spin: NO STATE COUNT');
    failures.push(`Spin reported no state count (${JSON.stringify(spin).slice(0, 120)})`);
  } else {
    const same = spin.states === ours.states;
    parts.push(`Spin ${n(spin.states)} states: ${same ? 'same' : 'DIFFERENT'}`);
    if (!same) failures.push(`Spin counted ${n(spin.states)} states, the explorer ${n(ours.states)} (T=${T}, B=${B})`);
  }
  return { line: parts.join('; '), failures };
}
