/**
 * The envoy list's search form as a FleetIndex filter, and cursor paging in both directions. FleetIndex
 * pages forward (binary search + scan, and a full pass to count matches); the page before a cursor is found
 * here in one pass over the index with a heap of limit+1 envoys, so "Previous" costs about what "Next"
 * costs, whatever the fleet size.
 */
import { VigoError } from '../server/core/index.ts';
import { compileGlobs } from '../server/enroll/index.ts';
import type { EnvoyEntry, EnvoyListFilter, FleetAdmin } from '../server/fleet/index.ts';
import { parseTraitFilter, traitsMatcher } from '../server/fleet/index.ts';

export const envoyStatusFilters = ['active', 'stale', 'revoked'] as const;
export type EnvoyStatusFilter = (typeof envoyStatusFilters)[number];

/** What the search form holds, as typed (blank fields are absent). */
export interface EnvoySearch {
  readonly q?: string;
  readonly status?: EnvoyStatusFilter;
  readonly trait?: string;
}

const globCharacters = /[*?[]/;

export function parseStatusFilter(text: string | undefined): EnvoyStatusFilter | undefined {
  if (text === undefined || text === '') return undefined;
  const found = envoyStatusFilters.find((s) => s === text);
  if (found === undefined) {
    throw new VigoError(
      'request.invalid',
      `status: must be one of ${envoyStatusFilters.join(', ')}, or empty for all`,
      {
        field: 'status',
      },
    );
  }
  return found;
}

/**
 * The search box takes a hostname prefix ("web-") or a glob ("web-*.eu"); the trait box takes filters
 * joined by commas ("os.family=debian,memory.total_mb>=4096").
 */
export function envoyFilter(search: EnvoySearch, admin: Pick<FleetAdmin, 'traitsByHash'>): EnvoyListFilter {
  const q = search.q?.trim().toLowerCase();
  const traits = (search.trait ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .map(parseTraitFilter);
  return {
    status: search.status,
    hostnamePrefix: q !== undefined && q !== '' && !globCharacters.test(q) ? q : undefined,
    hostnameMatches: q !== undefined && globCharacters.test(q) ? compileGlobs([q]) : undefined,
    traitsMatch: traits.length === 0 ? undefined : traitsMatcher(traits, (hash) => admin.traitsByHash(hash)),
  };
}

/** FleetIndex's order and cursor: hostname, then id. */
export function envoySortKey(entry: Pick<EnvoyEntry, 'hostname' | 'id'>): string {
  return `${entry.hostname}\u0000${entry.id}`;
}

/** The same test FleetIndex.list applies, for walking the index backwards. */
export function matchesEnvoyFilter(entry: EnvoyEntry, filter: EnvoyListFilter): boolean {
  if (filter.status === 'stale') {
    if (!(entry.stale && entry.status === 'active')) return false;
  } else if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.hostnamePrefix && !entry.hostname.startsWith(filter.hostnamePrefix)) return false;
  if (filter.hostnameMatches !== undefined && !filter.hostnameMatches(entry.hostname)) return false;
  if (filter.traitsMatch !== undefined && !filter.traitsMatch(entry.traitsHash)) return false;
  return true;
}

type Position = Pick<EnvoyEntry, 'hostname' | 'id'>;

/** FleetIndex's order without building key strings: `hostname\0id` sorts exactly as (hostname, id). */
function compareEnvoys(a: Position, b: Position): number {
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A min-heap of at most `capacity` envoys that keeps the last ones in list order. */
class LastEnvoys {
  readonly #items: Position[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  get first(): Position | undefined {
    return this.#items[0];
  }

  offer(entry: Position): void {
    const items = this.#items;
    if (items.length < this.#capacity) {
      items.push(entry);
      this.#up(items.length - 1);
    } else if (compareEnvoys(entry, items[0] as Position) > 0) {
      items[0] = entry;
      this.#down(0);
    }
  }

  #less(i: number, j: number): boolean {
    return compareEnvoys(this.#items[i] as Position, this.#items[j] as Position) < 0;
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    [items[i], items[j]] = [items[j] as Position, items[i] as Position];
  }

  #up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(index: number): void {
    const size = this.#items.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      let least = i;
      if (left < size && this.#less(left, least)) least = left;
      if (left + 1 < size && this.#less(left + 1, least)) least = left + 1;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}

/**
 * The cursor of the page before the one that starts after `cursor`: undefined means "the first page".
 * That page holds the last `limit` matching envoys at or before `cursor`; its own cursor is the matching
 * envoy just before them, i.e. the (limit+1)-th last matching envoy at or before `cursor`.
 */
export function previousCursor(
  entries: Iterable<EnvoyEntry>,
  filter: EnvoyListFilter,
  cursor: string,
  limit: number,
): string | undefined {
  const split = cursor.indexOf('\u0000');
  const at: Position = { hostname: cursor.slice(0, split), id: cursor.slice(split + 1) };
  const heap = new LastEnvoys(limit + 1);
  for (const entry of entries) {
    if (compareEnvoys(entry, at) <= 0 && matchesEnvoyFilter(entry, filter)) heap.offer(entry);
  }
  const first = heap.first;
  return heap.size > limit && first !== undefined ? envoySortKey(first) : undefined;
}

/** Cursors travel in URLs as base64url, like the REST API's. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  if (!decoded.includes('\u0000')) {
    throw new VigoError(
      'request.invalid',
      'cursor: not a cursor from a previous page; start again from the first page',
      {
        field: 'cursor',
      },
    );
  }
  return decoded;
}
