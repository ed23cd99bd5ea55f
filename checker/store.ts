/**
 * The set of visited states: an arena of packed keys in discovery order, a parent pointer and the
 * event that led to each state (so any state's shortest path can be rebuilt), and an
 * open-addressing hash index whose slots hold just the key words. A slot whose last word is zero
 * is empty: the codec sets a presence bit in every key's last word. The index is kept at most
 * three quarters full (linear probing; a key of two words shares its cache line with seven
 * others, so a longer probe is seldom another miss): measured on the bench model, lookups cost
 * the same at 0.72 as at 0.36, and half the table is half the pages to touch for the first time.
 *
 * A JavaScript Set or Map cannot be used: both fail at 2^24 entries, and their per-entry cost is
 * ten times this layout's.
 */
export class MemoryLimitError extends Error {
  constructor(readonly neededBytes: number, readonly limitBytes: number, readonly scope: 'store' | 'process' = 'store', label?: string) {
    super(
      scope === 'store'
        ? `the state store would need ${neededBytes} bytes, more than the limit of ${limitBytes}`
        : `the process would need ${mb(neededBytes)} MB of memory; ${label ?? `the limit is ${mb(limitBytes)} MB`}`,
    );
  }
}

const mb = (bytes: number) => Math.ceil(bytes / (1024 * 1024));

/** The process's resident memory (every thread's), in bytes. */
export const rssBytes = (): number => process.memoryUsage.rss();

/**
 * A limit on the whole process's resident memory: the stores (this thread's and, with the
 * parallel explorer, every worker's), the workers themselves, the traces. `share` is how many
 * threads may allocate at once: each asks as if all did.
 */
export interface RssLimit {
  bytes: number;
  share: number;
  /** Says what the limit is, for the message: "--max-memory 100 MB leaves 92 MB for exploring". */
  label?: string;
}

/** Throws MemoryLimitError when allocating `extra` bytes would take the process past the limit. */
export function checkRss(limit: RssLimit | undefined, extra = 0): void {
  if (!limit) return;
  const need = rssBytes() + extra * limit.share;
  if (need > limit.bytes) throw new MemoryLimitError(need, limit.bytes, 'process', limit.label);
}

/** `internAt` results other than a new state's index. */
export const SEEN = -1;
export const REFUSED = -2;

/** Keys whose slots `StateStore.lookupBatch` loads together before probing them (the cache holds them meanwhile). */
const TOUCH_BLOCK = 256;

export class StateStore {
  /** Words per packed state. */
  readonly K: number;
  /** Number of states stored. */
  count = 0;
  /** Packed keys, state i at [i*K, (i+1)*K). */
  keys: Int32Array;
  /** Index of the state this one was first reached from, -1 for initial states. */
  parent: Int32Array;
  /** Event that first reached this state (meaningless for initial states). */
  via: Uint16Array;
  private table: Int32Array;
  private slots: number;
  private readonly slotWords: number;

  /**
   * `expected`: how many states to make room for at once (a hint, e.g. the count a manifest
   * records, as Spin's -w sizes its hash table): no growing, copying and rehashing up to it.
   */
  /**
   * `shared`: the keys live in shared memory (a SharedArrayBuffer), so that other threads can
   * read them (the parallel explorer's workers expand each other's states).
   */
  constructor(K: number, private readonly maxBytes: number, expected = 0, private readonly rssLimit?: RssLimit, private readonly shared = false) {
    this.K = K;
    this.slotWords = K;
    let capacity = Math.max(1 << 12, expected);
    let slots = 1 << 13;
    while (capacity * 4 > slots * 3) slots *= 2;
    if (capacity > 1 << 12) {
      // A hint that does not fit the limits is dropped: the store grows as it goes instead.
      try {
        this.check(capacity * (K * 4 + 6) + slots * K * 4);
      } catch {
        capacity = 1 << 12;
        slots = 1 << 13;
      }
    }
    this.check(capacity * (K * 4 + 6) + slots * K * 4);
    this.keys = this.keyArray(capacity * K);
    this.parent = new Int32Array(capacity);
    this.via = new Uint16Array(capacity);
    this.slots = slots;
    this.table = new Int32Array(this.slots * this.slotWords);
  }

