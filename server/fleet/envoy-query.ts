/**
 * The envoy list's query language, one parser for the REST API (GET /api/v1/envoys) and the web page
 * (/envoys):
 *
 *   status=active|stale|revoked|never_seen|failing    convergence=converged|degraded|failed|no_data
 *   drift=none|changed|diverged                        reachability=online|stale|offline
 *   hostname=db-*        a hostname glob (* ? [..]); without glob characters, that exact hostname
 *   hostname_prefix=db-  hostnames starting with it
 *   trait=os.family=debian,memory.total_mb>=4096      trait filters joined by commas, all must match
 *
 * A blank value is no filter (an HTML form sends empty selects); anything else that is not one of the
 * listed words is refused with request.invalid, a bad trait filter with fleet.trait_filter.
 */
import { convergenceStatuses, driftLevels, reachabilities } from '../convergence/index.ts';
import type { ConvergenceStatus, DriftLevel, Reachability } from '../convergence/index.ts';
import { VigoError } from '../core/index.ts';
import { compileGlobs } from '../enroll/index.ts';
import type { EnvoyListFilter, EnvoyListStatus } from './fleet-index.ts';
import { envoyListStatuses } from './fleet-index.ts';
import { parseTraitFilter, traitsMatcher } from './trait-filter.ts';

export const envoyQueryLimits = { hostnameLength: 253, traitLength: 1024, traitFilters: 16 } as const;

/** The query parameters as an HTTP route declares them (OpenAPI shows the closed lists). */
export const envoyQueryRules = {
  status: {
    type: 'enum',
    values: envoyListStatuses,
    description: 'never_seen: enrolled, no check-in yet; failing: its last run had failed resources',
  },
  convergence: { type: 'enum', values: convergenceStatuses },
  drift: { type: 'enum', values: driftLevels },
  reachability: { type: 'enum', values: reachabilities },
  hostname: {
    type: 'string',
    maxLength: envoyQueryLimits.hostnameLength,
    description: 'hostname glob, e.g. web-*',
  },
  hostname_prefix: { type: 'string', maxLength: envoyQueryLimits.hostnameLength },
  trait: {
    type: 'string',
    maxLength: envoyQueryLimits.traitLength,
    description: 'trait filters joined by ",": os.family=debian,memory.total_mb>=4096',
  },
} as const;

export type EnvoyQueryKey = keyof typeof envoyQueryRules;
export const envoyQueryKeys = Object.keys(envoyQueryRules) as EnvoyQueryKey[];

/** The parameters as text, for a form that may send them blank (each bounded like the API's). */
export const envoyQueryTextRules: Readonly<Record<EnvoyQueryKey, { type: 'string'; maxLength: number }>> = {
  status: { type: 'string', maxLength: 16 },
  convergence: { type: 'string', maxLength: 16 },
  drift: { type: 'string', maxLength: 16 },
  reachability: { type: 'string', maxLength: 16 },
  hostname: { type: 'string', maxLength: envoyQueryLimits.hostnameLength },
  hostname_prefix: { type: 'string', maxLength: envoyQueryLimits.hostnameLength },
  trait: { type: 'string', maxLength: envoyQueryLimits.traitLength },
};

/** A parsed query; absent fields filter nothing. */
export interface EnvoyQuery {
  readonly status?: EnvoyListStatus;
  readonly convergence?: ConvergenceStatus;
  readonly drift?: DriftLevel;
  readonly reachability?: Reachability;
  readonly hostname?: string;
  readonly hostname_prefix?: string;
  readonly trait?: string;
}

function choice<T extends string>(
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

function bounded(field: string, text: string | undefined, maxLength: number): string | undefined {
  const trimmed = text?.trim();
  if (trimmed === undefined || trimmed === '') return undefined;
  if (trimmed.length > maxLength)
    throw new VigoError('request.invalid', `${field}: longer than ${maxLength} characters`, { field });
  return trimmed;
}

/** Parses the parameters as text (blank = absent); throws request.invalid naming the field. */
export function parseEnvoyQuery(raw: Readonly<Partial<Record<EnvoyQueryKey, string>>>): EnvoyQuery {
  return {
    status: choice('status', envoyListStatuses, raw.status?.trim()),
    convergence: choice('convergence', convergenceStatuses, raw.convergence?.trim()),
    drift: choice('drift', driftLevels, raw.drift?.trim()),
    reachability: choice('reachability', reachabilities, raw.reachability?.trim()),
    hostname: bounded('hostname', raw.hostname, envoyQueryLimits.hostnameLength),
    hostname_prefix: bounded('hostname_prefix', raw.hostname_prefix, envoyQueryLimits.hostnameLength),
    trait: bounded('trait', raw.trait, envoyQueryLimits.traitLength),
  };
}

/**
 * The FleetIndex filter of a query. Trait filters are parsed here, so a bad one is refused before any
 * envoy is looked at; each traits document is then evaluated once (traitsMatcher).
 */
export function envoyListFilter(
  query: EnvoyQuery,
  traitsByHash: (hash: string) => Record<string, unknown> | undefined,
): EnvoyListFilter {
  const traitTexts = (query.trait ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (traitTexts.length > envoyQueryLimits.traitFilters)
    throw new VigoError(
      'fleet.trait_filter',
      `${traitTexts.length} trait filters; at most ${envoyQueryLimits.traitFilters}`,
      { field: 'trait' },
    );
  const traits = traitTexts.map(parseTraitFilter);
  const prefix = query.hostname_prefix?.toLowerCase();
  return {
    status: query.status,
    convergence: query.convergence,
    drift: query.drift,
    reachability: query.reachability,
    hostnamePrefix: prefix === undefined || prefix === '' ? undefined : prefix,
    hostnameMatches:
      query.hostname === undefined || query.hostname === '' ? undefined : compileGlobs([query.hostname]),
    traitsMatch: traits.length === 0 ? undefined : traitsMatcher(traits, traitsByHash),
  };
}
