/**
 * Run configurations of the DAX fsync dirty-tracking spec (seed 001): one per review finding, the
 * design that was merged, and the locked design that came later. Each is a design (the choices in
 * tracking.ts) plus the threads that run against it. Expected verdicts and state
 * counts: manifest.json next to this file.
 */
import type { RunConfig } from '../common/spec.ts';
import type { TrackingDesign } from './tracking.ts';

/** One access of a writer's program: a CPU load or store of page `index`'s word. */
export interface Access {
  op: 'load' | 'store';
  index: number;
}

/** A writer thread: how its process maps the file, and what it does through the mapping. */
export interface WriterProgram {
  /** `pte`: 4 KiB pages; `pmd`: one huge page over the first PMD of the file (`__dax_pmd_fault`). */
  mapping: 'pte' | 'pmd';
  program: Access[];
}

export interface FsyncTrackingConfig extends RunConfig {
  design: TrackingDesign;
  /** Writer threads W0, W1, ...; writer m maps the file as mapping m. */
  writers: WriterProgram[];
  /** Threads F0, F1, ... that each call fsync(fd) once, concurrently with everything else. */
  fsyncs: number;
  /** Each fsync caller calls only after the previous one has returned (one thread syncing again and again). */
  serialFsyncs?: boolean;
  /**
   * The CPU may write back any dirty line at any moment. It can only make data durable sooner,
   * so it cannot change whether fsync keeps its promise; off by default to keep the space small.
   */
  evict?: boolean;
}

/** v8 as posted (the patch Jan Kara reviewed). */
export const V8: TrackingDesign = { pmdOverPte: 'clean-insert', towrite: 'before-flush', clean: 'never', entryLock: false };
/** v9 as Ross Zwisler promised it in the thread: tags transferred, TOWRITE cleared after the flush, entries never cleaned. */
export const V9: TrackingDesign = { pmdOverPte: 'transfer-tags', towrite: 'after-flush', clean: 'never', entryLock: false };

const load = (index: number): Access => ({ op: 'load', index });
const store = (index: number): Access => ({ op: 'store', index });

/**
 * W0 reads page 0 through a 4 KiB mapping, then writes it twice: the first write goes through
 * `wp_pfn_shared` / `dax_pfn_mkwrite`, the second finds the PTE writable unless writeback
 * write-protected it.
 */
const W0: WriterProgram = { mapping: 'pte', program: [load(0), store(0), store(0)] };
/** W1, another process, maps the same file with a huge page, reads page 1, then writes it. */
const W1_PMD: WriterProgram = { mapping: 'pmd', program: [load(1), store(1)] };
/** W1 with 4 KiB pages instead. */
const W1_PTE: WriterProgram = { mapping: 'pte', program: [load(1), store(1)] };

/** W0 writes page 0 twice and then page 1, each first write a write fault (`__dax_fault(write)`). */
const W0_WRITES_BOTH: WriterProgram = { mapping: 'pte', program: [store(0), store(0), store(1)] };
/** W1 writes page 1 and then page 0 through its huge page. */
const W1_PMD_WRITES_BOTH: WriterProgram = { mapping: 'pmd', program: [store(1), store(0)] };

const everything = { writers: [W0, W1_PMD], fsyncs: 2 };
/** W2, a third process with 4 KiB pages, reads page 1 and writes it. */
const W2_PTE: WriterProgram = { mapping: 'pte', program: [load(1), store(1)] };

