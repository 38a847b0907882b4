/**
 * The schema as SQLite records it, in a stable text form. The committed `migrations/schema.snapshot.sql`
 * makes every schema change visible in review as a diff, and a test proves the migrations produce it.
 */
import { join } from 'node:path';
import { defaultMigrationsDir, schemaSnapshotFileName } from './migrations.ts';
import type { Db } from './migrations.ts';

interface SchemaObject {
  type: string;
  name: string;
  sql: string;
}

export const schemaSnapshotHeader =
  '-- The schema after every migration, as recorded in sqlite_master. Generated, do not edit:\n' +
  '-- node --import tsx server/store/write-schema-snapshot.ts\n';

export function schemaSnapshotPath(migrationsDir: string = defaultMigrationsDir): string {
  return join(migrationsDir, schemaSnapshotFileName);
}

function normalizeSql(sql: string): string {
  const lines = sql.split(/\r?\n/).map((line) => line.trimEnd());
  return `${lines.join('\n').trim()};`;
}

/**
 * Each table, then its indexes and triggers, sorted by name; SQLite's own objects (sqlite_*, automatic
 * indexes) are left out because they follow from the rest.
 */
export function dumpSchema(db: Db): string {
  const objects = db
    .prepare<[], SchemaObject>(
      `SELECT type, name, sql FROM sqlite_master
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
       ORDER BY tbl_name, CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'trigger' THEN 2 ELSE 3 END, name`,
    )
    .all();
  const blocks = objects.map((object) => `-- ${object.type} ${object.name}\n${normalizeSql(object.sql)}\n`);
  return [schemaSnapshotHeader, ...blocks].join('\n');
}
