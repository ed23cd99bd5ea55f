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

import { FieldPacking, fields, type FieldDecls, type FieldView, type Part, type ViewBase } from './fields.ts';
import type { ProposalMmapFlags } from './syscalls.ts';

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
/** Written, and shared with another file (reflink, snapshot, dedupe): a write must copy it first. */
export const SHARED = 3;
export const EXTENT_NAMES = ['hole', 'unwritten', 'written', 'shared'] as const;
/** Does the extent hold data (written, whether shared or not)? */
export const isWrittenKind = (kind: number) => kind === WRITTEN || kind === SHARED;

/**
 * Third-party and background operations (models/third-party.ts), in a fixed order. `clearflag`
 * clears the proposal's own inode flag (KernelHooks.inodeFlag).
 */
export const THIRD_PARTY_OPS = ['punch', 'truncate', 'reflink', 'dedupe', 'defrag', 'scrub', 'snapshot', 'eofscan', 'split', 'write', 'clearflag'] as const;
export type ThirdPartyOp = (typeof THIRD_PARTY_OPS)[number];

// ---- inode flags (bits of the `flags` fields). A proposal may define its own flag in a free
// bit (KernelHooks.inodeFlag), e.g. PMEM_IMMUTABLE in bit 0.
/**
 * The inode's timestamps (mtime/ctime), as one bit that flips when file_update_time changes them:
 * enough to make the change a journalled metadata change, which is all the model needs of them.
 */
export const FLAG_MTIME = 2;

// ---- mappings (VMAs)
export const VMA_NONE = 0;
/** mmap(MAP_SHARED): DAX mapping without synchronous faults. */
export const VMA_SHARED = 1;
/** mmap(MAP_SHARED_VALIDATE|MAP_SYNC): VM_SYNC is set. */
export const VMA_SYNC = 2;
/**
 * The kinds of mapping the shared model knows. A proposal's own kind of mapping (mmap flags of its
 * own) is one of these to the core plus what the proposal keeps per mapping in its own fields.
 */
export const VMA_NAMES = ['none', 'MAP_SHARED', 'MAP_SYNC'] as const;

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

/** Which optional parts of the shared model a configuration uses; the others are bounded to 0. */
export interface Features {
  /** Third-party and background operations (reflink, defrag, punch, ...). */
  thirdParty?: boolean;
  /** Extent-tree leaves (splits and merges move a block's mapping between leaves). */
  extentTree?: boolean;
  /** Inode flag bits of the proposal's own (KernelHooks.inodeFlag). */
  inodeFlags?: number;
  /**
   * A second file g (its own descriptor, write(2), fsync and fdatasync) whose metadata shares the
   * running transaction with the file's: g's fields exist only in configurations that use it.
   */
  secondFile?: boolean;
  /** Descriptors opened with O_APPEND (write(2) at the end of the file): the fd fields hold 2 for them. */
  append?: boolean;
}

/** Blocks of the second file g: it starts with block 0 written and committed, block 1 a hole. */
export const G_BLOCKS = 2;

/** Descriptor states: closed, open O_RDWR, open O_RDWR|O_APPEND. */
export const FD_CLOSED = 0;
export const FD_OPEN = 1;
export const FD_APPEND = 2;

/**
 * The second file's fields (Features.secondFile): its in-memory and committed inode (i_size,
 * extent kinds, timestamps), and each thread's descriptor of it. Its bytes are not modelled: no
 * property reads them, and its blocks come from the filesystem's free space outside the modelled
 * persistent memory; what matters is its metadata in the running transaction.
 */
