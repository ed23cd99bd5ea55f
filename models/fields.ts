/**
 * Declared state: named fields packed into the three byte vectors of a context (durable, volatile,
 * ghost), and typed views that read and write them by name.
 *
 * The shared model declares its fields here (models/layout.ts) and a proposal declares its own in
 * its spec folder; both are packed the same way, one after the other, so a proposal's field costs
 * exactly the bits its bound needs and a crash treats it as its part says (volatile fields are
 * gone after a remount, durable ones stay, ghost ones are bookkeeping for properties).
 *
 * A field is a small array of bytes indexed by up to three dimensions (`shape`): `[]` is one
 * byte, `[B]` one per file block, `[M, B]` one per mapping and block. With `values`, a byte holds
 * the index of a name and the view reads and writes the names:
 *
 *   const own = fields({
 *     prepared: { part: 'volatile', shape: [B], values: ['no', 'sticky', 'with the mapping'], doc: '...' },
 *   });
 *   s.prepared(b) === 'sticky'        s.prepared.set(b, 'no')
 *
 * Nothing here knows about DAX: it is a way to name bytes.
 */

/** The three vectors of a context, kept apart in the types (models/layout.ts). */
export type Part = 'durable' | 'volatile' | 'ghost';
export const PARTS: readonly Part[] = ['durable', 'volatile', 'ghost'];

export interface FieldDecl {
  /** Which vector: survives a power failure, is lost with it, or exists only for properties. */
  part: Part;
  /** Sizes of the index dimensions, outermost first (at most three). */
  shape: readonly number[];
  /** The largest value a byte may hold (packing bound). Defaults to `values.length - 1`. */
  max?: number;
  /** Names of the values 0, 1, 2, ...: the view then reads and writes names. */
  values?: readonly string[];
  /** What the field is, in a sentence. */
  doc: string;
}

export type FieldDecls = Record<string, FieldDecl>;

/** Declares fields; `const` keeps the value names as literal types for the views. */
export function fields<const D extends FieldDecls>(decls: D): D {
  return decls;
}

/** The value type a field's view reads and writes. */
export type FieldValue<F extends FieldDecl> = F extends { values: readonly (infer N)[] } ? N : number;

/** Reads a field element by its indices; `.set(...indices, value)` writes it. */
export interface FieldAccess<V> {
  (...index: number[]): V;
  set(...args: [...index: number[], value: V]): void;
}

/** A context of the three vectors. */
export type PartBytes = Record<Part, Uint8Array>;

/** Typed accessors for every declared field, over the context the view is pointed at. */
export type FieldView<D extends FieldDecls> = { readonly [K in keyof D]: FieldAccess<FieldValue<D[K]>> };

/** Where a field lives once packed. */
export interface PlacedField {
  name: string;
  decl: FieldDecl;
  part: Part;
  offset: number;
  length: number;
  max: number;
}

/**
 * The packing of declared fields into the three vectors, in declaration order, each vector
 * starting at `start` (a proposal's fields go after the shared model's).
 */
export class FieldPacking {
  readonly placed: PlacedField[] = [];
  readonly byName = new Map<string, PlacedField>();
  readonly size: Record<Part, number>;

  constructor(decls: FieldDecls, start: Record<Part, number> = { durable: 0, volatile: 0, ghost: 0 }, owner = 'the model') {
    this.size = { ...start };
    for (const [name, decl] of Object.entries(decls)) {
      if (!PARTS.includes(decl.part)) throw new Error(`${owner}: field '${name}' has part '${String(decl.part)}' (durable, volatile or ghost)`);
      if (decl.shape.length > 3 || decl.shape.some((n) => !Number.isInteger(n) || n < 0)) {
        throw new Error(`${owner}: field '${name}' has shape [${decl.shape.join(', ')}] (up to three sizes, whole numbers)`);
      }
      const max = decl.max ?? (decl.values ? decl.values.length - 1 : undefined);
      if (max === undefined || !Number.isInteger(max) || max < 0 || max > 255) {
        throw new Error(`${owner}: field '${name}' needs a bound: 'max' from 0 to 255, or 'values'`);
      }
      const length = decl.shape.reduce((a, n) => a * n, 1);
      const f: PlacedField = { name, decl, part: decl.part, offset: this.size[decl.part], length, max };
      this.size[decl.part] += length;
      this.placed.push(f);
      this.byName.set(name, f);
    }
  }

  /** Adds another set of fields after these (a proposal's after the shared model's). */
  extend(decls: FieldDecls, owner: string): FieldPacking {
    const merged = new FieldPacking({}, { durable: 0, volatile: 0, ghost: 0 });
    const more = new FieldPacking(decls, this.size, owner);
    for (const f of [...this.placed, ...more.placed]) {
      if (merged.byName.has(f.name)) throw new Error(`${owner}: field '${f.name}' is declared twice (the shared model has it already)`);
      merged.placed.push(f);
      merged.byName.set(f.name, f);
    }
    Object.assign(merged.size, more.size);
    return merged;
  }

