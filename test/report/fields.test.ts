/**
 * Every registered spec declares what each field of its rendered state is (durable, journal,
 * cache, page tables, volatile, ghost): the timeline colours lanes by the declaration, never by
 * the field's name, so a field without one would be drawn as "not declared".
 */
import { describe, expect, it } from 'vitest';
import { specs } from '../../specs/index.ts';
import { FIELD_KINDS, type RunConfig } from '../../specs/common/spec.ts';
import { compileSpec } from '../../src/spec-loader.ts';

describe('declared field kinds', () => {
  for (const spec of specs) {
    it(`${spec.name}: every field its renderer names has a declared kind, and a durable twin that is a durable field`, () => {
      // One configuration of each distinct renderer shape is enough; the defaults cover them.
      for (const config of spec.configs.filter((c: RunConfig) => c.default)) {
        const { built, system } = compileSpec(spec, config);
        const ctx = system.toSnapshotLike(system.initialStates()[0]).context;
        const values = built.render.state(ctx);
        const info = built.render.fields?.(ctx);
        expect(info, `${spec.name}/${config.name} declares no field kinds`).toBeDefined();
        for (const f of Object.keys(values)) {
          expect(info![f], `${spec.name}/${config.name}: field '${f}'`).toBeDefined();
          expect(FIELD_KINDS).toContain(info![f].kind);
          const twin = info![f].durable;
          if (twin !== undefined) expect(info![twin]?.kind, `${spec.name}/${config.name}: '${f}' → '${twin}'`).toBe('durable');
        }
      }
    });
  }
});
