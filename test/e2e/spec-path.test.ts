/**
 * A spec outside the repository, as its author uses it: `daxcheck new` writes one into a temporary
 * directory, and the real CLI (`node bin/daxcheck.mjs`, in its own process) checks it there, with
 * two workers, lists it, reports it, compares it between revisions of its own git repository
 * (`diff`), and answers each mistake a spec author makes
 * with one line naming the file (exit code 2).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const bin = join(repo, 'bin/daxcheck.mjs');

function run(args: string[], cwd = repo) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, env: { ...process.env, DAXCHECK_MANIFEST: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit code 2 and one line on stderr, matching `message`. */
function oneLine(r: ReturnType<typeof run>, message: RegExp) {
  expect(r.err).toMatch(message);
  expect(r.err.split('\n').filter(Boolean), r.err).toHaveLength(1);
  expect(r.code).toBe(2);
}

let tmp: string;
let spec: string;

/** A copy of the new spec folder under another name, changed by `edit` (file → new text). */
function variant(name: string, edit: (read: (file: string) => string) => Record<string, string>) {
  const dir = join(tmp, name);
  cpSync(spec, dir, { recursive: true });
  rmSync(join(dir, 'reports'), { recursive: true, force: true });
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  for (const [file, text] of Object.entries(edit(read))) writeFileSync(join(dir, file), text);
  return dir;
}

const replaced = (text: string, from: string, to: string) => {
  expect(text).toContain(from);
  return text.replace(from, to);
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'daxcheck-spec-path-'));
  const r = run(['new', 'proposal', '--dir', tmp]);
  expect(r.code, r.err).toBe(0);
  spec = join(tmp, 'proposal');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('daxcheck new', () => {
  it('writes a spec folder whose manifest has measured state counts, importing only the kit', () => {
    for (const f of ['machine.ts', 'configs.ts', 'manifest.json', 'tsconfig.json']) expect(existsSync(join(spec, f)), f).toBe(true);
    const m = JSON.parse(readFileSync(join(spec, 'manifest.json'), 'utf8'));
    expect(Object.keys(m)).toEqual(['trusting', 'no-sync-in-fault']);
    for (const entry of Object.values(m) as { states: number; transitions: number }[]) {
      expect(entry.states).toBeGreaterThan(0);
      expect(entry.transitions).toBeGreaterThan(0);
    }
    const imports = [...readFileSync(join(spec, 'machine.ts'), 'utf8').matchAll(/from '([^']+)'/g)].map((x) => x[1]);
    expect(new Set(imports)).toEqual(new Set(['daxcheck', './configs.ts']));
    expect(readFileSync(join(spec, 'machine.ts'), 'utf8')).toMatch(/name: 'proposal'/);
  });

  it('refuses a folder that exists, a registered name and a bad name', () => {
    oneLine(run(['new', 'proposal', '--dir', tmp]), /^daxcheck: .*proposal exists already/);
    oneLine(run(['new', 'map-sync', '--dir', tmp]), /^daxcheck: 'map-sync' is a spec of this repository already/);
    oneLine(run(['new', 'Bad_Name', '--dir', tmp]), /^daxcheck: 'Bad_Name' is not a spec name/);
  });
});

