/**
 * The timeline figure of a trace: state over time, one lane per state field that changes, lanes
 * grouped by the block they belong to, volatile lanes (cache, in-memory metadata, page tables,
 * the running transaction) beside durable ones (persistent memory, committed metadata), with the
 * power failure marked.
 *
 * Lanes come from the trace's own field names, never from a list of a spec's fields: a field
 * naming a block (`block 1`, `block 1 (committed)`, `pmem 1.0`, `cache 1.0`, `PTE 0.1`) joins that
 * block's group; fields without one form groups by what they are (journal, page tables, threads,
 * other state). A spec whose fields are named differently still gets one lane per changing field.
 */
import type { Trace } from '../trace.ts';
import { esc } from './html.ts';

/** What a lane holds, guessed from its name: decides its colour and how it is grouped. */
export type LaneKind = 'durable' | 'cache' | 'pagetable' | 'journal' | 'memory';

export function laneKind(field: string): LaneKind {
  if (/committed|durable|\bpmem\b|media|on[- ]disk|persistent/i.test(field)) return 'durable';
  if (/cache|dirty|store buffer|write-?back/i.test(field)) return 'cache';
  if (/\bPTE\b|\bPMD\b|page[- ]table|\bmapping\b|\bvma\b|radix|mkwrite/i.test(field)) return 'pagetable';
  if (/transaction|journal|jbd2|\blog\b/i.test(field)) return 'journal';
  return 'memory';
}

export const KIND_TEXT: Record<LaneKind, string> = {
  durable: 'durable (media, committed metadata)',
  cache: 'CPU cache (volatile data)',
  pagetable: 'page tables and mappings',
  journal: 'journal (running transaction)',
  memory: 'other volatile state',
};

const COLORS: Record<LaneKind, { quiet: string; loud: string }> = {
  durable: { quiet: '#dde8f5', loud: '#7fa8d8' },
  cache: { quiet: '#fcf0d8', loud: '#f0b550' },
  pagetable: { quiet: '#eee6f6', loud: '#b196d6' },
  journal: { quiet: '#e2f2e6', loud: '#74c08a' },
  memory: { quiet: '#efefef', loud: '#b3b9c4' },
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
export function blockOf(field: string): number | null {
  const m = /(?:^|\s)(\d+)(?:\.(\d+))?(?=$|\s|\))/.exec(field);
  if (!m) return null;
  if (/^(mapping|vma|map)\b/i.test(field)) return null;
  if (laneKind(field) === 'pagetable' && m[2] !== undefined) return Number(m[2]);
  return Number(m[1]);
}

