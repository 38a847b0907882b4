import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Hono } from 'hono';
import { silentLogger } from '../core/index.ts';
import { createHttpApp } from './app.ts';
import type { AuthEnv, LocalAdminCredential } from './auth.ts';
import { authenticate, mintLocalAdminCredential, requestCtx, requireAdmin } from './auth.ts';
import { Readiness } from './readiness.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function appWith(localAdmin: LocalAdminCredential, extra?: (sub: Hono<AuthEnv>) => void) {
  return createHttpApp({
    log: silentLogger,
    readiness: new Readiness(),
    systemInfo: { version: 'test', bootId: 'boot', mode: 'user', startedAtMs: 0 },
    maxBodyBytes: 1024,
    databaseReady: () => true,
    routes: [
      (app) => {
        const sub = new Hono<AuthEnv>();
        sub.use(authenticate({ localAdmin }));
        extra?.(sub);
        sub.use(requireAdmin);
        sub.get('/whoami', (c) => c.json({ actor: requestCtx(c).actor }));
        app.route('/api/v1/test', sub);
      },
    ],
  });
}

describe('local-admin credential', () => {
  it('is minted as a fresh vgla_ token in a 0600 file, and only that token matches', () => {
    const file = join(dir, 'sub', 'local-admin.token');
    const first = mintLocalAdminCredential(file);
    const token = readFileSync(file, 'utf8').trim();
    assert.match(token, /^vgla_[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.matches(token), true);
    assert.equal(first.matches(`${token}x`), false);
    assert.equal(first.matches(''), false);
    const second = mintLocalAdminCredential(file);
    const next = readFileSync(file, 'utf8').trim();
    assert.notEqual(next, token, 'a new token at every boot');
    assert.equal(second.matches(token), false);
    assert.equal(second.matches(next), true);
  });
});

describe('admin guard', () => {
  const file = join(dir, 'guard.token');
  const localAdmin = mintLocalAdminCredential(file);
  const token = readFileSync(file, 'utf8').trim();
  const app = appWith(localAdmin);

  it('admits the local-admin bearer token and names the actor', async () => {
    for (const header of [`Bearer ${token}`, `bearer  ${token} `]) {
      const res = await app.request('/api/v1/test/whoami', { headers: { authorization: header } });
      assert.equal(res.status, 200, header);
      assert.deepEqual(await res.json(), { actor: { kind: 'local-admin' } });
    }
  });

  it('answers 401 auth.required with the error envelope for missing or bad credentials', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /no Authorization header/],
      [{ authorization: `Basic ${token}` }, /not "Bearer <token>"/],
      [{ authorization: `Bearer ${token}x` }, /not valid/],
      [{ authorization: 'Bearer' }, /not "Bearer <token>"/],
    ];
    for (const [headers, message] of cases) {
      const res = await app.request('/api/v1/test/whoami', {
        headers: { ...headers, 'x-request-id': 'r-1' },
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="vigo"');
      const body = (await res.json()) as { code: string; message: string; requestId: string };
      assert.equal(body.code, 'auth.required');
      assert.equal(body.requestId, 'r-1');
      assert.match(body.message, message);
      assert.equal(body.message.includes(token), false);
    }
  });

  it('answers 403 auth.forbidden for an authenticated caller who is not an admin', async () => {
    const envoyApp = appWith(localAdmin, (sub) =>
      sub.use(async (c, next) => {
        c.set('actor', { kind: 'envoy', envoyId: 'e-1' });
        await next();
      }),
    );
    const res = await envoyApp.request('/api/v1/test/whoami');
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'auth.forbidden');
  });
});
