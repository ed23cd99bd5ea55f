/**
 * From a trace to what the replayer executes: the trace is checked (its shape, its numbers, and
 * against the model), then each step's actions become replayer operations, and the model's
 * prediction for the rig is attached.
 *
 * Translation of the model's actions (kernel names) into what a program does on a real kernel:
 *
 *   open, ftruncate, fallocate, mmap, munmap, msync, fsync, fdatasync   the system call itself
 *   write, pwrite                  write(2) / pwrite(2) of one block (PATTERN|value in word 0 of
 *                                  each page, zeros elsewhere) on f or on the second file g
 *   open_g, fsync_g, fdatasync_g   the call on the second file g, which the replayer creates with
 *                                  one written block and syncs before the first step (`files 2`)
 *   store                          a store of PATTERN|value to word w of block b (each page of it)
 *   clwb_sfence                    clwb (or clflushopt) of every line of the block, then sfence
 *   movnti                         (Px86) a non-temporal store of PATTERN|value to word w of block b
 *   clwb, clflushopt, clflush      (Px86) that instruction on line w of block b (each page of it);
 *                                  one the CPU lacks is done with clflush, and the log says so
 *   sfence, mfence                 (Px86) the fence itself
 *   dax_iomap_fault, page_mkwrite, a locked add of zero to the block: the write fault the model
 *   dax_pfn_mkwrite                shows as its own step happens there, before the store
 *                                  (dax_finish_sync_fault is part of that same fault)
 *   jbd2_journal_commit_transaction  syncfs(): userspace cannot force just a background commit;
 *                                  syncfs commits the journal (and writes back data, which on DAX
 *                                  and this eADR-like rig changes nothing the model tracks)
 *   flusher writeback of a page    sync_file_range over the block the page belongs to
 *   evict_cache_line (DAX)         nothing: on the eADR-like rig every store is already on media
 *   power_fail                     the crash: QEMU ends at that instruction; the crash-image
 *                                  decisions and the mount that follow it in the model are the
 *                                  next boot, which mounts (journal recovery)
 *   app_believes_durable, app_recovery_check, restart   bookkeeping of the model, no operation
 *
 * Anything else (an action only a proposal Linux never merged has, or a third party the harness
 * does not drive) makes the trace "not replayable", with the action named.
 */
import { UsageError } from '../args.ts';
import { LIMITS, type TraceInput } from '../input/trace.ts';
import { findSpec } from '../../specs/index.ts';
import type { AnySpec, DaxRunConfig } from '../../specs/common/spec.ts';
import { predictOnRig, runExactly, TraceMismatchError, contextOf, type Prediction } from './model.ts';

// Trace files are read and checked by src/input/ (trace.ts), which owns their limits.
export { LIMITS, parseTraceText, validateTraceDoc, type TraceInput } from '../input/trace.ts';

/** A model block is one 4 KiB page of the file (times ReplayOptions.pagesPerBlock). */
export const BLOCK_BYTES = 4096;

/** Replay options a scenario configuration may carry (specs/<spec>/replay-configs.ts). */
export interface ReplayOptions {
  /** Real pages per model block: the model's block b stands for pages [b*k, (b+1)*k). */
  pagesPerBlock?: number;
}
export type ReplayScenarioConfig = DaxRunConfig & { replay?: ReplayOptions };

/**
 * Specs whose feature Linux has, with what it is called there. Every other spec is a proposal the
 * harness cannot run on a real kernel.
 */
export const LINUX_FEATURES: Record<string, string> = {
  baseline: 'DAX mmap with fsync/fdatasync/msync (ext4 and XFS -o dax, Linux 4.0+)',
  'map-sync': 'mmap(MAP_SHARED_VALIDATE|MAP_SYNC) (Linux 4.15+, ext4 and XFS on DAX)',
};
/**
 * Why the other specs are not replayed: proposals Linux never merged (DOMAIN.md, "Real Linux
 * today"), and features Linux has whose spec the harness cannot drive from a program.
 */
