import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeCodec } from '../../checker/codec.ts';

describe('codec: packing states into bits', () => {
  it('round-trips any state within its bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 60 }).chain((max) =>
          fc.tuple(fc.constant(max), fc.tuple(...max.map((m) => fc.integer({ min: 0, max: m })))),
        ),
        ([max, values]) => {
          const codec = makeCodec(Uint8Array.from(max));
          const out = new Int32Array(codec.words);
          expect(codec.encode(Uint8Array.from(values), out, 0)).toBe(-1);
          expect(out[codec.words - 1]).not.toBe(0); // presence flag
          const back = new Uint8Array(max.length);
          codec.decode(out, 0, back);
          expect([...back]).toEqual(values);
        },
      ),
    );
  });

  it('distinguishes states that differ in one byte', () => {
    const codec = makeCodec(Uint8Array.from([3, 1, 15, 255, 0, 7]));
    const a = new Int32Array(codec.words);
    const b = new Int32Array(codec.words);
    codec.encode(Uint8Array.from([1, 0, 9, 200, 0, 5]), a, 0);
    codec.encode(Uint8Array.from([1, 0, 9, 201, 0, 5]), b, 0);
    expect([...a]).not.toEqual([...b]);
  });

  it('uses the fewest bits the bounds allow', () => {
    expect(makeCodec(Uint8Array.from([1, 1, 3, 7, 0])).bits).toBe(1 + 1 + 2 + 3);
    expect(makeCodec(new Uint8Array(32).fill(1)).words).toBe(2); // 32 data bits + flag
  });

  it('reports the first byte beyond its bound', () => {
    const codec = makeCodec(Uint8Array.from([3, 3, 3]));
    expect(codec.encode(Uint8Array.from([1, 4, 9]), new Int32Array(codec.words), 0)).toBe(1);
    expect(makeCodec(Uint8Array.from([0])).encode(Uint8Array.from([1]), new Int32Array(1), 0)).toBe(0);
  });
});