describe('a spec given by path', () => {
  it('checks as its manifest expects, with the counterexample of the variant that forgets the sync', () => {
    const r = run(['check', spec]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/proposal\/no-sync-in-fault\s+always\s+VIOLATED\s+as expected\s+writable-is-committed/);
    expect(r.out).toMatch(/proposal\/trusting\s+sometimes\s+REACHABLE\s+as expected\s+data-block-survives/);
    expect(r.out).toMatch(/all 2 configuration\(s\) as the manifest expects/);
  });

  it('checks by a relative path from a working directory outside the repository, with two workers', () => {
    // A module the spec imports takes values from the kit too (no package.json anywhere).
    variant('nested', (read) => ({ 'configs.ts': replaced(read('configs.ts'), "import type { DaxRunConfig } from 'daxcheck';", "import { PTE_RW, type DaxRunConfig } from 'daxcheck';\nexport const writable = PTE_RW;") }));
    const r = run(['check', './nested', '--config', 'no-sync-in-fault', '--workers', '2', '--json'], tmp);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    const m = JSON.parse(readFileSync(join(spec, 'manifest.json'), 'utf8'));
    expect(doc.runs[0].states).toBe(m['no-sync-in-fault'].states);
    expect(doc.results.find((x: { id: string }) => x.id === 'pointer-after-alloc').verdict).toBe('violated');
  });

  it('--record-counts writes the manifest beside the spec', () => {
    const dir = variant('recount', (read) => {
      const m = JSON.parse(read('manifest.json'));
      delete m.trusting.states;
      return { 'manifest.json': JSON.stringify(m) };
    });
    expect(run(['check', dir, '--config', 'trusting']).code).toBe(1);
    expect(run(['check', dir, '--config', 'trusting', '--record-counts']).code).toBe(0);
    const want = JSON.parse(readFileSync(join(spec, 'manifest.json'), 'utf8')).trusting.states;
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).trusting.states).toBe(want);
  });

  it('lists its configurations and properties', () => {
    const r = run(['list', spec]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^proposal — /m);
    expect(r.out).toMatch(/--config no-sync-in-fault \(default\)/);
    expect(r.out).toMatch(/always\s+writable-is-committed: every writable page is backed by a committed allocation\s+\[expected: violated\]/);
    expect(r.out).not.toMatch(/^baseline/m);
  });

  it('reports into its own folder, leaving the repository\'s reports alone', () => {
    const verdicts = join(repo, 'reports', 'verdicts.json');
    const before = existsSync(verdicts) ? readFileSync(verdicts, 'utf8') : null;
    const r = run(['report', spec]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(spec, 'reports', 'catalog', 'index.html'))).toBe(true);
    expect(existsSync(join(spec, 'reports', 'design-review.md'))).toBe(true);
    const v = JSON.parse(readFileSync(join(spec, 'reports', 'verdicts.json'), 'utf8'));
    expect(JSON.stringify(v)).toMatch(/no-sync-in-fault/);
    expect(readFileSync(join(spec, 'reports', 'design-review.md'), 'utf8')).toMatch(/the write fault commits the allocation/);
    expect(existsSync(verdicts) ? readFileSync(verdicts, 'utf8') : null).toBe(before);
  });

  it('diff: outside a git repository, one line saying what to do instead', () => {
    oneLine(run(['diff', 'HEAD', spec]), /^daxcheck: .* is not in a git repository, so it has no revision 'HEAD': .* --baseline FILE/);
  });

  it('diff REV PATH compares the folder at a revision of its own git repository with the folder now', () => {
    const repoDir = join(tmp, 'proposals');
    const dir = join(repoDir, 'proposal');
    cpSync(spec, dir, { recursive: true });
    rmSync(join(dir, 'reports'), { recursive: true, force: true });
    const git = (...a: string[]) => spawnSync('git', ['-C', repoDir, '-c', 'user.email=r@example.org', '-c', 'user.name=r', ...a], { encoding: 'utf8' });
    expect(git('init', '-q').status).toBe(0);
    expect(git('add', '.').status).toBe(0);
    expect(git('commit', '-qm', 'as posted').status).toBe(0);
    // The author drops the commit from the fault: the trusting configuration now loses its record.
    const m = readFileSync(join(dir, 'configs.ts'), 'utf8');
    writeFileSync(join(dir, 'configs.ts'), replaced(m, 'syncInFault: true,', 'syncInFault: false,'));
    const r = run(['diff', 'HEAD', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/proposal\/trusting: pointer-after-alloc \("a data pointer never precedes a durable allocation"\): verdict holds → violated/);
    oneLine(run(['diff', 'no-such-rev', dir]), /^daxcheck: unknown git revision 'no-such-rev' in /);
  });

  it('type-checks with the tsconfig.json new wrote (the kit by path)', () => {
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(spec, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });
});

