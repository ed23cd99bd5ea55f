/**
 * `daxcheck --help`, `daxcheck COMMAND --help` and `daxcheck --version`: what each command does
 * and every option it takes, in one place beside the exit codes. The command modules keep their
 * one-line usage (printed with a usage error); this is the longer form.
 */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './paths.ts';
import { join } from 'node:path';

/** A command's help: a sentence, then each option with what it does. */
interface Help {
  what: string;
  options: [string, string][];
}

const CONFIG: [string, string] = ['--config NAME[,NAME]', 'only these configurations (by name; default: each spec\'s default ones)'];
const ALL: [string, string] = ['--all-configs', 'every configuration, not only the default ones'];
const MAX_STATES: [string, string] = ['--max-states N', 'stop exploring a configuration after N states (its verdicts become unknown, never holds)'];
const MAX_MEMORY: [string, string] = ['--max-memory MB', 'bound the whole process to MB megabytes; a run that would exceed it stops with its partial report'];
const JSON_OUT: [string, string] = ['--json', 'print one JSON document instead of text'];

export const HELP: Record<string, Help> = {
  list: { what: 'Lists specs, their configurations and each property (id, kind, sentence, expected verdict).', options: [JSON_OUT] },
  check: {
    what: 'Explores every interleaving and crash point of each configuration and compares each verdict (and the state count) with the manifest; prints the verdict table and the shortest counterexamples in kernel terms. A spec is a registered name or a spec folder\'s path; a TRACE.json runs that trace again.',
    options: [
      CONFIG,
      ALL,
      JSON_OUT,
      MAX_STATES,
      MAX_MEMORY,
      ['--write DIR', 'write DIR/results.json and one JSON file per trace under DIR/traces/'],
      ['--itf DIR', 'write every trace in the Informal Trace Format of Apalache and Quint, DIR/<spec>/<config>/<id>.itf.json'],
      ['--record-counts', 'write the measured state and transition counts into the manifest (for runs whose verdicts are as expected); a missing manifest is written with each verdict null to fill in'],
      ['--workers N', 'explore each configuration with the parallel engine on N threads (at most the cores available)'],
      ['--baseline FILE', 'compare verdicts, trace lengths and state counts with a verdicts.json; exit 1 on any difference'],
      ['--shard I/N', 'explore shard I (from 0) of N of the state space alone; combine a shard set with daxcheck merge'],
      ['--split-at N', 'with --shard: the breadth-first level whose states are divided among the shards'],
      ['--symmetry', 'store one state per class of interchangeable threads, where the spec declares them'],
      ['--compact', 'hash compaction: far more states in the same memory; a verdict then reads "holds (probably, p = ...)"'],
      ['--no-crash-reduction', 'decide every dirty word of a crash image both ways, word by word, even where nothing can tell the two apart (verdicts are compared, state counts are not: the manifest records the reduced run)'],
      ['--crash-images', 'also explore each configuration with the crash-image reduction in its other setting, to print both counts: raw (word by word) and distinct crash images'],
    ],
  },
  simulate: {
    what: 'Random walks (crashes included) through the same model, for configurations beyond exhaustive reach; reproducible by seed, counterexamples shrunk and printed as check prints them.',
    options: [
      CONFIG,
      ALL,
      ['--seed S', 'the seed of the first walk (each counterexample prints the seed that finds it again)'],
      ['--runs N', 'number of walks per configuration'],
      ['--depth D', 'steps per walk at most'],
      ['--time SECONDS', 'stop walking a configuration after SECONDS'],
      MAX_MEMORY,
      JSON_OUT,
      ['--write DIR', 'write the counterexamples as check --write does'],
    ],
  },
  merge: {
    what: 'Combines the results of a shard set (check --shard I/N --json) into one run: verdicts, the shortest trace over all shards, summed counts.',
    options: [JSON_OUT, ['--write DIR', 'write the merged results and traces as check --write does']],
  },
  report: {
    what: 'Checks like check --write, then writes the counterexample catalog (HTML), the design review (Markdown and HTML) and verdicts.json.',
    options: [
      CONFIG,
      ALL,
      MAX_STATES,
      MAX_MEMORY,
      ['--out DIR', 'write the reports into DIR (default: reports/, or PATH/reports/ for a spec given by path)'],
      ['--results FILE', 'render an existing results document (check --json output) or one trace file, without checking'],
    ],
  },
  diff: {
    what: 'What changed between a git revision and now, as text to paste into a reply: each spec\'s API surface (system calls, flags, errnos, signals) and every verdict, trace length and state count. A spec folder outside the repository is compared within the git repository that holds it.',
    options: [CONFIG, JSON_OUT],
  },
  new: {
    what: 'Writes a starting spec folder NAME (machine, configurations, manifest, tsconfig) that checks green as written; see docs/writing-a-spec.md.',
    options: [['--dir D', 'where to write it (default: the current directory)']],
  },
  replay: {
    what: 'Runs traces on a real Linux kernel (QEMU, an emulated NVDIMM, ext4 and XFS with DAX) and compares what the kernel recovered with what the model predicts. Needs npm run replay:setup once.',
    options: [
      CONFIG,
      ALL,
      ['--covering', 'replay the shortest path to every control state too'],
      ['--smoke', 'the CI set: a few traces on ext4 and XFS'],
      ['--fs ext4|xfs[,..]', 'only these filesystems'],
      ['--host', 'no VM: run the error paths on this machine\'s filesystem'],
      ['--timeout SECONDS', 'kill a VM that runs longer (per boot; default 120)'],
      ['--dry-run', 'print the programs and the predictions; boot nothing'],
      JSON_OUT,
    ],
  },
  explore: {
    what: 'Walks a configuration\'s state space in a browser, as Stateright\'s Explorer does: enabled events in kernel terms, the state, which properties hold, the path, a trace file to save.',
    options: [
      CONFIG,
      ['--out FILE', 'write one self-contained page instead of serving (small state spaces)'],
      MAX_STATES,
      ['--port N', 'serve on 127.0.0.1 port N (0: any free port)'],
      ['--minutes N', 'stop serving after N minutes (Ctrl-C stops it sooner)'],
    ],
  },
};

export const EXIT_CODES = `exit codes:
  0   every verdict (and state count) as the manifests expect; a command that checks nothing succeeded
  1   a verdict, trace length or count differs from what was expected, or exploration was cut short
  2   bad usage or input: one line on stderr, nothing explored
  70  an internal error: a daxcheck bug (DAXCHECK_DEBUG=1 prints its stack trace)
  130 interrupted by Ctrl-C before a command took it over`;

/** `daxcheck COMMAND --help`. */
export function commandHelp(name: string, usage: string): string {
  const h = HELP[name];
  const width = Math.max(...h.options.map(([o]) => o.length), 10);
  const options = h.options.map(([o, d]) => `  ${o.padEnd(width)}  ${d}`).join('\n');
  return `usage: ${usage.replace(/\n\s*/g, ' ')}\n\n${h.what}\n\noptions:\n${options}\n  ${'--help'.padEnd(width)}  this text\n\n${EXIT_CODES}\n`;
}

/** The package's version (package.json). */
export function version(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
