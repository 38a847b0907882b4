import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VigoError, silentLogger, systemCtx } from '../core/index.ts';
import { createIdentityService } from '../identity/index.ts';
import { openStore } from '../store/index.ts';
import { createHttpApp } from './app.ts';
import { mintLocalAdminCredential, sessionCookieName } from './auth.ts';
import { buildOpenApiDocument } from './openapi.ts';
import type { AnyRoute } from './route-table.ts';
import { checkRouteTable, honoPath, route } from './route-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-routes-'));
const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const identity = createIdentityService({
  store,
  log: silentLogger,
  bcryptRounds: 4,
  sessionIdleTimeoutMs: () => 60_000,
});
const localAdminFile = join(dir, 'local-admin.token');
const localAdmin = mintLocalAdminCredential(localAdminFile);
const adminToken = readFileSync(localAdminFile, 'utf8').trim();

const table: AnyRoute[] = [
  route({
    method: 'GET',
    path: '/t/open',
    summary: 'open',
    tag: 't',
    access: 'public',
    handler: ({ c, ctx }) => c.json({ actor: ctx.actor.kind }),
  }),
  route({
    method: 'GET',
    path: '/t/read',
    summary: 'read',
    tag: 't',
    access: 'fleet.read',
    handler: ({ c, ctx }) => c.json({ actor: ctx.actor }),
  }),
  route({
    method: 'POST',
    path: '/t/admin/{id}',
    summary: 'admin',
    tag: 't',
    access: 'admin',
    handler: ({ c, param }) => c.json({ id: param('id') }),
  }),
  route({
    method: 'GET',
    path: '/t/busy',
    summary: 'busy',
    tag: 't',
    access: 'public',
    handler: () => {
      throw new VigoError('rate_limited', 'slow down', { retryAfterSeconds: 7 });
    },
  }),
  route<Record<never, never>, { n: { type: 'integer'; min: 1; max: 5 } }>({
    method: 'GET',
    path: '/t/query',
    summary: 'query',
    tag: 't',
    access: 'authenticated',
    query: { n: { type: 'integer', min: 1, max: 5 } },
    handler: ({ c, query }) => c.json({ n: query.n ?? null }),
  }),
];
const app = createHttpApp({
  log: silentLogger,
  maxBodyBytes: 1024,
  auth: { localAdmin, identity },
  routes: table,
});

async function tokenFor(username: string, role: 'admin' | 'viewer' | 'compliance'): Promise<string> {
  const user = await identity.createUser(systemCtx(silentLogger), {
    username,
    role,
    password: 'correct horse battery',
  });
  return identity.createApiToken(systemCtx(silentLogger), { userId: user.id, name: 't' }).token;
}

describe('route table checks at startup', () => {
  it('refuses a route without a valid access, a duplicate and a malformed path', () => {
    const base = {
      method: 'GET',
      path: '/x',
      summary: 's',
      tag: 't',
      handler: () => new Response(),
    } as const;
    assert.throws(() => checkRouteTable([{ ...base } as unknown as AnyRoute]), /declares no valid access/);
    assert.throws(
      () => checkRouteTable([{ ...base, access: 'fleet.reed' } as unknown as AnyRoute]),
      /declares no valid access/,
    );
    assert.throws(
      () => checkRouteTable([route({ ...base, access: 'public' }), route({ ...base, access: 'admin' })]),
      /declared twice/,
    );
    assert.throws(() => checkRouteTable([route({ ...base, path: 'x//y', access: 'public' })]), /malformed/);
    assert.throws(
      () =>
        createHttpApp({
          log: silentLogger,
          maxBodyBytes: 1,
          auth: { localAdmin },
          routes: [{ ...base } as unknown as AnyRoute],
        }),
      /declares no valid access/,
    );
  });

  it('turns table paths into hono paths', () => {
    assert.equal(honoPath('/a/{id}/b'), '/a/:id/b');
    assert.equal(honoPath('/s/{path+}'), '/s/:path{.+}');
  });
});

