/**
 * `daxcheck explore SPEC --config NAME`: walk one configuration's state space by hand in a
 * browser, as Stateright's Explorer does (src/report/explore-page.ts). Served on 127.0.0.1 only,
 * for a bounded time (--minutes, default 30) or until Ctrl-C; each request replays the path it
 * names through the compiled machine, so the server keeps no state. With --out FILE it writes a
 * self-contained page instead, holding every reachable state (for small state spaces: at most
 * --max-states, default 5,000).
 *
 * SPEC is a registered spec's name or a spec folder's path, as for `check`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AnySpec, RunConfig } from '../../specs/common/spec.ts';
import { parse, positiveInt, UsageError } from '../args.ts';
import { checkConfig } from '../check.ts';
import { Explorer, reachable } from '../explore/engine.ts';
import { explorePage, type ExploreGraph, type ExploreTrace } from '../report/explore-page.ts';
import { groupLanes } from '../report/timeline.ts';
import { resolveSpecs } from '../spec-loader.ts';

const SIGINT_OWNER = Symbol.for('daxcheck.sigint-owner');

export const usage = `daxcheck explore SPEC|PATH --config NAME [--out FILE] [--max-states N] [--port N]
                 [--minutes N]`;

/** Paths longer than this are refused (a trace is a few dozen steps). */
const MAX_PATH = 5000;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    out: { type: 'string' },
    'max-states': { type: 'string' },
    port: { type: 'string' },
    minutes: { type: 'string' },
  });
  const v = values as { config?: string; out?: string; 'max-states'?: string; port?: string; minutes?: string };
  if (positionals.length !== 1) throw new UsageError('explore takes one spec (a registered name or a spec folder\'s path)');
  if (!v.config) throw new UsageError('explore needs --config NAME (one configuration)');
  if (v.out !== undefined && !v.out.trim()) throw new UsageError('--out needs a file name');
  const maxStates = positiveInt('max-states', v['max-states']) ?? 5000;
  const minutes = positiveInt('minutes', v.minutes) ?? 30;
  const port = v.port === undefined ? 0 : Number(v.port);
  if (v.port !== undefined && (!/^\d+$/.test(v.port) || port > 65535)) throw new UsageError(`--port must be a port number (0 to 65535), got '${v.port}'`);
  if (v.out !== undefined && (v.port !== undefined || v.minutes !== undefined)) throw new UsageError('--out writes a file; --port and --minutes are for serving');

  const [{ spec }] = await resolveSpecs(positionals);
  const config = spec.configs.find((c: RunConfig) => c.name === v.config);
  if (!config) throw new UsageError(`spec '${spec.name}' has no configuration '${v.config}' (it has: ${spec.configs.map((c: RunConfig) => c.name).join(', ')})`);

  const x = new Explorer(spec, config);
  const traces = await tracesOf(spec, config);
  const meta = x.meta();

  if (v.out !== undefined) {
    const r = reachable(x, maxStates);
    if (!r) {
      throw new UsageError(
        `${spec.name}/${config.name} has more than ${maxStates} reachable states, too many for one file: serve it (daxcheck explore ${positionals[0]} --config ${config.name}) or raise --max-states`,
      );
    }
    const graph = graphOf(x, r.states, r.index);
    const page = explorePage({ ...meta, groups: groupsOf(meta.fieldInfo, graph.fields) }, traces, { graph });
    mkdirSync(dirname(v.out), { recursive: true });
    writeFileSync(v.out, page);
    process.stdout.write(`${v.out}: ${spec.name}/${config.name}, ${r.states.length} states, ${traces.length} trace(s) to start from; open it in a browser\n`);
    return 0;
  }

  const initialFields = Object.keys(x.info(x.initial()).values);
  const page = explorePage({ ...meta, groups: groupsOf(meta.fieldInfo, initialFields) }, traces, { api: 'api/path' });
  return serve(x, page, port, minutes);
}

/** The configuration's counterexamples and witnesses, as starting points. */
async function tracesOf(spec: AnySpec, config: RunConfig): Promise<ExploreTrace[]> {
  const run = await checkConfig(spec, config, undefined);
  return run.results
    .filter((r) => r.trace)
    .map((r) => ({
      id: r.id,
      property: r.property,
      kind: r.kind,
      verdict: r.verdict,
      labels: r.trace!.steps.map((s) => s.event),
      texts: r.trace!.steps.map((s) => s.text),
      actors: r.trace!.steps.map((s) => s.actor),
    }));
}

