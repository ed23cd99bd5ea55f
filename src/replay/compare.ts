/**
 * What the kernel did, read from the replayer's lines on the serial console, and how it compares
 * with what the model predicted.
 *
 * Compared: the result (errno, or SIGBUS) of every thread step that executed something; S_DAX
 * (statx STATX_ATTR_DAX) after every open; that the power failed exactly at the crash step; and
 * after recovery the file size, the bytes allocated (statx blocks, what du shows), each block's
 * extent (hole / unwritten / written, from FIEMAP) and every modelled word (read with pread). Physical block numbers are not compared: the model's
 * allocator and the filesystem's need not agree, and nothing durable depends on it.
 *
 * A line the replayer must print and did not (a step's result, the statx after a successful open,
 * the inspection's size/blocks/S_DAX, FIEMAP, a page's words) is never a check skipped: it is a
 * difference starting with MISSING that names the line, and the replay is an error (run.ts).
 */
import { wordName } from '../../models/describe.ts';
import type { ReplayPlan } from './program.ts';
import { BLOCK_BYTES } from './program.ts';

/** The replayer's stores: PATTERN | value, so a word read back is recognisably ours (harness/replayer.c). */
export const PATTERN = 0xdac0de0000000000n;
const PATTERN_MASK = 0xffffff0000000000n;
const FIEMAP_EXTENT_UNWRITTEN = 0x800;
const FIEMAP_EXTENT_SHARED = 0x2000;

export interface StepResult {
  /** `0`, an errno name, `SIGBUS`, or `SIGSEGV` (no mapping). */
  errno: string;
}

export interface Observation {
  steps: Map<number, StepResult>;
  /** S_DAX after each open, by step. */
  dax: Map<number, number>;
  /** statx after an open that failed, by step: the errno. */
  statxErrors: Map<number, string>;
  /** Crash steps reached, in order. */
  crashes: number[];
  size: number | null;
  /** Bytes allocated to the file (statx blocks × 512), what du reports. */
  allocated: number | null;
  fileDax: number | null;
  extents: { logical: number; length: number; flags: number }[];
  /** FIEMAP failed during the inspection: the errno (the extents are then unknown, not holes). */
  fiemapError: string | null;
  dataRanges: { from: number; to: number }[];
  /** Per page, each modelled word's raw 64-bit value (hex). */
  words: Map<number, string[]>;
  inspected: boolean;
  /** The second file g after recovery (`DAXCHECK inspect-g`), where the program has one. */
  g: { size: number; allocated: number } | { error: string } | null;
  /** `DAXCHECK error ...` lines from the guest. */
  errors: string[];
}

/** An observation with nothing seen yet, to which each boot's serial log adds. */
export function emptyObservation(): Observation {
  return {
    steps: new Map(),
    dax: new Map(),
    statxErrors: new Map(),
    crashes: [],
    size: null,
    allocated: null,
    fileDax: null,
    extents: [],
    fiemapError: null,
    dataRanges: [],
    words: new Map(),
    inspected: false,
    g: null,
    errors: [],
  };
}

/** Adds what one boot's serial log says to `obs`. Lines that are not the replayer's are ignored. */
export function parseSerial(text: string, obs: Observation = emptyObservation()): Observation {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const at = line.indexOf('DAXCHECK ');
    if (at < 0) continue;
    const f = line.slice(at + 9).trim().split(/\s+/);
    const kv = (k: string) => f.find((x) => x.startsWith(`${k}=`))?.slice(k.length + 1);
    const int = (s: string | undefined) => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : null);
    switch (f[0]) {
      case 'step': {
        const n = int(f[1]);
        if (n === null) break;
        const errno = f[2] === 'ok' ? '0' : f[2] === 'err' ? (kv('errno') ?? '?') : f[2] === 'sigbus' ? 'SIGBUS' : f[2] === 'sigsegv' ? 'SIGSEGV' : '?';
        obs.steps.set(n, { errno });
        break;
      }
      case 'statx': {
        const n = int(f[1]);
        const d = int(kv('dax'));
        if (n !== null && d !== null) obs.dax.set(n, d);
        else if (n !== null && f[2] === 'err') obs.statxErrors.set(n, kv('errno') ?? '?');
        break;
      }
      case 'crash': {
        const n = int(f[1]);
        if (n !== null) obs.crashes.push(n);
        break;
      }
      case 'inspect':
        obs.size = int(kv('size'));
        obs.allocated = int(kv('blocks512')) === null ? null : int(kv('blocks512'))! * 512;
        obs.fileDax = int(kv('dax'));
        break;
      case 'extent': {
        const logical = int(kv('logical'));
        const length = int(kv('length'));
        const flags = Number.parseInt(kv('flags') ?? '', 16);
        if (logical !== null && length !== null && Number.isFinite(flags)) obs.extents.push({ logical, length, flags });
        break;
      }
      case 'fiemap':
        if (f[1] === 'err') obs.fiemapError = kv('errno') ?? '?';
        break;
      case 'data': {
        const from = int(kv('from'));
        const to = int(kv('to'));
        if (from !== null && to !== null) obs.dataRanges.push({ from, to });
        break;
      }
      case 'words': {
        const page = int(f[1]);
        if (page !== null) obs.words.set(page, f.slice(2));
        break;
      }
      case 'inspect-g': {
        const size = int(kv('size'));
        const b512 = int(kv('blocks512'));
        obs.g = size !== null && b512 !== null ? { size, allocated: b512 * 512 } : { error: f.slice(1).join(' ') };
        break;
      }
      case 'inspected':
        obs.inspected = true;
        break;
      case 'error':
        obs.errors.push(f.slice(1).join(' '));
        break;
    }
  }
  return obs;
}

