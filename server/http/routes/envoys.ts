/**
 * Envoys, from the in-memory FleetIndex (lists never touch the database):
 *   GET  /api/v1/envoys                 list: the query language of fleet/envoy-query.ts (status, convergence,
 *                                       drift, reachability, hostname glob or prefix, traits); paged
 *   GET  /api/v1/envoys/{id}            one envoy with its traits, last runs and last resource outcomes
 *   POST /api/v1/envoys/{id}/revoke     refuse its check-ins from now on (audited)
 *   POST /api/v1/envoys/{id}/push       send the full bundle at its next check-in, now if online (audited)
 */
import { convergenceStatuses, driftLevels, reachabilities } from '../../convergence/index.ts';
import { VigoError } from '../../core/index.ts';
import type { EnvoyEntry, FleetAdmin, FleetIndex } from '../../fleet/index.ts';
import { envoyListFilter, envoyQueryRules, envoyReachability } from '../../fleet/index.ts';
import type { RunsReader } from '../../runs/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export const envoyListLimits = { defaultLimit: 100, maxLimit: 1000 } as const;
const statuses = ['active', 'revoked', 'stale'] as const;

export interface EnvoyRoutesDeps {
  readonly fleet: FleetIndex;
  readonly admin: FleetAdmin;
  readonly runs: RunsReader;
}

function decodeCursor(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  if (!decoded.includes('\u0000'))
    throw new VigoError('request.invalid', 'cursor: not a cursor from a previous page', { field: 'cursor' });
  return decoded;
}

export function envoyView(entry: EnvoyEntry): Record<string, unknown> {
  return {
    id: entry.id,
    hostname: entry.hostname,
    status: entry.status === 'active' && entry.stale ? 'stale' : entry.status,
    enrolledAt: new Date(entry.enrolledAtMs).toISOString(),
    lastSeenAt: entry.lastSeenAtMs === 0 ? null : new Date(entry.lastSeenAtMs).toISOString(),
    policyVersion: entry.policyVersion,
    stateFingerprint: entry.stateFingerprint || null,
    traitsHash: entry.traitsHash || null,
    agentVersion: entry.agentVersion || null,
    intervalMs: entry.intervalMs || null,
    forcePush: entry.forcePush,
    convergence: entry.convergence.status,
    drift: entry.convergence.drift,
    reachability: envoyReachability(entry),
    convergenceSince:
      entry.convergence.sinceMs === 0 ? null : new Date(entry.convergence.sinceMs).toISOString(),
    lastRunId: entry.convergence.lastRunId || null,
  };
}

const nullableString = { type: ['string', 'null'] } as const;
export const envoySchema: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'hostname',
    'status',
    'enrolledAt',
    'lastSeenAt',
    'policyVersion',
    'forcePush',
    'convergence',
    'drift',
    'reachability',
  ],
  properties: {
    id: { type: 'string' },
    hostname: { type: 'string' },
    status: { enum: [...statuses] },
    enrolledAt: { type: 'string', format: 'date-time' },
    lastSeenAt: nullableString,
    policyVersion: { type: 'integer' },
    stateFingerprint: nullableString,
    traitsHash: nullableString,
    agentVersion: nullableString,
    intervalMs: { type: ['integer', 'null'] },
    forcePush: { type: 'boolean' },
    convergence: { enum: [...convergenceStatuses], description: 'failure axis (docs/convergence.md)' },
    drift: { enum: [...driftLevels] },
    reachability: { enum: [...reachabilities] },
    convergenceSince: { ...nullableString, description: 'when convergence or drift last changed' },
    lastRunId: { ...nullableString, description: 'the last run counted for convergence' },
  },
};

const listQuery = {
  ...envoyQueryRules,
  limit: { type: 'integer', min: 1, max: envoyListLimits.maxLimit },
  cursor: { type: 'string', maxLength: 1024 },
} as const;

export function envoyRoutes(deps: EnvoyRoutesDeps): AnyRoute[] {
  return [
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/envoys',
      summary:
        'List envoys (filter by status incl. never_seen and failing, convergence, drift, reachability, hostname glob, traits; paged)',
      tag: 'envoys',
      access: 'fleet.read',
      errors: ['fleet.trait_filter'],
      query: listQuery,
      response: {
        type: 'object',
        required: ['items', 'total', 'nextCursor'],
        properties: {
          items: { type: 'array', items: envoySchema },
          total: { type: 'integer' },
          nextCursor: nullableString,
        },
      },
      handler: ({ c, query }) => {
        const filter = envoyListFilter(query, (hash) => deps.admin.traitsByHash(hash));
        const page = deps.fleet.list(
          filter,
          query.limit ?? envoyListLimits.defaultLimit,
          decodeCursor(query.cursor),
        );
        return c.json({
          items: page.items.map(envoyView),
          total: page.total,
          nextCursor:
            page.nextCursor === undefined ? null : Buffer.from(page.nextCursor).toString('base64url'),
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/envoys/{id}',
      summary: 'One envoy with its traits, last runs and the outcome of each resource in its last run',
      tag: 'envoys',
      access: 'fleet.read',
      errors: ['fleet.envoy_not_found'],
      response: {
        type: 'object',
        required: [...(envoySchema['required'] as string[]), 'traits', 'runs', 'resources'],
        properties: {
          ...(envoySchema['properties'] as Record<string, unknown>),
          traits: { type: ['object', 'null'] },
          runs: { type: 'array', items: { type: 'object' } },
          resources: {
            type: 'array',
            items: { type: 'object' },
            description: 'empty when the last run was a heartbeat (runs[0].heartbeat): nothing changed in it',
          },
        },
      },
      handler: ({ c, param }) => {
        const entry = deps.admin.get(param('id'));
        const latest = deps.runs.latestFor(entry.id);
        return c.json({
          ...envoyView(entry),
          traits: deps.admin.traitsByHash(entry.traitsHash) ?? null,
          runs: deps.runs.list({ envoyId: entry.id, limit: 10 }).items,
          resources: latest?.results ?? [],
        });
      },
    }),
    route<{ reason: { type: 'string'; optional: true; maxLength: 1024 } }>({
      method: 'POST',
      path: '/api/v1/envoys/{id}/revoke',
      summary: 'Revoke an envoy: its check-ins are refused from now on',
      tag: 'envoys',
      access: 'fleet.write',
      errors: ['fleet.envoy_not_found'],
      body: { reason: { type: 'string', optional: true, maxLength: 1024 } },
      response: {
        type: 'object',
        required: ['envoyId', 'revoked', 'changed'],
        properties: { envoyId: { type: 'string' }, revoked: { const: true }, changed: { type: 'boolean' } },
      },
      handler: ({ c, ctx, body, param }) => c.json(deps.admin.revoke(ctx, param('id'), body.reason ?? '')),
    }),
    route({
      method: 'POST',
      path: '/api/v1/envoys/{id}/push',
      summary:
        'Force-push: send the full bundle at the next check-in, and check in now if its stream is open',
      tag: 'envoys',
      access: 'fleet.write',
      errors: ['fleet.envoy_not_found', 'fleet.envoy_revoked'],
      response: {
        type: 'object',
        required: ['envoyId', 'forcePush'],
        properties: {
          envoyId: { type: 'string' },
          forcePush: { const: true },
          pushedNow: { type: 'boolean', description: 'its stream was open: it was told to check in now' },
        },
      },
      handler: ({ c, ctx, param }) => c.json(deps.admin.requestPush(ctx, param('id'))),
    }),
  ];
}
