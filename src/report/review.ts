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

/** Inline text: plain, a link, code, or bold. */
type Inline = string | { link: string; href: string } | { code: string } | { bold: string } | Inline[];

type Block =
  | { h: 1 | 2 | 3; text: string }
  | { p: Inline }
  | { list: Inline[] }
  | { table: { head: string[]; rows: Inline[][] } }
  | { figure: { svg: string; file: string; alt: string } };

function md(i: Inline): string {
  if (typeof i === 'string') return mdEsc(i);
  if (Array.isArray(i)) return i.map(md).join('');
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
  if ('link' in i) return `<a href="${esc(i.href)}">${esc(i.link)}</a>`;
  if ('code' in i) return `<code>${esc(i.code)}</code>`;
  return `<b>${esc(i.bold)}</b>`;
}

function toMd(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${mdEsc(b.text)}`);
    else if ('p' in b) out.push(md(b.p));
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
    else if ('list' in b) out.push(`<ul>${b.list.map((x) => `<li>${html(x)}</li>`).join('\n')}</ul>`);
    else if ('table' in b) {
      const { head, rows } = b.table;
      out.push(
        `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n` +
          rows.map((r) => `<tr>${r.map((c) => `<td>${html(c)}</td>`).join('')}</tr>`).join('\n') +
          '\n</tbody></table>',
      );
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
const MARK: Record<string, string> = { holds: 'holds', violated: 'VIOLATED', reachable: 'reachable', unreachable: 'unreachable', unknown: 'unknown' };

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
  blocks.push({ p: "Each cell lists the spec's configurations by the property's verdict in them; a configuration where it is VIOLATED links to the counterexample." });
  const props = propertiesOf(ctx);
  blocks.push({
    table: {
      head: ['id', 'property', 'kind', ...bySpec.map((s) => s.spec)],
      rows: props.map((p) => [
        { code: p.id },
        p.property,
        p.kind,
        ...bySpec.map(({ runs }) => {
          // Configurations grouped by verdict: "VIOLATED: trusting, unvalidated; holds: fsync, …".
          const byVerdict = new Map<string, Inline[]>();
          for (const run of runs) {
            const r = resultsOf(ctx.doc, run.spec, run.config).find((x) => x.id === p.id);
            if (!r) continue;
            const page = ctx.tracePage(r);
            const name: Inline = r.verdict === 'violated' && page ? { link: run.config, href: page } : run.config;
            const list = byVerdict.get(r.verdict) ?? [];
            if (list.length) list.push(', ');
            list.push(r.expected !== r.verdict ? [name, ` (expected ${r.expected ?? 'none'})`] : name);
            byVerdict.set(r.verdict, list);
          }
          const cells: Inline[] = [];
          for (const v of VERDICT_ORDER.filter((x) => byVerdict.has(x)).concat([...byVerdict.keys()].filter((x) => !VERDICT_ORDER.includes(x)))) {
            if (cells.length) cells.push('; ');
            cells.push(v === 'violated' ? { bold: MARK[v] } : MARK[v] ?? v, ': ', byVerdict.get(v)!);
          }
          return cells.length ? cells : '—';
        }),
      ]),
    },
  });

  // Counterexamples by name.
  blocks.push({ h: 2, text: 'Counterexamples' });
  const violated = ctx.doc.results.filter((r) => r.verdict === 'violated' && r.kind !== 'deadlock');
  if (!violated.length) blocks.push({ p: 'No invariant is violated in the configurations checked.' });
  for (const p of props) {
    const rs = violated.filter((r) => r.id === p.id);
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

  blocks.push({ h: 2, text: 'Deadlocks' });
  const dead = ctx.doc.results.filter((r) => r.kind === 'deadlock');
  const deadFound = dead.filter((r) => r.verdict === 'violated');
  if (deadFound.length) {
    blocks.push({ list: deadFound.map((r) => [link(r), ': ', { code: r.id }, ` (“${r.property}”) violated, ${traceSummary(r)}; last step: ${r.trace?.steps.at(-1)?.text ?? ''}`]) });
  } else {
    blocks.push({ p: `No deadlock found: ${dead.length} configuration(s) checked for one.` });
  }

  // Fault cost, where measured (issue 3's figures arrive in the results document).
  const ms = combineMeasurements(ctx.doc.measurements ?? []);
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
