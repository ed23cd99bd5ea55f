/**
 * A spec on the shared model, made of replaceable pieces.
 *
 * `daxSpec` takes the proposal's text (name, title, sources, promise, capabilities), its
 * configurations, and `design(config)`: the building blocks buildDaxSpec assembles, each one a
 * choice of the proposal or of the kernel under it (the write-fault path, the mmap flags, the
 * third-party policy, the proposal's own state, its hooks into the shared model, its actions and
 * their words, its properties). The spec exports them, so a variant that changes one choice is a
 * new file, in this repository or anywhere else, that takes them and replaces that one:
 *
 *   export default variant(mapSync, {
 *     name: 'map-sync-fast-commit',
 *     title: 'MAP_SYNC on ext4 with fast commits',
 *     change: (design) => ({ ...design, hooks: (L) => ({ ...design.hooks?.(L), syncCommit: commitInodeOnly }) }),
 *   });
 */
import type { FieldDecls } from '../../models/fields.ts';
import type { DaxContext } from '../../models/layout.ts';
import { buildDaxSpec, type DaxMachineOptions } from './dax-machine.ts';
import type { DaxRunConfig, Spec } from './spec.ts';

/** What buildDaxSpec is given for one configuration, less the configuration and the machine id. */
export type DaxDesign<X extends FieldDecls = FieldDecls> = Omit<DaxMachineOptions<X>, 'config' | 'id'>;

/** A spec built on the shared model whose building blocks can be taken and replaced one by one. */
export interface DaxSpec<Cfg extends DaxRunConfig = DaxRunConfig, X extends FieldDecls = FieldDecls> extends Spec<Cfg, DaxContext> {
  /** The building blocks for a configuration: a variant starts from them. */
  design(config: Cfg): DaxDesign<X>;
}

/** The spec's text and configurations, and its design: everything but `build`, which follows. */
export type DaxSpecParts<Cfg extends DaxRunConfig, X extends FieldDecls> = Omit<DaxSpec<Cfg, X>, 'build'>;

/** A spec whose machine is buildDaxSpec of its design (the machine is named after the spec). */
export function daxSpec<Cfg extends DaxRunConfig, X extends FieldDecls = {}>(parts: DaxSpecParts<Cfg, X>): DaxSpec<Cfg, X> {
  return {
    ...parts,
    build: (config) => buildDaxSpec<X>({ ...parts.design(config), config, id: parts.name }),
  };
}

/** What a variant changes: its own name and words, and one (or more) building blocks. */
export interface VariantParts<Cfg extends DaxRunConfig, X extends FieldDecls> extends Partial<Omit<DaxSpecParts<Cfg, X>, 'design'>> {
  /** Name used on the command line, e.g. `map-sync-fast-commit`. */
  name: string;
  /** The proposal as changed, e.g. `MAP_SYNC on ext4 with fast commits`. */
  title: string;
  /** The base's building blocks in, the variant's out: replace what the variant changes. */
  change(design: DaxDesign<X>, config: Cfg): DaxDesign<X>;
}

/**
 * A variant of `base` that replaces some of its building blocks and keeps the rest (its
 * configurations too, unless given). Nothing of the base is edited.
 */
export function variant<Cfg extends DaxRunConfig, X extends FieldDecls>(base: DaxSpec<Cfg, X>, v: VariantParts<Cfg, X>): DaxSpec<Cfg, X> {
  const { change, ...text } = v;
  return daxSpec<Cfg, X>({
    sources: base.sources,
    promise: base.promise,
    capabilities: base.capabilities,
    configs: base.configs,
    ...text,
    design: (config) => change(base.design(config), config),
  });
}
