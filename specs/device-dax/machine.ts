/**
 * device-dax: a whole persistent-memory namespace as a character device, no filesystem.
 *
 * Source: seed 002 (linux-nvdimm, December 2016). Dan Williams: device-dax "is basically a poor
 * man's PMEM_IMMUTABLE via a character device interface. It's useful for cases where you want an
 * entire nvdimm namespace/volume in 'no fs-metadata to worry about' mode. But, for
 * sub-allocations of a namespace and support for existing tooling, PMEM_IMMUTABLE is much more
 * usable." Dave Chinner: "device-dax needs to die, not poison a bunch of existing file and block
 * device APIs and behaviours with special snowflakes." Christoph Hellwig had already refused
 * fallocate on it. What the kernel does is in models/device-dax.ts (drivers/dax/device.c).
 *
 * Promise: there is no metadata behind a page of the device, so a store is durable once a
 * userspace flush (clwb + sfence) has reached persistent memory; nothing else is needed.
 * What it gives up is in `capabilities`: no files, no sub-allocation, no fs operations or tooling.
 */
import { appLayout } from '../../models/app-layout.ts';
import { mutator } from '../../checker/xstate/mutator.ts';
import { daxRenderer } from '../../models/describe.ts';
import { withOwnTexts } from '../../models/describe-own.ts';
import { devDaxFault, deviceDaxInitial, isDeviceLayoutIntact, notImplemented } from '../../models/device-dax.ts';
import type { DaxEvent } from '../../models/implementations.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import { EINVAL, type DaxContext, type Layout } from '../../models/layout.ts';
import type { Step } from '../apps/pmem-log.ts';
import { buildDaxSpec } from '../common/dax-machine.ts';
import type { DaxRunConfig, Spec } from '../common/spec.ts';
import { deviceDaxConfigs, type DeviceDaxConfig } from './configs.ts';
import { deviceDaxTexts } from './describe.ts';

export const DEVICE_DAX_NAMES = {
  layout: 'every page of the device is durably part of it, at its own offset, from the start',
  fsync: 'fsync on the character device fails with EINVAL: there is nothing for it to sync',
  fileApp: 'an application written for files fails on the character device: ftruncate returns EINVAL',
} as const;

function deviceDaxProperties(L: Layout, config: DeviceDaxConfig): DaxProperty[] {
  const props: DaxProperty[] = [
    // The promise in model terms: no step (fault, crash, recovery) ever changes what maps a page.
    { kind: 'always', id: 'device-layout-fixed', name: DEVICE_DAX_NAMES.layout, holds: (v) => isDeviceLayoutIntact(L, v.context) },
  ];
  if (config.app === 'fsync') {
    props.push({
      kind: 'sometimes',
      id: 'device-fsync-einval',
      name: DEVICE_DAX_NAMES.fsync,
      reached: (v) => v.matches('running.T0.storePointer') && v.context.volatile[L.vErr] === EINVAL,
    });
  }
  if (config.fileApp) {
    props.push({
      kind: 'sometimes',
      id: 'file-app-fails',
      name: DEVICE_DAX_NAMES.fileApp,
      reached: (v) => v.matches('running.T0.failed') && v.context.volatile[L.vErr] === EINVAL,
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

const act = <P>(fn: (c: DaxContext, e: DaxEvent, p: P) => void) => mutator<DaxContext, DaxEvent, P>(fn);

function deviceDaxImplementations(L: Layout) {
  return {
    guards: {
      /** Is the file a character device, not a regular file (ftruncate fails)? It always is here. */
      isNotRegularFile: () => true,
    },
    actions: {
      /** The fault handler of the device: a linear lookup, no allocation, no metadata. */
      dev_dax_huge_fault: act<{ t: number; m: number; b: number }>((c, _e, p) => void devDaxFault(c, L, p.t, p.m, p.b)),
      // dax_fops has no ->fsync and no ->setattr.
      fsync: act<{ t: number }>((c, _e, p) => void notImplemented(c, L, p.t)),
      fdatasync: act<{ t: number }>((c, _e, p) => void notImplemented(c, L, p.t)),
      msync: act<{ t: number }>((c, _e, p) => void notImplemented(c, L, p.t)),
      ftruncate: act<{ t: number }>((c, _e, p) => void notImplemented(c, L, p.t)),
    },
  };
}

export const deviceDax: Spec<DeviceDaxConfig, DaxContext> = {
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
  build: (config) => {
    let layout: Layout | undefined;
    const built = buildDaxSpec({
      id: 'device-dax',
      config: config as DaxRunConfig,
      mmapFlags: 'shared',
      faultPath: {
        // dax_fops.mmap_supported_flags = MAP_SYNC: mmap(MAP_SHARED_VALIDATE|MAP_SYNC) is accepted.
        mapSync: true,
        writeFault: (at) => [{ type: 'dev_dax_huge_fault', params: { ...at, write: true } }],
      },
      initial: deviceDaxInitial,
      program: onTheDevice(config),
      implementations: (L) => {
        layout = L;
        return deviceDaxImplementations(L);
      },
      properties: (L) => deviceDaxProperties(L, config),
    });
    const L = layout!;
    const app = appLayout();
    return { ...built, render: withOwnTexts(L, app, daxRenderer(L, app), deviceDaxTexts(L)) };
  },
};