  /** Bytes held by the store's arrays. */
  bytes(): number {
    return this.keys.byteLength + this.parent.byteLength + this.via.byteLength + this.table.byteLength;
  }

  /** Where state i's key is in `keys`. */
  keyOffset(i: number): number {
    return i * this.K;
  }

  /** Every key is kept: nothing to release. */
  release(_index: number): void {}

  /** Murmur3-style mix of the key words. */
  static hash(key: Int32Array, K: number): number {
    return StateStore.hashAt(key, 0, K);
  }

  static hashAt(keys: Int32Array, offset: number, K: number): number {
    let h = 0x9747b28c ^ K;
    for (let i = 0; i < K; i++) {
      let k = Math.imul(keys[offset + i], 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h;
  }

  /**
   * Inserts `key` when new and `allowInsert` is set, returning its index; returns SEEN when the
   * key was already stored and REFUSED when it is new but insertion is not allowed.
   */
  intern(key: Int32Array, parent: number, via: number, allowInsert = true): number {
    return this.internAt(key, 0, StateStore.hash(key, this.K), parent, via, allowInsert);
  }

  /** Hash of the key at `keys[offset..offset+K)`. */
  hashAt(keys: Int32Array, offset: number): number {
    return StateStore.hashAt(keys, offset, this.K);
  }

  /**
   * Reads the first slot a hash maps to and returns a word of it. Calling this for every
   * successor of a state before inserting any lets the CPU fetch those cache lines in parallel;
   * a probe is otherwise one dependent memory miss after another.
   */
  touch(hash: number): number {
    return this.table[(hash & (this.slots - 1)) * this.slotWords];
  }

  /** `intern` for the key at `keys[offset..offset+K)` whose hash is already known. */
  internAt(keys: Int32Array, offset: number, hash: number, parent: number, via: number, allowInsert = true): number {
    const found = this.probe(keys, offset, hash);
    if (found >= 0) return SEEN;
    if (!allowInsert) return REFUSED;
    const K = this.K;
    const table = this.table;
    const index = this.count;
    if (index === this.parent.length) this.growArena();
    const arena = this.keys;
    const at = index * K;
    const base = ~found * K;
    for (let i = 0; i < K; i++) {
      const w = keys[offset + i];
      arena[at + i] = w;
      table[base + i] = w;
    }
    this.parent[index] = parent;
    this.via[index] = via;
    this.count = index + 1;
    if (this.count * 4 > this.slots * 3) this.growTable();
    return index;
  }

  /**
   * Looks up `m` keys at once (key j at `keys[j*stride..]`, hashes in `hashes`), inserting into the index each
   * key not yet there; `isNew[j]` is set to 1 for a key seen for the first time (the first of
   * several equal keys in the batch), else 0. Nothing is added to the arena: the caller appends
   * the new keys in batch order (`append`), so indices, parents and events are exactly what
   * looking them up one by one in that order gives.
   *
   * The table is far larger than the caches: a lookup is a memory miss, and a probe that waits
   * for it (its branches depend on the slot's contents) stalls the processor. Here the first slot
   * of every key of a block is loaded first, in a loop whose loads are independent, so the memory
   * serves them together; the probes that follow find them in the cache.
   */
  lookupBatch(keys: Int32Array, hashes: Int32Array, m: number, isNew: Uint8Array, stride = this.K): void {
    while ((this.count + m) * 4 > this.slots * 3) this.growTable();
    const K = this.K;
    const last = K - 1;
    const table = this.table;
    const mask = this.slots - 1;
    let sink = 0;
    for (let from = 0; from < m; from += TOUCH_BLOCK) {
      const to = Math.min(m, from + TOUCH_BLOCK);
      // Every first slot of the block is loaded before any is probed: the loads are independent,
      // so the memory fetches them all at once; the probes then find them in the cache.
      for (let j = from; j < to; j++) sink ^= table[(hashes[j] & mask) * K + last];
      for (let j = from; j < to; j++) {
        const offset = j * stride;
        const found = this.probe(keys, offset, hashes[j]);
        if (found >= 0) isNew[j] = 0;
        else {
          const base = ~found * K;
          for (let i = 0; i < K; i++) table[base + i] = keys[offset + i];
          isNew[j] = 1;
        }
      }
    }
    if (sink === 0x7fffffff) this.sink++;
  }

  /** Keeps the loads of `lookupBatch` from being optimised away. */
  private sink = 0;

  /**
   * Linear probing for the key at `keys[offset..offset+K)` from its hash's slot: the slot holding
   * it, or the complement (`~slot`, negative) of the empty slot where it belongs.
   */
  private probe(keys: Int32Array, offset: number, hash: number): number {
    const K = this.K;
    const last = K - 1;
    const table = this.table;
    const mask = this.slots - 1;
    const lastWord = keys[offset + last];
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const base = slot * K;
      const t = table[base + last];
      // Every word compared, then one test: fewer branches the processor can mispredict than
      // stopping at the first difference. (A stored key's last word is never zero.)
      let diff = t ^ lastWord;
      for (let i = 0; i < last; i++) diff |= table[base + i] ^ keys[offset + i];
      if (diff === 0) return slot;
      if (t === 0) return ~slot;
    }
  }

  /** Appends a key `lookupBatch` found new to the arena; returns its index. */
  append(keys: Int32Array, offset: number, parent: number, via: number): number {
    const index = this.count;
    if (index === this.parent.length) this.growArena();
    const K = this.K;
    const arena = this.keys;
    const at = index * K;
    for (let i = 0; i < K; i++) arena[at + i] = keys[offset + i];
    this.parent[index] = parent;
    this.via[index] = via;
    this.count = index + 1;
    return index;
  }

  private keyArray(words: number): Int32Array {
    return this.shared ? new Int32Array(new SharedArrayBuffer(words * 4)) : new Int32Array(words);
  }

  private check(extra: number): void {
    const need = (this.keys ? this.bytes() : 0) + extra;
    if (need > this.maxBytes) throw new MemoryLimitError(need, this.maxBytes);
    checkRss(this.rssLimit, extra);
  }

  private growArena(): void {
    const cap = this.parent.length * 2;
    this.check(cap * (this.K * 4 + 4 + 2));
    const keys = this.keyArray(cap * this.K);
    keys.set(this.keys);
    const parent = new Int32Array(cap);
    parent.set(this.parent);
    const via = new Uint16Array(cap);
    via.set(this.via);
    this.keys = keys;
    this.parent = parent;
    this.via = via;
  }

  private growTable(): void {
    const slots = this.slots * 2;
    this.check(slots * this.slotWords * 4);
    const K = this.K;
    const old = this.table;
    const table = new Int32Array(slots * K);
    const mask = slots - 1;
    // Walk the old table in slot order rather than the arena in state order: a key's new home is
    // its old home or that plus the old size, so the writes stream through memory instead of
    // landing at random.
    for (let base = 0; base < old.length; base += K) {
      if (old[base + K - 1] === 0) continue;
      let slot = StateStore.hashAt(old, base, K) & mask;
      while (table[slot * K + K - 1] !== 0) slot = (slot + 1) & mask;
      const to = slot * K;
      for (let i = 0; i < K; i++) table[to + i] = old[base + i];
    }
    this.table = table;
    this.slots = slots;
  }
}

/**
 * Hash compaction (Wolper & Leroy, 1993; Stern & Dill, 1995): the visited set holds a 63-bit
 * fingerprint of each state instead of the state, so a state costs 8 bytes in the index plus its
 * parent pointer and event (6 bytes), whatever its size. Full keys are kept only for the states
 * still to be expanded (the current and next breadth-first levels); a path is rebuilt from the
 * parent pointers and events by running the events again from the initial state.
 *
 * Two states with the same fingerprint are taken for one: the second is never stored, and what
 * only it leads to may be missed. The probability that this happened at all in a run of n states
 * is at most n(n-1)/2 / 2^63 (`omissionProbability`); a verdict that rests on every state having
 * been seen says so.
 */
export class CompactStore {
  readonly K: number;
  count = 0;
  /** Full keys of states [base, count): those not yet expanded. */
  private pending: Int32Array;
  private base = 0;
  parent: Int32Array;
  via: Uint16Array;
  private table: Int32Array;
  private slots: number;

