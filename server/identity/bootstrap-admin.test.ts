import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyAudit } from '../audit/index.ts';
import { adminBootstrapMetaKey } from './bootstrap-admin.ts';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture, testPassword } from './identity.fixture.ts';

let f: IdentityFixture;
beforeEach(() => {
  f = identityFixture();
});
afterEach(() => f.cleanup());

const claim = (secret: string, username = 'ann', sourceAddress = '192.0.2.1', password = testPassword) =>
  f.service.claimAdminBootstrap({ secret, username, password, sourceAddress });

function mint(): string {
  const prepared = f.service.prepareAdminBootstrap();
  assert.ok(prepared, 'a secret is minted while no admin exists');
  return prepared.secret;
}

describe('admin bootstrap secret', () => {
  it('is minted while no admin exists and stored only as its SHA-256', () => {
    const secret = mint();
    assert.match(secret, /^vgbs_[A-Za-z0-9_-]{43}$/);
    const stored = JSON.parse(
      String(f.store.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(adminBootstrapMetaKey)),
    ) as { sha256: string; createdAt: number };
    assert.deepEqual(stored, {
      sha256: createHash('sha256').update(secret).digest('hex'),
      createdAt: f.clock.nowMs,
    });
    const everything = f.allStoredText();
    assert.ok(
      !everything.includes(secret) && !everything.includes(secret.slice(5)),
      'the secret is in no row',
    );
    assert.equal(f.audit('admin_bootstrap.minted').length, 1);
  });

  it('creates the first admin once; the secret then stops working', async () => {
    const secret = mint();
    const admin = await claim(secret, 'Ann');
    assert.equal(admin.username, 'ann');
    assert.equal(admin.role, 'admin');
    assert.equal((await f.service.verifyPassword('ann', testPassword, '192.0.2.1')).id, admin.id);
    assert.equal(
      f.store.db.prepare('SELECT count(*) FROM meta WHERE key = ?').pluck().get(adminBootstrapMetaKey),
      0,
    );
    const [created] = f.audit('user.created');
    assert.equal(created?.actor, 'admin-bootstrap');
    assert.deepEqual(created?.details, {
      username: 'ann',
      role: 'admin',
      hasPassword: true,
      via: 'bootstrap-secret',
      sourceAddress: '192.0.2.1',
    });
    assert.equal(await errorCode(() => claim(secret, 'mallory')), 'identity.bootstrap_used');
    assert.equal(f.count('SELECT count(*) FROM users'), 1);
    assert.equal(f.service.prepareAdminBootstrap(), undefined, 'no new secret once an admin exists');
    assert.equal(verifyAudit(f.store.db).ok, true);
  });

  it('refuses a wrong, malformed or replaced secret, counting each against the address', async () => {
    const old = mint();
    const current = mint();
    assert.notEqual(old, current);
    assert.equal(f.audit('admin_bootstrap.minted').at(-1)?.details.replacedPrevious, true);
    assert.equal(await errorCode(() => claim(old)), 'identity.bootstrap_invalid');
    assert.equal(await errorCode(() => claim(`vgbs_${'A'.repeat(43)}`)), 'identity.bootstrap_invalid');
    assert.equal(await errorCode(() => claim('')), 'identity.bootstrap_invalid');
    assert.equal(
      await errorCode(() => claim(current)),
      'rate_limited',
      'three failures lock the address out',
    );
    assert.equal(f.warnings.filter((w) => w.msg === 'admin bootstrap refused').length, 3);
    assert.equal(f.count('SELECT count(*) FROM users'), 0);
    // Another address still can.
    assert.equal((await claim(current, 'ann', '198.51.100.7')).role, 'admin');
  });

  it('refuses a claim before any secret was minted', async () => {
    assert.equal(await errorCode(() => claim(`vgbs_${'A'.repeat(43)}`)), 'identity.bootstrap_invalid');
  });

  it('keeps the secret usable when the account details are bad', async () => {
    const secret = mint();
    assert.equal(await errorCode(() => claim(secret, 'local-admin')), 'identity.username_invalid');
    assert.equal(
      await errorCode(() => claim(secret, 'ann', '192.0.2.1', 'short')),
      'identity.password_invalid',
    );
    assert.equal((await claim(secret)).username, 'ann');
  });

  it('lets only one of two simultaneous claims win', async () => {
    const secret = mint();
    const results = await Promise.allSettled([claim(secret, 'ann'), claim(secret, 'bob', '192.0.2.2')]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.equal(
      ((lost[0] as PromiseRejectedResult).reason as { code?: unknown }).code,
      'identity.bootstrap_used',
    );
    assert.equal(f.count("SELECT count(*) FROM users WHERE role = 'admin'"), 1);
  });

  it('is refused once an admin exists another way, and leftovers are dropped at the next boot', async () => {
    const secret = mint();
    await f.user('root', 'admin');
    assert.equal(await errorCode(() => claim(secret)), 'identity.bootstrap_used');
    assert.equal(f.service.prepareAdminBootstrap(), undefined);
    assert.equal(
      f.store.db.prepare('SELECT count(*) FROM meta WHERE key = ?').pluck().get(adminBootstrapMetaKey),
      0,
    );
  });
});
