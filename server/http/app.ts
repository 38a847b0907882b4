/**
 * The HTTPS application: request ids, access logs, bounded bodies, one error envelope, and the open
 * operational endpoints. Feature routes are mounted by their modules.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../core/index.ts';
import { VigoError, newRequestId } from '../core/index.ts';
import { errorResponseBody } from './error-map.ts';
import type { Readiness } from './readiness.ts';

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
  readiness: Readiness;
  systemInfo: SystemInfo;
  maxBodyBytes: number;
  /** Routes that take larger bodies than maxBodyBytes (stack uploads), by exact path. */
  largeBodyRoutes?: { readonly paths: readonly string[]; readonly maxBytes: () => number };
  /** Cheap check that the database answers; /readyz calls it, /healthz never does. */
  databaseReady(): boolean;
  /** Feature modules attach their routes here, after the common middleware. */
  routes?: readonly ((app: Hono<HttpEnv>) => void)[];
}

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

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', (c) => {
    const state = deps.readiness.state;
    if (state !== 'ready') return c.json({ status: state }, 503);
    if (!deps.databaseReady()) return c.json({ status: 'database unavailable' }, 503);
    return c.json({ status: 'ready' });
  });

  app.get('/api/v1/system-info', (c) =>
    c.json({
      version: deps.systemInfo.version,
      bootId: deps.systemInfo.bootId,
      mode: deps.systemInfo.mode,
      startedAt: new Date(deps.systemInfo.startedAtMs).toISOString(),
      uptimeSeconds: Math.floor((Date.now() - deps.systemInfo.startedAtMs) / 1000),
      node: process.version,
    }),
  );

  for (const mount of deps.routes ?? []) mount(app);
  return app;
}
