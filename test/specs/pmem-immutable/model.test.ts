/** Unit tests of specs/pmem-immutable/model.ts: the flag, the rules as hooks, and third parties. */
import { describe, expect, it } from 'vitest';
import { runningItems } from '../../../models/journal.ts';
import { FLAG_MTIME, initialContext, Layout, OK, type KernelHooks } from '../../../models/layout.ts';
import { sysMmap, sysMunmap, sysOpen } from '../../../models/syscalls.ts';
import { applyOp, canRun, isRefused } from '../../../models/third-party.ts';
import { fallocateImmutable, immutableHooks, PMEM_IMMUTABLE, type Enforcement } from '../../../specs/pmem-immutable/model.ts';

describe('PMEM_IMMUTABLE and third parties (rules 4 to 6)', () => {
  // The layout of the spec, with the flag and the rules as its hooks; `loose` forgets rule 4 for
  // write(2), `unguarded` does not enforce rule 6.
  const hooksOf = (e: Enforcement): KernelHooks => ({ inodeFlag: PMEM_IMMUTABLE, ...immutableHooks(e) });
  const dims = { threads: 1, blocks: 2, phys: 2, words: 2, unrelated: 0 };
  const L = new Layout(dims, { features: { thirdParty: true, inodeFlags: PMEM_IMMUTABLE.bit }, hooks: hooksOf({}) });
  const loose = new Layout(dims, { hooks: hooksOf({ forgets: ['write'] }) });
  const unguarded = new Layout(dims, { hooks: hooksOf({ clearWhileMapped: true }) });
  function immutableFile() {
    const c = initialContext(L, { size: 0, dax: true });
    sysOpen(c, L, 0);
    expect(fallocateImmutable(c, L, 0, 2, true, 'written')).toBe(OK);
    return c;
  }

  it('refuses write(2) and extent operations while the flag is set, unless a variant forgets them', () => {
    const c = immutableFile();
    expect(isRefused(c, L, 'write')).toBe(true);
    expect(isRefused(c, L, 'punch')).toBe(true);
    expect(isRefused(c, loose, 'write')).toBe(false);
  });

  it('lets the flag be cleared only while the file is not mapped', () => {
    const c = immutableFile();
    expect(canRun(c, L, 'clearflag', 0)).toBe(false); // nobody relies on it yet
    sysMmap(c, L, 0, 0, 'shared', false);
    expect(canRun(c, L, 'clearflag', 0)).toBe(true);
    expect(isRefused(c, L, 'clearflag')).toBe(true);
    expect(isRefused(c, unguarded, 'clearflag')).toBe(false);
    sysMunmap(c, L, 0, 0);
    expect(isRefused(c, L, 'clearflag')).toBe(false);
    applyOp(c, L, 'clearflag', 0);
    expect(c.volatile[L.vFlags] & PMEM_IMMUTABLE.bit).toBe(0);
    expect(runningItems(c, L)).toBe(1); // the flag change is journalled like any inode change
  });

  it('a write(2) changes only the timestamps: one journalled inode item, no block moves', () => {
    const c = immutableFile();
    const ext = [...c.volatile.slice(L.vExtKind, L.vExtKind + L.B)];
    applyOp(c, L, 'write', 1);
    expect(c.volatile[L.vFlags] & FLAG_MTIME).not.toBe(c.durable[L.dFlags] & FLAG_MTIME);
    expect([...c.volatile.slice(L.vExtKind, L.vExtKind + L.B)]).toEqual(ext);
    expect(runningItems(c, L)).toBe(1);
  });
});
