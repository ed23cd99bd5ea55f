/**
 * fallocate + PMEM_IMMUTABLE (Dave Chinner, seed 002, 2016-09-11 and 2016-09-15; Darrick Wong's
 * fallocate form, 2016-12-19; seed 004).
 *
 * "1. the file has to be fully allocated and zeroed before use. Preallocation/zeroing via
 * unwritten extents is not allowed. Sparse files are not allowed. Shared extents are not allowed.
 * 2. set the PMEM_IMMUTABLE inode flag — filesystem must check the file is fully allocated before
 * allowing it to be set, and caller must have CAP_LINUX_IMMUTABLE. 3. Inode metadata is now
 * immutable, and file data can only be accessed and/or modified via mmap(). 4. All non-mmap
 * methods of inode data modification will now fail with EPERM. 5. all methods of inode metadata
 * modification will now fail with EPERM ... 6. PMEM_IMMUTABLE flag can only be removed if the
 * file is not currently mapped" — and background work (defrag, dedupe, EOF scan, auto-repair,
 * snapshots) must stop too.
 *
 * Promise: once the flag is set, the metadata behind every block is durable and stays so; a
 * userspace flush makes data durable without fsync.
 *
 * Kernel modelled (audited, issue 13): never merged (later S_IOMAP_IMMUTABLE, 2017). The fault
 * path is Linux 4.15's (`dax_iomap_fault` → `dax_iomap_pte_fault`, `->pfn_mkwrite`,
 * models/faults.ts); with every block allocated, written and committed `iomap_begin` finds a
 * written extent and the fault changes no metadata, which is the point of the rules.
 */
import { kernelAction } from '../../models/action.ts';
import { errnoText } from '../../models/describe.ts';
import { BLOCK_SIZE, OK, type DaxContext, type Layout } from '../../models/layout.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import { program, type Step } from '../apps/pmem-log.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { Spec } from '../common/spec.ts';
import { pmemImmutableConfigs, type ImmutableConfig } from './configs.ts';
import {
  PMEM_IMMUTABLE,
  fallocateImmutable,
  fallocateImmutableErrno,
  immutableHooks,
  isFullyAllocatedAndCommitted,
  isImmutable,
  type PreallocZeroing,
} from './model.ts';

const FD = 3;

/** fallocate(FALLOC_FL_PMEM_IMMUTABLE) as an action, with the words its trace step prints. */
function immutableActions(L: Layout) {
  return {
    fallocate_pmem_immutable: kernelAction<{ t: number; blocks: number; cap: boolean; zeroing: PreallocZeroing }>(
      (c, _e, p) => void fallocateImmutable(c, L, p.t, p.blocks, p.cap, p.zeroing),
      ({ params: p, after }) => {
        const call = `fallocate(${FD}, FALLOC_FL_PMEM_IMMUTABLE, 0, ${p.blocks * BLOCK_SIZE})`;
        const errno = L.at(after).errno(p.t);
        if (errno !== '0') return `${call} = ${errnoText(after, L, p.t)}${errno === 'EPERM' ? ' (needs CAP_LINUX_IMMUTABLE)' : ''}`;
        const how = p.zeroing === 'unwritten' ? 'unwritten extents (read as zeros, not yet written)' : 'written extents over zeroed blocks';
        return `${call} = 0 → blocks 0..${p.blocks - 1} allocated as ${how}, PMEM_IMMUTABLE set, all committed before the call returns`;
      },
    ),
  };
}

export const IMMUTABLE_NAMES = {
  promise: 'once PMEM_IMMUTABLE is set, the metadata behind every block is durable and unchanging',
  set: 'PMEM_IMMUTABLE gets set and the application runs without fsync',
  refused: 'without CAP_LINUX_IMMUTABLE the flag is refused with EPERM and the application falls back to fsync',
} as const;

function properties(L: Layout, config: ImmutableConfig): DaxProperty[] {
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'immutable-metadata-durable',
      name: IMMUTABLE_NAMES.promise,
      holds: (v) => !v.matches('running') || !isImmutable(v.context, L) || isFullyAllocatedAndCommitted(v.context, L),
    },
  ];
  if (config.capability) {
    props.push({ kind: 'sometimes', id: 'immutable-set', name: IMMUTABLE_NAMES.set, reached: (v) => v.matches('running.T0.done') && isImmutable(v.context, L) });
  } else {
    props.push({ kind: 'sometimes', id: 'immutable-refused-eperm', name: IMMUTABLE_NAMES.refused, reached: (v) => v.matches('running.T0.fallback_ftruncate') });
  }
  return props;
}

/**
 * The application: open, fallocate(FALLOC_FL_PMEM_IMMUTABLE) over the whole structure instead of
 * ftruncate, then the trusting program (userspace flushes only). Refused, it falls back to an
 * ordinary sparse file and fsync.
 */
function immutableProgram(steps: Step[], t: number, blocks: number, config: ImmutableConfig): Step[] {
  const careful = program('fsync', t, blocks, 'shared').slice(1).map((s): Step => ({ ...s, name: `fallback_${s.name}` }));
  const params = { blocks, cap: config.capability, zeroing: config.prealloc };
  return steps.map((s): Step =>
    s.op === 'ftruncate'
      ? { name: 'fallocate', op: 'syscall', call: 'fallocate', action: 'fallocate_pmem_immutable', params, fails: 'fallocateImmutableFails', fallback: careful }
      : s,
  );
}

export const pmemImmutable: DaxSpec<ImmutableConfig> = daxSpec({
  name: 'pmem-immutable',
  title: 'fallocate(FALLOC_FL_PMEM_IMMUTABLE): preallocated, zeroed, immutable metadata',
  sources: ['002', '004'],
  promise: 'Once the file is fully allocated and zeroed and PMEM_IMMUTABLE is set, its metadata is durable and never changes, so userspace flushes make data durable without fsync; every other data or metadata change fails with EPERM.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, once the flag is set',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'no: EPERM while the flag is set',
    'background maintenance (defrag, scrub, EOF scan)': 'no: must be turned off for the file',
    'works on files without DAX': 'no',
    'extra cost in a page fault': 'none: faults never change metadata',
    'the file must be preallocated and zeroed first': 'yes (written extents, not unwritten)',
    'needs a privilege': 'CAP_LINUX_IMMUTABLE',
  },
  configs: pmemImmutableConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: 'shared',
    faultPath: {
      mapSync: false,
      // Faults on a preallocated, written block change no metadata; on an unwritten one (the
      // ZERO_RANGE variant) dax_iomap_fault converts it in the running transaction.
      writeFault: (at) => [{ type: 'dax_iomap_fault', params: { ...at, write: true } }],
    },
    // Every third-party operation changes metadata: refused while the flag is set (rules 4, 5).
    thirdPartyPolicy: { invalidate: true, holdOffFaults: true, syncBeforeRelease: false },
    inodeFlag: PMEM_IMMUTABLE,
    hooks: () => immutableHooks(config),
    program: (steps, t, blocks) => immutableProgram(steps, t, blocks, config),
    implementations: (L) => ({
      guards: {
        fallocateImmutableFails: ({ context }: { context: DaxContext }, p: { t: number; blocks: number; cap: boolean }) =>
          fallocateImmutableErrno(context, L, p.t, p.blocks, p.cap) !== OK,
      },
      actions: immutableActions(L),
    }),
    properties: (L) => properties(L, config),
  }),
});

