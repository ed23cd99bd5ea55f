/**
 * Run configurations of the device-dax spec. Expected verdicts and state counts: manifest.json.
 */
import type { DaxRunConfig } from '../common/spec.ts';
import { faultCostConfigs } from '../common/fault-cost.ts';
import { scaledUp } from '../common/scaled.ts';
import { px86Configs } from '../common/px86.ts';

/** A device-dax configuration: DOMAIN.md's application, written for the device unless `fileApp`. */
export interface DeviceDaxConfig extends DaxRunConfig {
  /** Run the application written for files unchanged: it sizes the "file" with ftruncate first. */
  fileApp?: boolean;
}

const common = { threads: 1, crashBudget: 1, dax: true, evict: true } as const;

export const deviceDaxConfigs: DeviceDaxConfig[] = [
  {
    name: 'trusting',
    description: 'the PMEM-programming-model application on /dev/dax0.0: userspace flushes, no fsync; nothing to allocate, nothing to commit',
    app: 'trusting',
    ...common,
    default: true,
  },
  {
    name: 'map-sync',
    description: 'the same application asks for MAP_SHARED_VALIDATE|MAP_SYNC: device-dax accepts it (mmap_supported_flags = MAP_SYNC)',
    app: 'trusting',
    mmapFlags: 'shared_validate_sync',
    ...common,
    default: false,
  },
  {
    name: 'fsync',
    description: 'the careful application calls fsync after its flushes: fsync fails with EINVAL (no ->fsync), and the data is durable anyway',
    app: 'fsync',
    ...common,
    default: true,
  },
  {
    name: 'file-app',
    description: 'the application written for files, unchanged: ftruncate on the character device fails with EINVAL and it gives up (no existing tooling)',
    app: 'trusting',
    fileApp: true,
    ...common,
    default: true,
  },
  {
    name: 'trusting-2threads',
    description: 'two threads share the device (sub-allocation by convention: each owns its pages), each trusting its flushes',
    app: 'trusting',
    ...common,
    threads: 2,
    default: true,
  },
  {
    name: 'virtual-nvdimm',
    description: 'device-dax on an emulated NVDIMM backed by a host file: a userspace flush reaches only the host page cache, and the device has no fsync to ask for more',
    app: 'fsync',
    ...common,
    platform: 'virtual-nvdimm',
    default: true,
  },
];

// Work inside one page fault against N unrelated dirty objects (other filesystems' metadata).
deviceDaxConfigs.push(...faultCostConfigs(deviceDaxConfigs[0]));

// Scaled up (specs/common/scaled.ts): three threads, four blocks, two power failures.
deviceDaxConfigs.push(scaledUp(deviceDaxConfigs, 'trusting', 'three threads append records on the character device, trusting their flushes, through two power failures'));

// x86 persistency (specs/common/px86.ts): the trusting application's flushes as Px86 instructions.
deviceDaxConfigs.push(...px86Configs(deviceDaxConfigs, 'trusting'));
