/**
 * FleetIndex: every enrolled envoy in memory, loaded from SQLite at boot. The check-in path reads and
 * marks entries here and never touches the database; changed entries are queued for the write-behind
 * flusher, which persists them in batched transactions.
 */
import { createConvergenceTally } from '../convergence/index.ts';
import type {
  ConvergenceStatus,
  DriftLevel,
  FleetConvergence,
  Reachability,
  ReachabilityChange,
} from '../convergence/index.ts';
import type { Logger } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { EnvoyEntry } from './envoy-entry.ts';
import type { EnvoyRow } from './envoy-entry.ts';
import { envoyReachability } from './reachability.ts';

export interface EnrollmentRecord {
  id: string;
  hostname: string;
  publicKeyRaw: Buffer;
  certFingerprint: string;
  enrolledAtMs: number;
  reenrolled: boolean;
}

/**
 * What an envoy list can filter by status: stored status, stale (active, silent too long), never_seen
 * (active, no check-in yet) and failing (active, its last counted run had failed resources).
 */
export const envoyListStatuses = ['active', 'revoked', 'stale', 'never_seen', 'failing'] as const;
export type EnvoyListStatus = (typeof envoyListStatuses)[number];

/** Active, and its last counted run had failed resources (convergence degraded or failed). */
export function envoyFailing(entry: Pick<EnvoyEntry, 'status' | 'convergence'>): boolean {
  return (
    entry.status === 'active' &&
    (entry.convergence.status === 'failed' || entry.convergence.status === 'degraded')
  );
}

export interface EnvoyListFilter {
  status?: EnvoyListStatus;
  hostnamePrefix?: string;
  /** A compiled hostname glob (see enroll's compileGlobs). */
  hostnameMatches?: (hostname: string) => boolean;
  /** Whether an envoy with this traits hash ('' when none is known) matches a trait filter. */
  traitsMatch?: (traitsHash: string) => boolean;
  convergence?: ConvergenceStatus;
  drift?: DriftLevel;
  reachability?: Reachability;
}

const sortKey = (e: EnvoyEntry): string => `${e.hostname}\u0000${e.id}`;

function matchesFilter(entry: EnvoyEntry, filter: EnvoyListFilter): boolean {
  switch (filter.status) {
    case undefined:
      break;
    case 'stale':
      if (!(entry.stale && entry.status === 'active')) return false;
      break;
    case 'never_seen':
      if (!(entry.status === 'active' && entry.lastSeenAtMs === 0)) return false;
      break;
    case 'failing':
      if (!envoyFailing(entry)) return false;
      break;
    default:
      if (entry.status !== filter.status) return false;
  }
  if (filter.hostnamePrefix && !entry.hostname.startsWith(filter.hostnamePrefix)) return false;
  if (filter.hostnameMatches !== undefined && !filter.hostnameMatches(entry.hostname)) return false;
  if (filter.traitsMatch !== undefined && !filter.traitsMatch(entry.traitsHash)) return false;
  if (filter.convergence !== undefined && entry.convergence.status !== filter.convergence) return false;
  if (filter.drift !== undefined && entry.convergence.drift !== filter.drift) return false;
  if (filter.reachability !== undefined && envoyReachability(entry) !== filter.reachability) return false;
  return true;
}

/** What the write-behind flusher takes from the index in one batch. */
export interface FleetChanges {
  envoys: EnvoyEntry[];
  traits: [string, string][];
  reachability: ReachabilityChange[];
}

export interface EnvoyPage {
  items: EnvoyEntry[];
  total: number;
  nextCursor: string | undefined;
}

export class FleetIndex {
  readonly #byId = new Map<string, EnvoyEntry>();
  readonly #dirty = new Set<EnvoyEntry>();
  /** Trait documents received but not yet flushed, by hash. */
  readonly #pendingTraits = new Map<string, string>();
  /** Hashes of trait documents the server already holds (in SQLite or pending). */
  readonly #knownTraits = new Set<string>();
  /** Entries ordered by hostname then id, for paging; rebuilt only after membership changes. */
  #sorted: EnvoyEntry[] | undefined;
  /** Reachability transitions the sweep saw, for the next flush to append to convergence_history. */
  #pendingReachability: ReachabilityChange[] = [];
  /** Fleet convergence aggregates from the last completed sweep. */
  #convergenceTotals: FleetConvergence | undefined;

