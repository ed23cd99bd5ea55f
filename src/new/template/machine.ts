/**
 * my-proposal: a write fault on a DAX mapping makes the block's metadata durable before the page
 * becomes writable, so a userspace flush makes the data durable without fsync.
 *
 * The machine is the shared DAX model (buildDaxSpec): a file on a journaling filesystem,
 * persistent memory behind CPU caches, page tables, crash and recovery, and the application of
 * the configuration. The proposal is its fault path. Check it with `daxcheck check <this folder>`;
 * after a change to what it explores, `daxcheck check <this folder> --record-counts` records the
 * new state counts in manifest.json (the expected verdicts there are yours to write).
 */
import { PTE_RW, afterCrash, buildDaxSpec, isDurablyWritten, pte, type DaxContext, type DaxProperty, type Layout, type Spec } from 'daxcheck';
import { configs, type ProposalConfig } from './configs.ts';

/** The proposal's own properties; every DAX spec also gets the shared ones (models/invariants.ts). */
function properties(L: Layout): DaxProperty[] {
  return [
    {
      kind: 'always',
      id: 'writable-is-committed',
      name: 'every writable page is backed by a committed allocation',
      holds: (v) => {
        if (!v.matches('running')) return true;
        for (let m = 0; m < L.M; m++) {
          for (let b = 0; b < L.B; b++) if (pte(v.context, L, m, b) === PTE_RW && !isDurablyWritten(v.context.durable, L, b)) return false;
        }
        return true;
      },
    },
    {
      kind: 'sometimes',
      id: 'data-block-survives',
      name: "the record's data block is part of the file after a crash",
      reached: (v) => afterCrash(v) && isDurablyWritten(v.context.durable, L, 1),
    },
  ];
}

export const myProposal: Spec<ProposalConfig, DaxContext> = {
  name: 'my-proposal',
  title: 'my-proposal: the write fault commits the allocation',
  sources: [],
  promise: 'When a write fault returns, the metadata behind the page is durable, so a userspace flush makes the data durable without fsync.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes',
    'extra cost in a page fault': 'a journal commit when the inode has dirty metadata',
  },
  configs,
  build: (config) =>
    buildDaxSpec({
      id: 'my-proposal',
      config,
      mmapFlags: 'shared_validate_sync',
      faultPath: {
        mapSync: true,
        // dax_iomap_fault allocates the block in the running transaction; dax_finish_sync_fault
        // commits it before the page-table entry becomes writable.
        writeFault: (at) =>
          config.syncInFault
            ? [
                { type: 'dax_iomap_fault', params: { ...at, write: true } },
                { type: 'dax_finish_sync_fault', params: at },
              ]
            : [{ type: 'dax_iomap_fault', params: { ...at, write: true } }],
      },
      properties: (L) => properties(L),
    }),
};

export default myProposal;
