/**
 * A deadlock as a picture: the wait-for graph of its last state (Trace.waitGraph). One box per
 * actor: what it holds, what it waits for and where, and its last step; an arrow from each
 * waiting actor to the one that must move first, labelled with what it waits for. The arrows of
 * the cycle are red. Laid out in a row that fits the page (the actors of a deadlock are few).
 */
import type { Trace, WaitEdge } from '../trace.ts';
import { waitCycleOf } from './explain.ts';
import { esc } from './html.ts';
import { FIGURE_WIDTH } from './timeline.ts';

const LINE = 14;
const GAP = 110;
/** Character width at the figure's 11.5 px monospace. */
const CW = 6.95;

/** Lines of at most `width` px, breaking at spaces (a longer word is cut into pieces). */
export function wrap(text: string, width: number): string[] {
  const max = Math.max(4, Math.floor(width / CW));
  const out: string[] = [];
  let line = '';
  for (let w of text.split(/\s+/).filter(Boolean)) {
    while ([...w].length > max) {
      if (line) out.push(line);
      line = '';
      out.push([...w].slice(0, max).join(''));
      w = [...w].slice(max).join('');
    }
    const next = line ? `${line} ${w}` : w;
    if (line && [...next].length > max) {
      out.push(line);
      line = w;
    } else line = next;
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

interface Node {
  actor: string;
  waits: WaitEdge[];
  last: number;
  lines: { text: string; cls: string }[];
}

/** The wait-for graph as inline SVG (class `waitfor`), or '' when the trace has none. */
export function waitForSvg(trace: Trace, width = FIGURE_WIDTH): string {
  const g = trace.waitGraph ?? [];
  if (!g.length) return '';
  const cycle = waitCycleOf(trace) ?? [];
  const inCycle = (from: string, to: string) => cycle.some((a, i) => i + 1 < cycle.length && a === from && cycle[i + 1] === to);
  // Actors: the cycle's first, in its order, then every other waiter and whom it waits on.
  const actors: string[] = [];
  for (const a of cycle) if (!actors.includes(a)) actors.push(a);
  for (const w of g) for (const a of [w.actor, w.on]) if (!actors.includes(a)) actors.push(a);
  const k = actors.length;
  const nodeW = Math.min(400, Math.floor((width - 20 - (k - 1) * GAP) / k));
  const inner = nodeW - 16;
  const lastOf = (actor: string) => {
    for (let i = trace.steps.length; i >= 1; i--) if (trace.steps[i - 1].actor === actor) return i;
    return 0;
  };
  const nodes: Node[] = actors.map((actor) => {
    const waits = g.filter((w) => w.actor === actor);
    const holds = [...new Set(waits.flatMap((w) => w.holds))];
    const last = lastOf(actor);
    const lines: { text: string; cls: string }[] = [];
    lines.push({ text: 'holds', cls: 'head' });
    if (holds.length) for (const h of holds) wrap(h, inner - 12).forEach((l, i) => lines.push({ text: `${i ? '  ' : '• '}${l}`, cls: 'holds' }));
    else lines.push({ text: 'nothing', cls: 'holds' });
    if (waits.length) {
      lines.push({ text: 'waits for', cls: 'head' });
      for (const w of waits) {
        wrap(`${w.waitsFor} (${w.on})`, inner - 12).forEach((l, i) => lines.push({ text: `${i ? '  ' : '• '}${l}`, cls: 'waits' }));
        if (w.where) wrap(`in ${w.where}`, inner - 12).forEach((l) => lines.push({ text: `  ${l}`, cls: 'where' }));
      }
    } else lines.push({ text: 'waits for nothing', cls: 'head' });
    lines.push({ text: 'last step', cls: 'head' });
    const lastText = last ? `${last}. ${trace.steps[last - 1].event}` : 'none in this trace';
    wrap(lastText, inner).forEach((l) => lines.push({ text: l, cls: 'last' }));
    return { actor, waits, last, lines };
  });
  const nodeH = 30 + Math.max(...nodes.map((n) => n.lines.length)) * LINE + 8;

  // Edges: forward (left to right) arcs above the boxes, backward ones below; nested by span.
  type E = { from: number; to: number; w: WaitEdge; label: string[]; cyc: boolean };
  const edges: E[] = g.map((w) => {
    const from = actors.indexOf(w.actor);
    const to = actors.indexOf(w.on);
    // A label sits beyond its arc's peak, between the boxes it joins: as wide as they span.
    const span = Math.max(1, Math.abs(to - from));
    return { from, to, w, label: wrap(w.waitsFor, span * (nodeW + GAP) - GAP / 2), cyc: inCycle(w.actor, w.on) };
  });
  const above = edges.filter((e) => e.to > e.from).sort((a, b) => a.to - a.from - (b.to - b.from) || a.from - b.from);
  const below = edges.filter((e) => e.to <= e.from).sort((a, b) => a.from - a.to - (b.from - b.to) || a.from - b.from);
  // Nested arcs: each one's peak clears the previous arc's label.
  const reach = (list: E[]) => {
    const out = new Map<E, number>();
    let r = 24;
    for (const e of list) {
      out.set(e, r);
      r += e.label.length * LINE + 16;
    }
    return { map: out, total: list.length ? r : 10 };
  };
  const up = reach(above);
  const down = reach(below);
  const top = up.total;
  const H = top + nodeH + down.total + 4;
  const x0 = (i: number) => 10 + i * (nodeW + GAP);
  const cx = (i: number) => x0(i) + nodeW / 2;

  const parts: string[] = [];
  parts.push(
    '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b3261e"/></marker>' +
      '<marker id="wf-arrow-grey" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6475"/></marker></defs>',
  );
  nodes.forEach((n, i) => {
    const x = x0(i);
    const stuck = n.waits.length > 0;
    parts.push(
      `<g class="wf-node" data-actor="${esc(n.actor)}"><rect x="${x}" y="${top}" width="${nodeW}" height="${nodeH}" rx="8" fill="${stuck ? '#fff6f5' : '#f5f7fa'}" stroke="${stuck ? '#b3261e' : '#5b6475'}" stroke-width="1.4"/>` +
        `<text x="${x + 10}" y="${top + 20}" font-weight="700" font-size="14">${esc(n.actor)}</text>` +
        n.lines
          .map((l, j) => {
            const y = top + 38 + j * LINE;
            const style = l.cls === 'head' ? ' font-weight="700" fill="#5b6475"' : l.cls === 'waits' ? ' fill="#b3261e"' : l.cls === 'where' || l.cls === 'last' ? ' fill="#5b6475"' : '';
            return `<text class="wf-${l.cls}" x="${x + 10}" y="${y}"${style}>${esc(l.text)}</text>`;
          })
          .join('') +
        '</g>',
    );
  });
  const drawEdge = (e: E, r: number, isAbove: boolean) => {
    // Arrows into one side of a box arrive side by side.
    const into = (isAbove ? above : below).filter((x) => x.to === e.to);
    const slot = into.indexOf(e) * 22;
    const sx = cx(e.from) + (isAbove ? 30 : -30);
    const tx = e.from === e.to ? sx + 40 : cx(e.to) + (isAbove ? -30 - slot : 30 + slot);
    const yEdge = isAbove ? top : top + nodeH;
    const dir = isAbove ? -1 : 1;
    // A cubic whose control points sit at r / 0.75 peaks at r.
    const ctrl = yEdge + dir * (r / 0.75);
    const peak = yEdge + dir * r;
    const color = e.cyc ? '#b3261e' : '#5b6475';
    const mid = (sx + tx) / 2;
    const firstLine = isAbove ? peak - 6 - (e.label.length - 1) * LINE : peak + 15;
    parts.push(
      `<g class="wf-edge${e.cyc ? ' wf-cycle' : ''}"><title>${esc(`${e.w.actor} waits for ${e.w.waitsFor}, held by ${e.w.on}`)}</title>` +
        `<path d="M${sx},${yEdge} C${sx},${ctrl} ${tx},${ctrl} ${tx},${yEdge}" fill="none" stroke="${color}" stroke-width="${e.cyc ? 2.2 : 1.4}" marker-end="url(#${e.cyc ? 'wf-arrow' : 'wf-arrow-grey'})"/>` +
        e.label.map((l, j) => `<text class="wf-label" x="${mid}" y="${firstLine + j * LINE}" text-anchor="middle" fill="${color}">${esc(l)}</text>`).join('') +
        '</g>',
    );
  };
  for (const e of above) drawEdge(e, up.map.get(e)!, true);
  for (const e of below) drawEdge(e, down.map.get(e)!, false);
  const W = x0(k - 1) + nodeW + 10;
  return (
    `<svg class="waitfor" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="DejaVu Sans Mono, ui-monospace, Menlo, monospace" font-size="11.5" role="img" aria-label="wait-for graph">\n` +
    parts.join('\n') +
    '\n</svg>'
  );
}
