/**
 * The timeline figure of a trace: state over time, one lane per state field that changes (and
 * every field the argument cites, even when constant), lanes grouped by the block they belong to,
 * coloured by what each field is as the spec's renderer declares it (durable, journal, cache,
 * page tables, other volatile state, ghost), with the power failure and the end marked.
 *
 * The figure fits the page: every value is shown whole (a column is as wide as the values it
 * holds need), and when the steps do not fit one row they wrap into bands, each with the lane
 * labels and the column heads, so nothing has to be scrolled to and the crash and end markers are
 * always in view.
 *
 * Lanes are grouped by the block a field's name mentions (`block 1`, `block 1 (committed)`,
 * `pmem 1.0`, `cache 1.0`, `PTE 0.1` join block 1); fields without one form groups by their
 * declared kind (journal, page tables) or the actor they name (`T0 fd`). A spec whose fields are
 * named differently still gets one lane per field.
 */
import type { FieldKind } from '../../specs/common/spec.ts';
import { statesOf, type Trace } from '../trace.ts';

export { statesOf };
import { esc } from './html.ts';

/** What a lane holds: a declared field kind, a thread's progress (deadlocks), or undeclared. */
export type LaneKind = FieldKind | 'thread' | 'undeclared';

/** A field's kind as the trace declares it (Trace.fieldInfo); never guessed from its name. */
export function laneKind(trace: Pick<Trace, 'fieldInfo'>, field: string): LaneKind {
  // Own properties only: a field named like an Object.prototype member is no declaration.
  const info = trace.fieldInfo && Object.hasOwn(trace.fieldInfo, field) ? trace.fieldInfo[field] : undefined;
  return info && Object.hasOwn(COLORS, info.kind) ? info.kind : 'undeclared';
}

export const KIND_TEXT: Record<LaneKind, string> = {
  durable: 'durable (media, committed metadata)',
  journal: 'journal',
  cache: 'cache (CPU cache lines, page cache)',
  pagetable: 'page tables and mappings',
  volatile: 'other volatile state (in-memory metadata, locks)',
  ghost: 'ghost (bookkeeping for properties, not system state)',
  thread: 'thread: its last step, and what it waits for at the end',
  undeclared: 'kind not declared by the spec',
};

const COLORS: Record<LaneKind, { quiet: string; loud: string; stroke?: string; dash?: string }> = {
  durable: { quiet: '#dde8f5', loud: '#7fa8d8' },
  journal: { quiet: '#e2f2e6', loud: '#74c08a' },
  cache: { quiet: '#fcf0d8', loud: '#f0b550' },
  pagetable: { quiet: '#eee6f6', loud: '#b196d6' },
  volatile: { quiet: '#efefef', loud: '#b3b9c4' },
  ghost: { quiet: '#fdf3f8', loud: '#f2c6dd', stroke: '#b0417a', dash: '3 2' },
  thread: { quiet: '#f4f4f4', loud: '#ffd9d6', stroke: '#b3261e' },
  undeclared: { quiet: '#ffffff', loud: '#e6e6e6', stroke: '#8a8f99', dash: '1 2' },
};

export interface LaneGroup {
  /** Sort and identity key. */
  key: string;
  title: string;
  lanes: string[];
}

/**
 * The block a field belongs to, when its name says: the first stand-alone number (`block 1`,
 * `pmem 1.0`, `radix 1` → 1), except that a page-table entry named by mapping and block
 * (`PTE 0.1`) belongs to its last number. Null for fields naming no block: `T0 fd` (a thread's),
 * `mapping 0` (a mapping's number, not a block's), `running transaction`.
 */
export function blockOf(field: string, kind: LaneKind = 'undeclared'): number | null {
  const m = /(?:^|\s)(\d+)(?:\.(\d+))?(?=$|\s|\))/.exec(field);
  if (!m) return null;
  if (/^(mapping|vma|map)\b/i.test(field)) return null;
  if ((kind === 'pagetable' || /^(PTE|PMD)\b/.test(field)) && m[2] !== undefined) return Number(m[2]);
  return Number(m[1]);
}

