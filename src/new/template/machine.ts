/**
 * my-proposal: a write fault on a DAX mapping makes the block's metadata durable before the page
 * becomes writable, so a userspace flush makes the data durable without fsync.
 *
 * The machine is the shared DAX model: a file on a journaling filesystem, persistent memory
 * behind CPU caches, page tables, crash and recovery, and the application of the configuration.
 * The proposal is what `design` gives it: here its fault path, and its properties. A proposal
 * with state of its own declares it as fields (`state: (d) => fields({ ... })`) and reads it
 * through `L.view()`; an action of its own carries the words its trace prints
 * (`kernelAction(run, text)`): see docs/writing-a-spec.md in daxcheck.
 *
 * Check it with `daxcheck check <this folder>`; after a change to what it explores,
 * `daxcheck check <this folder> --record-counts` records the new state counts in manifest.json
 * (the expected verdicts there are yours to write).
 */
import { afterCrash, daxSpec, type DaxProperty, type Layout } from 'daxcheck';
import { configs, type ProposalConfig } from './configs.ts';

/** The proposal's own properties, read through a view; every DAX spec also gets the shared ones. */
function properties(L: Layout): DaxProperty[] {
  const s = L.view();
  return [
    {
      kind: 'always',
      id: 'writable-is-committed',
      name: 'every writable page is backed by a committed allocation',
      holds: (v) => {
        if (!v.matches('running')) return true;
        s.at(v.context);
        for (let m = 0; m < L.M; m++) for (let b = 0; b < L.B; b++) if (s.pte(m, b) === 'writable' && !s.block(b).committed) return false;
        return true;
      },
    },
    {
      kind: 'sometimes',
      id: 'data-block-survives',
      name: "the record's data block is part of the file after a crash",
      reached: (v) => afterCrash(v) && s.at(v.context).committedSize() > 1 && s.block(1).committedKind === 'written',
    },
  ];
}

export const myProposal = daxSpec<ProposalConfig>({
  name: 'my-proposal',
  title: 'my-proposal: the write fault commits the allocation',
  sources: [],
  promise: 'When a write fault returns, the metadata behind the page is durable, so a userspace flush makes the data durable without fsync.',
  capabilities: {
    'no fsync needed after userspace flushes': 'yes',
    'extra cost in a page fault': 'a journal commit when the inode has dirty metadata',
  },
  configs,
  // The building blocks: a variant (`variant(myProposal, { ..., change })`) replaces any of them.
  design: (config) => ({
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
});

export default myProposal;