function secondFileFields(T: number, append: boolean) {
  return fields({
    gCommittedSize: { part: 'durable', shape: [], max: G_BLOCKS, doc: "g's i_size in blocks, as the journal last committed it" },
    gCommittedExtent: { part: 'durable', shape: [G_BLOCKS], max: WRITTEN, doc: "g's committed extent kind of each block (EXTENT_NAMES)" },
    gCommittedTimes: { part: 'durable', shape: [], max: 1, doc: "g's committed mtime/ctime (one bit: which of two values)" },
    gSize: { part: 'volatile', shape: [], max: G_BLOCKS, doc: "g's i_size in blocks, in memory" },
    gExtent: { part: 'volatile', shape: [G_BLOCKS], max: WRITTEN, doc: "g's in-memory extent kind of each block" },
    gTimes: { part: 'volatile', shape: [], max: 1, doc: "g's in-memory mtime/ctime: differs from the committed bit while file_update_time's change is uncommitted" },
    gFd: { part: 'volatile', shape: [T], max: append ? FD_APPEND : FD_OPEN, doc: 'thread t has g open (2: with O_APPEND)' },
  });
}

/**
 * The shared model's fields, in packing order. A bound of 0 (a feature the configuration does not
 * use) costs no bits once packed. A proposal's own fields are declared in its spec folder and
 * packed after these (`Layout`'s `fields` option).
 */
export function coreFields(d: Dimensions, f: Features = {}) {
  const { threads: T, blocks: B, phys: P, words: W } = d;
  const M = T;
  const extKindMax = f.thirdParty ? SHARED : WRITTEN;
  const flagsMax = (f.inodeFlags ?? 0) | (f.thirdParty ? FLAG_MTIME : 0);
  return fields({
    // ---- durable: the committed journal (on-media inode and extent map) and persistent memory
    committedSize: { part: 'durable', shape: [], max: B, doc: 'i_size in blocks, as the journal last committed it' },
    sdax: { part: 'durable', shape: [], max: 1, doc: 'S_DAX (FS_XFLAG_DAX or a dax mount)' },
    platform: { part: 'durable', shape: [], values: PLATFORMS, doc: "the platform's persistence domain; fixed for a configuration" },
    committedFlags: { part: 'durable', shape: [], max: flagsMax, doc: "committed inode flags (bits: the timestamps, the proposal's own flag)" },
    committedExtent: { part: 'durable', shape: [B], max: extKindMax, doc: 'committed extent kind of each file block (EXTENT_NAMES)' },
    committedPhys: { part: 'durable', shape: [B], max: P - 1, doc: 'committed physical block of each file block' },
    committedLeaf: { part: 'durable', shape: [B], max: f.extentTree ? 1 : 0, doc: "which extent-tree leaf holds the block's mapping on the media (seed 004)" },
    pmem: { part: 'durable', shape: [P, W], max: MAX_WORD_VALUE, doc: 'the words of persistent memory' },
    otherRef: { part: 'durable', shape: [P], max: f.thirdParty ? 1 : 0, doc: 'the physical block is also referenced by another file (reflink, snapshot, dedupe)' },
    // ---- volatile: the in-memory inode, caches, descriptors, mappings
    size: { part: 'volatile', shape: [], max: B, doc: 'i_size in blocks, in memory' },
    flags: { part: 'volatile', shape: [], max: flagsMax, doc: 'in-memory inode flags' },
    extent: { part: 'volatile', shape: [B], max: extKindMax, doc: 'in-memory extent kind of each file block (EXTENT_NAMES)' },
    phys: { part: 'volatile', shape: [B], max: P - 1, doc: 'in-memory physical block of each file block' },
    leaf: { part: 'volatile', shape: [B], max: f.extentTree ? 1 : 0, doc: "which extent-tree leaf holds the block's mapping in memory" },
    cache: { part: 'volatile', shape: [P, W], max: MAX_WORD_VALUE, doc: 'CPU cache line of each word of persistent memory' },
    dirty: { part: 'volatile', shape: [P, W], max: 1, doc: 'the cache line holds data not yet written back' },
    fd: { part: 'volatile', shape: [T], max: f.append ? FD_APPEND : FD_OPEN, doc: f.append ? 'thread t has the file open (2: with O_APPEND)' : 'thread t has the file open' },
    errno: { part: 'volatile', shape: [T], values: ERRNO_NAMES, doc: "errno of thread t's last system call (or the signal that killed it)" },
    vma: { part: 'volatile', shape: [M], values: VMA_NAMES, doc: 'the kind of mapping m (VMA_NAMES)' },
    pte: { part: 'volatile', shape: [M, B], values: PTE_NAMES, doc: 'page-table entry of mapping m for file block b' },
    ptePhys: { part: 'volatile', shape: [M, B], max: P - 1, doc: 'physical block a page-table entry maps: after a relocation a stale entry still maps the old one' },
    unrelated: { part: 'volatile', shape: [], max: d.unrelated, doc: 'dirty metadata objects of unrelated inodes in the running transaction' },
    mmapLock: { part: 'volatile', shape: [], max: f.thirdParty ? 1 : 0, doc: 'i_mmap_lock (MMAPLOCK) held exclusively by a third-party operation: new faults wait' },
    opDone: { part: 'volatile', shape: [THIRD_PARTY_OPS.length], max: f.thirdParty ? 1 : 0, doc: 'third-party operation i (THIRD_PARTY_OPS) has already run' },
    // ---- ghost: for properties only
    crashes: { part: 'ghost', shape: [], max: 3, doc: 'power failures so far' },
    promised: { part: 'ghost', shape: [B, W], max: MAX_WORD_VALUE + 1, doc: 'what the last fsync promised word w of block b reads after a crash (value + 1; 0 nothing)' },
    believesDurable: { part: 'ghost', shape: [T], max: 1, doc: 'the application believes record t durable (its commit point)' },
    saw: { part: 'ghost', shape: [T], values: SAW_NAMES, doc: "what the application's recovery check found for record t" },
    ...(f.secondFile ? secondFileFields(T, !!f.append) : ({} as ReturnType<typeof secondFileFields>)),
  });
}

