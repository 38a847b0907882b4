import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { createEventBus } from './bus.ts';
import type { EventBus, Subscription, VigoEvent } from './bus.ts';
import { eventJson } from './encode.ts';
import type { EventType } from './event-types.ts';

/** Everything the subscription has ready now, without waiting for more. */
async function drain(subscription: Subscription): Promise<VigoEvent[]> {
  const events: VigoEvent[] = [];
  for (;;) {
    const next = await Promise.race([subscription.next(), Promise.resolve('idle' as const)]);
    if (next === 'idle') {
      // The pending next() stays registered; close() resolves it.
      return events;
    }
    if (next === undefined) return events;
    events.push(next);
  }
}

function publishRuns(bus: EventBus, count: number, type: EventType = 'run.reported'): VigoEvent[] {
  return Array.from({ length: count }, (_, i) => bus.publish(type, { n: i + 1 }, `envoy-${i + 1}`));
}

function numbers(events: readonly VigoEvent[]): unknown[] {
  return events.map((event) => (event.type === 'stream.gap' ? 'gap' : event.data['n']));
}

describe('event bus: publishing', () => {
  it('assigns increasing ids of this boot, a time and an optional subject', () => {
    const bus = createEventBus({ retain: 10, now: () => Date.parse('2025-01-02T03:04:05.678Z') });
    const first = bus.publish('config.published', { version: 7 });
    const second = bus.publish('envoy.stale', { hostname: 'web-1' }, 'e-1');
    assert.equal(first.id, `${bus.bootTag}-1`);
    assert.equal(second.id, `${bus.bootTag}-2`);
    assert.equal(first.at, '2025-01-02T03:04:05.678Z');
    assert.equal('subject' in first, false);
    assert.equal(second.subject, 'e-1');
    assert.deepEqual(bus.stats(), { subscribers: 0, retained: 2, published: 2, lastId: second.id });
  });

  it('copies and freezes data, and serialises an event to the same JSON every time', () => {
    const bus = createEventBus({ retain: 10 });
    const data = { hostname: 'web-1' };
    const event = bus.publish('envoy.online', data, 'e-1');
    data.hostname = 'changed';
    assert.equal(event.data['hostname'], 'web-1');
    assert.ok(Object.isFrozen(event) && Object.isFrozen(event.data));
    const json = eventJson(event);
    assert.deepEqual(JSON.parse(json), {
      id: event.id,
      type: 'envoy.online',
      at: event.at,
      subject: 'e-1',
      data: { hostname: 'web-1' },
    });
    assert.equal(eventJson(event), json);
  });

  it('refuses nonsensical sizes', () => {
    for (const retain of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => createEventBus({ retain }),
        (err) => isVigoError(err) && err.code === 'config.invalid',
      );
    }
    const bus = createEventBus({ retain: 10 });
    assert.throws(
      () => bus.subscribe({ maxQueued: 0 }),
      (err) => isVigoError(err) && err.code === 'config.invalid' && err.message.includes('maxQueued'),
    );
    assert.throws(
      () => bus.subscribe({ maxQueued: 5, types: [] }),
      (err) => isVigoError(err) && err.code === 'request.invalid',
    );
    assert.equal(bus.stats().subscribers, 0);
  });
});

