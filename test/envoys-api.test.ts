/** GET /api/v1/envoys against the real server: admin only, paged by cursor, filtered by status and prefix. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-envoys-');
let server: ReadyServer;
let admin: Record<string, string>;
after(async () => {
  await server?.stop();
  temp.remove();
});
before(async () => {
  server = await startServer({ dataDir: temp.path });
  admin = { authorization: `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}` };
  const token = await createEnrollToken(server, ['*.example.com'], 5);
  for (const host of ['web-2.example.com', 'db-1.example.com', 'web-1.example.com'])
    await enrollAgent(server, token, host);
});

interface Page {
  items: { hostname: string; status: string; lastSeenAt: string | null }[];
  total: number;
  nextCursor: string | null;
}

describe('GET /api/v1/envoys', () => {
  it('refuses callers without credentials', async () => {
    const reply = await server.request('/api/v1/envoys');
    assert.equal(reply.status, 401);
    assert.equal(reply.json<{ code: string }>().code, 'auth.required');
  });

  it('pages through the fleet in hostname order', async () => {
    const first = (await server.request('/api/v1/envoys?limit=2', { headers: admin })).json<Page>();
    assert.deepEqual(
      first.items.map((e) => e.hostname),
      ['db-1.example.com', 'web-1.example.com'],
    );
    assert.equal(first.total, 3);
    assert.ok(first.nextCursor);
    const second = (
      await server.request(`/api/v1/envoys?limit=2&cursor=${first.nextCursor}`, { headers: admin })
    ).json<Page>();
    assert.deepEqual(
      second.items.map((e) => e.hostname),
      ['web-2.example.com'],
    );
    assert.equal(second.nextCursor, null);
    assert.equal(second.items[0]?.status, 'active');
    assert.equal(second.items[0]?.lastSeenAt, null, 'never checked in yet');
  });

  it('filters by hostname prefix and status, and rejects bad parameters', async () => {
    const web = (
      await server.request('/api/v1/envoys?hostname_prefix=web-', { headers: admin })
    ).json<Page>();
    assert.equal(web.total, 2);
    const revoked = (await server.request('/api/v1/envoys?status=revoked', { headers: admin })).json<Page>();
    assert.equal(revoked.total, 0);
    const bad = await server.request('/api/v1/envoys?limit=0', { headers: admin });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ code: string }>().code, 'request.invalid');
  });
});
