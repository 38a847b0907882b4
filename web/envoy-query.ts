/**
 * The envoy list's search form as a FleetIndex filter, and its cursors in URLs. Paging itself, both ways,
 * is FleetIndex's (list and previousCursor over the order it keeps).
 */
import type { ConvergenceStatus, DriftLevel, Reachability } from '../server/convergence/index.ts';
import { VigoError } from '../server/core/index.ts';
import { compileGlobs } from '../server/enroll/index.ts';
import type { EnvoyListFilter, FleetAdmin } from '../server/fleet/index.ts';
import { parseTraitFilter, traitsMatcher } from '../server/fleet/index.ts';

export const envoyStatusFilters = ['active', 'stale', 'revoked'] as const;
export type EnvoyStatusFilter = (typeof envoyStatusFilters)[number];

/** What the search form holds, as typed (blank fields are absent). */
export interface EnvoySearch {
  readonly q?: string;
  readonly status?: EnvoyStatusFilter;
  readonly trait?: string;
  readonly convergence?: ConvergenceStatus;
  readonly drift?: DriftLevel;
  readonly reachability?: Reachability;
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

/** A select of the search form: one of `values`, or blank for all; anything else is refused. */
export function parseChoice<T extends string>(
  field: string,
  values: readonly T[],
  text: string | undefined,
): T | undefined {
  if (text === undefined || text === '') return undefined;
  const found = values.find((v) => v === text);
  if (found === undefined)
    throw new VigoError(
      'request.invalid',
      `${field}: must be one of ${values.join(', ')}, or empty for all`,
      {
        field,
      },
    );
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
    convergence: search.convergence,
    drift: search.drift,
    reachability: search.reachability,
    hostnamePrefix: q !== undefined && q !== '' && !globCharacters.test(q) ? q : undefined,
    hostnameMatches: q !== undefined && globCharacters.test(q) ? compileGlobs([q]) : undefined,
    traitsMatch: traits.length === 0 ? undefined : traitsMatcher(traits, (hash) => admin.traitsByHash(hash)),
  };
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