export const NOT_REPLAYED: Record<string, string> = {
  'pmem-immutable': 'Linux never merged FALLOC_FL_PMEM_IMMUTABLE (nor its later forms S_IOMAP_IMMUTABLE and FALLOC_FL_SEAL_BLOCK_MAP): there is no kernel to run it on',
  'map-direct': 'Linux never merged MAP_DIRECT or MADV_DIRECT_ACCESS: there is no kernel to run it on',
  'prepare-write': 'Linux never merged msync(MSYNC_PMEM_PREPARE_WRITE): there is no kernel to run it on',
  'nosync-flag': 'Linux never merged the per-block "no fsync" flag (no-sync mmap): there is no kernel to run it on',
  nova: 'NOVA was never merged into Linux: there is no kernel to run it on',
  'dax-fsync-tracking':
    "Linux has DAX fsync dirty tracking (the v9 design), but this spec is the kernel's own radix-tree tags and races between concurrent fsyncs inside it: no program can force those interleavings, and the v8 variants never shipped",
  'device-dax': 'Linux has device-dax, but the rig replays on a filesystem: no devdax namespace or /dev/dax character device is set up',
  'dax-detection': 'Linux has both (VmFlags in /proc/<pid>/smaps, statx STATX_ATTR_DAX since 5.8), but the harness has no operation for reading smaps; it checks STATX_ATTR_DAX after every open of every replay instead',
};
const NEVER_MERGED = /immutable|seal|map-?direct|madv|prepare|msync-pmem|no-?fsync|no-?sync|per-block|nova/i;

export interface ReplayPlan {
  /** Short stable name: `baseline/trusting/0-always`. */
  name: string;
  /** Safe directory name for the run's files. */
  slug: string;
  trace: TraceInput;
  spec: AnySpec;
  config: ReplayScenarioConfig;
  labels: string[];
  /** The replayer's program (harness/replayer.c format). */
  program: string;
  /** Run segments: one boot each, each ending in a crash. */
  segments: number;
  blocks: number;
  words: number;
  pagesPerBlock: number;
  /** Step number → replayer operation executed there (steps without one are absent). */
  ops: Map<number, string>;
  prediction: Prediction;
  /** What the replay does differently from the model's words, said plainly. */
  notes: string[];
}

export interface NotReplayable {
  name: string;
  trace: TraceInput;
  reason: string;
}

const bad = (source: string, msg: string): never => {
  throw new UsageError(`${source}: ${msg}`);
};

/** Small model facts read from the renderer's state description (no layout offsets needed). */
function shape(fields: Record<string, string>) {
  const blocks = Object.keys(fields).filter((k) => /^block \d+$/.test(k)).length;
  const words = Object.keys(fields).filter((k) => /^pmem 0\.\d+$/.test(k)).length;
  return { blocks, words };
}

