/**
 * device-dax steps in kernel terms: the character device's own calls and fault handler; every
 * other step reads as in the shared model (models/describe.ts).
 */
import { appLayout } from '../../models/app-layout.ts';
import { describeAction } from '../../models/describe.ts';
import type { OwnRenderer } from '../../models/describe-own.ts';
import { BLOCK_SIZE, ERRNO_NAMES, OK, type Layout } from '../../models/layout.ts';

const DEVICE = '/dev/dax0.0';
const FD = 3;

export function deviceDaxTexts(L: Layout): OwnRenderer {
  return {
    text: (a) => {
      const p = (a.params ?? {}) as { t?: number; m?: number; b?: number; blocks?: number };
      const errno = (t: number) => {
        const e = a.after.volatile[L.vErr + t];
        return e === OK ? '0' : `-${ERRNO_NAMES[e]}`;
      };
      switch (a.type) {
        case 'open':
          return `open("${DEVICE}", O_RDWR) = ${FD} (dax_open: the device inode is S_DAX)`;
        case 'ftruncate':
          return `ftruncate(${FD}, ${(p.blocks ?? 0) * BLOCK_SIZE}) = ${errno(p.t!)} (a character device is not a regular file); the application gives up`;
        case 'fsync':
        case 'fdatasync':
          return `${a.type}(${FD}) = ${errno(p.t!)} (dax_fops has no ->fsync: there is no metadata to sync)`;
        case 'msync':
          return `msync(MS_SYNC) = ${errno(p.t!)} (vfs_fsync_range: dax_fops has no ->fsync)`;
        case 'dev_dax_huge_fault': {
          const name = `dev_dax_huge_fault(write, page ${p.b})`;
          if (a.after.volatile[L.vErr + p.t!] !== OK) return `${name} → SIGBUS`;
          return `${name} → dax_pgoff_to_phys: pgoff ${p.b} is pmem block ${p.b} (nothing to allocate, no metadata); PTE writable`;
        }
        case 'mount_and_recover':
          return `the device comes back: no filesystem, nothing to recover; page b is pmem block b for every b`;
        case 'power_fail':
          // The shared text, without a journal the device does not have.
          return describeAction(L, appLayout(), a)?.replace('nothing uncommitted in the journal', 'no metadata to lose') ?? null;
        default:
          return undefined;
      }
    },
  };
}
