/**
 * DAX-detection steps in kernel and application terms: what /proc/self/smaps or statx showed and
 * what the application concluded; every other step reads as in the shared model.
 */
import type { OwnRenderer } from '../../models/describe-own.ts';
import { vmFlags, type DetectionKernel } from '../../models/detection.ts';
import { DETECT_DAX, DETECT_NO_DAX, type Layout } from '../../models/layout.ts';

const FD = 3;
const MAP_ADDR = (m: number) => `0x7f00${(m + 1).toString(16)}0000000`;
const REFUSES = 'and exits: "DAX support is missing"';

export function detectionTexts(L: Layout, k: DetectionKernel): OwnRenderer {
  return {
    text: (a) => {
      const p = (a.params ?? {}) as { t: number; m: number };
      const concluded = a.after.ghost[L.gDetected + p.t];
      switch (a.type) {
        case 'read_smaps': {
          const flags = vmFlags(a.before, L, p.m, k).join(' ');
          const mm = concluded === DETECT_DAX;
          return `read /proc/self/smaps: VmFlags of ${MAP_ADDR(p.m)}: ${flags} → ${
            mm ? '`mm` (VM_MIXEDMAP) present: the application concludes DAX' : `no \`mm\` (VM_MIXEDMAP): the application concludes no DAX ${REFUSES}`
          }`;
        }
        case 'statx': {
          const call = `statx(${FD}, "", AT_EMPTY_PATH, STATX_BASIC_STATS) = 0`;
          if (concluded === DETECT_DAX) return `${call}: stx_attributes has STATX_ATTR_DAX: the application concludes DAX`;
          if (concluded === DETECT_NO_DAX) return `${call}: STATX_ATTR_DAX not set: the application concludes no DAX ${REFUSES}`;
          return `${call}: stx_attributes_mask lacks STATX_ATTR_DAX (Linux ${k.name} cannot say): the application cannot tell ${REFUSES}`;
        }
        default:
          return undefined;
      }
    },
  };
}
