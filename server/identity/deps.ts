/** What the identity use cases share: the store, the clock, the bcrypt cost, the login limiter. */
import type { Logger } from '../core/index.ts';
import type { FailureLimiter, FairQueue } from '../enroll/index.ts';
import type { Db, Store } from '../store/index.ts';
import type { KnownAddresses } from './known-addresses.ts';

export interface IdentityDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly nowMs: () => number;
  readonly bcryptRounds: number;
  /** Failed logins and bootstrap claims, per source address. */
  readonly loginLimiter: FailureLimiter;
  /** Where login comparisons wait their turn (shared with enrollment: one bcrypt budget). */
  readonly bcryptQueue: FairQueue;
  /** Addresses that signed in lately: their comparisons go first. */
  readonly knownAddresses: KnownAddresses;
  /** A bcrypt hash of nothing anyone knows, at `bcryptRounds`, for constant work on unknown users. */
  readonly decoyHash: () => Promise<string>;
  readonly sessionIdleTimeoutMs: () => number;
  readonly sessionMaxAgeMs: number;
}

/** Prepared statements built once per connection. */
export function statementCache<T>(build: (db: Db) => T): (db: Db) => T {
  const byDb = new WeakMap<Db, T>();
  return (db) => {
    let found = byDb.get(db);
    if (found === undefined) {
      found = build(db);
      byDb.set(db, found);
    }
    return found;
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
