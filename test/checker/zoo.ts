/**
 * A machine that uses every XState feature the compiler supports, so the agreement test covers
 * them: nested and parallel states, entry/exit/initial actions (each leaves a mark in a log, so
 * any change of order shows), reenter, child-before-parent priority, guard params, not/and/or/
 * stateIn, partial wildcards, targets in another region, final states and the root's done status,
 * plain `assign` beside `mutator`.
 */
import { and, assign, not, or, setup, stateIn } from 'xstate';
import { mutator } from '../../checker/xstate/mutator.ts';

export type ZooContext = { log: Uint8Array; n: Uint8Array };
type Ev = { type: string };

const mark = (k: number) => ({ type: 'mark', params: { k } }) as const;

export function zooMachine() {
  return setup({
    types: {} as { context: ZooContext; events: Ev },
    // `evenAlias` names another guard, which XState resolves at run time (its types do not allow it).
    guards: {
      below: ({ context }, p: { max: number }) => context.n[0] < p.max,
      even: ({ context }) => context.n[0] % 2 === 0,
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
  }).createMachine({
    id: 'zoo',
    context: { log: new Uint8Array(6), n: new Uint8Array(1) },
    initial: 'a',
    entry: mark(1),
    on: {
      finish: { target: '.end', actions: mark(30) },
      reset: { target: '.a', reenter: true, actions: mark(31) },
      down: { actions: 'dec' },
    },
    states: {
      a: {
        initial: 'a1',
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
                { guard: 'evenAlias', target: '#zoo.p.r2.v', actions: mark(19) },
              ],
              stay: { target: 'a2', reenter: true, actions: mark(8) },
              still: { target: 'a2', actions: mark(20) },
            },
          },
        },
      },
      b: {
        entry: [mark(21), 'inc'],
        on: {
          next: [{ guard: 'even', target: 'p' }, { target: 'a' }],
          up: { actions: 'inc' },
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
          up: { guard: or([stateIn('#zoo.p.r2.v'), { type: 'below', params: { max: 1 } }]), actions: 'inc' },
        },
        states: {
          r1: {
            initial: { target: 'x', actions: mark(23) },
            states: {
              x: {
                entry: mark(12),
                on: {
                  tick: 'y',
                  both: { actions: mark(13) },
                  jump: { target: '#zoo.p.r2.v', actions: mark(24) },
                },
              },
              y: { exit: mark(25), on: { tick: 'z', both: { target: 'x' } } },
              z: { type: 'final', entry: mark(26) },
            },
          },
          r2: {
            initial: 'u',
            states: {
              u: { on: { tock: 'v', both: { actions: mark(14) }, up: { guard: and(['even', not('even')]), target: 'v' } } },
              v: { type: 'final', entry: mark(15), on: { tock: 'u' } },
            },
          },
        },
      },
      end: { type: 'final', entry: mark(27), exit: mark(28) },
    },
  });
}

export const zooEvents: Ev[] = ['next', 'stay', 'still', 'up', 'down', 'tick', 'tock', 'both', 'go.near', 'go.far', 'jump', 'finish', 'reset', 'unknown'].map(
  (type) => ({ type }),
);
