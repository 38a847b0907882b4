/**
 * Live queries (query.execute):
 *   POST /api/v1/queries        read one trait, or ask one named query of the stacks, now on the targeted
 *                               online envoys; answers when all of them answered or at the deadline,
 *                               aggregated
 *   GET  /api/v1/queries/{id}   a running query so far, or one finished in the last few minutes
 *   GET  /api/v1/named-queries  the named queries of the active configuration (queries.vgo)
 */
import type { LiveQueries } from '../../orchestration/index.ts';
import { liveQueryLimits, targetLimits } from '../../orchestration/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

const named = {
  envoyId: { type: 'string' },
  hostname: { type: 'string' },
} as const;

export const liveQueryAnswerSchema: JsonSchema = {
  type: 'object',
  required: [
    'queryId',
    'traitPath',
    'queryName',
    'status',
    'startedAt',
    'finishedAt',
    'deadlineSeconds',
    'targeted',
    'asked',
    'answered',
    'notAnsweredCount',
    'notAnswered',
    'errorCount',
    'errors',
    'values',
    'otherValues',
    'rows',
  ],
  properties: {
    queryId: { type: 'string', format: 'uuid' },
    traitPath: { type: 'string', description: 'the trait read; "" for a named query that runs a probe' },
    queryName: { type: ['string', 'null'], description: 'the named query (queries.vgo) asked, or null' },
    status: { enum: ['running', 'finished'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    deadlineSeconds: { type: 'integer' },
    targeted: { type: 'integer', description: 'envoys the targets selected' },
    asked: { type: 'integer', description: 'envoys a LiveQuery was sent to (their stream was open)' },
    answered: { type: 'integer' },
    notAnsweredCount: { type: 'integer' },
    notAnswered: {
      type: 'array',
      description: `the first ${liveQueryLimits.notAnsweredListed} by hostname`,
      items: {
        type: 'object',
        required: ['envoyId', 'hostname', 'reason', 'askedToConnect'],
        properties: {
          ...named,
          reason: {
            enum: ['offline', 'timeout', 'pending'],
            description:
              'offline: no open stream; timeout: no answer by the deadline; pending: still running',
          },
          askedToConnect: {
            type: 'boolean',
            description: 'poll mode: its next check-in reply asks it to open its stream',
          },
        },
      },
    },
    errorCount: { type: 'integer' },
    errors: {
      type: 'array',
      description: 'the first rawLimit envoys that could not read the trait',
      items: {
        type: 'object',
        required: ['envoyId', 'hostname', 'error'],
        properties: { ...named, error: { type: 'string' } },
      },
    },
    values: {
      type: 'array',
      description:
        'each distinct value (compared as canonical JSON) with how many envoys answered it, most first',
      items: {
        type: 'object',
        required: ['value', 'count'],
        properties: { value: {}, count: { type: 'integer' } },
      },
    },
    otherValues: {
      type: 'integer',
      description: `answers whose value was not counted on its own: beyond ${liveQueryLimits.distinctValuesMax} distinct values or their size budget`,
    },
    rows: {
      type: 'array',
      description: 'the first rawLimit answers with their values',
      items: {
        type: 'object',
        required: ['envoyId', 'hostname', 'value'],
        properties: { ...named, value: {} },
      },
    },
  },
};

export const namedQueriesSchema: JsonSchema = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      description: 'by name',
      items: {
        type: 'object',
        required: ['name', 'description', 'trait', 'probe', 'args'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          trait: { type: ['string', 'null'], description: 'the trait it reads, or null for a probe' },
          probe: { type: ['string', 'null'], description: 'the probe it runs, or null for a trait' },
          args: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
};

const queryBody = {
  targets: {
    type: 'string-array',
    maxItems: targetLimits.maxTargets,
    maxItemLength: targetLimits.maxTargetBytes,
  },
  where: { type: 'string-array', optional: true, maxItems: targetLimits.maxWhere, maxItemLength: 1024 },
  traitPath: { type: 'string', optional: true, maxLength: liveQueryLimits.traitPathMaxBytes },
  name: { type: 'string', optional: true, maxLength: 64 },
  deadlineSeconds: { type: 'integer', optional: true },
  rawLimit: { type: 'integer', optional: true },
} as const;

export function queryRoutes(deps: { queries: LiveQueries }): AnyRoute[] {
  return [
    route<typeof queryBody>({
      method: 'POST',
      path: '/api/v1/queries',
      summary:
        `Live query: read one trait (traitPath) or ask one named read-only query of the stacks (name) now on the targeted online envoys (deadline 1-${liveQueryLimits.deadlineMaxSeconds} s, ` +
        `default ${liveQueryLimits.deadlineDefaultSeconds}; raw rows 0-${liveQueryLimits.rawLimitMax}, default ${liveQueryLimits.rawLimitDefault})`,
      tag: 'orchestration',
      access: 'query.execute',
      errors: [
        'query.trait_path_invalid',
        'query.invalid',
        'query.unknown',
        'query.busy',
        'orchestration.target_invalid',
        'orchestration.target_unknown',
        'orchestration.targets_empty',
        'fleet.trait_filter',
        'unavailable',
      ],
      body: queryBody,
      response: liveQueryAnswerSchema,
      handler: async ({ c, ctx, body }) => c.json(await deps.queries.run(ctx, body)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/named-queries',
      summary:
        'The named read-only queries of the active configuration (queries.vgo), which POST /api/v1/queries asks by name',
      tag: 'orchestration',
      access: 'query.execute',
      response: namedQueriesSchema,
      handler: ({ c }) =>
        c.json({
          items: Object.entries(deps.queries.named()).map(([name, query]) => ({ name, ...query })),
        }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/queries/{id}',
      summary: 'A live query: so far while it runs, or its answer for a few minutes after it finished',
      tag: 'orchestration',
      access: 'query.execute',
      errors: ['query.not_found'],
      response: liveQueryAnswerSchema,
      handler: ({ c, param }) =>
        c.body(deps.queries.get(param('id')), 200, { 'content-type': 'application/json; charset=UTF-8' }),
    }),
  ];
}
