/**
 * REST routes of the publish pipeline :
 *   POST /api/v1/config/validate                   validate an uploaded stacks tree (diagnostics, never a change)
 *   POST /api/v1/config/publish                    publish it (dryRun: report what would change)
 *   GET  /api/v1/config/status                     active and pending versions, freeze, blast-radius check
 *   GET  /api/v1/config/version                    the active version number
 *   GET  /api/v1/config/history                    versions, newest first (limit, before)
 *   GET  /api/v1/config/versions/:version          one version with its diff against the previous one
 *   GET  /api/v1/config/versions/:version/diff     field-level diff against another version (?against=M)
 *   POST /api/v1/config/versions/:version/approve  a second admin activates a pending publish
 *   POST /api/v1/config/versions/:version/reject   a pending publish is dropped
 *   POST /api/v1/config/rollback                   serve an earlier version's snapshot again, as a new version
 *   POST /api/v1/config/freeze | /unfreeze         block or allow publishes
 */
import { VigoError, parseDurationMs } from '../../core/index.ts';
import type { PublishResult, PublishService, VersionRow } from '../../publish/index.ts';
import { historyLimits, uploadForms } from '../../publish/index.ts';
import type { AnyRoute } from '../route-table.ts';
import {
  autoRollbackSchema,
  autoRollbackView,
  blastRadiusWatchSchema,
  blastRadiusWatchView,
  diffSchema,
  objectOf,
  publishSchema,
  validateSchema,
  versionSchema,
} from './config-schemas.ts';
import { route } from '../route-table.ts';

export interface ConfigRoutesDeps {
  readonly publish: PublishService;
}

/** Paths that accept stack uploads larger than the general body limit. */
export const configUploadPaths = ['/api/v1/config/validate', '/api/v1/config/publish'] as const;

const rollbackBody = {
  version: { type: 'integer' },
  message: { type: 'string', optional: true, maxLength: 4096 },
} as const;
const freezeBody = {
  until: { type: 'string', maxLength: 64 },
  reason: { type: 'string', optional: true, maxLength: 4096 },
} as const;
const rejectBody = { reason: { type: 'string', optional: true, maxLength: 4096 } } as const;

function versionNumber(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text))
    throw new VigoError(
      'request.invalid',
      `version: must be a positive whole number, got ${JSON.stringify(text)}`,
      { field: 'version' },
    );
  return Number(text);
}

/** `until` is an RFC 3339 time or a duration from now ("2h", "90m"). */
export function parseFreezeUntil(text: string, nowMs: number): number {
  const duration = parseDurationMs(text);
  if (duration !== undefined && duration > 0) return nowMs + duration;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at))
    throw new VigoError(
      'request.invalid',
      `until: expected a duration such as "2h" or a time such as "2026-12-01T08:00:00Z", got ${JSON.stringify(text)}`,
      { field: 'until' },
    );
  return at;
}

export function versionView(row: VersionRow): Record<string, unknown> {
  return {
    version: row.version,
    status: row.status,
    snapshotHash: row.snapshotHash,
    createdAt: new Date(row.createdAtMs).toISOString(),
    createdBy: row.createdBy,
    message: row.message,
    approvedBy: row.approvedBy,
    approvedAt: row.approvedAtMs === null ? null : new Date(row.approvedAtMs).toISOString(),
    source: row.source,
  };
}

function publishStatus(result: PublishResult): 200 | 201 | 202 {
  if (result.outcome === 'activated') return 201;
  if (result.outcome === 'pending') return 202;
  return 200;
}

const diffQuery = { against: { type: 'integer', min: 1, max: 9_999_999_999 } } as const;

const historyQuery = {
  limit: { type: 'integer', min: 1, max: historyLimits.maxLimit },
  before: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
} as const;

