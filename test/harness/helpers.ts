/** Shared by the harness tests: traces as `daxcheck check` finds them. */
import { checkConfig } from '../../src/check.ts';
import type { TraceInput } from '../../src/replay/program.ts';
import { findSpec } from '../../specs/index.ts';

/** The trace `daxcheck check` finds for a property, as a replay input. */
export async function traceOf(spec: string, config: string, property: string): Promise<TraceInput> {
  const s = findSpec(spec)!;
  const c = s.configs.find((x) => x.name === config)!;
  const run = await checkConfig(s, c, undefined);
  const r = run.results.find((x) => x.property === property);
  if (!r?.trace) throw new Error(`${spec}/${config} has no trace for ${property}`);
  return { source: `${spec}/${config}`, spec, config, property, kind: r.kind, steps: r.trace.steps };
}

