import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Ctx } from '../core/index.ts';
import { apiTokenLimits } from './api-tokens.ts';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture } from './identity.fixture.ts';
import type { UserView } from './users.ts';

let f: IdentityFixture;
let root: UserView;
beforeEach(async () => {
  f = identityFixture();
  root = await f.user('root', 'admin');
});
afterEach(() => f.cleanup());

const day = 86_400_000;

describe('API tokens', () => {
  it('authenticates with the owner’s current role, follows a role change, and stops when revoked', async () => {
    const ann = await f.user('ann', 'viewer');
    const created = f.service.createApiToken(f.adminCtx, {
      userId: ann.id,
      name: ' ci-publish ',
      expiresInMs: 30 * day,
    });
    assert.match(created.id, /^tok_[0-9a-f]{24}$/);
    assert.match(created.token, /^vgot_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.name, 'ci-publish');
    assert.equal(created.userId, ann.id);
    assert.equal(created.status, 'active');
    assert.equal(created.expiresAt, new Date(f.clock.nowMs + 30 * day).toISOString());

    assert.deepEqual(f.service.authenticateApiToken(created.token), {
      kind: 'api-token',
      tokenId: created.id,
      userId: ann.id,
      username: 'ann',
      role: 'viewer',
    });
    await f.service.updateUser(f.adminCtx, ann.id, { role: 'operator' });
    const promoted = f.service.authenticateApiToken(created.token);
    assert.equal(promoted?.kind === 'api-token' && promoted.role, 'operator');

    const revoked = f.service.revokeApiToken(f.adminCtx, created.id);
    assert.equal(revoked.status, 'revoked');
    assert.equal(f.service.authenticateApiToken(created.token), undefined);
    // Revoking again changes nothing and adds no audit entry.
    assert.deepEqual(f.service.revokeApiToken(f.adminCtx, created.id), revoked);
    assert.equal(f.audit('api_token.revoked').length, 1);
    assert.deepEqual(f.audit('api_token.created')[0]?.details, {
      userId: ann.id,
      username: 'ann',
      name: 'ci-publish',
      expiresAt: created.expiresAt,
    });
  });

  it('refuses an expired token', async () => {
    const ann = await f.user('ann', 'operator');
    const { token, id } = f.service.createApiToken(f.adminCtx, {
      userId: ann.id,
      name: 'short',
      expiresInMs: 60_000,
    });
    f.clock.nowMs += 59_999;
    assert.ok(f.service.authenticateApiToken(token));
    f.clock.nowMs += 1;
    assert.equal(f.service.authenticateApiToken(token), undefined);
    assert.equal(f.service.listApiTokens(f.adminCtx).tokens.find((t) => t.id === id)?.status, 'expired');
  });

  it('stops the tokens of a disabled or deleted user at once', async () => {
    const ann = await f.user('ann', 'operator');
    const { token } = f.service.createApiToken(f.adminCtx, { userId: 'ann', name: 'ci' });
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: true });
    assert.equal(f.service.authenticateApiToken(token), undefined);
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: false });
    assert.ok(f.service.authenticateApiToken(token));
    f.service.deleteUser(f.adminCtx, ann.id);
    assert.equal(f.service.authenticateApiToken(token), undefined);
  });

  it('stores only the SHA-256 of the token', async () => {
    const ann = await f.user('ann', 'operator');
    const { token, id } = f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'ci' });
    f.service.authenticateApiToken(token);
    const everything = f.allStoredText();
    assert.ok(!everything.includes(token), 'the token is in no row');
    assert.ok(!everything.includes(token.slice('vgot_'.length)), 'nor its secret part');
    const stored = f.store.db.prepare('SELECT token_hash FROM api_tokens WHERE id = ?').pluck().get(id);
    assert.equal(stored, createHash('sha256').update(token).digest('hex'));
    assert.ok(
      !JSON.stringify(f.service.listApiTokens(f.adminCtx)).includes(String(stored)),
      'no hash in views',
    );
  });

  it('refuses anything that is not a live token, without throwing', async () => {
    const ann = await f.user('ann', 'operator');
    const { token } = f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'ci' });
    const lastChar = token.at(-1) === 'A' ? 'B' : 'A';
    for (const presented of [
      '',
      'vgot_',
      token.slice(0, -1),
      `${token.slice(0, -1)}${lastChar}`,
      `${token}A`,
      token.replace('vgot_', 'vgla_'),
      ` ${token}`,
      'x'.repeat(100_000),
      undefined as unknown as string,
    ]) {
      assert.equal(f.service.authenticateApiToken(presented), undefined);
    }
  });

  it('writes last_used_at at most once a minute per token', async () => {
    const ann = await f.user('ann', 'operator');
    const { token, id } = f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'ci' });
    const lastUsed = () =>
      f.store.db.prepare('SELECT last_used_at FROM api_tokens WHERE id = ?').pluck().get(id);
    assert.equal(lastUsed(), null);
    const first = f.clock.nowMs;
    f.service.authenticateApiToken(token);
    assert.equal(lastUsed(), first);
    f.clock.nowMs += 59_999;
    f.service.authenticateApiToken(token);
    assert.equal(lastUsed(), first);
    f.clock.nowMs += 1;
    f.service.authenticateApiToken(token);
    assert.equal(lastUsed(), first + 60_000);
    assert.equal(
      f.service.listApiTokens(f.adminCtx).tokens[0]?.lastUsedAt,
      new Date(first + 60_000).toISOString(),
    );
  });

  it('checks the name, lifetime and owner', async () => {
    const ann = await f.user('ann', 'operator');
    const create = (input: Record<string, unknown>) =>
      errorCode(() => f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'ci', ...input }));
    assert.equal(await create({ name: '' }), 'request.invalid');
    assert.equal(await create({ name: 'x'.repeat(65) }), 'request.invalid');
    assert.equal(await create({ name: 'a\u0007b' }), 'request.invalid');
    assert.equal(await create({ expiresInMs: 0 }), 'request.invalid');
    assert.equal(await create({ expiresInMs: 1.5 }), 'request.invalid');
    assert.equal(await create({ expiresInMs: '1h' }), 'request.invalid');
    assert.equal(await create({ expiresInMs: apiTokenLimits.maxExpiresInMs + 1 }), 'request.invalid');
    assert.equal(await create({ userId: 'nobody' }), 'identity.user_not_found');
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: true });
    assert.equal(await create({}), 'identity.user_disabled');
    assert.equal(f.count('SELECT count(*) FROM api_tokens'), 0);
    assert.equal(f.audit('api_token.created').length, 0);
  });

  it('limits how many live tokens one user holds', async () => {
    const ann = await f.user('ann', 'operator');
    const ids: string[] = [];
    for (let i = 0; i < apiTokenLimits.maxLiveTokensPerUser; i += 1) {
      ids.push(f.service.createApiToken(f.adminCtx, { userId: ann.id, name: `t${i}` }).id);
    }
    assert.equal(
      await errorCode(() => f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'one more' })),
      'identity.token_limit',
    );
    f.service.revokeApiToken(f.adminCtx, ids[0] as string);
    assert.ok(f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'one more' }).token);
  });
});

