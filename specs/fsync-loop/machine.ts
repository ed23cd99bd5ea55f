/**
 * fsync in a loop beside a DAX writer: liveness.
 *
 * Sources: seed 001 (DAX fsync dirty tracking; Jan Kara's third finding: flushed entries must be
 * write-protected, so that the next store faults and dirties its entry again, which the 4.10
 * kernel does in dax_writeback_one → dax_entry_mkclean) and ext4's fsync, which waits for the
 * commit of one journal transaction (jbd2_complete_transaction(journal, tid)), not for the journal
 * to fall idle.
 *
 * The application of DOMAIN.md (thread T0) runs as everywhere else, on the baseline's kernel,
 * while another thread of the same process (`syncer`, a checkpointer) calls fsync(fd) again and
 * again, forever. Its fsync is two steps: the writeback (dax_writeback_mapping_range: every dirty
 * cache line of the file written back, and in the 4.10 design every entry write-protected), which
 * asks jbd2 to commit; then the return, once the commit it waits for is done. The journal (jbd2)
 * commits in the background as in every spec; other inodes dirty it again at any time.
 *
 * The properties are liveness: "every store a thread starts completes" and "every fsync returns",
 * under weak fairness of the threads (T0, the syncer) and of the journal: each of them, if it could
 * move in every state of a cycle, moves in it. Other inodes, the CPU and the power are under no
 * fairness: they may act or not. What exploration shows:
 *  - fsync that waits until the running transaction is empty starves: other inodes put an item in
 *    it after every commit, and the waiting fsync can return only in the moment between (weak
 *    fairness does not oblige a thread that is enabled only now and then): `idle-wait`;
 *  - fsync that waits for the commit of its own transaction (a tid) always returns: `tid-wait`;
 *  - with the 4.10 write-protection, a store can fault forever: pfn_mkwrite makes the entry
 *    writable, the syncer's writeback write-protects it before the CPU retries the store, and
 *    again (`wrprotect`). Every actor moves in that cycle, so it is fair.
 */
import { kernelAction } from '../../models/action.ts';
import { withOwnTexts } from '../../models/describe-own.ts';
import { pte, setPte, ptePhys } from '../../models/faults.ts';
import { extentKind, physOf } from '../../models/fs.ts';
import { fields } from '../../models/fields.ts';
import { commitRunningTransaction, runningItems } from '../../models/journal.ts';
import { PTE_RO, PTE_RW, WRITTEN, type DaxContext, type Dimensions, type Layout } from '../../models/layout.ts';
import { writeBackPhys } from '../../models/pmem.ts';
import { promiseFile } from '../../models/syscalls.ts';
import type { Fairness } from '../../checker/system.ts';
import type { DaxProperty, DaxView } from '../../models/invariants.ts';
import { program } from '../apps/pmem-log.ts';
import { baseline } from '../baseline/machine.ts';
import { daxSpec } from '../common/dax-spec.ts';
import type { DaxRunConfig } from '../common/spec.ts';
import { fsyncLoopConfigs, type FsyncLoopConfig } from './configs.ts';

/** Spec name: the CLI name and the folder under specs/. */
export const SPEC_NAME = 'fsync-loop';

/** The liveness properties, as sentences. */
export const PROPERTY = {
  store: 'every store a thread starts completes',
  fsync: 'every fsync returns',
} as const;

/** The syncer's own state. */
export const syncerState = (_d: Dimensions) =>
  fields({
    syncer: { part: 'volatile', shape: [], values: ['idle', 'waiting'], doc: 'the syncer thread: between fsyncs, or inside fsync waiting for the journal' },
    fsyncTid: { part: 'volatile', shape: [], values: ['committed', 'running'], doc: 'the transaction the waiting fsync needs committed: still running, or committed' },
  });
type X = ReturnType<typeof syncerState>;

const FD = 3;