/** Checks the numbers of every action against the configuration: nothing past the file. */
function checkBounds(t: TraceInput, threads: number, blocks: number, words: number) {
  t.steps.forEach((s, i) => {
    for (const a of s.actions) {
      const p = (a.params ?? {}) as Record<string, unknown>;
      const at = `step ${i + 1} (${a.type})`;
      const lim: [string, number, string][] = [
        ['t', threads, `thread`],
        ['m', threads, 'mapping'],
        // (g's blocks are checked by the model: it has G_BLOCKS of them.)
        ...(p.file === 'g' ? [] : ([['b', blocks, 'block']] as [string, number, string][])),
        ['w', words, 'word'],
      ];
      for (const [k, n, what] of lim) {
        if (typeof p[k] === 'number' && (p[k] as number) >= n) {
          bad(t.source, `${at}: ${what} ${p[k]} is past the end (${t.spec}/${t.config} has ${n} ${what}s; offsets past the file are refused)`);
        }
      }
      for (const k of ['blocks', 'from', 'to'] as const) {
        if (typeof p[k] === 'number' && (p[k] as number) > blocks) bad(t.source, `${at}: ${k} = ${p[k]} blocks is past the file's ${blocks} blocks`);
      }
      if (typeof p.value === 'number' && p.value > 255) bad(t.source, `${at}: value ${p.value} does not fit a word symbol`);
    }
  });
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Looks up the trace's spec and configuration, or refuses it. */
export function resolve(t: TraceInput): { spec: AnySpec; config: ReplayScenarioConfig } {
  const spec = findSpec(t.spec);
  if (!spec) bad(t.source, `unknown spec '${t.spec}'`);
  const config = spec!.configs.find((c) => c.name === t.config) as ReplayScenarioConfig | undefined;
  if (!config) bad(t.source, `spec '${t.spec}' has no configuration '${t.config}'`);
  return { spec: spec!, config: config! };
}

/**
 * Checks a trace against the model and turns it into a replay plan, or says why it cannot be
 * replayed on a real kernel. Input errors (the trace is not one the model makes) throw UsageError.
 */
export function planReplay(t: TraceInput, name: string): ReplayPlan | NotReplayable {
  const { spec, config } = resolve(t);
  const labels = t.steps.map((s) => s.event);

  // The model must accept the trace exactly as recorded: same events, same actions, same params.
  let exact;
  try {
    exact = runExactly(spec, config, labels);
  } catch (err) {
    if (err instanceof TraceMismatchError) return bad(t.source, `${err.message}: the trace is not one the model makes (stale? re-run daxcheck check --write)`);
    throw err;
  }
  const { sys, built, events, states } = exact;
  const fields0 = built.render.state(contextOf(sys, states[0]));
  const { blocks, words } = shape(fields0);
  checkBounds(t, config.threads, blocks, words);
  const explained = events.map((e, i) => sys.explain(states[i], e)!);
  explained.forEach((ex, i) => {
    const want = ex.actions.map((a) => ({ type: a.type, params: a.params ?? null }));
    const got = t.steps[i].actions.map((a) => ({ type: a.type, params: a.params ?? null }));
    if (!sameJson(want, got)) {
      bad(t.source, `step ${i + 1} (${labels[i]}): the trace's actions ${JSON.stringify(got).slice(0, 120)} are not the model's ${JSON.stringify(want).slice(0, 120)}`);
    }
  });

  const notReplayable = (reason: string): NotReplayable => ({ name, trace: t, reason });
  if (!(spec.name in LINUX_FEATURES)) {
    return notReplayable(
      NOT_REPLAYED[spec.name] ??
        (NEVER_MERGED.test(`${spec.name} ${spec.title}`)
          ? `Linux never merged this proposal (${spec.title}): there is no kernel to run it on`
          : `the harness knows no Linux implementation of '${spec.title}' to run it on`),
    );
  }
  const platform = config.platform ?? 'adr';
  if (platform === 'virtio-pmem') return notReplayable('the rig has an emulated NVDIMM, not a virtio-pmem device');
  // Configurations that model a kernel other than Linux's, to show what a bug would do.
  if (config.zeroing === 'cached') {
    return notReplayable("this configuration models a filesystem that zeroes new blocks through the cache without flushing; Linux's DAX zeroes them durably before the allocation is visible, so there is no kernel with this bug to run it on");
  }
  if (spec.name === 'baseline' && config.mmapFlags === 'shared_sync_unvalidated') {
    return notReplayable("this configuration models a kernel older than MAP_SYNC (Linux 4.15), which drops the flag; the rig's kernel has MAP_SYNC and honours MAP_SHARED|MAP_SYNC (map-sync/unvalidated is that case)");
  }
  if (config.thirdParty?.policy && Object.keys(config.thirdParty.policy).length) {
    return notReplayable(`this configuration models a third party that breaks the kernel's rules (${Object.keys(config.thirdParty.policy).join(', ')}); Linux does not ship that variant`);
  }
  const px86 = config.appOptions?.persistency === 'px86';
  if (px86 && platform !== 'eadr') {
    return notReplayable(
      `this Px86 configuration is on ${platform.toUpperCase()}, where a dirty cache line not yet written back is lost at a power failure; the rig cannot lose one (under TCG every guest store reaches the NVDIMM's host file at once), so all that tells its flush sequences apart is out of its reach: its eADR twin ${config.name}-eadr is replayed`,
    );
  }
  const wcLost = t.steps.findIndex((s) => s.actions.some((a) => a.type === 'wc_buffer_lost'));
  if (wcLost >= 0) {
    return notReplayable(
      `step ${wcLost + 1} loses a non-temporal store still in a write-combining buffer at the power failure; the rig's emulated CPU has no WC buffers (under TCG movnti is a plain store that reaches the NVDIMM at once), so it behaves as eADR with drained WC buffers (px86-movnti-no-fence-eadr-drained)`,
    );
  }
  const pagesPerBlock = config.replay?.pagesPerBlock ?? 1;
  if (!Number.isInteger(pagesPerBlock) || pagesPerBlock < 1 || pagesPerBlock > LIMITS.pagesPerBlock) {
    return bad(t.source, `configuration ${config.name} has replay.pagesPerBlock ${pagesPerBlock}; 1..${LIMITS.pagesPerBlock}`);
  }

  const notes: string[] = [];
  if (platform !== 'eadr') notes.push(`predicted for the rig's eADR-like platform (the configuration's is ${platform})`);
  if (px86 && (config.wcBuffers ?? 'volatile') === 'volatile' && t.steps.some((s) => s.actions.some((a) => a.type === 'movnti'))) {
    notes.push("predicted with the write-combining buffers drained at the crash: the rig's emulated CPU has none (the configuration's are volatile)");
  }
  if (pagesPerBlock > 1) notes.push(`each model block is ${pagesPerBlock} pages (${(pagesPerBlock * BLOCK_BYTES) / 1024} KiB)`);

  const prediction = predictOnRig(spec, config, labels);
  if ('reason' in prediction) return notReplayable(prediction.reason);

  const ops = new Map<number, string>();
  // 2: the trace uses the second file g, which the replayer creates (one block, synced) first.
  let files = prediction.durable.g ? 2 : 1;
  const segments: string[][] = [[]];
  let segment = segments[0];
  let crashes = 0;
  const bytes = (nBlocks: number) => nBlocks * pagesPerBlock * BLOCK_BYTES;
  for (let i = 0; i < labels.length; i++) {
    const n = i + 1;
    const before = built.render.state(contextOf(sys, states[i]));
    const fdThread = () => {
      for (let x = 0; x < config.threads; x++) if (before[`T${x} fd`]?.startsWith('open')) return x;
      return -1;
    };
    const op = (text: string) => {
      segment.push(`step ${n} ${text}`);
      ops.set(n, text);
    };
    const types = explained[i].actions.map((a) => a.type);
    if (types.includes('power_fail')) {
      segment.push(`crash ${n}`);
      ops.set(n, 'crash');
      crashes++;
      segment = [];
      segments.push(segment);
      continue;
    }
    let faulted = false;
    for (const a of explained[i].actions) {
      const p = (a.params ?? {}) as Record<string, number | string | boolean>;
      switch (a.type) {
        case 'open':
          op(p.append ? `open_append ${p.t}` : `open ${p.t}`);
          break;
        case 'open_g':
          files = 2;
          op(`open_g ${p.t} ${p.append ? 1 : 0}`);
          break;
        case 'write':
        case 'pwrite': {
          // The block the model wrote: for write(2) on an O_APPEND descriptor the end of the file
          // before the call (the replayer checks the descriptor's offset lands after it).
          const g = p.file === 'g';
          if (g) files = 2;
          const fdText = before[g ? `T${p.t} g fd` : `T${p.t} fd`] ?? '';
          const size = Number(before[g ? "g's i_size" : 'i_size']) / BLOCK_BYTES;
          const block = fdText === 'open O_APPEND' ? size : (p.b as number);
          op(`${a.type} ${p.t} ${g ? 1 : 0} ${block} ${p.value}`);
          break;
        }
        case 'fsync_g':
        case 'fdatasync_g':
          files = 2;
          op(`${a.type} ${p.t}`);
          break;
        case 'ftruncate':
          op(`ftruncate ${p.t} ${bytes(p.blocks as number)}`);
          break;
        case 'fallocate': {
          const mode = typeof p.mode === 'number' ? p.mode : 0;
          if (typeof p.mode === 'string') return notReplayable(`step ${n}: fallocate mode '${p.mode}' is not one the harness knows`);
          op(`fallocate ${p.t} ${mode} ${bytes(p.from as number)} ${bytes((p.to as number) - (p.from as number))}`);
          break;
        }
        case 'mmap':
          op(`mmap ${p.t} ${p.m} ${p.flags}`);
          break;
        case 'munmap':
        case 'msync':
          op(`${a.type} ${p.t} ${p.m}`);
          break;
        case 'fsync':
        case 'fdatasync':
          op(`${a.type} ${p.t}`);
          break;
        case 'store':
          op(`store ${p.t} ${p.m} ${p.b} ${p.w} ${p.value}`);
          break;
        case 'clwb_sfence':
          op(`flush ${p.t} ${p.m} ${p.b}`);
          break;
        // Px86: the application's own instructions, one line (word) each.
        case 'movnti':
          op(`movnti ${p.t} ${p.m} ${p.b} ${p.w} ${p.value}`);
          break;
        case 'clwb':
        case 'clflushopt':
        case 'clflush':
          op(`${a.type} ${p.t} ${p.m} ${p.b} ${p.w}`);
          break;
        case 'sfence':
        case 'mfence':
          op(`${a.type} ${p.t}`);
          break;
        case 'dax_iomap_fault':
        case 'page_mkwrite':
        case 'dax_pfn_mkwrite':
          if (a.type === 'dax_iomap_fault' && p.write === false) return notReplayable(`step ${n}: a read fault (the harness replays write faults only)`);
          if (!faulted) op(`fault ${p.t} ${p.m} ${p.b}`);
          faulted = true;
          break;
        case 'dax_finish_sync_fault':
          break; // part of the same fault on a real kernel
        case 'jbd2_journal_commit_transaction': {
          const t0 = fdThread();
          if (t0 < 0) return notReplayable(`step ${n}: a journal commit with no open file to syncfs() through`);
          if (!config.dax && /\(dirty\)/.test(Object.entries(before).filter(([k]) => k.startsWith('cache ')).map(([, v]) => v).join(' '))) {
            return notReplayable(`step ${n}: a background commit cannot be forced alone on a real kernel; syncfs() would also write back the dirty page cache the model keeps in DRAM`);
          }
          op(`syncfs ${t0}`);
          notes.push(`step ${n}: the background journal commit is forced with syncfs()`);
          break;
        }
        case 'evict_cache_line': {
          if (config.dax) {
            op('nop');
            break;
          }
          // The flusher thread writes back one page-cache page: find its file block.
          const ev = sys.events[events[i]] as { p?: number };
          const block = Object.keys(before).find((k) => /^block \d+$/.test(k) && new RegExp(`→ pmem block ${ev.p}$`).test(before[k]));
          const t0 = fdThread();
          if (!block || t0 < 0) return notReplayable(`step ${n}: flusher writeback of a page no open file maps`);
          op(`writeback ${t0} ${block.split(' ')[1]}`);
          break;
        }
        case 'journal_recover':
        case 'cache_line_reached_media':
        case 'cache_line_lost':
        case 'cache_line_unobservable':
        case 'wc_buffer_lost':
        case 'mount_and_recover':
        case 'app_believes_durable':
        case 'app_recovery_check':
        case 'restart':
          break;
        default:
          return notReplayable(`step ${n} (${labels[i]}) runs '${a.type}', which the harness has no way to do on a real kernel`);
      }
    }
  }
  if (prediction.crashAppended) {
    segment.push(`crash ${labels.length + 1}`);
    ops.set(labels.length + 1, 'crash');
    crashes++;
    notes.push(`the trace does not end in a crash: one is appended after step ${labels.length}`);
  } else if (segment.length) {
    return notReplayable('the trace has steps after its last crash that the model does not crash after');
  } else segments.pop();
  if (crashes !== segments.length) throw new Error('internal error: every segment must end in a crash');

  const program = [
    'daxcheck-program 1',
    `blocks ${blocks}`,
    `pages ${pagesPerBlock}`,
    `words ${words}`,
    ...(files > 1 ? [`files ${files}`] : []),
    `segments ${segments.length}`,
    ...segments.flatMap((lines, k) => [`segment ${k}`, ...lines]),
  ].join('\n') + '\n';
  const slug = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'trace';
  return { name, slug, trace: t, spec, config, labels, program, segments: segments.length, blocks, words, pagesPerBlock, ops, prediction, notes };
}