describe('API tokens: who may manage which', () => {
  let ann: UserView;
  let bob: UserView;
  let annCtx: Ctx;
  beforeEach(async () => {
    ann = await f.user('ann', 'viewer');
    bob = await f.user('bob', 'operator');
    annCtx = f.ctxOf(ann);
  });

  it('lets a non-admin create, list and revoke only their own tokens', async () => {
    const own = f.service.createApiToken(annCtx, { userId: ann.id, name: 'mine' });
    const bobs = f.service.createApiToken(f.adminCtx, { userId: bob.id, name: 'bobs' });
    assert.equal(
      await errorCode(() => f.service.createApiToken(annCtx, { userId: bob.id, name: 'x' })),
      'auth.forbidden',
    );
    assert.equal(await errorCode(() => f.service.revokeApiToken(annCtx, bobs.id)), 'auth.forbidden');
    assert.ok(f.service.authenticateApiToken(bobs.token), 'the refused revoke changed nothing');
    assert.deepEqual(
      f.service.listApiTokens(annCtx).tokens.map((t) => t.id),
      [own.id],
    );
    assert.equal(
      await errorCode(() => f.service.listApiTokens(annCtx, { userId: bob.id })),
      'auth.forbidden',
    );
    assert.equal(
      await errorCode(() => f.service.listApiTokens(annCtx, { userId: 'nobody' })),
      'auth.forbidden',
    );
    assert.equal(await errorCode(() => f.service.listApiTokens(annCtx, { userId: 'ann' })), 'no error');
    assert.equal(f.service.revokeApiToken(annCtx, own.id).status, 'revoked');
    assert.equal(f.audit('api_token.revoked')[0]?.actor, 'user:ann');
  });

  it('lets an API token act for its own user, and an admin for everyone', async () => {
    const own = f.service.createApiToken(annCtx, { userId: ann.id, name: 'mine' });
    const actor = f.service.authenticateApiToken(own.token);
    assert.ok(actor);
    const tokenCtx: Ctx = { requestId: 't', actor, log: f.log };
    assert.equal(f.service.listApiTokens(tokenCtx).tokens.length, 1);
    assert.equal(f.service.revokeApiToken(tokenCtx, own.id).status, 'revoked');

    f.service.createApiToken(f.adminCtx, { userId: bob.id, name: 'bobs' });
    const rootCtx = f.ctxOf(root);
    assert.equal(f.service.listApiTokens(rootCtx).tokens.length, 2);
    assert.deepEqual(
      f.service.listApiTokens(rootCtx, { userId: 'bob' }).tokens.map((t) => t.name),
      ['bobs'],
    );
    const envoyCtx: Ctx = { requestId: 'e', actor: { kind: 'envoy', envoyId: 'e1' }, log: f.log };
    assert.deepEqual(f.service.listApiTokens(envoyCtx).tokens, []);
    assert.equal(
      await errorCode(() => f.service.createApiToken(envoyCtx, { userId: bob.id, name: 'x' })),
      'auth.forbidden',
    );
  });

  it('answers token_not_found for unknown or malformed ids', async () => {
    assert.equal(
      await errorCode(() => f.service.revokeApiToken(f.adminCtx, 'tok_000000000000000000000000')),
      'identity.token_not_found',
    );
    assert.equal(
      await errorCode(() => f.service.revokeApiToken(f.adminCtx, '../etc')),
      'identity.token_not_found',
    );
  });

  it('pages the list newest first', async () => {
    for (const name of ['one', 'two', 'three']) {
      f.service.createApiToken(f.adminCtx, { userId: ann.id, name });
      f.clock.nowMs += 1000;
    }
    const page = f.service.listApiTokens(f.adminCtx, { limit: 2 });
    assert.deepEqual(
      page.tokens.map((t) => t.name),
      ['three', 'two'],
    );
    assert.equal(page.truncated, true);
    assert.equal(await errorCode(() => f.service.listApiTokens(f.adminCtx, { limit: 0 })), 'request.invalid');
  });
});
