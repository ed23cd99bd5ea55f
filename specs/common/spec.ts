/**
 * What a spec is: a proposal from the thread as an XState machine, its run configurations, the
 * properties it is checked against, and how its states and steps read in kernel terms. Expected
 * verdicts and state counts live apart, in the spec's manifest.json.
 */
import type { EventObject, AnyStateMachine } from 'xstate';
import type { Measure, Property } from '../../checker/system.ts';
import type { MachineView } from '../../checker/xstate/compile.ts';
import type { ByteContext } from '../../checker/xstate/mutator.ts';
import type { MmapFlags } from '../../models/syscalls.ts';
import type { Platform } from '../../models/layout.ts';
import type { ThirdPartyOp, ThirdPartyPolicy } from '../../models/third-party.ts';
import type { Zeroing } from '../../models/faults.ts';
import type { WcBuffers } from '../../models/persistency.ts';
import type { AppName, AppOptions, Step } from '../apps/pmem-log.ts';

/** A run configuration: the bounds and environment one exploration runs in. */
export interface RunConfig {
  /** Name used on the command line (`--config trusting`). */
  name: string;
  /** One line: what this configuration shows. */
  description: string;
  /** Part of the default set that `daxcheck check` runs without --config. */
  default: boolean;
  /**
   * Scaled up beyond what the test suite explores (specs/common/scaled.ts): three threads, two
   * crashes. Its verdicts are in the README, from `check --symmetry --compact` and `simulate`; the
   * tests only build it and check its manifest entry.
   */
  scaled?: boolean;
  /**
   * Violations this configuration shows by design, not as a flaw of the proposal: property id to
   * the reason, e.g. `{ 'pointer-after-alloc': 'the punch deletes the block the record points to' }`.
   * Written by hand, like the manifest's expected verdicts; the reports set these apart from bugs.
   */
  byDesign?: Record<string, string>;
}

/** Configuration of the specs built on the application of DOMAIN.md (specs/common/dax-machine.ts). */
export interface DaxRunConfig extends RunConfig {
  /** Which application runs: a flavour of DOMAIN.md's, or a program of its own (a scenario). */
  app: AppName | CustomApp;
  /** File blocks, when more than the application's structure needs (1 + threads). */
  blocks?: number;
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
  /** The platform's persistence domain; ADR when not given. */
  platform?: Platform;
  /**
   * With Px86 flushes (`appOptions.persistency`): whether eADR's power-fail flush drains the CPU's
   * write-combining buffers too (`drained`) or only its caches (`volatile`, the default).
   */
  wcBuffers?: WcBuffers;
  /**
   * A third party (another process, or the filesystem's background work) runs these operations
   * concurrently, each at most once, on per-block operations' `blocks` (default: all). `policy`
   * overrides the proposal's way of running them (buggy variants).
   */
  thirdParty?: { ops: ThirdPartyOp[]; blocks?: number[]; policy?: Partial<ThirdPartyPolicy> };
  /** Unrelated dirty metadata objects (other inodes) in the running transaction, refilled at any time. */
  unrelated?: number;
  /** How a newly allocated block is zeroed: durably (default) or, a bug, through the cache. */
  zeroing?: Zeroing;
  /**
   * Crash-image reduction (models/crash.ts): decisions on dirty words nothing can observe are not
   * branched on. On unless false (`check --no-crash-reduction` sets it on every configuration).
   */
  crashReduction?: boolean;
  /**
   * This configuration is one point of a measurement series (e.g. fault cost at N = 4). `series`
   * names the series when a spec has several variants worth plotting (default: the spec's name).
   */
  measurement?: { name: string; x: number; series?: string };
}

/**
 * An application program other than DOMAIN.md's, e.g. a replay scenario ("write every block of a
 * MAP_SYNC mapping, then crash before munmap"). Steps are those of specs/apps/pmem-log.ts.
 */
export interface CustomApp {
  name: string;
  program(t: number, blocks: number, flags: MmapFlags): Step[];
}

/** An action a trace step ran, with the step's event and the context before and after it. */
export interface StepAction<C extends ByteContext> {
  type: string;
  params: unknown;
  event: EventObject;
  before: C;
  after: C;
}

/**
 * What a named field of a rendered state is, as the model declares it: durable (media, committed
 * metadata), the journal, a cache (CPU cache lines, the page cache), page tables and mappings,
 * other volatile state (in-memory metadata, locks), or ghost (bookkeeping for properties only).
 */
export type FieldKind = 'durable' | 'journal' | 'cache' | 'pagetable' | 'volatile' | 'ghost';
export const FIELD_KINDS: readonly FieldKind[] = ['durable', 'journal', 'cache', 'pagetable', 'volatile', 'ghost'];

/** A named field's kind, and for a volatile field the durable field it runs ahead of. */
export interface FieldInfo {
  kind: FieldKind;
  /**
   * The durable field a flush, commit or writeback brings this one to (`block 1` → `block 1
   * (committed)`, `cache 1.0` → `pmem 1.0`): the argument compares the two before a crash.
   */
  durable?: string;
}

