/** `daxcheck list [--json]`: specs, their configurations and properties. */
import { specs } from '../../specs/index.ts';
import { parse, UsageError } from '../args.ts';
import { loadManifest } from '../manifest.ts';

export const usage = 'daxcheck list [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`list takes no arguments, got '${positionals[0]}'`);
  const manifest = loadManifest();
  const data = specs.map((s) => ({
    spec: s.name,
    title: s.title,
    sources: s.sources,
    promise: s.promise,
    configs: s.configs.map((c) => {
      const props = s.build(c).properties.map((p) => ({ id: p.id, kind: p.kind, property: p.name, expected: manifest[s.name]?.[c.name]?.expect[p.id] ?? null }));
      return { config: c.name, default: c.default, description: c.description, properties: props };
    }),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify({ specs: data }, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const s of data) {
    out.push(`${s.spec} — ${s.title} (seeds ${s.sources.join(', ')})`, `  promise: ${s.promise}`);
    for (const c of s.configs) {
      out.push(`  --config ${c.config}${c.default ? ' (default)' : ''}: ${c.description}`);
      for (const p of c.properties) out.push(`      ${p.kind.padEnd(9)} ${p.id}: ${p.property}${p.expected ? `  [expected: ${p.expected}]` : ''}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

