/**
 * The hostile inputs the fuzz run of issue 14 found, as a user meets them (real processes): each
 * is one line on stderr naming what is wrong, exit code 2, before any exploration, with every
 * control character from the input escaped. fuzz/ and test/fuzz/ try thousands more.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafe } from '../../src/terminal.ts';

const bin = join(import.meta.dirname, '../../bin/daxcheck.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'daxcheck-hostile-'));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** One line on stderr matching `message`, exit 2, nothing on stdout, no raw control character. */
function refused(r: ReturnType<typeof run>, message: RegExp) {
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(/^daxcheck: [^\n]*\n$/);
  expect(r.err).toMatch(message);
  expect(r.out).toBe('');
  expect(hasUnsafe(r.err)).toBe(false);
}

const trusting = ['check', 'baseline', '--config', 'trusting'];
let results = '';
let trace = '';
beforeAll(() => {
  const out = join(tmp, 'written');
  const r = run([...trusting, '--write', out]);
  expect(r.code, r.err).toBe(0);
  results = join(out, 'results.json');
  trace = join(out, 'traces', 'baseline', 'trusting', 'pointer-after-alloc.json');
});

describe('output targets are checked before any work', () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, '');
  it('a file where a folder is wanted', () => refused(run([...trusting, '--write', join(file, 'sub')]), /--write .*a-file\/sub: .*a-file is a file, not a folder$/m));
  it('/dev/null for --write and for --out', () => {
    refused(run([...trusting, '--write', '/dev/null']), /^daxcheck: --write \/dev\/null is a character device, not a folder$/m);
    refused(run(['report', '--results', results, '--out', '/dev/null']), /^daxcheck: --out \/dev\/null is a character device, not a folder$/m);
  });
  it('an empty name', () => refused(run([...trusting, '--write', '']), /^daxcheck: --write needs a folder name$/m));
  it('a folder where a file is written', () => {
    mkdirSync(join(tmp, 'blocked', 'results.json'), { recursive: true });
    refused(run([...trusting, '--write', join(tmp, 'blocked')]), /blocked\/results\.json is a folder where a file is written$/m);
  });
  it('a place the file system will not create (Node would loop forever under /proc)', () => refused(run([...trusting, '--write', '/proc/daxcheck-nope']), /--write \/proc\/daxcheck-nope: cannot create it/));
  it('new --dir on a file', () => refused(run(['new', 'x', '--dir', file]), /^daxcheck: --dir .*a-file is a file, not a folder$/m));
});

