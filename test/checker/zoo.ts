/**
 * Machines that use every XState construct and ordering the compiler implements, so the agreement
 * test covers them. Every entry, exit, initial and transition action leaves a mark in a log, so any
 * change of order shows in the context.
 *
 * `zooMachine` (compound root):
 * - nested compound states, a parallel state `p` of three regions, final states in regions and at
 *   the root (`end`: status 'done', after which root handlers still fire, regions visited last to
 *   first);
 * - entry/exit/initial actions, and states with both entry and `initial` actions (`a`, `p.r1`);
 * - `reenter`, targets in another region, targets out of the parallel state;
 * - child-before-parent priority, down a chain (`a2` > `a` > root; `a`'s `next` only when both of
 *   `a2`'s guards fail) and across several regions:
 *   `both` is handled by regions r1, r2, r3 and by `p` itself, which fires only when no region
 *   handles it;
 * - multi-transition microsteps: `both` fires in several regions at once, and in one configuration
 *   the same first transition comes with different second ones (r2's choice depends on `n`);
 * - conflicting region transitions (`removeConflicts`): on `clash`, r1's transition leaves `p`
 *   while r2's stays inside (r1's wins, as earlier in document order) and, from other states,
 *   r2's leaves while r1's stays (r1's still wins, r2's is dropped);
 * - guards: named with params, inline, `not`/`and`/`or`/`stateIn`, a guard naming another guard;
 *   events whose every candidate is blocked by a guard (`up` in `a` at n = 3);
 * - a transition with neither target nor actions (`down` in `b`), which XState selects (so the
 *   root's `down` does not fire) though `snapshot.can` says false;
 * - partial wildcards (`go.*`), plain `assign` beside `mutator`.
 *
 * `zooParallelMachine` (parallel root): the root completes when a final state's chain of completed
 * parallel ancestors reaches it, several finals entered in one microstep; transitions with several
 * targets; guard and action params computed from the context; root handlers after 'done'.
 */
import { and, assign, not, or, setup, stateIn } from 'xstate';
import { mutator } from '../../checker/xstate/mutator.ts';

export type ZooContext = { log: Uint8Array; n: Uint8Array };
type Ev = { type: string };

const mark = (k: number) => ({ type: 'mark', params: { k } }) as const;

function zooSetup() {
  return setup({
    types: {} as { context: ZooContext; events: Ev },
    guards: {
      below: ({ context }, p: { max: number }) => context.n[0] < p.max,
      even: ({ context }) => context.n[0] % 2 === 0,
      // Names another guard, which XState resolves at run time (its types do not allow it).
      evenAlias: 'even' as unknown as () => boolean,
    },
    actions: {
      mark: mutator<ZooContext, Ev, { k: number }>((c, _e, p) => {
        c.log.copyWithin(0, 1);
        c.log[c.log.length - 1] = p.k;
      }),
      inc: assign({ n: ({ context }) => Uint8Array.of((context.n[0] + 1) % 4) }),
      dec: mutator<ZooContext, Ev>((c) => {
        c.n[0] = (c.n[0] + 3) % 4;
      }),
    },
  });
}

