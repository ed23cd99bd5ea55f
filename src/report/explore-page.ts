/**
 * The page of `daxcheck explore`: walk a configuration's state space by hand, as Stateright's
 * Explorer does. From the initial state, or from any step of a counterexample or witness: the
 * enabled events in kernel terms, follow one, see the state as the timeline's fields (coloured
 * by declared kind) and which properties hold there, the path so far, step back, and take the
 * path as a trace file (the shape `daxcheck check --write` writes, which `replay` and
 * `report --results` read).
 *
 * One page for both ways of serving it: `source` is either the URL of the local server's API
 * (it answers a path with the states along it) or a precomputed graph embedded in the page (a
 * self-contained file for small state spaces). Everything from the model is inserted with
 * textContent, never as markup; the embedded JSON cannot close its script element.
 */
import { CSS, esc } from './html.ts';
import { KIND_TEXT, type LaneKind } from './timeline.ts';
import type { ExploreMeta } from '../explore/engine.ts';

/** A counterexample or witness the page offers as a starting point. */
export interface ExploreTrace {
  id: string;
  property: string;
  kind: string;
  verdict: string;
  labels: string[];
  texts: string[];
  actors: string[];
}

/** The precomputed graph of a small state space (see src/commands/explore.ts). */
export interface ExploreGraph {
  /** Strings the states refer to by index (values, texts, JSON of outcomes, actions, durable states). */
  strings: string[];
  /** Field names, in the order `v` lists their values. */
  fields: string[];
  /** Event labels, by event index. */
  labels: string[];
  /**
   * Per state: `v` value string index per field (-1: absent), `p` one character per property
   * ('1' satisfied), `d` durable JSON string index or -1, `w` waits JSON index or -1, and `n` its
   * edges: [event, target state, text, outcome JSON, transition indices, actions JSON, actor].
   */
  states: { v: number[]; p: string; d: number; w: number; n: [number, number, number, number, number[], number, number][] }[];
}

