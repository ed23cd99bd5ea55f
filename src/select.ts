/** Choosing spec configurations from command-line arguments. */
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import { findSpec, specs } from '../specs/index.ts';
import { UsageError } from './args.ts';

/** Which configurations of registered specs to run (no names: every spec). */
export function select(names: string[], configOpt: string | undefined, allConfigs: boolean): { spec: AnySpec; config: RunConfig }[] {
  const chosen: AnySpec[] = names.map((n) => {
    const s = findSpec(n);
    if (!s) throw new UsageError(`unknown spec '${n}' (known: ${specs.map((x) => x.name).join(', ')})`);
    return s;
  });
  return selectConfigs(names.length ? chosen : specs, configOpt, allConfigs, names.length > 0);
}

/**
 * Which configurations of these specs to run: without `--config`, the default ones (or all). A
 * configuration named with `--config` that a spec named on the command line (`named`) lacks is
 * an error; without spec names, `--config` picks it from whichever specs have it.
 */
export function selectConfigs(chosen: AnySpec[], configOpt: string | undefined, allConfigs: boolean, named: boolean): { spec: AnySpec; config: RunConfig }[] {
  const wanted = configOpt?.split(',').map((c) => c.trim()).filter(Boolean);
  if (configOpt !== undefined && !wanted?.length) throw new UsageError('--config needs a configuration name');
  const out: { spec: AnySpec; config: RunConfig }[] = [];
  for (const spec of chosen) {
    if (!wanted) {
      for (const config of spec.configs) if (allConfigs || config.default) out.push({ spec, config });
      continue;
    }
    for (const w of wanted) {
      const config = spec.configs.find((c: RunConfig) => c.name === w);
      if (config) out.push({ spec, config });
      else if (named) {
        throw new UsageError(`spec '${spec.name}' has no configuration '${w}' (it has: ${spec.configs.map((c: RunConfig) => c.name).join(', ')})`);
      }
    }
  }
  if (!out.length) throw new UsageError(configOpt !== undefined ? `no spec has configuration '${configOpt}'` : 'no default configuration to run: mark one default: true, or pass --all-configs');
  return out;
}
