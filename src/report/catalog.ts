/**
 * The HTML counterexample catalog: reports/catalog/index.html (configurations × properties), one
 * page per trace (steps in kernel terms, what changed, the timeline, the durable state after
 * recovery, the argument, the spec source of each step, the trace JSON and the command that
 * reproduces it), and one page per spec with its machine diagram.
 *
 * Wall-clock times are the one thing that differs between two runs, so no page holds them:
 * index.html shows them from catalog/timings.js, a small script written beside it.
 */
import type { PropertyResult } from '../check.ts';
import type { ReportContext } from './context.ts';
import { shellArg } from './context.ts';
import { cachedMachineSvg, machineGraph, structureKey, type MachineGraph } from './diagram.ts';
import { argumentOf, traceSummary } from './explain.ts';
import { esc, num, page, rel, table } from './html.ts';
import { resultsOf, type RunSummary } from './results.ts';
import { findRace } from './race.ts';
import { fieldsOf, groupLanes, KIND_TEXT, laneKind, statesOf, timelineSvg } from './timeline.ts';
import { waitForSvg } from './waits.ts';

/** A file of the report: path relative to the report root, and contents. */
export interface ReportFile {
  path: string;
  content: string;
}

const dirOf = (path: string) => path.split('/').slice(0, -1).join('/');

export function verdictHtml(v: string | null): string {
  return `<span class="verdict v-${esc(v ?? 'none')}">${esc(v ?? 'no verdict')}</span>`;
}

/** A property as the reports list it: its id, its sentence, its kind and the specs that have it. */
export interface PropertyRow {
  id: string;
  /** The sentence; when specs give one id different sentences, they are joined with " / ". */
  property: string;
  kind: string;
  specs: string[];
}

/** Properties by id, in the order they first appear. */
export function propertiesOf(ctx: ReportContext): PropertyRow[] {
  const out = new Map<string, PropertyRow & { sentences: string[] }>();
  for (const { spec, runs } of ctx.runsBySpec()) {
    for (const run of runs) {
      for (const r of resultsOf(ctx.doc, run.spec, run.config)) {
        let p = out.get(r.id);
        if (!p) out.set(r.id, (p = { id: r.id, property: r.property, kind: r.kind, specs: [], sentences: [r.property] }));
        if (!p.sentences.includes(r.property)) p.sentences.push(r.property);
        if (!p.specs.includes(spec)) p.specs.push(spec);
      }
    }
  }
  return [...out.values()].map(({ sentences, ...p }) => ({ ...p, property: sentences.join(' / ') }));
}

/** The anchor of a property's row in the index's property table. */
export const propertyAnchor = (id: string) => `property-${id}`;

function kindText(kind: string): string {
  return kind === 'always' ? 'invariant' : kind === 'sometimes' ? 'reachability' : kind === 'deadlock' ? 'deadlock freedom' : kind === 'leads-to' ? 'liveness (leads-to, weak fairness)' : kind;
}

