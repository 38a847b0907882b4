/**
 * Tasks over the agent stream:
 *   POST /api/v1/tasks              start a task run (or dryRun: the targets and batch plan)
 *   POST /api/v1/task               the same, with Vigo's body (target, operator, healthCheck command)
 *   GET  /api/v1/tasks              runs, newest first, paged by creation time
 *   GET  /api/v1/tasks/{id}         one run with its targets' outcomes (paged: limit, offset)
 *   POST /api/v1/tasks/{id}/abort   stop what has not been delivered yet
 */
import type { TaskService } from '../../orchestration/index.ts';
import {
  parseTaskRequest,
  runStatuses,
  targetLimits,
  targetStates,
  taskLimits,
  taskPageLimits,
} from '../../orchestration/index.ts';
import type { AnyRoute, JsonSchema, RouteRequest } from '../route-table.ts';
import { route } from '../route-table.ts';

const amountSchema: JsonSchema = {
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d{1,7}\\s*%?\\s*$' },
  ],
  description: 'a count ("10" or 10) or a percentage of the targets ("25%")',
};
const paramsSchema: JsonSchema = {
  type: 'object',
  maxProperties: taskLimits.maxParams,
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};

const common = {
  command: { type: 'string', optional: true, maxLength: taskLimits.maxCommandBytes },
  taskName: { type: 'string', optional: true, maxLength: taskLimits.maxTaskNameBytes },
  params: { type: 'json', optional: true, schema: paramsSchema },
  target: { type: 'string', optional: true, maxLength: targetLimits.maxTargetBytes },
  timeout: { type: 'integer', optional: true },
  nice: { type: 'integer', optional: true },
  batchSize: { type: 'json', optional: true, schema: amountSchema },
  maxFailures: { type: 'json', optional: true, schema: amountSchema },
  dryRun: { type: 'boolean', optional: true },
  force: { type: 'boolean', optional: true },
} as const;

const nativeBody = {
  ...common,
  targets: {
    type: 'string-array',
    optional: true,
    maxItems: targetLimits.maxTargets,
    maxItemLength: targetLimits.maxTargetBytes,
  },
  where: { type: 'string-array', optional: true, maxItems: targetLimits.maxWhere, maxItemLength: 1024 },
  canary: { type: 'integer', optional: true },
  healthCheck: {
    type: 'json',
    optional: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', maxLength: taskLimits.maxUrlLength },
        command: { type: 'string', maxLength: taskLimits.maxCommandBytes },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: taskLimits.maxHealthCheckTimeoutSeconds },
      },
    },
  },
  pauseSeconds: { type: 'integer', optional: true },
  expires: { type: 'string', optional: true, maxLength: 32 },
} as const;

const vigoBody = {
  ...common,
  operator: { type: 'string', optional: true, maxLength: taskLimits.maxOperatorLength },
  healthCheck: { type: 'string', optional: true, maxLength: taskLimits.maxCommandBytes },
} as const;

const countsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(targetStates.map((s) => [s, { type: 'integer' }])),
};
const nullableString = { type: ['string', 'null'] } as const;

const summarySchema: JsonSchema = {
  type: 'object',
  required: ['id', 'kind', 'actor', 'status', 'createdAt', 'batches', 'currentBatch', 'targets', 'counts'],
  properties: {
    id: { type: 'string' },
    kind: { enum: ['command', 'named'] },
    command: nullableString,
    taskName: nullableString,
    actor: { type: 'string' },
    status: { enum: [...runStatuses] },
    message: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableString,
    timeoutSeconds: { type: 'integer' },
    nice: { type: 'integer' },
    batches: { type: 'integer' },
    currentBatch: { type: 'integer' },
    targets: { type: 'integer' },
    counts: countsSchema,
  },
};

const rolloutSchema: JsonSchema = {
  type: 'object',
  properties: {
    batchSize: nullableString,
    maxFailures: nullableString,
    canary: { type: ['integer', 'null'] },
    healthCheck: { type: ['object', 'null'] },
    pauseSeconds: { type: 'integer' },
  },
};

const targetSchema: JsonSchema = {
  type: 'object',
  required: ['taskId', 'envoyId', 'hostname', 'batch', 'state', 'exitCode', 'stdout', 'stderr'],
  properties: {
    taskId: { type: 'string' },
    envoyId: { type: 'string' },
    hostname: { type: 'string' },
    batch: { type: 'integer' },
    state: { enum: [...targetStates] },
    exitCode: { type: ['integer', 'null'] },
    stdout: { type: 'string' },
    stderr: { type: 'string' },
    truncated: { type: 'boolean' },
    sentAt: nullableString,
    startedAt: nullableString,
    finishedAt: nullableString,
    message: { type: 'string' },
  },
};

