/**
 * Counterexamples in kernel terms: each step of a trace as the system call, instruction or kernel
 * path it stands for ("T0: dax_iomap_fault(write, block 1) → block 1 allocated in the running
 * transaction (pmem block 1, zeroed); PTE writable"), the state as named fields for step-by-step
 * differences, and the durable state a crash left behind.
 */
import type { AppLayout } from './app-layout.ts';
import { cpuFlushPersists, durableWord } from './fs.ts';
import { recordState } from './implementations.ts';
import { inodeItems, runningItems } from './journal.ts';
import {
  BLOCK_SIZE,
  FD_APPEND,
  G_BLOCKS,
  EPERM,
  DATA,
  ERRNO_NAMES,
  EXTENT_NAMES,
  HDR,
  HOLE,
  OK,
  PTE_NAMES,
  PTE_RW,
  PTR,
  SAW_DANGLING,
  SAW_NAMES,
  STALE,
  SHARED,
  UNWRITTEN,
  VMA_NONE,
  VMA_SYNC,
  WORD_STRIDE,
  WRITTEN,
  ZERO,
  isWrittenKind,
  type DaxContext,
  type Layout,
} from './layout.ts';
import { mmapFlagsText, type MmapFlags } from './syscalls.ts';
import { LEAVES_MAPPINGS, PER_BLOCK, opCall, type ThirdPartyOp } from './third-party.ts';
import type { DurableSummary, FieldInfo, FieldKind, Renderer } from '../specs/common/spec.ts';
import type { ActionText, TakenAction } from './action.ts';
import type { MachineView } from '../checker/xstate/compile.ts';

/** A word value as the application wrote it. */
export function wordName(v: number): string {
  if (v === ZERO) return '0';
  if (v === STALE) return 'stale';
  if (v === HDR) return 'HDR';
  if (v >= PTR(0)) return `→blk${v - PTR(0)}`;
  if (v >= DATA(0)) return `DATA${v - DATA(0)}`;
  return `#${v}`;
}

const FD = 3;
/** The second file g's descriptor, as traces print it. */
const G_FD = 4;
/** The address mapping m is at, as a trace prints it. */
export const mmapAddress = (m: number) => `0x7f00${(m + 1).toString(16)}0000000`;
const MAP_ADDR = mmapAddress;

export type { TakenAction };

type P = Record<string, number | boolean | string>;

function extentText(kind: number, phys: number): string {
  return kind === HOLE ? 'hole' : `${EXTENT_NAMES[kind]} → pmem block ${phys}`;
}

/** File blocks whose physical block is p, in the in-memory extent map. */
function blocksOf(c: DaxContext, L: Layout, p: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < L.B; b++) if (c.volatile[L.vExtKind + b] !== HOLE && c.volatile[L.vExtPhys + b] === p) out.push(b);
  return out;
}

function wordPlace(c: DaxContext, L: Layout, i: number): string {
  const p = Math.floor(i / L.W);
  const w = i % L.W;
  const bs = blocksOf(c, L, p);
  return bs.length ? `block ${bs[0]} word ${w}` : `pmem block ${p} word ${w}`;
}

function dirtyCount(c: DaxContext, L: Layout): number {
  let n = 0;
  for (let i = 0; i < L.P * L.W; i++) n += c.volatile[L.vDirty + i];
  return n;
}

/** Journal items in the running transaction, named. */
function itemNames(c: DaxContext, L: Layout): string[] {
  const out: string[] = [];
  if (c.volatile[L.vSize] !== c.durable[L.dSize]) out.push('i_size');
  for (let b = 0; b < L.B; b++) {
    if (c.volatile[L.vExtKind + b] !== c.durable[L.dExtKind + b] || c.volatile[L.vExtPhys + b] !== c.durable[L.dExtPhys + b]) {
      out.push(`block ${b} extent`);
    }
  }
  const u = c.volatile[L.vUnrelated];
  if (u) out.push(`${u} unrelated object${u > 1 ? 's' : ''}`);
  out.push(...secondFileItemNames(c, L));
  return out;
}

