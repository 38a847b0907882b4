/**
 * The identity service: one object holding users, password login, API tokens, web sessions and the
 * first-admin bootstrap, built once at boot. Transports call it and never touch the tables themselves.
 */
import type { Actor, Ctx, Logger } from '../core/index.ts';
import { VigoError } from '../core/index.ts';
import { FailureLimiter, FairQueue } from '../enroll/index.ts';
import type { Store } from '../store/index.ts';
import { authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';
import type { ApiTokenListing, ApiTokenView, CreateApiTokenInput, CreatedApiToken } from './api-tokens.ts';
import { claimAdminBootstrap, prepareAdminBootstrap } from './bootstrap-admin.ts';
import type { ClaimAdminBootstrapInput } from './bootstrap-admin.ts';
import type { IdentityDeps } from './deps.ts';
import { KnownAddresses } from './known-addresses.ts';
import { verifyPassword } from './login.ts';
import { hashPassword, isBcryptRounds, productionBcryptRounds } from './passwords.ts';
import { randomSecret } from './secret-text.ts';
import {
  authenticateSession,
  createSession,
  csrfMatches,
  currentIdleTimeoutMs,
  destroySession,
  destroyUserSessions,
  pruneExpiredSessions,
  sessionLimits,
} from './sessions.ts';
import type { AuthenticatedSession, CreatedSession, SessionClient } from './sessions.ts';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './users.ts';
import type { CreateUserInput, UpdateUserInput, UserListing, UserView } from './users.ts';

export const identityDefaults = {
  bcryptRounds: productionBcryptRounds,
  sessionMaxAgeMs: sessionLimits.defaultMaxAgeMs,
  /** Failed logins and bootstrap claims allowed per source address (IPv4 address or IPv6 /64) per window. */
  loginFailures: { max: 10, windowMs: 15 * 60_000 },
} as const;

export interface IdentityServiceOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly nowMs?: () => number;
  /** bcrypt work factor for passwords (4–31); 12 unless a test asks for less. */
  readonly bcryptRounds?: number;
  /** Read on every session check, so a config reload applies at once; 0 turns the idle timeout off. */
  readonly sessionIdleTimeoutMs: () => number;
  /** Absolute session lifetime, however active (default 12 h). */
  readonly sessionMaxAgeMs?: number;
  readonly loginFailures?: { readonly max: number; readonly windowMs: number };
  /** The bcrypt queue login comparisons wait in; give enrollment the same one. Its own default queue without it. */
  readonly bcryptQueue?: FairQueue;
}

export interface IdentityService {
  /** Throws identity.username_invalid / password_invalid / user_exists, request.invalid for other fields. */
  createUser(ctx: Ctx, input: CreateUserInput): Promise<UserView>;
  /** Users in username order, at most `limit` (default 200, at most 1000). */
  listUsers(options?: { readonly limit?: number }): UserListing;
  /** By id (`usr_…`) or username in any case; throws identity.user_not_found. */
  getUser(idOrUsername: string): UserView;
  /** Throws identity.last_admin when it would leave no enabled admin. Ends sessions on role/password/disable. */
  updateUser(ctx: Ctx, idOrUsername: string, patch: UpdateUserInput): Promise<UserView>;
  /** Deletes the user, their API tokens and sessions; throws identity.last_admin for the last enabled admin. */
  deleteUser(ctx: Ctx, idOrUsername: string): UserView;
  /** Throws rate_limited, identity.login_failed or identity.user_disabled; audits auth.login on success. */
  verifyPassword(username: string, password: string, sourceAddress: string): Promise<UserView>;

  /** Returns the token once. Non-admins may create tokens only for themselves (auth.forbidden otherwise). */
  createApiToken(ctx: Ctx, input: CreateApiTokenInput): CreatedApiToken;
  /** Admins see all tokens (or one user's); anyone else only their own. */
  listApiTokens(ctx: Ctx, options?: { readonly userId?: string; readonly limit?: number }): ApiTokenListing;
  /** Non-admins may revoke only their own tokens; throws identity.token_not_found. Idempotent. */
  revokeApiToken(ctx: Ctx, id: string): ApiTokenView;
  /** The `api-token` actor for a live `vgot_…` token of an enabled user, with the owner's current role. */
  authenticateApiToken(presented: string): Actor | undefined;

  /** Call after verifyPassword succeeded. Throws identity.user_not_found / user_disabled. */
  createSession(userId: string, client: SessionClient): CreatedSession;
  /** The session's user with their current role, or undefined (unknown, expired, idle, user disabled). */
  authenticateSession(sessionId: string): AuthenticatedSession | undefined;
  destroySession(sessionId: string): boolean;
  destroyUserSessions(userId: string): number;
  pruneExpiredSessions(): number;
  /** The idle timeout now in force (0 = off). */
  idleTimeoutMs(): number;
  /** Constant-time comparison of the session's CSRF token with the one a request presented. */
  csrfMatches(expected: string, presented: unknown): boolean;

