/**
 * The envoy list's search as a FleetIndex filter, its sort orders, and its cursors in URLs. The query
 * language is the REST API's (server/fleet envoy-query: status, convergence, drift, reachability,
 * hostname, hostname_prefix, trait), parsed by the same code; the page adds `q`, its search box, which
 * reads a plain word as a hostname prefix ("web-") and text with * ? [ as a glob ("web-*.eu").
 * Paging itself, both ways, is FleetIndex's (list and previousCursor over the order it keeps).
 */
import { VigoError } from '../server/core/index.ts';
import type {
  EnvoyEntry,
  EnvoyListFilter,
  EnvoyQuery,
  EnvoyQueryKey,
  FleetAdmin,
} from '../server/fleet/index.ts';
import { envoyListFilter, envoyQueryKeys, parseEnvoyQuery } from '../server/fleet/index.ts';
import { envoyHealth, envoyHealthRank } from './fleet-stats.ts';

/** What the search form and the URL hold, parsed (blank fields are absent). */
export interface EnvoySearch extends EnvoyQuery {
  readonly q?: string;
}

const globCharacters = /[*?[]/;

/** The page's parameters as text: the API's query language plus the search box. */
export function parseEnvoySearch(raw: Readonly<Partial<Record<EnvoyQueryKey | 'q', string>>>): EnvoySearch {
  const q = raw.q?.trim();
  return { ...parseEnvoyQuery(raw), q: q === undefined || q === '' ? undefined : q };
}

/** The search box folded into the API's hostname parameters; giving both ways at once is refused. */
function withSearchBox(search: EnvoySearch): EnvoyQuery {
  const q = search.q?.trim().toLowerCase();
  if (q === undefined || q === '') return search;
  const key = globCharacters.test(q) ? 'hostname' : 'hostname_prefix';
  if (search[key] !== undefined)
    throw new VigoError('request.invalid', `q: give the search box or ${key}, not both`, { field: 'q' });
  return { ...search, [key]: q };
}

export function envoyFilter(search: EnvoySearch, admin: Pick<FleetAdmin, 'traitsByHash'>): EnvoyListFilter {
  return envoyListFilter(withSearchBox(search), (hash) => admin.traitsByHash(hash));
}

/** The search as URL parameters (for links that keep it: pager, sort headers, bulk actions). */
export function searchParams(search: EnvoySearch): URLSearchParams {
  const params = new URLSearchParams();
  if (search.q !== undefined) params.set('q', search.q);
  for (const key of envoyQueryKeys) {
    const value = search[key];
    if (value !== undefined) params.set(key, value);
  }
  return params;
}

export const envoySorts = ['hostname', 'state', 'last_seen', 'version', 'agent'] as const;
export type EnvoySort = (typeof envoySorts)[number];
export type SortDirection = 'asc' | 'desc';

export interface EnvoyOrder {
  readonly sort: EnvoySort;
  readonly dir: SortDirection;
}

export const defaultOrder: EnvoyOrder = { sort: 'hostname', dir: 'asc' };

export function parseOrder(sort: string | undefined, dir: string | undefined): EnvoyOrder {
  const s = sort === undefined || sort === '' ? 'hostname' : envoySorts.find((v) => v === sort);
  if (s === undefined)
    throw new VigoError('request.invalid', `sort: must be one of ${envoySorts.join(', ')}`, {
      field: 'sort',
    });
  if (dir !== undefined && dir !== '' && dir !== 'asc' && dir !== 'desc')
    throw new VigoError('request.invalid', 'dir: must be asc or desc', { field: 'dir' });
  return { sort: s, dir: dir === 'desc' ? 'desc' : 'asc' };
}

type Key = (e: EnvoyEntry) => number | string;
const sortKeys: Readonly<Record<EnvoySort, Key>> = {
  hostname: (e) => e.hostname,
  state: (e) => envoyHealthRank[envoyHealth(e)],
  last_seen: (e) => e.lastSeenAtMs,
  version: (e) => e.policyVersion,
  agent: (e) => e.agentVersion,
};

/**
 * `entries` — in hostname order, as FleetIndex.list returns them — in the chosen order. The sort is
 * stable, so ties keep hostname order without comparing hostnames again; keys are computed once per
 * entry. Sorting 100,000 envoys is one keyed pass plus one sort on numbers (or short strings).
 */
export function sortEnvoys(entries: readonly EnvoyEntry[], order: EnvoyOrder): EnvoyEntry[] {
  if (order.sort === 'hostname') return order.dir === 'asc' ? [...entries] : [...entries].reverse();
  const key = sortKeys[order.sort];
  const sign = order.dir === 'desc' ? -1 : 1;
  const keyed = entries.map((e) => ({ e, k: key(e) }));
  keyed.sort((a, b) => (a.k === b.k ? 0 : (a.k < b.k ? -1 : 1) * sign));
  return keyed.map((x) => x.e);
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
