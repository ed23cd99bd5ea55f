/** reports/verdicts.json: what it records, how a run is compared with it, how it is merged. */
import { describe, expect, it } from 'vitest';
import type { PropertyResult } from '../../src/check.ts';
import type { ResultsDoc, RunSummary } from '../../src/report/results.ts';
import { compareVerdicts, formatChanges, mergeVerdicts, serializeVerdicts, unchangedCount, verdictsOf, type ConfigVerdicts } from '../../src/report/verdicts.ts';
import { checkBaseline } from '../../src/report/baseline.ts';

function run(spec: string, config: string, states = 10): RunSummary {
  return {
    spec,
    config,
    description: '',
    complete: true,
    stopReason: null,
    states,
    transitions: states * 2,
    depth: 5,
    seconds: Math.random(),
  } as unknown as RunSummary;
}

/** A result of the property with this id; its sentence is `the <id> sentence` unless given. */
function result(spec: string, config: string, id: string, verdict: PropertyResult['verdict'], steps: number | null, sentence = `the ${id} sentence`): PropertyResult {
  return {
    spec,
    config,
    id,
    property: sentence,
    kind: verdict === 'reachable' || verdict === 'unreachable' ? 'sometimes' : 'always',
    verdict,
    expected: verdict,
    states: 10,
    transitions: 20,
    depth: 5,
    seconds: Math.random(),
    trace: steps === null ? null : { initialState: {}, steps: Array.from({ length: steps }, () => ({}) as never), durableAfterCrash: null },
  };
}

const doc = (results: PropertyResult[], runs: RunSummary[]): ResultsDoc => ({ interrupted: false, results, runs });

const base = verdictsOf(doc([result('a', 'x', 'p', 'violated', 12), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')]));

describe('verdicts.json', () => {
  it('records verdicts, trace lengths and state counts, and no time', () => {
    expect(base).toEqual([
      {
        spec: 'a',
        config: 'x',
        complete: true,
        states: 10,
        transitions: 20,
        depth: 5,
        properties: [
          { id: 'p', property: 'the p sentence', kind: 'always', verdict: 'violated', traceLength: 12 },
          { id: 'q', property: 'the q sentence', kind: 'always', verdict: 'holds', traceLength: null },
        ],
      },
    ]);
    expect(serializeVerdicts(mergeVerdicts(null, base, () => true, () => 0))).not.toMatch(/seconds/);
  });

  it('finds a flipped verdict, a longer trace and a changed state count', () => {
    const now = verdictsOf(doc([result('a', 'x', 'p', 'violated', 14), result('a', 'x', 'q', 'violated', 3)], [run('a', 'x', 11)]));
    const changes = compareVerdicts(base, now);
    expect(changes.map((c) => c.what).sort()).toEqual(['states', 'trace length', 'transitions', 'verdict']);
    const lines = formatChanges(changes).join('\n');
    expect(lines).toContain('a/x: q ("the q sentence"): verdict holds → violated');
    expect(lines).toContain('a/x: p ("the p sentence"): trace length 12 → 14 steps');
    expect(lines).toContain('a/x: states 10 → 11');
  });

  it('an identical run has no changes', () => {
    expect(compareVerdicts(base, verdictsOf(doc([result('a', 'x', 'p', 'violated', 12), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')])))).toEqual([]);
  });

  it('new configurations and properties are changes; missing ones only when the run should have covered them', () => {
    const now = verdictsOf(doc([result('a', 'x', 'p', 'violated', 12), result('b', 'y', 'p', 'holds', null)], [run('a', 'x'), run('b', 'y')]));
    const changes = compareVerdicts(base, now);
    expect(changes).toContainEqual(expect.objectContaining({ spec: 'b', config: 'y', what: 'added', property: null }));
    expect(changes).toContainEqual(expect.objectContaining({ spec: 'a', id: 'q', property: 'the q sentence', what: 'removed' }));
    const missing: ConfigVerdicts[] = [...base, { ...base[0], config: 'z' }];
    expect(compareVerdicts(missing, base)).toEqual([]);
    expect(compareVerdicts(missing, base, (_s, c) => c === 'z')).toEqual([expect.objectContaining({ config: 'z', what: 'removed' })]);
  });

  it('merging keeps configurations not run this time, drops those the registry lost, in registry order', () => {
    const prev = mergeVerdicts(null, [...base, { ...base[0], config: 'gone' }, { ...base[0], config: 'w' }], () => true, () => 0);
    const fresh = [{ ...base[0], states: 99 }];
    const order = (_s: string, c: string) => ['w', 'x'].indexOf(c);
    const next = mergeVerdicts(prev, fresh, (_s, c) => c !== 'gone', order);
    expect(next.runs.map((r) => [r.config, r.states])).toEqual([
      ['w', 10],
      ['x', 99],
    ]);
  });

  it('the baseline check fails on any change and says how to accept it', () => {
    const file = mergeVerdicts(null, base, () => true, () => 0);
    const ok = checkBaseline('v.json', file, doc([result('a', 'x', 'p', 'violated', 12), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')]), [], false);
    expect(ok.ok).toBe(true);
    const bad = checkBaseline('v.json', file, doc([result('a', 'x', 'p', 'holds', null), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')]), [], false);
    expect(bad.ok).toBe(false);
    expect(bad.lines.join('\n')).toMatch(/a\/x: p \("the p sentence"\): verdict violated → holds[\s\S]*npm run report/);
  });

  it('pairs properties by id: a reworded sentence is no change, a new id is', () => {
    const reworded = verdictsOf(doc([result('a', 'x', 'p', 'violated', 12, 'p, said better'), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')]));
    expect(compareVerdicts(base, reworded)).toEqual([]);
    const renamed = verdictsOf(doc([result('a', 'x', 'p2', 'violated', 12, 'the p sentence'), result('a', 'x', 'q', 'holds', null)], [run('a', 'x')]));
    expect(compareVerdicts(base, renamed).map((c) => [c.what, c.id])).toEqual([
      ['added', 'p2'],
      ['removed', 'p'],
    ]);
  });

  it('a file from before property ids (keyed by sentence) is compared by sentence', () => {
    const legacy: ConfigVerdicts[] = base.map((c) => ({ ...c, properties: c.properties.map(({ id: _id, ...p }) => p) }));
    const now = verdictsOf(doc([result('a', 'x', 'p', 'violated', 12), result('a', 'x', 'q', 'violated', 3)], [run('a', 'x')]));
    const changes = compareVerdicts(legacy, now);
    expect(changes).toEqual([expect.objectContaining({ id: 'q', property: 'the q sentence', what: 'verdict', before: 'holds', after: 'violated' })]);
    expect(unchangedCount(legacy, now)).toEqual({ same: 1, total: 2 });
  });
});
