/**
 * Human output of `daxcheck check`: a verdict table, then each counterexample step by step in
 * kernel terms, then what the explorer measured.
 */
import { deadSpecCode, probability, runAsExpected, verdictText, type ConfigRun, type PropertyResult } from './check.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** VIOLATED, HOLDS, or "HOLDS (probably, p = 1.2e-9)" under hash compaction. */
function shownVerdict(r: PropertyResult): string {
  const text = verdictText(r);
  return r.verdict.toUpperCase() + text.slice(r.verdict.length);
}

function mark(r: PropertyResult, run?: ConfigRun): string {
  if (r.expected === null) return 'no expectation recorded';
  if (run?.shard?.split && r.verdict === 'unknown') return 'left to the merge';
  return r.verdict === r.expected ? 'as expected' : `UNEXPECTED (expected ${r.expected})`;
}

export function renderTable(runs: ConfigRun[]): string {
  const rows = runs.flatMap((run) =>
    run.results.map((r) => [`${r.spec}/${r.config}${run.shard ? ` (shard ${run.shard.index}/${run.shard.count})` : ''}`, r.kind, shownVerdict(r), mark(r, run), r.id, r.property]),
  );
  const head = ['configuration', 'kind', 'verdict', 'vs manifest', 'id', 'property'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  widths[widths.length - 1] = 0;
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? 8 : w))), ...rows.map(line)].join('\n');
}

/**
 * A trace step by step. `shortest`: found breadth-first, so no shorter one exists (check); a
 * simulation's trace is shrunk instead (1-minimal: no single step can be left out).
 */
export function renderTrace(r: PropertyResult, shortest = true): string {
  if (!r.trace) return '';
  const title =
    r.kind === 'sometimes'
      ? `witness for ${r.id} ("${r.property}")`
      : r.kind === 'deadlock'
        ? `${shortest ? 'shortest ' : ''}path to a deadlock (${r.id}: "${r.property}")`
        : r.kind === 'leads-to'
          ? `lasso counterexample to ${r.id} ("${r.property}")`
          : `${shortest ? 'shortest ' : ''}counterexample to ${r.id} ("${r.property}")`;
  const out = [`${r.spec}/${r.config}: ${title}, ${r.trace.steps.length} steps`];
  const w = String(r.trace.steps.length).length;
  const loop = r.trace.loopStart;
  r.trace.steps.forEach((s, i) => {
    if (i === loop) out.push(`  ${' '.repeat(w)}  ── ${loopBanner(r.trace!.steps.length - loop)} ──`);
    out.push(`  ${String(i + 1).padStart(w)}. ${s.actor}: ${s.text}`);
  });
  if (loop !== undefined) {
    const n = r.trace.steps.length - loop;
    out.push(
      n > 0
        ? `  ${' '.repeat(w)}  ── back to the state before step ${loop + 1}: the last ${n} step${n === 1 ? '' : 's'} repeat forever, each actor that could always move moves (weak fairness) ──`
        : `  ${' '.repeat(w)}  ── nothing can move after step ${loop}: the run stops here forever ──`,
    );
  }
  if (r.trace.durableAfterCrash) out.push(`  durable after crash and recovery: ${r.trace.durableAfterCrash.text}`);
  if (r.trace.waits?.length) out.push('  cycle of waits:', ...r.trace.waits.map((w) => `    ${w}`));
  return out.join('\n');
}

/** The line before a lasso's cycle. */
export function loopBanner(n: number): string {
  return n > 0 ? `from here the last ${n} step${n === 1 ? '' : 's'} repeat forever` : 'the run stops here';
}

