import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './worker.ts';

describe('backoff', () => {
  const target = { backoffInitialMs: 1_000, backoffMaxMs: 60_000 };

  it('doubles per try, capped, with the upper half jittered', () => {
    assert.equal(backoffMs(target, 1, 0), 500);
    assert.equal(backoffMs(target, 1, 1), 1_000);
    assert.equal(backoffMs(target, 2, 1), 2_000);
    assert.equal(backoffMs(target, 4, 0.5), 6_000);
    assert.equal(backoffMs(target, 7, 1), 60_000, 'capped at backoff_max');
    assert.equal(backoffMs(target, 99, 0), 30_000, 'a huge try count stays finite');
  });
});