describe('errors for spec authors: one line naming the file, exit 2', () => {
  it('a path with no spec', () => {
    oneLine(run(['check', join(tmp, 'nothing-here')]), /^daxcheck: no spec at '.*nothing-here': .* does not exist\n$/);
    mkdirSync(join(tmp, 'empty'));
    oneLine(run(['check', join(tmp, 'empty')]), /^daxcheck: .*empty holds no spec module: write spec\.ts, index\.ts, machine\.ts/);
  });

  it('a module that throws on import', () => {
    const dir = variant('throws', (read) => ({ 'configs.ts': `throw new Error('half-written');\n${read('configs.ts')}` }));
    oneLine(run(['check', dir]), /^daxcheck: .*throws\/machine\.ts: importing it throws half-written \(at .*throws\/configs\.ts:1:\d+\); fix the module/);
  });

  it('an XState construct the compiler does not support', () => {
    const dir = join(tmp, 'unsupported');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'spec.ts'),
      `import { setup } from 'xstate';
import type { Spec } from 'daxcheck';

export default {
  name: 'unsupported',
  title: 'a machine with a delayed transition',
  sources: [],
  promise: 'none',
  capabilities: {},
  configs: [{ name: 'only', description: 'the one configuration', default: true }],
  build: () => ({
    machine: setup({}).createMachine({ context: { x: new Uint8Array(1) }, initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } }),
    events: [],
    bounds: { x: [1] },
    properties: [],
    render: { actor: () => 'x', step: () => '', outcome: () => null, state: () => ({}), afterCrash: () => null },
  }),
} satisfies Spec;
`,
    );
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ only: { expect: {} } }));
    oneLine(run(['check', dir]), /^daxcheck: .*unsupported\/spec\.ts: machine 'unsupported\/only' uses 'after' \(delayed transitions\)/);
  });

  it('a value outside its declared bound, with one worker and with two', () => {
    const dir = variant('bound', (read) => {
      let m = read('machine.ts');
      m = replaced(m, 'import { afterCrash, daxSpec,', 'import { afterCrash, daxSpec, mutator, type DaxContext,');
      m = replaced(m, ": [{ type: 'dax_iomap_fault', params: { ...at, write: true } }],", ": [{ type: 'dax_iomap_fault', params: { ...at, write: true } }, { type: 'overflow' }],");
      m = replaced(
        m,
        'properties: (L) => properties(L),',
        'properties: (L) => properties(L),\n      implementations: () => ({ actions: { overflow: mutator<DaxContext>((c) => { c.volatile[0] = 250; }) } }),',
      );
      return { 'machine.ts': m };
    });
    // The byte is named by its declared field: volatile[0] is i_size in blocks, `size`.
    const message = /^daxcheck: .*bound\/machine\.ts: configuration 'no-sync-in-fault': size = 250 exceeds its declared bound \d+: .*declare a larger bound/;
    oneLine(run(['check', dir, '--config', 'no-sync-in-fault']), message);
    oneLine(run(['check', dir, '--config', 'no-sync-in-fault', '--workers', '2']), message);
  });

  it('a property missing from the manifest, and a manifest entry for no property', () => {
    const missing = variant('missing-property', (read) => {
      const m = JSON.parse(read('manifest.json'));
      delete m.trusting.expect['writable-is-committed'];
      return { 'manifest.json': JSON.stringify(m) };
    });
    oneLine(
      run(['check', missing]),
      /^daxcheck: .*missing-property\/manifest\.json: configuration 'trusting' has no expected verdict for property 'writable-is-committed': add "writable-is-committed": "holds" or "violated" to its "expect"\n$/,
    );
    const extra = variant('extra-property', (read) => {
      const m = JSON.parse(read('manifest.json'));
      m['no-sync-in-fault'].expect['no-such-property'] = 'holds';
      return { 'manifest.json': JSON.stringify(m) };
    });
    oneLine(run(['check', extra]), /^daxcheck: .*extra-property\/manifest\.json: configuration 'no-sync-in-fault' expects a verdict for 'no-such-property', which is no property of it: remove the line or rename it/);
    const config = variant('extra-config', (read) => {
      const m = JSON.parse(read('manifest.json'));
      m['gone'] = { expect: {} };
      return { 'manifest.json': JSON.stringify(m) };
    });
    oneLine(run(['check', config]), /^daxcheck: .*extra-config\/manifest\.json has an entry for configuration 'gone', which .*machine\.ts does not define/);
  });

  it('a missing manifest: the message gives the command that writes one, which leaves the verdicts to the author', () => {
    const dir = variant('no-manifest', () => ({}));
    rmSync(join(dir, 'manifest.json'));
    oneLine(run(['check', dir]), /^daxcheck: .*no-manifest\/manifest\.json is missing: .*`daxcheck check .*no-manifest --record-counts` writes one/);
    oneLine(run(['check', dir, '--record-counts']), /manifest\.json: 20 expected verdict\(s\) to write: replace each null/);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.trusting.expect['writable-is-committed']).toBeNull();
    oneLine(run(['check', dir]), /configuration 'trusting', property 'pointer-after-alloc': replace null with the verdict you expect, "holds" or "violated"\n$/);
    // Filled in from the spec new wrote, counts recorded: green.
    const filled = JSON.parse(readFileSync(join(spec, 'manifest.json'), 'utf8'));
    for (const c of Object.keys(m)) m[c].expect = filled[c].expect;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    expect(run(['check', dir, '--record-counts']).code).toBe(0);
    expect(run(['check', dir]).code).toBe(0);
  });
});
