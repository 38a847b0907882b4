/**
 * Workflows (workflows.vgo):
 *   GET  /api/v1/workflows                      the workflows of the active configuration
 *   POST /api/v1/workflows/runs                 start a run of one, with its parameters
 *   GET  /api/v1/workflows/runs                 runs, newest first, paged by creation time
 *   GET  /api/v1/workflows/runs/{id}            one run with every step it executed
 *   POST /api/v1/workflows/runs/{id}/abort      stop a run (and the task run of its current step)
 *   POST /api/v1/workflows/runs/{id}/approve    approve the approval step it waits on (not its starter)
 *   POST /api/v1/workflows/runs/{id}/reject     reject it (not its starter); the run takes on_failure
 * Reading is fleet.read, as for task runs; everything that acts is workflow.execute.
 */
import type { WorkflowService } from '../../orchestration/index.ts';
import { workflowRunLimits, workflowRunStatuses, workflowStepStatuses } from '../../orchestration/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

const nullableString = { type: ['string', 'null'] } as const;

const runSchema: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'workflow',
    'configVersion',
    'actor',
    'status',
    'params',
    'stepsExecuted',
    'currentStep',
    'awaitingApproval',
    'errorCode',
    'message',
    'createdAt',
    'finishedAt',
  ],
  properties: {
    id: { type: 'string' },
    workflow: { type: 'string' },
    configVersion: { type: 'integer' },
    actor: { type: 'string' },
    status: { enum: [...workflowRunStatuses] },
    params: { type: 'object', additionalProperties: { type: 'string' } },
    stepsExecuted: { type: 'integer' },
    currentStep: nullableString,
    awaitingApproval: { type: 'boolean' },
    errorCode: nullableString,
    message: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableString,
  },
};

const stepSchema: JsonSchema = {
  type: 'object',
  required: [
    'seq',
    'stepId',
    'type',
    'status',
    'input',
    'output',
    'taskRunId',
    'deadlineAt',
    'decidedBy',
    'errorCode',
    'message',
    'startedAt',
    'finishedAt',
  ],
  properties: {
    seq: { type: 'integer' },
    stepId: { type: 'string' },
    type: { enum: ['task', 'force_push', 'wait_for_convergence', 'approval', 'publish'] },
    status: { enum: [...workflowStepStatuses] },
    input: { type: 'object' },
    output: { type: 'object' },
    taskRunId: nullableString,
    deadlineAt: nullableString,
    decidedBy: nullableString,
    errorCode: nullableString,
    message: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: nullableString,
  },
};

const definitionSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'description', 'params', 'steps'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    params: { type: 'object' },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'onSuccess', 'onFailure'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          description: { type: 'string' },
          onSuccess: { type: 'string' },
          onFailure: { type: 'string' },
        },
      },
    },
  },
};

const startBody = {
  workflow: { type: 'string', maxLength: 64 },
  params: {
    type: 'json',
    optional: true,
    schema: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { maxLength: 64 },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
} as const;
const reasonBody = { reason: { type: 'string', optional: true, maxLength: 1024 } } as const;
const commentBody = { comment: { type: 'string', optional: true, maxLength: 1024 } } as const;

const listQuery = {
  limit: { type: 'integer', min: 1, max: workflowRunLimits.maxListed },
  cursor: { type: 'string', maxLength: 128, description: 'nextCursor of the previous page' },
} as const;

export function workflowRoutes(deps: { workflows: WorkflowService }): AnyRoute[] {
  const decision = (approve: boolean): AnyRoute =>
    route<typeof commentBody>({
      method: 'POST',
      path: `/api/v1/workflows/runs/{id}/${approve ? 'approve' : 'reject'}`,
      summary: approve
        ? 'Approve the approval step a run waits on (anyone with workflow.execute but its starter)'
        : 'Reject the approval step a run waits on; the run follows the step\u2019s on_failure',
      tag: 'workflows',
      access: 'workflow.execute',
      body: commentBody,
      errors: ['workflow.not_found', 'workflow.finished', 'workflow.not_waiting', 'workflow.self_approval'],
      response: runSchema,
      handler: ({ c, ctx, body, param }) =>
        c.json(deps.workflows.decide(ctx, param('id'), { approve, comment: body.comment ?? '' })),
    });
  return [
    route({
      method: 'GET',
      path: '/api/v1/workflows',
      summary: 'The workflows (workflows.vgo) of the active configuration',
      tag: 'workflows',
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: definitionSchema } },
      },
      handler: ({ c }) => c.json({ items: deps.workflows.definitions() }),
    }),
    route<typeof startBody>({
      method: 'POST',
      path: '/api/v1/workflows/runs',
      summary: 'Start a run of a workflow of the active configuration, with its parameters',
      tag: 'workflows',
      access: 'workflow.execute',
      body: startBody,
      success: [201],
      errors: [
        'workflow.unknown',
        'workflow.param_unknown',
        'workflow.param_missing',
        'workflow.param_invalid',
        'workflow.limit',
      ],
      response: runSchema,
      handler: ({ c, ctx, body }) =>
        c.json(
          deps.workflows.start(ctx, {
            workflow: body.workflow,
            params: (body.params ?? {}) as Record<string, string | number | boolean>,
          }),
          201,
        ),
    }),
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/workflows/runs',
      summary: 'Workflow runs, newest first (paged by creation time)',
      tag: 'workflows',
      access: 'fleet.read',
      query: listQuery,
      response: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items: { type: 'array', items: runSchema }, nextCursor: { type: ['string', 'null'] } },
      },
      handler: ({ c, query }) =>
        c.json(deps.workflows.list({ limit: query.limit ?? 50, cursor: query.cursor })),
    }),
    route({
      method: 'GET',
      path: '/api/v1/workflows/runs/{id}',
      summary: 'One workflow run with every step it executed, its inputs, outputs and outcome',
      tag: 'workflows',
      access: 'fleet.read',
      errors: ['workflow.not_found'],
      response: {
        ...runSchema,
        required: [...(runSchema['required'] as string[]), 'steps'],
        properties: {
          ...(runSchema['properties'] as Record<string, unknown>),
          steps: { type: 'array', items: stepSchema },
        },
      },
      handler: ({ c, param }) => c.json(deps.workflows.get(param('id'))),
    }),
    route<typeof reasonBody>({
      method: 'POST',
      path: '/api/v1/workflows/runs/{id}/abort',
      summary: 'Abort a workflow run, and the task run its current step started',
      tag: 'workflows',
      access: 'workflow.execute',
      body: reasonBody,
      errors: ['workflow.not_found', 'workflow.finished'],
      response: runSchema,
      handler: ({ c, ctx, body, param }) => c.json(deps.workflows.abort(ctx, param('id'), body.reason ?? '')),
    }),
    decision(true),
    decision(false),
  ];
}
