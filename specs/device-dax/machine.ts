/**
 * device-dax: a whole persistent-memory namespace as a character device, no filesystem.
 *
 * Source: seed 002 (linux-nvdimm, December 2016). Dan Williams: device-dax "is basically a poor
 * man's PMEM_IMMUTABLE via a character device interface. It's useful for cases where you want an
 * entire nvdimm namespace/volume in 'no fs-metadata to worry about' mode. But, for
 * sub-allocations of a namespace and support for existing tooling, PMEM_IMMUTABLE is much more
 * usable." Dave Chinner: "device-dax needs to die, not poison a bunch of existing file and block
 * device APIs and behaviours with special snowflakes." Christoph Hellwig had already refused
 * fallocate on it. What the kernel does is in model.ts beside this file (drivers/dax/device.c).
 *
 * Promise: there is no metadata behind a page of the device, so a store is durable once a
 * userspace flush (clwb + sfence) has reached persistent memory; nothing else is needed.
 * What it gives up is in `capabilities`: no files, no sub-allocation, no fs operations or tooling.
 *
 * Kernel modelled (audited, issue 13): drivers/dax/device.c as of Linux 4.15: `dax_mmap`
 * (`check_vma`), `dev_dax_huge_fault` → `__dev_dax_pte_fault` → `vm_insert_mixed`,
 * `mmap_supported_flags = MAP_SYNC`, no `->fsync`. The vma has no `page_mkwrite` / `pfn_mkwrite`
 * and no dirty accounting, so no write notification: the PTE is installed writable at the first
 * fault, read or write, and no store ever faults again (model.ts `devDaxFault`).
 */
import type { DaxProperty } from '../../models/invariants.ts';
import { kernelAction, type ActionText } from '../../models/action.ts';
import { BLOCK_SIZE, type DaxContext, type Layout } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import { daxSpec, type DaxSpec } from '../common/dax-spec.ts';
import type { DaxRunConfig, Spec } from '../common/spec.ts';
import { deviceDaxConfigs, type DeviceDaxConfig } from './configs.ts';
import { devDaxFault, deviceDaxInitial, isDeviceLayoutIntact, notImplemented } from './model.ts';

export const DEVICE_DAX_NAMES = {
  layout: 'every page of the device is durably part of it, at its own offset, from the start',
  fsync: 'fsync on the character device fails with EINVAL: there is nothing for it to sync',
  fileApp: 'an application written for files fails on the character device: ftruncate returns EINVAL',
} as const;

function deviceDaxProperties(L: Layout, config: DeviceDaxConfig): DaxProperty[] {
  const s = L.view();
  const props: DaxProperty[] = [
    // The promise in model terms: no step (fault, crash, recovery) ever changes what maps a page.
    { kind: 'always', id: 'device-layout-fixed', name: DEVICE_DAX_NAMES.layout, holds: (v) => isDeviceLayoutIntact(L, v.context) },
  ];
  if (config.app === 'fsync') {
    props.push({
      kind: 'sometimes',
      id: 'device-fsync-einval',
      name: DEVICE_DAX_NAMES.fsync,
      reached: (v) => v.matches('running.T0.storePointer') && s.at(v.context).errno(0) === 'EINVAL',
    });
  }
  if (config.fileApp) {
    props.push({
      kind: 'sometimes',
      id: 'file-app-fails',
      name: DEVICE_DAX_NAMES.fileApp,
      reached: (v) => v.matches('running.T0.failed') && s.at(v.context).errno(0) === 'EINVAL',
    });
  }
  return props;
}

/**
 * The application's program on the device. The device has a fixed size: an application written
 * for it opens /dev/daxX.Y and maps it, without ftruncate or fallocate. One written for files
 * (`fileApp`) sizes the file first, gets EINVAL, and gives up.
 */
function onTheDevice(config: DeviceDaxConfig) {
  return (steps: Step[]): Step[] => {
    if (!config.fileApp) return steps.filter((s) => s.op !== 'ftruncate' && s.op !== 'fallocate');
    return steps.map((s): Step =>
      s.op === 'ftruncate'
        ? { name: s.name, op: 'syscall', call: 'ftruncate', action: 'ftruncate', params: { blocks: s.blocks }, fails: 'isNotRegularFile' }
        : s,
    );
  };
}

const DEVICE = '/dev/dax0.0';
const FD = 3;

