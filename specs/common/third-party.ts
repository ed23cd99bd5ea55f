/**
 * The third party as a region of a spec's machine: another process or the filesystem's own
 * background work, running the operations a configuration lists (each at most once per run),
 * each in three steps (models/third-party.ts) that the application's threads can interleave with.
 */
import { and } from 'xstate';
import { PER_BLOCK, type ThirdPartyOp } from '../../models/third-party.ts';
import type { DaxEvent } from '../../models/implementations.ts';

export interface ThirdPartyRegion {
  region: { initial: string; states: Record<string, unknown> };
  events: DaxEvent[];
}

/**
 * Region `M` running `ops` on `blocks` (for per-block operations). `canRefuse`: the proposal may
 * refuse operations with EPERM (PMEM_IMMUTABLE), so a refusal transition is needed.
 */
export function thirdPartyRegion(ops: ThirdPartyOp[], blocks: number[], canRefuse: boolean): ThirdPartyRegion {
  const states: Record<string, unknown> = {};
  const idle: Record<string, unknown[]> = {};
  const events: DaxEvent[] = [];
  for (const op of ops) {
    const targets = PER_BLOCK.has(op) ? blocks : [0];
    const type = `M.${op}`;
    idle[type] = [];
    for (const b of targets) {
      events.push(PER_BLOCK.has(op) ? { type, b } as DaxEvent : { type });
      const params = { op, b };
      const name = PER_BLOCK.has(op) ? `${op}_b${b}` : op;
      const forBlock = PER_BLOCK.has(op) ? [{ type: 'isEventForBlock', params: { b } }] : [];
      idle[type].push({ guard: and([...forBlock, { type: 'canRunThirdParty', params }]), target: name, actions: { type: 'third_party_start', params } });
      // Refused (EPERM): the operation ends at once.
      if (canRefuse) {
        idle[type].push({ guard: and([...forBlock, { type: 'isThirdPartyRefused', params }]), actions: { type: 'third_party_refused', params } });
      }
      states[name] = { on: { 'M.apply': { target: `${name}_applied`, actions: { type: 'third_party_apply', params } } } };
      states[`${name}_applied`] = { on: { 'M.finish': { target: 'idle', actions: { type: 'third_party_finish', params } } } };
    }
  }
  states.idle = { on: idle };
  events.push({ type: 'M.apply' }, { type: 'M.finish' });
  return { region: { initial: 'idle', states }, events };
}
