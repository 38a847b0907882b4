/**
 * Password login. It answers the same way, after the same bcrypt work, whether the username is unknown,
 * has no password or the password is wrong, so neither the reply nor its timing tells a caller which names
 * exist. Failures are counted per source address (shared with bootstrap claims) and logged, not audited:
 * an audit entry per failed attempt would let anyone on the network grow the chain without limit.
 */
import { VigoError, actorName } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import { rateLimitKey } from '../enroll/index.ts';
import type { IdentityDeps } from './deps.ts';
import { passwordMatches } from './passwords.ts';
import { findUserByUsername } from './user-store.ts';
import type { UserRecord } from './user-store.ts';
import { userView } from './users.ts';
import type { UserView } from './users.ts';
import { isValidUsername } from './validate.ts';

const loginFailed = (): VigoError =>
  new VigoError(
    'identity.login_failed',
    'login failed: the username or password is wrong (usernames are lower case; passwords are case-sensitive)',
  );

/** Throws `rate_limited` (details.retryAfterSeconds) when `sourceAddress` failed too often lately. */
export function checkNotLimited(deps: IdentityDeps, sourceAddress: string, what: string): void {
  const retryAfterMs = deps.loginLimiter.retryAfterMs(rateLimitKey(sourceAddress));
  if (retryAfterMs <= 0) return;
  const retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  throw new VigoError(
    'rate_limited',
    `too many failed ${what} attempts from ${sourceAddress}; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

export function recordFailure(
  deps: IdentityDeps,
  sourceAddress: string,
  message: string,
  fields: Record<string, unknown>,
): void {
  deps.loginLimiter.recordFailure(rateLimitKey(sourceAddress));
  deps.log.warn(message, { sourceAddress, ...fields });
}

/** The user whose password this is, compared with equal work whether or not the user exists. */
async function matchingUser(
  deps: IdentityDeps,
  username: unknown,
  password: unknown,
): Promise<UserRecord | undefined> {
  const user = isValidUsername(username)
    ? findUserByUsername(deps.store.db, username.trim().toLowerCase())
    : undefined;
  const hash = user?.passwordHash ?? (await deps.decoyHash());
  const matches = await passwordMatches(typeof password === 'string' ? password : '', hash);
  return matches && user !== undefined && user.passwordHash !== null ? user : undefined;
}

/**
 * Checks a username and password; returns the user on success (audited as `auth.login`). Throws
 * `rate_limited` before any work when the source address failed too often, `identity.login_failed` for an
 * unknown user or wrong password alike, and `identity.user_disabled` only to whoever knows the password.
 */
export async function verifyPassword(
  deps: IdentityDeps,
  username: string,
  password: string,
  sourceAddress: string,
): Promise<UserView> {
  checkNotLimited(deps, sourceAddress, 'login');
  const user = await matchingUser(deps, username, password);
  const tried = isValidUsername(username) ? username.trim().toLowerCase() : undefined;
  if (user === undefined) {
    recordFailure(deps, sourceAddress, 'login failed', {
      username: tried,
      reason: 'unknown user or wrong password',
    });
    throw loginFailed();
  }
  // Read again: the account may have changed while bcrypt ran on the thread pool.
  const nowMs = deps.nowMs();
  const current = deps.store.tx((db) => {
    const found = findUserByUsername(db, user.username);
    if (found === undefined || found.passwordHash !== user.passwordHash) return undefined;
    if (found.disabledAtMs !== null) return found;
    appendAudit(db, {
      actor: actorName({ kind: 'user', userId: found.id, username: found.username, role: found.role }),
      action: 'auth.login',
      target: `user:${found.id}`,
      at: nowMs,
      details: { method: 'password', sourceAddress: sourceAddress.slice(0, 100) },
    });
    return found;
  });
  if (current === undefined) {
    recordFailure(deps, sourceAddress, 'login failed', {
      username: tried,
      reason: 'account changed during login',
    });
    throw loginFailed();
  }
  if (current.disabledAtMs !== null) {
    deps.log.warn('login refused: user disabled', { sourceAddress, username: current.username });
    throw new VigoError(
      'identity.user_disabled',
      `user ${current.username} is disabled; ask an admin to enable the account again`,
    );
  }
  deps.log.info('login', { userId: current.id, username: current.username, sourceAddress });
  return userView(current);
}