describe('files read are regular files within their limits, valid against their schema', () => {
  it('a trace nested 10,000 deep', () => {
    const deep = join(tmp, 'deep.json');
    writeFileSync(deep, `{"spec":"baseline","config":"trusting","steps":${'['.repeat(10000)}${']'.repeat(10000)}}`);
    refused(run(['replay', deep, '--dry-run']), /the trace .*deep\.json is nested deeper than 64 levels \(at \$\.steps\[0\]\[0\]\[0\]/);
  });
  it('a baseline with a property set to null, and one nested deep', () => {
    const v = JSON.parse(readFileSync(join(import.meta.dirname, '../../reports/verdicts.json'), 'utf8'));
    v.runs[0].properties[2].verdict = null;
    writeFileSync(join(tmp, 'null.json'), JSON.stringify(v));
    refused(
      run([...trusting, '--baseline', join(tmp, 'null.json')]),
      /the baseline .*null\.json is not a verdicts file: at \$\.runs\[0\]\.properties\[2\]\.verdict, expected a verdict: "holds", "violated", "reachable", "unreachable" or "unknown", got null$/m,
    );
    v.runs[0].properties[2] = 'DEEP';
    writeFileSync(join(tmp, 'deep-baseline.json'), JSON.stringify(v).replace('"DEEP"', `${'['.repeat(10000)}${']'.repeat(10000)}`));
    refused(run([...trusting, '--baseline', join(tmp, 'deep-baseline.json')]), /is nested deeper than 64 levels/);
  });
  it('a verdict that is an object, a property without its sentence: refused, never printed as nonsense', () => {
    const v = JSON.parse(readFileSync(join(import.meta.dirname, '../../reports/verdicts.json'), 'utf8'));
    v.runs[0].properties[0].verdict = { a: 1 };
    writeFileSync(join(tmp, 'object.json'), JSON.stringify(v));
    refused(run([...trusting, '--baseline', join(tmp, 'object.json')]), /at \$\.runs\[0\]\.properties\[0\]\.verdict, expected a verdict: .*, got an object$/m);
    delete v.runs[0].properties[0].property;
    v.runs[0].properties[0].verdict = 'holds';
    writeFileSync(join(tmp, 'nameless.json'), JSON.stringify(v));
    refused(run([...trusting, '--baseline', join(tmp, 'nameless.json')]), /at \$\.runs\[0\]\.properties\[0\]\.property, missing: expected a sentence/);
  });
  it('results whose steps have no changes', () => {
    const doc = JSON.parse(readFileSync(results, 'utf8'));
    doc.results.find((r: { trace: unknown }) => r.trace).trace.steps[0].changes = null;
    writeFileSync(join(tmp, 'changes.json'), JSON.stringify(doc));
    refused(run(['report', '--results', join(tmp, 'changes.json'), '--out', join(tmp, 'r')]), /at \$\.results\[\d+\]\.trace\.steps\[0\]\.changes, expected an array, got null$/m);
  });
  it("results whose field kinds are not kinds (found by npm run fuzz: the timeline read a colour of 'toString')", () => {
    const doc = JSON.parse(readFileSync(results, 'utf8'));
    const trace = doc.results.find((r: { trace?: { fieldInfo?: unknown } }) => r.trace?.fieldInfo).trace;
    const field = Object.keys(trace.fieldInfo)[0];
    trace.fieldInfo[field].kind = 'toString';
    writeFileSync(join(tmp, 'kinds.json'), JSON.stringify(doc));
    refused(run(['report', '--results', join(tmp, 'kinds.json'), '--out', join(tmp, 'r')]), /\.fieldInfo\..*\.kind, expected a field kind: .*, got "toString"$/m);
  });
  it('device files and FIFOs as --baseline: refused at once, never read', () => {
    refused(run([...trusting, '--baseline', '/dev/zero']), /^daxcheck: the baseline \/dev\/zero is a character device, not a regular file$/m);
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    refused(run([...trusting, '--baseline', fifo]), /the baseline .*fifo is a FIFO, not a regular file$/m);
    refused(run([...trusting, '--baseline', tmp]), /is a folder, not a regular file$/m);
    refused(run(['check', '/dev/zero']), /^daxcheck: no spec at '\/dev\/zero': \/dev\/zero is a character device, not a module file$/m);
  });
  it('a file over its size cap is refused without reading it', () => {
    const big = join(tmp, 'big.json');
    execFileSync('truncate', ['-s', '5M', big]);
    refused(run(['replay', big, '--dry-run']), /the trace .*big\.json is 5242880 bytes, more than the 4194304 a trace may have$/m);
  });
});

describe('terminal-safe messages', () => {
  it('control bytes from a file are escaped in the error line', () => {
    const evil = join(tmp, 'evil.json');
    writeFileSync(evil, '{"runs": [1, \x1b]0;pwned\x07\x1b[31m');
    const r = run([...trusting, '--baseline', evil]);
    refused(r, /is not valid JSON/);
    expect(r.err).toContain('\\e]0;pwned\\x07');
  });
  it('and from a file into the differences printed on stdout', () => {
    const v = JSON.parse(readFileSync(join(import.meta.dirname, '../../reports/verdicts.json'), 'utf8'));
    const entry = v.runs.find((x: { spec: string; config: string }) => x.spec === 'baseline' && x.config === 'trusting');
    entry.properties[0].property = '\x1b[2J\u202eevil';
    entry.properties[0].id = 'renamed';
    writeFileSync(join(tmp, 'evil-sentence.json'), JSON.stringify(v));
    const r = run([...trusting, '--baseline', join(tmp, 'evil-sentence.json')]);
    expect(r.code).toBe(1);
    expect(hasUnsafe(r.out + r.err)).toBe(false);
    expect(r.out).toContain('renamed ("\\e[2J\\u{202e}evil"): property gone');
  });
  it('and from the command line', () => {
    const r = run(['check', '\x1b[2Jboom']);
    refused(r, /^daxcheck: unknown spec '\\e\[2Jboom'/);
  });
});

describe('impatient readers', () => {
  it('output piped into head: the rest is dropped, no error, the command\'s own exit code', () => {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" list | head -1`], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^baseline — /);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('report --out DIR', () => {
  it('trace pages name the JSON trace from their own folder', () => {
    const out = join(tmp, 'elsewhere');
    const r = run(['report', '--results', results, '--out', out]);
    expect(r.code, r.err).toBe(0);
    const page = readFileSync(join(out, 'catalog', 'baseline', 'trusting', 'pointer-after-alloc.html'), 'utf8');
    expect(page).toContain('daxcheck replay pointer-after-alloc.json');
    expect(existsSync(join(out, 'catalog', 'baseline', 'trusting', 'pointer-after-alloc.json'))).toBe(true);
    expect(trace).toMatch(/pointer-after-alloc\.json$/);
  });
});
