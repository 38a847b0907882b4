/**
 * Web sessions. The cookie carries a random 256-bit session id; the database keeps only its SHA-256, so a
 * copy of the database opens no session. A session ends at the first of: logout, its absolute age limit,
 * the idle timeout (read on every call, so a config reload applies at once), or a change to its user
 * (role, password, disable, delete). The user's role is read on every call, never cached in the session.
 */
import type { Actor } from '../core/index.ts';
import { VigoError } from '../core/index.ts';
import type { IdentityDeps } from './deps.ts';
import { iso } from './deps.ts';
import {
  findSession,
  insertSession,
  pruneSessions,
  removeSession,
  removeSessionsOfUser,
  touchSession,
  trimSessionsOfUser,
} from './session-store.ts';
import { isBareSecret, randomSecret, sameText, sha256Hex } from './secret-text.ts';
import { findUserById } from './user-store.ts';

export const sessionLimits = {
  defaultMaxAgeMs: 12 * 3_600_000,
  /** last_seen_at is written at most this often per session (less when the idle timeout is short). */
  maxTouchIntervalMs: 30_000,
  /** A user's sessions beyond this many (least recently seen first) are ended at the next login. */
  maxSessionsPerUser: 50,
  maxIpLength: 64,
  maxUserAgentLength: 512,
} as const;

export interface SessionClient {
  /** The client's address as the transport saw it. */
  readonly ip?: string | null;
  readonly userAgent?: string | null;
}

export interface CreatedSession {
  /** The cookie value: shown to the browser only, stored as SHA-256. */
  readonly sessionId: string;
  /** Sent back with every state-changing request (header or form field) and checked with `csrfMatches`. */
  readonly csrfToken: string;
  /** Absolute end of the session, whatever its activity (ISO 8601). */
  readonly expiresAt: string;
}

export interface AuthenticatedSession {
  readonly actor: Extract<Actor, { kind: 'user' }>;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

// Control characters in a stored User-Agent would reach whoever reads it in a terminal or log.
function clientText(value: string | null | undefined, maxLength: number): string | null {
  if (typeof value !== 'string') return null;
  const cleaned = value
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, maxLength);
  return cleaned === '' ? null : cleaned;
}

/** The idle timeout now in force; 0 means none. */
export function currentIdleTimeoutMs(deps: IdentityDeps): number {
  const idleMs = deps.sessionIdleTimeoutMs();
  if (!Number.isSafeInteger(idleMs) || idleMs < 0) {
    throw new VigoError(
      'config.invalid',
      `the session idle timeout must be whole milliseconds, 0 (off) or more, got ${String(idleMs)}; ` +
        'fix auth.session_idle_timeout in server.yaml',
    );
  }
  return idleMs;
}

function touchIntervalMs(idleMs: number): number {
  // With a short idle timeout a 30 s write lag would cut sessions noticeably short; keep it to a tenth.
  return idleMs > 0
    ? Math.min(sessionLimits.maxTouchIntervalMs, Math.max(1, Math.floor(idleMs / 10)))
    : sessionLimits.maxTouchIntervalMs;
}

/** Starts a session for an enabled user (after the caller verified a credential). */
export function createSession(deps: IdentityDeps, userId: string, client: SessionClient): CreatedSession {
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  const nowMs = deps.nowMs();
  const expiresAtMs = nowMs + deps.sessionMaxAgeMs;
  deps.store.tx((db) => {
    const user = findUserById(db, userId);
    if (user === undefined) {
      throw new VigoError('identity.user_not_found', `cannot start a session: no user has the id ${userId}`);
    }
    if (user.disabledAtMs !== null) {
      throw new VigoError(
        'identity.user_disabled',
        `cannot start a session: user ${user.username} is disabled; an admin can enable the account again`,
      );
    }
    insertSession(db, {
      idHash: sha256Hex(sessionId),
      userId,
      csrfToken,
      createdAtMs: nowMs,
      lastSeenAtMs: nowMs,
      expiresAtMs,
      ip: clientText(client.ip, sessionLimits.maxIpLength),
      userAgent: clientText(client.userAgent, sessionLimits.maxUserAgentLength),
    });
    trimSessionsOfUser(db, userId, sessionLimits.maxSessionsPerUser);
  });
  return { sessionId, csrfToken, expiresAt: iso(expiresAtMs) };
}

/** The session's user as an actor with their current role, or undefined when the session is not valid. */
export function authenticateSession(deps: IdentityDeps, sessionId: string): AuthenticatedSession | undefined {
  if (!isBareSecret(sessionId)) return undefined;
  const idHash = sha256Hex(sessionId);
  const db = deps.store.db;
  const found = findSession(db, idHash);
  if (found === undefined) return undefined;
  const nowMs = deps.nowMs();
  const idleMs = currentIdleTimeoutMs(deps);
  const idle = idleMs > 0 && nowMs - found.lastSeenAtMs >= idleMs;
  if (nowMs >= found.expiresAtMs || idle || found.disabledAtMs !== null) {
    removeSession(db, idHash);
    return undefined;
  }
  if (nowMs - found.lastSeenAtMs >= touchIntervalMs(idleMs)) touchSession(db, idHash, nowMs);
  return {
    actor: { kind: 'user', userId: found.userId, username: found.username, role: found.role },
    csrfToken: found.csrfToken,
    expiresAt: iso(found.expiresAtMs),
  };
}

/** Ends one session (logout); false when it did not exist. */
export function destroySession(deps: IdentityDeps, sessionId: string): boolean {
  if (!isBareSecret(sessionId)) return false;
  return removeSession(deps.store.db, sha256Hex(sessionId));
}

/** Ends every session of a user; returns how many there were. */
export function destroyUserSessions(deps: IdentityDeps, userId: string): number {
  return removeSessionsOfUser(deps.store.db, userId);
}

/** Deletes sessions past their age limit or idle timeout; returns how many. */
export function pruneExpiredSessions(deps: IdentityDeps): number {
  const nowMs = deps.nowMs();
  const idleMs = currentIdleTimeoutMs(deps);
  // last_seen_at is never negative, so a cutoff of -1 removes nothing for idleness when it is off.
  return pruneSessions(deps.store.db, nowMs, idleMs > 0 ? nowMs - idleMs : -1);
}

/** Constant-time check of a presented CSRF token against the session's. */
export function csrfMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || expected === '' || presented === '') return false;
  return sameText(expected, presented);
}