  constructor(K: number, private readonly maxBytes: number, initialCapacity = 1 << 12) {
    this.K = K;
    this.pending = new Int32Array(initialCapacity * K);
    this.parent = new Int32Array(initialCapacity);
    this.via = new Uint16Array(initialCapacity);
    this.slots = 1 << 13;
    this.table = new Int32Array(this.slots * 2);
  }

  bytes(): number {
    return this.pending.byteLength + this.parent.byteLength + this.via.byteLength + this.table.byteLength;
  }

  /** Upper bound of the probability that some state was not stored because of a fingerprint collision. */
  omissionProbability(): number {
    const n = this.count;
    return Math.min(1, (n * (n - 1)) / 2 / 2 ** 63);
  }

  /** The buffer holding state i's key (i not yet released), at `keyOffset(i)`. */
  get keys(): Int32Array {
    return this.pending;
  }

  keyOffset(i: number): number {
    return (i - this.base) * this.K;
  }

  /** Forgets the keys of states below `index` (expanded): their fingerprints stay. */
  release(index: number): void {
    const drop = index - this.base;
    if (drop <= 0) return;
    this.pending.copyWithin(0, drop * this.K, (this.count - this.base) * this.K);
    this.base = index;
  }

  hashAt(keys: Int32Array, offset: number): number {
    return StateStore.hashAt(keys, offset, this.K);
  }

