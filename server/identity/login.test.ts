import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture, testPassword } from './identity.fixture.ts';

let f: IdentityFixture;
beforeEach(() => {
  f = identityFixture();
});
afterEach(() => f.cleanup());

async function loginError(username: string, password: string, source = '192.0.2.1'): Promise<VigoError> {
  try {
    await f.service.verifyPassword(username, password, source);
  } catch (err) {
    if (err instanceof VigoError) return err;
    throw err;
  }
  assert.fail('login succeeded');
}

describe('password login', () => {
  it('accepts the right password for the username in any case and audits auth.login', async () => {
    const ann = await f.user('ann', 'operator');
    const auditBefore = f.audit().length;
    const view = await f.service.verifyPassword(' ANN ', testPassword, '192.0.2.1');
    assert.deepEqual(view, ann);
    const logins = f.audit('auth.login');
    assert.equal(f.audit().length, auditBefore + 1);
    assert.equal(logins.length, 1);
    assert.equal(logins[0]?.actor, 'user:ann');
    assert.equal(logins[0]?.target, `user:${ann.id}`);
    assert.deepEqual(logins[0]?.details, { method: 'password', sourceAddress: '192.0.2.1' });
  });

  it('gives an unknown user and a wrong password the same answer, audits neither, and logs a warning', async () => {
    await f.user('ann', 'viewer');
    const wrong = await loginError('ann', 'not the password at all');
    const unknown = await loginError('nobody', testPassword, '192.0.2.2');
    assert.equal(wrong.code, 'identity.login_failed');
    assert.equal(unknown.code, wrong.code);
    assert.equal(unknown.message, wrong.message);
    assert.deepEqual(unknown.details, wrong.details);
    assert.equal(f.audit('auth.login').length, 0);
    const failures = f.warnings.filter((w) => w.msg === 'login failed');
    assert.equal(failures.length, 2);
    assert.deepEqual(
      failures.map((w) => [w.username, w.sourceAddress]),
      [
        ['ann', '192.0.2.1'],
        ['nobody', '192.0.2.2'],
      ],
    );
    assert.ok(!JSON.stringify(f.warnings).includes('not the password at all'), 'no password in the log');
  });

  it('refuses malformed input as a failed login, not a crash', async () => {
    await f.user('ann', 'viewer');
    for (const [username, password] of [
      ['', ''],
      ['ann', ''],
      ['Ann Smith', testPassword],
      ['a'.repeat(500), testPassword],
    ] as const) {
      assert.equal(
        (await loginError(username, password, `192.0.2.${username.length}`)).code,
        'identity.login_failed',
      );
    }
    const notStrings = f.service.verifyPassword(
      1 as unknown as string,
      {} as unknown as string,
      '198.51.100.1',
    );
    assert.equal(await errorCode(() => notStrings), 'identity.login_failed');
  });

  it('refuses a disabled user, and says so only to whoever knows the password', async () => {
    await f.user('root', 'admin');
    const ann = await f.user('ann', 'viewer');
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: true });
    assert.equal((await loginError('ann', testPassword)).code, 'identity.user_disabled');
    assert.equal((await loginError('ann', 'wrong password here', '192.0.2.7')).code, 'identity.login_failed');
    assert.equal(f.audit('auth.login').length, 0);
    await f.service.updateUser(f.adminCtx, ann.id, { disabled: false });
    assert.equal((await f.service.verifyPassword('ann', testPassword, '192.0.2.1')).id, ann.id);
  });
});

describe('login rate limit', () => {
  it('refuses an address after 3 failures, even with the right password, and tells when to retry', async () => {
    await f.user('ann', 'viewer');
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await loginError('ann', `wrong password ${i}x`)).code, 'identity.login_failed');
    }
    const limited = await loginError('ann', testPassword);
    assert.equal(limited.code, 'rate_limited');
    assert.equal(limited.details.retryAfterSeconds, 60);
    assert.match(limited.message, /try again in 60 s/);
    // Other addresses are not affected; an IPv4-mapped IPv6 address is the same address.
    assert.equal((await f.service.verifyPassword('ann', testPassword, '192.0.2.2')).username, 'ann');
    assert.equal((await loginError('ann', testPassword, '::ffff:192.0.2.1')).code, 'rate_limited');
    // The window slides: once the failures are older than a minute, the address may try again.
    f.clock.nowMs += 30_000;
    assert.equal((await loginError('ann', testPassword)).details.retryAfterSeconds, 30);
    f.clock.nowMs += 30_000;
    assert.equal((await f.service.verifyPassword('ann', testPassword, '192.0.2.1')).username, 'ann');
  });

  it('counts failures for unknown users too, and an IPv6 /64 as one address', async () => {
    for (let i = 1; i <= 3; i += 1) await loginError(`ghost${i}`, 'whatever password', `2001:db8:1:2::${i}`);
    assert.equal(
      (await loginError('ghost', 'whatever password', '2001:db8:1:2:ffff::1')).code,
      'rate_limited',
    );
    assert.equal(
      (await loginError('ghost', 'whatever password', '2001:db8:1:3::1')).code,
      'identity.login_failed',
    );
  });
});
