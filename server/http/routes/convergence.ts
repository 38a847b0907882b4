/**
 * Convergence (docs/convergence.md), from memory and one indexed table:
 *   GET /api/v1/envoys/{id}/convergence/history   an envoy's transitions, newest first; paged by `before`
 *   GET /api/v1/fleet/convergence                 fleet aggregates by failure status, drift and reachability
 */
import {
  convergenceStatuses,
  divergedAfterRuns,
  driftLevels,
  failedFraction,
  historyLimits,
  offlineFactor,
  reachabilities,
} from '../../convergence/index.ts';
import type { ConvergenceHistoryReader } from '../../convergence/index.ts';
import type { FleetAdmin, FleetIndex } from '../../fleet/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface ConvergenceRoutesDeps {
  readonly fleet: FleetIndex;
  readonly admin: FleetAdmin;
  readonly history: ConvergenceHistoryReader;
  readonly now?: () => number;
}

const historyQuery = {
  limit: { type: 'integer', min: 1, max: historyLimits.maxLimit },
  before: {
    type: 'integer',
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    description: 'nextBefore of the previous page',
  },
} as const;

const counts = (keys: readonly string[]): JsonSchema => ({
  type: 'object',
  required: [...keys],
  properties: Object.fromEntries(keys.map((k) => [k, { type: 'integer' }])),
});

const historyItem: JsonSchema = {
  type: 'object',
  required: [
    'seq',
    'at',
    'cause',
    'runId',
    'fromStatus',
    'status',
    'fromDrift',
    'drift',
    'fromReachability',
    'reachability',
    'changedStreak',
  ],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    cause: {
      enum: ['run', 'reachability'],
      description: 'a run changed status or drift, or the fleet sweep saw reachability change',
    },
    runId: { type: ['string', 'null'], description: 'null for a reachability transition' },
    fromStatus: { enum: [...convergenceStatuses] },
    status: { enum: [...convergenceStatuses] },
    fromDrift: { enum: [...driftLevels] },
    drift: { enum: [...driftLevels] },
    fromReachability: {
      enum: [...reachabilities, null],
      description: 'null for a transition caused by a run',
    },
    reachability: { enum: [...reachabilities, null] },
    changedStreak: { type: 'integer' },
  },
};

export function convergenceRoutes(deps: ConvergenceRoutesDeps): AnyRoute[] {
  const now = deps.now ?? Date.now;
  return [
    route<Record<never, never>, typeof historyQuery>({
      method: 'GET',
      path: '/api/v1/envoys/{id}/convergence/history',
      summary: "An envoy's convergence transitions (failure status, drift, reachability), newest first",
      tag: 'envoys',
      access: 'fleet.read',
      errors: ['fleet.envoy_not_found'],
      query: historyQuery,
      response: {
        type: 'object',
        required: ['envoyId', 'items', 'nextBefore'],
        properties: {
          envoyId: { type: 'string' },
          items: { type: 'array', items: historyItem },
          nextBefore: { type: ['integer', 'null'] },
        },
      },
      handler: ({ c, param, query }) => {
        const entry = deps.admin.get(param('id'));
        const page = deps.history.page(entry.id, query.limit ?? historyLimits.defaultLimit, query.before);
        return c.json({ envoyId: entry.id, ...page });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/fleet/convergence',
      summary: 'Fleet convergence: active envoys counted by failure status, drift and reachability',
      tag: 'envoys',
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['total', 'status', 'drift', 'reachability', 'convergedFraction', 'computedAt', 'rules'],
        properties: {
          total: { type: 'integer' },
          status: counts(convergenceStatuses),
          drift: counts(driftLevels),
          reachability: counts(reachabilities),
          convergedFraction: {
            type: ['number', 'null'],
            description: 'converged / envoys that reported a run; null when none has',
          },
          computedAt: { type: 'string', format: 'date-time', description: 'the fleet sweep that counted' },
          rules: {
            type: 'object',
            description: 'the fixed rules of the model (docs/convergence.md)',
            required: ['divergedAfterRuns', 'failedFraction', 'offlineFactor'],
            properties: {
              divergedAfterRuns: { type: 'integer', description: 'consecutive runs with changes → diverged' },
              failedFraction: { type: 'number', description: 'share of applied resources failed → failed' },
              offlineFactor: { type: 'number', description: 'cadences unseen → offline' },
            },
          },
        },
      },
      handler: ({ c }) => {
        const totals = deps.fleet.convergenceTotals(now());
        return c.json({
          total: totals.total,
          status: totals.status,
          drift: totals.drift,
          reachability: totals.reachability,
          convergedFraction: totals.convergedFraction,
          computedAt: new Date(totals.computedAtMs).toISOString(),
          rules: { divergedAfterRuns, failedFraction, offlineFactor },
        });
      },
    }),
  ];
}