  touch(hash: number): number {
    return this.table[(hash & (this.slots - 1)) * 2];
  }

  intern(key: Int32Array, parent: number, via: number, allowInsert = true): number {
    return this.internAt(key, 0, StateStore.hashAt(key, 0, this.K), parent, via, allowInsert);
  }

  /** Second, independent hash of a key (another seed and mix), with the low bit set so a fingerprint is never all zero. */
  private static hash2(keys: Int32Array, offset: number, K: number): number {
    let h = 0x2545f491 ^ (K * 0x9e3779b9);
    for (let i = 0; i < K; i++) {
      h = Math.imul(h ^ keys[offset + i], 0x5bd1e995);
      h ^= h >>> 15;
      h = Math.imul(h, 0x27d4eb2d);
    }
    h ^= h >>> 13;
    h = Math.imul(h, 0x165667b1);
    h ^= h >>> 16;
    return h | 1;
  }

  internAt(keys: Int32Array, offset: number, hash: number, parent: number, via: number, allowInsert = true): number {
    const K = this.K;
    const h2 = CompactStore.hash2(keys, offset, K);
    const table = this.table;
    const mask = this.slots - 1;
    let slot = hash & mask;
    for (;;) {
      const base = slot * 2;
      const b = table[base + 1];
      if (b === 0) break;
      if (b === h2 && table[base] === hash) return SEEN;
      slot = (slot + 1) & mask;
    }
    if (!allowInsert) return REFUSED;
    const index = this.count;
    if (index === this.parent.length) this.growArena();
    if ((index - this.base + 1) * K > this.pending.length) this.growPending();
    const at = (index - this.base) * K;
    for (let i = 0; i < K; i++) this.pending[at + i] = keys[offset + i];
    table[slot * 2] = hash;
    table[slot * 2 + 1] = h2;
    this.parent[index] = parent;
    this.via[index] = via;
    this.count = index + 1;
    if (this.count * 10 > this.slots * 8) this.growTable();
    return index;
  }

  private check(extra: number): void {
    const need = this.bytes() + extra;
    if (need > this.maxBytes) throw new MemoryLimitError(need, this.maxBytes);
  }

  private growArena(): void {
    const cap = this.parent.length * 2;
    this.check(cap * 6);
    const parent = new Int32Array(cap);
    parent.set(this.parent);
    const via = new Uint16Array(cap);
    via.set(this.via);
    this.parent = parent;
    this.via = via;
  }

  private growPending(): void {
    this.check(this.pending.length * 4);
    const pending = new Int32Array(this.pending.length * 2);
    pending.set(this.pending);
    this.pending = pending;
  }

  private growTable(): void {
    const slots = this.slots * 2;
    this.check(slots * 8);
    const old = this.table;
    const table = new Int32Array(slots * 2);
    const mask = slots - 1;
    for (let base = 0; base < old.length; base += 2) {
      if (old[base + 1] === 0) continue;
      let slot = old[base] & mask;
      while (table[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      table[slot * 2] = old[base];
      table[slot * 2 + 1] = old[base + 1];
    }
    this.table = table;
    this.slots = slots;
  }
}
