import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCheckinRate } from './checkin-rate.ts';

describe('check-ins per minute', () => {
  it('counts each outcome in its minute and forgets minutes older than an hour', () => {
    const rate = createCheckinRate();
    const t0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
    rate.record('bundle', t0 + 1);
    rate.record('no_change', t0 + 2);
    rate.record('no_change', t0 + 59_999);
    rate.record('refused', t0 + 60_000);
    const two = rate.perMinute(t0 + 60_001, 2);
    assert.deepEqual(two, [
      { startMs: t0, noChange: 2, bundle: 1, refused: 0 },
      { startMs: t0 + 60_000, noChange: 0, bundle: 0, refused: 1 },
    ]);
    // An hour later the same slots hold new minutes: the old counts are gone.
    rate.record('bundle', t0 + 3_600_000);
    const later = rate.perMinute(t0 + 3_600_000, 61);
    assert.equal(later.length, 60, 'at most an hour');
    assert.deepEqual(later.at(-1), { startMs: t0 + 3_600_000, noChange: 0, bundle: 1, refused: 0 });
    assert.equal(later[0]?.startMs, t0 + 60_000, 'the window starts 59 minutes back');
    assert.equal(
      later.reduce((n, m) => n + m.noChange, 0),
      0,
      'the minute an hour ago shares its slot with now and was cleared',
    );
    assert.equal(later[0]?.refused, 1, 'minutes still within the hour are kept');
  });
});
