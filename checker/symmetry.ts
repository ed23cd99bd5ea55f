/**
 * Symmetry reduction: where a system declares that some of its parts are interchangeable (threads
 * running the same program on their own data), the explorer stores one representative of every
 * class of states that differ only by a permutation of those parts: the smallest, byte by byte, of
 * the state and its images under every declared permutation (Ip & Dill, "Better verification
 * through symmetry", 1996). The successors of a representative are computed from it as from any
 * state, then reduced in turn.
 *
 * Sound when every declared permutation is an automorphism of the system (it maps the initial
 * state to itself and each transition to a transition) and every property gives the same answer
 * on a state and on its images: then a state violates a property iff its representative does, and
 * the shortest distance to a violation is the same. The explorer checks the first condition on
 * the initial states; the declaring spec answers for the rest, and the tests check it on whole
 * state spaces (test/checker/symmetry.test.ts).
 *
 * Traces are turned back into real ones (`realPath`): from the real initial state, each step takes
 * the event whose successor reduces to the next stored representative, so every step is one the
 * system can take, named with the real thread names.
 */
import type { Path } from './bfs.ts';
import type { TransitionSystem } from './system.ts';

/** A permutation of states: `apply` writes the image of `src` into `dst` (a different buffer). */
export interface StatePermutation {
  apply(src: Uint8Array, dst: Uint8Array): void;
}

/** What a system declares interchangeable. */
export interface Symmetry {
  /** In a sentence, e.g. "threads T0, T1 (their programs, descriptors, mappings, blocks and records)". */
  description: string;
  /** Every permutation of the group but the identity. */
  permutations: StatePermutation[];
  /**
   * States that are reduced; others are stored as they are. For a system whose permutations are
   * automorphisms except on some transient states (e.g. a crash image decided word by word in
   * index order), whose outcomes are nevertheless the images of each other's (see `realPath`).
   */
  reduces?(state: Uint8Array): boolean;
}

/**
 * A permutation of state bytes, generated as straight-line code: byte i of the image is byte
 * `source[i]` of the state, through the table `values[i]` when there is one. `config`, when given,
 * maps the two-byte configuration number at bytes 0 and 1 instead (a compiled machine's).
 */
export function bytePermutation(source: ArrayLike<number>, values: (Uint8Array | null)[], config?: (id: number) => number): StatePermutation {
  const n = source.length;
  const lines: string[] = [];
  const tables: Uint8Array[] = [];
  for (let i = config ? 2 : 0; i < n; i++) {
    const t = values[i];
    if (t) {
      tables.push(t);
      lines.push(`d[${i}] = V[${tables.length - 1}][s[${source[i]}]];`);
    } else lines.push(`d[${i}] = s[${source[i]}];`);
  }
  if (config) lines.unshift('const id = C(s[0] | (s[1] << 8));', 'd[0] = id & 255;', 'd[1] = id >> 8;');
  const apply = new Function('V', 'C', `return function apply(s, d) {\n${lines.join('\n')}\n};`)(tables, config) as StatePermutation['apply'];
  return { apply };
}

/** Reduces a state in place to its class's representative (where `reduces` allows); returns true when it changed. */
export function canonicalizer(symmetry: Symmetry, stateBytes: number): (state: Uint8Array) => boolean {
  const forced = representative(symmetry, stateBytes);
  const reduces = symmetry.reduces;
  return reduces ? (state) => reduces(state) && forced(state) : forced;
}

/** Reduces a state in place to the smallest of its images, whatever `reduces` says. */
export function representative(symmetry: Symmetry, stateBytes: number): (state: Uint8Array) => boolean {
  const perms = symmetry.permutations;
  const image = new Uint8Array(stateBytes);
  const best = new Uint8Array(stateBytes);
  return (state) => {
    let have = false;
    for (let k = 0; k < perms.length; k++) {
      perms[k].apply(state, image);
      const than = have ? best : state;
      let i = 0;
      while (i < stateBytes && image[i] === than[i]) i++;
      if (i < stateBytes && image[i] < than[i]) {
        best.set(image);
        have = true;
      }
    }
    if (have) state.set(best);
    return have;
  };
}

/** Does every permutation map each of these states to itself? (Required of the initial states.) */
export function fixesStates(symmetry: Symmetry, states: Uint8Array[]): boolean {
  for (const s of states) {
    const image = new Uint8Array(s.length);
    for (const p of symmetry.permutations) {
      p.apply(s, image);
      for (let i = 0; i < s.length; i++) if (image[i] !== s[i]) return false;
    }
  }
  return true;
}

/**
 * The real path behind a stored path: from the real initial state, a path of the same length
 * whose every state is an image of the stored one where the stored one was reduced. Where a state
 * was reduced, that is one step: the recorded event if its successor has the next stored state as
 * its representative, else the first event whose successor does (one exists: the permutation that
 * made the representative maps the recorded step to a step of the real state). Across states that
 * were not reduced (see `Symmetry.reduces`), a short depth-first search finds a path of the same
 * number of steps to an image of the next reduced state (or of the last one).
 */
export function realPath(system: TransitionSystem<unknown>, symmetry: Symmetry, path: Path): Path {
  const S = system.stateBytes;
  const forced = representative(symmetry, S);
  const reduces = symmetry.reduces ?? (() => true);
  const rep = (s: Uint8Array) => {
    const c = s.slice();
    forced(c);
    return c;
  };
  const same = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < S; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const n = path.events.length;
  const states: Uint8Array[] = [path.states[0].slice()];
  const events: number[] = [];
  for (let k = 0; k < n; ) {
    let j = k + 1;
    while (j < n && !reduces(path.states[j])) j++;
    const target = rep(path.states[j]);
    // Depth-first, exactly j - k steps, the recorded events first.
    const found: { e: number; s: Uint8Array }[] = [];
    const search = (from: Uint8Array, depth: number): boolean => {
      if (depth === j) return same(rep(from), target);
      const recorded = path.events[depth];
      for (let i = -1; i < system.eventCount; i++) {
        const e = i < 0 ? recorded : i;
        if (i === recorded) continue;
        const dst = new Uint8Array(S);
        if (system.step(from, e, dst) < 0) continue;
        found.push({ e, s: dst });
        if (search(dst, depth + 1)) return true;
        found.pop();
      }
      return false;
    };
    if (!search(states[k], k)) {
      throw new Error(`${system.name}: symmetry reduction: no real path leads to an image of state ${j} of the trace; the declared symmetry is not an automorphism`);
    }
    for (const f of found) {
      events.push(f.e);
      states.push(f.s);
    }
    k = j;
  }
  return { events, states };
}