/** The second file g's items in the running transaction, named (none where there is no g). */
function secondFileItemNames(c: DaxContext, L: Layout, datasync = false): string[] {
  if (L.vGSize < 0) return [];
  const v = c.volatile;
  const d = c.durable;
  const out: string[] = [];
  if (v[L.vGSize] !== d[L.dGSize]) out.push("g's i_size");
  for (let b = 0; b < G_BLOCKS; b++) if (v[L.vGExtent + b] !== d[L.dGExtent + b]) out.push(`g's block ${b} extent`);
  if (!datasync && v[L.vGTimes] !== d[L.dGTimes]) out.push("g's timestamps");
  return out;
}

/** The file's own items in the running transaction, named as "f's ..." beside g's. */
function fileItemNames(c: DaxContext, L: Layout): string[] {
  const g = new Set(secondFileItemNames(c, L));
  return itemNames(c, L).filter((x) => !g.has(x) && !/unrelated/.test(x)).map((x) => `f's ${x}`);
}

/** Thread t's last return value as a trace prints it: `0` or `-ENOSPC`. */
export const errnoText = (c: DaxContext, L: Layout, t: number) => {
  const e = c.volatile[L.vErr + t];
  return e === OK ? '0' : `-${ERRNO_NAMES[e]}`;
};

