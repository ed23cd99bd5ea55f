/**
 * Interchangeable application threads of the shared model (specs/common/dax-machine.ts), for
 * symmetry reduction (checker/symmetry.ts).
 *
 * Thread t runs DOMAIN.md's program on its own things: its region `T<t>` of the machine, its
 * descriptor, errno and mapping m = t (the mapping's page-table entries), its record in block 1 + t
 * (DATA(t) in word 0), its pointer in word 1 + t of block 0 (PTR(1 + t)), what it believes and what
 * recovery found of its record. Renaming the threads by a permutation π therefore also renames
 * file blocks 1 + t, words 1 + t and the data values DATA(t), PTR(1 + t); physical blocks are not
 * renamed (the allocator hands out the lowest free one, whoever asks). A permutation of a state
 * is a state of the same system when the threads' programs are the same up to that renaming and
 * nothing else tells the threads, blocks or words apart: `threadSymmetryProblem` says where that
 * is not so, and the tests check the rest on whole state spaces (test/checker/symmetry.test.ts:
 * the reachable states are closed under every permutation, the properties agree on a state and
 * its images, and verdicts with and without the reduction are the same).
 */
import type { SpecSymmetry } from '../specs/common/spec.ts';
import type { FieldDecls } from './fields.ts';
import { DATA, PTR, type CoreFields, type Layout } from './layout.ts';

/** What an index of a field counts: a thread (or its mapping), a file block, a word, or something no thread owns. */
export type IndexKind = 'thread' | 'mapping' | 'block' | 'word' | 'phys' | 'other';

/** How a thread permutation moves a field: its indices, and whether it holds data words (`word`) or data words + 1 (`word+1`). */
export interface FieldSymmetry {
  index: readonly IndexKind[];
  values?: 'word' | 'word+1';
}

const none: FieldSymmetry = { index: [] };

/** The shared model's fields. */
const CORE: Record<keyof CoreFields, FieldSymmetry> = {
  committedSize: none,
  sdax: none,
  platform: none,
  committedFlags: none,
  committedExtent: { index: ['block'] },
  committedPhys: { index: ['block'] },
  committedLeaf: { index: ['block'] },
  pmem: { index: ['phys', 'word'], values: 'word' },
  otherRef: { index: ['phys'] },
  size: none,
  flags: none,
  extent: { index: ['block'] },
  phys: { index: ['block'] },
  leaf: { index: ['block'] },
  cache: { index: ['phys', 'word'], values: 'word' },
  dirty: { index: ['phys', 'word'] },
  fd: { index: ['thread'] },
  errno: { index: ['thread'] },
  vma: { index: ['mapping'] },
  pte: { index: ['mapping', 'block'] },
  ptePhys: { index: ['mapping', 'block'] },
  unrelated: none,
  mmapLock: none,
  opDone: { index: ['other'] },
  crashes: none,
  promised: { index: ['block', 'word'], values: 'word+1' },
  believesDurable: { index: ['thread'] },
  saw: { index: ['thread'] },
  // The second file g (Features.secondFile): its blocks are g's, not the file's.
  gCommittedSize: none,
  gCommittedExtent: { index: ['other'] },
  gCommittedTimes: none,
  gSize: none,
  gExtent: { index: ['other'] },
  gTimes: none,
  gFd: { index: ['thread'] },
};

/** Every permutation of 0..n-1, the identity first. */
export function permutationsOf(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  for (const rest of permutationsOf(n - 1)) {
    for (let at = rest.length; at >= 0; at--) out.push([...rest.slice(0, at), n - 1, ...rest.slice(at)]);
  }
  return out.sort((a, b) => a.join().localeCompare(b.join()));
}

/** Why the threads of this layout cannot be permuted (a field nobody declared), or null. */
export function threadSymmetryProblem(L: Layout<FieldDecls>, own: Record<string, FieldSymmetry>): string | null {
  for (const f of L.packing.placed) {
    const s = (CORE as Record<string, FieldSymmetry>)[f.name] ?? own[f.name];
    if (!s) return `field '${f.name}' declares no symmetry`;
    if (s.index.length !== f.decl.shape.length) return `field '${f.name}' has ${f.decl.shape.length} indices, its symmetry ${s.index.length}`;
  }
  return null;
}

/** The thread permutations of a layout as a spec symmetry (see the module comment). */
export function threadSymmetry(L: Layout<FieldDecls>, own: Record<string, FieldSymmetry> = {}): SpecSymmetry {
  const T = L.T;
  const problem = threadSymmetryProblem(L, own);
  if (problem) throw new Error(`thread symmetry: ${problem}`);
  const perms = permutationsOf(T).slice(1);
  return {
    description: `threads ${[...Array(T).keys()].map((t) => `T${t}`).join(', ')} (each with its descriptor, mapping, record block ${[...Array(T).keys()].map((t) => 1 + t).join('/')}, pointer word and data)`,
    regions: [...Array(T).keys()].map((t) => `running.T${t}`),
    // A crash image is decided word by word in index order, which renaming words changes; the
    // images it can end in are the renamed ones all the same.
    except: ['crashing'],
    permutations: perms.map((pi) => ({ order: pi, context: contextPermutation(L, own, pi) })),
  };
}

function contextPermutation(L: Layout<FieldDecls>, own: Record<string, FieldSymmetry>, pi: number[]) {
  const T = L.T;
  const moved = (lo: number, x: number) => (x >= lo && x < lo + T ? lo + pi[x - lo] : x);
  const map: Record<IndexKind, (i: number) => number> = {
    thread: (t) => pi[t],
    mapping: (m) => pi[m],
    block: (b) => moved(1, b),
    word: (w) => moved(1, w),
    phys: (p) => p,
    other: (x) => x,
  };
  // A data word: DATA(t) and PTR(1 + t) follow thread t.
  const word = new Uint8Array(256);
  for (let v = 0; v < 256; v++) word[v] = v;
  for (let t = 0; t < T; t++) {
    word[DATA(t)] = DATA(pi[t]);
    word[PTR(1 + t)] = PTR(1 + pi[t]);
  }
  const wordPlus1 = new Uint8Array(256);
  for (let v = 0; v < 256; v++) wordPlus1[v] = v === 0 ? 0 : word[v - 1] + 1;
  const parts = {
    durable: { source: Int32Array.from({ length: L.durableBytes }, (_, i) => i), values: new Array<Uint8Array | null>(L.durableBytes).fill(null) },
    volatile: { source: Int32Array.from({ length: L.volatileBytes }, (_, i) => i), values: new Array<Uint8Array | null>(L.volatileBytes).fill(null) },
    ghost: { source: Int32Array.from({ length: L.ghostBytes }, (_, i) => i), values: new Array<Uint8Array | null>(L.ghostBytes).fill(null) },
  };
  for (const f of L.packing.placed) {
    const s = (CORE as Record<string, FieldSymmetry>)[f.name] ?? own[f.name];
    const shape = f.decl.shape;
    const table = s.values === 'word' ? word : s.values === 'word+1' ? wordPlus1 : null;
    const part = parts[f.part];
    const flat = (idx: number[]) => idx.reduce((at, x, k) => at * shape[k] + x, 0);
    const each = (k: number, idx: number[]) => {
      if (k === shape.length) {
        const to = idx.map((x, j) => map[s.index[j]](x));
        part.source[f.offset + flat(to)] = f.offset + flat(idx);
        part.values[f.offset + flat(to)] = table;
        return;
      }
      for (let x = 0; x < shape[k]; x++) each(k + 1, [...idx, x]);
    };
    each(0, []);
  }
  return parts;
}
