/** The bench's count check (bench/counts.ts): the bench fails when the explorer, MODEL.md and Spin disagree. */
import { describe, expect, it } from 'vitest';
import { checkCounts, MODEL_MD_COUNTS } from '../../bench/counts.ts';

const B3 = { states: 205_595, transitions: 1_764_867 };

describe('the bench count check', () => {
  it("holds MODEL.md's table", () => {
    expect(MODEL_MD_COUNTS).toEqual({ '2,3': B3, '2,4': { states: 12_118_657, transitions: 126_718_843 } });
  });
  it('agrees when the explorer, the parallel engine and Spin count what MODEL.md says', () => {
    const c = checkCounts(2, 3, B3, B3, { tool: 'spin-dfs', states: 205_595, seconds: 0.3 });
    expect(c.failures).toEqual([]);
    expect(c.line).toBe('explorer 205,595 states / 1,764,867 transitions; MODEL.md 205,595 / 1,764,867: same; parallel 205,595 / 1,764,867: same; Spin 205,595 states: same');
  });
  it('fails when the explorer differs from MODEL.md, in states or in transitions', () => {
    expect(checkCounts(2, 3, { ...B3, states: 205_594 }, null, null).failures).toEqual([
      'the explorer counted 205,594 states / 1,764,867 transitions, MODEL.md says 205,595 / 1,764,867 for T=2, B=3',
    ]);
    expect(checkCounts(2, 4, B3, null, null).failures).toHaveLength(1);
    const t = checkCounts(2, 3, { ...B3, transitions: 1 }, null, null);
    expect(t.failures).toHaveLength(1);
    expect(t.line).toContain('MODEL.md 205,595 / 1,764,867: DIFFERENT');
  });
  it("fails when Spin's state count differs in the same run, even where MODEL.md has no row", () => {
    const c = checkCounts(1, 2, { states: 100, transitions: 300 }, null, { states: 99 });
    expect(c.failures).toEqual(['Spin counted 99 states, the explorer 100 (T=1, B=2)']);
    expect(c.line).toBe('explorer 100 states / 300 transitions; MODEL.md: no count for T=1, B=2; Spin 99 states: DIFFERENT');
  });
  it('fails when the parallel engine counts differently', () => {
    expect(checkCounts(2, 3, B3, { ...B3, states: 1 }, null).failures).toEqual([
      'the parallel explorer counted 1 states / 1,764,867 transitions, the sequential one 205,595 / 1,764,867',
    ]);
  });
  it('fails when Spin ran but gave no count; says so when it did not run', () => {
    expect(checkCounts(2, 3, B3, null, { tool: 'spin-dfs', states: null }).failures).toEqual([expect.stringMatching(/^Spin reported no state count/)]);
    expect(checkCounts(2, 3, B3, null, { failed: 'spin-baseline.sh exited 1: gcc: not found' }).failures).toEqual(['Spin failed: spin-baseline.sh exited 1: gcc: not found']);
    const skipped = checkCounts(2, 3, B3, null, { skipped: 'spin is not installed and apt-get could not install it' });
    expect(skipped.failures).toEqual([]);
    expect(skipped.line).toContain('Spin: not run (spin is not installed and apt-get could not install it)');
    expect(checkCounts(2, 3, B3, null, null).line).toContain('Spin: not run (--no-spin)');
  });
});