/** One action of a step as kernel text; null for actions that only do bookkeeping. */
export function describeAction(L: Layout, app: AppLayout, a: TakenAction): string | null {
  const { before, after } = a;
  const p = (a.params ?? {}) as P;
  const t = p.t as number;
  const b = p.b as number;
  switch (a.type) {
    case 'open':
      return `open("/mnt/pmem/log", O_RDWR${p.append ? '|O_APPEND' : ''}) = ${after.volatile[L.vErr + t] === OK ? FD : errnoText(after, L, t)}`;
    case 'open_g':
      return `open("/mnt/pmem/g", O_RDWR${p.append ? '|O_APPEND' : ''}) = ${after.volatile[L.vErr + t] === OK ? G_FD : errnoText(after, L, t)} (g: another file, its metadata in the same journal)`;
    case 'write':
    case 'pwrite': {
      const g = p.file === 'g';
      const fd = g ? G_FD : FD;
      const size = (c: DaxContext) => (g ? c.volatile[L.vGSize] : c.volatile[L.vSize]);
      const ok = after.volatile[L.vErr + t] === OK;
      // The block written: where the file grew for an append, else the call's block.
      const appended = ((g ? before.volatile[L.vGFd + t] : before.volatile[L.vFd + t]) === FD_APPEND);
      const at = appended ? size(before) : b;
      const call = a.type === 'write' ? `write(fd ${fd}, ${BLOCK_SIZE} bytes${appended ? ', O_APPEND' : ''} at ${at * BLOCK_SIZE})` : `pwrite(fd ${fd}, ${BLOCK_SIZE} bytes at ${at * BLOCK_SIZE})`;
      if (!ok) return `${call} = ${errnoText(after, L, t)}`;
      const grew = size(after) > size(before) ? `, i_size ${size(after) * BLOCK_SIZE}` : '';
      if (g) {
        const allocated = before.volatile[L.vGExtent + at] === HOLE;
        return `${call} = ${BLOCK_SIZE} → ${allocated ? `g's block ${at} allocated${grew}` : `overwrite of g's block ${at}${grew}`}, file_update_time: mtime/ctime, in running transaction`;
      }
      const k0 = before.volatile[L.vExtKind + at];
      const phys = after.volatile[L.vExtPhys + at];
      const what =
        k0 === HOLE
          ? `block ${at} allocated${grew} in running transaction (pmem block ${phys}, zeroed)`
          : k0 === UNWRITTEN
            ? `unwritten extent of block ${at} zeroed and converted${grew} in running transaction`
            : grew
              ? `block ${at} overwritten${grew} in running transaction`
              : `block ${at} overwritten`;
      return `${call} = ${BLOCK_SIZE} → ${what}; ${wordName(p.value as number)} copied by memcpy_flushcache, not yet fenced (dirty until fsync)`;
    }
    case 'fsync_g':
    case 'fdatasync_g': {
      const call = `${a.type === 'fsync_g' ? 'fsync' : 'fdatasync'}(fd ${G_FD}: g) = ${errnoText(after, L, t)}`;
      if (after.volatile[L.vErr + t] !== OK) return call;
      const datasync = a.type === 'fdatasync_g';
      const own = secondFileItemNames(before, L, datasync);
      const f = fileItemNames(before, L);
      const fText = f.length ? `holds ${f.join(', ')}` : "holds nothing of f's";
      if (own.length) return `${call} → g's ${own.map((x) => x.replace("g's ", '')).join(', ')} uncommitted: commits the running transaction (${fText})`;
      const timesOnly = datasync && secondFileItemNames(before, L).length > 0;
      const why = timesOnly ? "g's only change is its timestamps, which fdatasync skips" : 'g has no uncommitted metadata';
      return `${call} → ${why}: nothing committed${f.length ? ` (the running transaction keeps ${f.join(', ')})` : ''}`;
    }
    case 'ftruncate':
      return `ftruncate(${FD}, ${(p.blocks as number) * BLOCK_SIZE}) = ${errnoText(after, L, t)}`;
    case 'fallocate':
      return `fallocate(${FD}, 0, ${(p.from as number) * BLOCK_SIZE}, ${((p.to as number) - (p.from as number)) * BLOCK_SIZE}) = ${errnoText(after, L, t)}`;
    case 'mmap': {
      const ok = after.volatile[L.vErr + t] === OK;
      const len = before.volatile[L.vSize] * BLOCK_SIZE;
      const granted = after.volatile[L.vVma + (p.m as number)];
      const note =
        ok && p.flags === 'shared_sync_unvalidated' && granted !== VMA_SYNC
          ? ' (this kernel has no MAP_SYNC and ignores it under MAP_SHARED: an ordinary shared mapping)'
          : ok && p.flags === 'shared_sync_unvalidated'
            ? " (VM_SYNC: do_mmap takes it from the caller's flags before MAP_SHARED masks them)"
            : ok && granted === VMA_SYNC
              ? ' (VM_SYNC)'
              : '';
      return `mmap(NULL, ${len}, PROT_READ|PROT_WRITE, ${mmapFlagsText(p.flags as MmapFlags)}, ${FD}, 0) = ${ok ? MAP_ADDR(p.m as number) : errnoText(after, L, t)}${note}`;
    }
    case 'munmap':
      return `munmap(${MAP_ADDR(p.m as number)}, ${L.B * BLOCK_SIZE}) = ${errnoText(after, L, t)}`;
    case 'msync':
    case 'fsync':
    case 'fdatasync': {
      const call =
        a.type === 'msync' ? `msync(${MAP_ADDR(p.m as number)}, ${L.B * BLOCK_SIZE}, MS_SYNC)` : `${a.type}(${FD})`;
      const flushed = dirtyCount(before, L) - dirtyCount(after, L);
      const items = itemNames(before, L);
      return `${call} = ${errnoText(after, L, t)} → ${flushed} dirty word${flushed === 1 ? '' : 's'} written back; ${
        items.length ? `journal committed (${items.join(', ')})` : 'nothing to commit'
      }`;
    }
    case 'store': {
      const off = b * BLOCK_SIZE + (p.w as number) * WORD_STRIDE;
      return `store ${wordName(p.value as number)} to block ${b} word ${p.w} (${MAP_ADDR(p.m as number)} + 0x${off.toString(16)}): cache line dirty`;
    }
    case 'clwb_sfence': {
      const flushed = dirtyCount(before, L) - dirtyCount(after, L);
      if (!before.durable[L.dSdax]) return `clwb + sfence on block ${b}: the data is in the page cache, a CPU flush does not make it durable`;
      if (!cpuFlushPersists(before, L)) return `clwb + sfence on block ${b}: reaches only the host's page cache (virtualized NVDIMM), not durable`;
      return `clwb + sfence on block ${b} → ${flushed} dirty word${flushed === 1 ? '' : 's'} written back to pmem`;
    }
    case 'dax_iomap_fault':
    case 'page_mkwrite':
    case 'filemap_fault': {
      const write = a.type !== 'filemap_fault' && p.write !== false;
      const name = a.type === 'dax_iomap_fault' ? `dax_iomap_fault(${write ? 'write' : 'read'}, block ${b})` : `${a.type}(block ${b})`;
      if (after.volatile[L.vErr + t] !== OK) return `${name} → ${ERRNO_NAMES[after.volatile[L.vErr + t]]}`;
      const k0 = before.volatile[L.vExtKind + b];
      const k1 = after.volatile[L.vExtKind + b];
      const phys = after.volatile[L.vExtPhys + b];
      const cache = a.type === 'page_mkwrite' ? ' (page cache)' : '';
      if (!write) return `${name} → ${isWrittenKind(k1) ? 'PTE read-only' : 'zero page mapped read-only'}`;
      if (k0 === SHARED && k1 === WRITTEN) {
        return `${name} → block ${b} shared with another file: copied to pmem block ${phys} in running transaction (copy on write); PTE writable`;
      }
      if (k0 === HOLE && k1 === WRITTEN) {
        const cachedZeros = after.volatile[L.vDirty + L.word(phys, 0)] === 1 && a.type === 'dax_iomap_fault';
        const zeroed = cachedZeros ? 'zeroed with ordinary stores still in the CPU cache' : 'zeroed';
        return `${name} → block ${b} allocated in running transaction (pmem block ${phys}, ${zeroed})${cache}; PTE writable`;
      }
      if (k0 === UNWRITTEN && k1 === WRITTEN) {
        return `${name} → unwritten extent of block ${b} zeroed and converted in running transaction${cache}; PTE writable`;
      }
      return `${name} → block ${b} already allocated${cache}; PTE writable`;
    }
    case 'dax_pfn_mkwrite':
      return `dax_pfn_mkwrite(block ${b}) → PTE writable`;
    case 'dax_finish_sync_fault': {
      if (before.volatile[L.vVma + (p.m as number)] !== VMA_SYNC) return null;
      const items = itemNames(before, L);
      return inodeItems(before, L) > 0
        ? `dax_finish_sync_fault → MAP_SYNC: journal committed (${items.join(', ')}) before the fault returns`
        : 'dax_finish_sync_fault → metadata already committed, nothing to sync';
    }
    case 'jbd2_journal_commit_transaction':
      return `jbd2_journal_commit_transaction → ${itemNames(before, L).join(', ')} now durable`;
    case 'evict_cache_line': {
      const phys = a.event.p ?? 0;
      const where = blocksOf(before, L, phys).map((x) => `block ${x}`)[0] ?? `pmem block ${phys}`;
      return before.durable[L.dSdax]
        ? `the CPU evicts the dirty cache line of ${where} → written back to pmem`
        : `the flusher thread writes back the dirty page of ${where}`;
    }
    case 'power_fail': {
      const dirty: string[] = [];
      for (let i = 0; i < L.P * L.W; i++) {
        if (before.volatile[L.vDirty + i]) dirty.push(`${wordPlace(before, L, i)} (${wordName(before.volatile[L.vCache + i])})`);
      }
      const parts = ['power failure'];
      const cache = !before.durable[L.dSdax] ? 'page cache' : cpuFlushPersists(before, L) ? 'CPU cache' : "host's page cache";
      parts.push(dirty.length ? `dirty in the ${cache}: ${dirty.join(', ')}` : 'no dirty cache lines');
      const pending = itemNames(before, L);
      parts.push(pending.length ? `running transaction lost (${pending.join(', ')})` : 'nothing uncommitted in the journal');
      return parts.join('; ');
    }
    case 'cache_line_reached_media':
    case 'cache_line_lost':
    case 'cache_line_unobservable': {
      const i = [...Array(L.P * L.W).keys()].find((x) => before.volatile[L.vDirty + x] && !after.volatile[L.vDirty + x])!;
      const what = `${wordPlace(before, L, i)} (${wordName(before.volatile[L.vCache + i])})`;
      if (a.type === 'cache_line_unobservable') {
        const why = before.volatile[L.vCache + i] === before.durable[L.dPmem + i] ? 'pmem already holds it' : 'its block is no file block after recovery';
        return `${what}: whether it reached pmem cannot be observed (${why}); one crash image for both`;
      }
      return a.type === 'cache_line_reached_media' ? `${what} had reached pmem before the power failed` : `${what} is lost`;
    }
    case 'mount_and_recover': {
      const blocks = [...Array(L.B).keys()].map((x) => `block ${x} ${extentText(after.durable[L.dExtKind + x], after.durable[L.dExtPhys + x])}`);
      return `journal recovery replays committed transactions → i_size ${after.durable[L.dSize] * BLOCK_SIZE}, ${blocks.join(', ')}`;
    }
    case 'app_recovery_check': {
      const parts = [...Array(L.T).keys()].map((x) => {
        const s = recordState(after, L, app, x);
        const target = app.dataBlock(x);
        const kind = after.durable[L.dExtKind + target];
        const detail =
          s === SAW_DANGLING
            ? target >= after.durable[L.dSize]
              ? ` (block ${target} is beyond the end of the file)`
              : kind === HOLE
                ? ` (block ${target} is a hole: the pointer leads to zeros)`
                : ` (block ${target} is an unwritten extent: the pointer leads to zeros)`
            : '';
        return `record ${x}: ${SAW_NAMES[s]}${detail}`;
      });
      return `application recovery check: ${parts.join('; ')}`;
    }
    case 'third_party_refused': {
      const op = p.op as ThirdPartyOp;
      return `${opCall(L, op)}${PER_BLOCK.has(op) ? ` on block ${b}` : ''} = -EPERM (${L.hooks.refusal?.(op) ?? 'refused'})`;
    }
    case 'third_party_start': {
      const op = p.op as ThirdPartyOp;
      const parts = [`${opCall(L, op)}${PER_BLOCK.has(op) ? ` on block ${b}` : ''}`];
      if (after.volatile[L.vMmapLock]) parts.push('MMAPLOCK taken, new faults wait');
      else if (LEAVES_MAPPINGS.has(op)) parts.push('i_rwsem taken, not refused');
      const written = dirtyCount(before, L) - dirtyCount(after, L);
      if (written > 0) parts.push(`filemap_write_and_wait_range writes back ${written} dirty word${written === 1 ? '' : 's'}`);
      const dropped = countPtes(before, L) - countPtes(after, L);
      if (dropped > 0) parts.push(`unmap_mapping_range drops ${dropped} page-table entr${dropped === 1 ? 'y' : 'ies'}`);
      return parts.join(': ');
    }
    case 'third_party_apply': {
      const op = p.op as ThirdPartyOp;
      const ext = (c: DaxContext, x: number) => extentText(c.volatile[L.vExtKind + x], c.volatile[L.vExtPhys + x]);
      switch (op) {
        case 'defrag':
        case 'scrub':
        case 'dedupe':
          return `${opCall(L, op)} moves block ${b}: ${ext(before, b)} → ${ext(after, b)} (copied; running transaction)`;
        case 'punch':
          return `${opCall(L, op)}: block ${b} freed (running transaction)`;
        case 'truncate':
          return `${opCall(L, op)}: i_size ${after.volatile[L.vSize] * BLOCK_SIZE}, blocks ${b}.. freed (running transaction)`;
        case 'split':
          return `extent tree split: the mapping of block ${b} moves to leaf ${after.volatile[L.vExtLeaf + b]} (running transaction; the block does not move)`;
        case 'eofscan':
          return `${opCall(L, op)}: blocks beyond EOF freed`;
        case 'write':
          return `${opCall(L, op)} on block ${b}: file_update_time → mtime/ctime changed (running transaction)`;
        case 'clearflag':
          return `${opCall(L, op)}: the inode is no longer ${L.hooks.inodeFlag?.name ?? 'flagged'} (running transaction)`;
        default:
          return `${opCall(L, op)}: every written block now shared with another file (running transaction)`;
      }
    }
    case 'third_party_finish':
      return before.volatile[L.vMmapLock] || inodeItems(before, L) !== inodeItems(after, L)
        ? `${opCall(L, p.op as ThirdPartyOp)} done${inodeItems(after, L) < inodeItems(before, L) ? ', metadata committed' : ''}${before.volatile[L.vMmapLock] ? ', MMAPLOCK released' : ''}`
        : `${opCall(L, p.op as ThirdPartyOp)} done`;
    case 'other_inode_dirty':
      return `other inodes dirty ${L.U} metadata object${L.U === 1 ? '' : 's'} in the running transaction`;
    case 'app_believes_durable':
      return `(the application now treats record ${t} as durable)`;
    case 'restart':
      return 'the application starts again';
    default:
      return a.type;
  }
}

