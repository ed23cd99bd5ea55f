/**
 * Run configurations of the MSYNC_PMEM_PREPARE_WRITE spec. Expected verdicts and state counts:
 * manifest.json.
 */
import { faultCostConfigs } from '../common/fault-cost.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { scaledUp } from '../common/scaled.ts';

export interface PrepareConfig extends DaxRunConfig {
  /** The prepared state belongs to the inode (sticky) rather than to the mapping. */
  sticky: boolean;
}

const common = { app: 'trusting', threads: 1, crashBudget: 1, dax: true, evict: true, sticky: true } as const;
/** Maintenance that moves or shares the data block while the application writes. */
const maintenance = { ops: ['reflink', 'defrag'], blocks: [1] } as DaxRunConfig['thirdParty'];

export const prepareWriteConfigs: PrepareConfig[] = [
  {
    name: 'trusting',
    description: 'the trusting application prepares the file with msync(MSYNC_PMEM_PREPARE_WRITE), then relies on userspace flushes',
    ...common,
    default: true,
  },
  {
    name: 'maintenance',
    description: 'meanwhile another process reflinks the file and defrag moves the data block; page_mkwrite waits until the range is prepared and synced again',
    ...common,
    thirdParty: maintenance,
    default: true,
  },
  {
    name: 'maintenance-no-sync',
    description: 'maintenance lets page_mkwrite through before it has synced the moved extents',
    ...common,
    thirdParty: { ...maintenance!, policy: { syncBeforeRelease: false } },
    default: true,
  },
  {
    name: 'not-sticky',
    description: 'the prepared state lives with the mapping: the invalidation by maintenance forgets it, and the next write copies a shared block without syncing',
    ...common,
    sticky: false,
    thirdParty: maintenance,
    default: true,
  },
];

prepareWriteConfigs.push(...(faultCostConfigs(prepareWriteConfigs[0]) as PrepareConfig[]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
prepareWriteConfigs.push(scaledUp(prepareWriteConfigs, 'maintenance', 'sticky prepared ranges under reflink and defrag, with three threads on four blocks and two power failures'));