/** Lanes grouped: general groups first (journal, other state), then blocks in order, then the rest. */
export function groupLanes(fields: string[], kindOf: (field: string) => LaneKind = () => 'undeclared'): LaneGroup[] {
  const groups = new Map<string, LaneGroup>();
  const add = (key: string, title: string, f: string) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, title, lanes: [] }));
    g.lanes.push(f);
  };
  for (const f of fields) {
    const kind = kindOf(f);
    const b = kind === 'thread' ? null : blockOf(f, kind);
    const actor = /^([A-Za-z]+\d+)\b/.exec(f);
    if (kind === 'thread') add('0 threads', 'threads', f);
    else if (b !== null) add(`3 block ${String(b).padStart(6, '0')}`, `block ${b}`, f);
    else if (kind === 'journal') add('1 journal', 'journal', f);
    else if (kind === 'pagetable') add('5 pagetable', 'mappings', f);
    else if (actor) add(`4 actor ${actor[1]}`, actor[1], f);
    else add('2 other', 'other state', f);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}


/** Fields in the order the renderer lists them (then any that appear only in changes), and those that change. */
export function fieldsOf(trace: Trace): { all: string[]; changing: string[] } {
  const all = Object.keys(trace.initialState);
  const seen = new Set(all);
  const changing = new Set<string>();
  for (const s of trace.steps) {
    for (const c of s.changes) {
      changing.add(c.field);
      if (!seen.has(c.field)) {
        seen.add(c.field);
        all.push(c.field);
      }
    }
  }
  return { all, changing: all.filter((f) => changing.has(f)) };
}

/** Steps that are a power failure or crash, by their actor or event. */
export function crashSteps(trace: Trace): number[] {
  const out: number[] = [];
  trace.steps.forEach((s, i) => {
    if (/power|crash/i.test(s.actor) || /^(power|crash)/i.test(s.event)) out.push(i + 1);
  });
  return out;
}

/**
 * Crashes as runs of consecutive crash steps (a crash decided word by word takes several steps):
 * `[first, last]` step numbers of each.
 */
