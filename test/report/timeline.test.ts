/** The timeline's lanes come from field names, for the shared model's fields and for any others. */
import { describe, expect, it } from 'vitest';
import type { Trace } from '../../src/trace.ts';
import { blockOf, crashes, groupLanes, laneKind, statesOf, timelineSvg } from '../../src/report/timeline.ts';
import { divergences, twins } from '../../src/report/explain.ts';

const DAX_FIELDS = [
  'i_size',
  'i_size (committed)',
  'block 0',
  'block 0 (committed)',
  'block 1',
  'block 1 (committed)',
  'running transaction',
  'pmem 0.0',
  'cache 0.0',
  'pmem 1.1',
  'cache 1.1',
  'T0 fd',
  'mapping 0',
  'PTE 0.0',
  'PTE 0.1',
];

function trace(fields: Record<string, string>, steps: [string, string, Record<string, string>][]): Trace {
  const state = { ...fields };
  return {
    initialState: { ...fields },
    steps: steps.map(([actor, text, change]) => {
      const changes = Object.entries(change).map(([field, after]) => {
        const c = { field, before: state[field], after };
        state[field] = after;
        return c;
      });
      return { event: `${actor}.x`, payload: null, actor, text, outcome: null, transitions: [], actions: [], changes };
    }),
    durableAfterCrash: null,
  };
}

describe('timeline lanes', () => {
  it('group the shared model fields by the block they name', () => {
    const groups = groupLanes(DAX_FIELDS);
    const of = (title: string) => groups.find((g) => g.title === title)?.lanes;
    expect(of('block 0')).toEqual(['block 0', 'block 0 (committed)', 'pmem 0.0', 'cache 0.0', 'PTE 0.0']);
    expect(of('block 1')).toEqual(['block 1', 'block 1 (committed)', 'pmem 1.1', 'cache 1.1', 'PTE 0.1']);
    expect(of('journal')).toEqual(['running transaction']);
    expect(of('T0')).toEqual(['T0 fd']);
    expect(of('mappings')).toEqual(['mapping 0']);
    expect(groups[0].title).toBe('journal');
  });

  it('tell durable from volatile lanes', () => {
    expect(['pmem 0.1', 'block 1 (committed)', 'i_size (committed)'].map(laneKind)).toEqual(['durable', 'durable', 'durable']);
    expect(['cache 0.1', 'PTE 0.1', 'running transaction', 'block 1'].map(laneKind)).toEqual(['cache', 'pagetable', 'journal', 'memory']);
    expect(blockOf('PTE 3.7')).toBe(7);
    expect(blockOf('T3 fd')).toBeNull();
    expect(blockOf('mapping 2')).toBeNull();
    expect(blockOf('radix 1')).toBe(1);
  });

  it('fall back to one lane per field for a spec whose fields are named differently', () => {
    const groups = groupLanes(['radix tag', 'entry state', 'flag', 'slot 2 entry']);
    expect(groups.flatMap((g) => g.lanes).sort()).toEqual(['entry state', 'flag', 'radix tag', 'slot 2 entry']);
    const t = trace({ alpha: 'a', beta: 'b' }, [['X', 'x does it', { alpha: 'a2' }]]);
    const svg = timelineSvg(t, { kind: 'always', verdict: 'violated' });
    expect(svg).toContain('data-field="alpha"');
    expect(svg).not.toContain('data-field="beta"');
  });

  it('mark the power failure (one mark for a crash over several steps) and the end', () => {
    const t = trace({ 'cache 0.0': 'clean', 'pmem 0.0': '0' }, [
      ['T0', 'store', { 'cache 0.0': 'A (dirty)' }],
      ['power', 'power failure', {}],
      ['power', 'word 0 lost', { 'cache 0.0': 'clean' }],
      ['mount', 'recovery', {}],
    ]);
    expect(crashes(t)).toEqual([[2, 3]]);
    const svg = timelineSvg(t, { kind: 'always', verdict: 'violated' });
    expect(svg.match(/class="crash"/g)).toHaveLength(1);
    expect(svg).toContain('property false');
    expect(statesOf(t).map((s) => s['cache 0.0'])).toEqual(['clean', 'A (dirty)', 'A (dirty)', 'clean', 'clean']);
    expect(divergences(t, 1)).toEqual([{ volatile: 'cache 0.0', durable: 'pmem 0.0', volatileValue: 'A (dirty)', durableValue: '0', since: 1 }]);
    expect(twins(DAX_FIELDS)).toContainEqual({ volatile: 'block 1', durable: 'block 1 (committed)' });
  });

  it('escape field names and values', () => {
    const t = trace({ '<script>f</script>': '<b>' }, [['<i>', 'x', { '<script>f</script>': '<img src=x onerror=alert(1)>' }]]);
    const svg = timelineSvg(t, { kind: 'deadlock', verdict: 'violated' });
    expect(svg).not.toMatch(/<script|<img|<b>|<i>/);
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('deadlock');
  });
});
