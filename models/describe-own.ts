/**
 * Renderers for specs with actions of their own. The shared texts (models/describe.ts) know the
 * shared model's actions; a spec that adds `dev_dax_huge_fault` or NOVA's copy-on-write fault
 * gives the texts of its own actions here and leaves every other action to the shared text.
 */
import type { MachineView } from '../checker/xstate/compile.ts';
import type { FieldInfo, Renderer } from '../specs/common/spec.ts';
import type { AppLayout } from './app-layout.ts';
import { describeAction, type TakenAction } from './describe.ts';
import type { DaxContext, Layout } from './layout.ts';

/**
 * The spec's text of one action: a string, null to leave the action out of the step's text, or
 * undefined to use the shared text.
 */
export type OwnText = (a: TakenAction) => string | null | undefined;

export interface OwnRenderer {
  /** Texts of the spec's own actions (and of shared actions it words differently), where they do not carry their own. */
  text?: OwnText;
  /** Who takes a step, where the spec's own events need a name; undefined: the shared name. */
  actor?: (type: string) => string | undefined;
  /** Extra or replaced named fields of a state. */
  state?: (c: DaxContext, fields: Record<string, string>) => Record<string, string>;
  /** What the fields `state` adds are (FieldInfo), over the shared ones; fields it removes may stay. */
  fields?: (c: DaxContext, shared: Record<string, FieldInfo>) => Record<string, FieldInfo>;
}

/** The shared renderer `base` with the spec's own texts on top. */
export function withOwnTexts(L: Layout, app: AppLayout, base: Renderer<DaxContext>, own: OwnRenderer): Renderer<DaxContext> {
  return {
    ...base,
    actor: (event) => own.actor?.(event.type) ?? base.actor(event),
    // An action the spec words here gets its words; any other is worded by `base` (its own
    // kernelAction text, or the shared model's).
    step: (event, actions) =>
      (actions as TakenAction[])
        .map((a) => {
          const mine = own.text?.(a);
          return mine === undefined ? base.step(event, [a]) || null : mine;
        })
        .filter((x): x is string => x !== null)
        .join('; '),
    state: own.state ? (c) => own.state!(c, base.state(c)) : base.state,
    fields: own.fields && base.fields ? (c) => own.fields!(c, base.fields!(c)) : base.fields,
    afterCrash: (view: MachineView<DaxContext>) => base.afterCrash(view),
  };
}
