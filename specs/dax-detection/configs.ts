/**
 * Run configurations of the DAX-detection spec: which way the application detects DAX, on which
 * kernel, on a DAX or a page-cache mount. Expected verdicts and state counts: manifest.json.
 */
import type { KernelName } from './model.ts';
import type { MmapFlags } from '../../models/syscalls.ts';
import { program, type Step } from '../apps/pmem-log.ts';
import type { CustomApp, DaxRunConfig } from '../common/spec.ts';
import { scaledUp } from '../common/scaled.ts';

export type DetectionMethod = 'smaps' | 'statx';

/** A configuration of this spec: DaxRunConfig plus the kernel and the application's method. */
export interface DetectionConfig extends DaxRunConfig {
  /** The kernel the application runs on (model.ts KERNELS). */
  kernel: KernelName;
  /** How the application detects DAX. */
  detect: DetectionMethod;
}

/**
 * DOMAIN.md's trusting application with a DAX check in front of it, as the customer's
 * application of seed 003 has: if the check says DAX it goes on and trusts its userspace
 * flushes; otherwise it "just fails to start complaining that DAX support is missing".
 *  - smaps: map the file, read the mapping's VmFlags in /proc/self/smaps, look for `mm`
 *    (NVML's 2016 test, the one the "DAX mapping detection" thread is about);
 *  - statx: statx(fd) first, STATX_ATTR_DAX in stx_attributes.
 */
export function detectingApp(method: DetectionMethod): CustomApp {
  return {
    name: `${method}-detecting`,
    program(t: number, blocks: number, flags: MmapFlags): Step[] {
      const steps = program('trusting', t, blocks, flags);
      const check: Step =
        method === 'smaps'
          ? { name: 'readSmaps', op: 'syscall', call: 'read_smaps', action: 'read_smaps', fails: 'isMixedmapMissing' }
          : { name: 'statx', op: 'syscall', call: 'statx', action: 'statx', fails: 'isStatxDaxMissing' };
      // smaps describes mappings, so that check comes after mmap; statx asks the open file.
      const after = steps.findIndex((s) => s.op === (method === 'smaps' ? 'mmap' : 'open'));
      return [...steps.slice(0, after + 1), check, ...steps.slice(after + 1)];
    },
  };
}

const common = { threads: 1, crashBudget: 1, evict: true } as const;

function config(detect: DetectionMethod, kernel: KernelName, dax: boolean, rest: Partial<DetectionConfig> & { description: string; default: boolean }): DetectionConfig {
  return {
    name: `${detect}-${kernel}-${dax ? 'dax' : 'nodax'}${rest.mmapFlags === 'shared_validate_sync' ? '-map-sync' : ''}`,
    app: detectingApp(detect),
    detect,
    kernel,
    dax,
    ...common,
    ...rest,
  };
}

export const detectionConfigs: DetectionConfig[] = [
  config('smaps', '4.18', true, {
    description: 'before e1fb4a086495 the DAX mapping shows `mm`: detection is right, and the application trusts its flushes on MAP_SHARED, which DAX alone does not make safe (seed 002, 2016)',
    default: true,
  }),
  config('smaps', '4.19', true, {
    description: 'seed 003: e1fb4a086495 removed VM_MIXEDMAP, the DAX mapping no longer shows `mm`, and the application refuses to start on a DAX file',
    default: true,
  }),
  config('smaps', '4.19', false, {
    description: 'a page-cache file on 4.19: no `mm`, and the application rightly refuses to start',
    default: true,
  }),
  config('statx', '5.8', true, {
    description: 'statx says STATX_ATTR_DAX; the application maps with MAP_SHARED_VALIDATE|MAP_SYNC and trusts its flushes',
    mmapFlags: 'shared_validate_sync',
    default: true,
  }),
  config('statx', '5.8', false, {
    description: 'statx on a page-cache file: no STATX_ATTR_DAX, and the application rightly refuses to start (before it maps anything)',
    default: true,
  }),
  config('smaps', '5.8', true, {
    description: 'the smaps check on 5.8 is as broken as on 4.19: VM_MIXEDMAP never came back',
    default: false,
  }),
  config('smaps', '4.18', false, {
    description: 'a page-cache file on 4.18: no `mm`, the application refuses to start',
    default: false,
  }),
  config('statx', '5.8', true, {
    description: 'statx detects DAX rightly, but the application maps with plain MAP_SHARED and trusts its flushes: detection is not durability',
    default: false,
  }),
  config('statx', '4.19', true, {
    description: 'statx before 5.8: stx_attributes_mask lacks STATX_ATTR_DAX, the application cannot tell and refuses to start',
    default: false,
  }),
];

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
detectionConfigs.push(scaledUp(detectionConfigs, 'statx-5.8-dax-map-sync', 'three threads each detect DAX by statx and map with MAP_SYNC on 5.8, on four blocks, through two power failures'));