const startResponse: JsonSchema = {
  oneOf: [
    summarySchema,
    {
      type: 'object',
      required: ['dryRun', 'targets', 'batches', 'rollout'],
      properties: {
        dryRun: { const: true },
        targets: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              envoyId: { type: 'string' },
              hostname: { type: 'string' },
              online: { type: 'boolean' },
            },
          },
        },
        batches: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              batch: { type: 'integer' },
              hostnames: { type: 'array', items: { type: 'string' } },
            },
          },
        },
        rollout: rolloutSchema,
      },
    },
  ],
};

const startErrors = [
  'task.limit',
  'task.unknown',
  'task.param_unknown',
  'task.param_missing',
  'task.param_invalid',
  'task.invalid',
  'task.blocked',
  'task.health_check_forbidden',
  'orchestration.target_invalid',
  'orchestration.target_unknown',
  'orchestration.targets_empty',
  'fleet.trait_filter',
] as const;

const detailQuery = {
  limit: {
    type: 'integer',
    min: 1,
    max: taskPageLimits.maxTargets,
    description: 'targets per page (default 1000)',
  },
  offset: { type: 'integer', min: 0, max: 10_000_000, description: 'nextOffset of the previous page' },
} as const;

const listQuery = {
  limit: { type: 'integer', min: 1, max: 500 },
  cursor: { type: 'string', maxLength: 128, description: 'nextCursor of the previous page' },
} as const;

type StartRequest = Pick<RouteRequest<typeof nativeBody, Record<never, never>>, 'c' | 'ctx'> & {
  readonly body: Readonly<Record<string, unknown>>;
};

export function taskRoutes(deps: { tasks: TaskService }): AnyRoute[] {
  // Both body shapes become one TaskRequest.
  const start = ({ c, ctx, body }: StartRequest): Response => {
    const started = deps.tasks.start(ctx, parseTaskRequest(body, ctx));
    return c.json(started, 'dryRun' in started ? 200 : 201);
  };
  return [
    route<typeof nativeBody>({
      method: 'POST',
      path: '/api/v1/tasks',
      summary: 'Run a command or a named task on targets, in rolling batches (or dryRun: show the plan)',
      tag: 'tasks',
      access: 'push.execute',
      body: nativeBody,
      success: [200, 201],
      errors: [...startErrors],
      response: startResponse,
      handler: start,
    }),
    route<typeof vigoBody>({
      method: 'POST',
      path: '/api/v1/task',
      summary: "Run a task with Vigo's request body (target, operator, healthCheck command)",
      tag: 'tasks',
      access: 'push.execute',
      body: vigoBody,
      success: [200, 201],
      errors: [...startErrors],
      response: startResponse,
      handler: start,
    }),
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/tasks',
      summary: 'Task runs, newest first (paged by creation time)',
      tag: 'tasks',
      access: 'fleet.read',
      query: listQuery,
      response: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: summarySchema },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      handler: ({ c, query }) => c.json(deps.tasks.list({ limit: query.limit ?? 50, cursor: query.cursor })),
    }),
    route<Record<never, never>, typeof detailQuery>({
      method: 'GET',
      path: '/api/v1/tasks/{id}',
      query: detailQuery,
      summary: "One task run with every target's state, exit code and output",
      tag: 'tasks',
      access: 'fleet.read',
      errors: ['task.not_found'],
      response: {
        ...summarySchema,
        required: [...(summarySchema['required'] as string[]), 'items', 'nextOffset', 'rollout', 'selection'],
        properties: {
          ...(summarySchema['properties'] as Record<string, unknown>),
          params: { type: 'object', additionalProperties: { type: 'string' } },
          selection: { type: 'object' },
          rollout: rolloutSchema,
          items: { type: 'array', items: targetSchema },
          nextOffset: { type: ['integer', 'null'] },
        },
      },
      handler: ({ c, param, query }) =>
        c.json(
          deps.tasks.get(param('id'), {
            limit: query.limit ?? taskPageLimits.defaultTargets,
            offset: query.offset ?? 0,
          }),
        ),
    }),
    route<{ reason: { type: 'string'; optional: true; maxLength: 1024 } }>({
      method: 'POST',
      path: '/api/v1/tasks/{id}/abort',
      summary: 'Abort a task run: targets not yet delivered are aborted; delivered ones finish',
      tag: 'tasks',
      access: 'push.execute',
      body: { reason: { type: 'string', optional: true, maxLength: 1024 } },
      errors: ['task.not_found', 'task.finished'],
      response: summarySchema,
      handler: ({ c, ctx, body, param }) => c.json(deps.tasks.abort(ctx, param('id'), body.reason ?? '')),
    }),
  ];
}