function deviceDaxImplementations(L: Layout) {
  const after = L.view();
  /** `0` or `-EINVAL`: what thread t's call returned. */
  const ret = (c: DaxContext, t: number) => {
    const e = after.at(c).errno(t);
    return e === '0' ? '0' : `-${e}`;
  };
  // dax_fops has no ->fsync and no ->setattr.
  const noFsync = kernelAction<{ t: number }>(
    (c, _e, p) => void notImplemented(c, L, p.t),
    ({ type, params: p, after: a }) => `${type}(${FD}) = ${ret(a, p.t)} (dax_fops has no ->fsync: there is no metadata to sync)`,
  );
  return {
    guards: {
      /** Is the file a character device, not a regular file (ftruncate fails)? It always is here. */
      isNotRegularFile: () => true,
    },
    actions: {
      /** The fault handler of the device: a linear lookup, no allocation, no metadata. */
      dev_dax_huge_fault: kernelAction<{ t: number; m: number; b: number }>(
        (c, _e, p) => void devDaxFault(c, L, p.t, p.m, p.b),
        ({ params: p, after: a }) => {
          const name = `dev_dax_huge_fault(write, page ${p.b})`;
          if (after.at(a).errno(p.t) !== '0') return `${name} → SIGBUS`;
          return `${name} → dax_pgoff_to_phys: pgoff ${p.b} is pmem block ${p.b} (nothing to allocate, no metadata); PTE writable`;
        },
      ),
      fsync: noFsync,
      fdatasync: noFsync,
      msync: kernelAction<{ t: number }>(
        (c, _e, p) => void notImplemented(c, L, p.t),
        ({ params: p, after: a }) => `msync(MS_SYNC) = ${ret(a, p.t)} (vfs_fsync_range: dax_fops has no ->fsync)`,
      ),
      ftruncate: kernelAction<{ t: number; blocks?: number }>(
        (c, _e, p) => void notImplemented(c, L, p.t),
        ({ params: p, after: a }) => `ftruncate(${FD}, ${(p.blocks ?? 0) * BLOCK_SIZE}) = ${ret(a, p.t)} (a character device is not a regular file); the application gives up`,
      ),
    },
  };
}

/** The shared model's steps as they read on a character device. */
function deviceDaxTexts(): Record<string, ActionText> {
  return {
    open: () => `open("${DEVICE}", O_RDWR) = ${FD} (dax_open: the device inode is S_DAX)`,
    mount_and_recover: () => `the device comes back: no filesystem, nothing to recover; page b is pmem block b for every b`,
    // The shared text, without a journal the device does not have.
    power_fail: (a, shared) => shared(a)?.replace('nothing uncommitted in the journal', 'no metadata to lose') ?? null,
  };
}

export const deviceDax: DaxSpec<DeviceDaxConfig> = daxSpec({
  name: 'device-dax',
  title: 'device-dax: a namespace as a character device, no filesystem metadata',
  sources: ['002'],
  promise:
    'There is no filesystem metadata behind a page of /dev/daxX.Y: a store is durable once a userspace flush reaches persistent memory, with no fsync (which the device does not even implement).',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes, on ADR/eADR persistent memory (fsync and msync fail with EINVAL)',
    'sub-allocation of a namespace (ordinary files)': 'no: the whole namespace (or a fixed-size region of it) is one device',
    'reflink, dedupe, hole punch, truncate on mapped files': 'no: no filesystem (ftruncate EINVAL, fallocate ENODEV)',
    'background maintenance (defrag, scrub, EOF scan)': 'no: no filesystem',
    'works on files without DAX': 'no: only on a namespace in devdax mode',
    'extra cost in a page fault': 'none: a linear offset lookup, no metadata',
    'existing tooling (file names, cp, backup, fsck)': 'no: a character device; applications must be written for it',
  },
  configs: deviceDaxConfigs,
  // The building blocks (see specs/common/dax-spec.ts): a variant replaces any of them.
  design: (config) => ({
    mmapFlags: 'shared',
    faultPath: {
      // dax_fops.mmap_supported_flags = MAP_SYNC: mmap(MAP_SHARED_VALIDATE|MAP_SYNC) is accepted.
      mapSync: true,
      writeFault: (at) => [{ type: 'dev_dax_huge_fault', params: { ...at, write: true } }],
    },
    initial: deviceDaxInitial,
    program: onTheDevice(config),
    implementations: (L) => deviceDaxImplementations(L),
    texts: deviceDaxTexts,
    properties: (L) => deviceDaxProperties(L, config),
  }),
});
