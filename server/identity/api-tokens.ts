/**
 * API tokens `vgot_…` for scripts and vigocli. A token is 256 random bits shown once at creation; only its
 * SHA-256 is stored (bcrypt per request would hand every caller a CPU-burning lever), so checking one is a
 * single indexed read and takes no time that depends on how much of the token was right. A token acts as its
 * owner with the owner's role at the moment of the call: demoting, disabling or deleting the owner applies
 * to every token at once.
 *
 * A token never outlives the token that minted it: a token created with an API token expires no later
 * than that token (see `mintedExpiry`). Password sessions and the local admin mint any lifetime.
 */
import type { Actor, Ctx } from '../core/index.ts';
import { VigoError, actorName } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { IdentityDeps } from './deps.ts';
import { iso, isoOrNull } from './deps.ts';
import { hasPermission } from './permissions.ts';
import { isPrefixedSecret, prefixedSecret, randomId, sha256Hex } from './secret-text.ts';
import type { Db } from '../store/index.ts';
import type { ApiTokenRecord } from './token-store.ts';
import {
  countLiveTokens,
  findTokenByHash,
  findTokenById,
  insertApiToken,
  listTokenRecords,
  markTokenRevoked,
  touchToken,
} from './token-store.ts';
import { findUserByIdOrName } from './user-store.ts';
import type { UserRecord } from './user-store.ts';
import { userNotFound } from './validate.ts';

export const apiTokenPrefix = 'vgot_';
const tokenIdPattern = /^tok_[0-9a-f]{24}$/;

export const apiTokenLimits = {
  maxNameLength: 64,
  maxExpiresInMs: 366 * 86_400_000,
  /** Live (not revoked, not expired) tokens one user may hold. */
  maxLiveTokensPerUser: 100,
  defaultListLimit: 200,
  maxListLimit: 1000,
  /** last_used_at is written at most this often per token, not on every request. */
  lastUsedWriteIntervalMs: 60_000,
} as const;

export type ApiTokenStatus = 'active' | 'expired' | 'revoked';

export interface CreateApiTokenInput {
  /** The owner: a user id (`usr_…`) or username. */
  readonly userId: string;
  /** What the token is for, e.g. "ci-publish"; 1–64 characters. */
  readonly name: string;
  /** Lifetime from now, at most 366 days; without it the token lives until revoked. */
  readonly expiresInMs?: number;
}

export interface ApiTokenView {
  readonly id: string;
  readonly userId: string;
  readonly username: string;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly status: ApiTokenStatus;
}

export interface CreatedApiToken extends ApiTokenView {
  /** `vgot_…`: returned only here, stored only as SHA-256. */
  readonly token: string;
}

export interface ApiTokenListing {
  readonly tokens: ApiTokenView[];
  /** True when more tokens exist than `limit` allowed to return. */
  readonly truncated: boolean;
}

function statusOf(t: ApiTokenRecord, nowMs: number): ApiTokenStatus {
  if (t.revokedAtMs !== null) return 'revoked';
  if (t.expiresAtMs !== null && t.expiresAtMs <= nowMs) return 'expired';
  return 'active';
}

function viewOf(t: ApiTokenRecord, nowMs: number): ApiTokenView {
  return {
    id: t.id,
    userId: t.userId,
    username: t.username,
    name: t.name,
    createdAt: iso(t.createdAtMs),
    expiresAt: isoOrNull(t.expiresAtMs),
    lastUsedAt: isoOrNull(t.lastUsedAtMs),
    revokedAt: isoOrNull(t.revokedAtMs),
    status: statusOf(t, nowMs),
  };
}

function invalidField(field: string, problem: string): VigoError {
  return new VigoError('request.invalid', `${field}: ${problem}`, { field });
}

function checkName(input: unknown): string {
  const name = typeof input === 'string' ? input.trim() : '';
  if (name === '' || name.length > apiTokenLimits.maxNameLength || /\p{Cc}/u.test(name)) {
    throw invalidField(
      'name',
      `give the token a name of 1 to ${apiTokenLimits.maxNameLength} printable characters saying what uses it, ` +
        'e.g. "ci-publish"',
    );
  }
  return name;
}

