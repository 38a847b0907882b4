/**
 * Graph helpers over nodes 0..n-1 where `deps[i]` lists the nodes i must follow ("i depends on j").
 * Orders are stable: among nodes that are ready, the lowest index goes first, so the output follows
 * the order things were written in whenever the dependencies allow it.
 */

export function formatCycle(names: string[]): string {
  return [...names, names[0]!].join(' → ');
}

/** Strongly connected components (iterative Tarjan), each sorted ascending. */
function components(n: number, deps: readonly (readonly number[])[]): number[][] {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0 && index[v] === -1) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      const next = deps[v]![i];
      if (next !== undefined) {
        frame[1] = i + 1;
        if (index[next] === -1) work.push([next, 0]);
        else if (onStack[next]) low[v] = Math.min(low[v]!, index[next]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        out.push(comp.sort((a, b) => a - b));
      }
    }
  }
  return out;
}

/** A cycle through `start` staying inside `members` (BFS for the shortest one). */
function cycleThrough(start: number, members: Set<number>, deps: readonly (readonly number[])[]): number[] {
  const prev = new Map<number, number>();
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi]!;
    for (const w of deps[v]!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[path.length - 1] !== start) path.push(prev.get(path[path.length - 1]!)!);
        return path.reverse();
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

/** One representative cycle per loop in the graph, each starting at its lowest node. */
export function findCycles(n: number, deps: readonly (readonly number[])[]): number[][] {
  const out: number[][] = [];
  for (const comp of components(n, deps)) {
    const start = comp[0]!;
    if (comp.length === 1 && !deps[start]!.includes(start)) continue;
    out.push(cycleThrough(start, new Set(comp), deps));
  }
  return out.sort((a, b) => a[0]! - b[0]!);
}

/** Stable topological order (dependencies first), or the cycles that prevent one. */
export function topoSort(
  n: number,
  deps: readonly (readonly number[])[],
): { order: number[] } | { cycles: number[][] } {
  const indegree = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) {
    for (const d of deps[v]!) {
      indegree[v]! += 1;
      dependents[d]!.push(v);
    }
  }
  const heap = new MinHeap();
  for (let v = 0; v < n; v++) if (indegree[v] === 0) heap.push(v);
  const order: number[] = [];
  while (heap.size > 0) {
    const v = heap.pop();
    order.push(v);
    for (const w of dependents[v]!) {
      indegree[w]! -= 1;
      if (indegree[w] === 0) heap.push(w);
    }
  }
  return order.length === n ? { order } : { cycles: findCycles(n, deps) };
}

class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }

  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
