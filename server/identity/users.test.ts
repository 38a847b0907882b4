import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyAudit } from '../audit/index.ts';
import { silentLogger } from '../core/index.ts';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture, testPassword } from './identity.fixture.ts';
import { createIdentityService } from './service.ts';

let f: IdentityFixture;
beforeEach(() => {
  f = identityFixture();
});
afterEach(() => f.cleanup());

describe('users: create, read, update, delete', () => {
  it('creates a user, audits it without the password, and never returns the hash', async () => {
    const ann = await f.service.createUser(f.adminCtx, {
      username: '  Ann.Smith ',
      role: 'operator',
      password: testPassword,
      displayName: 'Ann Smith',
      email: 'ann@example.com',
    });
    assert.match(ann.id, /^usr_[0-9a-f]{24}$/);
    assert.equal(ann.username, 'ann.smith');
    assert.equal(ann.role, 'operator');
    assert.equal(ann.hasPassword, true);
    assert.equal(ann.disabled, false);
    assert.equal(ann.createdAt, new Date(f.clock.nowMs).toISOString());
    assert.doesNotMatch(JSON.stringify(ann), /\$2[aby]\$/);

    const [entry] = f.audit('user.created');
    assert.ok(entry);
    assert.equal(entry.actor, 'local-admin');
    assert.equal(entry.target, `user:${ann.id}`);
    assert.deepEqual(entry.details, {
      username: 'ann.smith',
      role: 'operator',
      hasPassword: true,
      displayName: 'Ann Smith',
      email: 'ann@example.com',
    });
    const stored = f.store.db.prepare('SELECT password_hash FROM users WHERE id = ?').pluck().get(ann.id);
    assert.match(String(stored), /^\$2b\$04\$/);
    assert.ok(!f.allStoredText().includes(testPassword), 'the password is stored nowhere');
    assert.ok(!JSON.stringify(f.audit()).includes(String(stored)), 'the hash is in no audit entry');
  });

  it('finds users by id or by username in any case, and lists them in order', async () => {
    const bob = await f.user('bob', 'viewer');
    await f.user('ann', 'admin');
    assert.deepEqual(f.service.getUser(bob.id), bob);
    assert.deepEqual(f.service.getUser('BOB'), bob);
    assert.equal(await errorCode(() => f.service.getUser('carol')), 'identity.user_not_found');
    assert.equal(
      await errorCode(() => f.service.getUser('usr_000000000000000000000000')),
      'identity.user_not_found',
    );
    const listing = f.service.listUsers();
    assert.deepEqual(
      listing.users.map((u) => u.username),
      ['ann', 'bob'],
    );
    assert.equal(listing.truncated, false);
    const firstOnly = f.service.listUsers({ limit: 1 });
    assert.deepEqual(
      firstOnly.users.map((u) => u.username),
      ['ann'],
    );
    assert.equal(firstOnly.truncated, true);
    assert.equal(await errorCode(() => f.service.listUsers({ limit: 0 })), 'request.invalid');
    assert.equal(await errorCode(() => f.service.listUsers({ limit: 1001 })), 'request.invalid');
  });

  it('refuses a duplicate username, whatever its case, and changes nothing', async () => {
    await f.user('ann', 'viewer');
    const auditBefore = f.audit().length;
    assert.equal(await errorCode(() => f.user('ann', 'admin')), 'identity.user_exists');
    assert.equal(await errorCode(() => f.user('ANN', 'admin')), 'identity.user_exists');
    assert.equal(f.count('SELECT count(*) FROM users'), 1);
    assert.equal(f.audit().length, auditBefore);
  });

  it('refuses bad usernames, passwords, roles and fields with clear codes', async () => {
    const create = (input: Record<string, unknown>) =>
      errorCode(() =>
        f.service.createUser(f.adminCtx, {
          username: 'ann',
          role: 'viewer',
          ...input,
        }),
      );
    for (const username of [
      '',
      '-ann',
      '.ann',
      'ann smith',
      'ann@x',
      'a'.repeat(65),
      'localhost',
      'LOCAL-ADMIN',
      'system',
      'usr_abc',
      'ännа',
    ]) {
      assert.equal(await create({ username }), 'identity.username_invalid', username);
    }
    assert.equal(await create({ username: 42 }), 'identity.username_invalid');
    assert.equal(await create({ password: 'short' }), 'identity.password_invalid');
    assert.equal(await create({ password: 'x'.repeat(1025) }), 'identity.password_invalid');
    assert.equal(await create({ role: 'root' }), 'request.invalid');
    assert.equal(await create({ email: 'not-an-email' }), 'request.invalid');
    assert.equal(await create({ displayName: 'Ann\nForged: line' }), 'request.invalid');
    assert.equal(f.count('SELECT count(*) FROM users'), 0);
    assert.equal(f.audit().length, 0);
    // The boundaries themselves are accepted.
    await f.service.createUser(f.adminCtx, { username: 'a', role: 'viewer', password: 'x'.repeat(12) });
    await f.service.createUser(f.adminCtx, {
      username: 'b'.repeat(64),
      role: 'viewer',
      password: 'y'.repeat(1024),
    });
    assert.equal(f.count('SELECT count(*) FROM users'), 2);
  });

  it('creates a user without a password, who can then not log in with one', async () => {
    const bot = await f.service.createUser(f.adminCtx, { username: 'ci-bot', role: 'operator' });
    assert.equal(bot.hasPassword, false);
    assert.equal(
      await errorCode(() => f.service.verifyPassword('ci-bot', '', '192.0.2.9')),
      'identity.login_failed',
    );
  });

  it('updates fields, audits only what changed, and skips a patch that changes nothing', async () => {
    const ann = await f.user('ann', 'viewer');
    f.clock.nowMs += 1000;
    const updated = await f.service.updateUser(f.adminCtx, ann.id, {
      role: 'operator',
      displayName: 'Ann',
      email: 'ann@example.com',
    });
    assert.equal(updated.role, 'operator');
    assert.equal(updated.displayName, 'Ann');
    assert.equal(updated.updatedAt, new Date(f.clock.nowMs).toISOString());
    const [entry] = f.audit('user.updated');
    assert.deepEqual(entry?.details, {
      username: 'ann',
      changes: { role: { from: 'viewer', to: 'operator' }, displayName: 'Ann', email: 'ann@example.com' },
      sessionsEnded: 0,
    });

    const same = await f.service.updateUser(f.adminCtx, 'ann', {
      role: 'operator',
      email: 'ann@example.com',
    });
    assert.deepEqual(same, updated);
    assert.equal(f.audit('user.updated').length, 1);

    const cleared = await f.service.updateUser(f.adminCtx, ann.id, { displayName: null, email: '' });
    assert.equal(cleared.displayName, null);
    assert.equal(cleared.email, null);
    assert.equal(
      await errorCode(() => f.service.updateUser(f.adminCtx, 'nobody', { role: 'admin' })),
      'identity.user_not_found',
    );
  });

  it('changes a password: the new one works, the old one not, and no audit entry holds either', async () => {
    const ann = await f.user('ann', 'viewer');
    const newPassword = 'a different passphrase';
    await f.service.updateUser(f.adminCtx, ann.id, { password: newPassword });
    assert.equal((await f.service.verifyPassword('ann', newPassword, '192.0.2.1')).id, ann.id);
    assert.equal(
      await errorCode(() => f.service.verifyPassword('ann', testPassword, '192.0.2.1')),
      'identity.login_failed',
    );
    const [entry] = f.audit('user.updated');
    assert.deepEqual(entry?.details, {
      username: 'ann',
      changes: { passwordChanged: true },
      sessionsEnded: 0,
    });
    const audit = JSON.stringify(f.audit());
    assert.ok(!audit.includes(newPassword) && !audit.includes('$2b$'));
    assert.equal(
      await errorCode(() => f.service.updateUser(f.adminCtx, ann.id, { password: 'short' })),
      'identity.password_invalid',
    );
  });

  it('deletes a user with their tokens and sessions, audited', async () => {
    const ann = await f.user('ann', 'operator');
    f.service.createApiToken(f.adminCtx, { userId: ann.id, name: 'ci' });
    f.service.createSession(ann.id, { ip: '192.0.2.1' });
    const deleted = f.service.deleteUser(f.adminCtx, 'ann');
    assert.equal(deleted.id, ann.id);
    assert.equal(f.count('SELECT count(*) FROM users'), 0);
    assert.equal(f.count('SELECT count(*) FROM api_tokens'), 0);
    assert.equal(f.count('SELECT count(*) FROM sessions'), 0);
    assert.deepEqual(f.audit('user.deleted')[0]?.details, { username: 'ann', role: 'operator' });
    assert.equal(await errorCode(() => f.service.deleteUser(f.adminCtx, ann.id)), 'identity.user_not_found');
    assert.deepEqual(verifyAudit(f.store.db).ok, true);
  });

  it('records who acted in the audit entry', async () => {
    const root = await f.user('root-ann', 'admin');
    await f.service.createUser(f.ctxOf(root), { username: 'bob', role: 'viewer' });
    assert.equal(f.audit('user.created').at(-1)?.actor, 'user:root-ann');
  });
});