  field(name: string): PlacedField {
    const f = this.byName.get(name);
    if (!f) throw new Error(`no field '${name}' is declared`);
    return f;
  }

  /** Writes every field's bound into per-byte bound arrays (one per part). */
  fillBounds(bounds: Record<Part, number[]>, only?: (f: PlacedField) => boolean): void {
    for (const f of this.placed) if (!only || only(f)) bounds[f.part].fill(f.max, f.offset, f.offset + f.length);
  }

  /** `volatile[12]` as `pte[1][0]` (for messages about a byte). */
  byteName(part: Part, index: number): string | undefined {
    for (const f of this.placed) {
      if (f.part !== part || index < f.offset || index >= f.offset + f.length) continue;
      let rest = index - f.offset;
      const idx: number[] = [];
      for (let k = f.decl.shape.length - 1; k >= 0; k--) {
        idx.unshift(rest % f.decl.shape[k]);
        rest = Math.floor(rest / f.decl.shape[k]);
      }
      return `${f.name}${idx.map((i) => `[${i}]`).join('')}`;
    }
    return undefined;
  }

  /** A view over these fields; point it at a context with `at(c)` (no allocation per call). */
  view<D extends FieldDecls>(): FieldView<D> & ViewBase {
    return makeView(this) as FieldView<D> & ViewBase;
  }
}

/** What every view has besides its fields. */
export interface ViewBase {
  /** Points the view at a context; returns the view. Callers must not keep it across contexts. */
  at(c: PartBytes): this;
  /** The context the view points at. */
  readonly context: PartBytes;
}

function makeView(packing: FieldPacking): ViewBase {
  const self = {
    context: undefined as unknown as PartBytes,
    durable: undefined as unknown as Uint8Array,
    volatile: undefined as unknown as Uint8Array,
    ghost: undefined as unknown as Uint8Array,
    at(c: PartBytes) {
      self.context = c;
      self.durable = c.durable;
      self.volatile = c.volatile;
      self.ghost = c.ghost;
      return self;
    },
  };
  for (const f of packing.placed) Object.defineProperty(self, f.name, { value: accessor(self, f), enumerable: true });
  return self as unknown as ViewBase;
}

type Holder = Record<Part, Uint8Array>;

/**
 * The accessor of one field. Its getter and setter are generated for this field alone, with the
 * offset, strides and bound written in as constants: every field gets functions of its own, which
 * V8 specialises separately (one shared closure for all fields is megamorphic and about a quarter
 * slower in the explorer's inner loop), and neither allocates. Reads are unchecked; a write
 * checks its indices and its value against the declaration.
 */
function accessor(h: Holder, f: PlacedField): FieldAccess<unknown> {
  const { part, offset: o, max } = f;
  const shape = f.decl.shape;
  const names = f.decl.values;
  const code: Record<string, number> = Object.create(null);
  names?.forEach((n, i) => (code[n] = i));
  const args = ['i', 'j', 'k'].slice(0, shape.length);
  const index =
    shape.length === 0 ? `${o}` : shape.length === 1 ? `${o} + i` : shape.length === 2 ? `${o} + i * ${shape[1]} + j` : `${o} + (i * ${shape[1]} + j) * ${shape[2]} + k`;
  const read = names ? `names[h.${part}[${index}]]` : `h.${part}[${index}]`;
  const outside = args.map((a, k) => `!(${a} >= 0 && ${a} < ${shape[k]})`).join(' || ');
  const bad = (v: unknown) => {
    throw new Error(`field '${f.name}' cannot hold ${JSON.stringify(v)}${names ? ` (one of: ${names.join(', ')})` : ` (0 to ${max})`}`);
  };
  const where = (...i: number[]) => {
    throw new Error(`field '${f.name}' has no element [${i.join('][')}]`);
  };
  const source = `
    const get = function ${f.name.replace(/\W/g, '_')}(${args.join(', ')}) { return ${read}; };
    get.set = function (${[...args, 'v'].join(', ')}) {
      const x = ${names ? 'code[v]' : 'v'};
      if (!(x >= 0 && x <= ${max}) || (x | 0) !== x) bad(v);
      ${outside ? `if (${outside}) where(${args.join(', ')});` : ''}
      h.${part}[${index}] = x;
    };
    return get;`;
  return new Function('h', 'names', 'code', 'bad', 'where', source)(h, names, code, bad, where) as FieldAccess<unknown>;
}
