/**
 * GET /api/v1/envoys: the fleet from the in-memory FleetIndex (never the database), ordered by hostname,
 * filterable by status (active, revoked, stale) and hostname prefix, paged with an opaque cursor.
 * Admin only until roles and permissions arrive.
 */
import { Hono } from 'hono';
import { VigoError } from '../../core/index.ts';
import type { EnvoyEntry, FleetIndex } from '../../fleet/index.ts';
import type { HttpEnv } from '../app.ts';
import { authenticate, requireAdmin } from '../auth.ts';
import type { AuthDeps, AuthEnv } from '../auth.ts';

export const envoyListLimits = { defaultLimit: 100, maxLimit: 1000 } as const;
const statuses = ['active', 'revoked', 'stale'] as const;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return envoyListLimits.defaultLimit;
  const value = /^\d{1,4}$/.test(text) ? Number(text) : 0;
  if (value < 1 || value > envoyListLimits.maxLimit) {
    throw new VigoError(
      'request.invalid',
      `limit: must be a whole number from 1 to ${envoyListLimits.maxLimit}`,
      {
        field: 'limit',
      },
    );
  }
  return value;
}

function parseStatus(text: string | undefined): (typeof statuses)[number] | undefined {
  if (text === undefined) return undefined;
  const status = statuses.find((s) => s === text);
  if (status === undefined) {
    throw new VigoError('request.invalid', `status: must be one of ${statuses.join(', ')}`, {
      field: 'status',
    });
  }
  return status;
}

function parseCursor(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  if (!decoded.includes('\u0000'))
    throw new VigoError('request.invalid', 'cursor: not a cursor from a previous page', { field: 'cursor' });
  return decoded;
}

function view(entry: EnvoyEntry): Record<string, unknown> {
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
  };
}

export function envoyRoutes(deps: { fleet: FleetIndex; auth: AuthDeps }): (app: Hono<HttpEnv>) => void {
  const routes = new Hono<AuthEnv>();
  routes.use(authenticate(deps.auth), requireAdmin);
  routes.get('/', (c) => {
    const page = deps.fleet.list(
      { status: parseStatus(c.req.query('status')), hostnamePrefix: c.req.query('hostname_prefix') },
      parseLimit(c.req.query('limit')),
      parseCursor(c.req.query('cursor')),
    );
    return c.json({
      items: page.items.map(view),
      total: page.total,
      nextCursor: page.nextCursor === undefined ? null : Buffer.from(page.nextCursor).toString('base64url'),
    });
  });
  return (app) => {
    app.route('/api/v1/envoys', routes);
  };
}
