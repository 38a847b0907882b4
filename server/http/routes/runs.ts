/**
 * Runs and their per-resource results, as agents reported them (admin only until roles arrive):
 *   GET /api/v1/runs?envoy=ID&limit=N&before=MS   newest first, paged by started time
 *   GET /api/v1/runs/:id                          one run with every resource outcome
 * Reads use the runs_envoy_started index and are bounded; nothing here is on the check-in path.
 */
import { Hono } from 'hono';
import { VigoError } from '../../core/index.ts';
import type { Store } from '../../store/index.ts';
import type { HttpEnv } from '../app.ts';
import type { AuthDeps, AuthEnv } from '../auth.ts';
import { authenticate, requireAdmin } from '../auth.ts';

export const runListLimits = { defaultLimit: 50, maxLimit: 500 } as const;

interface RunRow {
  id: string;
  envoy_id: string;
  hostname: string | null;
  policy_version: number;
  started_at: number;
  finished_at: number;
  received_at: number;
  dry_run: number;
  status: string;
  resources_total: number;
  resources_changed: number;
  resources_failed: number;
}

interface ResultRow {
  resource_id: string;
  resource_type: string;
  configcrate: string | null;
  outcome: string;
  message: string | null;
  duration_ms: number | null;
}

function runView(row: RunRow): Record<string, unknown> {
  return {
    id: row.id,
    envoyId: row.envoy_id,
    hostname: row.hostname,
    policyVersion: row.policy_version,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: new Date(row.finished_at).toISOString(),
    receivedAt: new Date(row.received_at).toISOString(),
    dryRun: row.dry_run === 1,
    status: row.status,
    resources: { total: row.resources_total, changed: row.resources_changed, failed: row.resources_failed },
  };
}

function intQuery(text: string | undefined, name: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : 0;
  if (value < 1 || value > max)
    throw new VigoError('request.invalid', `${name}: must be a whole number from 1 to ${max}`, {
      field: name,
    });
  return value;
}

const runColumns = `r.id, r.envoy_id, e.hostname, r.policy_version, r.started_at, r.finished_at, r.received_at,
  r.dry_run, r.status, r.resources_total, r.resources_changed, r.resources_failed`;

export function runRoutes(deps: { store: Store; auth: AuthDeps }): (app: Hono<HttpEnv>) => void {
  const byEnvoy = deps.store.db.prepare(
    `SELECT ${runColumns} FROM runs r LEFT JOIN envoys e ON e.id = r.envoy_id
     WHERE r.envoy_id = ? AND r.started_at < ? ORDER BY r.started_at DESC LIMIT ?`,
  );
  const all = deps.store.db.prepare(
    `SELECT ${runColumns} FROM runs r LEFT JOIN envoys e ON e.id = r.envoy_id
     WHERE r.started_at < ? ORDER BY r.started_at DESC LIMIT ?`,
  );
  const one = deps.store.db.prepare(
    `SELECT ${runColumns} FROM runs r LEFT JOIN envoys e ON e.id = r.envoy_id WHERE r.id = ?`,
  );
  const results = deps.store.db.prepare(
    'SELECT resource_id, resource_type, configcrate, outcome, message, duration_ms FROM run_results WHERE run_id = ? ORDER BY seq',
  );

  const routes = new Hono<AuthEnv>();
  routes.use(authenticate(deps.auth), requireAdmin);
  routes.get('/', (c) => {
    const limit =
      intQuery(c.req.query('limit'), 'limit', runListLimits.maxLimit) ?? runListLimits.defaultLimit;
    const before =
      intQuery(c.req.query('before'), 'before', Number.MAX_SAFE_INTEGER) ?? Number.MAX_SAFE_INTEGER;
    const envoy = c.req.query('envoy');
    const rows = (
      envoy === undefined ? all.all(before, limit) : byEnvoy.all(envoy, before, limit)
    ) as RunRow[];
    const last = rows.at(-1);
    return c.json({
      items: rows.map(runView),
      nextBefore: rows.length === limit && last ? last.started_at : null,
    });
  });
  routes.get('/:id', (c) => {
    const row = one.get(c.req.param('id')) as RunRow | undefined;
    if (row === undefined) throw new VigoError('not_found', `run ${c.req.param('id')} does not exist`);
    const items = (results.all(row.id) as ResultRow[]).map((r) => ({
      resourceId: r.resource_id,
      resourceType: r.resource_type,
      configcrate: r.configcrate,
      outcome: r.outcome,
      message: r.message,
      durationMs: r.duration_ms,
    }));
    return c.json({ ...runView(row), results: items });
  });
  return (app) => {
    app.route('/api/v1/runs', routes);
  };
}
