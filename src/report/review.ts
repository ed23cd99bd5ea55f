/**
 * reports/design-review.md and .html: the proposals side by side, for a reply on the list. What
 * each promises; each property's verdict per configuration; the counterexamples by name; deadlocks
 * found; fault-cost figures where measured; what each proposal allows and gives up; and the
 * size of the state space behind each verdict. Both files come from one outline, so they say the
 * same thing.
 */
import type { PropertyResult } from '../check.ts';
import { propertiesOf, type ReportFile } from './catalog.ts';
import type { ReportContext } from './context.ts';
import { traceSummary } from './explain.ts';
import { CSS, esc, mdEsc, num } from './html.ts';
import { plotSvg } from './plot.ts';
import { resultsOf, type Measurement } from './results.ts';
import type { RunConfig } from '../../specs/common/spec.ts';

/** A compact verdict: keeps, breaks (linked to its counterexample), by design, not applicable, a count. */
type ChipKind = 'keeps' | 'breaks' | 'design' | 'na' | 'holds' | 'violated' | 'reachable' | 'unreachable' | 'unknown';
interface Chip {
  chip: string;
  kind: ChipKind;
  href?: string;
  /** Hover text (HTML) and, in Markdown, nothing: the text says it. */
  title?: string;
  /** The manifest expects something else. */
  mismatch?: boolean;
}

/** Inline text: plain, a link, code, bold, or a chip. */
type Inline = string | { link: string; href: string } | { code: string } | { bold: string } | Chip | { group: Inline[] } | Inline[];

const CHIP_MARK: Record<ChipKind, string> = {
  keeps: '✓',
  breaks: '✗',
  design: '○',
  na: '–',
  holds: '✓',
  violated: '✗',
  reachable: '◆',
  unreachable: '◇',
  unknown: '?',
};

type Block =
  | { h: 1 | 2 | 3; text: string }
  | { p: Inline }
  | { note: string }
  | { list: Inline[] }
  | { table: { head: string[]; rows: Inline[][]; cls?: string } }
  | { figure: { svg: string; file: string; alt: string } };

