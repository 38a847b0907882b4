/**
 * What an unchanged run costs on disk: runs reported through the real results committer into a real
 * SQLite file, measured with the dbstat virtual table (pages of the runs and run_results tables and all
 * their indexes). A heartbeat of 50 unchanged resources stays within 1 KB; a run with a change keeps its
 * per-resource rows. Retention prunes heartbeats like any other run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createResultsCommitter } from '../server/checkin/results-committer.ts';
import type { RunOutcome, RunRecord } from '../server/checkin/results-committer.ts';
import { storeWithEnvoy } from '../server/checkin/test-fixtures.ts';
import { silentLogger } from '../server/core/index.ts';
import { pruneHistory } from '../server/store/index.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());
const db = fixture.store.db;
const committer = createResultsCommitter({
  store: fixture.store,
  log: silentLogger,
  maxQueuedResults: 100_000,
  maxDelayMs: 1,
});

const resourcesPerRun = 50;
const runsMeasured = 1000;
const cadenceMs = 300_000;
let nextStart = 1_700_000_000_000;

/** A run as an agent reports it: realistic names and the executors' "is up to date" messages. */
function run(changedAt: number | undefined): RunRecord {
  const startedAtMs = (nextStart += cadenceMs);
  return {
    runId: randomUUID(),
    envoyId: fixture.envoyId,
    policyVersion: 12,
    startedAtMs,
    finishedAtMs: startedAtMs + 840,
    dryRun: false,
    traceId: 'a1'.repeat(16),
    results: Array.from({ length: resourcesPerRun }, (_, i) => {
      const path = `/etc/app/conf.d/${String(i).padStart(2, '0')}-service.conf`;
      const outcome: RunOutcome = i === changedAt ? 'updated' : 'none';
      return {
        resourceId: path,
        resourceType: 'file',
        configcrate: 'webserver',
        outcome,
        message: outcome === 'none' ? `${path} is up to date` : 'content changed',
        durationMs: 2,
      };
    }),
  };
}

/** Bytes of pages held by runs, run_results and their indexes. */
function storedBytes(): number {
  return db
    .prepare(
      `SELECT coalesce(sum(d.pgsize), 0) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name
       WHERE s.tbl_name IN ('runs', 'run_results')`,
    )
    .pluck()
    .get() as number;
}

async function bytesPerRun(changedAt: number | undefined): Promise<number> {
  const before = storedBytes();
  for (let sent = 0; sent < runsMeasured; sent += 100)
    await committer.submit(Array.from({ length: 100 }, () => run(changedAt)));
  return (storedBytes() - before) / runsMeasured;
}

describe('stored size of a run', () => {
  it('an unchanged run of 50 resources is stored in at most 1 KB, indexes included', async (t) => {
    const heartbeat = await bytesPerRun(undefined);
    const changed = await bytesPerRun(0);
    t.diagnostic(
      `bytes per run of ${resourcesPerRun} resources: unchanged ${heartbeat}, one changed ${changed}`,
    );
    assert.ok(heartbeat <= 1024, `an unchanged run takes ${heartbeat} bytes`);
    assert.ok(changed > 10 * heartbeat, `a run with a change keeps its ${resourcesPerRun} outcome rows`);
    assert.equal(
      db.prepare('SELECT count(*) FROM run_results').pluck().get(),
      runsMeasured * resourcesPerRun,
      'only the changed runs have outcome rows',
    );
  });

  it('retention prunes heartbeats with the other runs, keeping the envoy latest', async () => {
    const total = db.prepare('SELECT count(*) FROM runs').pluck().get() as number;
    const report = await pruneHistory(db, { runs: nextStart + 1 });
    assert.equal(report.deleted.runs, total - 1);
    assert.deepEqual(db.prepare('SELECT count(*) AS runs, sum(heartbeat) AS beats FROM runs').get(), {
      runs: 1,
      beats: 0,
    });
    assert.equal(db.prepare('SELECT count(*) FROM run_results').pluck().get(), resourcesPerRun);
  });
});
