/**
 * The replay smoke set (issue 6, point 4): the traces CI replays on the real kernel, on ext4 and
 * XFS, after the unit tests. Each names the configuration, the property whose counterexample or
 * witness is replayed, and what it shows.
 */
import { NAMES } from '../../models/invariants.ts';
import { MAP_SYNC_NAMES } from '../../specs/map-sync/machine.ts';

export interface SmokeCase {
  spec: string;
  config: string;
  property: string;
  shows: string;
}

export const SMOKE: SmokeCase[] = [
  { spec: 'map-sync', config: 'trusting', property: NAMES.survives, shows: 'MAP_SYNC: data survives a crash after a userspace flush, no fsync' },
  { spec: 'baseline', config: 'trusting', property: NAMES.pointer, shows: 'plain MAP_SHARED without fsync loses the newly allocated block (Chinner)' },
  { spec: 'baseline', config: 'fsync', property: NAMES.survives, shows: 'fsync makes the block and its data durable' },
  { spec: 'map-sync', config: 'non-dax', property: MAP_SYNC_NAMES.refused, shows: 'MAP_SYNC gives EOPNOTSUPP on a non-DAX mount' },
  { spec: 'map-sync', config: 'generic-470', property: NAMES.survives, shows: 'xfstests generic/470: 1 MiB written through MAP_SYNC, crash before munmap, 1 MiB allocated' },
];
