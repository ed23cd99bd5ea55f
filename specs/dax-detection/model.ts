/**
 * How an application finds out whether its file is mapped with DAX (seed 003, and the 2016
 * "DAX mapping detection" thread of seed 002), on three kernels:
 *
 *  - 4.18: ext4_file_mmap and xfs_file_mmap set `VM_MIXEDMAP | VM_HUGEPAGE` on the VMA of an
 *    S_DAX file, and /proc/<pid>/smaps prints VM_MIXEDMAP as `mm` in the mapping's VmFlags
 *    (show_smap_vma_flags). statx has no DAX attribute.
 *  - 4.19: commit e1fb4a086495 "dax: remove VM_MIXEDMAP for fsdax and device dax" (Dave Jiang,
 *    August 2018): DAX VMAs carry `VM_HUGEPAGE` only; nothing in VmFlags says DAX any more.
 *  - 5.8: statx reports STATX_ATTR_DAX in stx_attributes (and in stx_attributes_mask, so an
 *    application can tell "not DAX" from "this kernel cannot say").
 * VM_MIXEDMAP was "already ambiguous" as a DAX test (Dan Williams, 2016: other drivers set it
 * too); the model's only file is either on a DAX mount or on a page-cache one, where nothing sets it.
 *
 * What an application concluded is the spec's own ghost field `detected[t]` (declared below):
 * properties compare it with S_DAX.
 * What it does next is its control state: a thread that concludes "no DAX" leaves its program.
 */
import { fields } from '../../models/fields.ts';
import { isDaxInode } from '../../models/fs.ts';
import { type DaxContext, type Dimensions, type Layout } from '../../models/layout.ts';

/** What an application concluded about DAX: nothing yet, DAX, or no DAX. */
export const CONCLUSIONS = ['unknown', 'DAX', 'no DAX'] as const;
export type Conclusion = (typeof CONCLUSIONS)[number];

/** The spec's own state: what each thread concluded (ghost: no operation reads it). */
export const detectionState = (d: Dimensions) =>
  fields({
    detected: { part: 'ghost', shape: [d.threads], values: CONCLUSIONS, doc: 'what thread t concluded about DAX from smaps or statx' },
  });

export type DetectionLayout = Layout<ReturnType<typeof detectionState>>;

export const KERNEL_NAMES = ['4.18', '4.19', '5.8'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** What a kernel shows an application about DAX. */
export interface DetectionKernel {
  name: KernelName;
  /** DAX VMAs carry VM_MIXEDMAP (`mm` in smaps VmFlags): before e1fb4a086495. */
  vmMixedmapOnDax: boolean;
  /** statx knows STATX_ATTR_DAX (Linux 5.8). */
  statxAttrDax: boolean;
}

export const KERNELS: Record<KernelName, DetectionKernel> = {
  '4.18': { name: '4.18', vmMixedmapOnDax: true, statxAttrDax: false },
  '4.19': { name: '4.19', vmMixedmapOnDax: false, statxAttrDax: false },
  '5.8': { name: '5.8', vmMixedmapOnDax: false, statxAttrDax: true },
};

/** The VmFlags line of mapping m in /proc/<pid>/smaps, as show_smap_vma_flags prints it. */
export function vmFlags(c: DaxContext, L: Layout, m: number, k: DetectionKernel): string[] {
  if (L.at(c).vma(m) === 'none') return [];
  // A shared, writable file mapping: VM_READ VM_WRITE VM_SHARED VM_MAYREAD VM_MAYWRITE VM_MAYEXEC VM_MAYSHARE.
  const flags = ['rd', 'wr', 'sh', 'mr', 'mw', 'me', 'ms'];
  if (isDaxInode(c, L)) {
    if (k.vmMixedmapOnDax) flags.push('mm');
    flags.push('hg');
  }
  return flags;
}

/** Does the mapping's VmFlags line show `mm` (VM_MIXEDMAP)? */
export function smapsShowsMixedmap(c: DaxContext, L: Layout, m: number, k: DetectionKernel): boolean {
  return vmFlags(c, L, m, k).includes('mm');
}

/** What statx says: DAX or no DAX, or unknown when the mask lacks STATX_ATTR_DAX. */
export function statxDax(c: DaxContext, L: Layout, k: DetectionKernel): Conclusion {
  if (!k.statxAttrDax) return 'unknown';
  return isDaxInode(c, L) ? 'DAX' : 'no DAX';
}

/** The application reads /proc/self/smaps and looks for `mm` in its mapping's VmFlags. */
export function detectBySmaps(c: DaxContext, L: DetectionLayout, t: number, m: number, k: DetectionKernel): Conclusion {
  const d: Conclusion = smapsShowsMixedmap(c, L, m, k) ? 'DAX' : 'no DAX';
  const s = L.at(c);
  s.detected.set(t, d);
  s.errno.set(t, '0');
  return d;
}

/** The application calls statx on its file and reads STATX_ATTR_DAX. */
export function detectByStatx(c: DaxContext, L: DetectionLayout, t: number, k: DetectionKernel): Conclusion {
  const d = statxDax(c, L, k);
  const s = L.at(c);
  s.detected.set(t, d);
  s.errno.set(t, '0');
  return d;
}

/** Does what thread t concluded (if anything) agree with S_DAX? */
export function detectionMatches(c: DaxContext, L: DetectionLayout, t: number): boolean {
  const d = L.at(c).detected(t);
  if (d === 'unknown') return true;
  return (d === 'DAX') === isDaxInode(c, L);
}
