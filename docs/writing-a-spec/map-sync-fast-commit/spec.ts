/**
 * map-sync-fast-commit: MAP_SYNC on ext4 with fast commits (Linux 5.10, "ext4: add fast_commit").
 *
 * A variant of the registered map-sync spec that changes one kernel choice: the commit that
 * dax_finish_sync_fault (and fsync) asks the journal for. jbd2 commits the whole running
 * transaction, unrelated inodes' objects included: Dave Chinner's "tens of thousands of unrelated
 * dirty objects" (seed 000). A fast commit writes only this inode's changes to the fast-commit
 * area; the rest waits for the next full commit. Everything else is map-sync's, unedited.
 *
 * Promise (map-sync's): when a write fault on a MAP_SYNC mapping returns, the metadata behind the
 * block is durable; and now the fault's cost no longer grows with unrelated dirty metadata.
 */
import { mapSync, variant, type ActionText, type DaxContext, type KernelHooks, type Layout } from 'daxcheck';

/**
 * ext4's fast commit, as the shared model's state sees it: this inode's i_size, flags and extents
 * become durable; unrelated inodes' objects stay in the running transaction. Returns the items
 * written.
 */
function fastCommit(c: DaxContext, L: Layout): number {
  const s = L.at(c);
  let items = 0;
  if (s.committedSize() !== s.size()) {
    s.committedSize.set(s.size());
    items++;
  }
  if (s.committedFlags() !== s.flags()) {
    s.committedFlags.set(s.flags());
    items++;
  }
  for (let b = 0; b < L.B; b++) {
    if (s.committedExtent(b) === s.extent(b) && s.committedPhys(b) === s.phys(b) && s.committedLeaf(b) === s.leaf(b)) continue;
    s.committedExtent.set(b, s.extent(b));
    s.committedPhys.set(b, s.phys(b));
    s.committedLeaf.set(b, s.leaf(b));
    items++;
  }
  return items;
}

/** The synchronous fault's words, now that it writes a fast commit. */
function texts(L: Layout): Record<string, ActionText> {
  const before = L.view();
  const after = L.view();
  return {
    dax_finish_sync_fault: ({ before: c0, after: c1 }) => {
      before.at(c0);
      after.at(c1);
      const items: string[] = [];
      if (before.committedSize() !== after.committedSize()) items.push('i_size');
      for (let b = 0; b < L.B; b++) if (before.committedExtent(b) !== after.committedExtent(b) || before.committedPhys(b) !== after.committedPhys(b)) items.push(`block ${b} extent`);
      const waiting = after.unrelated();
      return items.length
        ? `dax_finish_sync_fault → ext4 fast commit of this inode (${items.join(', ')}) before the fault returns${waiting ? `; ${waiting} unrelated object${waiting === 1 ? '' : 's'} left for the next full commit` : ''}`
        : null;
    },
  };
}

export default variant(mapSync, {
  name: 'map-sync-fast-commit',
  title: 'MAP_SYNC on ext4 with fast commits: the fault writes only its own inode',
  // The application on MAP_SYNC, and map-sync's fault-cost series (N unrelated dirty objects).
  configs: mapSync.configs.filter((c) => c.name === 'trusting' || c.name.startsWith('fault-cost-')),
  change: (design) => ({
    ...design,
    hooks: (L): KernelHooks => ({ ...design.hooks?.(L), syncCommit: fastCommit }),
    texts: (L) => ({ ...design.texts?.(L), ...texts(L) }),
  }),
});
