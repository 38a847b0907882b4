/**
 * The first admin. An empty user store grants nothing: while no enabled admin exists, every boot mints a
 * one-time secret `vgbs_…` for the server to print (replacing the previous one) and keeps only its SHA-256
 * in `meta`. Whoever presents it once creates the first admin; the secret is then gone, and a new one is
 * minted only if the server ever finds itself without an enabled admin again.
 */
import { VigoError } from '../core/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Db } from '../store/index.ts';
import type { IdentityDeps } from './deps.ts';
import { statementCache } from './deps.ts';
import { checkNotLimited, recordFailure } from './login.ts';
import { checkPassword } from './passwords.ts';
import { isPrefixedSecret, prefixedSecret, sameText, sha256Hex } from './secret-text.ts';
import { countEnabledAdmins } from './user-store.ts';
import { insertNewUser, newUserRecord, userView } from './users.ts';
import type { UserView } from './users.ts';
import { normalizeUsername } from './validate.ts';

export const adminBootstrapPrefix = 'vgbs_';
/** The `meta` key holding `{"sha256": "<hex>", "createdAt": <ms>}` of the pending secret. */
export const adminBootstrapMetaKey = 'identity.admin_bootstrap';
const auditActor = 'admin-bootstrap';

export interface ClaimAdminBootstrapInput {
  readonly secret: string;
  readonly username: string;
  readonly password: string;
  /** The claimant's address, for rate limiting and the audit entry. */
  readonly sourceAddress: string;
}

const statements = statementCache((db) => ({
  read: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
  write: db.prepare<[string, string]>(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ),
  remove: db.prepare<[string]>('DELETE FROM meta WHERE key = ?'),
}));

/** The pending secret's hash, or undefined when none is pending (or the row is unreadable). */
function pendingHash(db: Db): string | undefined {
  const text = statements(db).read.get(adminBootstrapMetaKey);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { sha256?: unknown };
    return typeof parsed.sha256 === 'string' && /^[0-9a-f]{64}$/.test(parsed.sha256)
      ? parsed.sha256
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Called at every boot. While no enabled admin exists it returns a fresh secret for the server to print
 * (the previous one stops working); once one exists it returns undefined and drops any leftover secret.
 */
export function prepareAdminBootstrap(deps: IdentityDeps): { readonly secret: string } | undefined {
  const nowMs = deps.nowMs();
  return deps.store.tx((db) => {
    const s = statements(db);
    if (countEnabledAdmins(db) > 0) {
      s.remove.run(adminBootstrapMetaKey);
      return undefined;
    }
    const secret = prefixedSecret(adminBootstrapPrefix);
    const replaced = pendingHash(db) !== undefined;
    s.write.run(adminBootstrapMetaKey, JSON.stringify({ sha256: sha256Hex(secret), createdAt: nowMs }));
    appendAudit(db, {
      actor: 'system',
      action: 'admin_bootstrap.minted',
      target: 'admin-bootstrap',
      at: nowMs,
      details: { replacedPrevious: replaced },
    });
    return { secret };
  });
}

function bootstrapUsed(): VigoError {
  return new VigoError(
    'identity.bootstrap_used',
    'an admin already exists, so the bootstrap secret is no longer accepted; log in as that admin instead',
  );
}

function bootstrapInvalid(): VigoError {
  return new VigoError(
    'identity.bootstrap_invalid',
    'the admin bootstrap secret is wrong or no longer current; use the vgbs_… secret the server printed at its ' +
      'latest start (each start replaces it)',
  );
}

function secretMatches(db: Db, secret: unknown): boolean {
  const expected = pendingHash(db);
  if (expected === undefined || !isPrefixedSecret(secret, adminBootstrapPrefix)) return false;
  return sameText(sha256Hex(secret), expected);
}

/**
 * Creates the first admin from the bootstrap secret and consumes the secret. Throws `rate_limited` when
 * the address failed too often, `identity.bootstrap_used` once an admin exists, `identity.bootstrap_invalid`
 * for a wrong or stale secret (counted against the address), and the username/password errors of
 * createUser for a bad account.
 */
export async function claimAdminBootstrap(
  deps: IdentityDeps,
  input: ClaimAdminBootstrapInput,
): Promise<UserView> {
  const { sourceAddress } = input;
  checkNotLimited(deps, sourceAddress, 'admin bootstrap');
  const db = deps.store.db;
  if (countEnabledAdmins(db) > 0) throw bootstrapUsed();
  if (!secretMatches(db, input.secret)) {
    recordFailure(deps, sourceAddress, 'admin bootstrap refused', { reason: 'wrong or stale secret' });
    throw bootstrapInvalid();
  }
  const username = normalizeUsername(input.username);
  const password = checkPassword(input.password);
  const user = await newUserRecord(deps, {
    username,
    role: 'admin',
    password,
    displayName: null,
    email: null,
  });
  deps.store.tx((txDb) => {
    // Another claim may have won while bcrypt ran.
    if (countEnabledAdmins(txDb) > 0) throw bootstrapUsed();
    if (!secretMatches(txDb, input.secret)) throw bootstrapInvalid();
    insertNewUser(txDb, user);
    statements(txDb).remove.run(adminBootstrapMetaKey);
    appendAudit(txDb, {
      actor: auditActor,
      action: 'user.created',
      target: `user:${user.id}`,
      at: user.createdAtMs,
      details: {
        username,
        role: 'admin',
        hasPassword: true,
        via: 'bootstrap-secret',
        sourceAddress: sourceAddress.slice(0, 100),
      },
    });
  });
  deps.log.info('first admin created from the bootstrap secret', {
    userId: user.id,
    username,
    sourceAddress,
  });
  return userView(user);
}
