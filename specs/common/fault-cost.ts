/**
 * Fault cost (issue: seed 000's prediction). A spec measures the work done inside one page fault
 * with configurations at N = 1, 2, 4, 8 unrelated dirty metadata objects in the running
 * transaction: the explorer reports the largest number of metadata items any page fault writes
 * (models/measures.ts), and reports plot it against N, per proposal.
 */
import type { DaxRunConfig } from './spec.ts';

export const FAULT_COST_N = [1, 2, 4, 8] as const;

/**
 * The measurement configurations of a spec, derived from one of its configurations. They need no
 * crash (the cost is measured on the running system) and no eviction, which keeps them small. A
 * spec with several variants worth plotting names each (`variant`), which also names its series.
 */
export function faultCostConfigs(base: DaxRunConfig, variant?: string): DaxRunConfig[] {
  return FAULT_COST_N.map((n) => ({
    ...base,
    name: variant ? `fault-cost-${variant}-${n}` : `fault-cost-${n}`,
    description: `fault cost with ${n} unrelated dirty metadata object${n === 1 ? '' : 's'} in the running transaction`,
    crashBudget: 0,
    evict: false,
    unrelated: n,
    measurement: { name: 'fault-cost', x: n, ...(variant ? { series: variant } : {}) },
    default: true,
  }));
}
