/** Every spec daxcheck knows, in the order `daxcheck list` and the reports show them. */
import { baseline } from './baseline/machine.ts';
import type { Spec } from './common/spec.ts';
import { mapSync } from './map-sync/machine.ts';

export const specs: Spec[] = [baseline, mapSync];

export function findSpec(name: string): Spec | undefined {
  return specs.find((s) => s.name === name);
}
