import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createFileSnapshotStore } from './index.ts';
import { tempDir } from './test-support.ts';

function modeOf(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

describe('createFileSnapshotStore', () => {
  it('copies a file into a private folder named by its path hash, with an index', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'etc', 'app.conf');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'listen 80\n', { mode: 0o644 });
    const storeDir = path.join(dir, 'snapshots');
    const store = createFileSnapshotStore(storeDir, { now: () => 1_700_000_000_123 });
    const taken = await store.snapshot(file);
    const folder = path.join(storeDir, createHash('sha256').update(file).digest('hex').slice(0, 16));
    assert.deepEqual(taken, {
      path: file,
      snapshotPath: path.join(folder, '1700000000123-app.conf'),
      takenAtMs: 1_700_000_000_123,
      sizeBytes: 10,
    });
    assert.equal(fs.readFileSync(taken.snapshotPath, 'utf8'), 'listen 80\n');
    assert.equal(modeOf(taken.snapshotPath), 0o600);
    assert.equal(modeOf(storeDir), 0o700);
    assert.equal(modeOf(folder), 0o700);
    const index = JSON.parse(fs.readFileSync(path.join(folder, 'index.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(index.path, file);
    assert.deepEqual(index.snapshots, [
      { file: '1700000000123-app.conf', takenAtMs: 1_700_000_000_123, sizeBytes: 10 },
    ]);
    assert.equal(modeOf(path.join(folder, 'index.json')), 0o600);
    assert.deepEqual(fs.readdirSync(folder).sort(), ['1700000000123-app.conf', 'index.json']);
  });

  it('keeps the newest five per file, in order, even within one millisecond', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'motd');
    const other = path.join(dir, 'other');
    fs.writeFileSync(other, 'other');
    const store = createFileSnapshotStore(path.join(dir, 'snapshots'), { now: () => 5_000 });
    for (let i = 1; i <= 7; i++) {
      fs.writeFileSync(file, `version ${i}`);
      await store.snapshot(file);
    }
    await store.snapshot(other);
    const kept = await store.list(file);
    assert.deepEqual(
      kept.map((s) => fs.readFileSync(s.snapshotPath, 'utf8')),
      ['version 7', 'version 6', 'version 5', 'version 4', 'version 3'],
    );
    assert.deepEqual(
      kept.map((s) => s.takenAtMs),
      [5_006, 5_005, 5_004, 5_003, 5_002],
    );
    assert.equal(fs.readdirSync(path.dirname(kept[0]!.snapshotPath)).length, 6);
    assert.equal((await store.list(other)).length, 1);
  });

  it('honours a configured retention', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'x');
    const store = createFileSnapshotStore(path.join(dir, 's'), { keep: 2 });
    for (let i = 0; i < 4; i++) await store.snapshot(file);
    assert.equal((await store.list(file)).length, 2);
    assert.throws(() => createFileSnapshotStore(dir, { keep: 0 }), /at least 1/);
  });

  it('snapshots concurrent calls one after the other without losing any', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'x');
    const store = createFileSnapshotStore(path.join(dir, 's'), { now: () => 1 });
    const taken = await Promise.all([store.snapshot(file), store.snapshot(file), store.snapshot(file)]);
    assert.deepEqual(
      taken.map((s) => s?.takenAtMs),
      [1, 2, 3],
    );
  });

  it('takes nothing for a missing file, a directory or a symbolic link', async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'secret-ish');
    fs.symlinkSync(target, path.join(dir, 'link'));
    const storeDir = path.join(dir, 'snapshots');
    const store = createFileSnapshotStore(storeDir);
    assert.equal(await store.snapshot(path.join(dir, 'absent')), undefined);
    assert.equal(await store.snapshot(path.join(dir, 'absent', 'below')), undefined);
    assert.equal(await store.snapshot(dir), undefined);
    assert.equal(await store.snapshot(path.join(dir, 'link')), undefined);
    assert.equal(fs.existsSync(storeDir), false);
    assert.deepEqual(await store.list(path.join(dir, 'absent')), []);
  });
});
