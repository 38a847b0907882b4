/** SQL for the enrollment_tokens table. Only the enroll module reads or writes it. */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../store/index.ts';

export type EnrollTokenStatus = 'active' | 'expired' | 'used_up' | 'revoked';

export interface EnrollTokenRecord {
  readonly id: string;
  /** bcrypt hash of the secret half; never leaves this module. */
  readonly secretHash: string;
  readonly hostnameGlobs: readonly string[];
  readonly usesAllowed: number;
  readonly usesCount: number;
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
  readonly createdBy: string;
  readonly revokedAtMs: number | null;
  readonly description: string | null;
}

interface TokenRow {
  id: string;
  secret_hash: string;
  hostname_globs: string;
  uses_allowed: number;
  uses_count: number;
  expires_at: number;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  description: string | null;
}

type Statement<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

interface TokenStatements {
  insert: Statement<[string, string, string, number, number, number, string, string | null]>;
  byId: Statement<[string], TokenRow>;
  list: Statement<[number], TokenRow>;
  revoke: Statement<[number, string]>;
  use: Statement<[string]>;
}

const statementsByDb = new WeakMap<Db, TokenStatements>();

function statements(db: Db): TokenStatements {
  let found = statementsByDb.get(db);
  if (!found) {
    found = {
      insert: db.prepare(
        'INSERT INTO enrollment_tokens (id, secret_hash, hostname_globs, uses_allowed, expires_at, created_at, ' +
          'created_by, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      byId: db.prepare<[string], TokenRow>('SELECT * FROM enrollment_tokens WHERE id = ?'),
      list: db.prepare<[number], TokenRow>(
        'SELECT * FROM enrollment_tokens ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      revoke: db.prepare('UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      use: db.prepare(
        'UPDATE enrollment_tokens SET uses_count = uses_count + 1 WHERE id = ? AND uses_count < uses_allowed',
      ),
    };
    statementsByDb.set(db, found);
  }
  return found;
}

function fromRow(row: TokenRow): EnrollTokenRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    hostnameGlobs: JSON.parse(row.hostname_globs) as string[],
    usesAllowed: row.uses_allowed,
    usesCount: row.uses_count,
    expiresAtMs: row.expires_at,
    createdAtMs: row.created_at,
    createdBy: row.created_by,
    revokedAtMs: row.revoked_at,
    description: row.description,
  };
}

/** Revoked beats used up beats expired: the status names the reason an admin acted on first. */
export function tokenStatus(token: EnrollTokenRecord, nowMs: number): EnrollTokenStatus {
  if (token.revokedAtMs !== null) return 'revoked';
  if (token.usesCount >= token.usesAllowed) return 'used_up';
  if (token.expiresAtMs <= nowMs) return 'expired';
  return 'active';
}

export function insertToken(db: Db, token: Omit<EnrollTokenRecord, 'usesCount' | 'revokedAtMs'>): void {
  statements(db).insert.run(
    token.id,
    token.secretHash,
    JSON.stringify(token.hostnameGlobs),
    token.usesAllowed,
    token.expiresAtMs,
    token.createdAtMs,
    token.createdBy,
    token.description,
  );
}

export function findToken(db: Db, id: string): EnrollTokenRecord | undefined {
  const row = statements(db).byId.get(id);
  return row === undefined ? undefined : fromRow(row);
}

/** Newest first; `limit` rows at most. */
export function listTokens(db: Db, limit: number): EnrollTokenRecord[] {
  return statements(db).list.all(limit).map(fromRow);
}

/** True when the token was active and is now revoked. */
export function markTokenRevoked(db: Db, id: string, atMs: number): boolean {
  return statements(db).revoke.run(atMs, id).changes === 1;
}

/** Counts one use; false when none was left (the caller's transaction must then roll back). */
export function consumeTokenUse(db: Db, id: string): boolean {
  return statements(db).use.run(id).changes === 1;
}