  /**
   * Every envoy row and known traits hash. An envoy whose stored key is weak is loaded unable to
   * authenticate, and `log` gets one error naming it.
   */
  static load(db: Db, log?: Logger): FleetIndex {
    const index = new FleetIndex();
    const rows = db
      .prepare(
        `SELECT id, hostname, public_key, cert_fingerprint, status, enrolled_at, last_seen_at, last_ts_ms,
                policy_version, state_fingerprint, traits_hash, interval_ms, force_push, agent_version
           FROM envoys`,
      )
      .iterate() as IterableIterator<EnvoyRow>;
    for (const row of rows) {
      const entry = new EnvoyEntry(row);
      index.#byId.set(row.id, entry);
      if (entry.keyProblem !== undefined && entry.status === 'active') {
        log?.error('envoy key refused: every request from this envoy is refused until it enrolls again', {
          envoyId: entry.id,
          hostname: entry.hostname,
          reason: entry.keyProblem,
        });
      }
    }
    for (const hash of db.prepare('SELECT hash FROM traits').pluck().iterate() as IterableIterator<string>) {
      index.#knownTraits.add(hash);
    }
    return index;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): EnvoyEntry | undefined {
    return this.#byId.get(id);
  }

  /** Envoys that are not revoked: the agents that may connect. One pass over the fleet; not for hot paths. */
  activeCount(): number {
    let active = 0;
    for (const entry of this.#byId.values()) if (entry.status !== 'revoked') active += 1;
    return active;
  }

  /**
   * Says that the server has work for envoy `id` (orchestration: a task, a live query, a push): until a
   * stream of it says Hello, its CheckIn replies set open_stream, so a polling agent opens its stream at
   * its next check-in. 'open' when its stream is already open (send on it), 'requested' when the next
   * check-in will ask for it; unknown and revoked envoys are never asked.
   */
  requestStream(id: string): 'open' | 'requested' | 'unknown' | 'revoked' {
    const entry = this.#byId.get(id);
    if (entry === undefined) return 'unknown';
    if (entry.status === 'revoked') return 'revoked';
    if (entry.streamOpen) return 'open';
    entry.streamRequested = true;
    return 'requested';
  }

  /** Adds or replaces an entry after its row was committed. */
  put(entry: EnvoyEntry): void {
    this.#byId.set(entry.id, entry);
    this.#sorted = undefined;
  }

  /** Mirrors a just-committed enrollment; a re-enrollment keeps the entry and swaps its key and certificate. */
  recordEnrollment(envoy: EnrollmentRecord): void {
    const existing = this.#byId.get(envoy.id);
    if (existing !== undefined && envoy.reenrolled) {
      existing.replaceKey(envoy.publicKeyRaw, envoy.certFingerprint);
      existing.enrolledAtMs = envoy.enrolledAtMs;
      // As in the row: the replay watermark restarts with the new key.
      existing.lastTsMs = 0;
      return;
    }
    this.put(
      new EnvoyEntry({
        id: envoy.id,
        hostname: envoy.hostname,
        public_key: envoy.publicKeyRaw,
        cert_fingerprint: envoy.certFingerprint,
        status: 'active',
        enrolled_at: envoy.enrolledAtMs,
        last_seen_at: null,
        last_ts_ms: 0,
        policy_version: 0,
        state_fingerprint: null,
        traits_hash: null,
        interval_ms: null,
        force_push: 0,
        agent_version: null,
      }),
    );
  }

  markDirty(entry: EnvoyEntry): void {
    this.#dirty.add(entry);
  }

  hasTraits(hash: string): boolean {
    return this.#knownTraits.has(hash);
  }

  /** Traits received but not yet flushed to the database (the traits table holds the rest). */
  pendingTraitsJson(hash: string): string | undefined {
    return this.#pendingTraits.get(hash);
  }

  addTraits(hash: string, json: string): void {
    if (this.#knownTraits.has(hash)) return;
    this.#knownTraits.add(hash);
    this.#pendingTraits.set(hash, json);
  }

  queueReachabilityChange(change: ReachabilityChange): void {
    this.#pendingReachability.push(change);
  }

  /** Hands the pending changes to the flusher and starts a new batch. */
  takeChanges(): FleetChanges {
    const envoys = [...this.#dirty];
    const traits = [...this.#pendingTraits];
    const reachability = this.#pendingReachability;
    this.#dirty.clear();
    this.#pendingTraits.clear();
    this.#pendingReachability = [];
    return { envoys, traits, reachability };
  }

  /** Puts changes back after a failed flush so the next one retries them. */
  restoreChanges(changes: FleetChanges): void {
    for (const entry of changes.envoys) this.#dirty.add(entry);
    for (const [hash, json] of changes.traits)
      if (!this.#pendingTraits.has(hash)) this.#pendingTraits.set(hash, json);
    // Older transitions first, so the history keeps their order.
    this.#pendingReachability = [...changes.reachability, ...this.#pendingReachability];
  }

  /** Published by the fleet sweep when it has visited every entry. */
  setConvergenceTotals(totals: FleetConvergence): void {
    this.#convergenceTotals = totals;
  }

  /**
   * Fleet convergence aggregates as of the last sweep (every fleet.flush_interval). Only before the first
   * sweep has finished does this count the fleet itself, once.
   */
  convergenceTotals(nowMs: number): FleetConvergence {
    if (this.#convergenceTotals === undefined) {
      const tally = createConvergenceTally();
      for (const entry of this.#byId.values())
        if (entry.status === 'active')
          tally.add(entry.convergence.status, entry.convergence.drift, envoyReachability(entry));
      this.#convergenceTotals = tally.finish(nowMs);
    }
    return this.#convergenceTotals;
  }

  pendingCount(): number {
    return this.#dirty.size + this.#pendingReachability.length;
  }

  values(): IterableIterator<EnvoyEntry> {
    return this.#byId.values();
  }

  /** Index of the first entry ordered after `cursor`. */
  #after(cursor: string): number {
    const ordered = this.#ordered();
    let lo = 0;
    let hi = ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortKey(ordered[mid] as EnvoyEntry) <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The cursor of the page before the one that starts after `cursor` (undefined: the first page). That
   * page holds the last `limit` matching envoys at or before `cursor`, so its own cursor is the matching
   * envoy before them: a walk backwards from `cursor`, never over more than it needs.
   */
  previousCursor(filter: EnvoyListFilter, cursor: string, limit: number): string | undefined {
    const ordered = this.#ordered();
    let seen = 0;
    for (let i = this.#after(cursor) - 1; i >= 0; i--) {
      const entry = ordered[i] as EnvoyEntry;
      if (!matchesFilter(entry, filter)) continue;
      if (++seen > limit) return sortKey(entry);
    }
    return undefined;
  }

  #ordered(): EnvoyEntry[] {
    if (this.#sorted === undefined) {
      const keyed = [...this.#byId.values()].map((e) => ({ e, k: sortKey(e) }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      this.#sorted = keyed.map((x) => x.e);
    }
    return this.#sorted;
  }

  /**
   * A page of envoys ordered by hostname then id; the cursor is the last item's `hostname\0id`. The order
   * is kept between calls, so a page is a binary search plus a scan — not a sort of the whole fleet.
   */
  list(filter: EnvoyListFilter, limit: number, cursor?: string): EnvoyPage {
    const ordered = this.#ordered();
    const lo = cursor === undefined ? 0 : this.#after(cursor);
    const items: EnvoyEntry[] = [];
    let total = 0;
    let more = false;
    for (let i = 0; i < ordered.length; i++) {
      const entry = ordered[i] as EnvoyEntry;
      if (!matchesFilter(entry, filter)) continue;
      total++;
      if (i < lo) continue;
      if (items.length < limit) items.push(entry);
      else more = true;
    }
    const last = items.at(-1);
    return { items, total, nextCursor: more && last ? sortKey(last) : undefined };
  }
}
