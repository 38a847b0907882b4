import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { openStore, startWalCheckpointer } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-wal-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WAL checkpointer', () => {
  it('checkpoints from its own thread, so the WAL stays small while the writer never checkpoints', async () => {
    const file = join(root, 'a', 'vigo.db');
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 5000 });
    const checkpointer = startWalCheckpointer(store, {
      log: silentLogger,
      busyTimeoutMs: 5000,
      intervalMs: 20,
    });
    try {
      // The writer's own automatic checkpoint is pushed out of the way (~64 MiB).
      assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 16_384);
      store.db.exec('CREATE TABLE scratch (b BLOB)');
      const insert = store.db.prepare('INSERT INTO scratch (b) VALUES (?)');
      const row = Buffer.alloc(100_000, 7);
      // 8 rounds of ~4 MB: without checkpoints from elsewhere the WAL would reach ~32 MB.
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < 40; i++) store.tx(() => insert.run(row));
        const seen = checkpointer.stats.checkpoints;
        await until(
          'a checkpoint by the thread that copies the whole WAL',
          () => checkpointer.stats.checkpoints > seen && checkpointer.stats.caughtUp,
        );
      }
      assert.ok(checkpointer.stats.frames > 0);
      assert.equal(checkpointer.stats.failures, 0);
      const wal = statSync(`${file}-wal`).size;
      assert.ok(wal < 16 * 1024 * 1024, `the WAL grew to ${wal} bytes`);
      assert.equal((store.db.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n, 320);
    } finally {
      await checkpointer.stop();
      store.close();
    }
  });

  it('hands checkpoints back to the writer when it stops', async () => {
    const store = openStore({ file: join(root, 'b', 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
    try {
      const checkpointer = startWalCheckpointer(store, { log: silentLogger, busyTimeoutMs: 5000 });
      assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 16_384);
      await checkpointer.stop();
      assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    } finally {
      store.close();
    }
  });
});
