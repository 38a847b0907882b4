/**
 * Runs and their per-resource results, as agents reported them:
 *   GET /api/v1/runs?envoy=ID&status=S&failed=true&limit=N&before=MS   newest first, paged by start time
 *   GET /api/v1/runs/{id}                                  one run with every resource outcome (a heartbeat:
 *                                                          its count and resource-set digest instead)
 */
import type { RunsReader } from '../../runs/index.ts';
import { runListLimits, runStatuses } from '../../runs/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

const runSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'envoyId', 'policyVersion', 'startedAt', 'finishedAt', 'status', 'resources'],
  properties: {
    id: { type: 'string' },
    envoyId: { type: 'string' },
    hostname: { type: ['string', 'null'] },
    policyVersion: { type: 'integer' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    receivedAt: { type: 'string', format: 'date-time' },
    dryRun: { type: 'boolean' },
    status: { enum: [...runStatuses] },
    resources: {
      type: 'object',
      properties: { total: { type: 'integer' }, changed: { type: 'integer' }, failed: { type: 'integer' } },
    },
    heartbeat: {
      type: 'boolean',
      description:
        'every resource was already as desired: the run is kept without per-resource outcomes (results is empty)',
    },
  },
};

const listQuery = {
  envoy: { type: 'string', maxLength: 128 },
  status: { type: 'enum', values: runStatuses },
  failed: {
    type: 'boolean',
    description: 'true: only runs with at least one failed resource (status failed or partial)',
  },
  limit: { type: 'integer', min: 1, max: runListLimits.maxLimit },
  before: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, description: 'epoch ms' },
} as const;

export function runRoutes(deps: { runs: RunsReader }): AnyRoute[] {
  return [
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/runs',
      summary: 'Runs, newest first (filter by envoy, status and failed resources; paged by start time)',
      tag: 'runs',
      access: 'fleet.read',
      query: listQuery,
      response: {
        type: 'object',
        required: ['items', 'nextBefore'],
        properties: { items: { type: 'array', items: runSchema }, nextBefore: { type: ['integer', 'null'] } },
      },
      handler: ({ c, query }) =>
        c.json(
          deps.runs.list({
            envoyId: query.envoy,
            status: query.status,
            failed: query.failed,
            before: query.before,
            limit: query.limit,
          }),
        ),
    }),
    route({
      method: 'GET',
      path: '/api/v1/runs/{id}',
      summary: 'One run with every resource outcome',
      tag: 'runs',
      access: 'fleet.read',
      errors: ['not_found'],
      response: {
        ...runSchema,
        required: [...(runSchema['required'] as string[]), 'results'],
        properties: {
          ...(runSchema['properties'] as Record<string, unknown>),
          results: { type: 'array', items: { type: 'object' } },
          resourcesDigest: {
            type: ['string', 'null'],
            description: 'SHA-256 (hex) of the set of resources the run checked (docs/operations.md)',
          },
          resourcesListedIn: {
            type: ['object', 'null'],
            description:
              'for a heartbeat: the newest earlier run of the envoy over the same resources that lists their outcomes',
            properties: { runId: { type: 'string' }, startedAt: { type: 'string', format: 'date-time' } },
          },
        },
      },
      handler: ({ c, param }) => c.json(deps.runs.get(param('id'))),
    }),
  ];
}