/**
 * A waiting thread in a deadlocked state: what it holds, what it waits for and for whom, in
 * kernel terms (one node and one edge of the wait-for graph).
 */
export interface WaitEdge {
  /** The waiting actor, as steps name it (`T0`, `jbd2`). */
  actor: string;
  /** What it holds, one phrase each ("the page lock of file2 page 0 (ext4_write_begin)"). */
  holds: string[];
  /** What it waits for, short ("lock_page(file2 page 0)"). */
  waitsFor: string;
  /** The actor that must move first (holds what it waits for). */
  on: string;
  /** Where it waits (the kernel function), if known. */
  where?: string;
}

/** What the file (or device) holds after a crash and recovery. */
export type DurableSummary = { text: string } & Record<string, unknown>;

/** How a spec's states and steps read in kernel terms. */
export interface Renderer<C extends ByteContext> {
  /** Who takes a step with this event: `T0`, `jbd2`, `cpu`, `power`, ... */
  actor(event: EventObject): string;
  /** The step in kernel terms, without the actor. */
  step(event: EventObject, actions: StepAction<C>[]): string;
  /** Results of the step a program can compare (e.g. `{ errno: 'EOPNOTSUPP' }`), or null. */
  outcome(event: EventObject, before: C, after: C): Record<string, unknown> | null;
  /** The state as named fields; a step's changes are the fields that differ. */
  state(context: C): Record<string, string>;
  /**
   * What each named field of `state` is (its kind, and the durable twin of a volatile field), as
   * the model declares it: the timeline colours lanes by it. Optional; fields without it are
   * drawn as "not declared".
   */
  fields?(context: C): Record<string, FieldInfo>;
  /** When the trace ends after a crash, the durable state recovery rebuilt; else null. */
  afterCrash(view: MachineView<C>): DurableSummary | null;
  /**
   * For a deadlocked state: who waits for what, one line per waiter, in kernel terms (e.g.
   * "T0 holds the page lock of file2 page 0 (ext4_write_begin) and waits for the jbd2 commit"),
   * so the cycle of waits can be read. Optional.
   */
  waits?(view: MachineView<C>): string[];
  /** For a deadlocked state: the wait-for graph, one entry per waiting actor. Optional. */
  waitGraph?(view: MachineView<C>): WaitEdge[];
}

/** A spec instantiated for one configuration, ready for the explorer. */
export interface BuiltSpec<C extends ByteContext = ByteContext> {
  machine: AnyStateMachine;
  events: EventObject[];
  bounds: Record<string, number | number[]>;
  properties: Property<MachineView<C>>[];
  /** Quantities measured over every transition (e.g. fault cost), if any. */
  measures?: Measure<MachineView<C>>[];
  /**
   * The declared name of element `index` of context field `field` (e.g. `volatile`, 12 →
   * `pte[1][0]`), for messages about a byte such as a value beyond its bound.
   */
  byteName?(field: string, index: number): string | undefined;
  render: Renderer<C>;
  /**
   * Interchangeable threads (or processes), where the spec declares them and they are so in this
   * configuration: `check --symmetry` then explores one representative of each class of states
   * that differ only by a permutation of them (checker/symmetry.ts).
   */
  symmetry?: SpecSymmetry;
}

/**
 * A symmetry of a spec's machine: interchangeable parallel regions and, for each permutation of
 * them, how it moves the context's bytes.
 */
export interface SpecSymmetry {
  /** What is interchangeable, in a sentence. */
  description: string;
  /** Paths of the interchangeable regions, e.g. `running.T0`, `running.T1`. */
  regions: string[];
  /**
   * States (by a state node active in them, e.g. `crashing`) that are stored as they are, not
   * reduced: where the permutations are no automorphism, though what follows is (see
   * checker/symmetry.ts `Symmetry.reduces`).
   */
  except?: string[];
  /**
   * Every permutation but the identity: region i's state moves to region `order[i]`; byte j of
   * context field `f`'s image is byte `context[f].source[j]` of the state, through
   * `context[f].values[j]` when that is not null.
   */
  permutations: { order: number[]; context: Record<string, { source: Int32Array; values: (Uint8Array | null)[] }> }[];
}

export interface Spec<Cfg extends RunConfig = RunConfig, C extends ByteContext = ByteContext> {
  /** Name used on the command line, e.g. `map-sync`; also its folder under specs/. */
  name: string;
  /** The proposal, e.g. `MAP_SYNC (MAP_SHARED_VALIDATE|MAP_SYNC)`. */
  title: string;
  /** Seeds (../shared/seeds) the spec follows. */
  sources: string[];
  /** What the proposal promises, in a sentence or two. */
  promise: string;
  /**
   * What the proposal allows and gives up, for the side-by-side comparison: capability name to a
   * short answer, e.g. `{ 'sub-allocation of a namespace': 'yes', reflink: 'yes (invalidates mappings)' }`.
   */
  capabilities: Record<string, string>;
  configs: Cfg[];
  build(config: Cfg): BuiltSpec<C>;
}

/** Any spec, whatever its configuration and context types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = Spec<any, any>;
