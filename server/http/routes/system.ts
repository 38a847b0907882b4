/**
 * Operational routes: liveness and readiness (open, for load balancers and supervisors), system info,
 * Prometheus metrics (fleet.read: a scraper sends a viewer's API token), the OpenAPI document and the
 * Swagger UI served from the bundled swagger-ui-dist package (no CDN).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Registry } from 'prom-client';
import type { SystemInfo } from '../app.ts';
import { openApiPath } from '../openapi.ts';
import type { Readiness } from '../readiness.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface SystemRoutesDeps {
  readonly systemInfo: SystemInfo;
  readonly readiness: Readiness;
  /** Cheap check that the database answers; /readyz calls it, /healthz never does. */
  databaseReady(): boolean;
  readonly metrics: Registry;
  /** The OpenAPI document of the whole table, built once the table is complete. */
  openApi(): Record<string, unknown>;
  /** The whole route table, web pages included. */
  table(): readonly AnyRoute[];
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
// A Map, not an object literal: a path segment such as "constructor" must not find Object.prototype's.
const swaggerAssets: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
]);

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigo API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script></body></html>
`;

// A file, not an inline script, so the Content-Security-Policy can forbid inline scripts everywhere.
const docsInit = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(openApiPath)}, dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout',
  validatorUrl: null, withCredentials: true });
`;

const cacheFor = (seconds: number): Record<string, string> => ({
  'Cache-Control': `public, max-age=${seconds}`,
});

export function systemRoutes(deps: SystemRoutesDeps): AnyRoute[] {
  const assetCache = new Map<string, Buffer>();
  const asset = (name: string): Buffer => {
    let body = assetCache.get(name);
    if (body === undefined) {
      body = readFileSync(join(swaggerDir, name));
      assetCache.set(name, body);
    }
    return body;
  };
  return [
    route({
      method: 'GET',
      path: '/healthz',
      summary: 'Liveness: the process answers',
      tag: 'system',
      access: 'public',
      response: { type: 'object', properties: { status: { const: 'ok' } } },
      handler: ({ c }) => c.json({ status: 'ok' }),
    }),
    route({
      method: 'GET',
      path: '/readyz',
      summary: 'Readiness: serving, not draining, database answering (503 otherwise)',
      tag: 'system',
      access: 'public',
      success: [200, 503],
      response: { type: 'object', properties: { status: { type: 'string' } } },
      handler: ({ c }) => {
        const state = deps.readiness.state;
        if (state !== 'ready') return c.json({ status: state }, 503);
        if (!deps.databaseReady()) return c.json({ status: 'database unavailable' }, 503);
        return c.json({ status: 'ready' });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/system-info',
      summary: 'Server version, boot id, mode and uptime',
      tag: 'system',
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['version', 'bootId', 'mode', 'startedAt', 'uptimeSeconds', 'node'],
        properties: {
          version: { type: 'string' },
          bootId: { type: 'string' },
          mode: { enum: ['user', 'system'] },
          startedAt: { type: 'string', format: 'date-time' },
          uptimeSeconds: { type: 'integer' },
          node: { type: 'string' },
        },
      },
      handler: ({ c }) =>
        c.json({
          version: deps.systemInfo.version,
          bootId: deps.systemInfo.bootId,
          mode: deps.systemInfo.mode,
          startedAt: new Date(deps.systemInfo.startedAtMs).toISOString(),
          uptimeSeconds: Math.floor((Date.now() - deps.systemInfo.startedAtMs) / 1000),
          node: process.version,
        }),
    }),
    route({
      method: 'GET',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'system',
      access: 'fleet.read',
      produces: 'text/plain',
      handler: async ({ c }) =>
        c.body(await deps.metrics.metrics(), 200, { 'Content-Type': deps.metrics.contentType }),
    }),
    route({
      method: 'GET',
      path: openApiPath,
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'system',
      access: 'public',
      response: { type: 'object', required: ['openapi', 'paths'] },
      handler: ({ c }) => c.json(deps.openApi()),
    }),
    route({
      method: 'GET',
      path: '/api/v1/system/routes',
      summary: 'Every route the server answers (web pages included) with the access it needs',
      tag: 'system',
      access: 'admin',
      response: {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['method', 'path', 'access', 'summary', 'documented'],
              properties: {
                method: { type: 'string' },
                path: { type: 'string' },
                access: { type: 'string' },
                summary: { type: 'string' },
                documented: { type: 'boolean' },
              },
            },
          },
        },
      },
      handler: ({ c }) =>
        c.json({
          items: deps.table().map((r) => ({
            method: r.method,
            path: r.path,
            access: r.access,
            summary: r.summary,
            documented: r.hidden !== true,
          })),
        }),
    }),
    route({
      method: 'GET',
      path: '/docs',
      summary: 'Swagger UI for this API',
      tag: 'system',
      access: 'public',
      hidden: true,
      produces: 'text/html',
      handler: ({ c }) => c.html(docsPage),
    }),
    route({
      method: 'GET',
      path: '/docs/assets/{name}',
      summary: 'Swagger UI assets',
      tag: 'system',
      access: 'public',
      hidden: true,
      handler: ({ c, param }) => {
        const name = param('name');
        if (name === 'init.js')
          return c.body(docsInit, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        const type = swaggerAssets.get(name);
        if (type === undefined) return c.notFound();
        return c.body(new Uint8Array(asset(name)), 200, { 'Content-Type': type, ...cacheFor(86_400) });
      },
    }),
  ];
}
