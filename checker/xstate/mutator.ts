/**
 * `mutator(fn)`: an XState action that is an ordinary `assign` for XState, and an in-place update
 * for the explorer.
 *
 * Contexts explored by daxcheck are records of fixed-length `Uint8Array`s. Given to XState, the
 * action clones the context and lets `fn` change the clone, so `transition()` stays pure. The
 * explorer finds `fn` on the action and runs it directly on its scratch state vector: no
 * allocation per transition, which is most of the difference between 180k and 400k states/s.
 */
import { assign, type EventObject } from 'xstate';

/** A context the explorer can pack: named byte vectors of fixed length. */
export type ByteContext = { [field: string]: Uint8Array };

export const MUTATE: unique symbol = Symbol.for('daxcheck.mutate');

export type Mutation<C extends ByteContext, E, P> = (context: C, event: E, params: P) => void;

export function cloneContext<C extends ByteContext>(context: C): C {
  const copy: ByteContext = {};
  for (const key of Object.keys(context)) copy[key] = context[key].slice();
  return copy as C;
}

/**
 * Wraps an in-place update of a byte context as an XState `assign` action.
 * The explorer reads the update back with `getMutation`.
 */
export function mutator<C extends ByteContext, E extends EventObject = EventObject, P = undefined>(fn: Mutation<C, E, P>) {
  const action = assign<C, E, P & ({ [k: string]: unknown } | undefined), E, never>(({ context, event }, params) => {
    const copy = cloneContext(context as C);
    fn(copy, event, params as P);
    return copy;
  });
  Object.defineProperty(action, MUTATE, { value: fn, enumerable: false });
  return action as typeof action & { [MUTATE]: Mutation<C, E, P> };
}

/** The in-place update behind a `mutator` action, if `action` is one. */
export function getMutation(action: unknown): Mutation<ByteContext, unknown, unknown> | undefined {
  if (typeof action === 'function' && MUTATE in action) {
    return (action as { [MUTATE]: Mutation<ByteContext, unknown, unknown> })[MUTATE];
  }
  return undefined;
}
