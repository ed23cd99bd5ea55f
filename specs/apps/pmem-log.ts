/**
 * The application of ../shared/DOMAIN.md ("Why the proposals exist"), after Dave Chinner's
 * counterexample (seed 002, 2016-09-14): a persistent structure that grows from block 0 into
 * block 1 + t, stores its data there, stores a pointer to it in block 0, and flushes.
 *
 * Two flavours:
 *  - `trusting`: the "PMEM programming model". It believes its record durable once the cache
 *    lines are flushed from userspace (clwb + sfence), and never calls fsync.
 *  - `fsync`: makes the data durable with fsync before it publishes the pointer, and fsyncs
 *    again before it relies on the pointer.
 * Each thread runs the program as a region of the spec's machine; every step is a state, every
 * instruction or system call an event of that thread (`T0.store`, `T0.mmap`, ...). A store that
 * needs a page fault stays in its state while the fault is handled, as the CPU retries it.
 */
import { and } from 'xstate';
import { appLayout } from '../../models/app-layout.ts';
import type { Instruction } from '../../models/persistency.ts';
import type { FileName, MmapFlags } from '../../models/syscalls.ts';

export type AppName = 'trusting' | 'fsync';

/**
 * The x86 flush and fence instructions (models/persistency.ts `Instruction`), spelt out here so
 * that the report's source locator reads the event keys they make from this file alone.
 */
export type CpuInstruction = 'clwb' | 'clflushopt' | 'clflush' | 'sfence' | 'mfence';
// The two lists are the same.
const sameInstructions: [CpuInstruction] extends [Instruction] ? ([Instruction] extends [CpuInstruction] ? true : never) : never = true;
void sameInstructions;

/** Variations of the application a configuration can choose. */
export interface AppOptions {
  /** How the careful flavour syncs: fsync(fd), fdatasync(fd) or msync(addr, len, MS_SYNC). */
  sync?: 'fsync' | 'fdatasync' | 'msync';
  /** Preallocate the file with fallocate(fd, 0, 0, len) (unwritten extents) before mapping it. */
  prealloc?: boolean;
  /** munmap the mapping when done. */
  munmap?: boolean;
  /**
   * `px86`: the application's flushes are separate x86 instructions with the Px86 ordering
   * (models/persistency.ts) instead of the one-step "clwb + sfence".
   */
  persistency?: 'px86';
  /** With `persistency: 'px86'`: the flush sequence the application uses (FLUSH_SEQUENCES). */
  flushes?: FlushSequence;
}

/**
 * How the application makes a store durable from userspace under Px86 (`appOptions.flushes`):
 * the correct sequences and the faulty ones.
 */
export const FLUSH_SEQUENCES = {
  clwb: 'store; clwb(line); sfence',
  clflushopt: 'store; clflushopt(line); sfence',
  clflush: 'store; clflush(line)',
  'clwb-mfence': 'store; clwb(line); mfence',
  movnti: 'movnti (non-temporal store); sfence',
  'no-fence': 'store; clwb(line), and no fence anywhere (forgot the sfence)',
  'wrong-line': 'store; clwb of the neighbouring line instead of the one stored; sfence',
  'movnti-no-fence': 'movnti (non-temporal store) and no fence anywhere',
} as const;
export type FlushSequence = keyof typeof FLUSH_SEQUENCES;
/** The sequences that make every store durable in order (the others are the faulty variants). */
export const CORRECT_FLUSHES: readonly FlushSequence[] = ['clwb', 'clflushopt', 'clflush', 'clwb-mfence', 'movnti'];