/** Present page-table entries, over all mappings. */
function countPtes(c: DaxContext, L: Layout): number {
  let n = 0;
  for (let i = 0; i < L.M * L.B; i++) if (c.volatile[L.vPte + i] !== 0) n++;
  return n;
}

/** Who takes a step: `T0`, `jbd2`, `cpu`, ... from the event type. */
export function actorOf(eventType: string): string {
  const dot = eventType.indexOf('.');
  if (/^T\d+\./.test(eventType)) return eventType.slice(0, dot);
  if (eventType.startsWith('M.')) return 'third party';
  if (eventType === 'other.dirty') return 'other inodes';
  if (eventType === 'power_fail' || eventType.startsWith('power.')) return 'power';
  if (eventType === 'app.recover' || eventType === 'restart') return 'app';
  return dot > 0 ? eventType.slice(0, dot) : eventType;
}

/**
 * The whole step as kernel text (without the actor): each action's own text where it carries one
 * (`kernelAction`), else the shared model's words.
 */
export function describeStep(L: Layout, app: AppLayout, actions: TakenAction[], texts: Record<string, ActionText> = {}): string {
  const shared = (a: TakenAction) => describeAction(L, app, a);
  return actions
    .map((a) => (texts[a.type] ? texts[a.type](a, shared) : describeAction(L, app, a)))
    .filter((x): x is string => x !== null)
    .join('; ');
}

