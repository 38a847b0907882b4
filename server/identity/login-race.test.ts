/**
 * Logins arriving all at once: the failure limit holds against concurrency (the attempt is reserved
 * before bcrypt), each address runs one comparison at a time, and a full bcrypt queue refuses at once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FairQueue } from '../enroll/index.ts';
import type { IdentityFixture } from './identity.fixture.ts';
import { errorCode, identityFixture, testPassword } from './identity.fixture.ts';

let f: IdentityFixture | undefined;
afterEach(() => f?.cleanup());

function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe('concurrent logins', () => {
  it('from one address get at most the configured number of guesses and bcrypt comparisons', async () => {
    const queue = new FairQueue({ concurrency: 2, maxWaiting: 1000 });
    f = identityFixture({ loginFailures: { max: 10, windowMs: 60_000 }, bcryptQueue: queue });
    const fx = f;
    await fx.user('ann', 'admin');
    const codes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        errorCode(() => fx.service.verifyPassword('ann', `wrong password ${i}`, '192.0.2.50')),
      ),
    );
    assert.deepEqual(tally(codes), { 'identity.login_failed': 10, rate_limited: 190 });
    assert.equal(queue.started, 10, 'one bcrypt comparison per allowed guess, none for the refused');
  });

  it('give a successful login its attempt back', async () => {
    f = identityFixture({ loginFailures: { max: 2, windowMs: 60_000 } });
    const fx = f;
    await fx.user('ann', 'viewer');
    for (let i = 0; i < 5; i += 1) await fx.service.verifyPassword('ann', testPassword, '192.0.2.60');
    assert.equal(
      await errorCode(() => fx.service.verifyPassword('ann', 'wrong one here', '192.0.2.60')),
      'identity.login_failed',
    );
    assert.equal(
      await errorCode(() => fx.service.verifyPassword('ann', 'wrong two here', '192.0.2.60')),
      'identity.login_failed',
    );
    assert.equal(
      await errorCode(() => fx.service.verifyPassword('ann', testPassword, '192.0.2.60')),
      'rate_limited',
    );
  });

  it('from many addresses are refused at once beyond the queue bound, without counting against them', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 4 });
    f = identityFixture({ loginFailures: { max: 1, windowMs: 60_000 }, bcryptQueue: queue });
    const fx = f;
    await fx.user('ann', 'admin');
    const flood = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        errorCode(() => fx.service.verifyPassword('ann', 'wrong password', `198.51.100.${i + 1}`)),
      ),
    );
    // One running and four waiting were compared; the other fifteen were turned away before bcrypt.
    assert.deepEqual(tally(flood), { 'identity.login_failed': 5, rate_limited: 15 });
    assert.equal(queue.started, 5);
    assert.equal(queue.refused, 15);
    // A refused address spent nothing: with a limit of one failure, its next try is still a real one.
    const refusedAddress = flood.findIndex((code) => code === 'rate_limited') + 1;
    const again = await fx.service.verifyPassword('ann', testPassword, `198.51.100.${refusedAddress}`);
    assert.equal(again.username, 'ann');
  });

  it('from an address that signed in before get in during a flood that fills the queue', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 2 });
    f = identityFixture({ loginFailures: { max: 10, windowMs: 60_000 }, bcryptQueue: queue });
    const fx = f;
    await fx.user('ann', 'admin');
    await fx.service.verifyPassword('ann', testPassword, '192.0.2.10');
    const flood = Array.from({ length: 10 }, (_, i) =>
      errorCode(() => fx.service.verifyPassword('ann', 'wrong password', `198.51.100.${i + 1}`)),
    );
    const stranger = await errorCode(() => fx.service.verifyPassword('ann', testPassword, '203.0.113.9'));
    assert.equal(stranger, 'rate_limited', 'a newcomer is turned away while the flood fills the queue');
    const known = await fx.service.verifyPassword('ann', testPassword, '192.0.2.10');
    assert.equal(known.username, 'ann');
    assert.ok((await Promise.all(flood)).includes('rate_limited'));
  });
});