function md(i: Inline): string {
  if (typeof i === 'string') return mdEsc(i);
  if (Array.isArray(i)) return i.map(md).join('');
  if ('group' in i) return `${md(i.group).trim()}<br>`;
  if ('chip' in i) {
    const text = `${CHIP_MARK[i.kind]} ${mdEsc(i.chip)}${i.mismatch ? ' (unexpected)' : ''}`;
    return i.href ? `[${text}](${encodeURI(i.href)})` : text;
  }
  if ('link' in i) return `[${mdEsc(i.link)}](${encodeURI(i.href)})`;
  if ('code' in i) {
    // A code span shows its text raw; one holding markup characters becomes an escaped <code>.
    if (/[<>&|`]/.test(i.code)) return `<code>${esc(i.code).replace(/\|/g, '&#124;').replace(/`/g, '&#96;')}</code>`;
    return '`' + i.code.replace(/\r?\n/g, ' ') + '`';
  }
  return `**${mdEsc(i.bold)}**`;
}

function html(i: Inline): string {
  if (typeof i === 'string') return esc(i);
  if (Array.isArray(i)) return i.map(html).join('');
  if ('group' in i) return `<span class="spec-group">${html(i.group)}</span>`;
  if ('chip' in i) {
    const cls = `chip chip-${i.kind}${i.mismatch ? ' chip-mismatch' : ''}`;
    const title = i.title ? ` title="${esc(i.title)}"` : '';
    const body = `${CHIP_MARK[i.kind]} ${esc(i.chip)}`;
    return i.href ? `<a class="${cls}" href="${esc(i.href)}"${title}>${body}</a>` : `<span class="${cls}"${title}>${body}</span>`;
  }
  if ('link' in i) return `<a href="${esc(i.href)}">${esc(i.link)}</a>`;
  if ('code' in i) return `<code>${esc(i.code)}</code>`;
  return `<b>${esc(i.bold)}</b>`;
}

function toMd(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${mdEsc(b.text)}`);
    else if ('p' in b) out.push(md(b.p));
    else if ('note' in b) out.push(`<sub>${mdEsc(b.note)}</sub>`);
    else if ('list' in b) out.push(b.list.map((x) => `- ${md(x)}`).join('\n'));
    else if ('table' in b) {
      const { head, rows } = b.table;
      out.push(
        [`| ${head.map(mdEsc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => md(c) || ' ').join(' | ')} |`)].join('\n'),
      );
    } else out.push(`![${mdEsc(b.figure.alt)}](${encodeURI(b.figure.file)})`);
  }
  return out.join('\n\n') + '\n';
}

function toHtml(title: string, blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`<h${b.h}>${esc(b.text)}</h${b.h}>`);
    else if ('p' in b) out.push(`<p>${html(b.p)}</p>`);
    else if ('note' in b) out.push(`<p class="small">${esc(b.note)}</p>`);
    else if ('list' in b) out.push(`<ul>${b.list.map((x) => `<li>${html(x)}</li>`).join('\n')}</ul>`);
    else if ('table' in b) {
      const { head, rows, cls } = b.table;
      const t =
        `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n` +
        rows.map((r) => `<tr>${r.map((c) => `<td>${html(c)}</td>`).join('')}</tr>`).join('\n') +
        '\n</tbody></table>';
      // A table of many columns scrolls inside its own box rather than widening the page.
      out.push(cls === 'wide' ? `<div class="figure">${t}</div>` : t);
    } else out.push(`<div class="figure">${b.figure.svg}</div>`);
  }
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n${out.join('\n')}\n</main>\n</body>\n</html>\n`
  );
}

/**
 * Measurements of the same name from different specs become one figure with a series per spec,
 * so the proposals' costs sit side by side.
 */
export function combineMeasurements(ms: Measurement[]): Measurement[] {
  const out = new Map<string, Measurement>();
  for (const m of ms) {
    let c = out.get(m.name);
    if (!c) out.set(m.name, (c = { spec: m.spec, name: m.name, title: m.title, unit: m.unit, xLabel: m.xLabel, series: [] }));
    else if (c.spec !== m.spec && !c.spec.split(', ').includes(m.spec)) c.spec = `${c.spec}, ${m.spec}`;
    for (const s of m.series) c.series.push({ label: s.label === m.spec || ms.filter((x) => x.name === m.name).length === 1 ? s.label : `${m.spec}: ${s.label}`, points: s.points });
  }
  return [...out.values()];
}

const VERDICT_ORDER = ['violated', 'unknown', 'reachable', 'unreachable', 'holds'];

/** The scenarios a configuration puts a proposal in. */
export type Scenario = 'application' | 'platform' | 'third party';
export const SCENARIOS: readonly Scenario[] = ['application', 'platform', 'third party'];

/**
 * A configuration's scenario, from what it declares: a third party that runs operations on the
 * file; else a platform other than ADR persistent memory under a DAX mount (eADR, a virtualized
 * NVDIMM, virtio-pmem, no DAX); else the application itself.
 */
export function scenarioOf(config: RunConfig | undefined): Scenario {
  const c = (config ?? {}) as { thirdParty?: unknown; platform?: string; dax?: boolean };
  if (c.thirdParty) return 'third party';
  if ((c.platform !== undefined && c.platform !== 'adr') || c.dax === false) return 'platform';
  return 'application';
}

/** How a configuration fares: every invariant holds, one breaks, only violations shown by design, or undecided. */
type Outcome = { kind: 'keeps' } | { kind: 'breaks'; first: PropertyResult } | { kind: 'design'; first: PropertyResult } | { kind: 'unknown' };

/** The review's outline, and the figure files the Markdown links to. */
export function reviewFiles(ctx: ReportContext): ReportFile[] {
  const title = 'Design review: persistent-memory durability proposals, side by side';
  const blocks: Block[] = [];
  const bySpec = ctx.runsBySpec();
  const figures: ReportFile[] = [];
  const link = (r: PropertyResult): Inline => {
    const p = ctx.tracePage(r);
    return p ? { link: `${r.spec}/${r.config}`, href: p } : `${r.spec}/${r.config}`;
  };
  const byDesign = (r: PropertyResult) => (r.verdict === 'violated' ? ctx.config(r.spec, r.config)?.byDesign?.[r.id] : undefined);
  const outcomeOf = (spec: string, config: string): Outcome => {
    const rs = resultsOf(ctx.doc, spec, config).filter((r) => r.kind !== 'sometimes');
    const bug = rs.find((r) => r.verdict === 'violated' && !byDesign(r));
    if (bug) return { kind: 'breaks', first: bug };
    const design = rs.find((r) => r.verdict === 'violated');
    if (design) return { kind: 'design', first: design };
    if (rs.some((r) => r.verdict === 'unknown')) return { kind: 'unknown' };
    return { kind: 'keeps' };
  };

  blocks.push({ h: 1, text: title });
  blocks.push({
    p: [
      'Generated by daxcheck from the results of ',
      { code: 'daxcheck check' },
      ` (${ctx.doc.runs.length} configurations of ${bySpec.length} specs). Every verdict is exhaustive within its configuration's bounds; the traces are the shortest. Each counterexample has a page in the `,
      { link: 'catalog', href: 'catalog/index.html' },
      ' with its steps, a timeline and the argument.',
    ],
  });
  if (ctx.doc.interrupted) blocks.push({ p: { bold: 'The run was interrupted: some configurations were not checked.' } });

  // The answer first: each proposal against each scenario, and what a fault costs.
  blocks.push({ h: 2, text: 'The answer' });
  // The fault cost beside it, where some configuration measured it.
  const measured = (ctx.doc.measurements ?? []).some((m) => m.name === 'fault-cost');
  blocks.push({ p: `Does each proposal keep its promise in each scenario${measured ? ', and what does a page fault cost' : ''}?` });
  const ms = combineMeasurements(ctx.doc.measurements ?? []);
  const faultCost = (spec: string): Inline => {
    const own = (ctx.doc.measurements ?? []).filter((m) => m.spec === spec && m.name === 'fault-cost');
    const series = own.flatMap((m) => m.series);
    if (!series.length) return 'not measured';
    const xs = [...new Set(series.flatMap((x) => x.points.map((p) => p.x)))].sort((a, b) => a - b);
    const parts: Inline[] = [`N = ${xs.join(', ')}: `];
    series.forEach((x, i) => {
      if (i) parts.push('; ');
      parts.push(`${series.length > 1 || x.label !== spec ? `${x.label} ` : ''}${xs.map((n) => x.points.find((p) => p.x === n)?.y ?? '—').join(', ')}`);
    });
    return parts;
  };
  blocks.push({
    table: {
      cls: 'answer',
      head: ['proposal', ...SCENARIOS, ...(measured ? ['fault cost'] : [])],
      rows: bySpec.map(({ spec, runs }) => {
        const s = ctx.spec(spec);
        const checked = runs.filter((run) => !run.measurement);
        const cells = SCENARIOS.map((sc): Inline => {
          const mine = checked.filter((run) => scenarioOf(ctx.config(spec, run.config)) === sc);
          if (!mine.length) return { chip: 'n/a', kind: 'na', title: 'no configuration of this spec puts it in this scenario' };
          const outcomes = mine.map((run) => ({ run, o: outcomeOf(spec, run.config) }));
          const chips: Inline[] = [];
          const keeps = outcomes.filter((x) => x.o.kind === 'keeps');
          if (keeps.length) chips.push({ chip: `keeps ${keeps.length}`, kind: 'keeps', title: keeps.map((x) => x.run.config).join(', ') });
          for (const { run, o } of outcomes) {
            if (o.kind === 'breaks') chips.push(' ', { chip: run.config, kind: 'breaks', href: ctx.tracePage(o.first) ?? undefined, title: `${o.first.id}: ${o.first.property} — ${run.description ?? ''}` });
          }
          for (const { run, o } of outcomes) {
            if (o.kind === 'design') chips.push(' ', { chip: run.config, kind: 'design', href: ctx.tracePage(o.first) ?? undefined, title: `by design: ${byDesign(o.first)}` });
          }
          const unknown = outcomes.filter((x) => x.o.kind === 'unknown');
          if (unknown.length) chips.push(' ', { chip: `unknown ${unknown.length}`, kind: 'unknown', title: unknown.map((x) => x.run.config).join(', ') });
          return chips;
        });
        return [[{ link: spec, href: ctx.machinePage(spec) }, s ? ` ${s.title}` : ''], ...cells, ...(measured ? [faultCost(spec)] : [])];
      }),
    },
  });
  blocks.push({
    note:
      '✓ keeps: every invariant holds in that many configurations (their names on hover, in the HTML). ✗ breaks: a configuration where one is violated, linked to its counterexample. ' +
      '○ by design: a violation the configuration exists to show (a punch deleting the record), not a bug. – n/a: no configuration. ' +
      'Application: the proposal with its own applications. Platform: eADR, a virtualized NVDIMM, virtio-pmem or no DAX instead of ADR persistent memory. ' +
      'Third party: reflink, dedupe, defrag, punch and the like by another process or the filesystem.' +
      (measured ? ' Fault cost: metadata items one page fault writes against N unrelated dirty objects.' : ''),
  });

  // What each proposal promises.
  blocks.push({ h: 2, text: 'The proposals' });
  blocks.push({
    table: {
      head: ['spec', 'proposal', 'seeds', 'promise'],
      rows: bySpec.map(({ spec }) => {
        const s = ctx.spec(spec);
        return [{ link: spec, href: ctx.machinePage(spec) }, s?.title ?? '', s?.sources.join(', ') ?? '', s?.promise ?? ''];
      }),
    },
  });

  // Verdicts, property by property, specs side by side.
  blocks.push({ h: 2, text: 'Verdicts' });
  blocks.push({
    p: "Each cell counts the spec's configurations by the property's verdict in them (hover for their names); each violation is a chip of its own linked to the counterexample, those shown by design apart (○).",
  });
  const props = propertiesOf(ctx);
  blocks.push({
    table: {
      cls: 'verdicts',
      head: ['id', 'property', 'kind', 'verdicts, spec by spec'],
      rows: props.map((p) => [
        { code: p.id },
        p.property,
        p.kind,
        bySpec.flatMap(({ spec, runs }): Inline[] => {
          const rs = runs.map((run) => resultsOf(ctx.doc, run.spec, run.config).find((x) => x.id === p.id)).filter((r): r is PropertyResult => !!r);
          if (!rs.length) return [];
          const chips: Inline[] = [{ bold: spec }, ' '];
          const add = (c: Chip) => chips.push(c, ' ');
          const verdicts = VERDICT_ORDER.filter((v) => rs.some((r) => r.verdict === v)).concat([...new Set(rs.map((r) => r.verdict))].filter((v) => !VERDICT_ORDER.includes(v)));
          for (const v of verdicts) {
            const these = rs.filter((r) => r.verdict === v);
            if (v === 'violated') {
              for (const r of these.filter((x) => !byDesign(x))) {
                add({ chip: r.config, kind: 'violated', href: ctx.tracePage(r) ?? undefined, title: `${r.config}: ${r.id} violated${r.expected !== r.verdict ? ` (the manifest expects ${r.expected ?? 'nothing'})` : ''}`, mismatch: r.expected !== r.verdict });
              }
              for (const r of these.filter((x) => byDesign(x))) add({ chip: r.config, kind: 'design', href: ctx.tracePage(r) ?? undefined, title: `by design: ${byDesign(r)}` });
              continue;
            }
            const odd = these.filter((r) => r.expected !== r.verdict);
            const kind = (['holds', 'reachable', 'unreachable', 'unknown'].includes(v) ? v : 'unknown') as ChipKind;
            add({ chip: `${v} ${these.length}`, kind, title: these.map((r) => r.config).join(', '), mismatch: odd.length > 0 });
            for (const r of odd) chips.push(`(${r.config}: expected ${r.expected ?? 'none'}) `);
          }
          return [{ group: chips }];
        }),
      ]),
    },
  });

  // Counterexamples by name: bugs, then what configurations show by design.
  blocks.push({ h: 2, text: 'Counterexamples' });
  const violated = ctx.doc.results.filter((r) => r.verdict === 'violated' && r.kind !== 'deadlock');
  const bugs = violated.filter((r) => !byDesign(r));
  const designed = violated.filter((r) => byDesign(r));
  if (!bugs.length) blocks.push({ p: 'No invariant is violated in the configurations checked, except by design.' });
  for (const p of props) {
    const rs = bugs.filter((r) => r.id === p.id);
    if (!rs.length) continue;
    blocks.push({ h: 3, text: `${p.id}: “${p.property}”` });
    blocks.push({
      list: rs.map((r) => [
        link(r),
        `: ${traceSummary(r)}`,
        r.trace?.durableAfterCrash ? `; after recovery: ${r.trace.durableAfterCrash.text}` : '',
      ]),
    });
  }
  if (designed.length) {
    blocks.push({ h: 3, text: 'Expected by design, not bugs' });
    blocks.push({ list: designed.map((r) => [link(r), ': ', { code: r.id }, ` — ${byDesign(r)}`]) });
  }

  blocks.push({ h: 2, text: 'Deadlocks' });
  const dead = ctx.doc.results.filter((r) => r.kind === 'deadlock');
  const deadFound = dead.filter((r) => r.verdict === 'violated');
  if (deadFound.length) {
    blocks.push({ list: deadFound.map((r) => [link(r), ': ', { code: r.id }, ` (“${r.property}”) violated, ${traceSummary(r)}; last step: ${r.trace?.steps.at(-1)?.text ?? ''}`]) });
  } else {
    blocks.push({ p: `No deadlock found: ${dead.length} configuration(s) checked for one.` });
  }

  // Fault cost, where measured (issue 3's figures arrive in the results document).
  if (ms.length) {
    blocks.push({ h: 2, text: 'Fault cost' });
    blocks.push({ p: 'Measured during exploration, one line per proposal: the largest value over the reachable states of each configuration.' });
    ms.forEach((m, i) => {
      blocks.push({ h: 3, text: m.title ?? m.name });
      const file = `design-review-figure-${i + 1}.svg`;
      const svg = plotSvg(m, `plot-${i + 1}`);
      figures.push({ path: file, content: svg.startsWith('<svg') ? `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n` : svg });
      blocks.push({ figure: { svg, file, alt: m.name } });
      const xs = [...new Set(m.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
      blocks.push({
        table: {
          head: [m.xLabel, ...m.series.map((s) => `${s.label} (${m.unit})`)],
          rows: xs.map((x) => [String(x), ...m.series.map((s) => String(s.points.find((p) => p.x === x)?.y ?? '—'))]),
        },
      });
    });
  }

  // What each proposal allows and gives up.
  blocks.push({ h: 2, text: 'Capabilities' });
  const caps: string[] = [];
  for (const { spec } of bySpec) for (const k of Object.keys(ctx.spec(spec)?.capabilities ?? {})) if (!caps.includes(k)) caps.push(k);
  if (caps.length) {
    blocks.push({
      table: {
        cls: 'wide',
        head: ['capability', ...bySpec.map((s) => s.spec)],
        rows: caps.map((c) => [c, ...bySpec.map(({ spec }) => ctx.spec(spec)?.capabilities?.[c] ?? '—')]),
      },
    });
  } else blocks.push({ p: 'No spec declares capabilities.' });

  // The state space behind each verdict.
  blocks.push({ h: 2, text: 'State space behind each verdict' });
  blocks.push({
    p: '“Holds” means: in every state reachable within the configuration’s bounds. These are the sizes of those state spaces (wall-clock times are in reports/results.json and the catalog).',
  });
  blocks.push({
    table: {
      head: ['configuration', 'description', 'states', 'transitions', 'depth', 'exploration', 'vs manifest'],
      rows: ctx.doc.runs.map((run) => {
        const asExpected = run.asExpected ?? resultsOf(ctx.doc, run.spec, run.config).every((r) => r.verdict === r.expected);
        return [
          { code: `${run.spec}/${run.config}` },
          run.description ?? '',
          num(run.states),
          num(run.transitions),
          num(run.depth),
          run.complete ? 'exhaustive' : `cut short${run.stopReason ? `: ${run.stopReason}` : ''}`,
          asExpected ? 'as expected' : { bold: 'differs' },
        ];
      }),
    },
  });

  const mismatches = ctx.doc.results.filter((r) => r.verdict !== r.expected);
  if (mismatches.length) {
    blocks.push({ h: 2, text: 'Verdicts the manifests do not expect' });
    blocks.push({ list: mismatches.map((r) => [link(r), ': ', { code: r.id }, ` (“${r.property}”) is ${r.verdict}, the manifest expects ${r.expected ?? 'nothing'}`]) });
  }

  return [{ path: 'design-review.md', content: toMd(blocks) }, { path: 'design-review.html', content: toHtml(title, blocks) }, ...figures];
}