export function zooMachine() {
  return zooSetup().createMachine({
    id: 'zoo',
    context: { log: new Uint8Array(8), n: new Uint8Array(1) },
    initial: 'a',
    entry: mark(1),
    on: {
      finish: { target: '.end', actions: mark(30) },
      reset: { target: '.a', reenter: true, actions: mark(31) },
      down: { actions: 'dec' },
    },
    states: {
      a: {
        initial: { target: 'a1', actions: mark(32) },
        entry: mark(2),
        exit: mark(3),
        on: {
          next: { target: 'b', actions: mark(9) },
          up: { guard: { type: 'below', params: { max: 3 } }, actions: 'inc' },
        },
        states: {
          a1: {
            entry: mark(4),
            exit: mark(5),
            on: {
              next: 'a2',
              'go.*': { target: '#zoo.p', actions: mark(6) },
            },
          },
          a2: {
            on: {
              next: [
                { guard: not('even'), target: 'a1', reenter: true, actions: mark(7) },
                // At n = 2 neither passes, and `a`'s own `next` fires.
                { guard: and(['evenAlias', { type: 'below', params: { max: 2 } }]), target: '#zoo.p.r2.v', actions: mark(19) },
              ],
              stay: { target: 'a2', reenter: true, actions: mark(8) },
              still: { target: 'a2', actions: mark(20) },
              'go.far': { guard: ({ context }) => context.n[0] === 1, target: '#zoo.p.r3.w2', actions: mark(18) },
            },
          },
        },
      },
      b: {
        entry: [mark(21), 'inc'],
        on: {
          next: [{ guard: 'even', target: 'p' }, { target: 'a' }],
          up: { actions: 'inc' },
          down: {},
          'go.far': { target: 'p.r1.y', actions: mark(22) },
        },
      },
      p: {
        type: 'parallel',
        entry: mark(10),
        exit: mark(11),
        on: {
          next: { target: 'a', actions: mark(16) },
          tick: { actions: mark(17) },
          both: { actions: mark(34) },
          up: { guard: or([stateIn('#zoo.p.r2.v'), { type: 'below', params: { max: 1 } }]), actions: 'inc' },
        },
        states: {
          r1: {
            initial: { target: 'x', actions: mark(23) },
            entry: mark(29),
            exit: mark(39),
            states: {
              x: {
                entry: mark(12),
                on: {
                  tick: 'y',
                  both: { actions: mark(13) },
                  jump: { target: '#zoo.p.r2.v', actions: mark(24) },
                  clash: { target: '#zoo.b', actions: mark(40) },
                },
              },
              y: { exit: mark(25), on: { tick: 'z', both: { target: 'x' }, clash: { target: 'x', actions: mark(41) } } },
              z: { type: 'final', entry: mark(26) },
            },
          },
          r2: {
            initial: 'u',
            states: {
              u: {
                on: {
                  tock: 'v',
                  both: [{ guard: 'even', actions: mark(14) }, { actions: mark(33) }],
                  up: { guard: and(['even', not('even')]), target: 'v' },
                  clash: { target: 'v', actions: mark(42) },
                },
              },
              v: { type: 'final', entry: mark(15), on: { tock: 'u', clash: { target: '#zoo.a.a2', actions: mark(43) } } },
            },
          },
          r3: {
            initial: 'w1',
            exit: mark(44),
            states: {
              w1: { on: { both: { guard: { type: 'below', params: { max: 2 } }, target: 'w2', actions: mark(35) } } },
              w2: { type: 'final', entry: mark(36), on: { tock: { target: 'w1', actions: mark(37) } } },
            },
          },
        },
      },
      end: { type: 'final', entry: mark(27), exit: mark(28) },
    },
  });
}

export const zooEvents: Ev[] = [
  'next', 'stay', 'still', 'up', 'down', 'tick', 'tock', 'both', 'clash', 'go.near', 'go.far', 'jump', 'finish', 'reset', 'unknown',
].map((type) => ({ type }));

export function zooParallelMachine() {
  return zooSetup().createMachine({
    id: 'zoo2',
    type: 'parallel',
    context: { log: new Uint8Array(8), n: new Uint8Array(1) },
    entry: mark(1),
    exit: mark(2),
    on: {
      again: { target: ['.L.l1', '.R.R1.r'], actions: mark(3) },
      up: {
        guard: { type: 'below', params: ({ context }) => ({ max: context.log[7] === 13 ? 2 : 3 }) },
        actions: [{ type: 'mark', params: ({ context }) => ({ k: 50 + context.n[0] }) }, 'inc'],
      },
    },
    states: {
      L: {
        initial: 'l1',
        exit: mark(4),
        states: {
          l1: { entry: mark(5), exit: mark(6), on: { go: { guard: 'even', target: 'l2', actions: mark(7) } } },
          l2: { type: 'final', entry: mark(8), exit: mark(9) },
        },
      },
      R: {
        type: 'parallel',
        entry: mark(10),
        exit: mark(11),
        states: {
          R1: {
            initial: { target: 'r', actions: mark(12) },
            states: {
              r: { on: { go: { target: 'rf', actions: mark(13) }, back: 'r' } },
              rf: { type: 'final', entry: mark(14), exit: mark(15), on: { back: { target: 'r', reenter: true } } },
            },
          },
          R2: {
            initial: 's',
            states: {
              s: { on: { go: [{ guard: stateIn('#zoo2.L.l2'), target: 'sf', actions: mark(16) }, { target: 'sf', actions: mark(17) }] } },
              sf: { type: 'final', entry: mark(18), exit: mark(19), on: { back: 's' } },
            },
          },
        },
      },
    },
  });
}

export const zooParallelEvents: Ev[] = ['go', 'back', 'again', 'up', 'none'].map((type) => ({ type }));