describe('users: the last enabled admin', () => {
  it('cannot be demoted, disabled or deleted, and nothing changes when refused', async () => {
    const ann = await f.user('ann', 'admin');
    const auditBefore = f.audit().length;
    assert.equal(
      await errorCode(() => f.service.updateUser(f.adminCtx, ann.id, { role: 'viewer' })),
      'identity.last_admin',
    );
    assert.equal(
      await errorCode(() => f.service.updateUser(f.adminCtx, ann.id, { disabled: true })),
      'identity.last_admin',
    );
    assert.equal(await errorCode(() => f.service.deleteUser(f.adminCtx, ann.id)), 'identity.last_admin');
    assert.equal(f.service.getUser(ann.id).role, 'admin');
    assert.equal(f.service.getUser(ann.id).disabled, false);
    assert.equal(f.audit().length, auditBefore);
  });

  it('can be changed once another enabled admin exists, but a disabled admin does not count', async () => {
    const ann = await f.user('ann', 'admin');
    const bob = await f.user('bob', 'admin');
    await f.service.updateUser(f.adminCtx, bob.id, { disabled: true });
    assert.equal(await errorCode(() => f.service.deleteUser(f.adminCtx, ann.id)), 'identity.last_admin');
    await f.service.updateUser(f.adminCtx, bob.id, { disabled: false });
    await f.service.updateUser(f.adminCtx, ann.id, { role: 'viewer' });
    assert.equal(f.service.getUser(ann.id).role, 'viewer');
    assert.equal(await errorCode(() => f.service.deleteUser(f.adminCtx, bob.id)), 'identity.last_admin');
    // Demoting a non-admin or deleting a viewer needs no other admin.
    f.service.deleteUser(f.adminCtx, ann.id);
  });
});

