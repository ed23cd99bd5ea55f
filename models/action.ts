/**
 * A kernel action and the words its trace step prints, defined in one place.
 *
 * `kernelAction(run, text)` is a `mutator` (an ordinary `assign` for XState, an in-place update for
 * the explorer) that also carries `text`: given the action's params and the context before and
 * after it, the step in kernel terms ("msync(0x7f0010000000, 8192, MSYNC_PMEM_PREPARE_WRITE) = 0
 * → ..."). A spec's own actions carry their text in its own folder; the shared model's actions
 * without one are worded by models/describe.ts.
 */
import { mutator } from '../checker/xstate/mutator.ts';
import type { DaxContext } from './layout.ts';

/** Events of machines built on the shared model: the type, and for environment events a cache line or block. */
export type DaxEvent = { type: string; p?: number; b?: number };

/** An action a step took: its params, the step's event, and the context just before and after it. */
export interface TakenAction<P = unknown, C extends DaxContext = DaxContext> {
  type: string;
  params: P;
  event: DaxEvent;
  before: C;
  after: C;
}

/** Words of the shared model for any action (to reuse or adapt them). */
export type SharedText = (a: TakenAction<unknown, DaxContext>) => string | null;

/** The step's words for an action, or null when it prints nothing (bookkeeping). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActionText<P = any, C extends DaxContext = DaxContext> = (a: TakenAction<P, C>, shared: SharedText) => string | null;

const TEXT: unique symbol = Symbol.for('daxcheck.text');

/** An action on the shared model's context, with the text its trace step prints. */
export function kernelAction<P = undefined, C extends DaxContext = DaxContext>(run: (c: C, e: DaxEvent, p: P) => void, text?: ActionText<P, C>) {
  const action = mutator<C, DaxEvent, P>(run);
  if (text) Object.defineProperty(action, TEXT, { value: text, enumerable: false });
  return action;
}

/** The text an action carries, if it was made by `kernelAction` with one. */
export function textOf(action: unknown): ActionText | undefined {
  return typeof action === 'function' && TEXT in action ? (action as unknown as { [TEXT]: ActionText })[TEXT] : undefined;
}

/** The texts of every action of a machine's implementations that carries one, by action name. */
export function textsOf(actions: Record<string, unknown>): Record<string, ActionText> {
  const out: Record<string, ActionText> = {};
  for (const [name, a] of Object.entries(actions)) {
    const t = textOf(a);
    if (t) out[name] = t;
  }
  return out;
}
