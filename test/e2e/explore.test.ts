/**
 * `daxcheck explore` as a user runs it: served on 127.0.0.1 only (the page, its API answering a
 * path with the states along it; anything else refused), stopped by Ctrl-C; a self-contained file
 * only for small state spaces; bad usage one line and exit 2. The page itself is walked in
 * Chromium by test/e2e/pages.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');

function get(port: number, path: string, opts: { host?: string; method?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the CLI's main in this process (as bin/daxcheck.mjs does), capturing its output: a spawned CLI costs seconds. */
async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli.ts');
  const out: string[] = [];
  const err: string[] = [];
  const writeErr = process.stderr.write;
  const writeOut = process.stdout.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
  try {
    return { status: await main(args), stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stderr.write = writeErr;
    process.stdout.write = writeOut;
  }
}

describe('daxcheck explore', () => {
  it('serves the page and its API on 127.0.0.1, refuses other hosts and methods, and stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, [bin, 'explore', 'baseline', '--config', 'trusting', '--minutes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !/http:\/\/127\.0\.0\.1:\d+\//.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)![1]);
      expect(out).toMatch(/only this machine; Ctrl-C stops it, or it stops by itself after 2 minutes/);
      const page = await get(port, '/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('baseline/trusting: explore the state space');
      expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
      const api = await get(port, `/api/path?path=${encodeURIComponent(JSON.stringify(['T0.open', 'T0.ftruncate']))}`);
      expect(api.status).toBe(200);
      const { states } = JSON.parse(api.body);
      expect(states).toHaveLength(3);
      expect(states[2].values.i_size).toBe('8192');
      expect(states[2].edges.map((e: { label: string }) => e.label)).toContain('T0.mmap');
      // A path the model cannot take stops where it stops.
      expect(JSON.parse((await get(port, `/api/path?path=${encodeURIComponent(JSON.stringify(['T0.open', 'T0.store']))}`)).body).states).toHaveLength(2);
      expect((await get(port, '/api/path?path=nonsense')).status).toBe(400);
      expect((await get(port, '/', { host: 'evil.example' })).status).toBe(403);
      expect((await get(port, '/', { method: 'POST' })).status).toBe(405);
      expect((await get(port, '/etc/passwd')).status).toBe(404);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('writes a self-contained file only for a small state space; bad usage is one line and exit 2', async () => {
    const run = (args: string[]) => cli(['explore', ...args]);
    const big = await run(['baseline', '--config', 'trusting', '--out', '/tmp/daxcheck-explore-never.html', '--max-states', '10']);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/^daxcheck: baseline\/trusting has more than 10 reachable states, too many for one file: serve it/);
    for (const [args, message] of [
      [['baseline'], /needs --config NAME/],
      [['baseline', '--config', 'nope'], /spec 'baseline' has no configuration 'nope'/],
      [['--config', 'trusting'], /explore takes one spec/],
      [['baseline', '--config', 'trusting', '--port', 'x'], /--port must be a port number/],
    ] as [string[], RegExp][]) {
      const r = await run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  it('a trace file (check --write, or saved from the page) is read by check and by report --results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxcheck-trace-file-'));
    try {
      const run = cli;
      expect((await run(['check', 'baseline', '--config', 'trusting', '--write', dir])).status).toBe(0);
      const file = join(dir, 'traces', 'baseline', 'trusting', 'pointer-after-alloc.json');
      const ok = await run(['check', file]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('14 steps, every one the model\'s');
      expect(ok.stdout).toMatch(/pointer-after-alloc +violated at step 14/);
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(join(dir, 'claims-holds.json'), JSON.stringify({ ...doc, verdict: 'holds' }));
      expect((await run(['check', join(dir, 'claims-holds.json')])).status).toBe(1);
      writeFileSync(join(dir, 'skips.json'), JSON.stringify({ ...doc, steps: [doc.steps[0], doc.steps[3]] }));
      const bad = await run(['check', join(dir, 'skips.json')]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/step 2 \(T0\.[a-z_]+\) is not possible at that point/);
      const rep = await run(['report', '--results', file, '--out', join(dir, 'out')]);
      expect(rep.status, rep.stderr).toBe(0);
      expect(rep.stdout).toContain('not updated: the results are one trace file, not a check');
      const page = readFileSync(join(dir, 'out', 'catalog', 'baseline', 'trusting', 'pointer-after-alloc.html'), 'utf8');
      expect(page).toContain('read from a trace file');
      expect(existsSync(join(dir, 'out', 'verdicts.json'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