function checkExpiresInMs(input: unknown): number | null {
  if (input === undefined) return null;
  if (typeof input !== 'number' || !Number.isSafeInteger(input) || input <= 0) {
    throw invalidField(
      'expiresInMs',
      `must be whole milliseconds above 0, got ${typeof input === 'number' ? input : typeof input}`,
    );
  }
  if (input > apiTokenLimits.maxExpiresInMs) {
    throw invalidField('expiresInMs', 'at most 366 days; leave it out for a token that lives until revoked');
  }
  return input;
}

/** The user id the actor acts for, when it is a person (directly or through one of their tokens). */
function ownUserId(actor: Actor): string | undefined {
  return actor.kind === 'user' || actor.kind === 'api-token' ? actor.userId : undefined;
}

/** Admins manage every token; anyone else only their own. */
function checkOwner(ctx: Ctx, ownerId: string | undefined, what: string): void {
  if (hasPermission(ctx.actor, 'admin') || (ownerId !== undefined && ownUserId(ctx.actor) === ownerId))
    return;
  throw new VigoError(
    'auth.forbidden',
    `${actorName(ctx.actor)} may not ${what} another user's API tokens; only admins manage every user's tokens`,
  );
}

/**
 * The user named by `idOrUsername`, if the actor may manage their tokens. A non-admin asking about someone
 * else gets auth.forbidden whether or not that user exists, so the answer does not reveal who exists.
 */
function tokenOwner(db: Db, ctx: Ctx, idOrUsername: string, what: string): UserRecord {
  const user = findUserByIdOrName(db, idOrUsername);
  checkOwner(ctx, user?.id, what);
  if (user === undefined) throw userNotFound(idOrUsername);
  return user;
}

function checkCanHoldToken(db: Db, user: UserRecord, nowMs: number): void {
  if (user.disabledAtMs !== null) {
    throw new VigoError(
      'identity.user_disabled',
      `user ${user.username} is disabled and cannot own new API tokens; enable the account first`,
    );
  }
  if (countLiveTokens(db, user.id, nowMs) >= apiTokenLimits.maxLiveTokensPerUser) {
    throw new VigoError(
      'identity.token_limit',
      `user ${user.username} already holds ${apiTokenLimits.maxLiveTokensPerUser} live API tokens; ` +
        'revoke unused ones first',
    );
  }
}

/**
 * When a token minted by `ctx.actor` expires. An API token cannot hand out more time than it has left:
 * the new token expires when asked or with its minter, whichever comes first, and the reply's expiresAt
 * says which. Clamped rather than refused, so that clients that always ask for a lifetime (vigocli sends
 * its 720h default) keep working and show the real expiry. A password session (a person who just proved
 * they know the password) and the local admin (readable only on the server host by the service account,
 * which can read the database anyway) mint any lifetime, as before.
 */
function mintedExpiry(db: Db, ctx: Ctx, expiresInMs: number | null, nowMs: number): number | null {
  const requested = expiresInMs === null ? null : nowMs + expiresInMs;
  if (ctx.actor.kind !== 'api-token') return requested;
  const minterExpiry = findTokenById(db, ctx.actor.tokenId)?.expiresAtMs ?? null;
  if (minterExpiry === null) return requested;
  return requested === null ? minterExpiry : Math.min(requested, minterExpiry);
}

export function createApiToken(deps: IdentityDeps, ctx: Ctx, input: CreateApiTokenInput): CreatedApiToken {
  const name = checkName(input.name);
  const expiresInMs = checkExpiresInMs(input.expiresInMs);
  const token = prefixedSecret(apiTokenPrefix);
  const id = randomId('tok_');
  const nowMs = deps.nowMs();
  const { owner, expiresAtMs } = deps.store.tx((db) => {
    const user = tokenOwner(db, ctx, input.userId, 'create');
    const expiry = mintedExpiry(db, ctx, expiresInMs, nowMs);
    checkCanHoldToken(db, user, nowMs);
    insertApiToken(db, {
      id,
      userId: user.id,
      name,
      tokenHash: sha256Hex(token),
      createdAtMs: nowMs,
      expiresAtMs: expiry,
    });
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'api_token.created',
      target: `api-token:${id}`,
      at: nowMs,
      details: { userId: user.id, username: user.username, name, expiresAt: isoOrNull(expiry) },
    });
    return { owner: user, expiresAtMs: expiry };
  });
  ctx.log.info('API token created', { tokenId: id, userId: owner.id, username: owner.username });
  const record = {
    id,
    userId: owner.id,
    username: owner.username,
    name,
    createdAtMs: nowMs,
    expiresAtMs,
    lastUsedAtMs: null,
    revokedAtMs: null,
  };
  return { ...viewOf(record, nowMs), token };
}

