/**
 * The shared state of every daxcheck spec: one file on a journaling filesystem, persistent memory
 * behind a CPU cache, the page tables of the processes that map the file, and the application.
 *
 * The state is three byte vectors, kept apart in the types:
 *  - durable: what survives a power failure (the committed journal, i.e. the on-media inode and
 *    extent map, and the contents of persistent memory);
 *  - volatile: what a power failure destroys (the in-memory inode and extent map, whose
 *    difference from the durable ones is the running journal transaction; CPU cache lines; file
 *    descriptors; mappings and page tables);
 *  - ghost: bookkeeping that exists only to state properties (what fsync promised, what the
 *    application believes, how many crashes happened). No operation of the system reads it.
 *
 * A crash (models/crash.ts) is the only operation that writes the durable part from the volatile
 * one without going through a flush or a commit.
 */

declare const durableBrand: unique symbol;
declare const volatileBrand: unique symbol;
declare const ghostBrand: unique symbol;
/** Bytes that survive a power failure. */
export type DurableBytes = Uint8Array & { readonly [durableBrand]: true };
/** Bytes a power failure destroys. */
export type VolatileBytes = Uint8Array & { readonly [volatileBrand]: true };
/** Verification-only bookkeeping. */
export type GhostBytes = Uint8Array & { readonly [ghostBrand]: true };

/** The context of every daxcheck machine. */
export type DaxContext = {
  durable: DurableBytes;
  volatile: VolatileBytes;
  ghost: GhostBytes;
};

/** Sizes of the model. All small: the explorer is exhaustive within them. */
export interface Dimensions {
  /** Application threads; thread t opens the file itself and maps it as mapping t. */
  threads: number;
  /** Blocks of the file (4 KiB each). */
  blocks: number;
  /** Physical blocks of persistent memory the allocator can hand out. */
  phys: number;
  /** Data words modelled per block (each its own cache line). */
  words: number;
  /** Unrelated dirty metadata objects (other inodes) that can join the running transaction. */
  unrelated: number;
}

export const BLOCK_SIZE = 4096;
/** Byte distance between modelled words of a block: each word is on its own cache line. */
export const WORD_STRIDE = 64;

// ---- data words: small symbols, not bytes of a real file
export const ZERO = 0;
/** Old contents of a physical block from before it was allocated to this file. */
export const STALE = 1;
/** The application's header magic. */
export const HDR = 2;
/** DATA(t): the record written by thread t. */
export const DATA = (t: number) => 3 + t;
/** PTR(b): a pointer to block b. */
export const PTR = (b: number) => 8 + b;
export const MAX_WORD_VALUE = 15;

// ---- extent states
export const HOLE = 0;
export const UNWRITTEN = 1;
export const WRITTEN = 2;
export const EXTENT_NAMES = ['hole', 'unwritten', 'written'] as const;

// ---- mappings (VMAs)
export const VMA_NONE = 0;
/** mmap(MAP_SHARED): DAX mapping without synchronous faults. */
export const VMA_SHARED = 1;
/** mmap(MAP_SHARED_VALIDATE|MAP_SYNC): VM_SYNC is set. */
export const VMA_SYNC = 2;

// ---- page-table entries
export const PTE_NONE = 0;
export const PTE_RO = 1;
export const PTE_RW = 2;
export const PTE_NAMES = ['absent', 'read-only', 'writable'] as const;

// ---- errno of a thread's last system call (or the signal that killed it)
export const OK = 0;
export const EOPNOTSUPP = 1;
export const EPERM = 2;
export const EINVAL = 3;
export const ENOSPC = 4;
export const SIGBUS = 5;
export const ENOMEM = 6;
export const EBADF = 7;
export const ERRNO_NAMES = ['0', 'EOPNOTSUPP', 'EPERM', 'EINVAL', 'ENOSPC', 'SIGBUS', 'ENOMEM', 'EBADF'] as const;

// ---- what the application's recovery check saw (ghost)
export const SAW_NOTHING = 0;
export const SAW_RECORD = 1;
export const SAW_DANGLING = 2;
export const SAW_TORN = 3;
export const SAW_NAMES = ['no record', 'record intact', 'dangling pointer', 'pointer to wrong data'] as const;

/**
 * Byte offsets of every field in the three vectors. `L.pte + m * L.B + b` is the page-table entry
 * of mapping m for file block b, and so on; the helpers below name the common ones.
 */
export class Layout {
  readonly T: number;
  readonly B: number;
  readonly P: number;
  readonly W: number;
  readonly U: number;
  /** Mappings: one per thread. */
  readonly M: number;

  // durable
  readonly dSize = 0;
  readonly dSdax = 1;
  /** The platform's persistence domain (PLATFORMS); fixed for a configuration. */
  readonly dPlatform = 2;
  readonly dExtKind = 3;
  readonly dExtPhys: number;
  readonly dPmem: number;
  readonly durableBytes: number;

  // volatile
  readonly vSize = 0;
  readonly vExtKind = 1;
  readonly vExtPhys: number;
  readonly vCache: number;
  readonly vDirty: number;
  readonly vFd: number;
  readonly vErr: number;
  readonly vVma: number;
  readonly vPte: number;
  readonly vUnrelated: number;
  readonly volatileBytes: number;

  // ghost
  readonly gCrashes = 0;
  readonly gPromise = 1;
  readonly gAppDurable: number;
  readonly gAppSaw: number;
  readonly ghostBytes: number;

