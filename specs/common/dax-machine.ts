/**
 * The part of every spec's machine that is not the proposal: the phases around a crash and the
 * environment that acts on its own.
 *
 *   running    the application threads (one parallel region each) and, where configured, a third
 *              party (region M), while the journal may commit in the background, the CPU may
 *              evict dirty cache lines, other inodes may dirty metadata, and the power may fail;
 *   crashing   the power has failed; each dirty cache line reaches the media or not;
 *   recovered  after the remount and journal recovery;
 *   checked    after the application's own recovery check; with crash budget left it restarts.
 *
 * A spec supplies what its proposal changes (fault path, system calls, the application's program,
 * how third-party operations run, its own properties) and gets back a genuine XState machine plus
 * the event alphabet the explorer tries, in a fixed order.
 */
import { and, not, setup } from 'xstate';
import type { Measure } from '../../checker/system.ts';
import { appDimensions, appLayout, type AppLayout } from '../../models/app-layout.ts';
import { textsOf, type ActionText } from '../../models/action.ts';
import { daxRenderer } from '../../models/describe.ts';
import { withOwnTexts } from '../../models/describe-own.ts';
import { daxActions, daxGuards, type DaxEvent } from '../../models/implementations.ts';
import { pointerFollowsData, sharedProperties, type DaxProperty, type DaxView } from '../../models/invariants.ts';
import { PARTS, type FieldDecls, type Part } from '../../models/fields.ts';
import { bounds, checkDimensions, initialContext, Layout, type DaxContext, type Dimensions, type Features, type KernelHooks } from '../../models/layout.ts';
import { faultCost } from '../../models/measures.ts';
import { PERSISTENCY_SYMMETRY, persistency, persistencyFields } from '../../models/persistency.ts';
import { threadSymmetry, threadSymmetryProblem, type FieldSymmetry } from '../../models/symmetry.ts';
import type { MmapFlags } from '../../models/syscalls.ts';
import type { ThirdPartyPolicy } from '../../models/third-party.ts';
import { program, threadRegion, type FaultPath, type Step } from '../apps/pmem-log.ts';
import type { BuiltSpec, DaxRunConfig, Renderer } from './spec.ts';
import { thirdPartyRegion } from './third-party.ts';

export interface DaxMachineOptions<X extends FieldDecls = {}> {
  /** Machine id, e.g. `map-sync`. */
  id: string;
  config: DaxRunConfig;
  /** mmap flags the spec's application passes (a configuration may override them). */
  mmapFlags: MmapFlags;
  /** The proposal's write-fault path. */
  faultPath: FaultPath;
  /**
   * The proposal's own state: fields declared in its folder (models/fields.ts), packed after the
   * shared model's and read through `L.view()` by name.
   */
  state?: (dims: Dimensions) => X;
  /** The proposal's own on-disk inode flag, if it has one (its bit and name): see KernelHooks.inodeFlag. */
  inodeFlag?: { bit: number; name: string };
  /** Where the proposal's state meets the shared kernel model (models/layout.ts KernelHooks). */
  hooks?: (L: Layout<X>) => KernelHooks;
  /** Properties of this proposal, beyond the shared ones (`eventTypes`: the event alphabet's types, in order). */
  properties?: (L: Layout<X>, app: AppLayout, eventTypes: string[]) => DaxProperty[];
  /** How the proposal's filesystem runs third-party operations (needed when a configuration has any). */
  thirdPartyPolicy?: ThirdPartyPolicy;
  /** The proposal's own guards and actions, e.g. fallocate(FALLOC_FL_PMEM_IMMUTABLE). */
  implementations?: (L: Layout<X>) => { guards?: Record<string, unknown>; actions?: Record<string, unknown> };
  /** Changes the application's program (e.g. preallocate and set a flag after open). */
  program?: (steps: Step[], t: number, blocks: number) => Step[];
  /** Optional parts of the model the proposal uses (for the packing bounds). */
  features?: Features;
  /** Changes the initial context (e.g. a device with every block allocated and committed). */
  initial?: (L: Layout<X>, c: DaxContext) => void;
  /** The guard (params { t, m, b }) that tells a fatal write fault (SIGBUS) of the proposal. */
  sigbusGuard?: string;
  /**
   * The proposal's own environment: transitions added to `running` (e.g. NOVA's background
   * writeback) and their events, tried after the shared ones.
   */
  environment?: (L: Layout<X>) => { on: Record<string, unknown>; events: DaxEvent[] };
  /**
   * Something of the proposal's own (not a configured third party) takes mappings away or makes
   * them read-only, so every store and flush may fault again.
   */
  revocable?: boolean;
  /**
   * Words of the shared model's actions as this proposal's trace says them (e.g. `open` of a
   * character device): an action's text where the action itself is the shared one.
   */
  texts?: (L: Layout<X>) => Record<string, ActionText>;
  /** Wraps the shared renderer, e.g. to describe the proposal's own actions. */
  render?: (L: Layout<X>, app: AppLayout, shared: Renderer<DaxContext>) => Renderer<DaxContext>;
  /**
   * The proposal's threads are interchangeable (models/symmetry.ts): declared by the spec, with how
   * its own fields move when threads are renamed. A configuration gets the symmetry (for `check
   * --symmetry`) where nothing else tells its threads apart: two threads or more running the
   * same application, no third party (it works on blocks it names), no preallocation (fallocate
   * allocates in block order), no change to the initial state. A spec that changes the program
   * declares the symmetry only where it changes every thread's alike.
   */
  symmetry?: { fields?: Record<string, FieldSymmetry> };
  /**
   * The proposal fills a newly allocated block with ordinary (cached) stores, so a free block's
   * old media content can be read after a crash (NOVA's copy made with cached stores): the
   * crash-image reduction then treats free blocks as unobserved only at the last crash.
   */
  fillsNewBlocksThroughCache?: boolean;
}

