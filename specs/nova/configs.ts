/**
 * Run configurations of the NOVA spec. Expected verdicts and state counts: manifest.json.
 *
 * The file has one block more than the application uses: a copy-on-write fault needs a free pmem
 * block while the old one is still the file's (three blocks, three pmem blocks for one thread).
 */
import type { NovaDesign } from './model.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import { scaledUp } from '../common/scaled.ts';

/** A NOVA configuration: DaxRunConfig plus, for buggy variants, what differs from NOVA's design. */
export interface NovaConfig extends DaxRunConfig {
  design?: Partial<NovaDesign>;
}

const common = { threads: 1, blocks: 3, crashBudget: 1, dax: true, evict: true } as const;

export const novaConfigs: NovaConfig[] = [
  {
    name: 'trusting',
    description: 'the PMEM-programming-model application on NOVA with MAP_SYNC: copies in the persistent COW cache, migrated by background writeback or recovery',
    app: 'trusting',
    ...common,
    default: true,
  },
  {
    name: 'entry-at-writeback',
    description: 'buggy: the fault keeps the COW cache entry in memory and makes it durable only at writeback; a crash before writeback loses the copy',
    app: 'trusting',
    design: { entry: 'at-writeback' },
    ...common,
    default: true,
  },
  {
    name: 'two-step-swap',
    description: 'buggy: writeback retires the durable cache entry, then points the file map at the copy in a second step; a crash in between loses the copy',
    app: 'trusting',
    design: { swap: 'two-step' },
    ...common,
    default: true,
  },
  {
    name: 'copy-not-flushed',
    description: 'buggy: the fault copies with cached stores, so the cache entry is durable before the copy is: recovery can migrate a block full of old contents',
    app: 'trusting',
    design: { copy: 'cached' },
    ...common,
    default: true,
  },
  {
    name: 'fsync',
    description: 'the careful application on NOVA: fsync migrates every copy into the file map',
    app: 'fsync',
    ...common,
    default: false,
  },
  {
    name: 'trusting-2threads',
    description: 'two threads share the header block: a copy-on-write fault of one unmaps the other\'s stale entry',
    app: 'trusting',
    ...common,
    threads: 2,
    blocks: 4,
    default: false,
  },
];

// Work inside one page fault against N unrelated dirty objects: NOVA's fault writes one cache entry.
novaConfigs.push(...faultCostConfigs(novaConfigs[0]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
novaConfigs.push(scaledUp(novaConfigs, 'trusting', 'three threads append records through NOVA\'s copy-on-write MAP_SYNC, on four blocks, through two power failures'));
