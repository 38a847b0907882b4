/**
 * Response schemas of the publish pipeline's routes (routes/config.ts), as the OpenAPI document shows them
 * and the contract test checks them against real answers.
 */
import type { AutoRollbackRecord, BlastRadiusWatch } from '../../publish/index.ts';
import type { JsonSchema } from '../route-table.ts';
import { formatDurationMs } from '../../core/index.ts';

export const versionSchema: JsonSchema = {
  type: 'object',
  required: ['version', 'status', 'snapshotHash', 'createdAt', 'createdBy'],
  properties: {
    version: { type: 'integer' },
    status: { type: 'string' },
    snapshotHash: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
    message: { type: ['string', 'null'] },
    approvedBy: { type: ['string', 'null'] },
    approvedAt: { type: ['string', 'null'] },
    source: { type: ['string', 'null'] },
  },
};
const diagnosticSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['severity', 'code', 'file', 'line', 'col', 'message', 'hint'],
  properties: {
    severity: { enum: ['error', 'warning', 'info'] },
    code: { type: 'string', description: 'stable diagnostic code (docs/stacks.md)' },
    file: { type: 'string', description: 'relative to the stacks directory' },
    line: { type: 'integer' },
    col: { type: 'integer' },
    message: { type: 'string' },
    hint: { type: 'string', description: 'how to fix it; empty when the message says everything' },
  },
};
const diagnostics: JsonSchema = { type: 'array', items: diagnosticSchema };
const idList: JsonSchema = { type: 'array', items: { type: 'string' } };
const fieldDiffSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'per resource, what changes field by field (at most 200 resources, 50 fields each)',
  required: ['resources', 'resourcesOmitted'],
  properties: {
    resources: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'status', 'entries', 'entryCount', 'fields', 'fieldsOmitted'],
        properties: {
          id: { type: 'string', description: '<configcrate>/<name>' },
          type: { type: 'string' },
          status: { enum: ['added', 'removed', 'changed'] },
          entries: { ...idList, description: 'match entries it changes in (at most 5 listed)' },
          entryCount: { type: 'integer' },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['field'],
              properties: {
                field: { type: 'string', description: 'dotted path, e.g. params.content' },
                before: { type: 'string', description: 'old value as JSON (absent: the field is new)' },
                after: { type: 'string', description: 'new value as JSON (absent: the field is gone)' },
              },
            },
          },
          fieldsOmitted: { type: 'integer', description: 'changed fields beyond those listed' },
        },
      },
    },
    resourcesOmitted: { type: 'integer', description: 'resource changes beyond those listed' },
  },
};
const impactSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entries', 'envoysTotal', 'envoysChanging', 'groups', 'fields'],
  properties: {
    entries: {
      type: 'array',
      description: 'match entries whose resources change',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['entryId', 'status', 'added', 'changed', 'removed'],
        properties: {
          entryId: { type: 'string' },
          status: { enum: ['added', 'removed', 'changed', 'unchanged'] },
          added: idList,
          changed: idList,
          removed: idList,
        },
      },
    },
    envoysTotal: { type: 'integer' },
    envoysChanging: { type: 'integer' },
    groups: {
      type: 'array',
      description: 'envoys grouped by the entry they match before and after',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['entryBefore', 'entryAfter', 'envoys', 'hostnames', 'added', 'changed', 'removed'],
        properties: {
          entryBefore: { type: ['string', 'null'] },
          entryAfter: { type: ['string', 'null'] },
          envoys: { type: 'integer' },
          hostnames: { ...idList, description: 'at most 1000 listed; envoys is exact' },
          added: idList,
          changed: idList,
          removed: idList,
        },
      },
    },
    fields: fieldDiffSchema,
  },
};
export const diffSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'against', 'entries', 'impact'],
  properties: {
    version: { type: 'integer' },
    against: { type: ['integer', 'null'], description: 'null: the empty configuration' },
    entries: { type: 'integer', description: 'match entries of version' },
    impact: impactSchema,
  },
};
export const validateSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'diagnostics', 'snapshotHash', 'entries'],
  properties: {
    ok: { type: 'boolean', description: 'no diagnostic is an error' },
    diagnostics,
    snapshotHash: { type: ['string', 'null'], description: 'content hash of the compiled snapshot when ok' },
    entries: { type: 'integer', description: 'match entries compiled' },
  },
};
function publishOutcome(outcome: string, fields: Record<string, JsonSchema>): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['outcome', ...Object.keys(fields)],
    properties: { outcome: { const: outcome }, ...fields },
  };
}
export const publishSchema: JsonSchema = {
  description:
    '201 activated, 202 pending (waits for a second admin under publish.approval: required), ' +
    '200 dry_run or unchanged (the tree compiles to the active snapshot)',
  oneOf: [
    publishOutcome('dry_run', {
      snapshotHash: { type: 'string' },
      unchanged: { type: 'boolean' },
      diagnostics,
      impact: impactSchema,
    }),
    publishOutcome('unchanged', {
      version: { type: 'integer' },
      snapshotHash: { type: 'string' },
      diagnostics,
    }),
    ...['pending', 'activated'].map((outcome) =>
      publishOutcome(outcome, {
        version: { type: 'integer' },
        snapshotHash: { type: 'string' },
        diagnostics,
        impact: impactSchema,
      }),
    ),
  ],
};
export function objectOf(fields: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', additionalProperties: false, required: Object.keys(fields), properties: fields };
}