export type CoreFields = ReturnType<typeof coreFields>;

/**
 * Where a proposal's own state meets the shared kernel model: the core calls these at fixed
 * points, so that the core never names a proposal. Each is optional; the shared model alone
 * behaves as if none were given.
 */
export interface KernelHooks {
  /** Is physical block p held by the proposal's own state (e.g. NOVA's copy-on-write cache), so never free? */
  holdsPhys?(c: DaxContext, L: Layout<FieldDecls>, p: number): boolean;
  /** `unmap_mapping_range` dropped blocks [from, to) of every mapping: state kept with the mapping goes too. */
  onUnmap?(c: DaxContext, L: Layout<FieldDecls>, from: number, to: number): void;
  /**
   * The proposal's own on-disk inode flag (e.g. PMEM_IMMUTABLE): its bit in the inode flags and its
   * name. A third party's `clearflag` operation clears it.
   */
  inodeFlag?: { bit: number; name: string };
  /**
   * Does the proposal refuse third-party operation `op` with EPERM in this state (e.g. while
   * PMEM_IMMUTABLE is set)? Absent: nothing is refused.
   */
  refuses?(c: DaxContext, L: Layout<FieldDecls>, op: ThirdPartyOp): boolean;
  /** Why `op` was refused, as the trace says it: `= -EPERM (<reason>)`. */
  refusal?(op: ThirdPartyOp): string;
  /**
   * The commit an fsync, fdatasync, msync or a synchronous page fault (dax_finish_sync_fault) asks
   * the journal for; returns the items it wrote. The shared model's answer is jbd2's: the whole
   * running transaction, unrelated inodes' objects included (journal.ts commitRunningTransaction).
   * A kernel choice a variant may replace, e.g. ext4's fast commit (Linux 5.10), which writes only
   * this inode's changes. The journal's own background commit stays whole.
   */
  syncCommit?(c: DaxContext, L: Layout<FieldDecls>): number;
  /** Metadata items of the proposal's own that became durable between two states (for the fault cost). */
  durableItems?(before: DaxContext, after: DaxContext, L: Layout<FieldDecls>): number;

