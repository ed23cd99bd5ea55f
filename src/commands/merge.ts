/**
 * `daxcheck merge FILE...`: combines the results of a shard set (`daxcheck check --shard i/n
 * --json > FILE`, one file per shard, from any machines) into one run's verdicts, traces and
 * counts (src/merge.ts). Exit 0 when every shard is there, ran to the end and every verdict is
 * the manifest's; 1 otherwise; 2 for files that are not shard results.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, UsageError } from '../args.ts';
import { asCheckDoc, mergedAsExpected, MergeInputError, mergeShards, type MergedRun } from '../merge.ts';
import { renderTrace } from '../render.ts';
import { writeTraceFiles } from './check.ts';

export const usage = 'daxcheck merge FILE... [--json] [--write DIR]';

const num = (x: number) => x.toLocaleString('en-US');
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, write: { type: 'string' } }) as {
    values: { json?: boolean; write?: string };
    positionals: string[];
  };
  if (!positionals.length) throw new UsageError('merge needs the files of a shard set: daxcheck check ... --shard I/N --json > FILE, one per shard');
  const docs = positionals.map((name) => {
    let text: string;
    try {
      if (statSync(name).isDirectory()) name = join(name, 'results.json');
      text = readFileSync(name, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${name}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${name} is not valid JSON: ${(err as Error).message}`);
    }
    try {
      return { name, doc: asCheckDoc(doc, name) };
    } catch (err) {
      if (err instanceof MergeInputError) throw new UsageError(err.message);
      throw err;
    }
  });
  let runs: MergedRun[];
  try {
    runs = mergeShards(docs);
  } catch (err) {
    if (err instanceof MergeInputError) throw new UsageError(err.message);
    throw err;
  }
  const doc = {
    merged: true,
    results: runs.flatMap((r) => r.results),
    runs: runs.map(({ results, ...rest }) => ({ ...rest, asExpected: mergedAsExpected({ ...rest, results }) })),
  };
  if (values.write) {
    mkdirSync(values.write, { recursive: true });
    writeFileSync(join(values.write, 'results.json'), JSON.stringify(doc, null, 2) + '\n');
    writeTraceFiles(values.write, runs, (r) => ({ shard: r.shard }));
  }
  if (values.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else process.stdout.write(renderMerged(runs) + '\n');
  return runs.every(mergedAsExpected) ? 0 : 1;
}

function mark(expected: string | null, verdict: string): string {
  if (expected === null) return 'no expectation recorded';
  return verdict === expected ? 'as expected' : `UNEXPECTED (expected ${expected})`;
}

export function renderMerged(runs: MergedRun[]): string {
  const shown = (r: MergedRun['results'][number]) => r.verdict.toUpperCase() + (r.verdictText ?? r.verdict).slice(r.verdict.length);
  const rows = runs.flatMap((run) => run.results.map((r) => [`${r.spec}/${r.config}`, r.kind, shown(r), mark(r.expected, r.verdict), r.id, r.property]));
  const head = ['configuration', 'kind', 'verdict', 'vs manifest', 'id', 'property'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  widths[widths.length - 1] = 0;
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i])).join('  ').trimEnd();
  const sections = [[line(head), line(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? 8 : w))), ...rows.map(line)].join('\n')];
  const traces = runs.flatMap((run) =>
    run.results
      .filter((r) => r.trace && (r.kind !== 'sometimes' || r.verdict !== r.expected))
      .map((r) => `${renderTrace(r, run.complete)}\n  from shard ${r.shard} of ${run.shards} (found in shard${r.foundIn.length > 1 ? 's' : ''} ${r.foundIn.join(', ')}); the trace starts at the initial state`),
  );
  if (traces.length) sections.push(traces.join('\n\n'));
  sections.push(runs.map(renderMergedStats).join('\n'));
  const bad = runs.filter((r) => !mergedAsExpected(r)).length;
  sections.push(bad === 0 ? `all ${runs.length} configuration(s) as the manifest expects` : `${bad} of ${runs.length} configuration(s) differ from the manifest or are incomplete`);
  return sections.join('\n\n');
}

function renderMergedStats(run: MergedRun): string {
  const lines = [
    `${run.spec}/${run.config}: ${run.shards} shard(s), ${num(run.states)} states, ${num(run.transitions)} transitions, depth ${run.depth}, ` +
      `${run.seconds.toFixed(2)} s for the slowest shard (${run.cpuSeconds.toFixed(2)} s in all)` +
      (run.complete ? '' : run.missing.length ? `, INCOMPLETE: shard(s) ${run.missing.join(', ')} missing` : ', INCOMPLETE: a shard was cut short'),
  ];
  if (!run.split) lines.push('  the search ended before any level was large enough to split it: every shard ran it whole, and the counts are one run\'s');
  else {
    lines.push(
      `  split at depth ${run.splitDepth}; ${num(run.sharedStates)} states up to there are every shard's and counted once; below it, per shard: ` +
        run.perShard.map((p) => `${p.index}: ${num(p.states)}`).join(', '),
    );
    lines.push(
      run.duplicates !== null
        ? `  the sum counts a state once per shard that reached it: the manifest's exhaustive count is ${num(run.expectedStates!)}, so ${num(run.duplicates)} were explored by more than one shard (${(run.states / run.expectedStates!).toFixed(2)}× the work of one run)`
        : '  the sum counts a state once per shard that reached it (the distinct count is at most this)',
    );
  }
  return lines.join('\n');
}
