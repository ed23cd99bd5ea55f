/**
 * MAP_DIRECT as a hint or as a guarantee, and MADV_DIRECT_ACCESS (seed 003, Dave Chinner,
 * 2018-10-18, answering Jeff Moyer's summary of Dan Williams' proposal).
 *
 * "file system guarantees that page cache will not be used to front storage ... This *almost*
 * implies MAP_SYNC. The subtle difference is that a write fault /may/ not result in metadata
 * being written back to media." Chinner: "these semantics do not allow userspace apps to replace
 * msync/fsync with CPU cache flush operations"; and "an app already has an open MAP_DIRECT file,
 * and a third party reflinks it or dedupes it and the fs has to fall back to buffered IO to do
 * COW operations. This isn't the app's fault - the kernel should just fall back transparently to
 * using the page cache for the MAP_DIRECT app and just keep working ... IMO, MAP_DIRECT needs to
 * be a hint like O_DIRECT and not a guarantee." MADV_DIRECT_ACCESS is its run-time form.
 *
 * Promise: no page cache in front of the storage (as a hint: unless the filesystem cannot keep
 * it); durability still needs msync/fsync.
 *
 * Kernel modelled (audited, issue 13): MAP_DIRECT was never merged; the fault path under it is
 * Linux 4.15's (`dax_iomap_fault` → `dax_iomap_pte_fault`, `->pfn_mkwrite`, models/faults.ts);
 * the fallback to the page cache when a third party shares an extent is the proposal's own
 * (model.ts), as seed 003 describes it.
 */
import { isDaxInode } from '../../models/fs.ts';
import { needsWriteFault } from '../../models/faults.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import type { DaxContext } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { Spec } from '../common/spec.ts';
import { mapDirectConfigs, type DirectConfig } from './configs.ts';
import { MAP_DIRECT_FLAGS, directActions, directFaultKind, directHooks, directState, type DirectLayout } from './model.ts';

export const DIRECT_NAMES = {
  sigbus: 'an application is never killed by SIGBUS for what another process did',
  fallback: 'a MAP_DIRECT mapping falls back to the page cache when another process shares its blocks',
} as const;

function properties(L: DirectLayout, config: DirectConfig): DaxProperty[] {
  const s = L.view();
  const props: DaxProperty[] = [
    {
      kind: 'always',
      id: 'no-foreign-sigbus',
      name: DIRECT_NAMES.sigbus,
      holds: (v) => {
        s.at(v.context);
        for (let t = 0; t < L.T; t++) if (s.killedByOther(t)) return false;
        return true;
      },
    },
  ];
  if (config.direct === 'hint' && config.thirdParty) {
    // The application's mapping (mapping 0) has fallen back.
    props.push({ kind: 'sometimes', id: 'direct-falls-back', name: DIRECT_NAMES.fallback, reached: (v) => s.at(v.context).direct(0) === 'page cache' });
  }
  return props;
}

/** With `madvise`, the application maps MAP_SHARED and asks for direct access at run time. */
function madviseProgram(steps: Step[], config: DirectConfig): Step[] {
  if (!config.madvise) return steps;
  const at = steps.findIndex((s) => s.op === 'mmap');
  const madvise: Step = { name: 'madvise', op: 'syscall', call: 'madvise', action: 'madvise_direct_access' };
  return [...steps.slice(0, at + 1), madvise, ...steps.slice(at + 1)];
}

export const mapDirect: DaxSpec<DirectConfig, ReturnType<typeof directState>> = daxSpec({
  name: 'map-direct',
  title: 'MAP_DIRECT / MADV_DIRECT_ACCESS: hint or guarantee',
  sources: ['003'],
  promise: 'No page cache in front of DAX storage; as a hint the kernel falls back to the page cache where it must (a third party reflinks or dedupes the file), as a guarantee it sends SIGBUS. It does not make userspace flushes durable: msync/fsync are still needed.',
  capabilities: {
    'no fsync needed after userspace flushes': 'no: MAP_DIRECT alone does not make flushes durable',
    'sub-allocation of a namespace (ordinary files)': 'yes',
    'reflink, dedupe, hole punch, truncate on mapped files': 'yes: hint falls back to the page cache; guarantee sends SIGBUS',
    'background maintenance (defrag, scrub, EOF scan)': 'yes',
    'works on files without DAX': 'no: EOPNOTSUPP',
    'extra cost in a page fault': 'none',
  },
  configs: mapDirectConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: config.madvise ? 'shared' : MAP_DIRECT_FLAGS,
    faultPath: {
      mapSync: false,
      writeFault: (at) => [{ type: 'map_direct_fault', params: at }],
    },
    thirdPartyPolicy: { invalidate: true, holdOffFaults: true, syncBeforeRelease: false },
    state: (d) => directState(d, { thirdParty: !!config.thirdParty }),
    // Threads running the same program are interchangeable (check --symmetry): what MAP_DIRECT
    // keeps belongs to a mapping, a page-cache word to its file block and word.
    symmetry: {
      fields: {
        direct: { index: ['mapping'] },
        pageCache: { index: ['block', 'word'], values: 'word' },
        pageCacheDirty: { index: ['block', 'word'] },
        killedByOther: { index: ['thread'] },
      },
    },
    hooks: (L) => directHooks(L, config.direct),
    sigbusGuard: 'directFaultGetsSigbus',
    program: (steps) => madviseProgram(steps, config),
    implementations: (L) => ({
      guards: {
        /** Would this write fault end in SIGBUS (beyond EOF, or a guarantee that cannot be kept)? */
        directFaultGetsSigbus: ({ context }: { context: DaxContext }, p: { m: number; b: number }) =>
          isDaxInode(context, L) && needsWriteFault(context, L, p.m, p.b) && directFaultKind(context, L, p.m, p.b) === 'sigbus',
      },
      actions: directActions(L),
    }),
    properties: (L) => properties(L, config),
  }),
});