export function crashes(trace: Trace): [number, number][] {
  const out: [number, number][] = [];
  for (const c of crashSteps(trace)) {
    const last = out[out.length - 1];
    if (last && last[1] === c - 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}

/** The event of a step without its actor's prefix (`T0.ext4_write_begin` → `ext4_write_begin`). */
function shortEvent(event: string, actor: string): string {
  return event.startsWith(`${actor}.`) ? event.slice(actor.length + 1) : event;
}

/**
 * For a deadlock with a wait-for graph: one lane per waiting actor, named `<actor> (thread)`: the
 * event of its last step (— before its first), and at the end what it waits for.
 */
export function threadLanes(trace: Trace): { field: string; values: string[] }[] {
  const waits = trace.waitGraph ?? [];
  const actors: string[] = [];
  for (const w of waits) if (!actors.includes(w.actor)) actors.push(w.actor);
  return actors.map((actor) => {
    const values: string[] = [];
    let at = '—';
    values.push(at);
    trace.steps.forEach((s) => {
      if (s.actor === actor) at = shortEvent(s.event, actor);
      values.push(at);
    });
    const w = waits.filter((x) => x.actor === actor);
    values[values.length - 1] = `${at === '—' ? '' : `${at}; `}waits for ${w.map((x) => x.waitsFor).join(' and ')}`;
    return { field: `${actor} (thread)`, values };
  });
}

export interface TimelineOptions {
  kind: 'always' | 'sometimes' | 'deadlock' | string;
  verdict: string;
  /** Fields drawn even when they never change: those the argument cites. */
  include?: string[];
  /** The width the figure must fit, in px (bands wrap to it). */
  width?: number;
}

/** The width the catalog's pages give a figure (main's 1320 px less padding and border). */
export const FIGURE_WIDTH = 1240;

const CHAR_W = 6.33; // DejaVu Sans Mono (or any monospace of its metrics) at 10.5 px
const ROW_H = 18;
const GROUP_H = 20;
const MIN_COL = 40;
const PAD = 10; // a bar's text padding, both sides together
const BAND_GAP = 22;

/** Width of a text at the figure's font size. */
export function textWidth(text: string): number {
  return Math.ceil([...text].length * CHAR_W);
}

interface Lane {
  field: string;
  kind: LaneKind;
  values: string[];
}

/** Runs of equal values: [first, last] column of each, inclusive. */
function runsOf(values: string[]): [number, number][] {
  const out: [number, number][] = [];
  let s = 0;
  for (let k = 1; k <= values.length; k++) {
    if (k < values.length && values[k] === values[s]) continue;
    out.push([s, k - 1]);
    s = k;
  }
  return out;
}

/** The figure as inline SVG (class `timeline`), or a note when there is nothing to draw. */
export function timelineSvg(trace: Trace, opts: TimelineOptions): string {
  const W = opts.width ?? FIGURE_WIDTH;
  const { all, changing } = fieldsOf(trace);
  const states = statesOf(trace);
  const n = trace.steps.length;
  const include = new Set((opts.include ?? []).filter((f) => all.includes(f)));
  const fields = all.filter((f) => changing.includes(f) || include.has(f));
  const threads = threadLanes(trace);
  if (!fields.length && !threads.length) return '<p class="small">No state field changes along this trace.</p>';

  const lanes: Lane[] = [
    ...threads.map((t) => ({ field: t.field, kind: 'thread' as LaneKind, values: t.values })),
    // A field a state does not have (yet) reads as an absence, not as an empty bar.
    ...fields.map((f) => ({ field: f, kind: laneKind(trace, f), values: states.map((s) => s[f] ?? '—') })),
  ];
  const kindOf = new Map(lanes.map((l) => [l.field, l.kind]));
  const laneOf = new Map(lanes.map((l) => [l.field, l]));
  const groups = groupLanes(
    lanes.map((l) => l.field),
    (f) => kindOf.get(f) ?? 'undeclared',
  );

  // The label column: as wide as the longest lane or group name.
  const labelW = Math.min(
    340,
    Math.max(120, ...lanes.map((l) => textWidth(l.field) + 30), ...groups.map((g) => textWidth(g.title) + 14)),
  );
  const room = W - labelW - 4;

  // Column heads: the step number over its actor, the actor's words on lines of their own.
  const actorLines = (k: number) => (k === 0 ? ['initial'] : trace.steps[k - 1].actor.split(/\s+/).filter(Boolean));
  const colW: number[] = [];
  for (let k = 0; k <= n; k++) {
    const words = actorLines(k);
    colW.push(Math.max(MIN_COL, textWidth(k === 0 ? 'start' : String(k)) + PAD, ...words.map((w) => textWidth(w) + PAD)));
  }
  const actorRows = Math.max(1, ...colW.map((_, k) => actorLines(k).length));

  // Bands: consecutive columns that fit the width. Widen columns until every piece of every run
  // of equal values shows its value whole (widening moves band edges, hence the loop).
  const needOf = (v: string) => Math.min(room, textWidth(v) + PAD);
  const runs = lanes.map((l) => runsOf(l.values));
  const bandsOf = (): [number, number][] => {
    const out: [number, number][] = [];
    let start = 0;
    let used = 0;
    for (let k = 0; k <= n; k++) {
      if (k > start && used + colW[k] > room) {
        out.push([start, k - 1]);
        start = k;
        used = 0;
      }
      used += colW[k];
    }
    out.push([start, n]);
    return out;
  };
  let bands = bandsOf();
  for (let iter = 0; iter < 200; iter++) {
    let widened = false;
    for (let li = 0; li < lanes.length; li++) {
      for (const [s, e] of runs[li]) {
        for (const [bs, be] of bands) {
          const a = Math.max(s, bs);
          const b = Math.min(e, be);
          if (a > b) continue;
          let have = 0;
          for (let k = a; k <= b; k++) have += colW[k];
          const need = needOf(lanes[li].values[s]);
          if (have >= need) continue;
          const each = Math.ceil((need - have) / (b - a + 1));
          for (let k = a; k <= b; k++) colW[k] = Math.min(room, colW[k] + each);
          widened = true;
        }
      }
    }
    if (!widened) break;
    bands = bandsOf();
  }

  // Crash marks: one per run of crash steps, at the step that starts it.
  const crashRuns = crashes(trace);
  const endText =
    opts.kind === 'deadlock' && opts.verdict === 'violated'
      ? 'deadlock: no thread can move'
      : trace.loopStart !== undefined && opts.verdict === 'violated'
        ? trace.loopStart < trace.steps.length
          ? `⟳ back to before step ${trace.loopStart + 1}, forever`
          : 'stops here forever'
      : opts.verdict === 'violated'
        ? 'property false'
        : opts.verdict === 'reachable'
          ? 'reached'
          : '';

  const out: string[] = [];
  let maxRight = 0;
  let Y = 0;
  const crashLabel = 'power failure';
  const headH = 8 + 14 + actorRows * 12 + 4;
  bands.forEach(([bs, be], bi) => {
    const xs: number[] = [];
    let acc = labelW;
    for (let k = bs; k <= be; k++) {
      xs[k] = acc;
      acc += colW[k];
    }
    const right = acc;
    maxRight = Math.max(maxRight, right);
    // Crash labels of this band, on rows of their own where they would overlap.
    const marks = crashRuns.filter(([c]) => c >= bs && c <= be);
    const placed: { x: number; w: number; row: number; run: [number, number] }[] = [];
    for (const run of marks) {
      const w = textWidth(crashLabel) + 14;
      let x = xs[run[0]] + 3;
      if (x + w > right) x = right - w;
      let row = 0;
      while (placed.some((p) => p.row === row && !(x + w + 4 <= p.x || p.x + p.w + 4 <= x))) row++;
      placed.push({ x, w, row, run });
    }
    const markRows = placed.length ? Math.max(...placed.map((p) => p.row)) + 1 : 0;
    const top = Y;
    const lanesTop = top + headH + markRows * 14;
    const g: string[] = [`<g class="band" data-band="${bi}">`];

    // Lanes.
    let y = lanesTop;
    const rows: string[] = [];
    for (const grp of groups) {
      rows.push(
        `<text class="group" x="6" y="${y + 14}" font-weight="700" fill="#1d2330">${esc(grp.title)}</text>` +
          `<line x1="0" x2="${right}" y1="${y + GROUP_H - 1}" y2="${y + GROUP_H - 1}" stroke="#d7dbe3"/>`,
      );
      y += GROUP_H;
      for (const f of grp.lanes) {
        const lane = laneOf.get(f)!;
        const c = COLORS[lane.kind];
        const tip = `${f}: ${KIND_TEXT[lane.kind]}${include.has(f) && !changing.includes(f) ? ' (constant; the argument cites it)' : ''}`;
        rows.push(
          `<g class="lane" data-field="${esc(f)}" data-kind="${lane.kind}"><title>${esc(tip)}</title>` +
            `<rect x="8" y="${y + 4}" width="8" height="${ROW_H - 8}" fill="${c.loud}"${c.stroke ? ` stroke="${c.stroke}" stroke-width="0.8"${c.dash ? ` stroke-dasharray="${c.dash}"` : ''}` : ''}/>` +
            `<text x="22" y="${y + 13}">${esc(f)}</text></g>`,
        );
        for (const [s, e] of runsOf(lane.values)) {
          const a = Math.max(s, bs);
          const b = Math.min(e, be);
          if (a > b) continue;
          const v = lane.values[s];
          const x0 = xs[a];
          let w = 0;
          for (let k = a; k <= b; k++) w += colW[k];
          const quiet = v === lane.values[0] && lane.kind !== 'thread';
          const span = `${s === 0 ? 'from the start' : `from step ${s}`}${e > s ? ` to ${e === n ? 'the end' : `step ${e}`}` : ''}`;
          const shown = textWidth(v) + PAD <= w ? v : clip(v, w);
          const stroke = c.stroke ? ` stroke="${c.stroke}" stroke-width="0.8"${c.dash ? ` stroke-dasharray="${c.dash}"` : ''}` : s > 0 ? ' stroke="#1d2330" stroke-width="0.6"' : '';
          rows.push(
            `<g class="seg" data-field="${esc(f)}"><title>${esc(`${f} = ${v} (${span})`)}</title>` +
              `<rect x="${x0 + 1}" y="${y + 2}" width="${w - 2}" height="${ROW_H - 4}" rx="3" fill="${quiet ? c.quiet : c.loud}"${stroke}/>` +
              `<text x="${x0 + 5}" y="${y + 13}"${lane.kind === 'ghost' ? ' font-style="italic"' : ''}>${esc(shown)}</text></g>`,
          );
        }
        y += ROW_H;
      }
    }
    const bottom = y + 4;

    // Column lines and heads.
    for (let k = bs; k <= be; k++) g.push(`<line x1="${xs[k]}" x2="${xs[k]}" y1="${top + headH - 6}" y2="${bottom}" stroke="#eef0f4"/>`);
    for (let k = bs; k <= be; k++) {
      const step = k === 0 ? null : trace.steps[k - 1];
      const tip = step ? `${k}. ${step.actor}: ${step.text}` : 'initial state';
      const cx = xs[k] + colW[k] / 2;
      g.push(
        `<g class="col-head"><title>${esc(tip)}</title>` +
          `<text x="${cx}" y="${top + 16}" text-anchor="middle" font-weight="600">${k === 0 ? 'start' : k}</text>` +
          actorLines(k)
            .map((l, i) => `<text x="${cx}" y="${top + 30 + i * 12}" text-anchor="middle" fill="#5b6475">${esc(l)}</text>`)
            .join('') +
          '</g>',
      );
    }
    g.push(...rows);
    // The power failure: a dashed line where it strikes, its label above the lanes.
    for (const p of placed) {
      const [c, last] = p.run;
      const tip = [...Array(last - c + 1).keys()].map((i) => `step ${c + i}: ${trace.steps[c + i - 1].text}`).join('\n');
      const ly = top + headH + p.row * 14 + 8;
      g.push(
        `<g class="crash"><title>${esc(tip)}</title>` +
          `<line x1="${xs[c]}" x2="${xs[c]}" y1="${top + headH - 2}" y2="${bottom}" stroke="#b3261e" stroke-width="2.5" stroke-dasharray="6 3"/>` +
          `<path d="M${p.x + 6},${ly - 8} L${p.x + 2},${ly} L${p.x + 5},${ly} L${p.x + 3},${ly + 5} L${p.x + 9},${ly - 2} L${p.x + 6},${ly - 2} L${p.x + 8},${ly - 8} z" fill="#b3261e"/>` +
          `<text x="${p.x + 12}" y="${ly + 3}" fill="#b3261e" font-weight="700">${crashLabel}</text></g>`,
      );
    }
    let bandBottom = bottom;
    if (endText && n > 0 && n >= bs && n <= be) {
      const ew = textWidth(endText);
      g.push(
        // Below the crash labels, so its border crosses none of them.
        `<g class="end"><rect x="${xs[n] + 1}" y="${lanesTop - 3}" width="${colW[n] - 2}" height="${bottom - lanesTop + 3}" fill="none" stroke="#b3261e" stroke-width="1.5"/>` +
          `<text x="${Math.max(labelW, right - ew - 2)}" y="${bottom + 14}" fill="#b3261e" font-weight="700">${esc(endText)}</text></g>`,
      );
      bandBottom = bottom + 18;
    } else if (bi < bands.length - 1) {
      g.push(`<text class="continued" x="${right - textWidth('continued below') - 2}" y="${bottom + 13}" fill="#5b6475">continued below</text>`);
      bandBottom = bottom + 16;
    }
    g.push('</g>');
    out.push(g.join('\n'));
    Y = bandBottom + BAND_GAP;
  });

  // Legend: the kinds drawn, flowing onto lines of the figure's width.
  const kinds = [...new Set(lanes.map((l) => l.kind))];
  const legend: string[] = [];
  let lx = 8;
  let ly = Y;
  for (const k of kinds) {
    const w = 16 + textWidth(KIND_TEXT[k]) + 18;
    if (lx > 8 && lx + w > W) {
      lx = 8;
      ly += 16;
    }
    const c = COLORS[k];
    legend.push(
      `<g class="legend-item"><rect x="${lx}" y="${ly}" width="12" height="10" fill="${c.loud}"${c.stroke ? ` stroke="${c.stroke}"${c.dash ? ` stroke-dasharray="${c.dash}"` : ''}` : ''}/>` +
        `<text x="${lx + 16}" y="${ly + 9}">${esc(KIND_TEXT[k])}</text></g>`,
    );
    maxRight = Math.max(maxRight, lx + w);
    lx += w;
  }
  const height = ly + 18;
  const width = Math.ceil(Math.max(maxRight + 2, 200));
  return (
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="DejaVu Sans Mono, ui-monospace, Menlo, monospace" font-size="10.5" role="img" aria-label="state over time">\n` +
    out.join('\n') +
    '\n' +
    legend.join('') +
    '\n</svg>'
  );
}

function clip(text: string, width: number): string {
  const max = Math.floor((width - PAD) / CHAR_W);
  if (max <= 0) return '';
  return text.length <= max ? text : max <= 1 ? '…' : text.slice(0, max - 1) + '…';
}