/** reports/catalog/index.html */
export function indexPage(ctx: ReportContext): ReportFile {
  const here = 'catalog';
  const props = propertiesOf(ctx);
  const results = ctx.doc.results;
  const traces = results.filter((r) => r.trace);
  const violations = results.filter((r) => r.verdict === 'violated');
  const mismatches = results.filter((r) => r.verdict !== r.expected);
  const runs = ctx.doc.runs;

  // One table per spec, with a column per property of its own, headed by the property's id (the
  // same id in every table and every run) over its sentence.
  const tables: string[] = [];
  for (const { spec, runs: specRuns } of ctx.runsBySpec()) {
    const s = ctx.spec(spec);
    const mine = props.filter((p) => p.specs.includes(spec));
    const col = new Map(mine.map((p, i) => [p.id, i]));
    const head = [
      'configuration',
      ...mine.map((p) => `<a class="property-id" href="#${esc(propertyAnchor(p.id))}"><code>${esc(p.id)}</code></a><br><span class="small property-sentence">${esc(p.property)}</span>`),
      'states',
      'transitions',
      'depth',
      'time',
      'vs manifest',
    ];
    const rows: string[][] = [];
    for (const run of specRuns) {
      const cells: string[] = new Array(mine.length).fill('<td class="na">·</td>');
      for (const r of resultsOf(ctx.doc, run.spec, run.config)) {
        const i = col.get(r.id)!;
        const link = ctx.tracePage(r);
        const v = verdictHtml(r.verdict);
        const n = r.trace ? `<br><span class="small">${r.trace.steps.length} steps</span>` : '';
        const exp = r.expected !== r.verdict ? `<br><span class="small">expected ${esc(r.expected ?? 'none')}</span>` : '';
        const why = r.verdict === 'violated' ? ctx.config(run.spec, run.config)?.byDesign?.[r.id] : undefined;
        const cls = `cell-${esc(why ? 'design' : r.verdict)}${r.expected !== r.verdict ? ' mismatch' : ''}`;
        const inner = link ? `<a class="trace-link" data-kind="${esc(r.kind)}" href="${esc(rel(here, link))}">${v}</a>` : v;
        const design = why ? '<br><span class="small">by design</span>' : '';
        cells[i] = `<td class="${cls}" title="${esc(`${r.id}: ${r.property} (${r.kind})${why ? `; by design: ${why}` : ''}`)}">${inner}${n}${design}${exp}</td>`;
      }
      const asExpected = run.asExpected ?? resultsOf(ctx.doc, run.spec, run.config).every((r) => r.verdict === r.expected);
      rows.push([
        `<td><code>${esc(run.config)}</code><br><span class="small">${esc(run.description ?? '')}</span></td>`,
        ...cells,
        `<td class="num">${num(run.states)}</td>`,
        `<td class="num">${num(run.transitions)}</td>`,
        `<td class="num">${num(run.depth)}</td>`,
        `<td class="num time" data-run="${esc(`${run.spec}/${run.config}`)}">—</td>`,
        `<td>${asExpected ? 'as expected' : '<b class="v-violated">differs</b>'}${run.complete ? '' : '<br><span class="small">cut short</span>'}</td>`,
      ]);
    }
    tables.push(
      `<h3 id="${esc(`spec-${spec}`)}">${esc(spec)} — ${esc(s?.title ?? '')} <span class="small"><a href="${esc(rel(here, ctx.machinePage(spec)))}">machine diagram</a></span></h3>\n` +
        (s ? `<p class="small">${esc(s.promise)}</p>\n` : '') +
        `<div class="figure">${table(head, rows, 'matrix')}</div>`,
    );
  }

  const legend = table(
    ['id', 'kind', 'property', 'specs'],
    props.map((p) => [`<code id="${esc(propertyAnchor(p.id))}">${esc(p.id)}</code>`, esc(kindText(p.kind)), esc(p.property), esc(p.specs.join(', '))]),
  );
  const list = (rs: PropertyResult[]) =>
    rs.length
      ? '<ul>' +
        rs
          .map(
            (r) =>
              `<li><a href="${esc(rel(here, ctx.tracePage(r)!))}">${esc(`${r.spec}/${r.config}`)}: <code>${esc(r.id)}</code> ${esc(r.property)}</a> ` +
              `<span class="small">(${esc(r.kind)}, ${esc(r.verdict)}, ${esc(traceSummary(r))})</span></li>`,
          )
          .join('\n') +
        '</ul>'
      : '<p>None.</p>';

  const body = `
<h1>daxcheck counterexample catalog</h1>
<p class="lead">${runs.length} configuration(s) of ${ctx.runsBySpec().length} spec(s), ${results.length} verdicts:
${violations.length} violated, ${traces.length} traces (counterexamples and witnesses).
${mismatches.length ? `<b class="v-violated">${mismatches.length} verdict(s) differ from the manifests.</b>` : 'Every verdict is the one the manifests expect.'}
${ctx.doc.interrupted ? '<b class="v-violated">The run was interrupted: some configurations were not checked.</b>' : ''}
See also <a href="../design-review.html">the design review</a>.</p>
<h2>Verdicts</h2>
<p class="small">Each column is a property, headed by its id and sentence (the ids are listed under <a href="#properties">Properties</a>); each cell, its verdict in that configuration; a link opens its trace. A red outline marks a verdict the manifest does not expect.
"holds" means in every state reachable within the configuration's bounds; states and transitions are the size of that state space.
Times come from <code>timings.js</code> (the only file that differs between two runs).</p>
${tables.join('\n')}
<h3 id="properties">Properties</h3>
${legend}
<h2>Counterexamples</h2>
${list(results.filter((r) => r.trace && r.verdict === 'violated'))}
<h2>Witnesses</h2>
<p class="small">Shortest runs showing that something can happen (so a spec cannot pass because nothing happens).</p>
${list(results.filter((r) => r.trace && r.verdict !== 'violated'))}
<script src="timings.js"></script>
<script>
(function () {
  var t = window.DAXCHECK_TIMINGS || {};
  var cells = document.querySelectorAll('td[data-run]');
  for (var i = 0; i < cells.length; i++) {
    var s = t[cells[i].getAttribute('data-run')];
    if (typeof s === 'number') cells[i].textContent = s < 0.01 ? '< 0.01 s' : s.toFixed(2) + ' s';
  }
})();
</script>`;
  return { path: 'catalog/index.html', content: page('daxcheck counterexample catalog', body) };
}

