/**
 * Through REST on the real vigosrv: an API token cannot mint a token that outlives it — the new token
 * expires when asked or with its minter, whichever comes first — while a password session and the local
 * admin mint any lifetime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-minting-');
let server: ReadyServer;
let localAdmin: Record<string, string>;
const json = { 'content-type': 'application/json' };
const password = 'a passphrase for minting tests';

interface TokenReply {
  token: string;
  id: string;
  expiresAt: string | null;
}

after(async () => {
  await server?.stop();
  temp.remove();
});
before(async () => {
  server = await startServer({ dataDir: temp.path });
  localAdmin = {
    authorization: `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}`,
  };
  const created = await server.request('/api/v1/users', {
    method: 'POST',
    headers: { ...localAdmin, ...json },
    body: JSON.stringify({ username: 'minter', role: 'operator', password }),
  });
  assert.equal(created.status, 201, created.body);
});

async function login(body: Record<string, unknown>) {
  const res = await server.request('/api/v1/auth/login', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'minter', password, ...body }),
  });
  assert.equal(res.status, 200, res.body);
  return res;
}

async function mint(headers: Record<string, string>, body: Record<string, unknown>) {
  return server.request('/api/v1/tokens', {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ name: 'minted', ...body }),
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('a token minted with an API token', () => {
  let parent: TokenReply;
  before(async () => {
    parent = (await login({ as: 'token', expiresIn: '5m' })).json<TokenReply>();
    assert.ok(parent.expiresAt !== null);
  });

  it('expires with its minter when no lifetime is asked for (it used to live until revoked)', async () => {
    const child = await mint(bearer(parent.token), {});
    assert.equal(child.status, 201, child.body);
    assert.equal(child.json<TokenReply>().expiresAt, parent.expiresAt);
    // And so on down a chain.
    const grandchild = await mint(bearer(child.json<TokenReply>().token), {});
    assert.equal(grandchild.status, 201, grandchild.body);
    assert.equal(grandchild.json<TokenReply>().expiresAt, parent.expiresAt);
  });

  it('may ask for a shorter lifetime', async () => {
    const child = await mint(bearer(parent.token), { expiresIn: '1m' });
    assert.equal(child.status, 201, child.body);
    const expiresAt = child.json<TokenReply>().expiresAt;
    assert.ok(expiresAt !== null && Date.parse(expiresAt) <= Date.parse(parent.expiresAt as string));
  });

  it("asking for a longer one gets its minter's expiry, and the reply says so", async () => {
    for (const expiresIn of ['720h', '366d']) {
      const child = await mint(bearer(parent.token), { expiresIn });
      assert.equal(child.status, 201, child.body);
      assert.equal(child.json<TokenReply>().expiresAt, parent.expiresAt, expiresIn);
    }
  });
});

describe('a token minted by a password session or the local admin', () => {
  it('may live until revoked, as asked', async () => {
    const session = await login({});
    const cookie = String(session.headers['set-cookie']).split(';')[0] as string;
    const csrf = session.json<{ csrfToken: string }>().csrfToken;
    const fromSession = await mint({ cookie, 'x-csrf-token': csrf }, {});
    assert.equal(fromSession.status, 201, fromSession.body);
    assert.equal(fromSession.json<TokenReply>().expiresAt, null);
    const fromLocalAdmin = await mint(localAdmin, { user: 'minter' });
    assert.equal(fromLocalAdmin.status, 201, fromLocalAdmin.body);
    assert.equal(fromLocalAdmin.json<TokenReply>().expiresAt, null);
  });
});