  // ---- mappings of the proposal's own kind (mmap flags the shared model does not know)
  /**
   * The errno mmap(2) returns for flags the shared model does not know (the proposal's own, under
   * MAP_SHARED_VALIDATE), once the descriptor is known good: 0 when it maps. Without the hook, or
   * when it returns undefined, the flags are refused with EOPNOTSUPP, as MAP_SHARED_VALIDATE does
   * with flags the kernel lacks.
   */
  mmapErrno?(c: DaxContext, L: Layout<FieldDecls>, flags: ProposalMmapFlags): number | undefined;
  /**
   * mmap(2) mapped the file as mapping m with flags the shared model does not know (`mmapErrno`
   * said 0): the proposal sets up what it keeps per mapping, and returns the kind the shared model
   * records for the VMA (VMA_SHARED or VMA_SYNC).
   */
  mmap?(c: DaxContext, L: Layout<FieldDecls>, m: number, flags: ProposalMmapFlags): number;
  /** munmap(2) removed mapping m: what the proposal kept with that mapping goes too. */
  onMunmap?(c: DaxContext, L: Layout<FieldDecls>, m: number): void;

  // ---- memory of the proposal's own behind a mapping (e.g. page-cache pages in DRAM)
  /**
   * Do mapping m's page-table entries map memory the proposal keeps (e.g. page-cache pages in
   * DRAM) rather than the file's persistent memory? Then a CPU store through m goes to
   * `storeOwn`, a CPU flush through m persists nothing, and m's entries are kept coherent by the
   * proposal rather than held to the extent map (the shared mapping-coherence property skips m).
   */
  mapsOwnMemory?(c: DaxContext, L: Layout<FieldDecls>, m: number): boolean;
  /** A CPU store of `value` to word w of file block b through mapping m, where `mapsOwnMemory(m)`. */
  storeOwn?(c: DaxContext, L: Layout<FieldDecls>, m: number, b: number, w: number, value: number): void;
  /**
   * The word a load of word w of file block b (within i_size) sees, if the proposal's state holds
   * a newer one than the file's memory (e.g. a dirty page-cache word); undefined otherwise.
   */
  heldWord?(c: DaxContext, L: Layout<FieldDecls>, b: number, w: number): number | undefined;
  /**
   * fsync's writeback of the dirty data the proposal keeps for file block b (e.g. page-cache
   * pages), before the file's cache lines are flushed and the journal committed: the words
   * written, or -1 when there is no space to write them (fsync fails with ENOSPC; the data stays).
   */
  writeBackOwn?(c: DaxContext, L: Layout<FieldDecls>, b: number): number;
}

/** How a Layout is built beyond its dimensions. */
export interface LayoutOptions<X extends FieldDecls = {}> {
  /** The proposal's hooks into the shared kernel model. */
  hooks?: KernelHooks;
  /** Optional parts of the shared model the configuration uses. */
  features?: Features;
  /** The proposal's own fields, packed after the shared model's. */
  fields?: X;
  /** Who declares `fields` (for messages), e.g. `specs/nova`. */
  owner?: string;
}

/** File block b read whole, as properties talk about it. */
export interface BlockView {
  /** The extent in memory: 'hole', 'unwritten', 'written' or 'shared'. */
  readonly kind: (typeof EXTENT_NAMES)[number];
  /** The extent the journal last committed. */
  readonly committedKind: (typeof EXTENT_NAMES)[number];
  /** The physical block behind it in memory (meaningless for a hole). */
  readonly phys: number;
  /**
   * Written, inside the committed i_size, and committed exactly as it is in memory: a crash now
   * would find the block where the mapping has it.
   */
  readonly committed: boolean;
}

/** Readings of the shared state that combine fields, beside the fields themselves. */
export interface CoreReadings {
  /** File block b: its extent in memory and on the media (`s.block(1).committed`). */
  block(b: number): BlockView;
}

/** A typed view of a state: every declared field by name (see models/fields.ts), and CoreReadings. */
export type StateView<X extends FieldDecls = {}> = FieldView<CoreFields & X> & ViewBase & CoreReadings;

