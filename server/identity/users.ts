/**
 * User administration. Every change is audited in its own transaction together with its effects: a role
 * change, a new password or disabling ends the user's sessions in the same commit, and since API tokens
 * read their owner's role and state on every call, tokens follow without being touched. The last enabled
 * admin can be neither demoted, disabled nor deleted, so the server never locks its operators out.
 */
import type { Ctx, Role } from '../core/index.ts';
import { VigoError, actorName } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Db } from '../store/index.ts';
import type { IdentityDeps } from './deps.ts';
import { iso, isoOrNull } from './deps.ts';
import { checkPassword, hashPassword } from './passwords.ts';
import { isRole } from './permissions.ts';
import { randomId } from './secret-text.ts';
import { removeSessionsOfUser } from './session-store.ts';
import type { UserRecord } from './user-store.ts';
import {
  countEnabledAdmins,
  findUserByIdOrName,
  findUserByUsername,
  insertUser,
  listUserRecords,
  removeUser,
  saveUser,
} from './user-store.ts';
import { checkDisplayName, checkEmail, normalizeUsername, userIdPrefix, userNotFound } from './validate.ts';

export const userListLimits = { defaultLimit: 200, maxLimit: 1000 } as const;

/** A user as callers see it: never a password hash. */
export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly role: Role;
  /** False for users who can only use API tokens. */
  readonly hasPassword: boolean;
  readonly disabled: boolean;
  readonly disabledAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CreateUserInput {
  readonly username: string;
  readonly role: Role;
  /** 12–1024 characters; without one the user cannot log in with a password (API tokens only). */
  readonly password?: string;
  readonly displayName?: string;
  readonly email?: string;
}

export interface UpdateUserInput {
  readonly role?: Role;
  readonly password?: string;
  /** null or "" clears it. */
  readonly displayName?: string | null;
  /** null or "" clears it. */
  readonly email?: string | null;
  readonly disabled?: boolean;
}

export interface UserListing {
  readonly users: UserView[];
  /** True when more users exist than `limit` allowed to return. */
  readonly truncated: boolean;
}

export function userView(u: UserRecord): UserView {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    role: u.role,
    hasPassword: u.passwordHash !== null,
    disabled: u.disabledAtMs !== null,
    disabledAt: isoOrNull(u.disabledAtMs),
    createdAt: iso(u.createdAtMs),
    updatedAt: iso(u.updatedAtMs),
  };
}

function checkRole(role: unknown): Role {
  if (!isRole(role)) {
    throw new VigoError(
      'request.invalid',
      `role: ${JSON.stringify(String(role).slice(0, 40))} is not a role; use admin, operator, viewer or compliance`,
      { field: 'role' },
    );
  }
  return role;
}

function userExists(username: string): VigoError {
  return new VigoError(
    'identity.user_exists',
    `a user named ${username} already exists (usernames ignore case); choose another name or update that user`,
    { username },
  );
}

/** Inserts a new user inside the caller's transaction; throws identity.user_exists on a taken name. */
export function insertNewUser(db: Db, user: UserRecord): void {
  if (findUserByUsername(db, user.username) !== undefined) throw userExists(user.username);
  insertUser(db, user);
}

/** A user record ready to insert, with a fresh id; the password is hashed here (async, thread pool). */
export async function newUserRecord(
  deps: IdentityDeps,
  fields: {
    username: string;
    role: Role;
    password?: string;
    displayName: string | null;
    email: string | null;
  },
): Promise<UserRecord> {
  const passwordHash =
    fields.password === undefined ? null : await hashPassword(fields.password, deps.bcryptRounds);
  const nowMs = deps.nowMs();
  return {
    id: randomId(userIdPrefix),
    username: fields.username,
    displayName: fields.displayName,
    email: fields.email,
    role: fields.role,
    passwordHash,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    disabledAtMs: null,
  };
}

export async function createUser(deps: IdentityDeps, ctx: Ctx, input: CreateUserInput): Promise<UserView> {
  const username = normalizeUsername(input.username);
  const role = checkRole(input.role);
  const password = input.password === undefined ? undefined : checkPassword(input.password);
  const displayName = checkDisplayName(input.displayName);
  const email = checkEmail(input.email);
  // Refuse a taken name before spending bcrypt time; the transaction below checks again.
  if (findUserByUsername(deps.store.db, username) !== undefined) throw userExists(username);
  const user = await newUserRecord(deps, { username, role, password, displayName, email });
  deps.store.tx((db) => {
    insertNewUser(db, user);
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'user.created',
      target: `user:${user.id}`,
      at: user.createdAtMs,
      details: { username, role, hasPassword: password !== undefined, displayName, email },
    });
  });
  ctx.log.info('user created', { userId: user.id, username, role });
  return userView(user);
}

/** Users in username order. */
export function listUsers(deps: IdentityDeps, options: { readonly limit?: number } = {}): UserListing {
  const limit = options.limit ?? userListLimits.defaultLimit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > userListLimits.maxLimit) {
    throw new VigoError(
      'request.invalid',
      `limit: must be a whole number from 1 to ${userListLimits.maxLimit}`,
      {
        field: 'limit',
      },
    );
  }
  const rows = listUserRecords(deps.store.db, limit + 1);
  return { users: rows.slice(0, limit).map(userView), truncated: rows.length > limit };
}

