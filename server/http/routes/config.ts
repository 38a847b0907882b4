/**
 * REST routes of the publish pipeline (admin only until roles and permissions arrive):
 *   POST /api/v1/config/validate                   validate an uploaded stacks tree (diagnostics, never a change)
 *   POST /api/v1/config/publish                    publish it (dryRun: report what would change)
 *   GET  /api/v1/config/status                     active and pending versions, freeze
 *   GET  /api/v1/config/version                    the active version number
 *   GET  /api/v1/config/history                    versions, newest first (limit, before)
 *   GET  /api/v1/config/versions/:version          one version with its diff against the previous one
 *   POST /api/v1/config/versions/:version/approve  a second admin activates a pending publish
 *   POST /api/v1/config/versions/:version/reject   a pending publish is dropped
 *   POST /api/v1/config/rollback                   serve an earlier version's snapshot again, as a new version
 *   POST /api/v1/config/freeze | /unfreeze         block or allow publishes
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { VigoError, parseDurationMs } from '../../core/index.ts';
import type { PublishResult, PublishService, VersionRow } from '../../publish/index.ts';
import { historyLimits, uploadLimits } from '../../publish/index.ts';
import type { HttpEnv } from '../app.ts';
import type { AuthDeps, AuthEnv } from '../auth.ts';
import { authenticate, requestCtx, requireAdmin } from '../auth.ts';
import { readJsonBody } from '../json-body.ts';

export interface ConfigRoutesDeps {
  readonly publish: PublishService;
  readonly auth: AuthDeps;
}

/** Paths that accept stack uploads larger than the general body limit. */
export const configUploadPaths = ['/api/v1/config/validate', '/api/v1/config/publish'] as const;

const uploadBody = { files: { type: 'files', maxItems: uploadLimits.maxFiles } } as const;
const publishBody = {
  files: { type: 'files', maxItems: uploadLimits.maxFiles },
  message: { type: 'string', optional: true, maxLength: 4096 },
  dryRun: { type: 'boolean', optional: true },
} as const;
const rollbackBody = {
  version: { type: 'integer' },
  message: { type: 'string', optional: true, maxLength: 4096 },
} as const;
const freezeBody = {
  until: { type: 'string', maxLength: 64 },
  reason: { type: 'string', optional: true, maxLength: 4096 },
} as const;
const rejectBody = { reason: { type: 'string', optional: true, maxLength: 4096 } } as const;

function versionParam(c: Context): number {
  const text = c.req.param('version') ?? '';
  if (!/^[1-9]\d{0,9}$/.test(text))
    throw new VigoError(
      'request.invalid',
      `version: must be a positive whole number, got ${JSON.stringify(text)}`,
      {
        field: 'version',
      },
    );
  return Number(text);
}

function queryInt(c: Context, name: string, max: number): number | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : 0;
  if (value < 1 || value > max)
    throw new VigoError('request.invalid', `${name}: must be a whole number from 1 to ${max}`, {
      field: name,
    });
  return value;
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

export function configRoutes(deps: ConfigRoutesDeps): (app: Hono<HttpEnv>) => void {
  const routes = new Hono<AuthEnv>();
  routes.use(authenticate(deps.auth), requireAdmin);

  routes.post('/validate', async (c) => {
    const body = await readJsonBody(c, uploadBody);
    return c.json(await deps.publish.validate({ kind: 'files', files: body.files }));
  });

  routes.post('/publish', async (c) => {
    const body = await readJsonBody(c, publishBody);
    const result = await deps.publish.publish(
      requestCtx(c),
      { kind: 'files', files: body.files },
      { message: body.message, dryRun: body.dryRun },
    );
    return c.json(result, publishStatus(result));
  });

  routes.get('/status', (c) => {
    const status = deps.publish.status();
    return c.json({
      active: status.active ? versionView(status.active) : null,
      pending: status.pending ? versionView(status.pending) : null,
      frozen: status.frozen
        ? { until: new Date(status.frozen.untilMs).toISOString(), reason: status.frozen.reason }
        : null,
    });
  });

  routes.get('/version', (c) => c.json({ version: deps.publish.status().active?.version ?? null }));

  routes.get('/history', (c) => {
    const limit = queryInt(c, 'limit', historyLimits.maxLimit);
    const before = queryInt(c, 'before', Number.MAX_SAFE_INTEGER);
    const rows = deps.publish.history(limit, before);
    const last = rows.at(-1);
    return c.json({
      items: rows.map(versionView),
      nextBefore: last && last.version > 1 ? last.version : null,
    });
  });

  routes.get('/versions/:version', (c) => {
    const detail = deps.publish.show(versionParam(c));
    return c.json({
      ...versionView(detail.version),
      entries: detail.entries,
      comparedWith: detail.comparedWith,
      diff: detail.diff,
    });
  });

  routes.post('/versions/:version/approve', (c) =>
    c.json(deps.publish.approve(requestCtx(c), versionParam(c))),
  );

  routes.post('/versions/:version/reject', async (c) => {
    const body = await readJsonBody(c, rejectBody);
    return c.json(deps.publish.reject(requestCtx(c), versionParam(c), body.reason ?? ''));
  });

  routes.post('/rollback', async (c) => {
    const body = await readJsonBody(c, rollbackBody);
    return c.json(deps.publish.rollback(requestCtx(c), body.version, body.message), 201);
  });

  routes.post('/freeze', async (c) => {
    const body = await readJsonBody(c, freezeBody);
    const state = deps.publish.freeze(
      requestCtx(c),
      parseFreezeUntil(body.until, Date.now()),
      body.reason ?? '',
    );
    return c.json({ until: new Date(state.untilMs).toISOString(), reason: state.reason });
  });

  routes.post('/unfreeze', (c) => c.json(deps.publish.unfreeze(requestCtx(c))));

  return (app) => {
    app.route('/api/v1/config', routes);
  };
}
