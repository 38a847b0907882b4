/**
 * Regenerates migrations/schema.snapshot.sql from the migrations, after adding one:
 *   node --import tsx server/store/write-schema-snapshot.ts
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { silentLogger } from '../core/index.ts';
import { runMigrations } from './migrations.ts';
import { dumpSchema, schemaSnapshotPath } from './schema-snapshot.ts';

const db = new Database(':memory:');
try {
  runMigrations(db, { log: silentLogger });
  const path = schemaSnapshotPath();
  writeFileSync(path, dumpSchema(db));
  process.stdout.write(`wrote ${path}\n`);
} finally {
  db.close();
}
