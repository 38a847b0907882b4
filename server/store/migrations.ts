/**
 * The migration runner. Migrations are plain SQL files named `NNNN_what_it_does.sql`, applied in numeric
 * order, each in its own transaction together with its `schema_migrations` record, so a database is always
 * at exactly one known version. Landed migrations are append-only: an edited, renamed or missing file that
 * the database has already applied stops the server instead of leaving schemas to drift apart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { VigoError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';

export type Db = BetterSqlite3.Database;

export interface MigrationFile {
  readonly version: number;
  /** The file name, e.g. `0001_initial_schema.sql`; recorded as the migration's name. */
  readonly name: string;
  readonly path: string;
  readonly sql: string;
  /** SHA-256 hex of the file's bytes. */
  readonly checksum: string;
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly appliedAt: number;
}

interface RecordedMigration {
  version: number;
  name: string;
  checksum: string;
  applied_at: number;
}

/** The repository's `migrations/` folder, found from this file so it works from any working directory. */
export const defaultMigrationsDir = resolve(import.meta.dirname, '../../migrations');

/** Lives beside the migrations but is generated output, not a migration. */
export const schemaSnapshotFileName = 'schema.snapshot.sql';

const migrationFilePattern = /^(\d{4,})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function listSqlFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.sql') && name !== schemaSnapshotFileName);
  } catch (err) {
    throw new VigoError(
      'store.migration',
      `cannot read the migrations directory ${dir}: ${errorText(err)}. It ships with vigosrv; check the installation.`,
      { dir },
      { cause: err },
    );
  }
}

function parseMigrationName(dir: string, name: string): number {
  const match = migrationFilePattern.exec(name);
  if (!match?.[1]) {
    throw new VigoError(
      'store.migration',
      `${join(dir, name)} is not a valid migration file name: use NNNN_what_it_does.sql ` +
        '(a number of at least four digits, then lower-case words joined by underscores)',
      { file: name },
    );
  }
  const version = Number(match[1]);
  if (version < 1) {
    throw new VigoError('store.migration', `${join(dir, name)}: migration numbers start at 0001`, {
      file: name,
    });
  }
  return version;
}

