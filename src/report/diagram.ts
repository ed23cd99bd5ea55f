/**
 * A spec's machine as a diagram: the state nodes (compound and parallel states as boxes holding
 * their children, final states with a double border, a dot for each initial state) and the
 * transitions between them, read from the XState machine itself and laid out by elkjs (the
 * Eclipse Layout Kernel, run in-process: no browser, no network). Transitions without a target
 * (a fault handled while the thread stays where it is, a background commit) are listed inside the
 * node that takes them instead of drawn as loops.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { AnyStateMachine } from 'xstate';
import type { SN } from '../../checker/xstate/semantics.ts';
import { esc } from './html.ts';
import { guardNames } from './sources.ts';

// elkjs is CommonJS: at run time the default import is the constructor itself, while its type
// declarations describe a module whose `default` is; accept both.
type ElkCtor = new () => { layout(graph: unknown): Promise<unknown> };
const ELK = ((ElkModule as unknown as { default?: ElkCtor }).default ?? ElkModule) as unknown as ElkCtor;

export interface DiagramNode {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  children: DiagramNode[];
  /** Transitions that keep this node active (no target), as `event [guards]`. */
  internal: string[];
  /** Id of the initial child of a compound node. */
  initial: string | null;
}

export interface DiagramEdge {
  source: string;
  target: string;
  label: string;
}

export interface MachineGraph {
  root: DiagramNode;
  edges: DiagramEdge[];
}

function guardLabelOf(g: unknown): string | null {
  if (g === undefined) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    const f = g as { guards?: unknown[]; name?: string };
    if (f.guards) return f.guards.map(guardLabelOf).filter(Boolean).join(', ');
    return f.name && f.name !== 'guard' ? f.name : '(inline)';
  }
  if (g && typeof g === 'object' && 'type' in g) return String((g as { type: unknown }).type);
  return null;
}

/** The machine's states and transitions, in document order. */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const edges: DiagramEdge[] = [];
  const seen = new Set<string>();
  const visit = (sn: SN): DiagramNode => {
    const internal: string[] = [];
    for (const [event, defs] of sn.transitions) {
      for (const def of defs) {
        const guards = guardNames(guardLabelOf(def.guard));
        const label = guards.length ? `${event} [${guards.join(', ')}]` : event;
        if (!def.target?.length) {
          if (!internal.includes(label)) internal.push(label);
          continue;
        }
        for (const t of def.target) {
          const k = `${sn.id}\u0000${t.id}\u0000${label}`;
          if (seen.has(k)) continue;
          seen.add(k);
          edges.push({ source: sn.id, target: t.id, label });
        }
      }
    }
    const children = Object.values(sn.states ?? {}).map(visit);
    const initial = sn.type === 'compound' && sn.initial?.target?.length ? sn.initial.target[0].id : null;
    return { id: sn.id, key: sn.key, type: sn.type, children, internal, initial };
  };
  const root = visit(machine.root as unknown as SN);
  return { root, edges };
}

/** A key equal for machines of the same structure (configs that differ only in data share a diagram). */
export function structureKey(g: MachineGraph): string {
  return JSON.stringify(g);
}

const CHAR_W = 6.4;
const LINE_H = 14;

interface ElkNode {
  id: string;
  width?: number;
  height?: number;
  x?: number;
  y?: number;
  children?: ElkNode[];
  edges?: ElkEdge[];
  layoutOptions?: Record<string, string>;
  labels?: { text: string; width: number; height: number }[];
}

interface ElkEdge {
  id: string;
  sources: string[];
  targets: string[];
  labels?: { text: string; width: number; height: number; x?: number; y?: number }[];
  sections?: { startPoint: { x: number; y: number }; endPoint: { x: number; y: number }; bendPoints?: { x: number; y: number }[] }[];
  container?: string;
}

function textWidth(s: string): number {
  return Math.ceil(s.length * CHAR_W) + 16;
}

/** The width diagrams are wrapped to (the catalog's figure width). */
const DIAGRAM_WIDTH = 1240;

/** An edge label on two lines where it has guards: the event, then `[guard, ...]`. */
function labelLines(label: string): string[] {
  const i = label.indexOf(' [');
  return i > 0 ? [label.slice(0, i), label.slice(i + 1)] : [label];
}