/**
 * Byte offsets of every field in the three vectors. `c.volatile[L.vPte + m * L.B + b]` is the
 * page-table entry of mapping m for file block b, and so on: the shared model's own code uses
 * offsets on its hot paths. Everything else, and every spec, reads state through a typed view
 * (`L.view().at(c).pte(m, b) === 'writable'`). Fields a configuration does not use stay 0 and get
 * a bound of 0 (see `bounds`), so they cost no bits once packed.
 */
export class Layout<X extends FieldDecls = {}> {
  readonly T: number;
  readonly B: number;
  readonly P: number;
  readonly W: number;
  readonly U: number;
  /** Mappings: one per thread. */
  readonly M: number;
  /** Where every field (the shared model's, then the proposal's) is packed. */
  readonly packing: FieldPacking;
  readonly features: Features;
  /** The proposal's hooks into the shared kernel model (empty for the shared model alone). */
  readonly hooks: KernelHooks;

  // ---- durable: the committed journal (on-media inode and extent map) and persistent memory
  readonly dSize: number;
  /** S_DAX (FS_XFLAG_DAX or a dax mount). */
  readonly dSdax: number;
  /** The platform's persistence domain (PLATFORMS); fixed for a configuration. */
  readonly dPlatform: number;
  /** Committed inode flags (INODE_FLAGS bits, e.g. PMEM_IMMUTABLE). */
  readonly dFlags: number;
  readonly dExtKind: number;
  readonly dExtPhys: number;
  /** Which leaf of the extent tree holds block b's mapping (seed 004: splits move it). */
  readonly dExtLeaf: number;
  readonly dPmem: number;
  /** Physical block also referenced by another file (reflink, snapshot, dedupe): never free. */
  readonly dOtherRef: number;
  readonly durableBytes: number;

  // ---- volatile: the in-memory inode, caches, descriptors, mappings
  readonly vSize: number;
  readonly vFlags: number;
  readonly vExtKind: number;
  readonly vExtPhys: number;
  readonly vExtLeaf: number;
  readonly vCache: number;
  readonly vDirty: number;
  readonly vFd: number;
  readonly vErr: number;
  readonly vVma: number;
  readonly vPte: number;
  /** Physical block a page-table entry maps: after a relocation a stale entry still maps the old one. */
  readonly vPtePhys: number;
  /** Dirty metadata objects of unrelated inodes in the running transaction. */
  readonly vUnrelated: number;
  /** i_mmap_lock (MMAPLOCK) held exclusively by a third-party operation: new faults wait. */
  readonly vMmapLock: number;
  /** Third-party operation i (THIRD_PARTY_OPS) has already run. */
  readonly vOpsDone: number;
  readonly volatileBytes: number;

  // ---- ghost: for properties only
  readonly gCrashes: number;
  readonly gPromise: number;
  readonly gAppDurable: number;
  readonly gAppSaw: number;
  readonly ghostBytes: number;

  // ---- the second file g (Features.secondFile); -1 where the configuration has none
  readonly dGSize: number;
  readonly dGExtent: number;
  readonly dGTimes: number;
  readonly vGSize: number;
  readonly vGExtent: number;
  readonly vGTimes: number;
  readonly vGFd: number;

