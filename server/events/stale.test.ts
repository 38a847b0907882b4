import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventBus } from './bus.ts';
import { staleEventPublisher } from './stale.ts';

describe('staleEventPublisher', () => {
  it('publishes envoy.stale and envoy.online with the envoy as subject', async () => {
    const bus = createEventBus({ retain: 10 });
    const subscription = bus.subscribe({ types: ['envoy.stale', 'envoy.online'], maxQueued: 10 });
    const publish = staleEventPublisher(bus);
    const entry = {
      id: 'env-1',
      hostname: 'web-1.example.com',
      lastSeenAtMs: Date.parse('2025-03-01T10:00:00Z'),
    };
    publish({ entry, stale: true });
    publish({ entry, stale: false });
    const stale = await subscription.next();
    const online = await subscription.next();
    assert.equal(stale?.type, 'envoy.stale');
    assert.equal(stale?.subject, 'env-1');
    assert.deepEqual(stale?.data, {
      envoyId: 'env-1',
      hostname: 'web-1.example.com',
      lastSeenAt: '2025-03-01T10:00:00.000Z',
    });
    assert.equal(online?.type, 'envoy.online');
    subscription.close();
  });
});
