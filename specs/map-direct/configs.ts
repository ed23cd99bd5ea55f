/**
 * Run configurations of the MAP_DIRECT spec. Expected verdicts and state counts: manifest.json.
 */
import type { DirectMode } from './model.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { scaledUp } from '../common/scaled.ts';

export interface DirectConfig extends DaxRunConfig {
  /** What MAP_DIRECT means: a hint (fall back to the page cache) or a guarantee (SIGBUS). */
  direct: DirectMode;
  /** Ask for direct access at run time with madvise(MADV_DIRECT_ACCESS) instead of mmap(MAP_DIRECT). */
  madvise?: boolean;
}

const common = { threads: 1, crashBudget: 1, dax: true, evict: true } as const;
/** Another process reflinks the file, or dedupes its data block, while the application runs. */
const sharing = { ops: ['reflink', 'dedupe'], blocks: [1] } as DaxRunConfig['thirdParty'];

export const mapDirectConfigs: DirectConfig[] = [
  {
    name: 'hint',
    description: 'MAP_DIRECT as a hint: another process reflinks or dedupes the file, the mapping falls back to the page cache and the fsync application keeps working',
    app: 'fsync',
    ...common,
    direct: 'hint',
    thirdParty: sharing,
    default: true,
  },
  {
    name: 'guarantee',
    description: 'MAP_DIRECT as a guarantee: after another process reflinks or dedupes the file, the application gets SIGBUS',
    app: 'fsync',
    ...common,
    direct: 'guarantee',
    thirdParty: sharing,
    default: true,
  },
  {
    name: 'madvise',
    description: 'MADV_DIRECT_ACCESS, the run-time form: the same fallback as the hint',
    app: 'fsync',
    ...common,
    direct: 'hint',
    madvise: true,
    thirdParty: sharing,
    default: true,
  },
  {
    name: 'trusting',
    description: 'MAP_DIRECT alone does not make userspace flushes durable: the trusting application loses its record',
    app: 'trusting',
    ...common,
    direct: 'hint',
    default: true,
  },
];

mapDirectConfigs.push(...(faultCostConfigs(mapDirectConfigs[3]) as DirectConfig[]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
mapDirectConfigs.push(scaledUp(mapDirectConfigs, 'hint', 'the MAP_DIRECT hint under reflink and dedupe, with three fsync threads on four blocks and two power failures'));
