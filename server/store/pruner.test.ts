import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from './index.ts';
import type { Store } from './index.ts';
import { cutoffsFor, pruneHistory } from './prune.ts';
import { startPruner } from './pruner.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-prune-'));
after(() => rmSync(root, { recursive: true, force: true }));

const day = 86_400_000;
const now = Date.UTC(2026, 11, 7);

/** Two envoys with runs every day for 40 days (5 results each), and old and new rows of every family. */
function seed(store: Store): void {
  const { db } = store;
  const envoy = db.prepare(
    'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, zeroblob(32), ?)',
  );
  const run = db.prepare(
    `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
     VALUES (?, ?, 1, ?, ?, ?, 'converged')`,
  );
  const result = db.prepare(
    `INSERT INTO run_results (run_id, seq, resource_id, resource_type, outcome) VALUES (?, ?, ?, 'file', 'none')`,
  );
  const task = db.prepare(
    `INSERT INTO task_runs (id, kind, command, timeout_seconds, nice, actor, created_at, expires_at, rollout,
       batches, status, finished_at) VALUES (?, 'command', 'true', 60, 0, 'admin', ?, ?, '{}', 1, ?, ?)`,
  );
  const workflow = db.prepare(
    `INSERT INTO workflow_runs (id, workflow, config_version, definition, actor, actor_key, actor_json, status,
       created_at, finished_at) VALUES (?, 'wf', 1, '{}', 'admin', 'k', '{}', ?, ?, ?)`,
  );
  const history = db.prepare(
    `INSERT INTO convergence_history (envoy_id, at, cause, run_id, from_status, to_status, from_drift, to_drift,
       changed_streak) VALUES (?, ?, 'run', 'r', 'no_data', 'converged', 'none', 'none', 0)`,
  );
  const delivery = db.prepare(
    `INSERT INTO integration_deliveries (delivery_id, target, event_id, event_type, payload, state, created_at,
       next_attempt_at, finished_at) VALUES (?, 'hook', 'e', 'run.failed', '{}', ?, ?, ?, ?)`,
  );
  store.tx(() => {
    // envoy-b's only run is 60 days old: it is its latest, so it stays.
    envoy.run('envoy-a', 'a.example.com', now - 100 * day);
    envoy.run('envoy-b', 'b.example.com', now - 100 * day);
    for (let d = 0; d < 40; d++) {
      const at = now - d * day - 1000;
      run.run(`a-${d}`, 'envoy-a', at, at + 10, at + 20);
      for (let seq = 0; seq < 5; seq++) result.run(`a-${d}`, seq, `file:/r${seq}`);
      history.run('envoy-a', at);
    }
    run.run('b-old', 'envoy-b', now - 60 * day, now - 60 * day, now - 60 * day);
    task.run('t-old', now - 100 * day, now - 99 * day, 'succeeded', now - 100 * day);
    task.run('t-running', now - 100 * day, now + day, 'running', null);
    task.run('t-new', now - day, now, 'failed', now - day);
    workflow.run('w-old', 'failed', now - 100 * day, now - 100 * day);
    workflow.run('w-waiting', 'running', now - 100 * day, null);
    delivery.run('d-old', 'delivered', now - 30 * day, now - 30 * day, now - 30 * day);
    delivery.run('d-dead-new', 'dead', now - day, now - day, now - day);
    delivery.run('d-pending-old', 'pending', now - 30 * day, now, null);
    db.prepare(
      `INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
       VALUES (1, ?, 'admin', 'test.old', 't', '{}', ?, ?)`,
    ).run(now - 400 * day, '0'.repeat(64), 'a'.repeat(64));
  });
}

const ids = (store: Store, sql: string): string[] => (store.db.prepare(sql).pluck().all() as string[]).sort();

describe('history pruning', () => {
  it('deletes what is past retention, in small transactions, keeping latest runs and work in progress', async () => {
    const store = openStore({ file: join(root, 'a', 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
    try {
      seed(store);
      const auditBefore = store.db.prepare('SELECT count(*) FROM audit_log').pluck().get();
      const report = await pruneHistory(
        store.db,
        cutoffsFor(
          {
            runs: 30 * day,
            tasks: 90 * day,
            workflows: 90 * day,
            convergence_history: 10 * day,
            deliveries: 7 * day,
          },
          now,
        ),
        { targetTxnMs: 10 },
      );
      assert.deepEqual(report.deleted, {
        runs: 10,
        tasks: 1,
        workflows: 1,
        convergence_history: 30,
        deliveries: 1,
      });
      assert.equal(report.interrupted, false);
      const runs = ids(store, 'SELECT id FROM runs');
      assert.equal(runs.length, 31);
      assert.ok(runs.includes('b-old'), "an envoy's latest run is kept however old");
      assert.ok(!runs.includes('a-30') && runs.includes('a-29'));
      assert.equal(
        store.db.prepare('SELECT count(*) FROM run_results').pluck().get(),
        30 * 5,
        'results go with their runs',
      );
      assert.deepEqual(ids(store, 'SELECT id FROM task_runs'), ['t-new', 't-running']);
      assert.deepEqual(ids(store, 'SELECT id FROM workflow_runs'), ['w-waiting']);
      assert.deepEqual(ids(store, 'SELECT delivery_id FROM integration_deliveries'), [
        'd-dead-new',
        'd-pending-old',
      ]);
      assert.equal(store.db.prepare('SELECT count(*) FROM audit_log').pluck().get(), auditBefore);
      const again = await pruneHistory(
        store.db,
        cutoffsFor({ runs: 30 * day, tasks: 0, workflows: 0, convergence_history: 0, deliveries: 0 }, now),
      );
      assert.equal(again.deleted.runs, 0, 'a second pass finds nothing');
    } finally {
      store.close();
    }
  });

  it('keeps a family whose retention is 0, and runs on its own thread when asked', async () => {
    const store = openStore({ file: join(root, 'b', 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
    const passes: number[] = [];
    const pruner = startPruner(store, {
      log: silentLogger,
      busyTimeoutMs: 5000,
      retention: () => ({ runs: 30 * day, tasks: 0, workflows: 0, convergence_history: 0, deliveries: 0 }),
      intervalMs: () => day,
      firstPassAfterMs: day,
      now: () => now,
      onPass: (report) => passes.push(report.deleted.runs),
    });
    try {
      seed(store);
      const report = await pruner.prune();
      assert.equal(report.deleted.runs, 10);
      assert.equal(report.deleted.tasks + report.deleted.workflows + report.deleted.deliveries, 0);
      assert.deepEqual(passes, [10]);
      assert.equal(store.db.prepare('SELECT count(*) FROM run_results').pluck().get(), 30 * 5);
      assert.equal(store.db.prepare('SELECT count(*) FROM task_runs').pluck().get(), 3);
    } finally {
      await pruner.stop();
      store.close();
    }
    await assert.rejects(pruner.prune(), /stopped/);
  });
});
