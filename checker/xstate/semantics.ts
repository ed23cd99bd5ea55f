/**
 * XState v5's microstep semantics (SCXML's, with XState's choices), restated over its own
 * `StateNode` objects for machines without history states.
 *
 * These run once per distinct (configuration, selected transitions) pair, when the compiler builds
 * its tables; never per explored transition. They follow xstate 5.33's `computeExitSet`,
 * `computeEntrySet`, `removeConflictingTransitions` and `isInFinalState` step for step, and the
 * agreement test (test/checker/xstate-agreement.test.ts) holds them to it.
 */

/** The parts of an XState `StateNode` the compiler reads. */
export interface SN {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  order: number;
  parent?: SN;
  states: Record<string, SN>;
  entry: unknown[];
  exit: unknown[];
  initial: { target: SN[]; actions: unknown[] };
  transitions: Map<string, TD[]>;
  config: Record<string, unknown>;
  invoke: unknown[];
  after: unknown[];
  always?: unknown[];
}

/** The parts of an XState transition definition the compiler reads. */
export interface TD {
  source: SN;
  target?: SN[];
  reenter: boolean;
  eventType: string;
  guard?: unknown;
  actions: unknown[];
}

export const isAtomic = (s: SN) => s.type === 'atomic' || s.type === 'final';

export function children(s: SN): SN[] {
  return Object.values(s.states).filter((c) => c.type !== 'history');
}

export function properAncestors(s: SN, upTo?: SN): SN[] {
  const out: SN[] = [];
  if (upTo === s) return out;
  for (let m = s.parent; m && m !== upTo; m = m.parent) out.push(m);
  return out;
}

/** XState's `isDescendant`; with `parent` undefined every node counts as a descendant. */
export function isDescendant(child: SN, parent: SN | undefined): boolean {
  let m = child;
  while (m.parent && m.parent !== parent) m = m.parent;
  return m.parent === parent;
}

function leastCommonAncestor(nodes: SN[]): SN | undefined {
  const [head, ...tail] = nodes;
  for (const anc of properAncestors(head)) if (tail.every((n) => isDescendant(n, anc))) return anc;
  return undefined;
}

export function transitionDomain(t: TD, root: SN): SN | undefined {
  const targets = t.target ?? [];
  if (!t.reenter && targets.every((x) => x === t.source || isDescendant(x, t.source))) return t.source;
  const lca = leastCommonAncestor(targets.concat(t.source));
  if (lca) return lca;
  if (t.reenter) return undefined;
  return root;
}

export function exitSet(ts: TD[], active: Set<SN>, root: SN): SN[] {
  const out = new Set<SN>();
  for (const t of ts) {
    if (!t.target?.length) continue;
    const domain = transitionDomain(t, root);
    if (t.reenter && t.source === domain && domain) out.add(domain);
    // With no domain (a reentering root transition) every active node is exited, the root too.
    for (const s of active) if (isDescendant(s, domain)) out.add(s);
  }
  return [...out];
}

/** XState's `removeConflictingTransitions`: keeps the earlier, unless the later is a descendant's. */
export function removeConflicts(ts: TD[], active: Set<SN>, root: SN): TD[] {
  const kept = new Set<TD>();
  for (const t1 of ts) {
    let preempted = false;
    const remove = new Set<TD>();
    for (const t2 of kept) {
      const a = new Set(exitSet([t1], active, root));
      if (exitSet([t2], active, root).some((s) => a.has(s))) {
        if (isDescendant(t1.source, t2.source)) remove.add(t2);
        else {
          preempted = true;
          break;
        }
      }
    }
    if (!preempted) {
      for (const t of remove) kept.delete(t);
      kept.add(t1);
    }
  }
  return [...kept];
}

function addDescendants(s: SN, defaultEntry: Set<SN>, enter: Set<SN>): void {
  if (s.type === 'compound') {
    const [init] = s.initial.target;
    enter.add(init);
    defaultEntry.add(init);
    addDescendants(init, defaultEntry, enter);
    addAncestors(enter, defaultEntry, properAncestors(init, s));
  } else if (s.type === 'parallel') {
    for (const child of children(s)) {
      if (![...enter].some((e) => isDescendant(e, child))) {
        enter.add(child);
        defaultEntry.add(child);
        addDescendants(child, defaultEntry, enter);
      }
    }
  }
}

function addAncestors(enter: Set<SN>, defaultEntry: Set<SN>, ancestors: SN[], reentrancyDomain?: SN): void {
  for (const anc of ancestors) {
    if (!reentrancyDomain || isDescendant(anc, reentrancyDomain)) enter.add(anc);
    if (anc.type === 'parallel') {
      for (const child of children(anc)) {
        if (![...enter].some((e) => isDescendant(e, child))) {
          enter.add(child);
          addDescendants(child, defaultEntry, enter);
        }
      }
    }
  }
}

/** States entered by the transitions, and those entered by default (whose `initial` actions run). */
export function entrySet(ts: TD[], root: SN): { enter: Set<SN>; defaultEntry: Set<SN> } {
  const enter = new Set<SN>();
  const defaultEntry = new Set<SN>();
  for (const t of ts) {
    const domain = transitionDomain(t, root);
    for (const s of t.target ?? []) {
      if (t.source !== s || t.source !== domain || t.reenter) {
        enter.add(s);
        defaultEntry.add(s);
      }
      addDescendants(s, defaultEntry, enter);
    }
    for (const s of t.target ?? []) {
      const ancestors = properAncestors(s, domain);
      if (domain?.type === 'parallel') ancestors.push(domain);
      addAncestors(enter, defaultEntry, ancestors, !t.source.parent && t.reenter ? undefined : domain);
    }
  }
  return { enter, defaultEntry };
}

export function isInFinalState(active: Set<SN>, s: SN): boolean {
  if (s.type === 'compound') return children(s).some((c) => c.type === 'final' && active.has(c));
  if (s.type === 'parallel') return children(s).every((c) => isInFinalState(active, c));
  return s.type === 'final';
}

/**
 * Whether entering `entered` (in order) completes the root, as XState's `enterStates` decides
 * status 'done': a final state whose chain of completed parallel ancestors reaches the root.
 */
export function completesRoot(entered: SN[], active: Set<SN>): boolean {
  const completed = new Set<SN>();
  for (const s of entered) {
    if (s.type !== 'final') continue;
    const parent = s.parent;
    let marker = parent?.type === 'parallel' ? parent : parent?.parent;
    while (marker?.type === 'parallel' && !completed.has(marker) && isInFinalState(active, marker)) {
      completed.add(marker);
      marker = marker.parent;
    }
    if (!marker) return true;
  }
  return false;
}

/** The state value of a configuration, as XState's `getStateValue` builds it. */
export function stateValue(root: SN, active: Set<SN>): unknown {
  const valueOf = (node: SN): unknown => {
    if (node.type === 'compound') {
      const child = children(node).find((c) => active.has(c));
      if (!child) return {};
      if (isAtomic(child)) return child.key;
      return { [child.key]: valueOf(child) };
    }
    if (node.type === 'parallel') {
      const out: Record<string, unknown> = {};
      for (const c of children(node)) if (active.has(c)) out[c.key] = valueOf(c);
      return out;
    }
    return {};
  };
  return valueOf(root);
}
