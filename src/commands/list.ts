/**
 * `daxcheck list [spec|PATH...] [--json]`: specs, their configurations and properties; without
 * arguments every registered spec, else the registered specs named and the specs in the folders
 * (or modules) given by path.
 */
import type { RunConfig } from '../../specs/common/spec.ts';
import { parse } from '../args.ts';
import { loadManifest, propertyKey } from '../manifest.ts';
import { authorError, resolveSpecs } from '../spec-loader.ts';
import { print, printJson } from '../terminal.ts';

export const usage = 'daxcheck list [spec|PATH...] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  const sources = await resolveSpecs(positionals);
  const manifest = loadManifest();
  const build = (source: (typeof sources)[number], c: RunConfig) => {
    try {
      return source.spec.build(c);
    } catch (err) {
      throw authorError(source, c.name, err);
    }
  };
  const data = sources.map((source) => ({
    spec: source.spec.name,
    title: source.spec.title,
    sources: source.spec.sources,
    promise: source.spec.promise,
    configs: source.spec.configs.map((c: RunConfig) => {
      const expect = manifest[source.spec.name]?.[c.name]?.expect;
      const props = build(source, c).properties.map((p) => ({ id: p.id, kind: p.kind, property: p.name, expected: expect?.[propertyKey(p)] ?? null }));
      return { config: c.name, default: c.default, description: c.description, properties: props };
    }),
  }));
  if (values.json) {
    printJson({ specs: data });
    return 0;
  }
  const out: string[] = [];
  for (const s of data) {
    out.push(`${s.spec} — ${s.title}${s.sources.length ? ` (seeds ${s.sources.join(', ')})` : ''}`, `  promise: ${s.promise}`);
    for (const c of s.configs) {
      out.push(`  --config ${c.config}${c.default ? ' (default)' : ''}: ${c.description}`);
      for (const p of c.properties) out.push(`      ${p.kind.padEnd(9)} ${p.id}: ${p.property}${p.expected ? `  [expected: ${p.expected}]` : ''}`);
    }
  }
  print(out.join('\n') + '\n');
  return 0;
}