/** The names of the store steps of thread t's program (its states while a store is pending). */
function storeSteps(cfg: DaxRunConfig, t: number, blocks: number): Set<string> {
  if (typeof cfg.app !== 'string') throw new Error(`${SPEC_NAME}/${cfg.name}: the application must be a named one`);
  const names = new Set<string>();
  const walk = (steps: ReturnType<typeof program>) => {
    for (const s of steps) {
      if (s.op === 'store') names.add(s.name);
      if ((s.op === 'mmap' || s.op === 'syscall') && s.fallback) walk(s.fallback);
    }
  };
  walk(program(cfg.app, t, blocks, cfg.mmapFlags ?? 'shared', cfg.appOptions));
  return names;
}

/** Where thread t's program is: the name of its step state. */
const threadAt = (v: DaxView, t: number) => (v.value as { running?: Record<string, unknown> }).running?.[`T${t}`];

/** The liveness properties, under weak fairness of the threads and the journal. */
function properties(L: Layout<X>, cfg: FsyncLoopConfig, eventTypes: string[]): DaxProperty[] {
  const s = L.view();
  const stores = Array.from({ length: L.T }, (_, t) => storeSteps(cfg, t, L.B));
  // The fair actors: every application thread, the syncer, the journal.
  const actors = [...Array.from({ length: L.T }, (_, t) => `T${t}`), 'syncer', 'jbd2'];
  const fairness: Fairness = { actors, actorOf: (e) => actors.indexOf(eventTypes[e].slice(0, eventTypes[e].indexOf('.'))) };
  if (L.T !== 1) throw new Error(`${SPEC_NAME}/${cfg.name}: one application thread (the properties follow T0)`);
  return [
    {
      kind: 'leads-to',
      id: 'store-completes',
      name: PROPERTY.store,
      p: (v) => v.matches('running') && stores[0].has(threadAt(v, 0) as string),
      q: (v) => !v.matches('running') || !stores[0].has(threadAt(v, 0) as string),
      fairness,
    },
    {
      kind: 'leads-to',
      id: 'fsync-returns',
      name: PROPERTY.fsync,
      p: (v) => v.matches('running') && s.at(v.context).syncer() === 'waiting',
      q: (v) => !v.matches('running') || s.at(v.context).syncer() === 'idle',
      fairness,
    },
  ];
}

/** The syncer's steps and the journal commit that ends its wait. */
function implementations(L: Layout<X>, cfg: FsyncLoopConfig) {
  const s = L.view();
  /** dax_writeback_mapping_range over the file: write back dirty lines; in 4.10, write-protect. */
  const writeback = (c: DaxContext) => {
    let flushed = 0;
    let protectedEntries = 0;
    for (let b = 0; b < L.B; b++) {
      const p = physOf(c, L, b);
      if (p < 0 || extentKind(c, L, b) !== WRITTEN) continue;
      flushed += writeBackPhys(c, L, p);
      if (!cfg.wrprotect) continue;
      for (let m = 0; m < L.M; m++) {
        if (pte(c, L, m, b) !== PTE_RW) continue;
        setPte(c, L, m, b, PTE_RO, ptePhys(c, L, m, b));
        protectedEntries++;
      }
    }
    return { flushed, protectedEntries };
  };
  return {
    guards: {
      isSyncerIdle: ({ context }: { context: DaxContext }) => s.at(context).syncer() === 'idle',
      /** May the waiting fsync return: its transaction committed (tid), or nothing running at all (idle). */
      isFsyncCommitDone: ({ context }: { context: DaxContext }) =>
        s.at(context).syncer() === 'waiting' && (cfg.wait === 'tid' ? s.at(context).fsyncTid() === 'committed' : runningItems(context, L) === 0),
    },
    actions: {
      syncer_fsync: kernelAction(
        (c) => {
          writeback(c);
          // With nothing to commit, fsync returns at once; else it waits (in the next step's guard).
          if (runningItems(c, L) === 0) {
            promiseFile(c, L);
            return;
          }
          s.at(c).syncer.set('waiting');
          s.at(c).fsyncTid.set('running');
        },
        ({ before, after }) => {
          const b = before as DaxContext;
          const x = structuredClone(b) as DaxContext;
          const { flushed, protectedEntries } = writeback(x);
          const items = runningItems(after as DaxContext, L);
          const wp = cfg.wrprotect ? `; dax_entry_mkclean → ${protectedEntries} PTE${protectedEntries === 1 ? '' : 's'} write-protected` : '';
          const wait = items === 0 ? `nothing to commit; fsync(${FD}) = 0` : cfg.wait === 'tid' ? 'jbd2_complete_transaction(tid): waits for the commit of the running transaction' : 'waits until the journal has no running transaction';
          return `fsync(${FD}) → dax_writeback_mapping_range: ${flushed} dirty word${flushed === 1 ? '' : 's'} written back${wp}; ${wait}`;
        },
      ),
      syncer_fsync_return: kernelAction(
        (c) => {
          s.at(c).syncer.set('idle');
          promiseFile(c, L);
        },
        () => `fsync(${FD}) = 0 (returns)`,
      ),
      /** The shared commit, which also ends the wait of an fsync for its transaction. */
      jbd2_commit_for_fsync: kernelAction(
        (c) => {
          commitRunningTransaction(c, L);
          s.at(c).fsyncTid.set('committed');
        },
        (a, shared) => shared({ ...a, type: 'jbd2_journal_commit_transaction' }),
      ),
    },
  };
}

