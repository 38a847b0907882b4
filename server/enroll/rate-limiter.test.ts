import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureLimiter } from './rate-limiter.ts';

describe('FailureLimiter', () => {
  it('blocks an address after maxFailures within the window, until the oldest failure ages out', () => {
    const clock = { nowMs: 1_000_000 };
    const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, nowMs: () => clock.nowMs });
    for (let i = 0; i < 3; i += 1) {
      assert.equal(limiter.retryAfterMs('a'), 0);
      limiter.recordFailure('a');
      clock.nowMs += 1000;
    }
    assert.equal(limiter.retryAfterMs('a'), 57_000, 'first failure at t0 frees a slot at t0 + 60 s');
    assert.equal(limiter.retryAfterMs('b'), 0, 'other addresses are unaffected');
    clock.nowMs = 1_000_000 + 60_000;
    assert.equal(limiter.retryAfterMs('a'), 0);
  });

  it('forgets failures older than the window and drops idle addresses', () => {
    const clock = { nowMs: 0 };
    const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 10_000, nowMs: () => clock.nowMs });
    limiter.recordFailure('a');
    clock.nowMs = 10_001;
    limiter.recordFailure('a');
    assert.equal(limiter.retryAfterMs('a'), 0, 'one failure in the window');
    clock.nowMs = 30_000;
    assert.equal(limiter.retryAfterMs('a'), 0);
    assert.equal(limiter.trackedAddresses, 0);
  });

  it('tracks a bounded number of addresses, forgetting the stalest first', () => {
    const limiter = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxAddresses: 3 });
    for (const address of ['a', 'b', 'c', 'd']) limiter.recordFailure(address);
    assert.equal(limiter.trackedAddresses, 3);
    assert.equal(limiter.retryAfterMs('a'), 0, 'a was evicted');
    assert.ok(limiter.retryAfterMs('d') > 0);
  });

  it('reserves attempts before their work: concurrent ones cannot overtake the limit', () => {
    const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 60_000 });
    const reserved = Array.from({ length: 10 }, () => limiter.reserve('a'));
    assert.equal(reserved.filter((r) => r !== undefined).length, 3, 'only 3 of 10 at once get an attempt');
    assert.ok(limiter.retryAfterMs('a') > 0);
    // An attempt that did not fail is given back (once), and another may go.
    reserved[0]?.giveBack();
    reserved[0]?.giveBack();
    assert.equal(limiter.retryAfterMs('a'), 0);
    assert.ok(limiter.reserve('a') !== undefined);
    assert.equal(limiter.reserve('a'), undefined);
  });

  it('refuses nonsensical limits', () => {
    assert.throws(() => new FailureLimiter({ maxFailures: 0, windowMs: 1 }), RangeError);
    assert.throws(() => new FailureLimiter({ maxFailures: 1, windowMs: 0 }), RangeError);
  });
});