/** Why a configuration's threads are not interchangeable although the spec declares them so, or null. */
export function symmetryProblem(o: Pick<DaxMachineOptions<FieldDecls>, 'symmetry' | 'initial'>, cfg: DaxRunConfig): string | null {
  if (!o.symmetry) return 'the spec declares no interchangeable threads';
  if (cfg.threads < 2) return 'one thread';
  if (cfg.thirdParty) return 'a third party works on the blocks it names';
  if (typeof cfg.app !== 'string') return 'a program of its own';
  if (cfg.appOptions?.prealloc) return 'fallocate allocates in block order';
  if (o.initial) return 'the spec changes the initial state';
  return null;
}

/** A program's steps with those of its fallbacks. */
function flatSteps(steps: Step[]): Step[] {
  return steps.flatMap((s) => [s, ...('fallback' in s && s.fallback ? flatSteps(s.fallback) : [])]);
}

export function buildDaxSpec<X extends FieldDecls = {}>(o: DaxMachineOptions<X>): BuiltSpec<DaxContext> {
  const cfg = o.config;
  const tp = cfg.thirdParty;
  const base = appDimensions(cfg.threads);
  const blocks = Math.max(base.blocks, cfg.blocks ?? 0);
  // Relocation and copy-on-write need free physical blocks to move to: two for one operation,
  // three for more. (Where space runs out, an operation or a copy fails with ENOSPC.)
  const spare = cfg.thirdParty ? 1 + Math.min(2, cfg.thirdParty.ops.length) : 0;
  const dims = { ...base, blocks, phys: Math.max(base.phys, blocks) + spare, unrelated: cfg.unrelated ?? 0 };
  const problem = checkDimensions(dims);
  if (problem) throw new Error(`${o.id}/${cfg.name}: ${problem}`);
  // The programs first: what they use decides which optional fields the layout declares.
  const flags = cfg.mmapFlags ?? o.mmapFlags;
  const programs = [...Array(dims.threads).keys()].map((t) => {
    const steps = typeof cfg.app === 'string' ? program(cfg.app, t, blocks, flags, cfg.appOptions) : cfg.app.program(t, blocks, flags);
    return o.program ? o.program(steps, t, blocks) : steps;
  });
  const allSteps = programs.flatMap(flatSteps);
  const features: Features = {
    thirdParty: !!cfg.thirdParty,
    extentTree: !!cfg.thirdParty?.ops.includes('split'),
    inodeFlags: o.inodeFlag?.bit,
    ...(allSteps.some((s) => s.op === 'openG' || s.op === 'syncG' || (s.op === 'write' && s.file === 'g')) ? { secondFile: true } : {}),
    ...(allSteps.some((s) => (s.op === 'open' || s.op === 'openG') && s.append) ? { append: true } : {}),
    ...o.features,
  };
  // x86 persistency (models/persistency.ts): its state exists only where the application asks.
  const px86 = cfg.appOptions?.persistency === 'px86';
  if (px86 && typeof cfg.app !== 'string') throw new Error(`${o.id}/${cfg.name}: Px86 flushes need the application of DOMAIN.md`);
  if (px86 && tp) throw new Error(`${o.id}/${cfg.name}: Px86 flushes with a third party are not modelled`);
  if (!px86 && (cfg.appOptions?.flushes || cfg.wcBuffers)) throw new Error(`${o.id}/${cfg.name}: flush sequences and WC buffers need appOptions.persistency 'px86'`);
  const ownFields = px86 ? ({ ...o.state?.(dims), ...persistencyFields(dims) } as unknown as X) : o.state?.(dims);
  const symmetryFields = px86 ? { ...o.symmetry?.fields, ...PERSISTENCY_SYMMETRY } : (o.symmetry?.fields ?? {});
  // The proposal's hooks see the layout they belong to, so they are attached once it exists.
  const hooks: KernelHooks = { inodeFlag: o.inodeFlag };
  const L = new Layout<X>(dims, { features, fields: ownFields, owner: `specs/${o.id}`, hooks });
  Object.assign(hooks, o.hooks?.(L));
  const app = appLayout();
  if (tp && !o.thirdPartyPolicy) throw new Error(`${o.id}/${cfg.name}: third-party operations need the spec's policy`);
  const policy: ThirdPartyPolicy | undefined = o.thirdPartyPolicy && { ...o.thirdPartyPolicy, ...tp?.policy };

  const regions: Record<string, unknown> = {};
  const appEvents: string[] = [];
  for (let t = 0; t < L.T; t++) {
    const { region, eventTypes } = threadRegion(t, programs[t], o.faultPath, {
      dax: cfg.dax,
      // Whether mmap with MAP_SYNC succeeds (MAP_SHARED|MAP_SYNC on a kernel without MAP_SYNC
      // "succeeds" too, as an ordinary mapping: that program has no fallback branch to choose).
      mapSyncGranted: (o.faultPath.mapSync && cfg.dax && cfg.platform !== 'virtio-pmem') || (!o.faultPath.mapSync && flags === 'shared_sync_unvalidated'),
      revocable: !!tp || !!o.revocable,
      sigbus: !!o.sigbusGuard || !!tp?.ops.some((op) => op === 'truncate'),
      sigbusGuard: o.sigbusGuard,
    });
    regions[`T${t}`] = region;
    appEvents.push(...eventTypes);
  }
  const third = tp ? thirdPartyRegion(tp.ops, tp.blocks ?? [...Array(L.B).keys()], !!hooks.refuses) : undefined;
  if (third) regions.M = third.region;

  const budget = { type: 'hasCrashBudget', params: { budget: cfg.crashBudget } } as const;
  const environment: Record<string, unknown> = {
    'jbd2.commit': { guard: 'isRunningTransactionDirty', actions: 'jbd2_journal_commit_transaction' },
  };
  if (cfg.crashBudget > 0) environment.power_fail = { guard: budget, target: 'crashing', actions: 'power_fail' };
  // A dirty line may be written back at any moment. That matters only on ADR: with eADR every
  // dirty line reaches the media at the power failure anyway, and on a virtualized NVDIMM a
  // write-back reaches only the host's page cache.
  const evicts = cfg.dax && cfg.evict && (cfg.platform ?? 'adr') === 'adr';
  if (evicts) environment['cpu.evict'] = { guard: 'isCacheLineDirty', actions: 'evict_cache_line' };
  if (!cfg.dax) environment['flusher.writeback'] = { guard: and([not('isDaxInode'), 'isCacheLineDirty']), actions: 'evict_cache_line' };
  // Other inodes keep dirtying metadata: after a commit the running transaction fills up again.
  if (L.U > 0) environment['other.dirty'] = { guard: 'hasRoomForUnrelated', actions: 'other_inode_dirty' };
  const ownEnvironment = o.environment?.(L);
  Object.assign(environment, ownEnvironment?.on);

  const own = o.implementations?.(L) ?? {};
  const x86 = px86 ? persistency(L as Layout, cfg.wcBuffers) : undefined;
  // Only non-temporal stores fill WC buffers, and only eADR without draining them loses them alone.
  const wcMayBeLost = px86 && cfg.platform === 'eadr' && (cfg.wcBuffers ?? 'volatile') === 'volatile' && /^movnti/.test(cfg.appOptions?.flushes ?? '');
  const initial = initialContext(L, { size: 0, dax: cfg.dax, platform: cfg.platform });
  (L as Layout).at(initial).unrelated.set(L.U);
  o.initial?.(L, initial);
  const actions = { ...daxActions(L, app, { thirdParty: policy, zeroing: cfg.zeroing }), ...x86?.actions, ...own.actions };
  const texts = { ...textsOf(actions), ...o.texts?.(L) };
  // The crash-image reduction (models/crash.ts), on unless the configuration turns it off.
  const reduce = cfg.crashBudget > 0 && cfg.crashReduction !== false;
  const crash = reduce ? { reduce, zeroingIsDurable: cfg.zeroing !== 'cached' && !o.fillsNewBlocksThroughCache, budget: cfg.crashBudget } : undefined;
  const machine = setup({
    types: {} as { context: DaxContext; events: DaxEvent },
    guards: { ...daxGuards(L, { thirdParty: policy, crash }), ...x86?.guards, ...own.guards } as ReturnType<typeof daxGuards>,
    actions: actions as ReturnType<typeof daxActions>,
  }).createMachine({
    id: o.id,
    initial: 'running',
    context: initial,
    states: {
      running: { type: 'parallel', states: regions as never, on: environment as never },
      // The crash image, one dirty word at a time (one way only where nothing can tell the two
      // apart), then the remount (models/crash.ts).
      crashing: {
        on: {
          'power.keep': { guard: 'mayReachMedia', actions: 'cache_line_reached_media' },
          // Px86 on eADR: a line still in a write-combining buffer may be lost (models/persistency.ts).
          'power.drop': wcMayBeLost
            ? [
                { guard: 'mayBeLost', actions: 'cache_line_lost' },
                { guard: 'mayLoseWcLine', actions: 'wc_buffer_lost' },
              ] as never
            : { guard: 'mayBeLost', actions: 'cache_line_lost' },
          ...(reduce ? { 'power.skip': { guard: 'isCrashDecisionUnobservable', actions: 'cache_line_unobservable' } } : {}),
          mount: { guard: 'isCrashImageComplete', target: 'recovered', actions: 'mount_and_recover' },
        },
      },
      recovered: { on: { 'app.recover': { target: 'checked', actions: 'app_recovery_check' } } },
      checked:
        cfg.crashBudget > 1 ? { on: { restart: { guard: budget, target: 'running', actions: 'restart' } } } : {},
    },
  });

  // The event alphabet, in the order the explorer tries it: threads, third party, environment.
  const events: DaxEvent[] = appEvents.map((type) => ({ type }));
  if (third) events.push(...third.events);
  events.push({ type: 'jbd2.commit' });
  if (L.U > 0) events.push({ type: 'other.dirty' });
  if (evicts) for (let p = 0; p < L.P; p++) events.push({ type: 'cpu.evict', p });
  if (!cfg.dax) for (let p = 0; p < L.P; p++) events.push({ type: 'flusher.writeback', p });
  if (cfg.crashBudget > 0) events.push({ type: 'power_fail' }, { type: 'power.keep' }, { type: 'power.drop' }, ...(reduce ? [{ type: 'power.skip' }] : []), { type: 'mount' });
  events.push({ type: 'app.recover' });
  if (cfg.crashBudget > 1) events.push({ type: 'restart' });
  if (ownEnvironment) events.push(...ownEnvironment.events);

  const eventTypes = events.map((e) => e.type);
  // With Px86, states also show pending flushes and WC buffers (models/persistency.ts).
  const plain = daxRenderer(L, app, texts);
  const shared = x86 ? withOwnTexts(L as Layout, app, plain, x86.render) : plain;
  const symmetric = symmetryProblem(o as DaxMachineOptions<FieldDecls>, cfg) === null && threadSymmetryProblem(L as Layout<FieldDecls>, symmetryFields) === null;
  const measures: Measure<DaxView>[] = cfg.measurement?.name === faultCost.name ? [faultCost.measure(L, eventTypes)] : [];
  return {
    machine,
    events,
    bounds: bounds(L),
    properties: [...sharedProperties(L, app, eventTypes), ...(px86 ? [pointerFollowsData(L, app)] : []), ...(o.properties?.(L, app, eventTypes) ?? [])],
    measures,
    byteName: (field, index) => (PARTS.includes(field as Part) ? L.packing.byteName(field as Part, index) : undefined),
    // Each action's own text (kernelAction) where it has one, else the shared model's words.
    render: o.render ? o.render(L, app, shared) : shared,
    ...(symmetric ? { symmetry: threadSymmetry(L as Layout<FieldDecls>, symmetryFields) } : {}),
  };
}