describe('event bus: subscribing', () => {
  it('delivers only events published after subscribing, in order, waking a waiting reader', async () => {
    const bus = createEventBus({ retain: 100 });
    publishRuns(bus, 2);
    const subscription = bus.subscribe({ maxQueued: 10 });
    const waiting = subscription.next();
    const published = bus.publish('run.reported', { n: 3 });
    assert.equal(await waiting, published);
    bus.publish('run.reported', { n: 4 });
    bus.publish('run.reported', { n: 5 });
    assert.deepEqual(numbers(await drain(subscription)), [4, 5]);
    subscription.close();
  });

  it('resumes after a retained id, then continues live', async () => {
    const bus = createEventBus({ retain: 100 });
    const events = publishRuns(bus, 5);
    const subscription = bus.subscribe({ afterId: events[1]?.id, maxQueued: 10 });
    bus.publish('run.reported', { n: 6 });
    assert.deepEqual(numbers(await drain(subscription)), [3, 4, 5, 6]);
    const fromLast = bus.subscribe({ afterId: bus.stats().lastId ?? '', maxQueued: 10 });
    assert.deepEqual(await drain(fromLast), []);
    subscription.close();
    fromLast.close();
  });

  it('replays everything from the start of the boot for id <boot>-0 without a gap', async () => {
    const bus = createEventBus({ retain: 10 });
    publishRuns(bus, 3);
    const subscription = bus.subscribe({ afterId: `${bus.bootTag}-0`, maxQueued: 10 });
    assert.deepEqual(numbers(await drain(subscription)), [1, 2, 3]);
    subscription.close();
  });

  it('starts with a stream.gap naming the reason when the id cannot be found, then replays the ring', async () => {
    const bus = createEventBus({ retain: 3 });
    const events = publishRuns(bus, 5);
    const other = createEventBus({ retain: 3 });
    const otherId = other.publish('run.reported', {}).id;
    const cases: [string, string][] = [
      [events[0]?.id ?? '', 'expired'],
      [otherId, 'other-boot'],
      ['not an id', 'malformed'],
      [`${bus.bootTag}-99`, 'ahead'],
    ];
    for (const [afterId, reason] of cases) {
      const subscription = bus.subscribe({ afterId, maxQueued: 10 });
      const received = await drain(subscription);
      assert.deepEqual(numbers(received), ['gap', 3, 4, 5], afterId);
      const gap = received[0];
      assert.equal(gap?.data['reason'], reason);
      assert.equal(gap?.data['lastEventId'], afterId);
      assert.match(gap?.data['message'] as string, /may have been missed/);
      // The gap's id is the position replay started from: resuming from it needs no second gap.
      assert.equal(gap?.id, `${bus.bootTag}-2`);
      const resumed = bus.subscribe({ afterId: gap?.id ?? '', maxQueued: 10 });
      assert.deepEqual(numbers(await drain(resumed)), [3, 4, 5]);
      subscription.close();
      resumed.close();
    }
    assert.equal(bus.stats().subscribers, 0);
  });

  it('filters by type but always delivers a gap', async () => {
    const bus = createEventBus({ retain: 10 });
    const subscription = bus.subscribe({
      afterId: 'bogus',
      types: ['envoy.stale', 'envoy.online'],
      maxQueued: 10,
    });
    bus.publish('run.reported', { n: 1 });
    bus.publish('envoy.stale', { n: 2 });
    bus.publish('config.published', { n: 3 });
    bus.publish('envoy.online', { n: 4 });
    const received = await drain(subscription);
    assert.deepEqual(
      received.map((event) => event.type),
      ['stream.gap', 'envoy.stale', 'envoy.online'],
    );
    subscription.close();
  });

  it('works as an async iterator; leaving the loop closes the subscription', async () => {
    const bus = createEventBus({ retain: 10 });
    const subscription = bus.subscribe({ maxQueued: 10 });
    publishRuns(bus, 3);
    const seen: unknown[] = [];
    for await (const event of subscription) {
      seen.push(event.data['n']);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, [1, 2]);
    assert.equal(subscription.closedReason, 'closed');
    assert.equal(bus.stats().subscribers, 0);
  });

  it('refuses a second next() while one is pending', async () => {
    const bus = createEventBus({ retain: 10 });
    const subscription = bus.subscribe({ maxQueued: 10 });
    const first = subscription.next();
    await assert.rejects(subscription.next(), (err) => isVigoError(err) && err.code === 'internal');
    subscription.close();
    assert.equal(await first, undefined);
  });
});

