/**
 * The delivery queue's guarantees against real receivers: a dead or hanging endpoint delays nothing but
 * its own target, its retries are bounded and end in dead, a full queue drops its oldest deliveries with
 * the reason, pending deliveries survive a restart, and a test delivery is audited.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { listAudit } from '../server/audit/index.ts';
import { isVigoError } from '../server/core/index.ts';
import { waitFor } from './helpers/deadline.ts';
import { startSinks } from './helpers/integrations-harness.ts';
import { deadPort, startHttpReceiver } from './helpers/sink-receivers.ts';

const fast = { backoff_initial: '10ms', backoff_max: '40ms' };
const secrets = { 'hooks/key': 'k3y' };

function hook(name: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, type: 'webhook', url, secret: 'secret:hooks/key', ...fast, ...extra };
}

describe('delivery isolation and bounds', () => {
  it('a dead endpoint is retried max_attempts times, then dead; another target gets every event', async (t) => {
    const live = await startHttpReceiver(t);
    const port = await deadPort();
    const sinks = await startSinks(
      t,
      [hook('dead', `http://127.0.0.1:${port}/`, { max_attempts: 3 }), hook('live', live.url)],
      secrets,
    );
    for (let n = 0; n < 10; n += 1) sinks.bus.publish('envoy.failed', { envoyId: `env-${n}` });
    await waitFor('10 delivered to live', () => (live.requests.length === 10 ? true : undefined));
    const dead = await waitFor('all dead', () => {
      const rows = sinks.rows('dead');
      return rows.length === 10 && rows.every((r) => r.state === 'dead') ? rows : undefined;
    });
    for (const row of dead) {
      assert.equal(row.attempts, 3);
      assert.match(row.last_error ?? '', /^gave up after 3 tries: .*ECONNREFUSED/);
    }
    assert.equal(await sinks.metric(/target="dead",outcome="dead"/), 10);
    assert.equal(await sinks.metric(/target="dead",outcome="retried"/), 20);
    assert.equal(await sinks.metric(/target="live",outcome="delivered"/), 10);
    assert.equal(await sinks.metric(/^vigo_integration_queue_depth\{target="dead"\}/), 0);
    const status = sinks.integrations.list().find((s) => s.name === 'dead');
    assert.equal(status?.health, 'failing');
    assert.equal(status?.dead, 10);
  });

  it('a hanging endpoint times out per request and holds up no other target', async (t) => {
    const hung: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => hung.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const live = await startHttpReceiver(t);
    const { port } = server.address() as AddressInfo;
    const sinks = await startSinks(
      t,
      [
        hook('slow', `http://127.0.0.1:${port}/`, { timeout: '200ms', concurrency: 1, max_attempts: 2 }),
        hook('live', live.url),
      ],
      secrets,
    );
    for (let n = 0; n < 5; n += 1) sinks.bus.publish('envoy.failed', { envoyId: `env-${n}` });
    await waitFor('5 delivered to live', () => (live.requests.length === 5 ? true : undefined));
    const timedOut = await waitFor('a timed-out try', () => sinks.rows('slow').find((r) => r.attempts > 0));
    assert.match(timedOut.last_error ?? '', /no complete answer within 200 ms/);
  });

  it('a full queue drops its oldest pending deliveries to dead with the reason', async (t) => {
    const port = await deadPort();
    const sinks = await startSinks(
      t,
      [
        hook('full', `http://127.0.0.1:${port}/`, {
          max_queue: 3,
          backoff_initial: '1h',
          backoff_max: '1h',
          concurrency: 1,
        }),
      ],
      secrets,
    );
    for (let n = 0; n < 5; n += 1) sinks.bus.publish('envoy.failed', { n });
    const rows = await waitFor('2 dropped', () => {
      const all = sinks.rows('full');
      return all.length === 5 && all.filter((r) => r.state === 'dead').length === 2 ? all : undefined;
    });
    assert.deepEqual(
      rows.map((r) => r.state),
      ['dead', 'dead', 'pending', 'pending', 'pending'],
    );
    assert.match(rows[0]?.last_error ?? '', /^dropped: the queue of full was full \(max_queue 3\)/);
    // One refused try pauses the whole target for its backoff: the other rows wait, untried.
    await waitFor('one refused try', () =>
      sinks.rows('full').some((r) => r.attempts === 1) ? true : undefined,
    );
    await waitFor('the worker to settle', () =>
      sinks.integrations.list()[0]?.retried === 1 ? true : undefined,
    );
    assert.deepEqual(
      sinks.rows('full').map((r) => r.attempts),
      [0, 0, 1, 0, 0],
    );
    assert.equal(await sinks.metric(/^vigo_integration_queue_depth\{target="full"\}/), 3);
    assert.equal(await sinks.metric(/target="full",outcome="dead"/), 2);
  });
});

describe('queueing off the publishing path', () => {
  it('publishing writes nothing at once; a burst is queued in one group', async (t) => {
    const port = await deadPort();
    const sinks = await startSinks(
      t,
      [
        hook('a', `http://127.0.0.1:${port}/`, { backoff_initial: '1h', backoff_max: '1h' }),
        hook('b', `http://127.0.0.1:${port}/`, { backoff_initial: '1h', backoff_max: '1h' }),
      ],
      secrets,
    );
    for (let n = 0; n < 100; n += 1) sinks.bus.publish('run.failed', { n });
    const count = sinks.store.db.prepare('SELECT COUNT(*) FROM integration_deliveries').pluck();
    assert.equal(count.get(), 0, 'publish() returned before any row was written');
    await waitFor('200 rows', () => (count.get() === 200 ? true : undefined));
    const groups = sinks.store.db
      .prepare('SELECT COUNT(DISTINCT created_at) FROM integration_deliveries')
      .pluck()
      .get();
    assert.equal(groups, 1, 'the burst was written by one enqueue (one transaction)');
  });
});

describe('durability and test deliveries', () => {
  it('pending deliveries are sent after a restart, with the same delivery ids', async (t) => {
    const receiver = await startHttpReceiver(t);
    let up = false;
    receiver.respond = () => ({ status: up ? 200 : 503 });
    const sinks = await startSinks(
      t,
      [hook('hook', receiver.url, { backoff_initial: '40ms', backoff_max: '40ms' })],
      secrets,
    );
    for (let n = 0; n < 3; n += 1) sinks.bus.publish('envoy.failed', { n });
    // The first refused try pauses the target for its backoff (an hour): the rest stay untried.
    await waitFor('a failed try and 3 rows', () =>
      sinks.rows('hook').length === 3 && sinks.rows('hook').some((r) => r.attempts === 1) ? true : undefined,
    );
    const tried = receiver.requests.length;
    const triedIds = new Set(receiver.requests.map((r) => r.headers['x-vigo-delivery']));
    up = true;
    // The restarted sinks send what is due; the backoff of the refused rows is cut short here.
    sinks.store.db.prepare('UPDATE integration_deliveries SET next_attempt_at = 0').run();
    await sinks.restart();
    await waitFor('delivered', () =>
      sinks.rows('hook').every((r) => r.state === 'delivered') ? true : undefined,
    );
    const afterIds = new Set(receiver.requests.slice(tried).map((r) => r.headers['x-vigo-delivery']));
    assert.equal(afterIds.size, 3);
    for (const id of triedIds)
      assert.ok(afterIds.has(id), 'a retried delivery keeps its id across the restart');
    assert.equal(sinks.integrations.list()[0]?.queueDepth, 0);
  });

  it('a test delivery reports its outcome and is audited; an unknown target is refused', async (t) => {
    const receiver = await startHttpReceiver(t);
    const sinks = await startSinks(t, [hook('hook', receiver.url, { events: ['config.*'] })], secrets);
    const ctx = { requestId: 'r1', log: sinks.log, actor: { kind: 'system' } as const };
    const result = await sinks.integrations.test(ctx, 'hook');
    assert.equal(result.outcome, 'delivered');
    assert.equal(receiver.requests[0]?.headers['x-vigo-event'], 'integration.test');
    const [entry] = listAudit(sinks.store.db, { limit: 1, beforeSeq: Number.MAX_SAFE_INTEGER });
    assert.equal(entry?.action, 'integrations.test');
    assert.equal(entry?.target, 'integration:hook');
    assert.deepEqual(entry?.details, { deliveryId: result.deliveryId });
    await assert.rejects(
      () => sinks.integrations.test(ctx, 'nope'),
      (err) => isVigoError(err) && err.code === 'integrations.target_not_found',
    );
  });
});