/** One user by id (`usr_…`) or username (any case); throws identity.user_not_found. */
export function getUser(deps: IdentityDeps, idOrUsername: string): UserView {
  const user = findUserByIdOrName(deps.store.db, idOrUsername);
  if (user === undefined) throw userNotFound(idOrUsername);
  return userView(user);
}

function isEnabledAdmin(u: UserRecord): boolean {
  return u.role === 'admin' && u.disabledAtMs === null;
}

function guardLastAdmin(db: Db, before: UserRecord, after: UserRecord | undefined, what: string): void {
  if (!isEnabledAdmin(before) || (after !== undefined && isEnabledAdmin(after))) return;
  if (countEnabledAdmins(db) > 1) return;
  throw new VigoError(
    'identity.last_admin',
    `cannot ${what} ${before.username}: it is the last enabled admin, and without one nobody could manage ` +
      'users. Make another user admin first.',
    { userId: before.id },
  );
}

interface CheckedPatch {
  readonly role?: Role;
  readonly password?: string;
  readonly displayName?: string | null;
  readonly email?: string | null;
  readonly disabled?: boolean;
}

function checkPatch(patch: UpdateUserInput): CheckedPatch {
  if (patch.disabled !== undefined && typeof patch.disabled !== 'boolean') {
    throw new VigoError('request.invalid', 'disabled: must be true or false', { field: 'disabled' });
  }
  return {
    ...(patch.role !== undefined && { role: checkRole(patch.role) }),
    ...(patch.password !== undefined && { password: checkPassword(patch.password) }),
    ...(patch.displayName !== undefined && { displayName: checkDisplayName(patch.displayName) }),
    ...(patch.email !== undefined && { email: checkEmail(patch.email) }),
    ...(patch.disabled !== undefined && { disabled: patch.disabled }),
  };
}

/** The updated record and the audit summary of what differs; `changes` is empty when nothing does. */
function applyPatch(
  before: UserRecord,
  patch: CheckedPatch,
  passwordHash: string | undefined,
  nowMs: number,
): { after: UserRecord; changes: Record<string, unknown>; endsSessions: boolean } {
  const changes: Record<string, unknown> = {};
  const role = patch.role ?? before.role;
  if (role !== before.role) changes.role = { from: before.role, to: role };
  const displayName = patch.displayName === undefined ? before.displayName : patch.displayName;
  if (displayName !== before.displayName) changes.displayName = displayName;
  const email = patch.email === undefined ? before.email : patch.email;
  if (email !== before.email) changes.email = email;
  if (passwordHash !== undefined) changes.passwordChanged = true;
  let disabledAtMs = before.disabledAtMs;
  if (patch.disabled === true && disabledAtMs === null) disabledAtMs = nowMs;
  if (patch.disabled === false) disabledAtMs = null;
  if (disabledAtMs !== before.disabledAtMs) changes.disabled = disabledAtMs !== null;
  const after: UserRecord = {
    ...before,
    role,
    displayName,
    email,
    passwordHash: passwordHash ?? before.passwordHash,
    disabledAtMs,
    updatedAtMs: nowMs,
  };
  const endsSessions = 'role' in changes || 'passwordChanged' in changes || changes.disabled === true;
  return { after, changes, endsSessions };
}

/**
 * Changes a user. A new role, a new password or disabling ends all the user's sessions; their API tokens
 * take the new role (or stop, when disabled) on their next call. A patch that changes nothing is not audited.
 */
export async function updateUser(
  deps: IdentityDeps,
  ctx: Ctx,
  idOrUsername: string,
  patch: UpdateUserInput,
): Promise<UserView> {
  const checked = checkPatch(patch);
  if (findUserByIdOrName(deps.store.db, idOrUsername) === undefined) throw userNotFound(idOrUsername);
  const passwordHash =
    checked.password === undefined ? undefined : await hashPassword(checked.password, deps.bcryptRounds);
  const nowMs = deps.nowMs();
  const result = deps.store.tx((db) => {
    const before = findUserByIdOrName(db, idOrUsername);
    if (before === undefined) throw userNotFound(idOrUsername);
    const { after, changes, endsSessions } = applyPatch(before, checked, passwordHash, nowMs);
    if (Object.keys(changes).length === 0) return { user: before, sessionsEnded: 0 };
    guardLastAdmin(db, before, after, changes.disabled === true ? 'disable' : 'demote');
    saveUser(db, after);
    const sessionsEnded = endsSessions ? removeSessionsOfUser(db, after.id) : 0;
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'user.updated',
      target: `user:${after.id}`,
      at: nowMs,
      details: { username: after.username, changes, sessionsEnded },
    });
    return { user: after, sessionsEnded };
  });
  ctx.log.info('user updated', { userId: result.user.id, sessionsEnded: result.sessionsEnded });
  return userView(result.user);
}

/** Deletes a user with their API tokens and sessions; returns the user as it was. */
export function deleteUser(deps: IdentityDeps, ctx: Ctx, idOrUsername: string): UserView {
  const nowMs = deps.nowMs();
  const deleted = deps.store.tx((db) => {
    const user = findUserByIdOrName(db, idOrUsername);
    if (user === undefined) throw userNotFound(idOrUsername);
    guardLastAdmin(db, user, undefined, 'delete');
    removeUser(db, user.id);
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'user.deleted',
      target: `user:${user.id}`,
      at: nowMs,
      details: { username: user.username, role: user.role },
    });
    return user;
  });
  ctx.log.info('user deleted', { userId: deleted.id, username: deleted.username });
  return userView(deleted);
}
