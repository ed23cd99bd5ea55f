/**
 * The timeline's lanes: grouped by the block a field's name mentions, coloured by the kind its
 * spec declares (never guessed from the name), every value shown whole, wrapped into bands that
 * fit the page.
 */
import { describe, expect, it } from 'vitest';
import type { Trace } from '../../src/trace.ts';
import type { FieldInfo } from '../../specs/common/spec.ts';
import { blockOf, crashes, groupLanes, laneKind, statesOf, textWidth, timelineSvg } from '../../src/report/timeline.ts';
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

/** What the shared model declares for DAX_FIELDS (models/describe.ts). */
const DAX_INFO: Record<string, FieldInfo> = {
  i_size: { kind: 'volatile', durable: 'i_size (committed)' },
  'i_size (committed)': { kind: 'durable' },
  'block 0': { kind: 'volatile', durable: 'block 0 (committed)' },
  'block 0 (committed)': { kind: 'durable' },
  'block 1': { kind: 'volatile', durable: 'block 1 (committed)' },
  'block 1 (committed)': { kind: 'durable' },
  'running transaction': { kind: 'journal' },
  'pmem 0.0': { kind: 'durable' },
  'cache 0.0': { kind: 'cache', durable: 'pmem 0.0' },
  'pmem 1.1': { kind: 'durable' },
  'cache 1.1': { kind: 'cache', durable: 'pmem 1.1' },
  'T0 fd': { kind: 'volatile' },
  'mapping 0': { kind: 'pagetable' },
  'PTE 0.0': { kind: 'pagetable' },
  'PTE 0.1': { kind: 'pagetable' },
};

function trace(fields: Record<string, string>, steps: [string, string, Record<string, string>][], fieldInfo?: Record<string, FieldInfo>): Trace {
  const state = { ...fields };
  return {
    ...(fieldInfo ? { fieldInfo } : {}),
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
    const groups = groupLanes(DAX_FIELDS, (f) => laneKind({ fieldInfo: DAX_INFO }, f));
    const of = (title: string) => groups.find((g) => g.title === title)?.lanes;
    expect(of('block 0')).toEqual(['block 0', 'block 0 (committed)', 'pmem 0.0', 'cache 0.0', 'PTE 0.0']);
    expect(of('block 1')).toEqual(['block 1', 'block 1 (committed)', 'pmem 1.1', 'cache 1.1', 'PTE 0.1']);
    expect(of('journal')).toEqual(['running transaction']);
    expect(of('T0')).toEqual(['T0 fd']);
    expect(of('mappings')).toEqual(['mapping 0']);
    expect(groups[0].title).toBe('journal');
  });

  it('take each lane\'s kind from the declaration, never from the name', () => {
    const t = { fieldInfo: DAX_INFO };
    expect(['pmem 0.0', 'block 1 (committed)', 'i_size (committed)'].map((f) => laneKind(t, f))).toEqual(['durable', 'durable', 'durable']);
    expect(['cache 0.0', 'PTE 0.1', 'running transaction', 'block 1'].map((f) => laneKind(t, f))).toEqual(['cache', 'pagetable', 'journal', 'volatile']);
    // A name that sounds durable is not durable unless declared so; an undeclared field says so.
    expect(laneKind({ fieldInfo: { 'pmem 9.9': { kind: 'ghost' } } }, 'pmem 9.9')).toBe('ghost');
    expect(laneKind({}, 'pmem 0.0')).toBe('undeclared');
    const svg = timelineSvg(trace({ 'F0 must make durable': 'nothing' }, [['F0', 'fsync', { 'F0 must make durable': 'index 0 ≥ v1' }]], { 'F0 must make durable': { kind: 'ghost' } }), {
      kind: 'always',
      verdict: 'violated',
    });
    expect(svg).toContain('data-kind="ghost"');
    expect(svg).toContain('ghost (bookkeeping');
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
    const declared = trace({ 'cache 0.0': 'clean', 'pmem 0.0': '0' }, [['T0', 'store', { 'cache 0.0': 'A (dirty)' }]], DAX_INFO);
    expect(divergences(declared, 1)).toEqual([{ volatile: 'cache 0.0', durable: 'pmem 0.0', volatileValue: 'A (dirty)', durableValue: '0', since: 1 }]);
    const all = trace(Object.fromEntries(DAX_FIELDS.map((f) => [f, 'x'])), [], DAX_INFO);
    expect(twins(all)).toContainEqual({ volatile: 'block 1', durable: 'block 1 (committed)' });
    expect(twins(all)).toContainEqual({ volatile: 'cache 1.1', durable: 'pmem 1.1' });
  });

  it('show every value whole and wrap long traces into bands that fit the width, each with the lane labels', () => {
    const long = 'written → pmem block 12 (a value long enough to need a wide column)';
    const steps: [string, string, Record<string, string>][] = [];
    for (let i = 1; i <= 30; i++) steps.push([i % 3 ? 'T0' : 'third party', `step ${i}`, { 'block 0': i === 7 ? long : `v${i}` }]);
    steps.push(['power', 'power failure', {}]);
    const t = trace({ 'block 0': 'hole', 'block 0 (committed)': 'hole' }, steps, DAX_INFO);
    const svg = timelineSvg(t, { kind: 'always', verdict: 'violated', include: ['block 0 (committed)'], width: 900 });
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeLessThanOrEqual(900);
    const bands = svg.match(/class="band"/g)!.length;
    expect(bands).toBeGreaterThan(1);
    // Every band has the lanes' labels; the constant lane the argument cites is drawn.
    expect(svg.match(/class="lane" data-field="block 0"/g)).toHaveLength(bands);
    expect(svg.match(/class="lane" data-field="block 0 \(committed\)"/g)).toHaveLength(bands);
    // The long value is there whole, never clipped; so is the end and the crash.
    expect(svg).toContain(`>${long.replace('→', '→')}<`);
    expect(svg).not.toContain('…');
    expect(svg).toContain('property false');
    expect(svg.match(/class="crash"/g)).toHaveLength(1);
    // Each bar is at least as wide as its text.
    const segs = [...svg.matchAll(/<g class="seg"[^>]*><title>[^<]*<\/title><rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"[^>]*\/><text[^>]*>([^<]*)<\/text><\/g>/g)];
    expect(segs.length).toBeGreaterThan(30);
    for (const m of segs) {
      expect(Number(m[1]) + 2, m[2]).toBeGreaterThanOrEqual(textWidth(m[2].replace(/&[a-z]+;|&#\d+;/g, 'x')) + 8);
    }
  });

  it('escape field names and values', () => {
    const t = trace({ '<script>f</script>': '<b>' }, [['<i>', 'x', { '<script>f</script>': '<img src=x onerror=alert(1)>' }]]);
    const svg = timelineSvg(t, { kind: 'deadlock', verdict: 'violated' });
    expect(svg).not.toMatch(/<script|<img|<b>|<i>/);
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('deadlock');
  });
});
