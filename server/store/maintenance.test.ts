import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { vacuum } from './maintenance.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-vacuum-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function databaseWithFreePages(name: string): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (randomblob(4000))');
  db.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run();
  })();
  db.exec('DELETE FROM t WHERE id > 50');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return db;
}

describe('vacuum', () => {
  it('gives free pages back and reports the sizes before and after', () => {
    const db = databaseWithFreePages('shrinks.db');
    try {
      const report = vacuum(db);
      assert.equal(report.ran, true);
      assert.ok(report.afterBytes < report.beforeBytes / 2, JSON.stringify(report));
      assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 50);
    } finally {
      db.close();
    }
  });

  it('is refused, touching nothing, when the file system has less free space than the database', () => {
    const db = databaseWithFreePages('refused.db');
    try {
      const before = readFileSync(db.name);
      const size = statSync(db.name).size;
      const report = vacuum(db, () => size - 1);
      assert.equal(report.ran, false);
      assert.equal(report.freeBytes, size - 1);
      assert.equal(report.beforeBytes, size);
      assert.deepEqual(readFileSync(db.name), before, 'the file is untouched');
    } finally {
      db.close();
    }
  });
});
