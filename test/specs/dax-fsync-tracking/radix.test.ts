/**
 * Unit tests of the DAX radix tree (specs/dax-fsync-tracking/radix.ts), each on a hand-built tree:
 * the tree's four fields packed on their own, read and written through a view.
 */
import { describe, expect, it } from 'vitest';
import { FieldPacking } from '../../../models/fields.ts';
import {
  clearTag,
  coveringEntry,
  describeEntry,
  entryPages,
  findFirstTagged,
  hasTag,
  isLocked,
  lockEntry,
  pmdIndex,
  radixEntryPmd,
  radixEntryPte,
  radixFields,
  setTag,
  tagPagesForWriteback,
  unlockEntry,
  type RadixFields,
} from '../../../specs/dax-fsync-tracking/radix.ts';

const g = { pages: 4, pmdPages: 2 };
const packing = new FieldPacking(radixFields(g));
const tree = () => packing.view<RadixFields>().at({ durable: new Uint8Array(0), volatile: new Uint8Array(packing.size.volatile), ghost: new Uint8Array(0) });

describe('dax_radix_entry for PTE faults', () => {
  it('a read fault inserts a clean PTE entry, a write fault a DIRTY one', () => {
    const r = tree();
    expect(radixEntryPte(r, g, 1, false, false)).toBe(1);
    expect([r.radixEntry(1), hasTag(r, 1, 'DIRTY')]).toEqual(['PTE entry', false]);
    expect(radixEntryPte(r, g, 3, true, false)).toBe(3);
    expect(hasTag(r, 3, 'DIRTY')).toBe(true);
  });

  it('NO_SECTOR (dax_pfn_mkwrite) tags an existing entry and never inserts one', () => {
    const r = tree();
    expect(radixEntryPte(r, g, 0, true, true)).toBe(-1);
    expect(r.radixEntry(0)).toBe('absent');
    radixEntryPte(r, g, 0, false, false);
    expect(radixEntryPte(r, g, 0, true, true)).toBe(0);
    expect(hasTag(r, 0, 'DIRTY')).toBe(true);
  });

  it('a page covered by a PMD entry is tracked by the PMD entry', () => {
    const r = tree();
    radixEntryPmd(r, g, 1, false, 'transfer-tags');
    expect(coveringEntry(r, g, 1)).toBe(0);
    expect(radixEntryPte(r, g, 1, true, true)).toBe(0);
    expect([hasTag(r, 0, 'DIRTY'), r.radixEntry(1)]).toEqual([true, 'absent']);
  });
});

describe('dax_radix_entry for PMD faults over a PTE entry (finding 1)', () => {
  const dirtyTowritePte = () => {
    const r = tree();
    radixEntryPte(r, g, 2, true, false);
    setTag(r, 2, 'TOWRITE');
    return r;
  };

  it('v8 deletes the DIRTY/TOWRITE PTE entry and inserts a clean PMD entry', () => {
    const r = dirtyTowritePte();
    const { at, replaced } = radixEntryPmd(r, g, 3, false, 'clean-insert');
    expect(at).toBe(pmdIndex(g, 3));
    expect(at).toBe(2);
    expect(replaced).toEqual({ dirty: true, towrite: true });
    expect([r.radixEntry(2), hasTag(r, 2, 'DIRTY'), hasTag(r, 2, 'TOWRITE')]).toEqual(['PMD entry', false, false]);
  });

  it('with the tags transferred the PMD entry is DIRTY and TOWRITE', () => {
    const r = dirtyTowritePte();
    radixEntryPmd(r, g, 3, false, 'transfer-tags');
    expect([r.radixEntry(2), hasTag(r, 2, 'DIRTY'), hasTag(r, 2, 'TOWRITE')]).toEqual(['PMD entry', true, true]);
  });

  it('a write fault dirties the PMD entry whatever it replaced; an existing PMD entry is only tagged', () => {
    const r = tree();
    radixEntryPmd(r, g, 0, true, 'clean-insert');
    expect(hasTag(r, 0, 'DIRTY')).toBe(true);
    const again = radixEntryPmd(r, g, 1, false, 'clean-insert');
    expect(again.replaced).toBeNull();
    expect(hasTag(r, 0, 'DIRTY')).toBe(true);
  });

  it('a PTE entry at another index of the PMD stays beside the PMD entry, as dax_radix_entry only looks at the PMD index', () => {
    const r = tree();
    radixEntryPte(r, g, 1, true, false);
    radixEntryPmd(r, g, 0, false, 'clean-insert');
    expect([r.radixEntry(0), r.radixEntry(1), hasTag(r, 1, 'DIRTY')]).toEqual(['PMD entry', 'PTE entry', true]);
    expect(entryPages(g, 0, 'PMD entry')).toEqual([0, 1]);
    expect(entryPages(g, 1, 'PTE entry')).toEqual([1]);
  });
});

describe('tags for writeback', () => {
  it('tag_pages_for_writeback sets TOWRITE on DIRTY entries only, and says which were not already set', () => {
    const r = tree();
    radixEntryPte(r, g, 0, true, false);
    radixEntryPte(r, g, 1, false, false);
    radixEntryPte(r, g, 3, true, false);
    setTag(r, 3, 'TOWRITE');
    expect(tagPagesForWriteback(r, g)).toEqual([0]);
    expect([0, 1, 3].map((i) => hasTag(r, i, 'TOWRITE'))).toEqual([true, false, true]);
  });

  it('find_get_entries_tag returns the first tagged index from where it starts', () => {
    const r = tree();
    expect(findFirstTagged(r, g, 'TOWRITE')).toBe(-1);
    radixEntryPte(r, g, 1, true, false);
    radixEntryPte(r, g, 3, true, false);
    tagPagesForWriteback(r, g);
    expect(findFirstTagged(r, g, 'TOWRITE')).toBe(1);
    expect(findFirstTagged(r, g, 'TOWRITE', 2)).toBe(3);
    clearTag(r, 1, 'TOWRITE');
    expect(findFirstTagged(r, g, 'TOWRITE')).toBe(3);
  });

  it('a tag cannot be set where there is no entry', () => {
    const r = tree();
    setTag(r, 2, 'DIRTY');
    expect(hasTag(r, 2, 'DIRTY')).toBe(false);
  });
});

describe('the entry lock', () => {
  it('locks and unlocks an entry; a fresh entry from a PMD fault starts unlocked', () => {
    const r = tree();
    radixEntryPte(r, g, 0, false, false);
    lockEntry(r, 0);
    expect(isLocked(r, 0)).toBe(true);
    expect(describeEntry(r, g, 0)).toBe('PTE entry, clean, locked');
    unlockEntry(r, 0);
    expect(isLocked(r, 0)).toBe(false);
    lockEntry(r, 2); // no entry: nothing to lock
    expect(isLocked(r, 2)).toBe(false);
  });
});

describe('describeEntry', () => {
  it('names kind, range and tags', () => {
    const r = tree();
    radixEntryPmd(r, g, 0, true, 'clean-insert');
    setTag(r, 0, 'TOWRITE');
    expect(describeEntry(r, g, 0)).toBe('PMD entry (indices 0–1), DIRTY, TOWRITE');
    expect(describeEntry(r, g, 1)).toBe('covered by the PMD entry at 0');
    expect(describeEntry(r, g, 2)).toBe('absent');
  });
});
