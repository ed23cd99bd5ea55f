/**
 * `daxcheck simulate` re-finds what exhaustive search finds: every violation (and every witness)
 * the manifests expect of the default configurations, by random walks from one seed, each a real
 * trace of the machine ending where the property fails; and never a violation of a property the
 * manifest expects to hold. Liveness (leads-to) is the explorer's alone: a walk never shows it.
 */
import { describe, expect, it } from 'vitest';
import { specs } from '../../specs/index.ts';
import { loadManifest } from '../../src/manifest.ts';
import { simulateConfig } from '../../src/simulate.ts';

const manifest = loadManifest();

describe('simulate re-finds every violation of the default configurations', () => {
  for (const spec of specs) {
    it(spec.name, async () => {
      for (const config of spec.configs.filter((c) => c.default)) {
        const expected = manifest[spec.name][config.name];
        const run = await simulateConfig(spec, config, expected, { seed: 1, runs: 1000, depth: 200 });
        for (const r of run.results) {
          const where = `${spec.name}/${config.name} ${r.id}`;
          // A walk is finite: it never shows a livelock (a lasso), which only the explorer's graph does.
          if (r.kind === 'leads-to') {
            expect(r.verdict, where).toBe('unknown');
            continue;
          }
          if (r.expected === 'violated' || r.expected === 'reachable') {
            expect(r.verdict, where).toBe(r.expected);
            // No shorter trace exists than the exhaustive search's shortest one.
            expect(r.trace!.steps.length, where).toBeGreaterThanOrEqual(1);
            expect(r.foundBy, where).not.toBeNull();
          } else expect(r.verdict, where).toBe('unknown');
        }
        expect(run.coverage.states).toBeLessThanOrEqual(expected.states!);
      }
    });
  }
});