/** Fields grouped as the timeline groups them (by block, then journal, mappings, threads). */
function groupsOf(fieldInfo: Record<string, { kind: string }>, fields: string[]) {
  const all = [...fields, ...Object.keys(fieldInfo).filter((f) => !fields.includes(f))];
  return groupLanes(all, (f) => (fieldInfo[f]?.kind ?? 'undeclared') as never).map((g) => ({ title: g.title, fields: g.lanes }));
}

/** Every reachable state in the compact form the page reads (strings shared through one table). */
function graphOf(x: Explorer, states: Uint8Array[], index: Map<string, number>): ExploreGraph {
  const strings: string[] = [];
  const sIndex = new Map<string, number>();
  const str = (s: string) => {
    let i = sIndex.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      sIndex.set(s, i);
    }
    return i;
  };
  const fields: string[] = [];
  const fIndex = new Map<string, number>();
  const infos = states.map((s) => x.infoWithTargets(s));
  for (const { info } of infos) {
    for (const f of Object.keys(info.values)) {
      if (!fIndex.has(f)) {
        fIndex.set(f, fields.length);
        fields.push(f);
      }
    }
  }
  const labels = [...Array(x.sys.eventCount).keys()].map((e) => x.sys.eventLabel(e));
  const out: ExploreGraph['states'] = infos.map(({ info, targets }) => {
    return {
      v: fields.map((f) => (f in info.values ? str(info.values[f]) : -1)),
      p: info.props.map((b) => (b ? '1' : '0')).join(''),
      d: info.durable ? str(JSON.stringify(info.durable)) : -1,
      w: info.waits ? str(JSON.stringify(info.waits)) : -1,
      n: info.edges.map((edge, j) => [
        edge.e,
        index.get(Explorer.key(targets[j]))!,
        str(edge.text),
        str(JSON.stringify(edge.outcome)),
        edge.transitions.map(str),
        str(JSON.stringify(edge.actions)),
        str(edge.actor),
      ]),
    };
  });
  return { strings, fields, labels, states: out };
}

/** Serves the page and its API on 127.0.0.1 until Ctrl-C or the time is up. */
function serve(x: Explorer, page: string, port: number, minutes: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    let bound = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const send = (code: number, type: string, body: string) => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.end(body);
      };
      // Only this machine, by its loopback name: a page elsewhere cannot reach in by DNS rebinding.
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${bound}` && host !== `localhost:${bound}`) return send(403, 'text/plain', 'forbidden\n');
      if (req.method !== 'GET') return send(405, 'text/plain', 'only GET\n');
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', page);
      if (url.pathname === '/api/path') {
        let labels: unknown;
        try {
          labels = JSON.parse(url.searchParams.get('path') ?? '[]');
        } catch {
          return send(400, 'text/plain', 'path must be a JSON array of event labels\n');
        }
        if (!Array.isArray(labels) || labels.length > MAX_PATH || !labels.every((l) => typeof l === 'string' && l.length <= 200)) {
          return send(400, 'text/plain', 'path must be a JSON array of event labels\n');
        }
        const { states } = x.walk(labels as string[]);
        return send(200, 'application/json', JSON.stringify({ states: states.map((s) => x.info(s)) }));
      }
      return send(404, 'text/plain', 'not found\n');
    });
    let timer: NodeJS.Timeout;
    // While serving, Ctrl-C is this command's: it stops the server (exit 0) rather than the
    // start-up handler's exit 130 (bin/daxcheck.mjs).
    const owner = globalThis as { [SIGINT_OWNER]?: boolean };
    const stop = () => {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      owner[SIGINT_OWNER] = false;
      server.close(() => resolvePromise(0));
      server.closeAllConnections?.();
    };
    server.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new UsageError(`port ${port} on 127.0.0.1 is taken: choose another with --port, or 0 for any free one`) : err);
    });
    server.listen(port, '127.0.0.1', () => {
      bound = (server.address() as { port: number }).port;
      process.stdout.write(
        `explore ${x.spec.name}/${x.config.name}: http://127.0.0.1:${bound}/ (only this machine; Ctrl-C stops it, or it stops by itself after ${minutes} minute${minutes === 1 ? '' : 's'})\n`,
      );
      timer = setTimeout(stop, minutes * 60_000);
      owner[SIGINT_OWNER] = true;
      process.on('SIGINT', stop);
    });
  });
}
