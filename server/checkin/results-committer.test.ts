import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { QueueFullError, createResultsCommitter } from './results-committer.ts';
import type { RunRecord } from './results-committer.ts';
import { storeWithEnvoy } from './test-fixtures.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

function run(results: number): RunRecord {
  return {
    runId: randomUUID(),
    envoyId: fixture.envoyId,
    policyVersion: 1,
    startedAtMs: 1000,
    finishedAtMs: 2000,
    dryRun: false,
    traceId: '',
    results: Array.from({ length: results }, (_, i) => ({
      resourceId: `file:/tmp/f${i}`,
      resourceType: 'file',
      configcrate: 'motd',
      outcome: i === 0 ? 'updated' : 'none',
      message: '',
      durationMs: 3,
    })),
  };
}

const count = (sql: string): number => fixture.store.db.prepare(sql).pluck().get() as number;

describe('results committer', () => {
  it('acknowledges a report only once it is in SQLite, and stores a redelivered run once', async () => {
    const committer = createResultsCommitter({
      store: fixture.store,
      log: silentLogger,
      maxQueuedResults: 1000,
      maxDelayMs: 5,
    });
    const report = run(3);
    const runsBefore = count('SELECT count(*) FROM runs');
    const accepted = await committer.submit([report]);
    assert.deepEqual(accepted, [report.runId]);
    assert.equal(count('SELECT count(*) FROM runs') - runsBefore, 1);
    assert.equal(count(`SELECT count(*) FROM run_results WHERE run_id = '${report.runId}'`), 3);
    const status = fixture.store.db
      .prepare('SELECT status, resources_changed FROM runs WHERE id = ?')
      .get(report.runId);
    assert.deepEqual(status, { status: 'changed', resources_changed: 1 });

    assert.deepEqual(await committer.submit([report]), [report.runId], 'redelivery is acknowledged');
    assert.equal(
      count(`SELECT count(*) FROM run_results WHERE run_id = '${report.runId}'`),
      3,
      'and not written twice',
    );
  });

  it('commits many concurrent reports together', async () => {
    const committer = createResultsCommitter({
      store: fixture.store,
      log: silentLogger,
      maxQueuedResults: 10_000,
      maxDelayMs: 5,
    });
    const reports = Array.from({ length: 50 }, () => run(2));
    const before = count('SELECT count(*) FROM runs');
    const acks = await Promise.all(reports.map((r) => committer.submit([r])));
    assert.equal(acks.flat().length, 50);
    assert.equal(count('SELECT count(*) FROM runs') - before, 50);
  });

  it('refuses with a retry hint when the queue is full, keeping what it already holds', async () => {
    const committer = createResultsCommitter({
      store: fixture.store,
      log: silentLogger,
      maxQueuedResults: 10,
      maxDelayMs: 1000,
    });
    const first = committer.submit([run(4)]);
    await assert.rejects(
      committer.submit([run(8)]),
      (err: unknown) => err instanceof QueueFullError && err.retryAfterMs > 0,
    );
    await committer.drain();
    assert.equal((await first).length, 1);
  });

  it('rejects the whole batch when it cannot be written, so agents resend', async () => {
    const committer = createResultsCommitter({
      store: fixture.store,
      log: silentLogger,
      maxQueuedResults: 100,
      maxDelayMs: 1,
    });
    const orphan = { ...run(1), envoyId: 'no-such-envoy' };
    await assert.rejects(committer.submit([orphan]), /FOREIGN KEY/);
    assert.equal(count(`SELECT count(*) FROM runs WHERE id = '${orphan.runId}'`), 0);
  });
});
