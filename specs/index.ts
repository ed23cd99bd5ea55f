/** Every spec daxcheck knows, in the order `daxcheck list` and the reports show them. */
import { baseline } from './baseline/machine.ts';
import type { AnySpec } from './common/spec.ts';
import { daxDetection } from './dax-detection/machine.ts';
import { daxFsyncTracking } from './dax-fsync-tracking/machine.ts';
import { fsyncLoop } from './fsync-loop/machine.ts';
import { deviceDax } from './device-dax/machine.ts';
import { mapDirect } from './map-direct/machine.ts';
import { mapSync } from './map-sync/machine.ts';
import { nova } from './nova/machine.ts';
import { noSyncFlag } from './nosync-flag/machine.ts';
import { pmemImmutable } from './pmem-immutable/machine.ts';
import { prepareWrite } from './prepare-write/machine.ts';

export const specs: AnySpec[] = [baseline, mapSync, pmemImmutable, mapDirect, prepareWrite, daxFsyncTracking, deviceDax, nova, daxDetection, noSyncFlag, fsyncLoop];

export function findSpec(name: string): AnySpec | undefined {
  return specs.find((s) => s.name === name);
}
