import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isVigoError, silentLogger } from '../core/index.ts';
import type { ErrorCode } from '../core/index.ts';
import { openStore, readMigrationFiles, runMigrations } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A database path and a migrations folder holding the given files. */
function fixture(files: Record<string, string>): { file: string; dir: string } {
  counter += 1;
  const base = join(root, `case-${counter}`);
  const dir = join(base, 'migrations');
  mkdirSync(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return { file: join(base, 'data', 'vigo.db'), dir };
}

function open(f: { file: string; dir: string }): ReturnType<typeof openStore> {
  return openStore({ file: f.file, migrationsDir: f.dir, log: silentLogger, busyTimeoutMs: 1000 });
}

function refusal(code: ErrorCode, ...mustMention: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(isVigoError(err), `expected a VigoError, got ${String(err)}`);
    assert.equal(err.code, code);
    for (const text of mustMention)
      assert.ok(err.message.includes(text), `"${err.message}" mentions ${text}`);
    return true;
  };
}

function tableNames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
  } finally {
    db.close();
  }
}

const one = 'CREATE TABLE a (id INTEGER PRIMARY KEY);';
const two = 'CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));';

describe('migration runner', () => {
  it('applies files in numeric order, ignoring the schema snapshot and non-SQL files', () => {
    const f = fixture({
      '0010_uses_both.sql': 'CREATE VIEW ab AS SELECT * FROM a JOIN b ON b.a_id = a.id;',
      '0002_add_b.sql': two,
      '0001_add_a.sql': one,
      'schema.snapshot.sql': 'this is not SQL and must not run',
      'README.md': 'notes',
    });
    const store = open(f);
    try {
      assert.deepEqual(
        store.appliedMigrations().map((m) => m.name),
        ['0001_add_a.sql', '0002_add_b.sql', '0010_uses_both.sql'],
      );
    } finally {
      store.close();
    }
  });

  it('applies only migrations added since the last start', () => {
    const f = fixture({ '0001_add_a.sql': one });
    open(f).close();
    writeFileSync(join(f.dir, '0002_add_b.sql'), two);
    const store = open(f);
    try {
      const applied = store.appliedMigrations();
      assert.deepEqual(
        applied.map((m) => m.version),
        [1, 2],
      );
      const db = new Database(':memory:');
      assert.deepEqual(runMigrations(db, { migrationsDir: f.dir, log: silentLogger }).length, 2);
      assert.deepEqual(runMigrations(db, { migrationsDir: f.dir, log: silentLogger }), []);
      db.close();
    } finally {
      store.close();
    }
  });

  it('refuses an applied migration whose file changed, naming it', () => {
    const f = fixture({ '0001_add_a.sql': one, '0002_add_b.sql': two });
    open(f).close();
    appendFileSync(join(f.dir, '0002_add_b.sql'), '\nCREATE INDEX b_a ON b (a_id);');
    assert.throws(
      () => open(f),
      refusal('store.migration', '0002_add_b.sql', 'changed since it was applied'),
    );
    assert.deepEqual(tableNames(f.file), ['a', 'b', 'schema_migrations']);
  });

  it('refuses when an applied migration file is missing or renamed', () => {
    const f = fixture({ '0001_add_a.sql': one, '0002_add_b.sql': two });
    open(f).close();
    renameSync(join(f.dir, '0002_add_b.sql'), join(f.dir, '0002_add_table_b.sql'));
    assert.throws(() => open(f), refusal('store.migration', '0002_add_b.sql', 'renamed'));
    rmSync(join(f.dir, '0002_add_table_b.sql'));
    assert.throws(() => open(f), refusal('store.migration', '0002_add_b.sql', 'missing'));
  });

  it('rolls a failing migration back completely and names the file', () => {
    const f = fixture({
      '0001_add_a.sql': one,
      '0002_half_broken.sql': 'CREATE TABLE c (id INTEGER);\nINSERT INTO c VALUES (1);\nCREATE TABLE oops (;',
    });
    assert.throws(() => open(f), refusal('store.migration', '0002_half_broken.sql', 'rolled back'));
    assert.deepEqual(tableNames(f.file), ['a', 'schema_migrations']);

    writeFileSync(join(f.dir, '0002_half_broken.sql'), 'CREATE TABLE c (id INTEGER);');
    const store = open(f);
    try {
      assert.deepEqual(
        store.appliedMigrations().map((m) => m.version),
        [1, 2],
      );
    } finally {
      store.close();
    }
  });

  it('rolls back a migration that leaves foreign keys broken', () => {
    const f = fixture({
      '0001_add_a.sql': one,
      '0002_add_b.sql': two,
      '0003_orphan.sql': 'INSERT INTO b (id, a_id) VALUES (1, 42);',
    });
    assert.throws(() => open(f), refusal('store.migration', '0003_orphan.sql', 'foreign keys'));
    const db = new Database(f.file, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM b').pluck().get(), 0);
      assert.equal(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get(), 2);
    } finally {
      db.close();
    }
  });

  it('lets a migration rebuild a table that others reference', () => {
    const f = fixture({
      '0001_add_a.sql': one,
      '0002_add_b.sql': `${two}\nINSERT INTO a VALUES (7);\nINSERT INTO b VALUES (1, 7);`,
      '0003_rebuild_a.sql':
        'CREATE TABLE a_new (id INTEGER PRIMARY KEY, label TEXT);\n' +
        'INSERT INTO a_new (id) SELECT id FROM a;\nDROP TABLE a;\nALTER TABLE a_new RENAME TO a;',
    });
    const store = open(f);
    try {
      assert.equal(store.db.prepare('SELECT a_id FROM b').pluck().get(), 7);
      assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    } finally {
      store.close();
    }
  });

  it('refuses duplicate numbers, bad names and out-of-order additions', () => {
    assert.throws(
      () => open(fixture({ '0001_add_a.sql': one, '0001_add_b.sql': two })),
      refusal('store.migration', '0001_add_a.sql', '0001_add_b.sql'),
    );
    for (const bad of ['1_short.sql', '0002-dashes.sql', '0002_Upper.sql', '0000_zero.sql', 'add_b.sql']) {
      assert.throws(
        () => open(fixture({ '0001_add_a.sql': one, [bad]: two })),
        refusal('store.migration', bad),
      );
    }
    const f = fixture({ '0001_add_a.sql': one, '0003_add_c.sql': 'CREATE TABLE c (id INTEGER);' });
    open(f).close();
    writeFileSync(join(f.dir, '0002_add_b.sql'), two);
    assert.throws(() => open(f), refusal('store.migration', '0002_add_b.sql', 'out of order'));
  });

  it('refuses a missing migrations directory', () => {
    const f = fixture({});
    rmSync(f.dir, { recursive: true });
    assert.throws(() => open(f), refusal('store.migration', f.dir));
  });

  it('reads files with their checksums', () => {
    const f = fixture({ '0001_add_a.sql': one });
    const [file] = readMigrationFiles(f.dir);
    assert.equal(file?.version, 1);
    assert.equal(file?.sql, one);
    assert.match(file?.checksum ?? '', /^[0-9a-f]{64}$/);
  });
});
