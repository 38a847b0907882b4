/**
 * The runs reader's `failed` filter: runs with any failed resource, newest first, alone and with the
 * envoy and status filters, each on an index (never a scan of the runs table).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { createRunsReader } from './runs-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-runs-'));
const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function envoy(id: string, hostname: string): void {
  store.db
    .prepare(
      `INSERT INTO envoys (id, hostname, public_key, status, enrolled_at) VALUES (?, ?, ?, 'active', 1)`,
    )
    .run(id, hostname, Buffer.alloc(32, id.charCodeAt(0)));
}

function run(id: string, envoyId: string, startedAt: number, status: string, failed: number): void {
  store.db
    .prepare(
      `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status,
         resources_total, resources_failed) VALUES (?, ?, 1, ?, ?, ?, ?, 2, ?)`,
    )
    .run(id, envoyId, startedAt, startedAt + 1, startedAt + 2, status, failed);
}

envoy('a', 'web-01');
envoy('b', 'db-01');
run('a1', 'a', 100, 'failed', 2);
run('a2', 'a', 200, 'partial', 1);
run('a3', 'a', 300, 'converged', 0);
run('b1', 'b', 150, 'changed', 0);
run('b2', 'b', 250, 'partial', 1);
const reader = createRunsReader(store.db);
const ids = (page: { items: { id: string }[] }): string[] => page.items.map((r) => r.id);

describe('runs reader', () => {
  it('failed: true lists runs with any failed resource, newest first, with the other filters', () => {
    assert.deepEqual(ids(reader.list({ failed: true })), ['b2', 'a2', 'a1']);
    assert.deepEqual(ids(reader.list({ failed: true, envoyId: 'a' })), ['a2', 'a1']);
    assert.deepEqual(ids(reader.list({ failed: true, status: 'partial' })), ['b2', 'a2']);
    assert.deepEqual(ids(reader.list({ failed: true, status: 'converged' })), []);
    assert.deepEqual(ids(reader.list({ failed: false })), ['a3', 'b2', 'a2', 'b1', 'a1']);
    const page = reader.list({ failed: true, limit: 2 });
    assert.deepEqual([ids(page), page.nextBefore], [['b2', 'a2'], 200]);
    assert.deepEqual(ids(reader.list({ failed: true, before: 200 })), ['a1']);
  });

  it('reads failed runs through the partial index, not the whole table', () => {
    const plan = store.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT r.id, e.hostname FROM runs r LEFT JOIN envoys e ON e.id = r.envoy_id WHERE r.resources_failed > 0 AND r.started_at < ?
         ORDER BY r.started_at DESC LIMIT ?`,
      )
      .all(Number.MAX_SAFE_INTEGER, 50) as { detail: string }[];
    const text = plan.map((p) => p.detail).join('\n');
    assert.match(text, /USING INDEX runs_failed_started/, text);
    assert.doesNotMatch(text, /TEMP B-TREE/, text);
  });
});
