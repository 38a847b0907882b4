/**
 * Database maintenance an administrator asks for (`vigocli db …`), run on the pruner's thread and
 * connection so a full scan or a long check never stalls the serving thread.
 */
import type Database from 'better-sqlite3';
import { statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

export const maintenanceOps = ['stats', 'integrity', 'analyze', 'checkpoint', 'vacuum'] as const;
export type MaintenanceOp = (typeof maintenanceOps)[number];

export interface TableStats {
  readonly name: string;
  readonly rows: number;
  /** Pages of the table and its indexes, in bytes. */
  readonly bytes: number;
}

export interface DatabaseStats {
  readonly file: string;
  readonly fileBytes: number;
  readonly walBytes: number;
  readonly pageSize: number;
  readonly pages: number;
  /** Pages free for reuse (deleted rows leave them; they are reused before the file grows). */
  readonly freePages: number;
  readonly tables: readonly TableStats[];
}

export interface IntegrityReport {
  readonly ok: boolean;
  /** What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` found, at most `maxProblems`. */
  readonly problems: readonly string[];
}

export interface CheckpointReport {
  /** Whether a reader or writer kept the checkpoint from copying the whole WAL. */
  readonly busy: boolean;
  readonly walFrames: number;
  readonly checkpointedFrames: number;
}

export interface VacuumReport {
  /** False when it was refused: the file system had less free space than the database's size. */
  readonly ran: boolean;
  /** The database file and its write-ahead log, before and after (after a TRUNCATE checkpoint). */
  readonly beforeBytes: number;
  readonly afterBytes: number;
  /** Free space on the data dir's file system before it ran (for an unprivileged process). */
  readonly freeBytes: number;
  readonly ms: number;
}

export type MaintenanceResult =
  | { op: 'stats'; stats: DatabaseStats }
  | { op: 'integrity'; integrity: IntegrityReport }
  | { op: 'analyze'; ms: number }
  | { op: 'checkpoint'; checkpoint: CheckpointReport }
  | { op: 'vacuum'; vacuum: VacuumReport };

/** Free bytes an unprivileged process may use on the file system holding `dir`. */
export function freeBytesAt(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}

const maxProblems = 100;

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function databaseStats(db: Database.Database): DatabaseStats {
  const names = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const bytesByTable = new Map<string, number>();
  const pageRows = db
    .prepare(
      `SELECT coalesce(i.tbl_name, d.name) AS tbl, sum(d.pgsize) AS bytes
       FROM dbstat d LEFT JOIN sqlite_schema i ON i.name = d.name AND i.type = 'index'
       GROUP BY tbl`,
    )
    .all() as { tbl: string; bytes: number }[];
  for (const row of pageRows) bytesByTable.set(row.tbl, row.bytes);
  const tables = names.map((name) => ({
    name,
    // Names come from sqlite_schema itself; quoted all the same.
    rows: db
      .prepare(`SELECT count(*) FROM "${name.replaceAll('"', '""')}"`)
      .pluck()
      .get() as number,
    bytes: bytesByTable.get(name) ?? 0,
  }));
  return {
    file: db.name,
    fileBytes: fileBytes(db.name),
    walBytes: fileBytes(`${db.name}-wal`),
    pageSize: db.pragma('page_size', { simple: true }) as number,
    pages: db.pragma('page_count', { simple: true }) as number,
    freePages: db.pragma('freelist_count', { simple: true }) as number,
    tables,
  };
}

export function integrityCheck(db: Database.Database): IntegrityReport {
  const integrity = db.prepare(`PRAGMA integrity_check(${maxProblems})`).pluck().all() as string[];
  const problems = integrity.filter((line) => line !== 'ok');
  const foreign = db.prepare('PRAGMA foreign_key_check').iterate() as IterableIterator<{
    table: string;
    rowid: number | null;
    parent: string;
  }>;
  for (const row of foreign) {
    if (problems.length >= maxProblems) break;
    problems.push(`${row.table} row ${String(row.rowid)} refers to a missing ${row.parent} row`);
  }
  return { ok: problems.length === 0, problems };
}

function truncateCheckpoint(db: Database.Database): CheckpointReport {
  const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as {
    busy: number;
    log: number;
    checkpointed: number;
  }[];
  return {
    busy: (row?.busy ?? 1) !== 0,
    walFrames: row?.log ?? 0,
    checkpointedFrames: row?.checkpointed ?? 0,
  };
}

/**
 * VACUUM rewrites the whole database through a temporary copy and the write-ahead log, so it needs free
 * space of about the database's size; without it, it is refused before it starts rather than failing
 * half-way with the disk full. Writers wait for it (it holds the write lock while it runs).
 */
export function vacuum(
  db: Database.Database,
  freeBytes: (dir: string) => number = freeBytesAt,
): VacuumReport {
  const beforeBytes = fileBytes(db.name) + fileBytes(`${db.name}-wal`);
  const free = freeBytes(dirname(db.name));
  if (free < beforeBytes) return { ran: false, beforeBytes, afterBytes: beforeBytes, freeBytes: free, ms: 0 };
  const started = performance.now();
  db.exec('VACUUM');
  truncateCheckpoint(db);
  return {
    ran: true,
    beforeBytes,
    afterBytes: fileBytes(db.name) + fileBytes(`${db.name}-wal`),
    freeBytes: free,
    ms: performance.now() - started,
  };
}

export function runMaintenance(db: Database.Database, op: MaintenanceOp): MaintenanceResult {
  switch (op) {
    case 'stats':
      return { op, stats: databaseStats(db) };
    case 'integrity':
      return { op, integrity: integrityCheck(db) };
    case 'analyze': {
      const started = performance.now();
      db.exec('ANALYZE');
      return { op, ms: performance.now() - started };
    }
    case 'checkpoint':
      return { op, checkpoint: truncateCheckpoint(db) };
    case 'vacuum':
      return { op, vacuum: vacuum(db) };
  }
}
