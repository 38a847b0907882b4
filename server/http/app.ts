/**
 * The HTTPS application: request ids, access logs, security headers, bounded bodies, one error envelope,
 * and the route table (every route, with the access it needs).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../core/index.ts';
import { VigoError, newRequestId } from '../core/index.ts';
import type { AuthDeps } from './auth.ts';
import { errorResponseBody, retryAfterSeconds } from './error-map.ts';
import type { AnyRoute } from './route-table.ts';
import { mountRouteTable } from './route-table.ts';

export interface SystemInfo {
  version: string;
  bootId: string;
  mode: 'user' | 'system';
  startedAtMs: number;
}

export interface HttpEnv {
  Variables: { requestId: string; log: Logger };
}

export interface HttpAppDeps {
  log: Logger;
  maxBodyBytes: number;
  /** Routes that take larger bodies than maxBodyBytes (stack uploads), by exact path. */
  largeBodyRoutes?: { readonly paths: readonly string[]; readonly maxBytes: () => number };
  auth: AuthDeps;
  /** Every route the server answers; checked at startup (see route-table.ts). */
  routes: readonly AnyRoute[];
}

/** Pages load scripts and styles only from this origin: no CDN, no inline script. */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function createHttpApp(deps: HttpAppDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.use(async (c, next) => {
    const offered = c.req.header('x-request-id');
    const requestId = offered && requestIdPattern.test(offered) ? offered : newRequestId();
    const log = deps.log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Content-Security-Policy', contentSecurityPolicy);
    const startedAt = performance.now();
    await next();
    if (log.enabled('debug') || c.res.status >= 500) {
      const fields = {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
      };
      if (c.res.status >= 500) log.warn('http request failed', fields);
      else log.debug('http request', fields);
    }
  });

  const limitOf = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: () => {
        throw new VigoError('request.too_large', `request body exceeds the limit of ${max} bytes`);
      },
    });
  const defaultLimit = limitOf(deps.maxBodyBytes);
  const large = deps.largeBodyRoutes;
  app.use((c, next) =>
    large !== undefined && large.paths.includes(c.req.path)
      ? limitOf(large.maxBytes())(c, next)
      : defaultLimit(c, next),
  );

  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? newRequestId();
    const { status, body } = errorResponseBody(err, requestId);
    const retryAfter = retryAfterSeconds(err);
    if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
    if (status >= 500) (c.get('log') ?? deps.log).error('unhandled error', { err });
    return c.json(body, status as 500);
  });

  app.notFound((c) => {
    const { status, body } = errorResponseBody(
      new VigoError('not_found', `no route for ${c.req.method} ${c.req.path}`),
      c.get('requestId'),
    );
    return c.json(body, status as 404);
  });

  mountRouteTable(app, deps.routes, deps.auth);
  return app;
}