const figures = {
  reporting: { type: 'integer', description: 'envoys that reported a run on the version within the window' },
  converged: { type: 'integer', description: 'of those, converged at their last run' },
} as const;

/** The last automatic rollback of the blast-radius check (publish.blast_radius). */
export const autoRollbackSchema: JsonSchema = {
  type: 'object',
  required: [
    'at',
    'rolledBack',
    'restored',
    'version',
    'reason',
    'reporting',
    'converged',
    'convergedPct',
    'minConvergencePct',
    'minEnvoys',
    'window',
  ],
  properties: {
    at: { type: 'string', format: 'date-time' },
    rolledBack: { type: 'integer', description: 'the version that was rolled back' },
    restored: { type: 'integer', description: 'the version whose snapshot was served again' },
    version: { type: 'integer', description: 'the version the rollback created' },
    reason: { type: 'string' },
    ...figures,
    convergedPct: { type: 'number' },
    minConvergencePct: { type: 'integer' },
    minEnvoys: { type: 'integer' },
    window: { type: 'string', description: 'the window, e.g. "30m"' },
  },
};

/** The version the blast-radius check is watching now. */
export const blastRadiusWatchSchema: JsonSchema = {
  type: 'object',
  required: ['version', 'previousVersion', 'since', 'reporting', 'converged'],
  properties: {
    version: { type: 'integer' },
    previousVersion: { type: 'integer', description: 'what a rollback would restore' },
    since: { type: 'string', format: 'date-time' },
    ...figures,
  },
};

export function autoRollbackView(record: AutoRollbackRecord): Record<string, unknown> {
  return {
    at: new Date(record.atMs).toISOString(),
    rolledBack: record.rolledBack,
    restored: record.restored,
    version: record.version,
    reason: record.reason,
    reporting: record.reporting,
    converged: record.converged,
    convergedPct: record.convergedPct,
    minConvergencePct: record.minConvergencePct,
    minEnvoys: record.minEnvoys,
    window: formatDurationMs(record.windowMs),
  };
}

export function blastRadiusWatchView(watch: BlastRadiusWatch): Record<string, unknown> {
  return {
    version: watch.version,
    previousVersion: watch.previousVersion,
    since: new Date(watch.sinceMs).toISOString(),
    reporting: watch.reporting,
    converged: watch.converged,
  };
}
