/**
 * Packs a state vector (one value per byte) into the fewest 32-bit words its declared bounds allow,
 * and back.
 *
 * A DAX model state is a few dozen bytes, most of which hold 0..3; packed it is two or three words.
 * Small keys are what make the explorer fast: they are stored inline in the hash table, so a
 * duplicate state costs one cache line, and the arena of all states stays small.
 *
 * Encoder and decoder are generated as straight-line code for the given layout, since they run
 * once per transition.
 */
export interface Codec {
  /** Number of 32-bit words of a packed state. */
  readonly words: number;
  /** Total bits used. */
  readonly bits: number;
  /**
   * Packs `src` into `out[offset..offset+words)`. Returns -1 on success, or the index of the first byte whose
   * value does not fit its declared bound. The last word always has one bit set beyond the data
   * (the presence flag), so a packed state is never all zeros and the hash table can use zero
   * for an empty slot.
   */
  encode(src: Uint8Array, out: Int32Array, offset: number): number;
  /** Unpacks `words` words of `keys` starting at `offset` into `dst`. */
  decode(keys: Int32Array, offset: number, dst: Uint8Array): void;
}

function bitsFor(max: number): number {
  let b = 0;
  while (max >> b) b++;
  return b;
}

export function makeCodec(maxValues: Uint8Array): Codec {
  const n = maxValues.length;
  const width: number[] = [];
  const word: number[] = [];
  const shift: number[] = [];
  let w = 0;
  let used = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const b = bitsFor(maxValues[i]);
    width.push(b);
    total += b;
    if (b === 0) {
      word.push(-1);
      shift.push(0);
      continue;
    }
    // A field never straddles two words: the generated code stays simple and branch-free.
    if (used + b > 32) {
      w++;
      used = 0;
    }
    word.push(w);
    shift.push(used);
    used += b;
  }
  // The presence flag needs one spare bit in the last word.
  if (used === 32) {
    w++;
    used = 0;
  }
  const words = w + 1;
  const flagWord = w;
  const flag = used === 31 ? '(1 << 31)' : String(1 << used);

  // encode: one OR-expression per word, plus a single overflow test over every byte.
  const enc: string[] = [];
  const over: string[] = [];
  for (let k = 0; k < words; k++) {
    const terms: string[] = [];
    for (let i = 0; i < n; i++) {
      if (word[i] !== k) continue;
      terms.push(shift[i] === 0 ? `s[${i}]` : `(s[${i}] << ${shift[i]})`);
    }
    if (k === flagWord) terms.push(flag);
    enc.push(`o[off + ${k}] = ${terms.length ? terms.join(' | ') : '0'};`);
  }
  for (let i = 0; i < n; i++) over.push(width[i] === 0 ? `s[${i}]` : `(s[${i}] >>> ${width[i]})`);
  // The overflow test is an OR of all bytes shifted by their width: zero iff everything fits.
  const encodeSrc =
    `if ((${over.join(' | ') || '0'}) !== 0) {\n` +
    `  for (let i = 0; i < ${n}; i++) if ((s[i] >>> W[i]) !== 0) return i;\n` +
    `}\n` +
    enc.join('\n') +
    '\nreturn -1;';
  const encode = new Function('W', `return function encode(s, o, off) {\n${encodeSrc}\n};`)(
    Uint8Array.from(width),
  ) as Codec['encode'];

  const dec: string[] = [];
  for (let k = 0; k < words; k++) dec.push(`const w${k} = keys[off + ${k}];`);
  for (let i = 0; i < n; i++) {
    if (width[i] === 0) {
      dec.push(`d[${i}] = 0;`);
      continue;
    }
    const mask = width[i] === 32 ? '0xffffffff' : `0x${((1 << width[i]) >>> 0).toString(16)} - 1`;
    dec.push(`d[${i}] = (w${word[i]} >>> ${shift[i]}) & (${mask});`);
  }
  const decode = new Function(`return function decode(keys, off, d) {\n${dec.join('\n')}\n};`)() as Codec['decode'];

  return { words, bits: total, encode, decode };
}
