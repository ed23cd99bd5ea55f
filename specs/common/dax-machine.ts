/**
 * The part of every spec's machine that is not the proposal: the phases around a crash and the
 * environment that acts on its own.
 *
 *   running    the application threads (one parallel region each), while the journal may commit
 *              in the background, the CPU may evict dirty cache lines, and the power may fail;
 *   recovered  after the power failure and journal recovery;
 *   checked    after the application's own recovery check; with crash budget left it restarts.
 *
 * A spec supplies its proposal's fault path (and, later, its own extra actors) and gets back a
 * genuine XState machine plus the event alphabet the explorer tries, in a fixed order.
 */
import { and, not, setup } from 'xstate';
import { appLayout } from '../../models/app-layout.ts';
import { daxActions, daxGuards, type DaxEvent } from '../../models/implementations.ts';
import { sharedProperties, type DaxProperty } from '../../models/invariants.ts';
import { bounds, checkDimensions, initialContext, Layout, type DaxContext } from '../../models/layout.ts';
import type { MmapFlags } from '../../models/syscalls.ts';
import { program, threadRegion, type FaultPath } from '../apps/pmem-log.ts';
import { appDimensions } from '../../models/app-layout.ts';
import type { BuiltSpec, DaxRunConfig } from './spec.ts';
import { daxRenderer } from '../../models/describe.ts';

export interface DaxMachineOptions {
  /** Machine id, e.g. `map-sync`. */
  id: string;
  config: DaxRunConfig;
  /** mmap flags the spec's application passes (a configuration may override them). */
  mmapFlags: MmapFlags;
  /** The proposal's write-fault path. */
  faultPath: FaultPath;
  /** Properties of this proposal, beyond the shared ones. */
  properties?: (L: Layout) => DaxProperty[];
}

export function buildDaxSpec(o: DaxMachineOptions): BuiltSpec<DaxContext> {
  const cfg = o.config;
  const base = appDimensions(cfg.threads);
  const blocks = Math.max(base.blocks, cfg.blocks ?? 0);
  const dims = { ...base, blocks, phys: Math.max(base.phys, blocks), unrelated: 0 };
  const problem = checkDimensions(dims);
  if (problem) throw new Error(`${o.id}/${cfg.name}: ${problem}`);
  const L = new Layout(dims);
  const app = appLayout();

  const regions: Record<string, unknown> = {};
  const appEvents: string[] = [];
  for (let t = 0; t < L.T; t++) {
    const flags = cfg.mmapFlags ?? o.mmapFlags;
    const steps = typeof cfg.app === 'string' ? program(cfg.app, t, L.B, flags, cfg.appOptions) : cfg.app.program(t, L.B, flags);
    const { region, eventTypes } = threadRegion(t, steps, o.faultPath, {
      dax: cfg.dax,
      mapSyncGranted: o.faultPath.mapSync && cfg.dax && cfg.platform !== 'virtio-pmem',
    });
    regions[`T${t}`] = region;
    appEvents.push(...eventTypes);
  }

  const budget = { type: 'hasCrashBudget', params: { budget: cfg.crashBudget } } as const;
  const environment: Record<string, unknown> = {
    'jbd2.commit': { guard: 'isRunningTransactionDirty', actions: 'jbd2_journal_commit_transaction' },
    power_fail: {
      guard: and([budget, 'isCrashImagePossible']),
      target: 'recovered',
      actions: ['power_fail', 'journal_recover'],
    },
  };
  // A dirty line may be written back at any moment. That matters only on ADR: with eADR every
  // dirty line reaches the media at the power failure anyway, and on a virtualized NVDIMM a
  // write-back reaches only the host's page cache.
  const evicts = cfg.dax && cfg.evict && (cfg.platform ?? 'adr') === 'adr';
  if (evicts) environment['cpu.evict'] = { guard: 'isCacheLineDirty', actions: 'evict_cache_line' };
  if (!cfg.dax) environment['flusher.writeback'] = { guard: and([not('isDaxInode'), 'isCacheLineDirty']), actions: 'evict_cache_line' };

  const machine = setup({
    types: {} as { context: DaxContext; events: DaxEvent },
    guards: daxGuards(L),
    actions: daxActions(L, app),
  }).createMachine({
    id: o.id,
    initial: 'running',
    context: initialContext(L, { size: 0, dax: cfg.dax, platform: cfg.platform }),
    states: {
      running: { type: 'parallel', states: regions as never, on: environment as never },
      recovered: { on: { 'app.recover': { target: 'checked', actions: 'app_recovery_check' } } },
      checked:
        cfg.crashBudget > 1 ? { on: { restart: { guard: budget, target: 'running', actions: 'restart' } } } : {},
    },
  });

  // The event alphabet, in the order the explorer tries it: threads, then the environment.
  const events: DaxEvent[] = appEvents.map((type) => ({ type }));
  events.push({ type: 'jbd2.commit' });
  if (evicts) for (let p = 0; p < L.P; p++) events.push({ type: 'cpu.evict', p });
  if (!cfg.dax) for (let p = 0; p < L.P; p++) events.push({ type: 'flusher.writeback', p });
  for (let image = 0; image < 1 << (L.P * L.W); image++) events.push({ type: 'power_fail', image });
  events.push({ type: 'app.recover' });
  if (cfg.crashBudget > 1) events.push({ type: 'restart' });

  const b = bounds(L);
  const eventTypes = events.map((e) => e.type);
  return {
    machine,
    events,
    bounds: b,
    properties: [...sharedProperties(L, app, eventTypes), ...(o.properties?.(L) ?? [])],
    render: daxRenderer(L, app),
  };
}
