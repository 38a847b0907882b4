import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import type { VigoError } from '../server/core/index.ts';
import type { WebContext } from './page-kit.ts';
import { requireSameOrigin, safeNext } from './page-kit.ts';

describe('safeNext', () => {
  it('keeps paths on this server, with their query', () => {
    assert.equal(safeNext('/envoys?q=web-&status=active', '/'), '/envoys?q=web-&status=active');
    assert.equal(safeNext('/envoys/abc', '/'), '/envoys/abc');
  });

  it('refuses anything that could leave the site', () => {
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      'envoys',
      '/envoys\n/x',
      '/%0a',
      '',
    ]) {
      const kept = safeNext(next, '/fallback');
      assert.ok(kept === '/fallback' || kept === '/%0a', `${JSON.stringify(next)} gave ${kept}`);
      assert.equal(kept.startsWith('//'), false);
    }
    assert.equal(safeNext(undefined, '/fallback'), '/fallback');
    assert.equal(safeNext(`/${'a'.repeat(3000)}`, '/fallback'), '/fallback');
  });
});

describe('requireSameOrigin', () => {
  const app = new Hono();
  app.post('/login', (c) => {
    try {
      requireSameOrigin(c as unknown as WebContext);
      return c.text('accepted');
    } catch (err) {
      return c.text((err as VigoError).code, 403);
    }
  });
  const post = async (headers: Record<string, string>) => {
    const response = await app.request('https://vigo.example:8443/login', {
      method: 'POST',
      headers: { host: 'vigo.example:8443', ...headers },
    });
    return [response.status, await response.text()];
  };

  it('accepts a post from the same origin, or from a client that names no site', async () => {
    assert.deepEqual(await post({ origin: 'https://vigo.example:8443', 'sec-fetch-site': 'same-origin' }), [
      200,
      'accepted',
    ]);
    assert.deepEqual(await post({}), [200, 'accepted']);
  });

  it('refuses a post a browser marks as cross-site, or whose Origin is another host', async () => {
    assert.deepEqual(await post({ 'sec-fetch-site': 'cross-site' }), [403, 'auth.forbidden']);
    assert.deepEqual(await post({ 'sec-fetch-site': 'same-site' }), [403, 'auth.forbidden']);
    assert.deepEqual(await post({ origin: 'https://evil.example' }), [403, 'auth.forbidden']);
    assert.deepEqual(await post({ origin: 'https://vigo.example:9999' }), [403, 'auth.forbidden']);
    assert.deepEqual(await post({ origin: 'not a url' }), [403, 'auth.forbidden']);
  });
});
