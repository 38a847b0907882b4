import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { createFleetConvergenceHistory } from './fleet-history.ts';
import { createConvergenceTally } from './tally.ts';

describe('fleet convergence history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-fleet-history-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('walks the current totals back through each bucket of transitions', () => {
    const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const addEnvoy = store.db.prepare(
        'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, zeroblob(32), 1)',
      );
      const addRunTransition = store.db.prepare(
        `INSERT INTO convergence_history (envoy_id, at, cause, run_id, from_status, to_status, from_drift,
           to_drift, changed_streak) VALUES (?, ?, 'run', 'r', ?, ?, 'none', 'none', 0)`,
      );
      const addReachability = store.db.prepare(
        `INSERT INTO convergence_history (envoy_id, at, cause, from_status, to_status, from_drift, to_drift,
           from_reachability, to_reachability, changed_streak)
         VALUES (?, ?, 'reachability', 'failed', 'failed', 'none', 'none', 'online', 'stale', 0)`,
      );
      for (const id of ['a', 'b', 'c']) addEnvoy.run(id, id);
      // Window 1000..1400 in 4 buckets of 100: (1000,1100] (1100,1200] (1200,1300] (1300,1400].
      addRunTransition.run('a', 1050, 'no_data', 'converged');
      addRunTransition.run('b', 1100, 'no_data', 'failed');
      addRunTransition.run('b', 1250, 'failed', 'converged');
      addRunTransition.run('c', 1260, 'no_data', 'converged');
      addRunTransition.run('c', 1400, 'converged', 'failed');
      addReachability.run('b', 1300);
      addRunTransition.run('a', 900, 'converged', 'degraded'); // before the window: not read
      const tally = createConvergenceTally();
      tally.add('converged', 'none', 'online');
      tally.add('converged', 'none', 'online');
      tally.add('failed', 'none', 'online');
      const series = createFleetConvergenceHistory(store.db).series(tally.finish(1400), 1400, 400, 4);
      assert.deepEqual(
        series.map((p) => [p.atMs, p.converged, p.reporting]),
        [
          [1000, 0, 0],
          [1100, 1, 2],
          [1200, 1, 2],
          [1300, 3, 3],
          [1400, 2, 3],
        ],
      );
    } finally {
      store.close();
    }
  });

  it('clamps what revoked envoys would make impossible', () => {
    const store = openStore({ file: join(dir, 'clamp.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      store.db
        .prepare(
          "INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES ('x', 'x', zeroblob(32), 1)",
        )
        .run();
      store.db
        .prepare(
          `INSERT INTO convergence_history (envoy_id, at, cause, run_id, from_status, to_status, from_drift,
             to_drift, changed_streak) VALUES ('x', 150, 'run', 'r', 'converged', 'failed', 'none', 'none', 0)`,
        )
        .run();
      const empty = createConvergenceTally().finish(200);
      const series = createFleetConvergenceHistory(store.db).series(empty, 200, 200, 2);
      assert.ok(series.every((p) => p.converged >= 0 && p.converged <= p.reporting));
      assert.equal(series.length, 3);
    } finally {
      store.close();
    }
  });
});