export type Step =
  /** open(f): O_RDWR, or with `append` O_RDWR|O_APPEND. */
  | { name: string; op: 'open'; append?: boolean }
  /** open of the second file g (Features.secondFile), which shares the running transaction. */
  | { name: string; op: 'openG'; append?: boolean }
  /**
   * write(2) or pwrite(2) of one whole block (`value` in word 0, zeros elsewhere) to file `file`:
   * at block b, or for write(2) on an O_APPEND descriptor at the end of the file.
   */
  | { name: string; op: 'write'; file: FileName; call: 'write' | 'pwrite'; b: number; value: number; believe?: boolean }
  /** fsync or fdatasync of the second file g. */
  | { name: string; op: 'syncG'; call: 'fsync' | 'fdatasync'; believe?: boolean }
  | { name: string; op: 'ftruncate'; blocks: number }
  | { name: string; op: 'mmap'; flags: MmapFlags; fallback?: Step[] }
  | { name: string; op: 'store'; b: number; w: number; value: number; believe?: boolean; nt?: boolean }
  | { name: string; op: 'flush'; b: number; believe?: boolean; w?: number }
  /** An x86 flush or fence instruction (Px86 configurations): line w of block b for a line flush. */
  | { name: string; op: 'cpu'; insn: CpuInstruction; b?: number; w?: number; believe?: boolean }
  | { name: string; op: 'fallocate'; from: number; to: number }
  | { name: string; op: 'sync'; call: 'fsync' | 'fdatasync' | 'msync'; believe?: boolean }
  | { name: string; op: 'munmap' }
  /**
   * A proposal's own call, e.g. fallocate(FALLOC_FL_PMEM_IMMUTABLE): event `T<t>.<call>` runs
   * action `action` with params { t, m, ...params }. With `fails`, the call may fail: a guard
   * named `fails` (same params) decides, and the thread continues with `fallback` (its own
   * steps) or, without one, ends in `failed`.
   */
  | {
      name: string;
      op: 'syscall';
      call: string;
      action: string;
      params?: Record<string, unknown>;
      fails?: string;
      fallback?: Step[];
      believe?: boolean;
    };

/** An XState action or guard reference. */
export type Ref = { type: string; params?: Record<string, unknown> };

/** How the proposal's kernel handles a DAX write fault (the part specs differ in). */
export interface FaultPath {
  /** Whether mmap understands MAP_SYNC (MAP_SHARED_VALIDATE|MAP_SYNC) at all. */
  mapSync: boolean;
  /** Actions of a write fault on a DAX mapping at { t, m, b }. */
  writeFault(at: { t: number; m: number; b: number }): Ref[];
  /**
   * Actions of a write to a read-only entry of a written block; default `dax_pfn_mkwrite`. Null:
   * the proposal handles such a write as a full write fault (NOVA copies the page again).
   */
  pfnMkwrite?: ((at: { t: number; m: number; b: number }) => Ref[]) | null;
}

const app = appLayout();

/** The program of thread t in flavour `name`, mapping the file with `flags`. */
export function program(name: AppName, t: number, blocks: number, flags: MmapFlags, o: AppOptions = {}): Step[] {
  const data = app.dataBlock(t);
  const call = o.sync ?? 'fsync';
  const head: Step[] = [
    { name: 'open', op: 'open' },
    o.prealloc
      ? { name: 'fallocate', op: 'fallocate', from: 0, to: blocks }
      : { name: 'ftruncate', op: 'ftruncate', blocks },
  ];
  const tail: Step[] = o.munmap ? [{ name: 'munmap', op: 'munmap' }] : [];
  const header: Step[] = [
    { name: 'storeHeader', op: 'store', b: app.header, w: app.headerWord, value: app.headerValue },
    { name: 'flushHeader', op: 'flush', b: app.header, w: app.headerWord },
  ];
  const trusting: Step[] = [
    ...header,
    { name: 'storeData', op: 'store', b: data, w: app.dataWord, value: app.dataValue(t) },
    { name: 'flushData', op: 'flush', b: data, w: app.dataWord },
    { name: 'storePointer', op: 'store', b: app.header, w: app.pointerWord(t), value: app.pointerValue(t) },
    { name: 'flushPointer', op: 'flush', b: app.header, w: app.pointerWord(t), believe: true },
  ];
  const careful: Step[] = [
    ...header,
    { name: 'storeData', op: 'store', b: data, w: app.dataWord, value: app.dataValue(t) },
    { name: 'flushData', op: 'flush', b: data, w: app.dataWord },
    { name: `${call}Data`, op: 'sync', call },
    { name: 'storePointer', op: 'store', b: app.header, w: app.pointerWord(t), value: app.pointerValue(t) },
    { name: 'flushPointer', op: 'flush', b: app.header, w: app.pointerWord(t) },
    { name: `${call}Pointer`, op: 'sync', call, believe: true },
  ];
  // Where MAP_SYNC is refused (EOPNOTSUPP), the application falls back to MAP_SHARED and fsync.
  const fallback = ([{ name: 'mmap', op: 'mmap', flags: 'shared' }, ...careful, ...tail] as Step[]).map(
    (s): Step => ({ ...s, name: `fallback_${s.name}` }),
  );
  const main = name === 'trusting' ? trusting : careful;
  return [
    ...head,
    // Where MAP_SYNC may be refused (EOPNOTSUPP), the application falls back.
    { name: 'mmap', op: 'mmap', flags, fallback: flags === 'shared_validate_sync' || flags === 'shared_sync_unvalidated' ? fallback : undefined },
    ...(o.persistency === 'px86' ? px86Steps(main, o.flushes ?? 'clwb') : main),
    ...tail,
  ];
}

