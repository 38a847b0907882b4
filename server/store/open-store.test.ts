import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVigoError, silentLogger } from '../core/index.ts';
import { openStore, readMigrationFiles } from './index.ts';
import { defaultMigrationsDir } from './migrations.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
function freshDir(): string {
  counter += 1;
  return join(root, `case-${counter}`);
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('openStore', () => {
  it('creates a private database in WAL mode with every migration applied and recorded', () => {
    const dir = join(freshDir(), 'db');
    const file = join(dir, 'vigo.db');
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 2500 });
    try {
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(store.db.pragma('synchronous', { simple: true }), 1);
      assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(store.db.pragma('busy_timeout', { simple: true }), 2500);

      const expected = readMigrationFiles(defaultMigrationsDir).map((m) => [m.version, m.name]);
      assert.ok(expected.length > 0);
      assert.deepEqual(
        store.appliedMigrations().map((m) => [m.version, m.name]),
        expected,
      );
      for (const m of store.appliedMigrations()) assert.ok(m.appliedAt > 0);

      store.tx((db) => db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run());
      assert.equal(modeOf(dir), 0o700);
      for (const suffix of ['', '-wal', '-shm']) {
        assert.ok(existsSync(file + suffix), `${file + suffix} exists`);
        assert.equal(modeOf(file + suffix), 0o600, `mode of ${file + suffix}`);
      }
    } finally {
      store.close();
    }
  });

  it('tightens a directory and database file that were created too open', () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const file = join(dir, 'vigo.db');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    store.close();
    assert.equal(modeOf(dir), 0o700);
    assert.equal(modeOf(file), 0o600);
  });

  it('re-opening applies nothing new and keeps the data', () => {
    const file = join(freshDir(), 'vigo.db');
    const first = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    const before = first.appliedMigrations();
    first.tx((db) => db.prepare("INSERT INTO meta (key, value) VALUES ('boot_count', '1')").run());
    first.close();

    const lines: string[] = [];
    const second = openStore({
      file,
      log: {
        ...silentLogger,
        info: (msg: string, fields?: Record<string, unknown>) => lines.push(msg + JSON.stringify(fields)),
      },
      busyTimeoutMs: 1000,
    });
    try {
      assert.deepEqual(second.appliedMigrations(), before);
      assert.equal(lines.filter((line) => line.startsWith('migration applied')).length, 0);
      assert.equal(second.db.prepare("SELECT value FROM meta WHERE key = 'boot_count'").pluck().get(), '1');
    } finally {
      second.close();
    }
  });

  it('tx commits on return, rolls back on throw, and enforces foreign keys', () => {
    const file = join(freshDir(), 'vigo.db');
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const count = (): unknown => store.db.prepare('SELECT count(*) FROM meta').pluck().get();
      const result = store.tx((db) => {
        assert.equal(db.inTransaction, true);
        db.prepare("INSERT INTO meta (key, value) VALUES ('a', '1')").run();
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal(count(), 1);

      assert.throws(() =>
        store.tx((db) => {
          db.prepare("INSERT INTO meta (key, value) VALUES ('b', '2')").run();
          throw new Error('boom');
        }),
      );
      assert.equal(count(), 1);

      assert.throws(
        () =>
          store.tx((db) =>
            db
              .prepare(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ('tok_x', 'nobody', 'n', ?, 1)",
              )
              .run('a'.repeat(64)),
          ),
        /FOREIGN KEY/,
      );
    } finally {
      store.close();
    }
  });

  it('checkpoint empties the WAL and close is idempotent', () => {
    const file = join(freshDir(), 'vigo.db');
    const store = openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
    store.tx((db) => db.prepare("INSERT INTO meta (key, value) VALUES ('x', 'y')").run());
    assert.ok(statSync(`${file}-wal`).size > 0);
    store.checkpoint();
    assert.equal(statSync(`${file}-wal`).size, 0);
    store.close();
    store.close();
    assert.equal(store.db.open, false);
  });

  it('refuses a path that is not a database, naming it', () => {
    const dir = freshDir();
    const file = join(dir, 'not-a-db');
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, 'this is plainly not an SQLite database file, it is text '.repeat(20));
    assert.throws(
      () => openStore({ file, log: silentLogger, busyTimeoutMs: 100 }),
      (err: unknown) => isVigoError(err) && err.code === 'store.open' && err.message.includes(file),
    );

    const isDir = join(dir, 'a-directory');
    mkdirSync(isDir);
    assert.throws(
      () => openStore({ file: isDir, log: silentLogger, busyTimeoutMs: 100 }),
      (err: unknown) => isVigoError(err) && err.code === 'store.open' && err.message.includes(isDir),
    );
  });

  it('refuses in-memory names and bad timeouts without touching the working directory', () => {
    const before = readdirSync('.');
    for (const file of ['', ':memory:', 'file:x.db?mode=memory']) {
      assert.throws(
        () => openStore({ file, log: silentLogger, busyTimeoutMs: 100 }),
        (err: unknown) => isVigoError(err) && err.code === 'store.open',
      );
    }
    assert.throws(
      () => openStore({ file: join(freshDir(), 'x.db'), log: silentLogger, busyTimeoutMs: -1 }),
      (err: unknown) => isVigoError(err) && err.code === 'store.open' && /busy timeout/.test(err.message),
    );
    assert.deepEqual(readdirSync('.'), before);
  });
});
