/**
 * The HTTPS application: request ids, access logs, security headers, one error envelope, and the route
 * table (every route, with the access it needs and the largest body it takes).
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Logger } from '../core/index.ts';
import {
  VigoError,
  isVigoError,
  newRequestId,
  newTraceparent,
  parseTraceparent,
  traceIdOf,
} from '../core/index.ts';
import type { HttpMetrics } from '../metrics/index.ts';
import { logAccess } from './access-log.ts';
import type { AuthDeps } from './auth.ts';
import { BodyBudget } from './body-budget.ts';
import type { BodyBudgetOptions } from './body-budget.ts';
import { errorResponseBody, retryAfterSeconds } from './error-map.ts';
import { nodeExchange } from './request-body.ts';
import type { AnyRoute, BodyCap } from './route-table.ts';
import { mountRouteTable } from './route-table.ts';

export interface SystemInfo {
  version: string;
  bootId: string;
  mode: 'user' | 'system';
  startedAtMs: number;
}

export interface HttpEnv {
  /** `route` is the table path of the route that answered (set when one matched), for metrics. */
  Variables: { requestId: string; log: Logger; traceparent: string; route: string | undefined };
}

export interface HttpAppDeps {
  log: Logger;
  /** The `standard` body cap (http.max_body_bytes); `small` is the lesser of this and 64 KiB. */
  maxBodyBytes: number;
  /** The `upload` body cap (publish.max_upload_bytes), read per request; maxBodyBytes without it. */
  maxUploadBytes?: () => number;
  /** Body bytes in flight per client and in all; defaultBodyBudget without it. */
  bodyBudget?: BodyBudgetOptions;
  auth: AuthDeps;
  /** Every route the server answers; checked at startup (see route-table.ts). */
  routes: readonly AnyRoute[];
  /** Counts and times every request by route template, method and status class. */
  metrics?: HttpMetrics;
  /** Whether to write an access record per request (log.access), asked per request. */
  accessLog?: () => boolean;
}

/** Pages load scripts and styles only from this origin: no CDN, no inline script. */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const smallBodyMaxBytes = 64 * 1024;

function capBytesFor(deps: HttpAppDeps): (cap: BodyCap) => number {
  return (cap) => {
    if (cap === 'small') return Math.min(smallBodyMaxBytes, deps.maxBodyBytes);
    if (cap === 'upload') return deps.maxUploadBytes?.() ?? deps.maxBodyBytes;
    return deps.maxBodyBytes;
  };
}

/**
 * A response sent before its request body has fully arrived (any refusal) ends the connection: the rest
 * of the body is never read, and the client is told so instead of finding the connection gone.
 */
function closeIfBodyUnread(c: Context): void {
  const incoming = nodeExchange(c)?.incoming;
  if (incoming !== undefined && !incoming.complete) c.header('Connection', 'close');
}

function logFailure(c: Context<HttpEnv>, log: Logger, err: unknown, status: number): void {
  if (isVigoError(err) && err.code === 'request.aborted') {
    // The client went away mid-body: nobody is waiting for this answer and nothing is wrong here.
    log.debug('client closed the connection mid-request', { method: c.req.method, path: c.req.path });
  } else if (status >= 500) {
    log.error('unhandled error', { err });
  }
}

export function createHttpApp(deps: HttpAppDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.use(async (c, next) => {
    const offered = c.req.header('x-request-id');
    const requestId = offered && requestIdPattern.test(offered) ? offered : newRequestId();
    // A missing or malformed traceparent starts a new trace rather than travelling further.
    const traceparent = parseTraceparent(c.req.header('traceparent')) ?? newTraceparent();
    const log = deps.log.child({ requestId, traceId: traceIdOf(traceparent) });
    c.set('requestId', requestId);
    c.set('traceparent', traceparent);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    c.header('traceparent', traceparent);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Content-Security-Policy', contentSecurityPolicy);
    const startedAt = performance.now();
    await next();
    closeIfBodyUnread(c);
    const seconds = (performance.now() - startedAt) / 1000;
    deps.metrics?.observe(c.get('route'), c.req.method, c.res.status, seconds);
    if (deps.accessLog?.() === true) logAccess(c, log, startedAt);
    if (log.enabled('debug') || c.res.status >= 500) {
      const fields = {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(seconds * 100_000) / 100,
      };
      if (c.res.status >= 500) log.warn('http request failed', fields);
      else log.debug('http request', fields);
    }
  });

  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? newRequestId();
    const { status, body } = errorResponseBody(err, requestId);
    const retryAfter = retryAfterSeconds(err);
    if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
    logFailure(c, c.get('log') ?? deps.log, err, status);
    return c.json(body, status as 500);
  });

  app.notFound((c) => {
    const { status, body } = errorResponseBody(
      new VigoError('not_found', `no route for ${c.req.method} ${c.req.path}`),
      c.get('requestId'),
    );
    return c.json(body, status as 404);
  });

  mountRouteTable(app, deps.routes, deps.auth, {
    capBytes: capBytesFor(deps),
    budget: new BodyBudget(deps.bodyBudget),
  });
  return app;
}
