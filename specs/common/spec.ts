/**
 * What a spec is: a proposal from the thread as an XState machine over the shared model, its run
 * configurations, and the properties it is checked against. Expected verdicts and state counts
 * live apart, in specs/manifest.json.
 */
import type { AnyStateMachine, EventObject } from 'xstate';
import type { AppLayout } from '../../models/app-layout.ts';
import type { DaxProperty } from '../../models/invariants.ts';
import type { Layout } from '../../models/layout.ts';
import type { MmapFlags } from '../../models/syscalls.ts';
import type { AppName, AppOptions } from '../apps/pmem-log.ts';

/** A run configuration: the bounds and environment one exploration runs in. */
export interface RunConfig {
  /** Name used on the command line (`--config trusting`). */
  name: string;
  /** One line: what this configuration shows. */
  description: string;
  /** Which application runs. */
  app: AppName;
  /** Variations of the application (sync call, preallocation, munmap). */
  appOptions?: AppOptions;
  /** Application threads. */
  threads: number;
  /** Power failures allowed in one run (the application restarts after each but the last). */
  crashBudget: number;
  /** The file has S_DAX (a DAX mount); false stands for a page-cache mount. */
  dax: boolean;
  /** The CPU may evict dirty cache lines at any time (always true on real hardware). */
  evict: boolean;
  /** mmap flags the application passes, when not the spec's usual ones. */
  mmapFlags?: MmapFlags;
  /** Part of the default set that `daxcheck check` runs without --config. */
  default: boolean;
}

/** A spec instantiated for one configuration, ready for the explorer. */
export interface BuiltSpec {
  machine: AnyStateMachine;
  events: EventObject[];
  bounds: Record<string, number[]>;
  properties: DaxProperty[];
  layout: Layout;
  app: AppLayout;
}

export interface Spec {
  /** Name used on the command line, e.g. `map-sync`. */
  name: string;
  /** The proposal, e.g. `MAP_SYNC (MAP_SHARED_VALIDATE|MAP_SYNC)`. */
  title: string;
  /** Seeds (../shared/seeds) the spec follows. */
  sources: string[];
  /** What the proposal promises, in a sentence or two. */
  promise: string;
  configs: RunConfig[];
  build(config: RunConfig): BuiltSpec;
}