/** catalog/timings.js: wall-clock seconds per configuration (differs between runs, by nature). */
export function timingsFile(runs: RunSummary[]): ReportFile {
  const t: Record<string, number> = {};
  for (const r of runs) t[`${r.spec}/${r.config}`] = Math.round((r.seconds ?? 0) * 1000) / 1000;
  return { path: 'catalog/timings.js', content: `window.DAXCHECK_TIMINGS = ${JSON.stringify(t)};\n` };
}

/** The JSON a trace page offers for download: the same shape `daxcheck check --write` stores. */
export function traceJson(r: PropertyResult): string {
  return JSON.stringify({ spec: r.spec, config: r.config, id: r.id, property: r.property, kind: r.kind, verdict: r.verdict, ...r.trace }, null, 2) + '\n';
}

/** A lasso in words: "steps 1–6 the stem; steps 7–8 repeat forever". */
export function loopText(n: number, loopStart: number): string {
  const stem = loopStart > 0 ? `steps 1–${loopStart} the stem; ` : '';
  return loopStart < n ? `${stem}the last ${n - loopStart} step${n - loopStart === 1 ? '' : 's'} (${loopStart + 1}–${n}) repeat forever` : `${stem}nothing can move after step ${n}: the run stops there forever`;
}

function stepsTable(ctx: ReportContext, r: PropertyResult): string {
  const trace = r.trace!;
  const rows = trace.steps.map((s, i) => {
    const changes = s.changes.length
      ? '<ul>' + s.changes.map((c) => `<li><code>${esc(c.field)}</code>: ${esc(c.before)} → <b>${esc(c.after)}</b></li>`).join('') + '</ul>'
      : '<span class="small">nothing visible</span>';
    const outcome = s.outcome && Object.keys(s.outcome).length ? `<br><span class="small">outcome: ${esc(JSON.stringify(s.outcome))}</span>` : '';
    const srcs = s.transitions.map((label) => {
      const loc = ctx.sourceOf(r.spec, r.config, label);
      return loc
        ? `<code title="${esc(label)}">${esc(`${loc.file}:${loc.line}`)}</code>${loc.within ? ` <span class="small">(${esc(loc.within)})</span>` : ''}`
        : `<span class="small" title="${esc(label)}">not found</span>`;
    });
    const detail =
      `<details><summary>machine</summary><div class="small">event <code>${esc(s.event)}</code>${s.payload ? ` ${esc(JSON.stringify(s.payload))}` : ''}</div>` +
      `<ul class="small">${s.transitions.map((t) => `<li><code>${esc(t)}</code></li>`).join('')}</ul>` +
      `<ul class="small">${s.actions.map((a) => `<li>action <code>${esc(a.type)}</code>${a.params !== null && a.params !== undefined ? ` ${esc(JSON.stringify(a.params))}` : ''}</li>`).join('')}</ul></details>`;
    const loops = trace.loopStart !== undefined && i >= trace.loopStart;
    const mark = loops ? `<br><span class="small loop" title="part of the cycle that repeats forever">${i === trace.loopStart ? '⟳ cycle starts' : '⟳'}</span>` : '';
    return [
      `<td class="num">${i + 1}${mark}</td>`,
      `<td><b>${esc(s.actor)}</b></td>`,
      `<td class="step-text">${esc(s.text)}${outcome}${detail}</td>`,
      `<td>${changes}</td>`,
      `<td>${srcs.join('<br>') || '—'}</td>`,
    ];
  });
  const steps = table(['#', 'actor', 'step, in kernel terms', 'what changed', 'spec source'], rows, 'steps');
  if (trace.loopStart === undefined) return steps;
  const n = trace.steps.length;
  const note =
    trace.loopStart < n
      ? `<p class="loop-note"><b>Lasso:</b> after step ${n} the state is again the one before step ${trace.loopStart + 1}; the last ${n - trace.loopStart} step${n - trace.loopStart === 1 ? '' : 's'} (marked ⟳) repeat forever.</p>`
      : `<p class="loop-note"><b>Lasso:</b> nothing can move after step ${n}; the run stops there forever.</p>`;
  return steps + note;
}

