/**
 * Scaled-up configurations (README, "Beyond exhaustive reach"): a spec's configuration with three
 * application threads — so four file blocks, the header and one record block each, and four words
 * per block — and two power failures, the application restarting after the first. Never default:
 * most are beyond what exhaustive search finishes here, which is what `daxcheck simulate`, symmetry
 * reduction and hash compaction are for.
 */
import type { DaxRunConfig } from './spec.ts';

/**
 * `base` with three threads (or `threads`) and two crashes, named `<base>-<threads>threads-2crashes`.
 * Fewer threads where a third party is the third process and three threads would exceed what the
 * compiler can number (65,536 machine configurations).
 */
export function scaledUp<C extends DaxRunConfig>(configs: C[], baseName: string, description: string, threads = 3, blocks?: number): C {
  const base = configs.find((c) => c.name === baseName);
  if (!base) throw new Error(`scaledUp: no configuration '${baseName}'`);
  const { measurement: _m, ...rest } = base;
  return { ...(rest as C), name: `${baseName}-${threads}threads-2crashes`, description: `scaled up: ${description}`, threads, ...(blocks ? { blocks } : {}), crashBudget: 2, default: false, scaled: true };
}