export const fsyncTrackingConfigs: FsyncTrackingConfig[] = [
  {
    name: 'v8-pmd',
    description: 'v8 as posted, with a huge-page mapping: a PMD read fault replaces a DIRTY PTE entry by a clean PMD entry and the next fsync flushes nothing (finding 1)',
    design: V8,
    ...everything,
    default: true,
  },
  {
    name: 'v8-concurrent-fsync',
    description: 'v8 as posted, 4 KiB mappings only: one fsync clears TOWRITE before it flushes, and a concurrent fsync sees no TOWRITE and returns first (finding 2)',
    design: V8,
    writers: [W0, W1_PTE],
    fsyncs: 2,
    default: true,
  },
  {
    name: 'clean-without-wrprotect',
    description: 'v9, but entries are cleaned after the flush without write-protecting the mappings: the next store takes no fault and nothing re-dirties the entry (finding 3)',
    design: { ...V9, clean: 'after-flush' },
    ...everything,
    default: true,
  },
  {
    name: 'pgoff-mkclean',
    description: 'v9 plus v2\'s pgoff_mkclean (write-protect, flush, clean) without further locking: the wp_pfn_shared / writeback race of Ross Zwisler\'s diagram (finding 4)',
    design: { ...V9, clean: 'wrprotect' },
    ...everything,
    default: true,
  },
  {
    name: 'v2-as-posted',
    description: 'v2 as posted (Dave Chinner: "this looks racy"): TOWRITE and DIRTY cleared at the lookup, then wb_cache_pmem, then pgoff_mkclean',
    design: { ...V8, pmdOverPte: 'transfer-tags', clean: 'clean-then-wrprotect' },
    ...everything,
    default: false,
  },
  {
    name: 'v9',
    description: 'v9: tags transferred on PTE→PMD, TOWRITE cleared after the flush, entries never cleaned; a store after one fsync\'s flush, then a concurrent fsync whose TOWRITE tag the first clears',
    design: V9,
    ...everything,
    default: true,
  },
  {
    name: 'entry-lock',
    description: 'a per-entry lock held by the fault path (dax_radix_entry until the PTE is writable) and by writeback (lookup, write-protect, flush, clean), TOWRITE cleared after the flush',
    design: { ...V9, clean: 'wrprotect', entryLock: true },
    ...everything,
    default: true,
  },
  {
    name: 'v9-serial-fsync',
    description: 'v9 when fsyncs never overlap (the second is called after the first returns): its fixes for findings 1 and 2 hold, and only concurrent fsyncs break it',
    design: V9,
    ...everything,
    serialFsyncs: true,
    default: false,
  },
  {
    name: 'entry-lock-towrite-early',
    description: 'the entry lock, but TOWRITE cleared when writeback locks the entry, before the flush (the order Linux 4.10 itself uses: dax_writeback_one clears it under tree_lock as it locks the entry)',
    design: { ...V9, towrite: 'before-flush', clean: 'wrprotect', entryLock: true },
    ...everything,
    default: false,
  },
  {
    name: 'entry-lock-shared-pages',
    description: 'the entry lock when both writers write both pages, first writes are write faults, and a PMD entry sits beside a PTE entry of the same PMD',
    design: { ...V9, clean: 'wrprotect', entryLock: true },
    writers: [W0_WRITES_BOTH, W1_PMD_WRITES_BOTH],
    fsyncs: 2,
    default: false,
  },
  {
    name: 'entry-lock-three-fsyncs',
    description: 'the entry lock with three concurrent fsync callers',
    design: { ...V9, clean: 'wrprotect', entryLock: true },
    ...everything,
    fsyncs: 3,
    default: false,
  },
  {
    name: 'entry-lock-evict',
    description: 'the entry lock with CPU cache evictions at any moment: a line written back early changes nothing',
    design: { ...V9, clean: 'wrprotect', entryLock: true },
    ...everything,
    evict: true,
    default: false,
  },
  // Scaled up (README "Beyond exhaustive reach"): three writer processes and two fsync callers
  // (five threads; three fsync callers as well would be more machine configurations than the
  // compiler numbers). The file stays two pages under one PMD entry, as the spec's layout is.
  {
    name: 'entry-lock-3writers',
    description: 'scaled up: the entry lock with three writer processes (4 KiB pages, a huge page, 4 KiB pages again) and two concurrent fsync callers',
    design: { ...V9, clean: 'wrprotect', entryLock: true },
    writers: [W0, W1_PMD, W2_PTE],
    fsyncs: 2,
    default: false,
    scaled: true,
  },
  {
    name: 'v9-3writers',
    description: 'scaled up: v9 with three writer processes and two concurrent fsync callers',
    design: V9,
    writers: [W0, W1_PMD, W2_PTE],
    fsyncs: 2,
    default: false,
    scaled: true,
  },
];