/** A word read back, as the model names values: `0`, `HDR`, `DATA0`, `→blk1`, or raw hex. */
export function decodeWord(hex: string): string {
  if (!/^[0-9a-f]{16}$/.test(hex)) return hex;
  const v = BigInt(`0x${hex}`);
  if (v === 0n) return '0';
  if ((v & PATTERN_MASK) === PATTERN && (v & 0xffffffffffn) < 256n) return wordName(Number(v & 0xffn));
  return `0x${hex}`;
}

/** Extent kind of one page from FIEMAP: hole, unwritten, shared (reflinked) or written. */
export function pageKind(obs: Observation, page: number): string {
  const start = page * BLOCK_BYTES;
  const e = obs.extents.find((x) => x.logical <= start && start < x.logical + x.length);
  if (!e) return 'hole';
  return e.flags & FIEMAP_EXTENT_UNWRITTEN ? 'unwritten' : e.flags & FIEMAP_EXTENT_SHARED ? 'shared' : 'written';
}

/** What the kernel's file looks like in the model's terms: per block, extent kind and words. */
export function kernelBlocks(plan: Pick<ReplayPlan, 'blocks' | 'words' | 'pagesPerBlock'>, obs: Observation) {
  const size = obs.size ?? 0;
  return [...Array(plan.blocks).keys()].map((b) => {
    const pages = [...Array(plan.pagesPerBlock).keys()].map((k) => b * plan.pagesPerBlock + k);
    const one = (xs: string[]) => {
      const distinct = [...new Set(xs)];
      return distinct.length === 1 ? distinct[0] : `mixed(${distinct.join('|')})`;
    };
    const extent = one(pages.map((p) => (p * BLOCK_BYTES >= size ? 'beyond EOF' : pageKind(obs, p))));
    const words = [...Array(plan.words).keys()].map((w) => one(pages.map((p) => decodeWord(obs.words.get(p)?.[w] ?? 'missing'))));
    return { block: b, extent, words };
  });
}

/** The model's extent text without the physical block: `written → pmem block 1` → `written`. */
export const extentKind = (text: string) => (text === 'beyond EOF' ? text : text.split(' ')[0]);

/**
 * Prefix of a difference that is a line missing from the serial log (or a check the replayer could
 * not run): the rig did not report what it must, so nothing was compared there.
 */
export const MISSING = 'missing from the serial log: ';

/** True when a difference is a missing line rather than a disagreement with the model. */
export const isMissing = (difference: string) => difference.startsWith(MISSING);

