/** SQL for the sessions table. Only the identity module reads or writes it. */
import type { Role } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { statementCache } from './deps.ts';

export interface SessionRecord {
  readonly idHash: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAtMs: number;
  readonly lastSeenAtMs: number;
  readonly expiresAtMs: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** A session with its owner's current name, role and state, read in one query. */
export interface SessionWithUser {
  readonly userId: string;
  readonly csrfToken: string;
  readonly lastSeenAtMs: number;
  readonly expiresAtMs: number;
  readonly username: string;
  readonly role: Role;
  readonly disabledAtMs: number | null;
}

type InsertParams = [string, string, string, number, number, number, string | null, string | null];

const statements = statementCache((db) => ({
  insert: db.prepare<InsertParams>(
    'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  byHash: db.prepare<[string], SessionWithUser>(
    'SELECT s.user_id AS userId, s.csrf_token AS csrfToken, s.last_seen_at AS lastSeenAtMs, ' +
      's.expires_at AS expiresAtMs, u.username, u.role, u.disabled_at AS disabledAtMs ' +
      'FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?',
  ),
  touch: db.prepare<[number, string]>('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
  removeOne: db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?'),
  removeOfUser: db.prepare<[string]>('DELETE FROM sessions WHERE user_id = ?'),
  prune: db.prepare<[number, number]>('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?'),
  trim: db.prepare<[string, string, number]>(
    'DELETE FROM sessions WHERE user_id = ? AND id_hash NOT IN (SELECT id_hash FROM sessions WHERE user_id = ? ' +
      'ORDER BY last_seen_at DESC, created_at DESC LIMIT ?)',
  ),
}));

export function insertSession(db: Db, s: SessionRecord): void {
  statements(db).insert.run(
    s.idHash,
    s.userId,
    s.csrfToken,
    s.createdAtMs,
    s.lastSeenAtMs,
    s.expiresAtMs,
    s.ip,
    s.userAgent,
  );
}

export function findSession(db: Db, idHash: string): SessionWithUser | undefined {
  return statements(db).byHash.get(idHash);
}

export function touchSession(db: Db, idHash: string, lastSeenAtMs: number): void {
  statements(db).touch.run(lastSeenAtMs, idHash);
}

export function removeSession(db: Db, idHash: string): boolean {
  return statements(db).removeOne.run(idHash).changes > 0;
}

export function removeSessionsOfUser(db: Db, userId: string): number {
  return statements(db).removeOfUser.run(userId).changes;
}

/** Deletes sessions past their absolute expiry or last seen at or before `idleCutoffMs`. */
export function pruneSessions(db: Db, nowMs: number, idleCutoffMs: number): number {
  return statements(db).prune.run(nowMs, idleCutoffMs).changes;
}

/** Keeps only the user's `keep` most recently seen sessions. */
export function trimSessionsOfUser(db: Db, userId: string, keep: number): number {
  return statements(db).trim.run(userId, userId, keep).changes;
}
