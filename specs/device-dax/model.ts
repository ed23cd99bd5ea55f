/**
 * device-dax (seed 002): a persistent-memory namespace exposed whole as a character device,
 * /dev/daxX.Y, with no filesystem and so no filesystem metadata.
 *
 * What the model takes from drivers/dax/device.c:
 *  - `dax_open` sets S_DAX on the device inode; `dax_mmap` accepts only shared mappings
 *    (`check_vma`), and `dax_fops.mmap_supported_flags = MAP_SYNC`, so
 *    mmap(MAP_SHARED_VALIDATE|MAP_SYNC) is accepted: every mapping is synchronous anyway.
 *  - A fault (`dev_dax_huge_fault` → `__dev_dax_pte_fault`) translates the page offset linearly
 *    into a physical address of the namespace (`dax_pgoff_to_phys`) and inserts it: nothing is
 *    allocated, nothing is zeroed, no metadata is written.
 *  - `dax_fops` has no `->fsync`, `->fallocate` or `->setattr`: fsync(2), fdatasync(2) and
 *    msync(MS_SYNC) (which calls vfs_fsync_range on a shared file mapping) fail with EINVAL;
 *    ftruncate(2) fails with EINVAL (not a regular file); fallocate(2) with ENODEV.
 * Not modelled: the device's alignment (2 MiB by default; a PTE fault on such a device is
 * SIGBUS): the model's device has 4 KiB alignment, so every page can be faulted on its own.
 *
 * In the shared model a device of B pages is a "file" of B blocks whose extent map says block
 * b → pmem block b, written, committed before the application starts, and never changed. The
 * namespace was zeroed when it was created for this application: no other file's old data can
 * show through, because no other file shares the namespace.
 */
import { setPte } from '../../models/faults.ts';
import { EINVAL, PTE_RW, SIGBUS, WRITTEN, ZERO, type DaxContext, type Layout } from '../../models/layout.ts';

/** The device's "metadata" from the start: every page is durably part of it, at its own offset. */
export function deviceDaxInitial(L: Layout, c: DaxContext): void {
  const s = L.at(c);
  s.committedSize.set(L.B);
  s.size.set(L.B);
  for (let b = 0; b < L.B; b++) {
    s.committedExtent.set(b, WRITTEN);
    s.committedPhys.set(b, b);
    s.extent.set(b, WRITTEN);
    s.phys.set(b, b);
  }
  for (let p = 0; p < L.P; p++) for (let w = 0; w < L.W; w++) s.pmem.set(p, w, ZERO);
}

/** Is the device layout intact: every page durably mapped at its own offset, nothing else? */
export function isDeviceLayoutIntact(L: Layout, c: DaxContext): boolean {
  const s = L.at(c);
  if (s.committedSize() !== L.B) return false;
  for (let b = 0; b < L.B; b++) if (s.committedExtent(b) !== WRITTEN || s.committedPhys(b) !== b) return false;
  return true;
}

/**
 * `dev_dax_huge_fault` for page b of mapping m: `dax_pgoff_to_phys` is a linear translation and
 * `vmf_insert_mixed` installs it. Without a mapping the access is SIGBUS.
 */
export function devDaxFault(c: DaxContext, L: Layout, t: number, m: number, b: number): number {
  if (L.at(c).vma(m) === 'none' || b >= L.B) {
    L.at(c).errno.set(t, 'SIGBUS');
    return SIGBUS;
  }
  setPte(c, L, m, b, PTE_RW, b);
  L.at(c).errno.set(t, '0');
  return 0;
}

/**
 * A call the character device does not implement: fsync, fdatasync and msync(MS_SYNC) (no
 * `->fsync`), ftruncate (not a regular file). It changes nothing and returns EINVAL.
 */
export function notImplemented(c: DaxContext, L: Layout, t: number): number {
  L.at(c).errno.set(t, 'EINVAL');
  return EINVAL;
}