  constructor(readonly dims: Dimensions) {
    const { threads: T, blocks: B, phys: P, words: W, unrelated: U } = dims;
    this.T = T;
    this.B = B;
    this.P = P;
    this.W = W;
    this.U = U;
    this.M = T;
    this.dExtPhys = this.dExtKind + B;
    this.dPmem = this.dExtPhys + B;
    this.durableBytes = this.dPmem + P * W;

    this.vExtPhys = this.vExtKind + B;
    this.vCache = this.vExtPhys + B;
    this.vDirty = this.vCache + P * W;
    this.vFd = this.vDirty + P * W;
    this.vErr = this.vFd + T;
    this.vVma = this.vErr + T;
    this.vPte = this.vVma + this.M;
    this.vUnrelated = this.vPte + this.M * B;
    this.volatileBytes = this.vUnrelated + 1;

    this.gAppDurable = this.gPromise + B * W;
    this.gAppSaw = this.gAppDurable + T;
    this.ghostBytes = this.gAppSaw + T;
  }

  /** Index of word w of physical block p in pmem / cache arrays. */
  word(p: number, w: number): number {
    return p * this.W + w;
  }
}

/** Checks dimensions and returns a one-line problem, or null. */
export function checkDimensions(d: Dimensions): string | null {
  const int = (n: number, lo: number, hi: number, what: string) =>
    Number.isInteger(n) && n >= lo && n <= hi ? null : `${what} must be an integer from ${lo} to ${hi}, got ${n}`;
  return (
    int(d.threads, 1, 4, 'threads') ??
    int(d.blocks, 1, 7, 'blocks') ??
    int(d.phys, 1, 8, 'physical blocks') ??
    int(d.words, 1, 4, 'words per block') ??
    int(d.unrelated, 0, 15, 'unrelated dirty objects') ??
    (d.phys * d.words > 10 ? `physical blocks × words must be at most 10 (each dirty word doubles the crash images), got ${d.phys * d.words}` : null)
  );
}

/**
 * Where a store is durable (seed 002, end of thread):
 *  - adr: the memory controller's queues are in the persistence domain; clwb + sfence suffices;
 *  - eadr: the CPU caches are too; a store is durable once globally visible;
 *  - virtual-nvdimm: an emulated NVDIMM backed by a host file; the guest kernel believes it is
 *    synchronous, but CPU flushes reach only the host's page cache: only the kernel's flush
 *    (fsync, msync, through a flush-hint address) makes data durable;
 *  - virtio-pmem: the same, but the device says its flush is asynchronous, so MAP_SYNC is refused.
 */
export const PLATFORMS = ['adr', 'eadr', 'virtual-nvdimm', 'virtio-pmem'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const ADR = 0;
export const EADR = 1;
export const VIRTUAL_NVDIMM = 2;
export const VIRTIO_PMEM = 3;

export interface InitialFile {
  /** The file's size in blocks when the application starts (durable: created and synced before). */
  size: number;
  /** S_DAX: the file is on a DAX mount (or has FS_XFLAG_DAX). */
  dax: boolean;
  /** The platform's persistence domain; ADR when not given. */
  platform?: Platform;
}

/** The initial context: a durable, empty file of `size` blocks (all holes) on pmem full of stale data. */
export function initialContext(L: Layout, file: InitialFile): DaxContext {
  const durable = new Uint8Array(L.durableBytes) as DurableBytes;
  const vol = new Uint8Array(L.volatileBytes) as VolatileBytes;
  const ghost = new Uint8Array(L.ghostBytes) as GhostBytes;
  durable[L.dSize] = file.size;
  durable[L.dSdax] = file.dax ? 1 : 0;
  durable[L.dPlatform] = PLATFORMS.indexOf(file.platform ?? 'adr');
  durable.fill(STALE, L.dPmem, L.dPmem + L.P * L.W);
  vol[L.vSize] = file.size;
  return { durable, volatile: vol, ghost };
}

/** Largest value of every byte: the explorer packs states into these bounds. */
export function bounds(L: Layout): { durable: number[]; volatile: number[]; ghost: number[] } {
  const durable = new Array<number>(L.durableBytes).fill(0);
  durable[L.dSize] = L.B;
  durable[L.dSdax] = 1;
  durable[L.dPlatform] = PLATFORMS.length - 1;
  for (let b = 0; b < L.B; b++) {
    durable[L.dExtKind + b] = WRITTEN;
    durable[L.dExtPhys + b] = L.P - 1;
  }
  for (let i = 0; i < L.P * L.W; i++) durable[L.dPmem + i] = MAX_WORD_VALUE;

  const vol = new Array<number>(L.volatileBytes).fill(0);
  vol[L.vSize] = L.B;
  for (let b = 0; b < L.B; b++) {
    vol[L.vExtKind + b] = WRITTEN;
    vol[L.vExtPhys + b] = L.P - 1;
  }
  for (let i = 0; i < L.P * L.W; i++) {
    vol[L.vCache + i] = MAX_WORD_VALUE;
    vol[L.vDirty + i] = 1;
  }
  for (let t = 0; t < L.T; t++) {
    vol[L.vFd + t] = 1;
    vol[L.vErr + t] = ERRNO_NAMES.length - 1;
  }
  for (let m = 0; m < L.M; m++) vol[L.vVma + m] = VMA_SYNC;
  for (let i = 0; i < L.M * L.B; i++) vol[L.vPte + i] = PTE_RW;
  vol[L.vUnrelated] = L.U;

  const ghost = new Array<number>(L.ghostBytes).fill(0);
  ghost[L.gCrashes] = 3;
  for (let i = 0; i < L.B * L.W; i++) ghost[L.gPromise + i] = MAX_WORD_VALUE + 1;
  for (let t = 0; t < L.T; t++) {
    ghost[L.gAppDurable + t] = 1;
    ghost[L.gAppSaw + t] = SAW_NAMES.length - 1;
  }
  return { durable, volatile: vol, ghost };
}
