/** SQL for the api_tokens table. Only the identity module reads or writes it. */
import type { Role } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { statementCache } from './deps.ts';

export interface ApiTokenRecord {
  readonly id: string;
  readonly userId: string;
  /** The owner's username now (tokens follow their user). */
  readonly username: string;
  readonly name: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** What authentication needs about a token and its owner, read in one indexed query. */
export interface TokenWithUser {
  readonly id: string;
  readonly userId: string;
  readonly expiresAtMs: number | null;
  readonly revokedAtMs: number | null;
  readonly lastUsedAtMs: number | null;
  readonly username: string;
  readonly role: Role;
  readonly disabledAtMs: number | null;
}

const recordColumns =
  't.id, t.user_id AS userId, u.username, t.name, t.created_at AS createdAtMs, t.expires_at AS expiresAtMs, ' +
  't.last_used_at AS lastUsedAtMs, t.revoked_at AS revokedAtMs';
const fromJoin = 'FROM api_tokens t JOIN users u ON u.id = t.user_id';
const newestFirst = 'ORDER BY t.created_at DESC, t.id DESC LIMIT ?';

const statements = statementCache((db) => ({
  insert: db.prepare<[string, string, string, string, number, number | null]>(
    'INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  ),
  byHash: db.prepare<[string], TokenWithUser>(
    'SELECT t.id, t.user_id AS userId, t.expires_at AS expiresAtMs, t.revoked_at AS revokedAtMs, ' +
      't.last_used_at AS lastUsedAtMs, u.username, u.role, u.disabled_at AS disabledAtMs ' +
      `${fromJoin} WHERE t.token_hash = ?`,
  ),
  byId: db.prepare<[string], ApiTokenRecord>(`SELECT ${recordColumns} ${fromJoin} WHERE t.id = ?`),
  list: db.prepare<[number], ApiTokenRecord>(`SELECT ${recordColumns} ${fromJoin} ${newestFirst}`),
  listOfUser: db.prepare<[string, number], ApiTokenRecord>(
    `SELECT ${recordColumns} ${fromJoin} WHERE t.user_id = ? ${newestFirst}`,
  ),
  countLive: db
    .prepare<[string, number], number>(
      'SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ' +
        'AND (expires_at IS NULL OR expires_at > ?)',
    )
    .pluck(),
  revoke: db.prepare<[number, string]>(
    'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  ),
  touch: db.prepare<[number, string]>('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
}));

export interface NewApiToken {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly tokenHash: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
}

export function insertApiToken(db: Db, t: NewApiToken): void {
  statements(db).insert.run(t.id, t.userId, t.name, t.tokenHash, t.createdAtMs, t.expiresAtMs);
}

export function findTokenByHash(db: Db, tokenHash: string): TokenWithUser | undefined {
  return statements(db).byHash.get(tokenHash);
}

export function findTokenById(db: Db, id: string): ApiTokenRecord | undefined {
  return statements(db).byId.get(id);
}

/** Newest first; all users' tokens unless `userId` is given. */
export function listTokenRecords(db: Db, userId: string | undefined, limit: number): ApiTokenRecord[] {
  const s = statements(db);
  return userId === undefined ? s.list.all(limit) : s.listOfUser.all(userId, limit);
}

/** Tokens of the user that are neither revoked nor expired. */
export function countLiveTokens(db: Db, userId: string, nowMs: number): number {
  return statements(db).countLive.get(userId, nowMs) ?? 0;
}

export function markTokenRevoked(db: Db, id: string, nowMs: number): boolean {
  return statements(db).revoke.run(nowMs, id).changes > 0;
}

export function touchToken(db: Db, id: string, nowMs: number): void {
  statements(db).touch.run(nowMs, id);
}
