import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCycles, formatCycle, topoSort } from './dag.ts';

describe('topoSort', () => {
  it('keeps written order when nothing constrains it', () => {
    assert.deepEqual(topoSort(4, [[], [], [], []]), { order: [0, 1, 2, 3] });
  });

  it('moves a dependency before its dependent and otherwise keeps order', () => {
    // 0 depends on 3; 2 depends on 1
    assert.deepEqual(topoSort(4, [[3], [], [1], []]), { order: [1, 2, 3, 0] });
  });

  it('reports the cycle instead of an order', () => {
    const r = topoSort(3, [[1], [2], [0]]);
    assert.ok('cycles' in r);
    assert.deepEqual(r.cycles, [[0, 1, 2]]);
  });
});

describe('findCycles / formatCycle', () => {
  it('prints a cycle in depends_on direction, closing back on its start', () => {
    const names = ['a', 'b', 'c'];
    const [cycle] = findCycles(3, [[1], [2], [0]]);
    assert.equal(formatCycle(cycle!.map((i) => names[i]!)), 'a → b → c → a');
  });

  it('finds a self loop and separate loops, ignoring acyclic parts', () => {
    const cycles = findCycles(5, [[0], [2], [1], [1], []]);
    assert.deepEqual(cycles, [[0], [1, 2]]);
  });

  it('handles long chains without recursion limits', () => {
    const n = 50_000;
    const deps = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : [0]));
    const cycles = findCycles(n, deps);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.length, n);
  });
});