describe('authentication and authorization through the table', () => {
  it('lets anyone reach a public route and names nobody', async () => {
    const res = await app.request('/t/open');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { actor: 'system' });
  });

  it('admits the local-admin token, a 0600 file minted per boot', async () => {
    assert.equal(statSync(localAdminFile).mode & 0o777, 0o600);
    const res = await app.request('/t/admin/42', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: '42' });
  });

  it('answers 401 auth.required with the envelope and the reason', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /no Authorization header or session cookie/],
      [{ authorization: `Basic ${adminToken}` }, /not "Bearer <token>"/],
      [{ authorization: `Bearer ${adminToken}x` }, /local-admin token is not valid/],
      [{ authorization: 'Bearer vgot_nope' }, /unknown, expired or revoked/],
      [{ cookie: `${sessionCookieName}=nope` }, /session has ended/],
    ];
    for (const [headers, message] of cases) {
      const res = await app.request('/t/read', { headers: { ...headers, 'x-request-id': 'r-1' } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="vigo"');
      const body = (await res.json()) as { code: string; message: string; requestId: string };
      assert.equal(body.code, 'auth.required');
      assert.equal(body.requestId, 'r-1');
      assert.match(body.message, message);
      assert.equal(body.message.includes(adminToken), false);
    }
  });

  it('answers 403 auth.forbidden naming the missing permission', async () => {
    const viewer = await tokenFor('vera', 'viewer');
    const read = await app.request('/t/read', { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(read.status, 200);
    const res = await app.request('/t/admin/1', {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'auth.forbidden');
    assert.match(body.message, /needs the "admin" permission, which vera \(role viewer\)/);
    const compliance = await tokenFor('carl', 'compliance');
    const denied = await app.request('/t/read', { headers: { authorization: `Bearer ${compliance}` } });
    assert.equal(denied.status, 403);
  });

  it('sends Retry-After for any error that says when to come back', async () => {
    const res = await app.request('/t/busy');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(((await res.json()) as { code: string }).code, 'rate_limited');
    assert.equal((await app.request('/t/open')).headers.get('retry-after'), null);
  });

  it('checks declared query parameters and refuses unknown ones', async () => {
    const h = { authorization: `Bearer ${adminToken}` };
    assert.deepEqual(await (await app.request('/t/query?n=3', { headers: h })).json(), { n: 3 });
    for (const q of ['n=9', 'n=x', 'm=1', 'n=1&n=2']) {
      const res = await app.request(`/t/query?${q}`, { headers: h });
      assert.equal(res.status, 400, q);
      assert.equal(((await res.json()) as { code: string }).code, 'request.invalid');
    }
  });

  it('requires the CSRF token for a cookie session that changes something', async () => {
    const user = await identity.createUser(systemCtx(silentLogger), {
      username: 'ada',
      role: 'admin',
      password: 'correct horse battery',
    });
    const session = identity.createSession(user.id, { ip: '127.0.0.1' });
    const cookie = `${sessionCookieName}=${session.sessionId}`;
    assert.equal((await app.request('/t/read', { headers: { cookie } })).status, 200);
    const missing = await app.request('/t/admin/1', { method: 'POST', headers: { cookie } });
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { code: string }).code, 'auth.csrf');
    const wrong = await app.request('/t/admin/1', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': 'x' },
    });
    assert.equal(wrong.status, 403);
    const ok = await app.request('/t/admin/1', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': session.csrfToken },
    });
    assert.equal(ok.status, 200);
    const form = await app.request('/t/admin/1', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(session.csrfToken)}`,
    });
    assert.equal(form.status, 200);
  });
});

describe('OpenAPI document', () => {
  it('lists every visible route with its access, parameters and the error envelope', () => {
    const doc = buildOpenApiDocument(table, { version: 't' }) as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-vigo-access': string; parameters: { name: string }[] }>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/t/admin/{id}',
      '/t/busy',
      '/t/open',
      '/t/query',
      '/t/read',
    ]);
    assert.equal(doc.paths['/t/admin/{id}']?.['post']?.['x-vigo-access'], 'admin');
    assert.deepEqual(
      doc.paths['/t/query']?.['get']?.parameters.map((p) => p.name),
      ['n'],
    );
  });
});