function finalStateTable(r: PropertyResult): string {
  const trace = r.trace!;
  const states = statesOf(trace);
  const last = states[states.length - 1];
  const { all } = fieldsOf(trace);
  const groups = groupLanes(all, (f) => laneKind(trace, f));
  const rows: string[][] = [];
  for (const g of groups) {
    for (const f of g.lanes) {
      const changed = last[f] !== states[0][f];
      rows.push([esc(g.title), `<code>${esc(f)}</code>`, esc(KIND_TEXT[laneKind(trace, f)].split(' (')[0]), changed ? `<b>${esc(last[f] ?? '')}</b>` : esc(last[f] ?? '')]);
    }
  }
  return table(['group', 'field', 'kind', 'value'], rows, 'final');
}

/** One page per trace, and the trace's JSON beside it. */
export function tracePages(ctx: ReportContext): ReportFile[] {
  const out: ReportFile[] = [];
  for (const r of ctx.doc.results) {
    const path = ctx.tracePage(r);
    if (!path || !r.trace) continue;
    const here = dirOf(path);
    const spec = ctx.spec(r.spec);
    const run = ctx.doc.runs.find((x) => x.spec === r.spec && x.config === r.config);
    const jsonPath = path.replace(/\.html$/, '.json');
    const jsonName = jsonPath.split('/').pop()!;
    const what = r.verdict === 'violated' ? (r.kind === 'deadlock' ? 'deadlock' : r.kind === 'leads-to' ? 'lasso counterexample' : 'counterexample') : 'witness';
    const title = `${r.spec}/${r.config}: ${what} to ${r.id} (“${r.property}”)`;
    const n = r.trace.steps.length;
    const check = `daxcheck check ${shellArg(r.spec)} --config ${shellArg(r.config)}`;
    // The JSON trace sits beside this page, wherever --out put the reports: named from here, the
    // command is right for any report folder (and no path goes into a page).
    const replay = ctx.replayAvailable ? `\ndaxcheck replay ${shellArg(jsonName)}` : '';
    const durable = r.trace.durableAfterCrash;
    const durableExtra = durable
      ? Object.entries(durable)
          .filter(([k]) => k !== 'text')
          .map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(JSON.stringify(v))}</code></dd>`)
          .join('')
      : '';
    const replayer = r.kind === 'always' && r.verdict === 'violated' ? ctx.replayer(r.spec, r.config, r.id) : null;
    const race = replayer ? findRace(r.trace, replayer) : null;
    const argument = argumentOf(r, spec?.promise ?? null, race, { shortest: !ctx.doc.traceFile });
    const why = ctx.config(r.spec, r.config)?.byDesign?.[r.id];
    const waitFor = r.kind === 'deadlock' ? waitForSvg(r.trace) : '';
    const body = `
<h1>${esc(title)}</h1>
<p class="lead">${esc(spec?.title ?? r.spec)} · configuration <code>${esc(r.config)}</code>${run?.description ? ` — ${esc(run.description)}` : ''}</p>
${why ? `<p class="by-design"><span class="chip chip-design">expected by design</span> ${esc(why)}</p>` : ''}
<dl class="kv">
<dt>property</dt><dd><code>${esc(r.id)}</code>: ${esc(r.property)} <span class="tag">${esc(kindText(r.kind))}</span></dd>
<dt>verdict</dt><dd>${verdictHtml(r.verdict)} (manifest expects ${verdictHtml(r.expected)})</dd>
<dt>trace</dt><dd>${n} step${n === 1 ? '' : 's'}, ${
      r.trace.loopStart !== undefined
        ? `a lasso: ${esc(loopText(n, r.trace.loopStart))}${ctx.doc.traceFile ? ', read from a trace file' : ''}`
        : ctx.doc.traceFile
          ? 'read from a trace file (not a search: not necessarily the shortest)'
          : 'the shortest (breadth-first search)'
    }</dd>
<dt>state space</dt><dd>${ctx.doc.traceFile ? 'not explored: the page renders one trace file' : `${num(r.states)} states, ${num(r.transitions)} transitions, depth ${num(r.depth)}${run && !run.complete ? ' (cut short)' : ''}`}</dd>
</dl>
<h2>The argument</h2>
<div class="argument">
${argument.html}
</div>
${waitFor ? `<h2>Wait-for graph</h2>\n<p class="small">Each box is an actor in the last state: what it holds, what it waits for and where, its last step. An arrow goes from a waiting actor to the one that must move first; red arrows close the cycle.</p>\n<div class="figure">${waitFor}</div>` : ''}
<h2>Timeline</h2>
<p class="small">One lane per state field that changes${argument.cites.length ? ', and every field the argument cites' : ''}${r.trace.waitGraph?.length ? ', and one per waiting thread' : ''}, grouped by block; each bar is a value held over those steps (pale: the initial value), coloured by what the field is as the spec declares it. Long traces wrap into bands.</p>
<div class="figure">${timelineSvg(r.trace, { kind: r.kind, verdict: r.verdict, include: argument.cites })}</div>
<h2>Steps</h2>
${stepsTable(ctx, r)}
${durable ? `<h2>Durable state after the crash and recovery</h2>\n<p class="durable">${esc(durable.text)}</p>${durableExtra ? `<details><summary>as data</summary><dl class="kv">${durableExtra}</dl></details>` : ''}` : ''}
<h2>Final state</h2>
<details><summary>every field after step ${n}</summary>${finalStateTable(r)}</details>
<h2>Reproduce</h2>
<p><a href="${esc(jsonName)}" download="${esc(jsonName)}">Download the trace as JSON</a> (steps with events, actions and their parameters, state changes).</p>
<pre>${esc(check + replay)}</pre>
<p class="small">From a checkout: <code>node bin/daxcheck.mjs check ${esc(shellArg(r.spec))} --config ${esc(shellArg(r.config))}</code>. The check explores the same configuration again and prints this trace.${
      ctx.replayAvailable ? ' <code>daxcheck replay</code>, run in the folder of this page, where the JSON trace is, runs it through the native harness.' : ''
    }</p>`;
    const crumbs = `<a href="${esc(rel(here, 'catalog/index.html'))}">catalog</a> › <a href="${esc(rel(here, ctx.machinePage(r.spec)))}">${esc(r.spec)}</a> › ${esc(r.config)}`;
    out.push({ path, content: page(title, body, { crumbs }) });
    out.push({ path: jsonPath, content: traceJson(r) });
  }
  return out;
}

/** One page per spec: its promise and the machine diagram of each distinct structure among its checked configurations. */
export async function machinePages(ctx: ReportContext): Promise<ReportFile[]> {
  const out: ReportFile[] = [];
  for (const { spec: name, runs } of ctx.runsBySpec()) {
    const path = ctx.machinePage(name);
    const here = dirOf(path);
    const spec = ctx.spec(name);
    const groups: { graph: MachineGraph; configs: string[] }[] = [];
    const byKey = new Map<string, { graph: MachineGraph; configs: string[] }>();
    const missing: string[] = [];
    for (const run of runs) {
      const config = ctx.config(name, run.config);
      if (!spec || !config) {
        missing.push(run.config);
        continue;
      }
      let graph: MachineGraph;
      try {
        graph = machineGraph(spec.build(config).machine);
      } catch {
        missing.push(run.config);
        continue;
      }
      const k = structureKey(graph);
      let g = byKey.get(k);
      if (!g) {
        byKey.set(k, (g = { graph, configs: [] }));
        groups.push(g);
      }
      g.configs.push(run.config);
    }
    const figures: string[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      figures.push(
        `<h2>Configuration${g.configs.length > 1 ? 's' : ''} ${g.configs.map((c) => `<code>${esc(c)}</code>`).join(', ')}</h2>\n` +
          `<div class="figure">${await cachedMachineSvg(g.graph, `m${i}`, ctx.cacheDir)}</div>`,
      );
    }
    const caps = spec ? Object.entries(spec.capabilities ?? {}) : [];
    const body = `
<h1>${esc(name)}: ${esc(spec?.title ?? '')}</h1>
${spec ? `<p class="lead">${esc(spec.promise)}</p><p class="small">Seeds: ${esc(spec.sources.join(', '))}</p>` : '<p>This spec is not in the registry any more.</p>'}
${caps.length ? table(['capability', 'answer'], caps.map(([k, v]) => [esc(k), esc(v)])) : ''}
<p class="small">States and transitions as the machine's config declares them: boxes hold their child states (dashed: parallel regions, ‖),
a dot marks the initial state, a double border a final state; <code>↻</code> lists transitions that keep the state (no target).</p>
${figures.join('\n')}
${missing.length ? `<p class="small">Not drawn (configuration not in the registry): ${missing.map((c) => esc(c)).join(', ')}</p>` : ''}`;
    const crumbs = `<a href="${esc(rel(here, 'catalog/index.html'))}">catalog</a> › ${esc(name)}`;
    out.push({ path, content: page(`${name}: machine`, body, { crumbs }) });
  }
  return out;
}
