/**
 * Password login. It answers the same way, after the same bcrypt work, whether the username is unknown,
 * has no password or the password is wrong, so neither the reply nor its timing tells a caller which names
 * exist. Failures are counted per source address (shared with bootstrap claims) and logged, not audited:
 * an audit entry per failed attempt would let anyone on the network grow the chain without limit.
 *
 * The attempt is reserved against the address's failure limit before bcrypt starts, and the comparison
 * waits its turn in the bcrypt queue (one at a time per address, round-robin across addresses, bounded):
 * concurrent guesses cannot get past the limit, and a flood cannot hold everyone else's login hostage.
 * Addresses that signed in with a right password lately go first (known-addresses.ts).
 */
import { VigoError, actorName } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { AttemptReservation } from '../enroll/index.ts';
import { rateLimitKey } from '../net/index.ts';
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

function rateLimited(sourceAddress: string, what: string, retryAfterMs: number): VigoError {
  const retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  return new VigoError(
    'rate_limited',
    `too many failed ${what} attempts from ${sourceAddress}; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

/** Throws `rate_limited` (details.retryAfterSeconds) when `sourceAddress` failed too often lately. */
export function checkNotLimited(deps: IdentityDeps, sourceAddress: string, what: string): void {
  const retryAfterMs = deps.loginLimiter.retryAfterMs(rateLimitKey(sourceAddress));
  if (retryAfterMs > 0) throw rateLimited(sourceAddress, what, retryAfterMs);
}

/** Takes one attempt from `sourceAddress`'s allowance, a failure until given back; throws `rate_limited`. */
function reserveAttempt(deps: IdentityDeps, sourceAddress: string, what: string): AttemptReservation {
  const key = rateLimitKey(sourceAddress);
  const attempt = deps.loginLimiter.reserve(key);
  if (attempt === undefined) throw rateLimited(sourceAddress, what, deps.loginLimiter.retryAfterMs(key));
  return attempt;
}

function logFailure(deps: IdentityDeps, sourceAddress: string, fields: Record<string, unknown>): void {
  deps.log.warn('login failed', { sourceAddress, ...fields });
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
 * `rate_limited` before any work when the source address failed too often (or the bcrypt queue is full),
 * `identity.login_failed` for an unknown user or wrong password alike, and `identity.user_disabled` only
 * to whoever knows the password.
 */
export async function verifyPassword(
  deps: IdentityDeps,
  username: string,
  password: string,
  sourceAddress: string,
): Promise<UserView> {
  const attempt = reserveAttempt(deps, sourceAddress, 'login');
  const key = rateLimitKey(sourceAddress);
  let user: UserRecord | undefined;
  try {
    user = await deps.bcryptQueue.run(key, () => matchingUser(deps, username, password), {
      priority: deps.knownAddresses.has(key),
    });
  } catch (err) {
    // Refused by a full queue (or failed on our side): no guess was made.
    attempt.giveBack();
    throw err;
  }
  const tried = isValidUsername(username) ? username.trim().toLowerCase() : undefined;
  if (user === undefined) {
    logFailure(deps, sourceAddress, { username: tried, reason: 'unknown user or wrong password' });
    throw loginFailed();
  }
  const current = recordLogin(deps, user, sourceAddress);
  if (current === undefined) {
    logFailure(deps, sourceAddress, { username: tried, reason: 'account changed during login' });
    throw loginFailed();
  }
  attempt.giveBack();
  deps.knownAddresses.add(key);
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

/**
 * Reads the account again (it may have changed while bcrypt ran on the thread pool) and audits the login
 * of an enabled user; undefined when the account or its password changed meanwhile.
 */
function recordLogin(deps: IdentityDeps, user: UserRecord, sourceAddress: string): UserRecord | undefined {
  const nowMs = deps.nowMs();
  return deps.store.tx((db) => {
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
}