/** The diagram as inline SVG (class `machine`). */
export async function machineSvg(g: MachineGraph, idPrefix = 'm'): Promise<string> {
  const arrow = `${idPrefix}-arrow`;
  const byId = new Map<string, DiagramNode>();
  const parentOf = new Map<string, string | null>();
  const index = (n: DiagramNode, parent: string | null) => {
    byId.set(n.id, n);
    parentOf.set(n.id, parent);
    n.children.forEach((c) => index(c, n.id));
  };
  index(g.root, null);

  const header = (n: DiagramNode) => [n.key, ...n.internal.map((i) => `↻ ${i}`)];
  const toElk = (n: DiagramNode): ElkNode => {
    const lines = header(n);
    if (!n.children.length) {
      return { id: n.id, width: Math.max(...lines.map(textWidth), 60), height: 10 + LINE_H * lines.length };
    }
    const kids: ElkNode[] = n.children.map(toElk);
    if (n.initial) kids.unshift({ id: `${n.id}\u0000init`, width: 10, height: 10 });
    return {
      id: n.id,
      children: kids,
      edges: [],
      layoutOptions: {
        'elk.padding': `[top=${12 + LINE_H * lines.length},left=12,bottom=12,right=12]`,
        'elk.nodeSize.minimum': `(${Math.max(...lines.map(textWidth))}, 20)`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      },
    };
  };
  const top = toElk(g.root);
  const elkRoot: ElkNode = {
    id: '\u0000graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '28',
      'elk.spacing.nodeNode': '18',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeLabels.inline': 'false',
      'elk.randomSeed': '1',
    },
    children: [top],
    edges: [],
  };
  const edges: ElkEdge[] = [];
  g.edges.forEach((e, i) => {
    const lines = labelLines(e.label);
    edges.push({ id: `e${i}`, sources: [e.source], targets: [e.target], labels: [{ text: e.label, width: Math.max(...lines.map(textWidth)) - 8, height: LINE_H * lines.length }] });
  });
  const walk = (n: DiagramNode) => {
    if (n.initial) edges.push({ id: `i${edges.length}`, sources: [`${n.id}\u0000init`], targets: [n.initial] });
    n.children.forEach(walk);
  };
  walk(g.root);
  elkRoot.edges = edges;

  const elk = new ELK();
  let input: ElkNode = structuredClone(elkRoot);
  let laid = (await elk.layout(structuredClone(input))) as ElkNode;
  // Parallel regions sit side by side in one layer: where that is wider than the page, wrap them
  // into rows (an invisible edge from the first region of a row to each region of the next puts
  // them in later layers) and lay out again.
  const spacer: ElkEdge[] = [];
  const separate = new Set<string>();
  const candidates: DiagramNode[] = [];
  const inside = (n: DiagramNode): Set<string> => {
    const ids = new Set<string>([n.id]);
    const add = (m: DiagramNode) => m.children.forEach((c) => (ids.add(c.id), add(c)));
    add(n);
    return ids;
  };
  const wrapRegions = (n: DiagramNode, laidNode: ElkNode | undefined, limit: number) => {
    if (!laidNode) return;
    const kids = new Map((laidNode.children ?? []).map((c) => [c.id, c]));
    const wide = (laidNode.width ?? 0) > limit;
    if (wide && n.type === 'parallel' && n.children.length > 1) {
      const rows: string[][] = [[]];
      let used = 0;
      for (const c of n.children) {
        const w = (kids.get(c.id)?.width ?? 0) + 18;
        if (rows[rows.length - 1].length && used + w > limit) {
          rows.push([]);
          used = 0;
        }
        rows[rows.length - 1].push(c.id);
        used += w;
      }
      for (let r = 1; r < rows.length; r++) {
        for (const id of rows[r]) spacer.push({ id: `x${spacer.length}`, sources: [rows[r - 1][0]], targets: [id] });
      }
    } else if (wide && n.type === 'compound' && n.children.every((c) => !c.children.length)) {
      // Many branches side by side (a third party's operations): when every transition that
      // touches the node's states stays among them, lay them out on their own, left to right,
      // so the branches stack.
      const ids = inside(n);
      const touching = g.edges.filter((e) => ids.has(e.source) || ids.has(e.target));
      if (touching.every((e) => ids.has(e.source) && ids.has(e.target) && e.source !== n.id && e.target !== n.id)) candidates.push(n);
    }
    for (const c of n.children) wrapRegions(c, kids.get(c.id), limit - 24);
  };
  wrapRegions(g.root, laid.children?.[0], DIAGRAM_WIDTH - 24);
  // A candidate goes left to right only where that is narrower than top to bottom (branches
  // stack; a long chain would not).
  for (const n of candidates) {
    const trial = async (direction: string) => {
      const node = toElk(n);
      const ids = inside(n);
      const own = edges.filter((e) => ids.has(e.sources[0].split('\u0000')[0]));
      const graph: ElkNode = { id: 'trial', layoutOptions: { ...elkRoot.layoutOptions, 'elk.direction': direction }, children: node.children, edges: structuredClone(own) };
      return ((await elk.layout(structuredClone(graph))) as ElkNode).width ?? 0;
    };
    if ((await trial('RIGHT')) < (await trial('DOWN'))) separate.add(n.id);
  }
  if (spacer.length || separate.size) {
    const all = [...edges, ...spacer];
    const own = new Map<string, ElkEdge[]>();
    const ownerOf = (id: string): string | null => {
      for (const sid of separate) {
        const ids = inside(byId.get(sid)!);
        if (ids.has(id) && id !== sid) return sid;
      }
      return null;
    };
    const rootEdges: ElkEdge[] = [];
    for (const e of all) {
      const full = e.sources[0];
      const src = full.split('\u0000')[0];
      // A node's initial dot is its own child.
      const o = full.endsWith('\u0000init') && separate.has(src) ? src : ownerOf(src);
      if (o) own.set(o, [...(own.get(o) ?? []), e]);
      else rootEdges.push(e);
    }
    const mark = (n: ElkNode) => {
      if (separate.has(n.id)) {
        n.layoutOptions = { ...n.layoutOptions, 'elk.hierarchyHandling': 'SEPARATE_CHILDREN', 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT' };
        n.edges = own.get(n.id) ?? [];
      }
      (n.children ?? []).forEach(mark);
    };
    const again: ElkNode = structuredClone({ ...elkRoot, edges: rootEdges });
    mark(again);
    input = again;
    laid = (await elk.layout(structuredClone(again))) as ElkNode;
  }
  // A box holding other states may come out narrower than its own name and ↻ lines (elkjs does
  // not keep the minimum size of a node laid out with its children): widen its right padding by
  // what is missing and lay out again.
  for (let round = 0; round < 3; round++) {
    const short = new Map<string, number>();
    const check = (n: ElkNode) => {
      const d = byId.get(n.id);
      if (d && d.children.length) {
        const need = Math.max(...header(d).map(textWidth)) + 8;
        if ((n.width ?? 0) < need) short.set(n.id, Math.ceil(need - (n.width ?? 0)));
      }
      (n.children ?? []).forEach(check);
    };
    check(laid);
    if (!short.size) break;
    const widen = (n: ElkNode) => {
      const more = short.get(n.id);
      if (more !== undefined && n.layoutOptions?.['elk.padding']) {
        n.layoutOptions['elk.padding'] = n.layoutOptions['elk.padding'].replace(/right=(\d+)/, (_, r) => `right=${Number(r) + more}`);
      }
      (n.children ?? []).forEach(widen);
    };
    widen(input);
    laid = (await elk.layout(structuredClone(input))) as ElkNode;
  }

  // Absolute positions: ELK gives node coordinates relative to their parent.
  const abs = new Map<string, { x: number; y: number; w: number; h: number }>();
  const place = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    abs.set(n.id, { x, y, w: n.width ?? 0, h: n.height ?? 0 });
    for (const c of n.children ?? []) place(c, x, y);
  };
  place(laid, 0, 0);
  const W = Math.ceil((laid.width ?? 0) + 2);
  const H = Math.ceil((laid.height ?? 0) + 2);
  const r = (v: number) => Math.round(v * 10) / 10;

  const shapes: string[] = [];
  const drawNode = (n: DiagramNode, depth: number) => {
    const p = abs.get(n.id)!;
    const lines = header(n);
    const dashed = n.type === 'parallel' ? ' stroke-dasharray="5 3"' : '';
    const fill = n.children.length ? (depth % 2 ? '#f7f8fb' : '#ffffff') : '#eef3fb';
    shapes.push(
      `<g class="state" data-state="${esc(n.id)}"><title>${esc(`${n.id} (${n.type})`)}</title>` +
        `<rect x="${r(p.x)}" y="${r(p.y)}" width="${r(p.w)}" height="${r(p.h)}" rx="6" fill="${fill}" stroke="#5b6475"${dashed}/>` +
        (n.type === 'final' ? `<rect x="${r(p.x + 3)}" y="${r(p.y + 3)}" width="${r(p.w - 6)}" height="${r(p.h - 6)}" rx="4" fill="none" stroke="#5b6475"/>` : '') +
        lines
          .map(
            (l, i) =>
              `<text x="${r(p.x + 8)}" y="${r(p.y + 14 + i * LINE_H)}"${i === 0 ? ' font-weight="700"' : ' fill="#5b6475"'}>${esc(l)}${i === 0 && n.type === 'parallel' ? ' ‖' : ''}</text>`,
          )
          .join('') +
        '</g>',
    );
    if (n.initial) {
      const d = abs.get(`${n.id}\u0000init`)!;
      shapes.push(`<circle cx="${r(d.x + d.w / 2)}" cy="${r(d.y + d.h / 2)}" r="4" fill="#1d2330"/>`);
    }
    n.children.forEach((c) => drawNode(c, depth + 1));
  };
  drawNode(g.root, 0);

  const lines: string[] = [];
  // Edges, wherever they were declared (a node laid out on its own holds its own).
  const allEdges: { e: ElkEdge; holder: string }[] = [];
  const collect = (n: ElkNode) => {
    for (const e of (n.edges ?? []) as ElkEdge[]) allEdges.push({ e, holder: n.id });
    (n.children ?? []).forEach(collect);
  };
  collect(laid);
  for (const { e, holder } of allEdges) {
    if (e.id.startsWith('x')) continue; // a spacer between rows of regions, not a transition
    // Edge coordinates are relative to the edge's container (elkjs sets `container`), else to
    // the node that declares it.
    const c = e.container ?? holder;
    const o = abs.has(c) ? abs.get(c)! : { x: 0, y: 0 };
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((pt) => `${r(pt.x + o.x)},${r(pt.y + o.y)}`);
      lines.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#1d2330" stroke-width="1.1" marker-end="url(#${arrow})"/>`);
    }
    for (const l of e.labels ?? []) {
      labelLines(l.text).forEach((t, i) =>
        lines.push(`<text x="${r((l.x ?? 0) + o.x + 2)}" y="${r((l.y ?? 0) + o.y + 11 + i * LINE_H)}" fill="#1f5fa8">${esc(t)}</text>`),
      );
    }
  }
  return (
    // Slightly wider than the page: scaled to fit (text stays above 8.5 px); much wider: scrolls.
    `<svg class="machine" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    (W > DIAGRAM_WIDTH && W <= DIAGRAM_WIDTH * 1.25 ? 'style="max-width:100%;height:auto" ' : '') +
    `font-family="ui-monospace, DejaVu Sans Mono, Menlo, monospace" font-size="10.5" role="img" aria-label="state machine">\n` +
    `<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
    `<path d="M0,0 L10,5 L0,10 z" fill="#1d2330"/></marker></defs>\n` +
    shapes.join('\n') +
    '\n' +
    lines.join('\n') +
    '\n</svg>'
  );
}

