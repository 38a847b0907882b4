/**
 * config_versions and config_snapshots: the publish history. Snapshots are content-addressed, so a
 * rollback or an identical re-publish stores nothing new; exactly one version is active at a time (a
 * partial unique index enforces it).
 */
import type { Db } from '../store/index.ts';
import type { UploadForm } from './stack-source.ts';

export type VersionStatus = 'pending' | 'active' | 'superseded' | 'rejected' | 'rolled_back';

export interface VersionRow {
  version: number;
  snapshotHash: string;
  createdAtMs: number;
  createdBy: string;
  status: VersionStatus;
  message: string | null;
  approvedBy: string | null;
  approvedAtMs: number | null;
  source: string | null;
}

interface RawVersion {
  version: number;
  snapshot_hash: string;
  created_at: number;
  created_by: string;
  status: VersionStatus;
  message: string | null;
  approved_by: string | null;
  approved_at: number | null;
  source: string | null;
}

const columns =
  'version, snapshot_hash, created_at, created_by, status, message, approved_by, approved_at, source';

function toRow(raw: RawVersion): VersionRow {
  return {
    version: raw.version,
    snapshotHash: raw.snapshot_hash,
    createdAtMs: raw.created_at,
    createdBy: raw.created_by,
    status: raw.status,
    message: raw.message,
    approvedBy: raw.approved_by,
    approvedAtMs: raw.approved_at,
    source: raw.source,
  };
}

export function getVersion(db: Db, version: number): VersionRow | undefined {
  const raw = db.prepare(`SELECT ${columns} FROM config_versions WHERE version = ?`).get(version) as
    RawVersion | undefined;
  return raw === undefined ? undefined : toRow(raw);
}

export function activeVersion(db: Db): VersionRow | undefined {
  const raw = db.prepare(`SELECT ${columns} FROM config_versions WHERE status = 'active'`).get() as
    RawVersion | undefined;
  return raw === undefined ? undefined : toRow(raw);
}

export function pendingVersion(db: Db): VersionRow | undefined {
  const raw = db
    .prepare(`SELECT ${columns} FROM config_versions WHERE status = 'pending' ORDER BY version LIMIT 1`)
    .get() as RawVersion | undefined;
  return raw === undefined ? undefined : toRow(raw);
}

/** Newest first; `beforeVersion` pages backwards. */
export function listVersions(db: Db, limit: number, beforeVersion?: number): VersionRow[] {
  const rows = db
    .prepare(`SELECT ${columns} FROM config_versions WHERE version < ? ORDER BY version DESC LIMIT ?`)
    .all(beforeVersion ?? Number.MAX_SAFE_INTEGER, limit) as RawVersion[];
  return rows.map(toRow);
}

export function nextVersion(db: Db): number {
  return ((db.prepare('SELECT max(version) FROM config_versions').pluck().get() as number | null) ?? 0) + 1;
}

export function storeSnapshot(db: Db, hash: string, body: string | Buffer, nowMs: number): void {
  db.prepare('INSERT OR IGNORE INTO config_snapshots (hash, body, created_at) VALUES (?, ?, ?)').run(
    hash,
    typeof body === 'string' ? Buffer.from(body) : body,
    nowMs,
  );
}

export function snapshotBody(db: Db, hash: string): string | undefined {
  const body = db.prepare('SELECT body FROM config_snapshots WHERE hash = ?').pluck().get(hash) as
    Buffer | undefined;
  return body?.toString('utf8');
}

/**
 * Keeps the upload a version was published from, and drops the uploads of versions that are neither
 * active nor pending (call it once the statuses of this publish are written).
 */
export function storeSource(db: Db, hash: string, form: UploadForm, body: Uint8Array, nowMs: number): void {
  db.prepare(
    'INSERT OR REPLACE INTO config_sources (snapshot_hash, form, body, created_at) VALUES (?, ?, ?, ?)',
  ).run(hash, form, Buffer.from(body.buffer, body.byteOffset, body.byteLength), nowMs);
  db.prepare(
    `DELETE FROM config_sources WHERE snapshot_hash NOT IN
       (SELECT snapshot_hash FROM config_versions WHERE status IN ('active', 'pending'))`,
  ).run();
}

/** The upload the active version was published from, when it came from one that is kept. */
export function activeSource(db: Db): { version: number; form: UploadForm; body: Buffer } | undefined {
  const row = db
    .prepare(
      `SELECT v.version AS version, s.form AS form, s.body AS body FROM config_versions v
         JOIN config_sources s ON s.snapshot_hash = v.snapshot_hash WHERE v.status = 'active'`,
    )
    .get() as { version: number; form: UploadForm; body: Buffer } | undefined;
  return row;
}

export function insertVersion(
  db: Db,
  row: Omit<VersionRow, 'approvedBy' | 'approvedAtMs'> & { approvedBy?: string; approvedAtMs?: number },
): void {
  db.prepare(`INSERT INTO config_versions (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    row.version,
    row.snapshotHash,
    row.createdAtMs,
    row.createdBy,
    row.status,
    row.message,
    row.approvedBy ?? null,
    row.approvedAtMs ?? null,
    row.source,
  );
}

export function setStatus(db: Db, version: number, status: VersionStatus): void {
  db.prepare('UPDATE config_versions SET status = ? WHERE version = ?').run(status, version);
}

export function markApproved(db: Db, version: number, approvedBy: string, nowMs: number): void {
  db.prepare('UPDATE config_versions SET approved_by = ?, approved_at = ? WHERE version = ?').run(
    approvedBy,
    nowMs,
    version,
  );
}

const freezeKey = 'publish.frozen_until';
const freezeReasonKey = 'publish.freeze_reason';

export interface FreezeState {
  untilMs: number;
  reason: string;
}

export function readFreeze(db: Db): FreezeState | undefined {
  const until = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(freezeKey) as
    string | undefined;
  if (until === undefined) return undefined;
  const reason =
    (db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(freezeReasonKey) as string | undefined) ??
    '';
  return { untilMs: Number(until), reason };
}

export function writeFreeze(db: Db, state: FreezeState | undefined): void {
  if (state === undefined) {
    db.prepare('DELETE FROM meta WHERE key IN (?, ?)').run(freezeKey, freezeReasonKey);
    return;
  }
  const upsert = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  upsert.run(freezeKey, String(state.untilMs));
  upsert.run(freezeReasonKey, state.reason);
}

const autoRollbackKey = 'publish.auto_rollback';

/** What the blast-radius check saw when it rolled a version back (figures over the envoys that reported on it). */
export interface AutoRollbackFigures {
  /** Envoys that reported a run on the version within the window. */
  reporting: number;
  /** Of those, converged at their last run. */
  converged: number;
  /** converged / reporting, in percent (two decimals). */
  convergedPct: number;
  minConvergencePct: number;
  minEnvoys: number;
  windowMs: number;
}

/** The last automatic rollback, kept until the next one replaces it. */
export interface AutoRollbackRecord extends AutoRollbackFigures {
  /** The version that was rolled back. */
  rolledBack: number;
  /** The version whose snapshot was restored. */
  restored: number;
  /** The version the rollback created (active from then on). */
  version: number;
  atMs: number;
  reason: string;
}

export function readAutoRollback(db: Db): AutoRollbackRecord | undefined {
  const text = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(autoRollbackKey) as
    string | undefined;
  return text === undefined ? undefined : (JSON.parse(text) as AutoRollbackRecord);
}

export function writeAutoRollback(db: Db, record: AutoRollbackRecord): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(autoRollbackKey, JSON.stringify(record));
}
