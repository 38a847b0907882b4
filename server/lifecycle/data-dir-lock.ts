/**
 * One vigosrv per data directory. The lock is an exclusive SQLite lock on `vigosrv.lock`: the kernel
 * releases it when the process dies, even on kill -9, so a crash never leaves a stale lock behind,
 * and a second server fails to take it without writing anything.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `data directory is in use by another vigosrv${holderPid ? ` (pid ${holderPid})` : ''}: ${lockFile} is locked. ` +
        'Stop that server or start this one with a different --data-dir.',
    );
    this.name = 'DataDirLockedError';
  }
}

function readHolderPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** Takes the lock or throws DataDirLockedError. The data directory must already exist. */
export function acquireDataDirLock(lockFile: string): DataDirLock {
  const pidFile = join(lockFile, '..', 'vigosrv.pid');
  const db = new Database(lockFile, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new DataDirLockedError(lockFile, readHolderPid(pidFile));
    throw err;
  }
  chmodSync(lockFile, 0o600);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  let released = false;
  return {
    file: lockFile,
    release() {
      if (released) return;
      released = true;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
