/** SQL for the users table. Only the identity module reads or writes it. */
import type { Role } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { statementCache } from './deps.ts';
import { userIdPrefix } from './validate.ts';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly role: Role;
  /** bcrypt hash; never leaves this module. */
  readonly passwordHash: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly disabledAtMs: number | null;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string | null;
  email: string | null;
  role: Role;
  password_hash: string | null;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

type RowParams = [
  string,
  string,
  string | null,
  string | null,
  Role,
  string | null,
  number,
  number,
  number | null,
];

const columns = 'id, username, display_name, email, role, password_hash, created_at, updated_at, disabled_at';

const statements = statementCache((db) => ({
  insert: db.prepare<RowParams>(`INSERT INTO users (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  byId: db.prepare<[string], UserRow>(`SELECT ${columns} FROM users WHERE id = ?`),
  // The username column is COLLATE NOCASE, so this is a case-insensitive match on the unique index.
  byUsername: db.prepare<[string], UserRow>(`SELECT ${columns} FROM users WHERE username = ?`),
  list: db.prepare<[number], UserRow>(`SELECT ${columns} FROM users ORDER BY username LIMIT ?`),
  enabledAdmins: db
    .prepare<[], number>("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
    .pluck(),
  update: db.prepare<[string | null, string | null, Role, string | null, number, number | null, string]>(
    'UPDATE users SET display_name = ?, email = ?, role = ?, password_hash = ?, updated_at = ?, disabled_at = ? ' +
      'WHERE id = ?',
  ),
  remove: db.prepare<[string]>('DELETE FROM users WHERE id = ?'),
}));

function recordOf(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    createdAtMs: row.created_at,
    updatedAtMs: row.updated_at,
    disabledAtMs: row.disabled_at,
  };
}

export function insertUser(db: Db, user: UserRecord): void {
  statements(db).insert.run(
    user.id,
    user.username,
    user.displayName,
    user.email,
    user.role,
    user.passwordHash,
    user.createdAtMs,
    user.updatedAtMs,
    user.disabledAtMs,
  );
}

export function findUserById(db: Db, id: string): UserRecord | undefined {
  const row = statements(db).byId.get(id);
  return row === undefined ? undefined : recordOf(row);
}

export function findUserByUsername(db: Db, username: string): UserRecord | undefined {
  const row = statements(db).byUsername.get(username);
  return row === undefined ? undefined : recordOf(row);
}

/** Ids (`usr_…`) and usernames cannot collide: no username starts with `usr_`. */
export function findUserByIdOrName(db: Db, idOrUsername: string): UserRecord | undefined {
  if (typeof idOrUsername !== 'string' || idOrUsername.length > 128) return undefined;
  return idOrUsername.startsWith(userIdPrefix)
    ? findUserById(db, idOrUsername)
    : findUserByUsername(db, idOrUsername.trim());
}

export function listUserRecords(db: Db, limit: number): UserRecord[] {
  return statements(db).list.all(limit).map(recordOf);
}

export function countEnabledAdmins(db: Db): number {
  return statements(db).enabledAdmins.get() ?? 0;
}

/** Writes every mutable column of `user` (the caller read the row in the same transaction). */
export function saveUser(db: Db, user: UserRecord): void {
  statements(db).update.run(
    user.displayName,
    user.email,
    user.role,
    user.passwordHash,
    user.updatedAtMs,
    user.disabledAtMs,
    user.id,
  );
}

/** Deletes the user; the schema cascades to their API tokens and sessions. */
export function removeUser(db: Db, id: string): void {
  statements(db).remove.run(id);
}
