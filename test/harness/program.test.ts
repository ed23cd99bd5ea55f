/** From a trace to the replayer's program: translation, input validation, what is not replayable. */
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check.ts';
import { UsageError } from '../../src/args.ts';
import { parseTraceText, planReplay, validateTraceDoc, type ReplayPlan, type TraceInput } from '../../src/replay/program.ts';
import { findSpec } from '../../specs/index.ts';
import { traceOf } from './helpers.ts';
import { compile, stepOf } from '../../src/replay/model.ts';
import type { DaxRunConfig } from '../../specs/common/spec.ts';
import { NAMES } from '../../models/invariants.ts';
import { MAP_SYNC_NAMES } from '../../specs/map-sync/machine.ts';

const plan = (t: TraceInput) => {
  const p = planReplay(t, `${t.spec}/${t.config}`);
  if ('reason' in p) throw new Error(`not replayable: ${p.reason}`);
  return p as ReplayPlan;
};

/** The error a bad input is refused with (UsageError: exit 2), or null. */
function refusal(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

describe("Chinner's counterexample as a replayer program", async () => {
  const t = await traceOf('baseline', 'trusting', NAMES.pointer);
  const p = plan(t);

  it('executes every step of the trace, faults as their own step, the commit as syncfs, and crashes at the power failure', () => {
    const lines = p.program.trim().split('\n');
    expect(lines.slice(0, 6)).toEqual(['daxcheck-program 1', 'blocks 2', 'pages 1', 'words 2', 'segments 1', 'segment 0']);
    const ops = lines.slice(6).map((l) => l.replace(/^step \d+ /, ''));
    expect(ops).toEqual([
      'open 0',
      'ftruncate 0 8192',
      'mmap 0 0 shared',
      'fault 0 0 0',
      'store 0 0 0 0 2',
      'flush 0 0 0',
      'syncfs 0',
      'fault 0 0 1',
      'store 0 0 1 0 3',
      'flush 0 0 1',
      'store 0 0 0 1 9',
      'flush 0 0 0',
      expect.stringMatching(/^crash \d+$/),
    ]);
    expect(p.segments).toBe(1);
    expect(p.notes.join(' ')).toContain('syncfs()');
  });

  it("predicts the eADR outcome: block 0 durable with header and pointer, block 1 a hole", () => {
    const d = p.prediction.durable;
    expect(d.size).toBe(8192);
    expect(d.blocks.map((b) => [b.extent.split(' ')[0], b.words])).toEqual([
      ['written', ['HDR', '→blk1']],
      ['hole', ['0', '0']],
    ]);
    expect(p.prediction.crashAppended).toBe(false);
  });

  it('the crash step is the power failure of the trace', () => {
    const crash = [...p.ops].find(([, op]) => op === 'crash')![0];
    expect(t.steps[crash - 1].event).toBe('power_fail');
  });
});

describe('a trace without a crash gets one appended', async () => {
  const t = await traceOf('map-sync', 'non-dax', MAP_SYNC_NAMES.refused);
  const p = plan(t);
  it('appends the crash after the last step and predicts from there', () => {
    expect(p.prediction.crashAppended).toBe(true);
    expect(p.program.trim().split('\n').at(-1)).toBe(`crash ${t.steps.length + 1}`);
    expect(p.prediction.steps.find((s) => s.label.endsWith('mmap'))?.errno).toBe('EOPNOTSUPP');
  });
});

describe('scaled scenario: generic/470', async () => {
  const t = await traceOf('map-sync', 'generic-470', NAMES.survives);
  const p = plan(t);
  it('makes each model block 64 pages, 1 MiB in all, and crashes before munmap', () => {
    expect(p.pagesPerBlock).toBe(64);
    expect(p.program).toContain(`ftruncate 0 ${1024 * 1024}`);
    expect(p.program).not.toContain('munmap');
    expect(p.prediction.durable.blocks.every((b) => b.extent.startsWith('written'))).toBe(true);
  });
});

describe('bad input is refused before anything boots', async () => {
  const good = await traceOf('baseline', 'trusting', NAMES.pointer);
  const doc = () => JSON.parse(JSON.stringify({ ...good, source: undefined }));
  const cases: [string, () => unknown, RegExp][] = [
    ['not JSON', () => parseTraceText('{"spec": ', 'x.json'), /^x\.json is not valid JSON/],
    ['not an object', () => parseTraceText('[1,2]', 'x.json'), /^x\.json is not a daxcheck trace: at \$, expected a daxcheck trace: .*, got an array of 2$/],
    ['no steps', () => validateTraceDoc({ ...doc(), steps: [] }, 'x.json'), /has no steps/],
    ['huge step count', () => validateTraceDoc({ ...doc(), steps: Array(100000).fill(doc().steps[0]) }, 'x.json'), /100000 steps; at most 400/],
    [
      'huge number',
      () => {
        const d = doc();
        d.steps[1].actions[0].params.blocks = 1e12;
        return validateTraceDoc(d, 'x.json');
      },
      /parameter blocks = 1000000000000 is out of range/,
    ],
    [
      'offset past the file',
      () => {
        const d = doc();
        const store = d.steps.find((s: { event: string }) => s.event === 'T0.store');
        store.actions[0].params.b = 5;
        return planReplay(validateTraceDoc(d, 'x.json'), 'x');
      },
      /block 5 is past the end/,
    ],
    [
      'unknown operation',
      () => {
        const d = doc();
        d.steps[0].actions[0].type = 'format_disk';
        return planReplay(validateTraceDoc(d, 'x.json'), 'x');
      },
      /the trace's actions .*format_disk.* are not the model's/,
    ],
    [
      'an event the model cannot take there',
      () => {
        const d = doc();
        d.steps.splice(0, 1);
        return planReplay(validateTraceDoc(d, 'x.json'), 'x');
      },
      /step 1 \(T0\.ftruncate\) is not possible/,
    ],
    ['unknown spec', () => planReplay(validateTraceDoc({ ...doc(), spec: 'nope' }, 'x.json'), 'x'), /unknown spec 'nope'/],
    ['hostile name', () => validateTraceDoc({ ...doc(), config: '../../etc' }, 'x.json'), /at \$\.config, expected a short name .*, got "\.\.\/\.\.\/etc"/],
  ];
  for (const [what, fn, message] of cases) {
    it(what, () => {
      expect(refusal(fn)).toMatch(message);
    });
  }
  it('the unmodified trace is accepted (so the cases above fail for their own reason)', () => {
    expect(refusal(() => planReplay(validateTraceDoc(doc(), 'x.json'), 'x'))).toBeNull();
  });
});

describe('traces Linux cannot run are said to be so', async () => {
  it('virtio-pmem: the rig has none', async () => {
    const t = await traceOf('map-sync', 'virtio-pmem', NAMES.survives);
    const p = planReplay(t, 'x');
    expect('reason' in p && p.reason).toMatch(/virtio-pmem/);
  });
  it('a third party the harness does not drive is named', async () => {
    const s = findSpec('map-sync')!;
    const c = s.configs.find((x) => x.name === 'third-party');
    expect(c, 'map-sync has a third-party configuration').toBeDefined();
    // Walk the machine: thread steps until a third-party event is possible, then take it.
    const { sys } = compile(s, c! as DaxRunConfig);
    let state = sys.initialStates()[0];
    const steps: TraceInput['steps'] = [];
    for (let guard = 0; guard < 50 && !steps.some((x) => x.event.startsWith('M.')); guard++) {
      const order = [...Array(sys.eventCount).keys()].sort((x, y) => Number(!sys.eventLabel(x).startsWith('M.')) - Number(!sys.eventLabel(y).startsWith('M.')));
      const e = order.find((i) => stepOf(sys, state, i) && (sys.eventLabel(i).startsWith('M.') || sys.eventLabel(i).startsWith('T0.')))!;
      steps.push({ event: sys.eventLabel(e), actions: sys.explain(state, e)!.actions.map((x) => ({ type: x.type, params: x.params ?? null })) });
      state = stepOf(sys, state, e)!;
    }
    expect(steps.at(-1)?.event).toMatch(/^M\./);
    const p = planReplay({ source: 'x', spec: 'map-sync', config: c!.name, property: 'p', kind: 'trace', steps }, 'x');
    expect('reason' in p && p.reason).toMatch(/third_party_\w+', which the harness has no way to do/);
  });
});

describe('a trace with two power failures', async () => {
  const { twoCrashTrace } = await import('../../src/replay/smoke.ts');
  const t = twoCrashTrace();
  const p = plan(t);
  it('is two run segments, each ending in a crash, the second after the restart', () => {
    expect(p.segments).toBe(2);
    expect(p.program).toMatch(/segment 0\n(step \d+ .*\n)+crash \d+\nsegment 1\nstep \d+ open 0\n(step \d+ .*\n)+crash \d+\n$/);
    expect(t.steps.filter((s) => s.event.startsWith('power_fail'))).toHaveLength(1);
    expect(p.prediction.crashAppended).toBe(true);
  });
});

describe('proposals Linux never merged are not replayed, and the reason says so', () => {
  for (const name of ['map-direct', 'pmem-immutable', 'nova']) {
    it(name, async () => {
      const s = findSpec(name);
      expect(s, `${name} is registered`).toBeDefined();
      const c = s!.configs.find((x) => x.default)!;
      const run = await checkConfig(s!, c, undefined);
      const r = run.results.find((x) => x.trace)!;
      const p = planReplay({ source: 'x', spec: name, config: c.name, property: r.property, kind: r.kind, steps: r.trace!.steps }, 'x');
      expect('reason' in p && p.reason).toMatch(/never merged/);
    });
  }
});

describe('configurations that model a kernel Linux does not ship are not replayed', () => {
  it('zeroing through the cache (a hypothetical filesystem bug)', async () => {
    const s = findSpec('baseline')!;
    const c = s.configs.find((x) => x.name === 'zeroing-not-flushed');
    expect(c, 'baseline has the zeroing-not-flushed configuration').toBeDefined();
    const run = await checkConfig(s, c!, undefined);
    const r = run.results.find((x) => x.trace)!;
    const p = planReplay({ source: 'x', spec: 'baseline', config: c!.name, property: r.property, kind: r.kind, steps: r.trace!.steps }, 'x');
    expect('reason' in p && p.reason).toMatch(/no kernel with this bug/);
  });
});

describe('write(2), pwrite(2) and the second file g as replayer programs (issue 13)', async () => {
  it('an O_APPEND write(2) after a MAP_SYNC fault: open_append, and the write at the end of the file', async () => {
    const p = plan(await traceOf('map-sync', 'sync-fault-then-write', NAMES.pointer));
    const ops = p.program.trim().split('\n').filter((l) => l.startsWith('step ')).map((l) => l.replace(/^step \d+ /, ''));
    expect(ops.slice(0, 3)).toEqual(['open_append 0', 'ftruncate 0 4096', 'mmap 0 0 shared_validate_sync']);
    // FILE 0 (f), block 1 (the end of the 4096-byte file), DATA0 = 3
    expect(ops).toContain('write 0 0 1 3');
    expect(p.program).not.toContain('files 2');
    expect(p.prediction.durable.size).toBe(4096);
    expect(p.prediction.durable.records[0].found).toBe('dangling pointer');
  });

  it("fsync of g after an allocating append: g is made first, and the crash finds f's blocks committed", async () => {
    const p = plan(await traceOf('baseline', 'other-file-fsync', NAMES.finishes));
    expect(p.program).toContain('files 2\n');
    const ops = p.program.trim().split('\n').filter((l) => l.startsWith('step ')).map((l) => l.replace(/^step \d+ /, ''));
    expect(ops.slice(-3)).toEqual(['open_g 0 1', 'write 0 1 1 3', 'fsync_g 0']);
    expect(p.prediction.durable.size).toBe(8192);
    expect(p.prediction.durable.g).toEqual({ size: 8192, writtenBlocks: 2 });
    expect(p.prediction.durable.records[0].found).toBe('record intact');
  });

  it('fdatasync of g after an overwrite commits nothing: the crash finds f empty and g as it was', async () => {
    const p = plan(await traceOf('baseline', 'other-file-fdatasync', NAMES.belief));
    const ops = p.program.trim().split('\n').filter((l) => l.startsWith('step ')).map((l) => l.replace(/^step \d+ /, ''));
    expect(ops.slice(-3)).toEqual(['open_g 0 0', 'pwrite 0 1 0 3', 'fdatasync_g 0']);
    expect(p.prediction.durable.size).toBe(0);
    expect(p.prediction.durable.g).toEqual({ size: 4096, writtenBlocks: 1 });
  });

  it('a trace of a configuration with g that stops before touching g still has g made (the initial state has it)', async () => {
    const p = plan(await traceOf('baseline', 'other-file-clean', NAMES.pointer));
    expect(p.program).toContain('files 2\n');
    expect(p.program).not.toContain('_g ');
  });
});

describe('Px86 instructions as replayer operations (issue 13 point 6)', async () => {
  const opsOf = (p: ReplayPlan) => p.program.trim().split('\n').filter((l) => l.startsWith('step ')).map((l) => l.replace(/^step \d+ /, ''));
  const cases: [string, string[]][] = [
    ['clwb', ['store 0 0 0 0 2', 'clwb 0 0 0 0', 'sfence 0']],
    ['clflushopt', ['store 0 0 0 0 2', 'clflushopt 0 0 0 0', 'sfence 0']],
    ['clflush', ['store 0 0 0 0 2', 'clflush 0 0 0 0', 'syncfs 0']],
    ['clwb-mfence', ['store 0 0 0 0 2', 'clwb 0 0 0 0', 'mfence 0']],
    ['movnti', ['movnti 0 0 0 0 2', 'sfence 0']],
    ['wrong-line', ['store 0 0 0 0 2', 'clwb 0 0 0 1', 'sfence 0']],
    ['no-fence', ['store 0 0 0 0 2', 'clwb 0 0 0 0', 'syncfs 0']],
  ];
  for (const [seq, wanted] of cases) {
    it(`px86-${seq}-eadr: the header's store and its flush sequence, instruction by instruction`, async () => {
      const p = plan(await traceOf('baseline', `px86-${seq}-eadr`, NAMES.pointer));
      const ops = opsOf(p);
      const at = ops.indexOf(wanted[0]);
      expect(at, ops.join('; ')).toBeGreaterThanOrEqual(0);
      expect(ops.slice(at, at + wanted.length)).toEqual(wanted);
      // No step of the old one-step "clwb + sfence" is left in a Px86 program.
      expect(ops.some((o) => o.startsWith('flush '))).toBe(false);
    });
  }

  it('an ADR configuration is not replayed: the rig cannot lose a cache line, its eADR twin is named', async () => {
    const t = await traceOf('baseline', 'px86-clwb', NAMES.pointer);
    const r = planReplay(t, 'x');
    expect('reason' in r && r.reason).toMatch(/on ADR.*the rig cannot lose one.*px86-clwb-eadr is replayed/);
  });

  it("a counterexample that loses a write-combining buffer is not replayed; the rig's prediction drains them", async () => {
    const lost = planReplay(await traceOf('baseline', 'px86-movnti-no-fence-eadr', NAMES.belief), 'x');
    expect('reason' in lost && lost.reason).toMatch(/write-combining buffer.*no WC buffers.*px86-movnti-no-fence-eadr-drained/);
    // The same configuration's witness is replayed, predicted with the WC buffers drained.
    const p = plan(await traceOf('baseline', 'px86-movnti-no-fence-eadr', NAMES.survives));
    expect(p.notes.join(' ')).toContain('write-combining buffers drained');
    expect(p.prediction.durable.records[0].found).toBe('record intact');
    expect(opsOf(p).filter((o) => o.startsWith('movnti')).length).toBe(3);
  });
});