/** Lanes grouped: general groups first (journal, other state), then blocks in order, then the rest. */
export function groupLanes(fields: string[]): LaneGroup[] {
  const groups = new Map<string, LaneGroup>();
  const add = (key: string, title: string, f: string) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, title, lanes: [] }));
    g.lanes.push(f);
  };
  for (const f of fields) {
    const b = blockOf(f);
    const kind = laneKind(f);
    const actor = /^([A-Za-z]+\d+)\b/.exec(f);
    if (b !== null) add(`2 block ${String(b).padStart(6, '0')}`, `block ${b}`, f);
    else if (kind === 'journal') add('0 journal', 'journal', f);
    else if (kind === 'pagetable') add('4 pagetable', 'mappings', f);
    else if (actor) add(`3 actor ${actor[1]}`, actor[1], f);
    else add('1 other', 'other state', f);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Every field's value in each state of the trace: states[0] is the initial state, states[k] after step k. */
export function statesOf(trace: Trace): Record<string, string>[] {
  const out: Record<string, string>[] = [{ ...trace.initialState }];
  for (const s of trace.steps) {
    const next = { ...out[out.length - 1] };
    for (const c of s.changes) next[c.field] = c.after;
    out.push(next);
  }
  return out;
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

export interface TimelineOptions {
  kind: 'always' | 'sometimes' | 'deadlock' | string;
  verdict: string;
}

const LABEL_W = 170;
const COL_W = 60;
const ROW_H = 18;
const GROUP_H = 20;
const HEAD_H = 44;
const CHAR_W = 6.3;

function clip(text: string, width: number): string {
  const max = Math.floor((width - 6) / CHAR_W);
  if (max <= 0) return '';
  return text.length <= max ? text : max <= 1 ? '…' : text.slice(0, max - 1) + '…';
}

/** The figure as inline SVG (class `timeline`), or a note when no field changes. */
export function timelineSvg(trace: Trace, opts: TimelineOptions): string {
  const { changing } = fieldsOf(trace);
  if (!changing.length) return '<p class="small">No state field changes along this trace.</p>';
  const states = statesOf(trace);
  const n = trace.steps.length;
  const groups = groupLanes(changing);
  const crashRuns = crashes(trace);
  const width = LABEL_W + (n + 1) * COL_W + 10;
  const x = (k: number) => LABEL_W + k * COL_W;
  const out: string[] = [];
  let y = HEAD_H;

  // Column heads: the initial state, then one column per step (the state after it).
  const heads: string[] = [];
  for (let k = 0; k <= n; k++) {
    const step = k === 0 ? null : trace.steps[k - 1];
    const tip = step ? `${k}. ${step.actor}: ${step.text}` : 'initial state';
    heads.push(
      `<g class="col-head"><title>${esc(tip)}</title>` +
        `<text x="${x(k) + COL_W / 2}" y="16" text-anchor="middle" font-weight="600">${k === 0 ? 'start' : k}</text>` +
        `<text x="${x(k) + COL_W / 2}" y="32" text-anchor="middle" fill="#5b6475">${esc(clip(step ? step.actor : 'initial', COL_W))}</text></g>`,
    );
  }

  const rows: string[] = [];
  for (const g of groups) {
    rows.push(
      `<text x="6" y="${y + 14}" font-weight="700" fill="#1d2330">${esc(clip(g.title, LABEL_W - 8))}</text>` +
        `<line x1="0" x2="${width}" y1="${y + GROUP_H - 1}" y2="${y + GROUP_H - 1}" stroke="#d7dbe3"/>`,
    );
    y += GROUP_H;
    for (const f of g.lanes) {
      const kind = laneKind(f);
      const c = COLORS[kind];
      rows.push(
        `<g class="lane" data-field="${esc(f)}"><title>${esc(`${f}: ${KIND_TEXT[kind]}`)}</title>` +
          `<rect x="8" y="${y + 4}" width="8" height="${ROW_H - 8}" fill="${c.loud}"/>` +
          `<text x="22" y="${y + 13}">${esc(clip(f, LABEL_W - 26))}</text></g>`,
      );
      // Runs of equal values become one bar.
      let start = 0;
      for (let k = 1; k <= n + 1; k++) {
        if (k <= n && states[k][f] === states[start][f]) continue;
        const v = states[start][f] ?? '';
        const w = (k - start) * COL_W;
        const quiet = v === states[0][f];
        const tip = `${f} = ${v} (${start === 0 ? 'from the start' : `from step ${start}`}${k - 1 > start ? ` to ${k - 1 === n ? 'the end' : `step ${k - 1}`}` : ''})`;
        rows.push(
          `<g class="seg"><title>${esc(tip)}</title>` +
            `<rect x="${x(start) + 1}" y="${y + 2}" width="${w - 2}" height="${ROW_H - 4}" rx="3" fill="${quiet ? c.quiet : c.loud}"` +
            `${start > 0 ? ' stroke="#1d2330" stroke-width="0.6"' : ''}/>` +
            `<text x="${x(start) + 5}" y="${y + 13}">${esc(clip(v, w))}</text></g>`,
        );
        start = k;
      }
      y += ROW_H;
    }
  }

  const bottom = y + 4;
  const marks: string[] = [];
  for (let k = 0; k <= n; k++) marks.push(`<line x1="${x(k)}" x2="${x(k)}" y1="${HEAD_H - 6}" y2="${bottom}" stroke="#eef0f4"/>`);
  for (const [c, last] of crashRuns) {
    const tip = [...Array(last - c + 1).keys()].map((i) => `step ${c + i}: ${trace.steps[c + i - 1].text}`).join('\n');
    marks.push(
      `<g class="crash"><title>${esc(tip)}</title>` +
        `<line x1="${x(c)}" x2="${x(c)}" y1="${HEAD_H - 8}" y2="${bottom}" stroke="#b3261e" stroke-width="2.5" stroke-dasharray="6 3"/>` +
        `<text x="${x(c) + 3}" y="${HEAD_H - 2}" fill="#b3261e" font-weight="700">⚡ power failure</text></g>`,
    );
  }
  const endText =
    opts.kind === 'deadlock' && opts.verdict === 'violated'
      ? 'deadlock: no thread can move'
      : opts.verdict === 'violated'
        ? 'property false'
        : opts.verdict === 'reachable'
          ? 'reached'
          : '';
  if (endText && n > 0) {
    marks.push(
      `<g class="end"><rect x="${x(n) + 1}" y="${HEAD_H - 6}" width="${COL_W - 2}" height="${bottom - HEAD_H + 6}" fill="none" stroke="#b3261e" stroke-width="1.5"/>` +
        `<text x="${x(n) + COL_W - 2}" y="${bottom + 14}" text-anchor="end" fill="#b3261e" font-weight="700">${esc(endText)}</text></g>`,
    );
  }

  // Legend.
  const kinds = [...new Set(changing.map(laneKind))];
  const legendY = bottom + 26;
  const legend = kinds.map((k, i) => {
    const lx = 8 + i * 230;
    return `<rect x="${lx}" y="${legendY}" width="12" height="10" fill="${COLORS[k].loud}"/><text x="${lx + 16}" y="${legendY + 9}">${esc(KIND_TEXT[k])}</text>`;
  });
  const height = legendY + 18;
  const w = Math.max(width, 8 + kinds.length * 230);
  return (
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" ` +
    `font-family="ui-monospace, DejaVu Sans Mono, Menlo, monospace" font-size="10.5" role="img" aria-label="state over time">\n` +
    marks.slice(0, n + 1).join('') +
    '\n' +
    heads.join('') +
    '\n' +
    rows.join('\n') +
    '\n' +
    marks.slice(n + 1).join('') +
    '\n' +
    legend.join('') +
    '\n</svg>'
  );
}
