/**
 * Builds a spec configuration ready for the explorer: used by `checkConfig` and, by name, by the
 * parallel explorer's worker threads (which cannot be handed a machine, only told where to find it).
 */
import { compileMachine } from '../checker/xstate/compile.ts';
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import { findSpec } from '../specs/index.ts';

/** A registered spec configuration, by name. */
export function loadSpec(specName: string, configName: string) {
  const spec = findSpec(specName);
  const config = spec?.configs.find((c: RunConfig) => c.name === configName);
  if (!spec || !config) throw new Error(`no spec configuration ${specName}/${configName}`);
  return compileSpec(spec, config);
}

/** A spec configuration built and compiled. */
export function compileSpec(spec: AnySpec, config: RunConfig) {
  const built = spec.build(config);
  const system = compileMachine(built.machine, { name: `${spec.name}/${config.name}`, events: built.events, bounds: built.bounds });
  return { built, system, properties: built.properties, measures: built.measures ?? [] };
}

/** Where the parallel explorer's workers find a spec configuration. */
export function specLoader(specName: string, configName: string) {
  return { module: new URL('./spec-loader.ts', import.meta.url).href, export: 'loadSpec', args: [specName, configName] };
}
