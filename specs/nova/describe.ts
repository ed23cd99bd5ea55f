/**
 * NOVA steps in kernel terms: the copy-on-write fault, writeback's pointer swap, fsync and
 * recovery migrating the per-inode cache; every other step reads as in the shared model.
 */
import { appLayout } from '../../models/app-layout.ts';
import { describeAction, type TakenAction } from '../../models/describe.ts';
import type { OwnRenderer } from '../../models/describe-own.ts';
import type { DaxEvent } from '../../models/implementations.ts';
import { BLOCK_SIZE, ERRNO_NAMES, HOLE, OK, type DaxContext, type Layout } from '../../models/layout.ts';
import { copiesInMemoryOnly, cowEntry, hasCopy, type NovaDesign } from '../../models/nova.ts';

const FD = 3;

/** "hole" or "pmem block p": what the file map says block b is. */
function fileMapText(c: DaxContext, L: Layout, b: number): string {
  return c.durable[L.dExtKind + b] === HOLE ? 'hole' : `pmem block ${c.durable[L.dExtPhys + b]}`;
}

/** Blocks whose file map changed between two states: "block b → pmem q". */
function migrated(L: Layout, before: DaxContext, after: DaxContext): string[] {
  const out: string[] = [];
  for (let b = 0; b < L.B; b++) {
    if (before.durable[L.dExtKind + b] !== after.durable[L.dExtKind + b] || before.durable[L.dExtPhys + b] !== after.durable[L.dExtPhys + b]) {
      out.push(`block ${b} → ${fileMapText(after, L, b)}`);
    }
  }
  return out;
}

function dirtyWords(c: DaxContext, L: Layout): number {
  let n = 0;
  for (let i = 0; i < L.P * L.W; i++) n += c.volatile[L.vDirty + i];
  return n;
}

export function novaTexts(L: Layout, d: NovaDesign): OwnRenderer {
  const app = appLayout();
  const words = (n: number) => `${n} dirty word${n === 1 ? '' : 's'} written back`;
  return {
    text: (a: TakenAction) => {
      const p = (a.params ?? {}) as { t: number; m: number; b: number; blocks?: number };
      const { before, after } = a;
      switch (a.type) {
        case 'nova_dax_fault': {
          const name = `nova_dax_fault(write, block ${p.b})`;
          if (after.volatile[L.vErr + p.t] !== OK) return `${name} → ${ERRNO_NAMES[after.volatile[L.vErr + p.t]]}`;
          const q = after.volatile[L.vExtPhys + p.b];
          if (hasCopy(before, L, p.b)) return `${name} → block ${p.b} already has a copy (pmem block ${q}); PTE writable → pmem ${q}`;
          const from = before.volatile[L.vExtKind + p.b] === HOLE ? `block ${p.b} (a hole: zeros)` : `block ${p.b} (pmem block ${before.volatile[L.vExtPhys + p.b]})`;
          const how = d.copy === 'flushed' ? 'with memcpy_flushcache' : 'with cached stores, not yet on the media';
          const entry =
            cowEntry(after, L, p.b) === q
              ? `COW cache entry block ${p.b} → pmem ${q} appended to the inode log (durable)`
              : `COW cache entry block ${p.b} → pmem ${q} kept in memory only`;
          return `${name} → clean→dirty: ${from} copied to pmem block ${q} ${how}; ${entry}; PTE writable → pmem ${q}`;
        }
        case 'nova_writeback': {
          const b = (a.event as DaxEvent).b!;
          const flushed = dirtyWords(before, L) - dirtyWords(after, L);
          const head = `background writeback of block ${b}: PTE write-protected, ${words(flushed)}`;
          if (after.durable[L.dExtKind + b] === before.durable[L.dExtKind + b] && after.durable[L.dExtPhys + b] === before.durable[L.dExtPhys + b]) {
            return `${head}; COW cache entry of block ${b} retired (durable) before the file map points at the copy`;
          }
          return `${head}; atomic pointer swap: file map block ${b} → ${fileMapText(after, L, b)} (was ${fileMapText(before, L, b)}), COW cache entry dropped`;
        }
        case 'nova_swap': {
          const b = (a.event as DaxEvent).b!;
          return `pointer swap: file map block ${b} → ${fileMapText(after, L, b)} (was ${fileMapText(before, L, b)})`;
        }
        case 'fsync':
        case 'fdatasync': {
          const flushed = dirtyWords(before, L) - dirtyWords(after, L);
          const moved = migrated(L, before, after);
          return `${a.type}(${FD}) = 0 → ${words(flushed)}; ${moved.length ? `COW cache migrated into the file map (${moved.join(', ')})` : 'nothing in the COW cache'}`;
        }
        case 'ftruncate':
          return `ftruncate(${FD}, ${(p.blocks ?? 0) * BLOCK_SIZE}) = 0 (the new size is in the inode log, durable, before the call returns)`;
        case 'mount_and_recover': {
          const moved = migrated(L, before, after);
          return `NOVA recovery: inode log replayed → i_size ${after.durable[L.dSize] * BLOCK_SIZE}; ${
            moved.length ? `COW cache migrated into the file map by pointer swaps (${moved.join(', ')})` : 'the COW cache is empty'
          }`;
        }
        case 'jbd2_journal_commit_transaction': {
          const u = before.volatile[L.vUnrelated];
          return `another filesystem's journal commits ${u} unrelated object${u === 1 ? '' : 's'} (NOVA's faults never wait for it)`;
        }
        case 'power_fail': {
          const shared = describeAction(L, app, a) ?? 'power failure';
          const cut = shared.replace(/; (running transaction lost \(.*\)|nothing uncommitted in the journal)$/, '');
          const lost = copiesInMemoryOnly(before, L);
          return lost.length
            ? `${cut}; copies in memory only, lost: ${lost.map((b) => `block ${b} (pmem ${before.volatile[L.vExtPhys + b]})`).join(', ')}`
            : `${cut}; the inode log and the COW cache are durable`;
        }
        default:
          return undefined;
      }
    },
    state: (c, fields) => {
      const out = { ...fields };
      delete out['running transaction'];
      for (let b = 0; b < L.B; b++) {
        const q = cowEntry(c, L, b);
        out[`COW cache block ${b}`] = q >= 0 ? `pmem ${q}` : 'none';
        out[`copy of block ${b} (in memory)`] = hasCopy(c, L, b) ? `pmem ${c.volatile[L.vExtPhys + b]}` : 'none';
      }
      return out;
    },
  };
}