function checkLimit(limit: unknown): number {
  const value = limit ?? apiTokenLimits.defaultListLimit;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    value > apiTokenLimits.maxListLimit
  ) {
    throw invalidField('limit', `must be a whole number from 1 to ${apiTokenLimits.maxListLimit}`);
  }
  return value;
}

/**
 * Tokens newest first, never their secrets. Admins see every user's tokens (or one user's with `userId`);
 * anyone else sees only their own.
 */
export function listApiTokens(
  deps: IdentityDeps,
  ctx: Ctx,
  options: { readonly userId?: string; readonly limit?: number } = {},
): ApiTokenListing {
  const limit = checkLimit(options.limit);
  const db = deps.store.db;
  let userId: string | undefined;
  if (options.userId !== undefined) {
    userId = tokenOwner(db, ctx, options.userId, 'list').id;
  } else if (!hasPermission(ctx.actor, 'admin')) {
    userId = ownUserId(ctx.actor);
    if (userId === undefined) return { tokens: [], truncated: false };
  }
  const nowMs = deps.nowMs();
  const rows = listTokenRecords(db, userId, limit + 1);
  return { tokens: rows.slice(0, limit).map((t) => viewOf(t, nowMs)), truncated: rows.length > limit };
}

function tokenNotFound(id: string): VigoError {
  return new VigoError(
    'identity.token_not_found',
    `no API token has the id ${JSON.stringify(id.slice(0, 100))}; listing the API tokens shows the ids (tok_…)`,
  );
}

/** Revokes a token at once; revoking one already revoked changes nothing and returns it as it is. */
export function revokeApiToken(deps: IdentityDeps, ctx: Ctx, id: string): ApiTokenView {
  if (typeof id !== 'string' || !tokenIdPattern.test(id)) throw tokenNotFound(String(id));
  const nowMs = deps.nowMs();
  const record = deps.store.tx((db) => {
    const found = findTokenById(db, id);
    if (found === undefined) throw tokenNotFound(id);
    checkOwner(ctx, found.userId, 'revoke');
    if (!markTokenRevoked(db, id, nowMs)) return found;
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'api_token.revoked',
      target: `api-token:${id}`,
      at: nowMs,
      details: { userId: found.userId, username: found.username, name: found.name },
    });
    return { ...found, revokedAtMs: nowMs };
  });
  return viewOf(record, nowMs);
}

/**
 * The actor a presented `vgot_…` token stands for, with its owner's current role; undefined for anything
 * that is not a live token of an enabled user. Never throws for what the caller sent.
 */
export function authenticateApiToken(deps: IdentityDeps, presented: unknown): Actor | undefined {
  if (!isPrefixedSecret(presented, apiTokenPrefix)) return undefined;
  const db = deps.store.db;
  const found = findTokenByHash(db, sha256Hex(presented));
  if (found === undefined || found.revokedAtMs !== null || found.disabledAtMs !== null) return undefined;
  const nowMs = deps.nowMs();
  if (found.expiresAtMs !== null && found.expiresAtMs <= nowMs) return undefined;
  // The stored time is the throttle: no per-token memory, and it holds across restarts and processes.
  if (found.lastUsedAtMs === null || nowMs - found.lastUsedAtMs >= apiTokenLimits.lastUsedWriteIntervalMs) {
    touchToken(db, found.id, nowMs);
  }
  return {
    kind: 'api-token',
    tokenId: found.id,
    userId: found.userId,
    username: found.username,
    role: found.role,
  };
}
