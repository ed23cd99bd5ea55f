/**
 * DAX detection: VmFlags in /proc/<pid>/smaps versus statx STATX_ATTR_DAX.
 *
 * Sources: seed 003 (linux-fsdevel, October 2018) and the "DAX mapping detection" thread of seed
 * 002 (September 2016). Jan Kara: "commit e1fb4a086495 'dax: remove VM_MIXEDMAP for fsdax and
 * device dax' has removed VM_MIXEDMAP flag from DAX VMAs. Now our testing shows that in the mean
 * time certain customer of ours started poking into /proc/<pid>/smaps and looks at VMA flags there
 * and if VM_MIXEDMAP is missing among the VMA flags, the application just fails to start
 * complaining that DAX support is missing in the kernel." DAX is an inode property (S_DAX); the
 * answer that came out of the thread is statx's STATX_ATTR_DAX (Linux 5.8). Two years earlier Ross
 * Zwisler had said what the application really needs to know: "isn't a way to tell if it is
 * getting a DAX mapping, but whether it is getting a DAX mapping on a filesystem that fully
 * supports the PMEM programming model", and Dave Chinner: "For all existing implementations ...
 * you need to use fsync/msync". MAP_SYNC later became that answer.
 *
 * Promise (of a detection method): what the application concludes about DAX is what S_DAX says,
 * on every kernel. The smaps test keeps it only while DAX VMAs carry VM_MIXEDMAP.
 *
 * Kernel modelled (audited, issue 13): three kernels, a configuration parameter: 4.18
 * (`ext4_file_mmap` / `xfs_file_mmap` set VM_MIXEDMAP | VM_HUGEPAGE on a DAX vma, shown as `mm` in
 * smaps VmFlags), 4.19 (e1fb4a086495 removed VM_MIXEDMAP) and 5.8 (`STATX_ATTR_DAX` from
 * `vfs_getattr`). The fault path is the shared one (Linux 4.15's, models/faults.ts).
 */
import { kernelAction } from '../../models/action.ts';
import { mmapAddress } from '../../models/describe.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import type { DaxContext } from '../../models/layout.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { Spec } from '../common/spec.ts';
import { detectionConfigs, type DetectionConfig } from './configs.ts';
import {
  KERNELS,
  detectBySmaps,
  detectByStatx,
  detectionMatches,
  detectionState,
  smapsShowsMixedmap,
  statxDax,
  vmFlags,
  type DetectionKernel,
  type DetectionLayout,
} from './model.ts';

export const DETECTION_NAMES = {
  matches: "the application's DAX detection matches S_DAX",
  refuses: 'the application refuses to start, complaining that DAX support is missing',
} as const;

function detectionProperties(L: DetectionLayout): DaxProperty[] {
  return [
    {
      kind: 'always',
      id: 'detection-matches-sdax',
      name: DETECTION_NAMES.matches,
      holds: (v) => {
        for (let t = 0; t < L.T; t++) if (!detectionMatches(v.context, L, t)) return false;
        return true;
      },
    },
    {
      kind: 'sometimes',
      id: 'refuses-without-dax',
      name: DETECTION_NAMES.refuses,
      reached: (v) => {
        for (let t = 0; t < L.T; t++) if (v.matches(`running.T${t}.failed`)) return true;
        return false;
      },
    },
  ];
}

const FD = 3;
const REFUSES = 'and exits: "DAX support is missing"';

/** The kernel is fixed per configuration: guards and actions close over it. */
function detectionImplementations(L: DetectionLayout, k: DetectionKernel) {
  const after = L.view();
  return {
    guards: {
      /** Does the mapping's VmFlags line lack `mm` (the application will refuse to start)? */
      isMixedmapMissing: ({ context }: { context: DaxContext }, p: { m: number }) => !smapsShowsMixedmap(context, L, p.m, k),
      /** Does statx not report STATX_ATTR_DAX (the application will refuse to start)? */
      isStatxDaxMissing: ({ context }: { context: DaxContext }) => statxDax(context, L, k) !== 'DAX',
    },
    actions: {
      read_smaps: kernelAction<{ t: number; m: number }>(
        (c, _e, p) => void detectBySmaps(c, L, p.t, p.m, k),
        ({ params: p, before, after: a }) => {
          const flags = vmFlags(before, L, p.m, k).join(' ');
          return `read /proc/self/smaps: VmFlags of ${mmapAddress(p.m)}: ${flags} → ${
            after.at(a).detected(p.t) === 'DAX'
              ? '`mm` (VM_MIXEDMAP) present: the application concludes DAX'
              : `no \`mm\` (VM_MIXEDMAP): the application concludes no DAX ${REFUSES}`
          }`;
        },
      ),
      statx: kernelAction<{ t: number }>(
        (c, _e, p) => void detectByStatx(c, L, p.t, k),
        ({ params: p, after: a }) => {
          const call = `statx(${FD}, "", AT_EMPTY_PATH, STATX_BASIC_STATS) = 0`;
          const concluded = after.at(a).detected(p.t);
          if (concluded === 'DAX') return `${call}: stx_attributes has STATX_ATTR_DAX: the application concludes DAX`;
          if (concluded === 'no DAX') return `${call}: STATX_ATTR_DAX not set: the application concludes no DAX ${REFUSES}`;
          return `${call}: stx_attributes_mask lacks STATX_ATTR_DAX (Linux ${k.name} cannot say): the application cannot tell ${REFUSES}`;
        },
      ),
    },
  };
}

export const daxDetection: DaxSpec<DetectionConfig, ReturnType<typeof detectionState>> = daxSpec({
  name: 'dax-detection',
  title: 'DAX detection: VmFlags in /proc/<pid>/smaps versus statx STATX_ATTR_DAX',
  sources: ['003', '002'],
  promise:
    "An application's test for DAX tells it what S_DAX says: VM_MIXEDMAP (`mm` in smaps VmFlags) did so only until e1fb4a086495 removed it from DAX VMAs; STATX_ATTR_DAX (Linux 5.8) does on every kernel that has it.",
  capabilities: {
    'no fsync needed after userspace flushes': 'not by detection: only MAP_SYNC (or a proposal like it) promises that; a DAX mapping alone does not',
    'works on files without DAX': 'the application can tell and refuse, or fall back',
    'extra cost in a page fault': 'none (a check at start-up)',
    'stable across kernel versions': 'smaps VmFlags: no (an mm implementation detail); statx STATX_ATTR_DAX: yes (an interface)',
  },
  configs: detectionConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => {
    const k = KERNELS[config.kernel];
    return {
      mmapFlags: 'shared',
      faultPath: {
        // Every kernel here (4.15 and later) has MAP_SYNC: dax_finish_sync_fault on VM_SYNC mappings.
        mapSync: true,
        writeFault: (at) => [
          { type: 'dax_iomap_fault', params: { ...at, write: true } },
          { type: 'dax_finish_sync_fault', params: at },
        ],
      },
      state: detectionState,
      // Threads running the same program are interchangeable (check --symmetry).
      symmetry: { fields: { detected: { index: ['thread'] } } },
      implementations: (L) => detectionImplementations(L, k),
      properties: (L) => detectionProperties(L),
    };
  },
});
