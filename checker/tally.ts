/**
 * What both explorers count per transition: how often each event and each rule fired, and the
 * largest value of each measure (checker/system.ts `Measure`).
 */
import type { Measure, TransitionSystem } from './system.ts';

export interface Measured {
  name: string;
  unit: string;
  /** Largest value over the transitions that counted (null if none did). */
  max: number | null;
  /** How many transitions counted. */
  transitions: number;
}

export class Tally<V> {
  transitions = 0;
  readonly eventFires: Float64Array;
  /** Grows as rules are discovered (the XState compiler numbers them lazily). */
  ruleFires: Float64Array;
  readonly measured: Measured[];

  constructor(
    private readonly system: TransitionSystem<V>,
    private readonly measures: Measure<V>[],
  ) {
    this.eventFires = new Float64Array(system.eventCount);
    this.ruleFires = new Float64Array(Math.max(64, system.ruleCount));
    this.measured = measures.map((m) => ({ name: m.name, unit: m.unit, max: null, transitions: 0 }));
  }

  /** Counts the transition from `src` to `dst` by event `e`, which took rule `rule`. */
  count(src: Uint8Array, e: number, rule: number, dst: Uint8Array): void {
    this.transitions++;
    this.eventFires[e]++;
    if (rule >= this.ruleFires.length) {
      const grown = new Float64Array(rule * 2 + 64);
      grown.set(this.ruleFires);
      this.ruleFires = grown;
    }
    this.ruleFires[rule]++;
    const measures = this.measures;
    for (let k = 0; k < measures.length; k++) {
      const value = measures[k].edge(this.system.view(src), e, this.system.view(dst));
      if (value === undefined) continue;
      const m = this.measured[k];
      m.transitions++;
      if (m.max === null || value > m.max) m.max = value;
    }
  }
}
