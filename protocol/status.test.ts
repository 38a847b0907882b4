import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { errorCodeOf, errorStatusMessage, errorStatusMetadata, retryAfterMsOf } from './index.ts';

describe('error status helpers', () => {
  it('puts the code first in the message and alone in the trailer', () => {
    const message = errorStatusMessage('checkin.replayed', 'ts_ms 5 is not after the last accepted 9');
    assert.equal(message, 'checkin.replayed: ts_ms 5 is not after the last accepted 9');
    const metadata = errorStatusMetadata('results.queue_full', 1500);
    assert.deepEqual(metadata.get('vigo-error-code'), ['results.queue_full']);
    assert.equal(retryAfterMsOf({ metadata }), 1500);
  });

  it('reads the code from the trailer first, else from the message', () => {
    const metadata = errorStatusMetadata('checkin.revoked');
    assert.equal(errorCodeOf({ details: 'checkin.clock_skew: whatever', metadata }), 'checkin.revoked');
    assert.equal(
      errorCodeOf({ details: 'checkin.clock_skew: server time 1', metadata: new Metadata() }),
      'checkin.clock_skew',
    );
    assert.equal(errorCodeOf({ details: 'No connection established' }), undefined);
    assert.equal(errorCodeOf({}), undefined);
  });

  it('ignores a missing or malformed retry-after trailer', () => {
    assert.equal(retryAfterMsOf({}), undefined);
    const metadata = new Metadata();
    metadata.set('vigo-retry-after-ms', 'soon');
    assert.equal(retryAfterMsOf({ metadata }), undefined);
  });
});
