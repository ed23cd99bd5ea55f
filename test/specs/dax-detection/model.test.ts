/** Unit tests of specs/dax-detection/model.ts: what each kernel shows an application about DAX. */
import { describe, expect, it } from 'vitest';
import { initialContext, Layout } from '../../../models/layout.ts';
import { sysMmap, sysOpen } from '../../../models/syscalls.ts';
import { detectBySmaps, detectByStatx, detectionMatches, detectionState, KERNELS, smapsShowsMixedmap, vmFlags } from '../../../specs/dax-detection/model.ts';

const dims = { threads: 1, blocks: 2, phys: 2, words: 2, unrelated: 0 };
const L = new Layout(dims, { fields: detectionState(dims) });

function mapped(dax: boolean) {
  const c = initialContext(L, { size: 2, dax });
  sysOpen(c, L, 0);
  sysMmap(c, L, 0, 0, 'shared', true);
  return c;
}

describe('DAX detection model', () => {
  it('smaps shows `mm` for a DAX mapping only before e1fb4a086495 (4.19)', () => {
    expect(vmFlags(mapped(true), L, 0, KERNELS['4.18'])).toContain('mm');
    expect(vmFlags(mapped(true), L, 0, KERNELS['4.19'])).not.toContain('mm');
    expect(vmFlags(mapped(true), L, 0, KERNELS['5.8'])).not.toContain('mm');
    expect(vmFlags(mapped(false), L, 0, KERNELS['4.18'])).not.toContain('mm');
    // DAX VMAs keep VM_HUGEPAGE.
    expect(vmFlags(mapped(true), L, 0, KERNELS['4.19'])).toContain('hg');
  });

  it('smaps has nothing to say about a file that is not mapped', () => {
    const c = initialContext(L, { size: 2, dax: true });
    sysOpen(c, L, 0);
    expect(vmFlags(c, L, 0, KERNELS['4.18'])).toEqual([]);
    expect(smapsShowsMixedmap(c, L, 0, KERNELS['4.18'])).toBe(false);
  });

  it('the smaps test concludes wrongly on a DAX file from 4.19 on', () => {
    const c = mapped(true);
    expect(detectBySmaps(c, L, 0, 0, KERNELS['4.18'])).toBe('DAX');
    expect(detectionMatches(c, L, 0)).toBe(true);
    expect(detectBySmaps(c, L, 0, 0, KERNELS['4.19'])).toBe('no DAX');
    expect(detectionMatches(c, L, 0)).toBe(false);
  });

  it('statx answers on 5.8, and before it cannot say (unknown, not "no")', () => {
    const dax = mapped(true);
    expect(detectByStatx(dax, L, 0, KERNELS['5.8'])).toBe('DAX');
    expect(detectionMatches(dax, L, 0)).toBe(true);
    const plain = mapped(false);
    expect(detectByStatx(plain, L, 0, KERNELS['5.8'])).toBe('no DAX');
    expect(detectionMatches(plain, L, 0)).toBe(true);
    expect(detectByStatx(dax, L, 0, KERNELS['4.19'])).toBe('unknown');
    expect(detectionMatches(dax, L, 0)).toBe(true);
  });
});
