/** Unit tests of specs/device-dax/model.ts on hand-built states. */
import { describe, expect, it } from 'vitest';
import { devDaxFault, deviceDaxInitial, isDeviceLayoutIntact, notImplemented } from '../../../specs/device-dax/model.ts';
import { itemsWritten } from '../../../models/measures.ts';
import { mountAfterCrash } from '../../../models/crash.ts';
import { EINVAL, initialContext, Layout, OK, PTE_RW, SIGBUS, WRITTEN, ZERO } from '../../../models/layout.ts';
import { sysMmap, sysOpen } from '../../../models/syscalls.ts';
import { cloneContext } from '../../../checker/xstate/mutator.ts';

const L = new Layout({ threads: 1, blocks: 2, phys: 2, words: 2, unrelated: 0 });

function device() {
  const c = initialContext(L, { size: 0, dax: true });
  deviceDaxInitial(L, c);
  sysOpen(c, L, 0);
  return c;
}

describe('device-dax model', () => {
  it('starts with every page durably mapped at its own offset, zeroed', () => {
    const c = device();
    expect(isDeviceLayoutIntact(L, c)).toBe(true);
    for (let b = 0; b < L.B; b++) expect([c.volatile[L.vExtKind + b], c.volatile[L.vExtPhys + b]]).toEqual([WRITTEN, b]);
    expect(c.durable.slice(L.dPmem, L.dPmem + L.P * L.W).every((w) => w === ZERO)).toBe(true);
  });

  it('a write fault maps the page linearly and writes nothing durable', () => {
    const c = device();
    sysMmap(c, L, 0, 0, 'shared', true);
    const before = cloneContext(c);
    expect(devDaxFault(c, L, 0, 0, 1)).toBe(OK);
    expect(c.volatile[L.vPte + 1]).toBe(PTE_RW);
    expect(c.volatile[L.vPtePhys + 1]).toBe(1);
    expect(c.durable).toEqual(before.durable);
    expect(itemsWritten(L, before, c)).toBe(0);
  });

  it('a fault without a mapping is SIGBUS', () => {
    const c = device();
    expect(devDaxFault(c, L, 0, 0, 0)).toBe(SIGBUS);
  });

  it('fsync and ftruncate are EINVAL and change nothing', () => {
    const c = device();
    const before = cloneContext(c);
    expect(notImplemented(c, L, 0)).toBe(EINVAL);
    expect(c.durable).toEqual(before.durable);
    expect(c.volatile[L.vErr]).toBe(EINVAL);
  });

  it('survives a remount unchanged: there is no metadata to recover', () => {
    const c = device();
    mountAfterCrash(c, L);
    expect(isDeviceLayoutIntact(L, c)).toBe(true);
    expect(c.volatile[L.vExtKind]).toBe(WRITTEN);
  });
});