export const fsyncLoop = daxSpec<FsyncLoopConfig, X>({
  name: SPEC_NAME,
  title: 'fsync in a loop beside a DAX writer (liveness)',
  sources: ['001'],
  promise: 'Every store the application starts through its DAX mapping completes, and every fsync returns, while another thread of the process calls fsync again and again.',
  capabilities: {
    'fsync waits for': 'the commit of its own transaction (tid), or, in the starving design, an empty journal',
    'fsync write-protects what it flushes': 'in the 4.10 design (dirty tracking); not in the 4.5 design',
  },
  configs: fsyncLoopConfigs,
  design: (config) => {
    return {
      ...baseline.design(config),
      // The baseline declares interchangeable threads; the properties here follow T0.
      symmetry: undefined,
      state: syncerState,
      // The syncer's writeback write-protects entries: every store may fault again.
      revocable: true,
      implementations: (L) => implementations(L, config),
      environment: () => {
        return {
          on: {
            'syncer.fsync': { guard: 'isSyncerIdle', actions: 'syncer_fsync' },
            'syncer.fsync_return': { guard: 'isFsyncCommitDone', actions: 'syncer_fsync_return' },
            // Replaces the shared commit (same event): it also tells a waiting fsync its transaction is committed.
            'jbd2.commit': { guard: 'isRunningTransactionDirty', actions: 'jbd2_commit_for_fsync' },
          },
          events: [{ type: 'syncer.fsync' }, { type: 'syncer.fsync_return' }],
        };
      },
      properties: (L, _app, eventTypes) => properties(L, config, eventTypes),
      render: (L, _app, shared) =>
        withOwnTexts(L, _app, shared, {
          actor: (type) => (type.startsWith('syncer.') ? 'syncer' : undefined),
          state: (c, f) => {
            const v = L.view().at(c);
            return { ...f, syncer: v.syncer() === 'idle' ? 'between fsyncs' : `in fsync, waiting (${cfg(v.fsyncTid())})` };
          },
          // The syncer thread's place in its loop: volatile, like a thread's.
          fields: (_c, shared) => ({ ...shared, syncer: { kind: 'volatile' } }),
        }),
    };
  },
});

const cfg = (tid: 'committed' | 'running') => (tid === 'running' ? 'its transaction still running' : 'its transaction committed');
