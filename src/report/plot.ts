/**
 * Measured figures (fault cost) as a line plot in inline SVG: one line per series, linear axes
 * with round ticks, a legend. Numbers are formatted the same way on every machine.
 */
import { esc } from './html.ts';
import type { Measurement } from './results.ts';

const PALETTE = ['#1f5fa8', '#b3261e', '#1f7a3d', '#8a5a00', '#6a3d9a', '#00838f', '#c2185b', '#5d4037', '#e65100', '#37474f', '#7cb342', '#0097a7'];
/** Dash patterns, so lines that coincide still show both. */
const DASHES = ['', '7 4', '2 3', '10 3 2 3'];

/** Round tick step for a range: 1, 2 or 5 times a power of ten. */
function tickStep(span: number, want = 6): number {
  if (!(span > 0)) return 1;
  const raw = span / want;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const s = v.toFixed(Math.abs(v) < 1 ? 3 : 2);
  return s.replace(/\.?0+$/, '');
}

export function plotSvg(m: Measurement, idPrefix = 'p'): string {
  const pts = m.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (!pts.length) return '<p class="small">No points measured.</p>';
  const W = 720;
  const H = 340;
  const L = 64;
  const R = 250;
  const T = 24;
  const B = 48;
  let x0 = Math.min(...pts.map((p) => p.x));
  let x1 = Math.max(...pts.map((p) => p.x));
  let y0 = Math.min(0, ...pts.map((p) => p.y));
  let y1 = Math.max(...pts.map((p) => p.y));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const xs = tickStep(x1 - x0);
  const ys = tickStep(y1 - y0);
  x0 = Math.floor(x0 / xs) * xs;
  x1 = Math.ceil(x1 / xs) * xs;
  y0 = Math.floor(y0 / ys) * ys;
  y1 = Math.ceil(y1 / ys) * ys;
  const px = (x: number) => Math.round((L + ((x - x0) / (x1 - x0)) * (W - L - R)) * 10) / 10;
  const py = (y: number) => Math.round((H - B - ((y - y0) / (y1 - y0)) * (H - T - B)) * 10) / 10;
  const parts: string[] = [];
  for (let x = x0; x <= x1 + xs / 2; x += xs) {
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${T}" y2="${H - B}" stroke="#eef0f4"/><text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${esc(fmt(x))}</text>`);
  }
  for (let y = y0; y <= y1 + ys / 2; y += ys) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#eef0f4"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${esc(fmt(y))}</text>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#5b6475"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#5b6475"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(m.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(m.unit)}</text>`);
  const keyOf = (pts: { x: number; y: number }[]) => JSON.stringify([...pts].sort((a, b) => a.x - b.x));
  m.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const dash = DASHES[Math.floor(i / 2) % DASHES.length];
    const sp = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    // A series that repeats an earlier one would hide behind it: the legend says so.
    const same = m.series.slice(0, i).find((o) => keyOf(o.points) === keyOf(s.points));
    const label = same ? `${s.label} (= ${same.label})` : s.label;
    if (sp.length) {
      parts.push(
        `<polyline class="series" data-series="${esc(s.label)}" points="${sp.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"` +
          `${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      );
      for (const p of sp) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3" fill="${color}"><title>${esc(`${s.label}: ${fmt(p.x)} → ${fmt(p.y)} ${m.unit}`)}</title></circle>`);
    }
    const ly = T + 10 + i * 18;
    parts.push(
      `<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly - 6}" y2="${ly - 6}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>` +
        `<text x="${W - R + 34}" y="${ly - 2}">${esc(label)}</text>`,
    );
  });
  return (
    `<svg class="plot" id="${esc(idPrefix)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="${esc(m.name)}">` +
    `<title>${esc(m.name)}</title>${parts.join('')}</svg>`
  );
}