describe('identity service options', () => {
  it('refuses options that cannot work, at construction', async () => {
    const base = { store: f.store, log: silentLogger, sessionIdleTimeoutMs: () => 0 };
    assert.equal(
      await errorCode(() => createIdentityService({ ...base, bcryptRounds: 3 })),
      'config.invalid',
    );
    assert.equal(
      await errorCode(() => createIdentityService({ ...base, sessionMaxAgeMs: 0 })),
      'config.invalid',
    );
    assert.equal(
      await errorCode(() => createIdentityService({ ...base, loginFailures: { max: 0, windowMs: 1000 } })),
      'config.invalid',
    );
    assert.equal(
      await errorCode(() => createIdentityService({ ...base, sessionIdleTimeoutMs: () => -1 })),
      'config.invalid',
    );
  });

  it('hashes passwords at cost 12 unless told otherwise', async () => {
    const service = createIdentityService({
      store: f.store,
      log: silentLogger,
      sessionIdleTimeoutMs: () => 0,
    });
    const ann = await service.createUser(f.adminCtx, {
      username: 'ann',
      role: 'viewer',
      password: testPassword,
    });
    const stored = f.store.db.prepare('SELECT password_hash FROM users WHERE id = ?').pluck().get(ann.id);
    assert.match(String(stored), /^\$2b\$12\$/);
  });
});
