/**
 * What the explorer measures over transitions, as opposed to properties it checks over states.
 *
 * Fault cost (seed 000): Chinner predicted "huge, unpredictable page fault latencies" for MAP_SYNC
 * because "every so often a page fault is required to sync tens of thousands of unrelated dirty
 * objects because of filesystem journal ordering constraints". The work done inside one page
 * fault is counted as the metadata items it writes to the media: inode and extent items that
 * became durable, the proposal's own durable items (NOVA's log entries), and unrelated objects
 * committed along with them: the N abstract ones, and the second file g's real items where a
 * configuration has g.
 */
import type { Measure } from '../checker/system.ts';
import type { DaxView } from './invariants.ts';
import { G_BLOCKS, type DaxContext, type Layout } from './layout.ts';

/** Metadata items that differ between two durable states, plus unrelated objects committed. */
export function itemsWritten(L: Layout, before: DaxContext, after: DaxContext): number {
  const d0 = before.durable;
  const d1 = after.durable;
  let n = (d0[L.dSize] !== d1[L.dSize] ? 1 : 0) + (d0[L.dFlags] !== d1[L.dFlags] ? 1 : 0);
  for (let b = 0; b < L.B; b++) {
    if (d0[L.dExtKind + b] !== d1[L.dExtKind + b] || d0[L.dExtPhys + b] !== d1[L.dExtPhys + b] || d0[L.dExtLeaf + b] !== d1[L.dExtLeaf + b]) n++;
  }
  // The second file g's items (where a configuration has one), committed along.
  if (L.dGSize >= 0) {
    n += (d0[L.dGSize] !== d1[L.dGSize] ? 1 : 0) + (d0[L.dGTimes] !== d1[L.dGTimes] ? 1 : 0);
    for (let b = 0; b < G_BLOCKS; b++) if (d0[L.dGExtent + b] !== d1[L.dGExtent + b]) n++;
  }
  n += L.hooks.durableItems?.(before, after, L) ?? 0;
  const unrelated = before.volatile[L.vUnrelated] - after.volatile[L.vUnrelated];
  return n + Math.max(0, unrelated);
}

const FAULT = /^T\d+\.(dax_iomap_fault|pfn_mkwrite|page_mkwrite)$/;

export const faultCost = {
  name: 'fault-cost',
  title: 'metadata items written inside one page fault',
  xLabel: 'unrelated dirty metadata objects in the running transaction (N)',
  measure(L: Layout, eventTypes: string[]): Measure<DaxView> {
    return {
      name: 'fault-cost',
      unit: 'items',
      edge: (src, e, dst) => (FAULT.test(eventTypes[e]) ? itemsWritten(L, src.context, dst.context) : undefined),
    };
  },
};

/** Every kind of measurement a configuration can be a point of, by name. */
export const MEASUREMENTS: Record<string, { name: string; title: string; xLabel: string }> = { [faultCost.name]: faultCost };