export function renderStats(run: ConfigRun): string {
  const parts = [
    `${run.spec}/${run.config}: ${run.states} states, ${run.transitions} transitions, depth ${run.depth}, ` +
      `${run.seconds.toFixed(2)} s (${run.statesPerSecond} states/s, ${run.stateBits} bits/state)` +
      (run.complete ? (run.shard?.split ? '' : run.omissionProbability !== undefined ? ', exhaustive within its bounds unless a state was missed (below)' : ', exhaustive within its bounds') : `, INCOMPLETE: ${run.stopReason}`),
  ];
  const sh = run.shard;
  if (run.omissionProbability !== undefined) {
    parts.push(`  hash compaction: ${run.bytesPerState} bytes/state; the probability that a state was missed (two states with one fingerprint) is at most ${probability(run.omissionProbability)}`);
  }
  if (run.crashImages) {
    const { raw, distinct } = run.crashImages;
    const figures = [raw !== undefined ? `${raw} word by word` : null, distinct !== undefined ? `${distinct} distinct (reduced)` : null].filter(Boolean).join(', ');
    parts.push(`  crash images: ${figures}${run.crashReduction === false ? '; crash-image reduction off, state counts not compared with the manifest' : ''}`);
  }
  for (const r of run.results) if (r.undecided) parts.push(`  ${r.id}: unknown, ${r.undecided}`);
  if (run.symmetry) parts.push(`  symmetry reduction: one state per class of states that differ only by a permutation of ${run.symmetry}`);
  else if (run.symmetry === null) parts.push('  symmetry reduction: nothing interchangeable in this configuration; explored without it');
  if (sh?.split) {
    parts.push(
      `  shard ${sh.index} of ${sh.count}: split at depth ${sh.depth}, where ${sh.frontier} of the level's states are this shard's; ` +
        `the ${sh.sharedStates} states up to there are every shard's; merge the shards' --json output with daxcheck merge`,
    );
  } else if (sh) parts.push(`  shard ${sh.index} of ${sh.count}: the search ended before any level was large enough to split it, so this run is whole`);
  if (run.complete && !sh?.split && run.expectedStates !== null && (run.expectedStates !== run.states || run.expectedTransitions !== run.transitions)) {
    parts.push(`  state space differs from the manifest: ${run.expectedStates} states / ${run.expectedTransitions} transitions recorded${run.symmetry ? ' (with symmetry reduction)' : ''}`);
  }
  if (run.complete && !sh?.split && run.expectedStates === null) parts.push(`  no state count recorded in the manifest${run.symmetry ? ' for a run with symmetry reduction' : ''}`);
  for (const m of run.measures) {
    const want = run.expectedMeasures?.[m.name];
    parts.push(`  measured ${m.name}: ${m.max ?? 'nothing'} ${m.unit} at most (over ${m.transitions} transitions)${run.complete && want !== m.max ? `; the manifest records ${want ?? 'nothing'}` : ''}`);
  }
  return parts.join('\n');
}

/** Per spec: events and transitions no configuration of this run fired. */
export function renderDeadCode(runs: ConfigRun[]): string {
  const out: string[] = [];
  for (const spec of [...new Set(runs.map((r) => r.spec))]) {
    const mine = runs.filter((r) => r.spec === spec);
    const dead = deadSpecCode(mine);
    if (!dead.events.length && !dead.transitions.length) continue;
    out.push(`${spec}: spec code no configuration of this run exercised (${mine.map((r) => r.config).join(', ')}):`);
    if (dead.events.length) out.push(`  events that never fired: ${dead.events.join(', ')}`);
    for (const t of dead.transitions) out.push(`  transition never taken: ${t}`);
  }
  return out.join('\n');
}

export function renderRuns(runs: ConfigRun[]): string {
  const sections = [renderTable(runs)];
  const traces = runs.flatMap((run) =>
    run.results.filter((r) => r.trace && (r.kind !== 'sometimes' || r.verdict !== r.expected)).map((r) => renderTrace(r)),
  );
  if (traces.length) sections.push(traces.join('\n\n'));
  sections.push(runs.map(renderStats).join('\n'));
  const dead = renderDeadCode(runs);
  if (dead) sections.push(dead);
  const bad = runs.filter((r) => !runAsExpected(r)).length;
  sections.push(
    bad === 0
      ? `all ${runs.length} configuration(s) as the manifest expects`
      : `${bad} of ${runs.length} configuration(s) differ from the manifest`,
  );
  return sections.join('\n\n');
}
