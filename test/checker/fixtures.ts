/**
 * Tiny transition systems with answers known by hand, for the explorer's conformance tests.
 */
import type { TransitionSystem } from '../../checker/system.ts';

type View = { s: Uint8Array };

function base(name: string, bytes: number, max: number[], events: string[]) {
  return {
    name,
    stateBytes: bytes,
    maxValues: Uint8Array.from(max),
    eventCount: events.length,
    eventLabel: (e: number) => events[e],
    byteLabel: (i: number) => `s[${i}]`,
    ruleCount: events.length,
    ruleLabel: (r: number) => events[r],
    view: (s: Uint8Array): View => ({ s }),
  };
}

/** A counter 0..n-1 with inc and dec (no wrap): n states, 2(n-1) transitions, depth n-1. */
export function counter(n: number): TransitionSystem<View> {
  return {
    ...base(`counter${n}`, 1, [n - 1], ['inc', 'dec']),
    initialStates: () => [Uint8Array.of(0)],
    step(src, e, dst) {
      const v = src[0];
      if (e === 0 && v + 1 < n) dst[0] = v + 1;
      else if (e === 1 && v > 0) dst[0] = v - 1;
      else return -1;
      return e;
    },
  };
}

/**
 * A w×h grid walker starting at (0,0) with moves right, down, left, up; cell (x,y) is at BFS
 * depth x+y. w*h states; each interior edge walked both ways.
 */
export function grid(w: number, h: number): TransitionSystem<View> {
  return {
    ...base(`grid${w}x${h}`, 2, [w - 1, h - 1], ['right', 'down', 'left', 'up']),
    initialStates: () => [Uint8Array.of(0, 0)],
    step(src, e, dst) {
      let [x, y] = [src[0], src[1]];
      if (e === 0) x++;
      else if (e === 1) y++;
      else if (e === 2) x--;
      else y--;
      if (x < 0 || y < 0 || x >= w || y >= h) return -1;
      dst[0] = x;
      dst[1] = y;
      return e;
    },
  };
}

/**
 * Two threads that each take lock A and lock B, in opposite orders, then release both.
 * State: pc0, pc1 (0 start, 1 holds first lock, 2 holds both, 3 done), owner of A, owner of B
 * (0 free, t+1 held by t). Reaches a deadlock when each holds its first lock.
 */
export function twoLocks(): TransitionSystem<View> {
  const events = ['t0.lockA', 't0.lockB', 't0.unlock', 't1.lockB', 't1.lockA', 't1.unlock'];
  return {
    ...base('twoLocks', 4, [3, 3, 2, 2], events),
    initialStates: () => [Uint8Array.of(0, 0, 0, 0)],
    step(src, e, dst) {
      dst.set(src);
      const t = e < 3 ? 0 : 1;
      const pc = src[t];
      const step = e % 3;
      const first = t === 0 ? 2 : 3; // byte of the first lock this thread takes
      const second = t === 0 ? 3 : 2;
      if (step === 0 && pc === 0 && src[first] === 0) {
        dst[first] = t + 1;
        dst[t] = 1;
      } else if (step === 1 && pc === 1 && src[second] === 0) {
        dst[second] = t + 1;
        dst[t] = 2;
      } else if (step === 2 && pc === 2) {
        dst[2] = 0;
        dst[3] = 0;
        dst[t] = 3;
      } else return -1;
      return e;
    },
  };
}

/** Produces a value beyond its declared bound after one step. */
export function outOfBounds(): TransitionSystem<View> {
  return {
    ...base('outOfBounds', 1, [3], ['jump']),
    initialStates: () => [Uint8Array.of(0)],
    step(_src, _e, dst) {
      dst[0] = 4;
      return 0;
    },
  };
}

/** A wide system: k independent bits, 2^k states, k·2^k transitions. */
export function bits(k: number): TransitionSystem<View> {
  return {
    ...base(`bits${k}`, k, new Array(k).fill(1), [...Array(k).keys()].map((i) => `flip${i}`)),
    initialStates: () => [new Uint8Array(k)],
    step(src, e, dst) {
      dst.set(src);
      dst[e] ^= 1;
      return e;
    },
  };
}

/**
 * Loader for the parallel explorer's workers (checker/parallel.ts): a fixture and its properties
 * by name, so that a worker thread can build the same system as the test.
 */
export function loadFixture(name: string, ...args: number[]) {
  type P = import('../../checker/system.ts').Property<View>;
  switch (name) {
    case 'grid': {
      const goal: P = { kind: 'always', id: 'never-far-corner', name: 'never at the far corner', holds: (v) => !(v.s[0] === args[0] - 1 && v.s[1] === args[1] - 1) };
      const half: P = { kind: 'sometimes', id: 'reaches-middle-row', name: 'reaches the middle row', reached: (v) => v.s[1] === Math.floor(args[1] / 2) };
      return { system: grid(args[0], args[1]), properties: [goal, half] };
    }
    case 'bits':
      return { system: bits(args[0]), properties: [{ kind: 'sometimes', id: 'all-set', name: 'all set', reached: (v) => v.s.every((x) => x === 1) } as P] };
    case 'twoLocks': {
      const deadlock: P = { kind: 'deadlock', id: 'no-deadlock', name: 'no thread waits forever', isProgress: () => true, isDone: (v) => v.s[0] === 3 && v.s[1] === 3 };
      return { system: twoLocks(), properties: [deadlock] };
    }
    default:
      throw new Error(`no fixture '${name}'`);
  }
}