/** The line a `wrong-line` flush hits instead of line w: the one before it (line 1 for line 0). */
export const wrongLine = (w: number) => (w === 0 ? 1 : w - 1);

/**
 * The program's stores and flushes as x86 instructions in flush sequence `seq`: every `flush` of
 * the line just stored becomes the sequence's line flush and fence (or only a fence after
 * non-temporal stores, or nothing). Where a flush step disappears, what the application believes
 * at it moves to the step before.
 */
export function px86Steps(steps: Step[], seq: FlushSequence): Step[] {
  const nt = seq === 'movnti' || seq === 'movnti-no-fence';
  const fence = seq === 'no-fence' || seq === 'movnti-no-fence' ? null : seq === 'clwb-mfence' ? 'mfence' : 'sfence';
  const insn = seq === 'clflushopt' ? 'clflushopt' : seq === 'clflush' ? 'clflush' : 'clwb';
  const out: Step[] = [];
  for (const s of steps) {
    if (s.op === 'store') {
      out.push(nt ? { ...s, nt: true } : s);
      continue;
    }
    if (s.op !== 'flush') {
      out.push(s);
      continue;
    }
    const w = s.w ?? 0;
    const seqSteps: Extract<Step, { op: 'cpu' }>[] = [];
    if (!nt) seqSteps.push({ name: s.name, op: 'cpu', insn, b: s.b, w: seq === 'wrong-line' ? wrongLine(w) : w });
    if (fence && insn !== 'clflush') seqSteps.push({ name: seqSteps.length ? `${s.name}_${fence}` : s.name, op: 'cpu', insn: fence });
    if (seqSteps.length) {
      if (s.believe) seqSteps[seqSteps.length - 1] = { ...seqSteps[seqSteps.length - 1], believe: true };
      out.push(...seqSteps);
    } else if (s.believe) {
      out[out.length - 1] = { ...(out[out.length - 1] as Step & { believe?: boolean }), believe: true } as Step;
    }
  }
  return out;
}

export interface RegionOptions {
  /** The file is S_DAX: stores fault through dax_iomap_fault, else through page_mkwrite. */
  dax: boolean;
  /**
   * Whether mmap(MAP_SHARED_VALIDATE|MAP_SYNC) succeeds. That depends only on the kernel and the
   * mount, both fixed for a configuration, so the region contains only the branch that runs: the
   * main program, or (EOPNOTSUPP) the fallback; the other could never fire. The branch's guard
   * still asks the model's mmap, so the choice is checked, not assumed.
   */
  mapSyncGranted: boolean;
  /** A fault may end in SIGBUS (a third party shrank the file; a proposal's own fatal fault). */
  sigbus?: boolean;
  /** The guard (params { t, m, b }) that tells a fatal fault; default `isBeyondEof`. */
  sigbusGuard?: string;
  /**
   * Something other than the thread can take page-table entries away (truncate, hole punch,
   * invalidation). Without it, only a thread's first store to a block can fault, and no fault
   * transitions are generated for the later ones: they could never fire.
   */
  revocable?: boolean;
}

