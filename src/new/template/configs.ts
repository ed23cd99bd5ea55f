/**
 * Run configurations of my-proposal: the bounds and environment each exploration runs in.
 * Expected verdicts and state counts live beside this file, in manifest.json.
 */
import type { DaxRunConfig } from 'daxcheck';

/** A configuration of this spec: the shared DAX ones (application, platform, crashes), plus the proposal's choice. */
export interface ProposalConfig extends DaxRunConfig {
  /** The write fault commits the block's allocation before the page becomes writable. */
  syncInFault: boolean;
}

const common = { app: 'trusting', threads: 1, crashBudget: 1, dax: true, evict: true } as const;

export const configs: ProposalConfig[] = [
  {
    name: 'trusting',
    description: 'the application trusts its userspace flushes; each write fault commits the allocation before the page becomes writable',
    ...common,
    syncInFault: true,
    default: true,
  },
  {
    name: 'no-sync-in-fault',
    description: "the same without the commit in the fault: the record's pointer can be durable before the block it points to",
    ...common,
    syncInFault: false,
    default: true,
  },
];
