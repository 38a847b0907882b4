/**
 * The web UI's bulk actions on a real vigosrv, as form posts (the browser flow is in
 * test/web/operations-view.test.ts): the first post only previews, the confirmed one revokes through the
 * audited FleetAdmin; a selection naming an unknown envoy changes nothing, too large a selection is refused
 * before any lookup, and a viewer may not act at all.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-bulk-');
let server: ReadyServer;
let admin: string;
const agents: EnrolledAgent[] = [];

before(async () => {
  server = await startServer({ dataDir: temp.path });
  admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const token = await createEnrollToken(server, ['bulk-*'], 5);
  for (const hostname of ['bulk-1', 'bulk-2', 'bulk-3'])
    agents.push(await enrollAgent(server, token, hostname));
});

after(async () => {
  await server?.stop();
  temp.remove();
});

function form(fields: [string, string][], bearer = admin) {
  return {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
  };
}

async function status(agent: EnrolledAgent | undefined): Promise<string> {
  assert.ok(agent);
  const reply = await server.request(`/api/v1/envoys/${agent.envoyId}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  return reply.json<{ status: string }>().status;
}

const ids = (list: readonly (EnrolledAgent | undefined)[]): [string, string][] =>
  list.map((a) => ['id', a?.envoyId ?? '']);

describe('bulk revoke from the envoy list', () => {
  it('previews first and revokes only when confirmed', async () => {
    const preview = await server.request('/envoys/bulk/revoke', form(ids([agents[0], agents[1]])));
    assert.equal(preview.status, 200, preview.body);
    assert.match(preview.body, /Revoke: 2 envoys/);
    assert.match(preview.body, /bulk-1[\s\S]*bulk-2/);
    assert.equal(await status(agents[0]), 'active', 'a preview changes nothing');

    const done = await server.request(
      '/envoys/bulk/revoke',
      form([...ids([agents[0], agents[1]]), ['confirm', 'yes'], ['reason', 'retired'], ['back', '/envoys']]),
    );
    assert.equal(done.status, 303, done.body);
    assert.equal(done.headers['location'], '/envoys?notice=bulk-revoked&n=2');
    assert.equal(await status(agents[0]), 'revoked');
    assert.equal(await status(agents[1]), 'revoked');
    const audit = await server.request('/api/v1/audit?limit=10', {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal((audit.body.match(/envoy\.revoked/g) ?? []).length >= 2, true, audit.body);
  });

  it('changes nothing when one selected envoy is unknown', async () => {
    const reply = await server.request(
      '/envoys/bulk/revoke',
      form([...ids([agents[2]]), ['id', '00000000-0000-4000-8000-000000000000'], ['confirm', 'yes']]),
    );
    assert.equal(reply.status, 404, reply.body);
    assert.equal(await status(agents[2]), 'active');
  });

  it('refuses an empty or too large selection and an outside redirect', async () => {
    const none = await server.request('/envoys/bulk/push', form([['confirm', 'yes']]));
    assert.equal(none.status, 400);
    assert.match(none.body, /select at least one envoy/);
    const many: [string, string][] = Array.from({ length: 101 }, (_, i) => ['id', `envoy-${i}`]);
    const tooMany = await server.request('/envoys/bulk/push', form(many));
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body, /101 envoys selected; at most 100/);
    const away = await server.request(
      '/envoys/bulk/push',
      form([...ids([agents[2]]), ['confirm', 'yes'], ['back', '//evil.example/']]),
    );
    assert.equal(away.status, 303, away.body);
    assert.match(String(away.headers['location']), /^\/envoys\?notice=bulk-pushed&n=1$/);
  });

  it('is not for viewers', async () => {
    const user = await server.request('/api/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: 'a viewer passphrase', role: 'viewer' }),
    });
    assert.equal(user.status, 201, user.body);
    const created = await server.request('/api/v1/tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bulk-viewer', user: 'vera' }),
    });
    assert.equal(created.status, 201, created.body);
    const viewer = created.json<{ token: string }>().token;
    const reply = await server.request('/envoys/bulk/push', form(ids([agents[2]]), viewer));
    assert.equal(reply.status, 403);
  });
});
