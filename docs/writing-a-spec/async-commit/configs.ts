/**
 * Run configurations of async-commit. Expected verdicts and state counts: manifest.json beside
 * this file.
 */
import type { DaxRunConfig } from 'daxcheck';

const common = { app: 'trusting', threads: 1, crashBudget: 1, dax: true, evict: true } as const;

export const configs: DaxRunConfig[] = [
  {
    name: 'trusting',
    description: 'the application maps the file MAP_SYNC and trusts its userspace flushes (ADR platform)',
    ...common,
    default: true,
  },
  {
    name: 'trusting-eadr',
    description: 'the same on an eADR platform, where CPU caches are persistent too',
    ...common,
    platform: 'eadr',
    default: true,
  },
];