/** The state as named fields, for "what changed" in each step. Ghost fields are left out. */
export function describeState(L: Layout, c: DaxContext): Record<string, string> {
  return describeFields(L, c).values;
}

/** What each field of describeState is, as the shared model declares it (models/layout.ts coreFields). */
export function describeStateKinds(L: Layout, c: DaxContext): Record<string, FieldInfo> {
  return describeFields(L, c).info;
}

/** The named fields and, beside each, its kind and durable twin: written together so they cannot drift. */
function describeFields(L: Layout, c: DaxContext): { values: Record<string, string>; info: Record<string, FieldInfo> } {
  const v = c.volatile;
  const d = c.durable;
  const values: Record<string, string> = {};
  const info: Record<string, FieldInfo> = {};
  const put = (name: string, value: string, kind: FieldKind, durable?: string) => {
    values[name] = value;
    info[name] = durable ? { kind, durable } : { kind };
  };
  // size, extent and phys are volatile (the in-memory inode), committed* durable (the journal's).
  put('i_size', `${v[L.vSize] * BLOCK_SIZE}`, 'volatile', 'i_size (committed)');
  put('i_size (committed)', `${d[L.dSize] * BLOCK_SIZE}`, 'durable');
  for (let b = 0; b < L.B; b++) {
    put(`block ${b}`, extentText(v[L.vExtKind + b], v[L.vExtPhys + b]), 'volatile', `block ${b} (committed)`);
    put(`block ${b} (committed)`, extentText(d[L.dExtKind + b], d[L.dExtPhys + b]), 'durable');
  }
  // The running transaction is not stored: it is the difference between the two inodes.
  put('running transaction', `${runningItems(c, L)} item(s)`, 'journal');
  for (let p = 0; p < L.P; p++) {
    for (let w = 0; w < L.W; w++) {
      const i = L.word(p, w);
      put(`pmem ${p}.${w}`, wordName(d[L.dPmem + i]), 'durable');
      put(`cache ${p}.${w}`, v[L.vDirty + i] ? `${wordName(v[L.vCache + i])} (dirty)` : 'clean', 'cache', `pmem ${p}.${w}`);
    }
  }
  for (let t = 0; t < L.T; t++) put(`T${t} fd`, v[L.vFd + t] ? (v[L.vFd + t] === FD_APPEND ? 'open O_APPEND' : 'open') : 'closed', 'volatile');
  if (L.vGSize >= 0) {
    put("g's i_size", `${v[L.vGSize] * BLOCK_SIZE}`, 'volatile', "g's i_size (committed)");
    put("g's i_size (committed)", `${d[L.dGSize] * BLOCK_SIZE}`, 'durable');
    for (let b = 0; b < G_BLOCKS; b++) {
      put(`g's block ${b}`, EXTENT_NAMES[v[L.vGExtent + b]], 'volatile', `g's block ${b} (committed)`);
      put(`g's block ${b} (committed)`, EXTENT_NAMES[d[L.dGExtent + b]], 'durable');
    }
    put("g's timestamps", v[L.vGTimes] === d[L.dGTimes] ? 'committed' : 'changed in running transaction', 'volatile');
    for (let t = 0; t < L.T; t++) put(`T${t} g fd`, v[L.vGFd + t] ? (v[L.vGFd + t] === FD_APPEND ? 'open O_APPEND' : 'open') : 'closed', 'volatile');
  }
  for (let m = 0; m < L.M; m++) {
    const kind = v[L.vVma + m];
    put(`mapping ${m}`, kind === VMA_NONE ? 'none' : kind === VMA_SYNC ? 'MAP_SYNC' : 'MAP_SHARED', 'pagetable');
    for (let b = 0; b < L.B; b++) {
      const e = v[L.vPte + m * L.B + b];
      put(`PTE ${m}.${b}`, e === PTE_RW || (e !== 0 && isWrittenKind(v[L.vExtKind + b])) ? `${PTE_NAMES[e]} → pmem ${v[L.vPtePhys + m * L.B + b]}` : PTE_NAMES[e], 'pagetable');
    }
  }
  return { values, info };
}