  constructor(
    readonly dims: Dimensions,
    options: LayoutOptions<X> = {},
  ) {
    const { threads: T, blocks: B, phys: P, words: W, unrelated: U } = dims;
    this.T = T;
    this.B = B;
    this.P = P;
    this.W = W;
    this.U = U;
    this.M = T;
    this.features = options.features ?? {};
    this.hooks = options.hooks ?? {};
    const core = new FieldPacking(coreFields(dims, this.features));
    this.packing = options.fields ? core.extend(options.fields, options.owner ?? 'a proposal') : core;
    const at = (name: keyof CoreFields) => this.packing.field(name).offset;
    this.dSize = at('committedSize');
    this.dSdax = at('sdax');
    this.dPlatform = at('platform');
    this.dFlags = at('committedFlags');
    this.dExtKind = at('committedExtent');
    this.dExtPhys = at('committedPhys');
    this.dExtLeaf = at('committedLeaf');
    this.dPmem = at('pmem');
    this.dOtherRef = at('otherRef');
    this.vSize = at('size');
    this.vFlags = at('flags');
    this.vExtKind = at('extent');
    this.vExtPhys = at('phys');
    this.vExtLeaf = at('leaf');
    this.vCache = at('cache');
    this.vDirty = at('dirty');
    this.vFd = at('fd');
    this.vErr = at('errno');
    this.vVma = at('vma');
    this.vPte = at('pte');
    this.vPtePhys = at('ptePhys');
    this.vUnrelated = at('unrelated');
    this.vMmapLock = at('mmapLock');
    this.vOpsDone = at('opDone');
    this.gCrashes = at('crashes');
    this.gPromise = at('promised');
    this.gAppDurable = at('believesDurable');
    this.gAppSaw = at('saw');
    const g = (name: string) => (this.features.secondFile ? this.packing.field(name).offset : -1);
    this.dGSize = g('gCommittedSize');
    this.dGExtent = g('gCommittedExtent');
    this.dGTimes = g('gCommittedTimes');
    this.vGSize = g('gSize');
    this.vGExtent = g('gExtent');
    this.vGTimes = g('gTimes');
    this.vGFd = g('gFd');
    this.durableBytes = this.packing.size.durable;
    this.volatileBytes = this.packing.size.volatile;
    this.ghostBytes = this.packing.size.ghost;
  }

  /** Index of word w of physical block p in pmem / cache arrays. */
  word(p: number, w: number): number {
    return p * this.W + w;
  }

  /**
   * A new typed view of states of this layout: the shared model's fields and the proposal's, by
   * name. Make one per layout and point it at each context with `at(c)`.
   */
  view(): StateView<X> {
    const s = this.packing.view<CoreFields & X>() as unknown as StateView<{}>;
    let at = 0;
    const block: BlockView = {
      get kind() {
        return EXTENT_NAMES[s.extent(at)];
      },
      get committedKind() {
        return EXTENT_NAMES[s.committedExtent(at)];
      },
      get phys() {
        return s.phys(at);
      },
      get committed() {
        return at < s.committedSize() && s.committedExtent(at) === WRITTEN && s.extent(at) === WRITTEN && s.committedPhys(at) === s.phys(at);
      },
    };
    Object.defineProperty(s, 'block', {
      value: (b: number) => {
        at = b;
        return block;
      },
    });
    return s as unknown as StateView<X>;
  }

  private own?: StateView<X>;

  /**
   * The layout's own view, pointed at `c`. It is one object re-pointed on every call, so it reads
   * one context at a time: to compare two contexts (before and after a step) make views with
   * `view()`.
   */
  at(c: DaxContext): StateView<X> {
    return (this.own ??= this.view()).at(c);
  }

  /** Offset of a declared field in its vector (the shared model's own code uses offsets). */
  offset(name: keyof CoreFields | keyof X): number {
    return this.packing.field(name as string).offset;
  }

  /** `volatile[12]` as `pte[1][0]`, for messages. */
  byteName(part: Part, index: number): string {
    return this.packing.byteName(part, index) ?? `${part}[${index}]`;
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
    int(d.unrelated, 0, 15, 'unrelated dirty objects')
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
  if (L.features.secondFile) {
    // g was created, written (block 0) and synced before the run: clean, all committed.
    durable[L.dGSize] = vol[L.vGSize] = 1;
    durable[L.dGExtent] = vol[L.vGExtent] = WRITTEN;
  }
  return { durable, volatile: vol, ghost };
}

/** Largest value of every byte: the explorer packs states into these bounds (from the declarations). */
export function bounds(L: Layout<FieldDecls>): { durable: number[]; volatile: number[]; ghost: number[] } {
  const out = {
    durable: new Array<number>(L.durableBytes).fill(0),
    volatile: new Array<number>(L.volatileBytes).fill(0),
    ghost: new Array<number>(L.ghostBytes).fill(0),
  };
  L.packing.fillBounds(out);
  return out;
}