describe('event bus: bounded clients and cleanup', () => {
  it('closes a subscriber that has more than maxQueued undelivered events, and frees it', async () => {
    const bus = createEventBus({ retain: 100 });
    const slow = bus.subscribe({ maxQueued: 3 });
    const fast = bus.subscribe({ maxQueued: 3 });
    const events = publishRuns(bus, 3);
    assert.equal(slow.closedReason, undefined, 'exactly maxQueued is still fine');
    assert.deepEqual(numbers(await drain(fast)), [1, 2, 3]);
    bus.publish('run.reported', { n: 4 });
    assert.equal(slow.closedReason, 'overflow');
    assert.equal(await slow.next(), undefined);
    assert.equal(fast.closedReason, undefined, 'a client that keeps up is unaffected');
    assert.equal(bus.stats().subscribers, 1);
    // The ring still holds what the slow client missed: reconnecting with its last id loses nothing.
    const resumed = bus.subscribe({ afterId: events[0]?.id, maxQueued: 3 });
    assert.deepEqual(numbers(await drain(resumed)), [2, 3, 4]);
    fast.close();
    resumed.close();
  });

  it('counts only matching events against maxQueued, and ignored events never overtake a filtered reader', async () => {
    const bus = createEventBus({ retain: 2 });
    const subscription = bus.subscribe({ types: ['config.published'], maxQueued: 1 });
    publishRuns(bus, 10, 'run.reported');
    assert.equal(subscription.closedReason, undefined);
    bus.publish('config.published', { n: 11 });
    publishRuns(bus, 1, 'run.reported');
    assert.deepEqual(numbers(await drain(subscription)), [11]);
    subscription.close();
  });

  it('skips ignored events left behind by replay, so they cannot overtake a pending match', async () => {
    const bus = createEventBus({ retain: 5 });
    bus.publish('config.published', { n: 1 });
    const subscription = bus.subscribe({
      afterId: `${bus.bootTag}-0`,
      types: ['config.published'],
      maxQueued: 5,
    });
    publishRuns(bus, 2, 'run.reported');
    assert.equal((await subscription.next())?.data['n'], 1);
    bus.publish('config.published', { n: 4 });
    publishRuns(bus, 3, 'run.reported');
    assert.deepEqual(numbers(await drain(subscription)), [4]);
    assert.equal(subscription.closedReason, undefined);
    subscription.close();
  });

  it('closes a reader the ring has overtaken during replay', async () => {
    const bus = createEventBus({ retain: 3 });
    const events = publishRuns(bus, 3);
    const subscription = bus.subscribe({ afterId: events[0]?.id, maxQueued: 100 });
    assert.equal((await subscription.next())?.data['n'], 2);
    publishRuns(bus, 3);
    assert.equal(await subscription.next(), undefined);
    assert.equal(subscription.closedReason, 'overflow');
    assert.equal(bus.stats().subscribers, 0);
  });

  it('close() ends a pending next() and detaches; bus close() ends everyone with shutdown', async () => {
    const bus = createEventBus({ retain: 10 });
    const a = bus.subscribe({ maxQueued: 10 });
    const pending = a.next();
    a.close();
    assert.equal(await pending, undefined);
    assert.equal(bus.stats().subscribers, 0);
    const b = bus.subscribe({ maxQueued: 10 });
    const c = bus.subscribe({ maxQueued: 10 });
    const waiting = b.next();
    assert.equal(bus.stats().subscribers, 2);
    bus.close();
    assert.equal(await waiting, undefined);
    assert.deepEqual([b.closedReason, c.closedReason], ['shutdown', 'shutdown']);
    const late = bus.subscribe({ maxQueued: 10 });
    assert.equal(late.closedReason, 'shutdown');
    assert.deepEqual(bus.stats().subscribers, 0);
    bus.publish('run.reported', { n: 1 });
    assert.equal(bus.stats().published, 1, 'publishing after close still records, for the drain');
  });
});

describe('event bus: replay without subscribing', () => {
  it('pages through retained events by id, and names a gap when the position is lost', () => {
    const bus = createEventBus({ retain: 4 });
    assert.deepEqual(bus.replay(undefined, 10), { events: [], gap: undefined });
    const events = publishRuns(bus, 6);
    const first = bus.replay(undefined, 2);
    assert.deepEqual(numbers(first.events), [3, 4]);
    assert.equal(first.gap, undefined);
    const next = bus.replay(first.events.at(-1)?.id, 10);
    assert.deepEqual(numbers(next.events), [5, 6]);
    assert.deepEqual(bus.replay(events[5]?.id, 10).events, []);
    const expired = bus.replay(events[0]?.id, 10);
    assert.equal(expired.gap, 'expired');
    assert.deepEqual(numbers(expired.events), [3, 4, 5, 6]);
    assert.equal(bus.replay('zz-1', 10).gap, 'other-boot');
    assert.equal(bus.replay(`${bus.bootTag}-99`, 10).gap, 'ahead');
    assert.deepEqual(bus.replay(events[2]?.id, 0).events, []);
  });
});
