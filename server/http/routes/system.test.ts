import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { createHttpApp } from '../app.ts';
import { mintLocalAdminCredential } from '../auth.ts';
import { Readiness } from '../readiness.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';
import { systemRoutes } from './system.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-system-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const routes: AnyRoute[] = [
  ...systemRoutes({
    systemInfo: { version: 't', bootId: 'b', mode: 'user', startedAtMs: 0 },
    readiness: new Readiness(),
    databaseReady: () => true,
    metrics: new Registry(),
    openApi: () => ({}),
    table: () => routes,
  }),
  route<Record<never, never>, { n: { type: 'integer'; min: 1; max: 5 } }>({
    method: 'GET',
    path: '/t/query',
    summary: 'query',
    tag: 't',
    access: 'public',
    query: { n: { type: 'integer', min: 1, max: 5 } },
    handler: ({ c, query }) => c.json({ n: query.n ?? null }),
  }),
];
const app = createHttpApp({
  log: silentLogger,
  maxBodyBytes: 1024,
  auth: { localAdmin: mintLocalAdminCredential(join(dir, 'local-admin.token')) },
  routes,
});

const prototypeNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

describe('names that exist on every object', () => {
  it('answer 404 not_found as Swagger UI asset names', async () => {
    assert.equal((await app.request('/docs/assets/swagger-ui.css')).status, 200);
    for (const name of prototypeNames) {
      const res = await app.request(`/docs/assets/${name}`);
      assert.equal(res.status, 404, name);
      assert.equal(((await res.json()) as { code: string }).code, 'not_found', name);
    }
  });

  it('are unknown query parameters (400), never a declared one', async () => {
    for (const name of prototypeNames) {
      const res = await app.request(`/t/query?${name}=1`);
      assert.equal(res.status, 400, name);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'request.invalid', name);
      assert.match(body.message, /unknown parameter/, name);
    }
  });
});
