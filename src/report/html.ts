/**
 * HTML building blocks of the reports. Every text that comes from a spec, a result or a trace
 * goes through `esc`: a label holding `<script>` shows as text. Pages are self-contained (inline
 * CSS and SVG, links relative to the page) so they work from disk, offline.
 */

/** Escapes text for HTML content and attribute values (also used inside inline SVG). */
export function esc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Text for Markdown: HTML-escaped (Markdown renderers pass HTML through) and table-safe. */
export function mdEsc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|').replace(/\*/g, '\\*').replace(/_/g, '\\_').replace(/`/g, '\\`').replace(/\r?\n/g, ' ');
}

/** A file or directory name from any label: no separators, no surprises. */
export function slug(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return s.length ? s.slice(0, 80) : 'x';
}

/** Relative link from the directory `fromDir` (relative to the report root) to `to`. */
export function rel(fromDir: string, to: string): string {
  const up = fromDir === '' ? 0 : fromDir.split('/').length;
  return '../'.repeat(up) + to;
}

/** A value in a verdict cell. */
export function verdictClass(v: string | null): string {
  return v === null ? 'none' : v;
}

export const CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d7dbe3; --bg:#fff; --soft:#f5f7fa;
  --holds:#1f7a3d; --violated:#b3261e; --reachable:#1f5fa8; --unreachable:#8a5a00; --unknown:#6b6b6b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.55em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.5em; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
a { color: #1f5fa8; }
nav.crumbs { font-size: 0.9em; color: var(--muted); margin-bottom: 8px; }
p.lead { color: var(--muted); margin-top: 0; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 600; white-space: nowrap; }
.v-holds { color: var(--holds); } .v-violated { color: var(--violated); } .v-reachable { color: var(--reachable); }
.v-unreachable { color: var(--unreachable); } .v-unknown, .v-none { color: var(--unknown); }
td.cell-violated { background: #fdecea; } td.cell-holds { background: #edf7ef; } td.cell-reachable { background: #eaf1fb; }
td.cell-unreachable { background: #fdf3e1; } td.cell-unknown { background: #eee; }
td.cell-design { background: #f3f0ea; }
td.mismatch { outline: 2px solid var(--violated); outline-offset: -2px; }
.chip { display: inline-block; padding: 0 7px; margin: 1px 2px 1px 0; border-radius: 10px; font-size: 0.82em; line-height: 1.6; white-space: nowrap; border: 1px solid transparent; text-decoration: none; }
a.chip:hover { text-decoration: underline; }
.chip-keeps, .chip-holds { background: #e3f3e7; color: var(--holds); border-color: #b9dfc3; }
.chip-breaks, .chip-violated { background: #fde4e1; color: var(--violated); border-color: #f3b6ae; font-weight: 600; }
.chip-design { background: #efebe4; color: #6b5a3a; border-color: #d8cfbf; }
.chip-reachable { background: #e6effa; color: var(--reachable); border-color: #bcd2ee; }
.chip-unreachable { background: #fbf0dc; color: var(--unreachable); border-color: #ecd3a5; }
.chip-unknown, .chip-na { background: #f0f0f0; color: var(--unknown); border-color: #dcdcdc; }
.chip-mismatch { outline: 2px solid var(--violated); }
table.answer { font-size: 0.92em; width: 100%; }
table.answer td { vertical-align: middle; }
table.answer td:first-child { width: 30%; }
table.answer td:last-child { width: 17%; font-size: 0.9em; }
table.verdicts { font-size: 0.88em; }
table.verdicts td:last-child { width: 55%; }
.spec-group { display: inline-block; margin: 0 10px 2px 0; }
.small { font-size: 0.85em; color: var(--muted); }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; background: var(--soft); border: 1px solid var(--line); font-size: 0.8em; }
.argument { background: #fbfbf4; border-left: 4px solid #c9b458; padding: 8px 14px; }
.argument p { margin: 0.5em 0; }
.figure { overflow-x: auto; border: 1px solid var(--line); padding: 6px; background: #fff; }
ol.steps { padding-left: 0; list-style: none; }
table.steps td.step-text { max-width: 560px; }
table.steps ul { margin: 0; padding-left: 18px; }
table.matrix { font-size: 0.88em; }
table.matrix td:first-child { min-width: 230px; }
table.matrix td.spec-row { background: var(--soft); }
/* A table wider than the page scrolls in its figure; its first column (the row's name) stays in view. */
.figure:has(> table.matrix), .figure:has(> table.wide) { padding: 0; }
.figure > table.matrix, .figure > table.wide { margin: 0; }
table.matrix td:first-child, table.wide td:first-child { position: sticky; left: 0; z-index: 1; background: var(--bg); box-shadow: -4px 0 0 var(--bg), 1px 0 0 var(--line); }
table.matrix th:first-child, table.wide th:first-child { position: sticky; left: 0; z-index: 2; box-shadow: 1px 0 0 var(--line); }
details summary { cursor: pointer; color: var(--muted); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; }
`;

/** A complete page: title, optional breadcrumbs (already HTML) and body (already HTML). */
export function page(title: string, body: string, opts: { crumbs?: string; head?: string } = {}): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${esc(title)}</title>\n<style>${CSS}</style>\n${opts.head ?? ''}</head>\n<body>\n<main>\n` +
    (opts.crumbs ? `<nav class="crumbs">${opts.crumbs}</nav>\n` : '') +
    body +
    '\n</main>\n</body>\n</html>\n'
  );
}

/** An HTML table from header cells and rows of cells (cells are HTML). */
export function table(head: string[], rows: string[][], cls = ''): string {
  return (
    `<table${cls ? ` class="${cls}"` : ''}>\n<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>\n<tbody>\n` +
    rows.map((r) => `<tr>${r.map((c) => (c.startsWith('<td') ? c : `<td>${c}</td>`)).join('')}</tr>`).join('\n') +
    '\n</tbody></table>'
  );
}

/** A number with thousands separators, the same on every machine. */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
