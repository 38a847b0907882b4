import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { storeWithEnvoy } from './test-fixtures.ts';
import { WatermarkNotDurableError, createWatermarkCommitter } from './watermark-committer.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

const storedTsMs = (): number =>
  fixture.store.db
    .prepare('SELECT last_ts_ms FROM envoys WHERE id = ?')
    .pluck()
    .get(fixture.envoyId) as number;

function entry(): EnvoyEntry {
  const found = FleetIndex.load(fixture.store.db).get(fixture.envoyId);
  assert.ok(found);
  return found;
}

describe('watermark committer', () => {
  it('releases a request only once its watermark is in SQLite, one batch for many requests', async () => {
    const committer = createWatermarkCommitter({ store: fixture.store, log: silentLogger, maxDelayMs: 5 });
    const envoy = entry();
    const start = storedTsMs();
    const waits: Promise<void>[] = [];
    const seenAtRelease: number[] = [];
    for (let i = 1; i <= 50; i++) {
      envoy.lastTsMs = start + i;
      const wait = committer.durable(envoy);
      waits.push(wait.then(() => void seenAtRelease.push(storedTsMs())));
    }
    assert.equal(storedTsMs(), start, 'nothing is written before the batch');
    await Promise.all(waits);
    assert.deepEqual(
      seenAtRelease,
      Array(50).fill(start + 50),
      'every request saw the highest raise durable',
    );
  });

  it('never lowers a watermark, and leaves a row re-enrolled since alone', async () => {
    const committer = createWatermarkCommitter({ store: fixture.store, log: silentLogger, maxDelayMs: 1 });
    const envoy = entry();
    const high = storedTsMs();
    envoy.lastTsMs = high - 10;
    await committer.durable(envoy);
    assert.equal(storedTsMs(), high);

    fixture.store.db
      .prepare(`UPDATE envoys SET cert_fingerprint = '${'cd'.repeat(32)}', last_ts_ms = 0 WHERE id = ?`)
      .run(fixture.envoyId);
    envoy.lastTsMs = high + 10;
    await committer.durable(envoy);
    assert.equal(storedTsMs(), 0, 'a raise verified under the old certificate does not touch the new row');
    fixture.store.db
      .prepare('UPDATE envoys SET cert_fingerprint = ?, last_ts_ms = ? WHERE id = ?')
      .run(fixture.certFingerprintHex, high, fixture.envoyId);
  });

  it('refuses to release requests whose batch could not be written', async () => {
    const committer = createWatermarkCommitter({ store: fixture.store, log: silentLogger, maxDelayMs: 1 });
    const envoy = entry();
    fixture.store.db.exec(
      "CREATE TRIGGER no_room BEFORE UPDATE ON envoys BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
    try {
      envoy.lastTsMs = storedTsMs() + 1;
      await assert.rejects(committer.durable(envoy), WatermarkNotDurableError);
    } finally {
      fixture.store.db.exec('DROP TRIGGER no_room');
    }
    await committer.durable(envoy);
    assert.equal(storedTsMs(), envoy.lastTsMs, 'the next batch writes it');
  });
});