/** JSON for a <script type="application/json"> element: nothing in it can end the element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const COLORS: Record<LaneKind, string> = {
  durable: '#7fa8d8',
  journal: '#74c08a',
  cache: '#f0b550',
  pagetable: '#b196d6',
  volatile: '#b3b9c4',
  ghost: '#f2c6dd',
  thread: '#ffd9d6',
  undeclared: '#e6e6e6',
};

const PAGE_CSS = `
main { max-width: 1360px; }
.explore { display: grid; grid-template-columns: minmax(300px, 380px) 1fr; gap: 18px; align-items: start; }
.panel { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 14px; background: #fff; min-width: 0; }
.panel h2 { margin: 0 0 8px; font-size: 1.02em; border: 0; padding: 0; }
.panel ol, .panel ul { margin: 0; padding-left: 22px; }
ol.path li, ol.trace-steps li { margin: 2px 0; overflow-wrap: anywhere; }
ol.path li.current { font-weight: 600; }
ol.path, ol.trace-steps { font-size: 0.9em; }
button, .button { font: inherit; font-size: 0.9em; padding: 3px 10px; border: 1px solid #9aa3b2; border-radius: 4px; background: #f5f7fa; cursor: pointer; color: var(--fg); text-decoration: none; display: inline-block; }
button:disabled { opacity: 0.45; cursor: default; }
ul.events { list-style: none; padding: 0; margin: 0; }
ul.events li { margin: 0 0 6px; }
ul.events button { width: 100%; text-align: left; display: grid; grid-template-columns: 110px 1fr; gap: 8px; align-items: start; overflow-wrap: anywhere; }
ul.events button .actor { font-weight: 700; }
ul.events button .label { grid-column: 2; color: var(--muted); font-size: 0.85em; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
ul.events li.suggested button { border-color: var(--violated); box-shadow: 0 0 0 1px var(--violated) inset; }
table.state { width: 100%; font-size: 0.9em; }
table.state td { overflow-wrap: anywhere; }
table.state tr.changed td.value { font-weight: 700; background: #fff7d6; }
table.state td.group { color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border: 1px solid #8a8f99; vertical-align: baseline; }
table.props { width: 100%; font-size: 0.9em; }
.status-ok { color: var(--holds); font-weight: 600; white-space: nowrap; }
.status-bad { color: var(--violated); font-weight: 700; white-space: nowrap; }
.status-reached { color: var(--reachable); font-weight: 600; white-space: nowrap; }
.status-no { color: var(--muted); white-space: nowrap; }
textarea.trace { width: 100%; height: 160px; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
.error { color: var(--violated); font-weight: 600; }
.toolbar { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 10px; }
.legend span { margin-right: 12px; white-space: nowrap; }
`;

/** The page. `source` is the API's URL (served), or the embedded graph (self-contained). */
export function explorePage(meta: ExploreMeta & { groups: { title: string; fields: string[] }[] }, traces: ExploreTrace[], source: { api: string } | { graph: ExploreGraph }): string {
  const data = { meta, traces, api: 'api' in source ? source.api : null, graph: 'graph' in source ? source.graph : null, kindText: KIND_TEXT, colors: COLORS };
  const title = `explore ${meta.spec}/${meta.config}`;
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${esc(title)}</title>\n<style>${CSS}${PAGE_CSS}</style>\n</head>\n<body>\n<main>\n` +
    `<h1>${esc(meta.spec)}/${esc(meta.config)}: explore the state space</h1>\n` +
    `<p class="lead">${esc(meta.title)} · ${esc(meta.description)}</p>\n` +
    '<div class="explore">\n<div>\n' +
    '<section class="panel" id="start"><h2>Start from</h2><p><button id="initial">the initial state</button></p><div id="traces"></div></section>\n' +
    '<section class="panel"><h2>The path so far</h2><div class="toolbar"><button id="back">◀ step back</button><button id="restart">start over</button></div><ol class="path" id="path" start="0"></ol></section>\n' +
    '<section class="panel"><h2>As a trace file</h2><p class="small">The shape <code>daxcheck check --write</code> writes: <code>daxcheck replay</code> and <code>daxcheck report --results</code> read it.</p>' +
    '<div class="toolbar"><button id="copy">copy</button><a class="button" id="download" download="trace.json" href="#">download</a><span id="copied" class="small"></span></div>' +
    '<details><summary>show</summary><textarea class="trace" id="trace" readonly></textarea></details></section>\n' +
    '</div>\n<div>\n' +
    '<section class="panel"><h2 id="where">State</h2><div id="error" class="error"></div><h2>Enabled events</h2><ul class="events" id="events"></ul></section>\n' +
    '<section class="panel"><h2>Properties here</h2><table class="props" id="props"><tbody></tbody></table></section>\n' +
    '<section class="panel"><h2>The state</h2><p class="small legend" id="legend"></p><table class="state" id="state"><thead><tr><th>group</th><th>field</th><th>value</th></tr></thead><tbody></tbody></table><p id="durable" class="small"></p></section>\n' +
    '</div>\n</div>\n' +
    `<script type="application/json" id="explore-data">${scriptJson(data)}</script>\n` +
    `<script>\n${CLIENT}\n</script>\n` +
    '</main>\n</body>\n</html>\n'
  );
}

/** The page's script: plain ES2017, no library; every model string goes in through textContent. */
const CLIENT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('explore-data').textContent);
  var meta = D.meta;
  var path = [];
  var infos = [];
  var suggested = null; // the trace the path follows, if any
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  // A link that acts (wraps with its text, unlike a button, so list numbers stay on its first line).
  function act(text, fn) { var a = el('a', text, 'act'); a.href = '#'; a.onclick = function (ev) { ev.preventDefault(); fn(); }; return a; }

  // ---- the state source: the embedded graph, or the local server
  function decode(i) {
    var g = D.graph, s = g.states[i], values = {};
    for (var f = 0; f < g.fields.length; f++) if (s.v[f] >= 0) values[g.fields[f]] = g.strings[s.v[f]];
    return {
      id: i,
      values: values,
      props: s.p.split('').map(function (c) { return c === '1'; }),
      durable: s.d >= 0 ? JSON.parse(g.strings[s.d]) : null,
      waits: s.w >= 0 ? JSON.parse(g.strings[s.w]) : null,
      edges: s.n.map(function (n) {
        return { e: n[0], to: n[1], label: D.graph.labels[n[0]], text: g.strings[n[2]], outcome: JSON.parse(g.strings[n[3]]), transitions: n[4].map(function (t) { return g.strings[t]; }), actions: JSON.parse(g.strings[n[5]]), actor: g.strings[n[6]] };
      })
    };
  }
  function load(labels) {
    if (D.graph) {
      var out = [decode(0)];
      for (var k = 0; k < labels.length; k++) {
        var edge = out[out.length - 1].edges.filter(function (x) { return x.label === labels[k]; })[0];
        if (!edge) break;
        out.push(decode(edge.to));
      }
      return Promise.resolve(out);
    }
    return fetch(D.api + '?path=' + encodeURIComponent(JSON.stringify(labels))).then(function (r) {
      if (!r.ok) throw new Error('the server answered ' + r.status);
      return r.json();
    }).then(function (j) { return j.states; });
  }

  function go(labels) {
    return load(labels).then(function (states) {
      infos = states;
      path = labels.slice(0, states.length - 1);
      $('error').textContent = states.length - 1 < labels.length ? 'step ' + states.length + ' (' + labels[states.length - 1] + ') is not enabled here: the path stops before it' : '';
      render();
    }).catch(function (err) { $('error').textContent = String(err && err.message || err); });
  }

  // ---- rendering
  function kindOf(f) { var i = meta.fieldInfo[f]; return i ? i.kind : 'undeclared'; }
  function renderPath() {
    var ol = $('path');
    ol.textContent = '';
    var li0 = el('li');
    li0.appendChild(act('initial state', function () { go([]); }));
    if (!path.length) li0.className = 'current';
    ol.appendChild(li0);
    path.forEach(function (label, i) {
      var edge = edgeOf(i);
      var li = el('li');
      var b = act(edge ? edge.actor + ': ' + edge.text : label, function () { go(path.slice(0, i + 1)); });
      b.title = label;
      li.appendChild(b);
      if (i === path.length - 1) li.className = 'current';
      ol.appendChild(li);
    });
    $('back').disabled = !path.length;
  }
  function edgeOf(i) { return infos[i] && infos[i].edges.filter(function (x) { return x.label === path[i]; })[0]; }
  function renderEvents() {
    var ul = $('events');
    ul.textContent = '';
    var here = infos[infos.length - 1];
    var next = null;
    if (suggested && path.length < suggested.labels.length && path.every(function (l, i) { return l === suggested.labels[i]; })) next = suggested.labels[path.length];
    if (!here.edges.length) ul.appendChild(el('li', 'No event is enabled: the run ends here.', 'small'));
    here.edges.forEach(function (edge) {
      var li = el('li');
      if (edge.label === next) li.className = 'suggested';
      var b = el('button');
      b.appendChild(el('span', edge.actor, 'actor'));
      b.appendChild(el('span', edge.text || '(no visible effect)', 'text'));
      b.appendChild(el('span', edge.label + (edge.label === next ? '  (the trace takes this one next)' : ''), 'label'));
      b.onclick = function () { go(path.concat([edge.label])); };
      b.setAttribute('data-event', edge.label);
      li.appendChild(b);
      ul.appendChild(li);
    });
    $('where').textContent = 'State after step ' + path.length + (path.length ? ' (' + path[path.length - 1] + ')' : ' (the initial state)');
  }
  function renderProps() {
    var body = $('props').tBodies[0];
    body.textContent = '';
    var here = infos[infos.length - 1];
    meta.properties.forEach(function (p, i) {
      var ok = here.props[i];
      var tr = el('tr');
      tr.setAttribute('data-property', p.id);
      var status;
      if (p.kind === 'always') status = ok ? el('span', '✓ holds here', 'status-ok') : el('span', '✗ false here', 'status-bad');
      else if (p.kind === 'sometimes') status = ok ? el('span', '◆ reached', 'status-reached') : el('span', 'not here', 'status-no');
      else status = ok ? el('span', '✓ not stuck', 'status-ok') : el('span', '✗ deadlock', 'status-bad');
      var td0 = el('td'); td0.appendChild(status);
      var td1 = el('td'); td1.appendChild(el('code', p.id));
      tr.appendChild(td0); tr.appendChild(td1); tr.appendChild(el('td', p.name));
      body.appendChild(tr);
    });
  }
  function renderState() {
    var body = $('state').tBodies[0];
    body.textContent = '';
    var here = infos[infos.length - 1].values;
    var before = infos.length > 1 ? infos[infos.length - 2].values : null;
    var shown = {};
    var groups = meta.groups.map(function (g) { return { title: g.title, fields: g.fields.filter(function (f) { return f in here; }) }; });
    var extra = Object.keys(here).filter(function (f) { return !meta.groups.some(function (g) { return g.fields.indexOf(f) >= 0; }); });
    if (extra.length) groups.push({ title: 'other state', fields: extra });
    var kinds = {};
    groups.forEach(function (g) {
      g.fields.forEach(function (f, j) {
        if (shown[f]) return;
        shown[f] = true;
        var tr = el('tr');
        tr.setAttribute('data-field', f);
        var changed = before && before[f] !== here[f];
        if (changed) tr.className = 'changed';
        tr.appendChild(el('td', j === 0 ? g.title : '', 'group'));
        var tf = el('td');
        var sw = el('span', null, 'swatch');
        var k = kindOf(f);
        kinds[k] = true;
        sw.style.background = D.colors[k];
        sw.title = D.kindText[k];
        tf.appendChild(sw);
        tf.appendChild(el('code', f));
        tr.appendChild(tf);
        var tv = el('td', here[f], 'value');
        if (changed) tv.title = 'was ' + (before[f] === undefined ? '(absent)' : before[f]);
        tr.appendChild(tv);
        body.appendChild(tr);
      });
    });
    var lg = $('legend');
    lg.textContent = '';
    Object.keys(kinds).forEach(function (k) {
      var s = el('span');
      var sw = el('span', null, 'swatch');
      sw.style.background = D.colors[k];
      s.appendChild(sw);
      s.appendChild(document.createTextNode(D.kindText[k]));
      lg.appendChild(s);
    });
    var d = infos[infos.length - 1].durable;
    $('durable').textContent = d ? 'Durable after the crash and recovery: ' + d.text : '';
  }
  function renderTraces() {
    var box = $('traces');
    box.textContent = '';
    if (!D.traces.length) { box.appendChild(el('p', 'This configuration has no counterexample or witness.', 'small')); return; }
    D.traces.forEach(function (t) {
      var det = el('details');
      det.setAttribute('data-trace', t.id);
      var sum = el('summary', (t.verdict === 'violated' ? (t.kind === 'deadlock' ? 'deadlock: ' : 'counterexample: ') : 'witness: ') + t.id + ' (' + t.labels.length + ' steps)');
      det.appendChild(sum);
      var ol = el('ol', null, 'trace-steps');
      ol.setAttribute('start', '0');
      var li0 = el('li');
      li0.appendChild(act('its initial state', function () { suggested = t; go([]); }));
      ol.appendChild(li0);
      t.labels.forEach(function (label, i) {
        var li = el('li');
        var b = act(t.actors[i] + ': ' + t.texts[i], function () { suggested = t; go(t.labels.slice(0, i + 1)); });
        b.title = 'the state after step ' + (i + 1) + ' (' + label + ')';
        b.setAttribute('data-step', String(i + 1));
        li.appendChild(b);
        ol.appendChild(li);
      });
      det.appendChild(ol);
      box.appendChild(det);
    });
  }

  // ---- the path as a trace file (the shape daxcheck check --write writes)
  function changes(a, b) {
    return Object.keys(b).filter(function (k) { return a[k] !== b[k]; }).map(function (k) { return { field: k, before: a[k], after: b[k] }; });
  }
  function traceDoc() {
    var last = infos[infos.length - 1];
    var head = { id: 'path', property: 'a path walked in daxcheck explore', kind: 'path', verdict: 'reachable' };
    var pick = function (kind, want) {
      for (var i = 0; i < meta.properties.length; i++) if (meta.properties[i].kind === kind && last.props[i] === want) return meta.properties[i];
      return null;
    };
    var p = pick('always', false);
    if (p) head = { id: p.id, property: p.name, kind: 'always', verdict: 'violated' };
    else if ((p = pick('deadlock', false))) head = { id: p.id, property: p.name, kind: 'deadlock', verdict: 'violated' };
    else if ((p = pick('sometimes', true))) head = { id: p.id, property: p.name, kind: 'sometimes', verdict: 'reachable' };
    var steps = path.map(function (label, i) {
      var e = edgeOf(i);
      return { event: label, payload: meta.payloads[e.e], actor: e.actor, text: e.text, outcome: e.outcome, transitions: e.transitions, actions: e.actions, changes: changes(infos[i].values, infos[i + 1].values) };
    });
    var doc = { spec: meta.spec, config: meta.config, id: head.id, property: head.property, kind: head.kind, verdict: head.verdict, initialState: infos[0].values, steps: steps, durableAfterCrash: last.durable };
    if (head.kind === 'deadlock' && last.waits) { doc.waits = last.waits.waits; doc.waitGraph = last.waits.waitGraph; }
    doc.fieldInfo = meta.fieldInfo;
    return JSON.stringify(doc, null, 2) + '\n';
  }
  var blobUrl = null;
  function renderTrace() {
    var text = traceDoc();
    $('trace').value = text;
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    var a = $('download');
    a.href = blobUrl;
    a.setAttribute('download', (meta.spec + '-' + meta.config + '-' + path.length + '-steps.json').replace(/[^A-Za-z0-9._-]+/g, '-'));
  }
  $('copy').onclick = function () {
    var t = $('trace');
    var done = function () { $('copied').textContent = 'copied'; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(t.value).then(done, function () { t.select(); document.execCommand('copy'); done(); });
    else { t.parentNode.open = true; t.select(); document.execCommand('copy'); done(); }
  };
  $('back').onclick = function () { if (path.length) go(path.slice(0, -1)); };
  $('restart').onclick = function () { suggested = null; go([]); };
  $('initial').onclick = function () { suggested = null; go([]); };
  document.addEventListener('keydown', function (ev) {
    if (ev.target && /TEXTAREA|INPUT/.test(ev.target.tagName)) return;
    if (ev.key === 'Backspace' || ev.key === 'ArrowLeft') { ev.preventDefault(); $('back').click(); }
  });

  function render() {
    renderPath();
    renderEvents();
    renderProps();
    renderState();
    renderTrace();
    $('copied').textContent = '';
    document.body.setAttribute('data-steps', String(path.length));
  }
  renderTraces();
  go([]);
})();
`;