/** Reads every migration in `dir`, sorted by number; refuses bad names and duplicate numbers. */
export function readMigrationFiles(dir: string): MigrationFile[] {
  const byVersion = new Map<number, MigrationFile>();
  for (const name of listSqlFiles(dir)) {
    const version = parseMigrationName(dir, name);
    const clash = byVersion.get(version);
    if (clash) {
      throw new VigoError(
        'store.migration',
        `migrations ${clash.name} and ${name} in ${dir} share the number ${version}: ` +
          'renumber the one that has not landed yet to the next free number',
        { file: name, other: clash.name, version },
      );
    }
    const path = join(dir, name);
    const bytes = readFileSync(path);
    byVersion.set(version, { version, name, path, sql: bytes.toString('utf8'), checksum: sha256Hex(bytes) });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

function readRecorded(db: Db): Map<number, RecordedMigration> {
  const rows = db
    .prepare<[], RecordedMigration>(
      'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
    )
    .all();
  return new Map(rows.map((row) => [row.version, row]));
}

function checkLanded(
  recorded: RecordedMigration,
  file: MigrationFile | undefined,
  dir: string,
  dbName: string,
): void {
  if (!file) {
    throw new VigoError(
      'store.migration',
      `migration ${recorded.name} is recorded as applied in ${dbName} but ${join(dir, recorded.name)} is missing. ` +
        'Landed migrations must never be deleted: restore the file from version control, or, if this database was ' +
        'upgraded by a newer vigosrv, run that version.',
      { file: recorded.name, version: recorded.version },
    );
  }
  if (file.name !== recorded.name) {
    throw new VigoError(
      'store.migration',
      `migration ${recorded.version} was applied to ${dbName} as ${recorded.name} but is now ${file.path}. ` +
        'Landed migrations must never be renamed: restore the original name.',
      { file: file.name, recordedName: recorded.name, version: recorded.version },
    );
  }
  if (file.checksum !== recorded.checksum) {
    throw new VigoError(
      'store.migration',
      `migration ${file.path} has changed since it was applied to ${dbName} ` +
        `(sha256 then ${recorded.checksum}, now ${file.checksum}). Landed migrations are append-only: ` +
        'revert the edit and put the change in a new, higher-numbered migration.',
      {
        file: file.name,
        version: file.version,
        recordedChecksum: recorded.checksum,
        checksum: file.checksum,
      },
    );
  }
}

function pendingMigrations(db: Db, files: readonly MigrationFile[], dir: string): MigrationFile[] {
  const recorded = readRecorded(db);
  const byVersion = new Map(files.map((file) => [file.version, file]));
  let newestApplied = 0;
  for (const row of recorded.values()) {
    checkLanded(row, byVersion.get(row.version), dir, db.name);
    newestApplied = Math.max(newestApplied, row.version);
  }
  const pending = files.filter((file) => !recorded.has(file.version));
  const late = pending.find((file) => file.version < newestApplied);
  if (late) {
    throw new VigoError(
      'store.migration',
      `migration ${late.path} is numbered below ${newestApplied}, which ${db.name} has already applied, so it would ` +
        'run out of order: renumber it above the newest landed migration',
      { file: late.name, version: late.version, newestApplied },
    );
  }
  return pending;
}

function failedMigration(file: MigrationFile, dbName: string, err: unknown): VigoError {
  const sqliteCode = (err as { code?: unknown }).code;
  if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_BUSY')) {
    return new VigoError(
      'store.locked',
      `${dbName} stayed locked by another process while applying migration ${file.name}; nothing of it was ` +
        'applied. Stop the other process (or raise database.busy_timeout) and start again.',
      { file: file.name, version: file.version },
      { cause: err },
    );
  }
  return new VigoError(
    'store.migration',
    `migration ${file.path} failed on ${dbName} and was rolled back, nothing of it applied: ${errorText(err)}. ` +
      'Fix that file (it has not landed anywhere it failed) and start again.',
    { file: file.name, version: file.version, sqliteCode },
    { cause: err },
  );
}

/**
 * Applies one migration with its record in a single write transaction and returns when it was applied, or
 * undefined when another process applied it first (checked inside the transaction, so two servers starting
 * together never both run it).
 */
function applyMigration(db: Db, file: MigrationFile, nowMs: () => number): number | undefined {
  const apply = db.transaction((): number | undefined => {
    const existing = db
      .prepare<[number], { checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = ?')
      .get(file.version);
    if (existing) {
      if (existing.checksum !== file.checksum)
        throw new Error(`another process applied a different ${file.name}`);
      return undefined;
    }
    db.exec(file.sql);
    // Foreign keys are off while migrating (so tables can be rebuilt); this restores the guarantee.
    const violations = db.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) {
      throw new Error(`it leaves rows that break foreign keys: ${JSON.stringify(violations.slice(0, 5))}`);
    }
    const appliedAt = nowMs();
    db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(
      file.version,
      file.name,
      file.checksum,
      appliedAt,
    );
    return appliedAt;
  });
  try {
    return apply.immediate();
  } catch (err) {
    throw failedMigration(file, db.name, err);
  }
}

export interface RunMigrationsOptions {
  readonly migrationsDir?: string;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

/**
 * Brings `db` up to the newest migration in the directory and returns what it applied now (empty when the
 * database was current). Throws VigoError `store.migration` naming the file on any refusal or failure.
 */
export function runMigrations(db: Db, options: RunMigrationsOptions): AppliedMigration[] {
  const dir = options.migrationsDir ?? defaultMigrationsDir;
  const nowMs = options.nowMs ?? Date.now;
  const files = readMigrationFiles(dir);
  db.exec(createMigrationsTable);
  const pending = pendingMigrations(db, files, dir);
  if (pending.length === 0) return [];

  // SQLite ignores this pragma inside a transaction, so it is switched around the whole run, as its docs
  // prescribe for schema changes that rebuild tables.
  const foreignKeysWereOn = db.pragma('foreign_keys', { simple: true }) === 1;
  db.pragma('foreign_keys = OFF');
  const applied: AppliedMigration[] = [];
  try {
    for (const file of pending) {
      const startedMs = performance.now();
      const appliedAt = applyMigration(db, file, nowMs);
      if (appliedAt === undefined) continue;
      applied.push({ version: file.version, name: file.name, appliedAt });
      options.log.info('migration applied', {
        migration: file.name,
        durationMs: Math.round(performance.now() - startedMs),
      });
    }
  } finally {
    if (foreignKeysWereOn) db.pragma('foreign_keys = ON');
  }
  return applied;
}

export function listAppliedMigrations(db: Db): AppliedMigration[] {
  return [...readRecorded(db).values()].map((row) => ({
    version: row.version,
    name: row.name,
    appliedAt: row.applied_at,
  }));
}