export function configRoutes(deps: ConfigRoutesDeps): AnyRoute[] {
  const tag = 'config';
  return [
    route<typeof uploadForms.validate>({
      method: 'POST',
      path: '/api/v1/config/validate',
      summary: 'Validate an uploaded stacks tree: every diagnostic, never a change',
      tag,
      access: 'config.publish',
      errors: [
        'publish.upload_invalid',
        'publish.validator_busy',
        'publish.validator_timeout',
        'publish.validator_out_of_memory',
        'publish.validator_crashed',
        'unavailable',
      ],
      body: uploadForms.validate,
      // Parsed against the same rules by the validator worker, never on this thread.
      rawBody: true,
      response: validateSchema,
      handler: async ({ c, readRawBody }) =>
        c.json(await deps.publish.validate({ kind: 'upload', body: await readRawBody(), form: 'validate' })),
    }),
    route<typeof uploadForms.publish>({
      method: 'POST',
      path: '/api/v1/config/publish',
      summary: 'Publish a stacks tree (dryRun: report which envoys would change)',
      tag,
      access: 'config.publish',
      errors: [
        'publish.upload_invalid',
        'publish.stacks_invalid',
        'publish.frozen',
        'publish.pending_exists',
        'publish.validator_busy',
        'publish.validator_timeout',
        'publish.validator_out_of_memory',
        'publish.validator_crashed',
        'unavailable',
      ],
      body: uploadForms.publish,
      rawBody: true,
      success: [200, 201, 202],
      response: publishSchema,
      handler: async ({ c, ctx, readRawBody }) => {
        const body = await readRawBody();
        const result = await deps.publish.publish(ctx, { kind: 'upload', body, form: 'publish' }, {});
        return c.json(result, publishStatus(result));
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/config/status',
      summary: 'Active and pending versions, and the freeze',
      tag,
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['active', 'pending', 'frozen', 'autoRollback', 'blastRadiusWatch'],
        properties: {
          active: { oneOf: [versionSchema, { type: 'null' }] },
          pending: { oneOf: [versionSchema, { type: 'null' }] },
          frozen: { type: ['object', 'null'] },
          autoRollback: { oneOf: [autoRollbackSchema, { type: 'null' }] },
          blastRadiusWatch: { oneOf: [blastRadiusWatchSchema, { type: 'null' }] },
        },
      },
      handler: ({ c }) => {
        const status = deps.publish.status();
        return c.json({
          active: status.active ? versionView(status.active) : null,
          pending: status.pending ? versionView(status.pending) : null,
          frozen: status.frozen
            ? { until: new Date(status.frozen.untilMs).toISOString(), reason: status.frozen.reason }
            : null,
          autoRollback: status.autoRollback ? autoRollbackView(status.autoRollback) : null,
          blastRadiusWatch: status.watching ? blastRadiusWatchView(status.watching) : null,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/config/version',
      summary: 'The active version number',
      tag,
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['version'],
        properties: { version: { type: ['integer', 'null'] } },
      },
      handler: ({ c }) => c.json({ version: deps.publish.status().active?.version ?? null }),
    }),
    route<Record<never, never>, typeof historyQuery>({
      method: 'GET',
      path: '/api/v1/config/history',
      summary: 'Versions, newest first',
      tag,
      access: 'fleet.read',
      query: historyQuery,
      response: {
        type: 'object',
        required: ['items', 'nextBefore'],
        properties: {
          items: { type: 'array', items: versionSchema },
          nextBefore: { type: ['integer', 'null'] },
        },
      },
      handler: ({ c, query }) => {
        const rows = deps.publish.history(query.limit, query.before);
        const last = rows.at(-1);
        return c.json({
          items: rows.map(versionView),
          nextBefore: last && last.version > 1 ? last.version : null,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/config/versions/{version}',
      summary: 'One version with its diff against the previous one',
      tag,
      access: 'fleet.read',
      errors: ['publish.version_not_found'],
      response: { ...versionSchema, required: [...(versionSchema['required'] as string[]), 'diff'] },
      handler: async ({ c, param }) => {
        const detail = await deps.publish.show(versionNumber(param('version')));
        return c.json({
          ...versionView(detail.version),
          entries: detail.entries,
          comparedWith: detail.comparedWith,
          diff: detail.diff,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/config/versions/{version}/diff',
      summary:
        'What serving this version instead of version `against` (default: the one before it) changes: resources field by field, and the envoys affected',
      tag,
      access: 'fleet.read',
      errors: ['publish.version_not_found'],
      query: diffQuery,
      response: diffSchema,
      handler: async ({ c, param, query }) =>
        c.json(await deps.publish.diff(versionNumber(param('version')), query.against)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/config/versions/{version}/approve',
      summary: 'Approve a pending publish (a different person than its author)',
      tag,
      access: 'config.publish',
      errors: ['publish.version_not_found', 'publish.not_pending', 'publish.self_approval'],
      response: objectOf({ version: { type: 'integer' } }),
      handler: async ({ c, ctx, param }) =>
        c.json(await deps.publish.approve(ctx, versionNumber(param('version')))),
    }),
    route<typeof rejectBody>({
      method: 'POST',
      path: '/api/v1/config/versions/{version}/reject',
      summary: 'Drop a pending publish',
      tag,
      access: 'config.publish',
      errors: ['publish.version_not_found', 'publish.not_pending'],
      body: rejectBody,
      response: objectOf({ version: { type: 'integer' } }),
      handler: ({ c, ctx, body, param }) =>
        c.json(deps.publish.reject(ctx, versionNumber(param('version')), body.reason ?? '')),
    }),
    route<typeof rollbackBody>({
      method: 'POST',
      path: '/api/v1/config/rollback',
      summary: "Serve an earlier version's snapshot again, as a new version",
      tag,
      access: 'config.rollback',
      errors: ['publish.version_not_found', 'publish.rollback_invalid'],
      body: rollbackBody,
      success: [201],
      response: objectOf({
        version: { type: 'integer', description: 'the new active version' },
        restored: { type: 'integer', description: 'the version whose snapshot it serves' },
      }),
      handler: async ({ c, ctx, body }) =>
        c.json(await deps.publish.rollback(ctx, body.version, body.message), 201),
    }),
    route<typeof freezeBody>({
      method: 'POST',
      path: '/api/v1/config/freeze',
      summary: 'Block publishes until a time',
      tag,
      access: 'config.publish',
      body: freezeBody,
      response: { type: 'object', required: ['until', 'reason'] },
      handler: ({ c, ctx, body }) => {
        const state = deps.publish.freeze(ctx, parseFreezeUntil(body.until, Date.now()), body.reason ?? '');
        return c.json({ until: new Date(state.untilMs).toISOString(), reason: state.reason });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/config/unfreeze',
      summary: 'Allow publishes again',
      tag,
      access: 'config.publish',
      response: objectOf({ wasFrozen: { type: 'boolean' } }),
      handler: ({ c, ctx }) => c.json(deps.publish.unfreeze(ctx)),
    }),
  ];
}
