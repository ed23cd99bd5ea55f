/**
 * The persistent structure of the application of ../shared/DOMAIN.md: a header block that grows
 * into data blocks. Block 0 holds a header magic in word 0 and, in word 1 + t, thread t's pointer
 * to its record; thread t's record is DATA(t) in word 0 of block 1 + t.
 *
 * Invariants that talk about "the pointer" and "its data" read the structure through this.
 */
import { DATA, HDR, PTR, type Dimensions } from './layout.ts';

export interface AppLayout {
  header: number;
  headerWord: number;
  headerValue: number;
  pointerWord(t: number): number;
  pointerValue(t: number): number;
  dataBlock(t: number): number;
  dataWord: number;
  dataValue(t: number): number;
}

export function appLayout(): AppLayout {
  return {
    header: 0,
    headerWord: 0,
    headerValue: HDR,
    pointerWord: (t) => 1 + t,
    pointerValue: (t) => PTR(1 + t),
    dataBlock: (t) => 1 + t,
    dataWord: 0,
    dataValue: (t) => DATA(t),
  };
}

/** The smallest dimensions that hold the structure for `threads` threads. */
export function appDimensions(threads: number): Omit<Dimensions, 'unrelated'> {
  return { threads, blocks: 1 + threads, phys: 1 + threads, words: 1 + threads };
}
