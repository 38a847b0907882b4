import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDurationMs, parseDurationMs } from './duration.ts';

describe('parseDurationMs', () => {
  it('reads Go-style durations', () => {
    assert.equal(parseDurationMs('24h'), 86_400_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs('0'), 0);
    assert.equal(parseDurationMs('0s'), 0);
  });

  it('refuses text that is not a duration', () => {
    for (const bad of ['', 'h', '5', '5x', '5m junk', '-5m', 'm5']) {
      assert.equal(parseDurationMs(bad), undefined, bad);
    }
  });

  it('formats back to the largest whole unit', () => {
    assert.equal(formatDurationMs(86_400_000), '24h');
    assert.equal(formatDurationMs(90_000), '90s');
    assert.equal(formatDurationMs(1500), '1500ms');
  });
});
