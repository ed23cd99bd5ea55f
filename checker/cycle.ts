/**
 * The first cycle of a functional graph (each node has at most one successor), as its nodes in
 * order with the first repeated at the end, or null. Used for the cycle of a deadlock's waits.
 */
export function firstCycle(edges: Iterable<readonly [string, string]>): string[] | null {
  const next = new Map<string, string>();
  for (const [from, to] of edges) if (!next.has(from)) next.set(from, to);
  for (const start of next.keys()) {
    const path = [start];
    let at = next.get(start);
    while (at !== undefined && !path.includes(at)) {
      path.push(at);
      at = next.get(at);
    }
    if (at !== undefined) return [...path.slice(path.indexOf(at)), at];
  }
  return null;
}
