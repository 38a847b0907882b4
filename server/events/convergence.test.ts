import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventBus } from './bus.ts';
import { convergenceEventPublisher } from './convergence.ts';

function transition(from: [string, string], to: [string, string], runId: string) {
  return {
    envoyId: 'env-1',
    hostname: 'web-1.example.com',
    transition: {
      from: { status: from[0], drift: from[1] },
      to: { status: to[0], drift: to[1] },
      runId,
      atMs: Date.parse('2025-03-01T10:00:00Z'),
    },
  };
}

describe('convergenceEventPublisher', () => {
  it('publishes the new failure status, and drift.detected when drift becomes diverged', async () => {
    const bus = createEventBus({ retain: 20 });
    const subscription = bus.subscribe({
      types: ['envoy.converged', 'envoy.degraded', 'envoy.failed', 'drift.detected'],
      maxQueued: 20,
    });
    const publish = convergenceEventPublisher(bus);
    publish(transition(['no_data', 'none'], ['failed', 'none'], 'r1'));
    publish(transition(['failed', 'none'], ['degraded', 'changed'], 'r2'));
    publish(transition(['degraded', 'changed'], ['converged', 'diverged'], 'r3'));
    publish(transition(['converged', 'diverged'], ['converged', 'none'], 'r4')); // nothing to announce
    publish(transition(['converged', 'none'], ['converged', 'diverged'], 'r5'));
    const seen: [string | undefined, unknown][] = [];
    for (let i = 0; i < 5; i++) {
      const event = await subscription.next();
      seen.push([event?.type, (event?.data as { runId: string }).runId]);
    }
    assert.deepEqual(seen, [
      ['envoy.failed', 'r1'],
      ['envoy.degraded', 'r2'],
      ['envoy.converged', 'r3'],
      ['drift.detected', 'r3'],
      ['drift.detected', 'r5'],
    ]);
    subscription.close();
    bus.close();
  });
});