/** Differences between prediction and kernel, each one line; empty when they agree. */
export function compare(plan: ReplayPlan, obs: Observation, options: { host?: boolean } = {}): string[] {
  const diffs: string[] = [];
  const missing = (what: string) => diffs.push(MISSING + what);
  const pred = plan.prediction;
  const daxText = (d: number) => (d === 1 ? 'DAX' : d === 0 ? 'not DAX' : 'unknown (STATX_ATTR_DAX not supported)');
  const lastExecuted = options.host ? Math.min(...[...plan.ops].filter(([, op]) => op === 'crash').map(([n]) => n)) : Infinity;
  for (const s of pred.steps) {
    const op = plan.ops.get(s.n);
    if (!op || op === 'crash' || s.n > lastExecuted) continue;
    const got = obs.steps.get(s.n);
    const label = `step ${s.n} (${s.label}: ${op})`;
    if (!got) {
      missing(`'DAXCHECK step ${s.n} …', the result of ${label}`);
      continue;
    }
    const want = s.errno ?? '0';
    if (got.errno !== want) diffs.push(`${label}: model ${want === '0' ? 'succeeds' : want}, kernel ${got.errno === '0' ? 'succeeds' : got.errno}`);
    // S_DAX after every open that succeeded (the host has no DAX: it is not compared there).
    if (op.startsWith('open') && got.errno === '0' && !options.host) {
      const dax = obs.dax.get(s.n);
      if (dax === undefined) {
        const failed = obs.statxErrors.get(s.n);
        missing(`'DAXCHECK statx ${s.n} dax=…' after ${label}${failed ? ` (statx failed: ${failed})` : ''}: S_DAX not checked`);
      } else if (dax !== (pred.dax ? 1 : 0)) {
        diffs.push(`${label}: model S_DAX ${pred.dax ? 'set' : 'clear'}, statx says ${daxText(dax)}`);
      }
    }
  }
  if (options.host) return diffs;

  const crashSteps = [...plan.ops].filter(([, op]) => op === 'crash').map(([n]) => n);
  if (obs.crashes.join(',') !== crashSteps.join(',')) {
    diffs.push(`power failures at steps [${obs.crashes.join(', ')}], the trace has them at [${crashSteps.join(', ')}]`);
  }
  if (!obs.inspected) {
    missing("'DAXCHECK inspected': no inspection after recovery (see the serial log)");
    return diffs;
  }
  const d = pred.durable;
  const scale = plan.pagesPerBlock;
  const modelSize = (d.size / BLOCK_BYTES) * scale * BLOCK_BYTES;
  if (obs.size === null && obs.allocated === null && obs.fileDax === null) {
    missing("'DAXCHECK inspect size=… blocks512=… dax=…' after recovery: file size, allocation and S_DAX not checked");
  } else {
    const field = (name: string, what: string) => missing(`${name} on the 'DAXCHECK inspect' line after recovery: ${what} not checked`);
    if (obs.size === null) field('size=', 'the file size');
    if (obs.allocated === null) field('blocks512=', 'the allocation (statx blocks)');
    if (obs.fileDax === null) field('dax=', 'S_DAX');
  }
  if (obs.size !== null && obs.size !== modelSize) diffs.push(`after recovery: model file size ${modelSize}, kernel ${obs.size}`);
  if (obs.fileDax !== null && obs.fileDax !== (pred.dax ? 1 : 0)) diffs.push(`after recovery: model S_DAX ${pred.dax ? 'set' : 'clear'}, statx says ${daxText(obs.fileDax)}`);
  // What du reports: every allocated block inside the file, written or unwritten (generic/470
  // checks exactly this: "1 MiB allocated").
  const modelAllocated = d.blocks.filter((b) => !['hole', 'beyond EOF'].includes(extentKind(b.extent))).length * scale * BLOCK_BYTES;
  if (obs.allocated !== null && obs.allocated !== modelAllocated) diffs.push(`after recovery: model ${modelAllocated} bytes allocated, kernel ${obs.allocated} (statx blocks)`);
  // Without FIEMAP every page would read as a hole: the extents are unknown, not compared.
  if (obs.fiemapError !== null) missing(`'DAXCHECK extent …' after recovery (FIEMAP failed: ${obs.fiemapError}): extents not checked`);
  for (let page = 0; page < plan.blocks * scale; page++) {
    if ((obs.words.get(page)?.length ?? 0) < plan.words) missing(`'DAXCHECK words ${page} …' (${plan.words} words) after recovery: the words of page ${page} not checked`);
  }
  // The second file g: its size and bytes allocated after recovery.
  if (d.g) {
    const gSize = d.g.size * scale;
    const gAllocated = d.g.writtenBlocks * scale * BLOCK_BYTES;
    if (obs.g === null) missing("'DAXCHECK inspect-g size=… blocks512=…' after recovery: the second file not checked");
    else if ('error' in obs.g) missing(`'DAXCHECK inspect-g size=…' after recovery (${obs.g.error}): the second file not checked`);
    else {
      if (obs.g.size !== gSize) diffs.push(`after recovery: model g's size ${gSize}, kernel ${obs.g.size}`);
      if (obs.g.allocated !== gAllocated) diffs.push(`after recovery: model g has ${gAllocated} bytes allocated, kernel ${obs.g.allocated} (statx blocks)`);
    }
  }
  const kernel = kernelBlocks(plan, obs);
  for (const mb of d.blocks) {
    const kb = kernel[mb.block];
    const want = extentKind(mb.extent);
    // (Without the size every block would read as beyond EOF: that is reported missing above.)
    if (obs.fiemapError === null && obs.size !== null && kb.extent !== want) diffs.push(`after recovery: block ${mb.block} is ${want} in the model, ${kb.extent} on the kernel`);
    mb.words.forEach((w, i) => {
      if (kb.words[i] !== w && !kb.words[i].includes('missing')) diffs.push(`after recovery: block ${mb.block} word ${i} is ${w} in the model, ${kb.words[i]} on the kernel`);
    });
  }
  return diffs;
}

/** The kernel's recovered file in the words the model uses for its own (`durableAfterCrash.text`). */
export function kernelSummary(plan: ReplayPlan, obs: Observation): string {
  if (!obs.inspected) return 'not inspected';
  const blocks = kernelBlocks(plan, obs).map((b) => `block ${b.block}: ${b.extent} [${b.words.join(', ')}]`);
  return `file size ${obs.size}; ${blocks.join('; ')}`;
}