/** The XState region (a compound state) running `steps` as thread t, and the event types it uses. */
export function threadRegion(t: number, steps: Step[], kernel: FaultPath, options: RegionOptions) {
  const T = `T${t}`;
  const m = t;
  const states: Record<string, unknown> = {};
  const types = new Set<string>();
  const on = (type: string) => {
    types.add(`${T}.${type}`);
    return `${T}.${type}`;
  };
  const believe = (s: { believe?: boolean }): Ref[] => (s.believe ? [{ type: 'app_believes_durable', params: { t } }] : []);

  // Blocks this thread has already made writable, along the program's path so far.
  let faulted = new Set<number>();
  // Whether some step can end in the `failed` state.
  let failed = false;
  const addSteps = (list: Step[], after: string) => {
    // Where MAP_SYNC is refused, the rest of the main program is never reached: stop at mmap.
    const stop = list.findIndex((s) => s.op === 'mmap' && s.fallback && !options.mapSyncGranted);
    if (stop >= 0) list = list.slice(0, stop + 1);
    list.forEach((s, i) => {
      const next = i + 1 < list.length ? list[i + 1].name : after;
      states[s.name] = stepState(s, next);
      const fallback = (s.op === 'mmap' && !options.mapSyncGranted) || (s.op === 'syscall' && s.fails) ? s.fallback : undefined;
      if (fallback) {
        const saved = faulted;
        faulted = new Set(saved);
        addSteps(fallback, after);
        faulted = saved;
      }
    });
  };

  const stepState = (s: Step, next: string) => {
    switch (s.op) {
      case 'open':
        return { on: { [on('open')]: { target: next, actions: { type: 'open', params: s.append ? { t, append: true } : { t } } } } };
      case 'openG':
        return { on: { [on('open')]: { target: next, actions: { type: 'open_g', params: s.append ? { t, append: true } : { t } } } } };
      case 'write':
        return {
          on: { [on(s.call)]: { target: next, actions: [{ type: s.call, params: { t, file: s.file, b: s.b, value: s.value } }, ...believe(s)] } },
        };
      case 'syncG':
        return { on: { [on(s.call)]: { target: next, actions: [{ type: `${s.call}_g`, params: { t } }, ...believe(s)] } } };
      case 'ftruncate':
        return { on: { [on('ftruncate')]: { target: next, actions: { type: 'ftruncate', params: { t, blocks: s.blocks } } } } };
      case 'mmap': {
        const params = { t, m, flags: s.flags, mapSync: kernel.mapSync };
        if (!s.fallback) return { on: { [on('mmap')]: { target: next, actions: { type: 'mmap', params } } } };
        // MAP_SYNC refused (EOPNOTSUPP): the application falls back to MAP_SHARED and fsync. The
        // guard asserts the outcome the configuration implies; should the model's mmap disagree,
        // the thread cannot move and the deadlock property reports it.
        return {
          on: {
            [on('mmap')]: {
              guard: { type: options.mapSyncGranted ? 'mmapSucceeds' : 'mmapFails', params },
              target: options.mapSyncGranted ? next : s.fallback[0].name,
              actions: { type: 'mmap', params },
            },
          },
        };
      }
      case 'store': {
        const at = { t, m, b: s.b };
        const mayFault = options.revocable || !faulted.has(s.b);
        faulted.add(s.b);
        const kind = s.nt ? 'movnti' : 'store';
        return {
          on: {
            [on(kind)]: {
              guard: { type: 'isPteWritable', params: at },
              target: next,
              actions: [{ type: kind, params: { ...at, w: s.w, value: s.value } }, ...believe(s)],
            },
            ...(mayFault ? faultTransitions(at) : {}),
          },
        };
      }
      case 'flush': {
        const at = { t, m, b: s.b };
        // Where something can take the mapping away, the flush instruction faults it back in.
        const refault = options.revocable
          ? { [on(options.dax ? 'dax_iomap_fault' : 'filemap_fault')]: { guard: { type: 'needsReadFault', params: at }, actions: { type: options.dax ? 'dax_iomap_fault' : 'filemap_fault', params: { ...at, write: false } } } }
          : {};
        return {
          on: {
            [on('clwb')]: {
              guard: { type: 'isPteMapped', params: at },
              target: next,
              actions: [{ type: 'clwb_sfence', params: at }, ...believe(s)],
            },
            ...refault,
          },
        };
      }
      case 'cpu': {
        if (s.insn === 'sfence' || s.insn === 'mfence') {
          return { on: { [on(s.insn)]: { target: next, actions: [{ type: s.insn, params: { t } }, ...believe(s)] } } };
        }
        const at = { t, m, b: s.b! };
        const refault = options.revocable
          ? { [on(options.dax ? 'dax_iomap_fault' : 'filemap_fault')]: { guard: { type: 'needsReadFault', params: at }, actions: { type: options.dax ? 'dax_iomap_fault' : 'filemap_fault', params: { ...at, write: false } } } }
          : {};
        return {
          on: {
            [on(s.insn)]: {
              guard: { type: 'isPteMapped', params: at },
              target: next,
              actions: [{ type: s.insn, params: { ...at, w: s.w! } }, ...believe(s)],
            },
            ...refault,
          },
        };
      }
      case 'sync': {
        const params = s.call === 'msync' ? { t, m } : { t };
        return { on: { [on(s.call)]: { target: next, actions: [{ type: s.call, params }, ...believe(s)] } } };
      }
      case 'fallocate':
        return {
          on: { [on('fallocate')]: { target: next, actions: { type: 'fallocate', params: { t, from: s.from, to: s.to } } } },
        };
      case 'munmap':
        return { on: { [on('munmap')]: { target: next, actions: { type: 'munmap', params: { t, m } } } } };
      case 'syscall': {
        const params = { t, m, ...s.params };
        const act = [{ type: s.action, params }, ...believe(s)];
        if (!s.fails) return { on: { [on(s.call)]: { target: next, actions: act } } };
        failed = failed || !s.fallback;
        return {
          on: {
            [on(s.call)]: [
              { guard: { type: s.fails, params }, target: s.fallback?.[0].name ?? 'failed', actions: { type: s.action, params } },
              { target: next, actions: act },
            ],
          },
        };
      }
    }
  };

  /**
   * A store that cannot retire faults: on DAX through `dax_iomap_fault`, without DAX through
   * `page_mkwrite` on a page-cache page. Only the path the file's mount can take is generated, so
   * the coverage report's "never fired" list means something. Faults beyond EOF (a third party
   * truncated the file) kill the thread with SIGBUS where the spec has such third parties.
   */
  const faultTransitions = (at: { t: number; m: number; b: number }) => {
    const handler = options.dax ? 'dax_iomap_fault' : 'page_mkwrite';
    const needs = options.dax ? 'needsDaxWriteFault' : 'needsPageMkwrite';
    const actions = options.dax ? kernel.writeFault(at) : [{ type: 'page_mkwrite', params: at }];
    // A fatal fault runs the same kernel path; it ends in SIGBUS instead of a mapping.
    const fatal = actions;
    // A read fault (a flush after the mapping was taken away) leaves a read-only entry: the next
    // store to a written block goes through pfn_mkwrite.
    const mkwrite =
      options.dax && options.revocable && kernel.pfnMkwrite !== null
        ? {
            [on('pfn_mkwrite')]: {
              guard: { type: 'needsPfnMkwrite', params: at },
              actions: kernel.pfnMkwrite?.(at) ?? [{ type: 'dax_pfn_mkwrite', params: at }],
            },
          }
        : {};
    return {
      ...mkwrite,
      [on(handler)]: [
        ...(options.sigbus
          ? [{ guard: and([{ type: needs, params: at }, { type: options.sigbusGuard ?? 'isBeyondEof', params: at }]), target: 'killed', actions: fatal }]
          : []),
        { guard: { type: needs, params: at }, actions },
      ],
    };
  };

  addSteps(steps, 'done');
  states.done = { type: 'final' };
  if (options.sigbus) states.killed = { type: 'final' };
  if (failed) states.failed = { type: 'final' };
  return { region: { initial: steps[0].name, states }, eventTypes: [...types] };
}
