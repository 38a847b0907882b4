/**
 * REST routes of the enroll module:
 *   POST   /api/v1/enroll              open: a host enrolls with a token (rate-limited per address)
 *   POST   /api/v1/enroll/tokens       admin: create a token (the secret is in this reply only)
 *   GET    /api/v1/enroll/tokens       admin: list tokens (never secrets or hashes)
 *   DELETE /api/v1/enroll/tokens/:id   admin: revoke a token
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { VigoError, isVigoError } from '../../core/index.ts';
import type { EnrollService } from '../../enroll/index.ts';
import { tokenLimits } from '../../enroll/index.ts';
import type { HttpEnv } from '../app.ts';
import type { AuthDeps, AuthEnv } from '../auth.ts';
import { authenticate, requestCtx, requireAdmin } from '../auth.ts';
import { readJsonBody } from '../json-body.ts';

export interface EnrollRoutesDeps {
  readonly enroll: EnrollService;
  readonly auth: AuthDeps;
}

const enrollBody = {
  token: { type: 'string', maxLength: 256 },
  hostname: { type: 'string', maxLength: 1024 },
  publicKey: { type: 'string', maxLength: 256 },
  csr: { type: 'string', maxLength: 32 * 1024 },
} as const;

const createTokenBody = {
  hostnameGlobs: { type: 'string-array', maxItems: 1000, maxItemLength: 1024 },
  uses: { type: 'integer', optional: true },
  expiresIn: { type: 'string', optional: true, maxLength: 64 },
  description: { type: 'string', optional: true, maxLength: 4096 },
} as const;

/** The TCP peer's address; "unknown" when the request did not come through the node listener. */
function sourceAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,7}$/.test(text)) {
    throw new VigoError(
      'request.invalid',
      `limit: must be a whole number from 1 to ${tokenLimits.maxListLimit}, got ${JSON.stringify(text.slice(0, 20))}`,
      { field: 'limit' },
    );
  }
  return Number(text);
}

function enrollHandler(deps: EnrollRoutesDeps) {
  return async (c: Context<HttpEnv>): Promise<Response> => {
    try {
      const result = await deps.enroll.enroll({
        sourceIp: sourceAddress(c),
        log: c.get('log'),
        readInput: () => readJsonBody(c, enrollBody),
      });
      return c.json(result, 200);
    } catch (err) {
      if (isVigoError(err) && err.code === 'rate_limited') {
        const retryAfterSeconds = err.details['retryAfterSeconds'];
        c.header('Retry-After', String(typeof retryAfterSeconds === 'number' ? retryAfterSeconds : 60));
      }
      throw err;
    }
  };
}

function tokenRoutes(deps: EnrollRoutesDeps): Hono<AuthEnv> {
  const tokens = new Hono<AuthEnv>();
  tokens.use(authenticate(deps.auth), requireAdmin);
  tokens.post('/', async (c) => {
    const body = await readJsonBody(c, createTokenBody);
    const created = await deps.enroll.createToken(requestCtx(c), body);
    return c.json(created, 201);
  });
  tokens.get('/', (c) => {
    const listing = deps.enroll.listTokens(requestCtx(c), { limit: parseLimit(c.req.query('limit')) });
    return c.json(listing, 200);
  });
  tokens.delete('/:id', (c) => c.json(deps.enroll.revokeToken(requestCtx(c), c.req.param('id')), 200));
  return tokens;
}

/** Mounts the enroll routes; pass it in `HttpAppDeps.routes`. */
export function enrollRoutes(deps: EnrollRoutesDeps): (app: Hono<HttpEnv>) => void {
  return (app) => {
    app.post('/api/v1/enroll', enrollHandler(deps));
    app.route('/api/v1/enroll/tokens', tokenRoutes(deps));
  };
}
