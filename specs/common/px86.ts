/**
 * x86 persistency configurations (models/persistency.ts): a spec's configuration with the
 * application's flushes as Px86 instructions, once per flush sequence (specs/apps/pmem-log.ts
 * FLUSH_SEQUENCES) and platform. Never default: the README's Px86 table comes from them.
 */
import { FLUSH_SEQUENCES, type FlushSequence } from '../apps/pmem-log.ts';
import type { DaxRunConfig } from './spec.ts';

/** The platforms every sequence runs on, with the suffix of the configuration's name. */
const PLATFORMS = [
  { suffix: '', platform: 'adr', words: 'on ADR' },
  { suffix: '-eadr', platform: 'eadr', words: 'on eADR (WC buffers not drained at power failure)' },
] as const;

/**
 * `base` once per flush sequence and platform, named `px86-<sequence>[-eadr]`, and the
 * non-temporal sequence without fences on eADR whose power-fail flush drains the WC buffers
 * (`px86-movnti-no-fence-eadr-drained`).
 */
export function px86Configs<C extends DaxRunConfig>(configs: C[], baseName: string): C[] {
  const base = configs.find((c) => c.name === baseName);
  if (!base) throw new Error(`px86Configs: no configuration '${baseName}'`);
  return px86Variants(base);
}

/** `px86Configs` of a configuration given whole (one that is not itself a configuration of the spec). */
export function px86Variants<C extends DaxRunConfig>(base: C): C[] {
  const { measurement: _m, scaled: _s, ...rest } = base;
  const out: C[] = [];
  for (const seq of Object.keys(FLUSH_SEQUENCES) as FlushSequence[]) {
    for (const p of PLATFORMS) {
      out.push({
        ...(rest as C),
        name: `px86-${seq}${p.suffix}`,
        description: `Px86: ${base.description}, flushing with "${FLUSH_SEQUENCES[seq]}" ${p.words}`,
        appOptions: { ...base.appOptions, persistency: 'px86', flushes: seq },
        platform: p.platform,
        default: false,
      });
    }
  }
  out.push({
    ...(rest as C),
    name: 'px86-movnti-no-fence-eadr-drained',
    description: `Px86: ${base.description}, flushing with "${FLUSH_SEQUENCES['movnti-no-fence']}" on eADR whose power-fail flush drains the WC buffers too`,
    appOptions: { ...base.appOptions, persistency: 'px86', flushes: 'movnti-no-fence' },
    platform: 'eadr',
    wcBuffers: 'drained',
    default: false,
  });
  return out;
}