  /** A fresh secret to print while no enabled admin exists (replacing the previous one); else undefined. */
  prepareAdminBootstrap(): { readonly secret: string } | undefined;
  /** Creates the first admin; throws rate_limited, identity.bootstrap_invalid or identity.bootstrap_used. */
  claimAdminBootstrap(input: ClaimAdminBootstrapInput): Promise<UserView>;
}

function configInvalid(message: string): VigoError {
  return new VigoError('config.invalid', message);
}

function checkOptions(options: IdentityServiceOptions, bcryptRounds: number, sessionMaxAgeMs: number): void {
  if (!isBcryptRounds(bcryptRounds)) {
    throw configInvalid(`bcryptRounds must be a whole number from 4 to 31, got ${bcryptRounds}`);
  }
  if (!Number.isSafeInteger(sessionMaxAgeMs) || sessionMaxAgeMs <= 0) {
    throw configInvalid(`the session max age must be whole milliseconds above 0, got ${sessionMaxAgeMs}`);
  }
  const failures = options.loginFailures ?? identityDefaults.loginFailures;
  if (
    !Number.isSafeInteger(failures.max) ||
    failures.max < 1 ||
    !Number.isSafeInteger(failures.windowMs) ||
    failures.windowMs < 1
  ) {
    throw configInvalid(
      `login failure limit must be a whole number of attempts (1 or more) per whole milliseconds above 0, got ` +
        `${failures.max} per ${failures.windowMs} ms`,
    );
  }
}

function buildDeps(options: IdentityServiceOptions): IdentityDeps {
  const nowMs = options.nowMs ?? Date.now;
  const bcryptRounds = options.bcryptRounds ?? identityDefaults.bcryptRounds;
  const sessionMaxAgeMs = options.sessionMaxAgeMs ?? identityDefaults.sessionMaxAgeMs;
  checkOptions(options, bcryptRounds, sessionMaxAgeMs);
  const failures = options.loginFailures ?? identityDefaults.loginFailures;
  // Started now so the first login for an unknown name does not pay for making the decoy as well.
  const decoy = hashPassword(randomSecret(), bcryptRounds);
  decoy.catch(() => {});
  const deps: IdentityDeps = {
    store: options.store,
    log: options.log,
    nowMs,
    bcryptRounds,
    loginLimiter: new FailureLimiter({ maxFailures: failures.max, windowMs: failures.windowMs, nowMs }),
    bcryptQueue: options.bcryptQueue ?? new FairQueue(),
    knownAddresses: new KnownAddresses({ nowMs }),
    decoyHash: () => decoy,
    sessionIdleTimeoutMs: options.sessionIdleTimeoutMs,
    sessionMaxAgeMs,
  };
  currentIdleTimeoutMs(deps);
  return deps;
}

/** Builds the service; throws config.invalid for options that cannot work, so mistakes fail at boot. */
export function createIdentityService(options: IdentityServiceOptions): IdentityService {
  const deps = buildDeps(options);
  return {
    createUser: (ctx, input) => createUser(deps, ctx, input),
    listUsers: (listOptions) => listUsers(deps, listOptions),
    getUser: (idOrUsername) => getUser(deps, idOrUsername),
    updateUser: (ctx, idOrUsername, patch) => updateUser(deps, ctx, idOrUsername, patch),
    deleteUser: (ctx, idOrUsername) => deleteUser(deps, ctx, idOrUsername),
    verifyPassword: (username, password, sourceAddress) =>
      verifyPassword(deps, username, password, sourceAddress),
    createApiToken: (ctx, input) => createApiToken(deps, ctx, input),
    listApiTokens: (ctx, listOptions) => listApiTokens(deps, ctx, listOptions),
    revokeApiToken: (ctx, id) => revokeApiToken(deps, ctx, id),
    authenticateApiToken: (presented) => authenticateApiToken(deps, presented),
    createSession: (userId, client) => createSession(deps, userId, client),
    authenticateSession: (sessionId) => authenticateSession(deps, sessionId),
    destroySession: (sessionId) => destroySession(deps, sessionId),
    destroyUserSessions: (userId) => destroyUserSessions(deps, userId),
    pruneExpiredSessions: () => pruneExpiredSessions(deps),
    idleTimeoutMs: () => currentIdleTimeoutMs(deps),
    csrfMatches,
    prepareAdminBootstrap: () => prepareAdminBootstrap(deps),
    claimAdminBootstrap: (input) => claimAdminBootstrap(deps, input),
  };
}