/** What the file holds after the crash and recovery: the durable state, in file terms. */
export type DurableState = DurableSummary & {
  size: number;
  blocks: { block: number; extent: string; words: string[] }[];
  records: { thread: number; found: string }[];
  text: string;
  /** The second file g after recovery, where the configuration has one: i_size and written blocks. */
  g?: { size: number; writtenBlocks: number };
};

export function describeDurable(L: Layout, app: AppLayout, c: DaxContext): DurableState {
  const d = c.durable;
  const blocks = [...Array(L.B).keys()].map((b) => ({
    block: b,
    extent: b < d[L.dSize] ? extentText(d[L.dExtKind + b], d[L.dExtPhys + b]) : 'beyond EOF',
    words: [...Array(L.W).keys()].map((w) => wordName(durableWord(d, L, b, w))),
  }));
  const records = [...Array(L.T).keys()].map((t) => ({ thread: t, found: SAW_NAMES[recordState(c, L, app, t)] }));
  const text =
    `file size ${d[L.dSize] * BLOCK_SIZE}; ` +
    blocks.map((x) => `block ${x.block}: ${x.extent} [${x.words.join(', ')}]`).join('; ') +
    '; ' +
    records.map((r) => `record ${r.thread}: ${r.found}`).join('; ');
  if (L.dGSize < 0) return { size: d[L.dSize] * BLOCK_SIZE, blocks, records, text };
  let written = 0;
  for (let b = 0; b < G_BLOCKS; b++) if (b < d[L.dGSize] && d[L.dGExtent + b] === WRITTEN) written++;
  const g = { size: d[L.dGSize] * BLOCK_SIZE, writtenBlocks: written };
  return { size: d[L.dSize] * BLOCK_SIZE, blocks, records, text: `${text}; g: size ${g.size}, ${written} block${written === 1 ? '' : 's'} written`, g };
}

/** The renderer of every spec built on the shared model and the application of DOMAIN.md. */
export function daxRenderer(L: Layout, app: AppLayout, texts: Record<string, ActionText> = {}): Renderer<DaxContext> {
  return {
    actor: (event) => actorOf(event.type),
    step: (_event, actions) => describeStep(L, app, actions as TakenAction[], texts),
    // For a thread's step: the errno its system call returned (or the signal it got).
    outcome(event, _before, after) {
      const m = /^T(\d+)\./.exec(event.type);
      return m ? { errno: ERRNO_NAMES[after.volatile[L.vErr + Number(m[1])]] } : null;
    },
    state: (c) => describeState(L, c),
    fields: (c) => describeStateKinds(L, c),
    afterCrash: (view: MachineView<DaxContext>) =>
      view.matches('recovered') || view.matches('checked') ? describeDurable(L, app, view.context) : null,
  };
}