/**
 * `machineSvg` through a cache directory (reports/.cache/diagrams): layout is the slow part of the
 * report, and a machine's structure rarely changes. The key covers the structure, the id prefix
 * and this module's own source, so a change to either draws afresh.
 */
export async function cachedMachineSvg(g: MachineGraph, idPrefix: string, cacheDir: string | null): Promise<string> {
  if (!cacheDir) return machineSvg(g, idPrefix);
  const key = createHash('sha256').update(SELF).update('\u0000').update(idPrefix).update('\u0000').update(structureKey(g)).digest('hex');
  const path = join(cacheDir, `${key.slice(0, 40)}.svg`);
  usedCacheFiles.add(path);
  // Only a regular file is a cache entry: anything else there (a FIFO would block reading and
  // writing) is removed and the entry drawn again.
  if (existsSync(path)) {
    if (statSync(path).isFile()) return readFileSync(path, 'utf8');
    rmSync(path, { recursive: true, force: true });
  }
  const svg = await machineSvg(g, idPrefix);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path, svg);
  return svg;
}

const usedCacheFiles = new Set<string>();

/** Removes cached diagrams no rendering in this process used (machines that changed or went away). */
export function pruneDiagramCache(cacheDir: string): void {
  if (!existsSync(cacheDir)) return;
  for (const f of readdirSync(cacheDir)) {
    const p = join(cacheDir, f);
    if (f.endsWith('.svg') && !usedCacheFiles.has(p)) rmSync(p, { force: true });
  }
}

const SELF = readFileSync(fileURLToPath(import.meta.url), 'utf8');
