/**
 * Opens vigosrv's SQLite database: private file modes, WAL with synchronous=NORMAL (durable across process
 * crashes, at most the last commits lost on power loss, and far faster), foreign keys on, then migrations.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VigoError, ensurePrivateDir, isVigoError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { listAppliedMigrations, runMigrations } from './migrations.ts';
import type { AppliedMigration, Db } from './migrations.ts';

export interface StoreOptions {
  /** Path of the database file; its directory is created 0700. */
  readonly file: string;
  readonly log: Logger;
  /** How long a statement waits for another process's lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs: number;
  readonly migrationsDir?: string;
}

export interface Store {
  readonly db: Db;
  /**
   * Runs `fn` in an immediate (write-locking) transaction: committed when it returns, rolled back when it
   * throws. Nested calls become savepoints. `fn` must be synchronous.
   */
  tx<T>(fn: (db: Db) => T): T;
  /** Folds the WAL back into the database file and truncates it (for shutdown and backups). */
  checkpoint(): void;
  /** Closes the connection; calling it again does nothing. */
  close(): void;
  appliedMigrations(): AppliedMigration[];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function openFailure(file: string, err: unknown): VigoError {
  return new VigoError(
    'store.open',
    `cannot open the database ${file}: ${errorText(err)}. Check that the path is a writable file on a local ` +
      'filesystem, owned by the user vigosrv runs as.',
    { file },
    { cause: err },
  );
}

function checkOptions(options: StoreOptions): void {
  if (options.file === '' || options.file === ':memory:' || options.file.startsWith('file:')) {
    throw new VigoError(
      'store.open',
      `the database path "${options.file}" is not a file path: give the path of the database file`,
      { file: options.file },
    );
  }
  if (!Number.isSafeInteger(options.busyTimeoutMs) || options.busyTimeoutMs < 0) {
    throw new VigoError(
      'store.open',
      `busy timeout ${options.busyTimeoutMs} for ${options.file} must be a whole number of milliseconds, 0 or more`,
      { file: options.file },
    );
  }
}

/** SQLite creates the -wal and -shm files with the database file's mode; this also tightens an existing file. */
function restrictModes(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}

function createPrivateFile(file: string): void {
  ensurePrivateDir(dirname(file));
  closeSync(openSync(file, 'a', 0o600));
  restrictModes(file);
}

function applyPragmas(db: Db, file: string, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') {
    throw new VigoError(
      'store.open',
      `cannot switch ${file} to WAL journal mode (SQLite kept "${String(mode)}"). WAL needs a local filesystem ` +
        'with shared memory support: move the database off network or read-only storage.',
      { file },
    );
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
}

function makeStore(db: Db, log: Logger): Store {
  const inTransaction = db.transaction((fn: (db: Db) => unknown) => fn(db));
  return {
    db,
    tx: <T>(fn: (db: Db) => T): T => inTransaction.immediate(fn) as T,
    checkpoint: () => {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as {
        busy: number;
        log: number;
        checkpointed: number;
      }[];
      // Busy means a reader still needs old pages; the next checkpoint finishes the job, so it is only worth a note.
      if (result && result.busy !== 0)
        log.warn('WAL checkpoint could not complete: a reader is active', { ...result });
    },
    close: () => {
      if (!db.open) return;
      db.close();
      log.info('store closed', { file: db.name });
    },
    appliedMigrations: () => listAppliedMigrations(db),
  };
}

export function openStore(options: StoreOptions): Store {
  checkOptions(options);
  const { file, log } = options;
  let db: Db;
  try {
    createPrivateFile(file);
    db = new Database(file, { timeout: options.busyTimeoutMs });
  } catch (err) {
    throw openFailure(file, err);
  }
  try {
    applyPragmas(db, file, options.busyTimeoutMs);
    const applied = runMigrations(db, { migrationsDir: options.migrationsDir, log });
    restrictModes(file);
    log.info('store opened', { file, migrationsApplied: applied.map((m) => m.name) });
    return makeStore(db, log);
  } catch (err) {
    db.close();
    throw isVigoError(err) ? err : openFailure(file, err);
  }
}
