/**
 * Unchanged runs are stored as heartbeats (the runs row alone, with the digest of the resources checked)
 * and read back truthfully: their count, no invented outcomes, and the earlier run listing the same
 * resources.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { createRunsReader } from './runs-reader.ts';
import { isHeartbeat, prepareRunWriter, resourceSetDigest } from './run-writer.ts';
import type { StoredOutcome, StoredRun } from './run-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-run-writer-'));
const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});
store.db
  .prepare(
    `INSERT INTO envoys (id, hostname, public_key, status, enrolled_at) VALUES ('e1', 'web-01', ?, 'active', 1)`,
  )
  .run(Buffer.alloc(32, 1));
const write = prepareRunWriter(store.db);
const reader = createRunsReader(store.db);
const count = (sql: string, ...args: string[]): number =>
  store.db
    .prepare(sql)
    .pluck()
    .get(...args) as number;

function run(id: string, startedAtMs: number, outcomes: readonly StoredOutcome[], names = 'f'): StoredRun {
  return {
    runId: id,
    envoyId: 'e1',
    policyVersion: 3,
    startedAtMs,
    finishedAtMs: startedAtMs + 40,
    dryRun: false,
    traceId: '',
    results: outcomes.map((outcome, i) => ({
      resourceId: `/etc/${names}${i}`,
      resourceType: 'file',
      configcrate: 'base',
      outcome,
      message: outcome === 'none' ? `/etc/${names}${i} is up to date` : 'content changed',
      durationMs: 2,
    })),
  };
}

const stored = (r: StoredRun): boolean => store.tx(() => write(r, r.finishedAtMs + 5));

describe('run storage', () => {
  it('a run with every resource unchanged is one row; any other outcome keeps every resource', () => {
    assert.equal(stored(run('full', 1000, ['updated', 'none', 'none'])), true);
    assert.equal(stored(run('beat', 2000, ['none', 'none', 'none'])), true);
    assert.equal(stored(run('skip', 3000, ['none', 'skipped', 'none'])), true);
    assert.equal(count('SELECT count(*) FROM run_results WHERE run_id = ?', 'full'), 3);
    assert.equal(count('SELECT count(*) FROM run_results WHERE run_id = ?', 'beat'), 0);
    assert.equal(count('SELECT count(*) FROM run_results WHERE run_id = ?', 'skip'), 3);
    assert.equal(count('SELECT heartbeat FROM runs WHERE id = ?', 'beat'), 1);
    assert.equal(count('SELECT heartbeat FROM runs WHERE id = ?', 'full'), 0);
    assert.deepEqual(
      store.db
        .prepare(
          `SELECT status, resources_total, resources_changed, resources_failed FROM runs WHERE id = 'beat'`,
        )
        .get(),
      { status: 'converged', resources_total: 3, resources_changed: 0, resources_failed: 0 },
    );
  });

  it('a heartbeat delivered again is acknowledged without a second row', () => {
    assert.equal(stored(run('beat', 2000, ['none', 'none', 'none'])), false);
    assert.equal(count(`SELECT count(*) FROM runs WHERE id = 'beat'`), 1);
  });

  it('an empty run is not a heartbeat (nothing was checked)', () => {
    assert.equal(isHeartbeat({ results: [] }), false);
    assert.equal(isHeartbeat(run('x', 1, ['none'])), true);
    assert.equal(isHeartbeat(run('x', 1, ['none', 'failed'])), false);
  });

  it('the digest names the set of resources: order and outcomes do not matter, membership does', () => {
    const a = run('a', 1, ['none', 'updated', 'none']).results;
    const digest = resourceSetDigest(a);
    assert.equal(digest.length, 32);
    assert.deepEqual(resourceSetDigest([...a].reverse()), digest);
    assert.deepEqual(resourceSetDigest(a.map((r) => ({ ...r, outcome: 'none' }))), digest);
    assert.notDeepEqual(resourceSetDigest(a.slice(1)), digest);
    assert.notDeepEqual(resourceSetDigest(a.map((r) => ({ ...r, configcrate: 'other' }))), digest);
    // Fields are JSON-quoted, so no choice of names makes two different sets collide by concatenation.
    const joined = [{ resourceId: 'b', resourceType: 'file', configcrate: 'a' }];
    const split = [{ resourceId: '', resourceType: 'file', configcrate: 'a","b' }];
    assert.notDeepEqual(resourceSetDigest(joined), resourceSetDigest(split));
  });

  it('reads a heartbeat as its count and digest, with the earlier run that lists the same resources', () => {
    const beat = reader.get('beat');
    assert.equal(beat.heartbeat, true);
    assert.deepEqual(beat.results, []);
    assert.deepEqual(beat.resources, { total: 3, changed: 0, failed: 0 });
    assert.equal(
      beat.resourcesDigest,
      resourceSetDigest(run('beat', 0, ['none', 'none', 'none']).results).toString('hex'),
    );
    assert.deepEqual(beat.resourcesListedIn, { runId: 'full', startedAt: new Date(1000).toISOString() });

    const full = reader.get('full');
    assert.equal(full.heartbeat, false);
    assert.equal(full.results.length, 3);
    assert.equal(full.resourcesDigest, beat.resourcesDigest);
    assert.equal(full.resourcesListedIn, null);

    // Other resources than any run listed before: the digest stands alone.
    stored(run('other', 4000, ['none', 'none'], 'g'));
    assert.equal(reader.get('other').resourcesListedIn, null);
    assert.equal(reader.latestFor('e1')?.id, 'other');
    assert.equal(reader.latestFor('e1')?.heartbeat, true);
    assert.deepEqual(
      reader.list({ envoyId: 'e1' }).items.map((r) => [r.id, r.heartbeat]),
      [
        ['other', true],
        ['skip', false],
        ['beat', true],
        ['full', false],
      ],
    );
  });

  it("finds a heartbeat's fully stored run with one index seek, whatever the number of heartbeats", () => {
    const plan = store.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id, started_at FROM runs
         WHERE envoy_id = ? AND resources_digest = ? AND heartbeat = 0 AND started_at < ?
         ORDER BY started_at DESC LIMIT 1`,
      )
      .all('e1', Buffer.alloc(32), 1) as { detail: string }[];
    const text = plan.map((p) => p.detail).join('\n');
    assert.match(text, /USING INDEX runs_full_by_resources/, text);
    assert.doesNotMatch(text, /TEMP B-TREE/, text);
  });

  it('a run stored before digests were kept reads with a null digest', () => {
    store.db
      .prepare(
        `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
         VALUES ('old', 'e1', 1, 10, 20, 30, 'converged')`,
      )
      .run();
    const old = reader.get('old');
    assert.deepEqual([old.heartbeat, old.resourcesDigest, old.resourcesListedIn], [false, null, null]);
  });
});
