/** Choosing spec configurations from command-line arguments. */
import type { AnySpec, RunConfig } from '../specs/common/spec.ts';
import { findSpec, specs } from '../specs/index.ts';
import { UsageError } from './args.ts';

/** Which spec configurations to run. */
export function select(names: string[], configOpt: string | undefined, allConfigs: boolean): { spec: AnySpec; config: RunConfig }[] {
  const chosen = names.length ? names : specs.map((s) => s.name);
  const selected: AnySpec[] = chosen.map((n) => {
    const s = findSpec(n);
    if (!s) throw new UsageError(`unknown spec '${n}' (known: ${specs.map((x) => x.name).join(', ')})`);
    return s;
  });
  const wanted = configOpt?.split(',').map((c) => c.trim()).filter(Boolean);
  if (configOpt !== undefined && !wanted?.length) throw new UsageError('--config needs a configuration name');
  const out: { spec: AnySpec; config: RunConfig }[] = [];
  for (const spec of selected) {
    if (!wanted) {
      for (const config of spec.configs) if (allConfigs || config.default) out.push({ spec, config });
      continue;
    }
    for (const w of wanted) {
      const config = spec.configs.find((c) => c.name === w);
      if (config) out.push({ spec, config });
      else if (names.length) {
        throw new UsageError(`spec '${spec.name}' has no configuration '${w}' (it has: ${spec.configs.map((c) => c.name).join(', ')})`);
      }
    }
  }
  if (!out.length) throw new UsageError(`no spec has configuration '${configOpt}'`);
  return out;
}

