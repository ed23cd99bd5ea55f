/**
 * Run configurations of the PMEM_IMMUTABLE spec. Expected verdicts and state counts: manifest.json.
 */
import { THIRD_PARTY_OPS, type ThirdPartyOp } from '../../models/third-party.ts';
import type { PreallocZeroing } from './model.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { scaledUp } from '../common/scaled.ts';
import { px86Variants } from '../common/px86.ts';

export interface ImmutableConfig extends DaxRunConfig {
  /** The caller has CAP_LINUX_IMMUTABLE. */
  capability: boolean;
  /** How fallocate(FALLOC_FL_PMEM_IMMUTABLE) makes the blocks read as zeros. */
  prealloc: PreallocZeroing;
  /** Operations the refusal forgets (a buggy variant of rules 4 and 5). */
  forgets?: ThirdPartyOp[];
  /** The flag may be cleared while the file is mapped (a buggy variant: rule 6 not enforced). */
  clearWhileMapped?: boolean;
}

const common = { app: 'trusting', threads: 1, crashBudget: 1, dax: true, evict: true, capability: true, prealloc: 'written' } as const;

export const pmemImmutableConfigs: ImmutableConfig[] = [
  {
    name: 'rules',
    description: "Chinner's six rules as written; meanwhile a third party tries every extent operation and the filesystem its background work: all EPERM",
    ...common,
    thirdParty: { ops: [...THIRD_PARTY_OPS], blocks: [1] },
    default: true,
  },
  {
    name: 'unwritten-zeroing',
    description: 'preallocation by unwritten extents, as FALLOC_FL_ZERO_RANGE does: the first write converts the extent, a metadata change nobody syncs',
    ...common,
    prealloc: 'unwritten',
    default: true,
  },
  {
    name: 'forgets-defrag',
    description: 'the flag stops every extent operation but background defrag, which moves a mapped block in the running transaction',
    ...common,
    thirdParty: { ops: ['defrag'], blocks: [1] },
    forgets: ['defrag'],
    default: true,
  },
  {
    name: 'forgets-write',
    description: 'rule 4 not enforced for write(2): another process overwrites a block, and file_update_time puts new timestamps in the running transaction',
    ...common,
    thirdParty: { ops: ['write'], blocks: [1] },
    forgets: ['write'],
    default: true,
  },
  {
    name: 'clears-while-mapped',
    description: 'rule 6 not enforced: an administrator clears the flag while the file is mapped, and defrag, no longer refused, moves a mapped block',
    ...common,
    thirdParty: { ops: ['clearflag', 'defrag'], blocks: [1] },
    clearWhileMapped: true,
    default: true,
  },
  {
    name: 'no-capability',
    description: 'the application lacks CAP_LINUX_IMMUTABLE: fallocate(FALLOC_FL_PMEM_IMMUTABLE) fails with EPERM and it falls back to fsync',
    ...common,
    capability: false,
    default: true,
  },
];

pmemImmutableConfigs.push(...(faultCostConfigs(pmemImmutableConfigs[0]) as ImmutableConfig[]).map((c) => ({ ...c, thirdParty: undefined })));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
// Two application threads and the third party make three processes; three threads and the
// third party's eleven operations would be more machine configurations than the compiler numbers.
pmemImmutableConfigs.push(scaledUp(pmemImmutableConfigs, 'rules', 'Chinner\'s six rules against every third-party operation (a third process), with two application threads on four blocks and two power failures', 2, 4));

// x86 persistency (specs/common/px86.ts): the trusting application on a PMEM_IMMUTABLE file, with
// its flushes as Px86 instructions (no third party: the flush order is what is checked).
pmemImmutableConfigs.push(
  ...px86Variants<ImmutableConfig>({
    name: 'immutable',
    description: 'the trusting application on a file made PMEM_IMMUTABLE (written preallocation)',
    ...common,
    default: false,
  }),
);
