/**
 * The HTTP event sinks against a real receiver on loopback, checking the exact wire format
 * docs/integrations.md documents: webhook (HMAC), Splunk HEC, Loki push, Elastic bulk.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { waitFor } from './helpers/deadline.ts';
import { startSinks } from './helpers/integrations-harness.ts';
import { startHttpReceiver } from './helpers/sink-receivers.ts';

const fast = { backoff_initial: '10ms', backoff_max: '50ms' };
const failedEnvoy = { envoyId: 'env-1', hostname: 'web-1', status: 'failed', runId: 'run-1' };

/** The receiver's check from docs/integrations.md: signature over "<timestamp>.<raw body>", 5-minute window. */
function verifyWebhook(
  secret: string,
  headers: Record<string, unknown>,
  rawBody: string,
  nowS: number,
): boolean {
  const timestamp = String(headers['x-vigo-timestamp']);
  const signature = String(headers['x-vigo-signature']);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
  return (
    expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  );
}

describe('webhook sink', () => {
  it('POSTs the event as JSON with its type, delivery id, timestamp and HMAC-SHA256 signature', async (t) => {
    const receiver = await startHttpReceiver(t);
    const sinks = await startSinks(
      t,
      [
        {
          name: 'hook',
          type: 'webhook',
          url: `${receiver.url}/in`,
          secret: 'secret:hooks/key',
          min_severity: 'warning',
        },
      ],
      { 'hooks/key': 'k3y' },
    );
    sinks.bus.publish('envoy.online', { envoyId: 'env-1' }, 'env-1'); // info: below the target's floor
    const event = sinks.bus.publish('envoy.failed', failedEnvoy, 'env-1');
    const request = await waitFor('the webhook', () => receiver.requests[0]);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/in');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-vigo-event'], 'envoy.failed');
    assert.match(String(request.headers['x-vigo-delivery']), /^[0-9a-f-]{36}$/);
    assert.ok(verifyWebhook('k3y', request.headers, request.body, Math.floor(Date.now() / 1000)));
    assert.ok(!verifyWebhook('other', request.headers, request.body, Math.floor(Date.now() / 1000)));
    assert.ok(!verifyWebhook('k3y', request.headers, `${request.body} `, Math.floor(Date.now() / 1000)));
    assert.ok(
      !verifyWebhook('k3y', request.headers, request.body, Math.floor(Date.now() / 1000) + 301),
      'a timestamp older than 5 minutes is refused',
    );
    assert.deepEqual(JSON.parse(request.body), {
      id: event.id,
      type: 'envoy.failed',
      at: event.at,
      severity: 'critical',
      subject: 'env-1',
      data: failedEnvoy,
    });
    await waitFor('delivered', () => (sinks.rows('hook')[0]?.state === 'delivered' ? true : undefined));
    assert.equal(receiver.requests.length, 1, 'the info event was not sent');
    assert.equal(
      await sinks.metric(/^vigo_integration_deliveries_total\{target="hook",outcome="delivered"\}/),
      1,
    );
  });

  it('retries 503 and 429 until delivered, and gives up at once on 400', async (t) => {
    const receiver = await startHttpReceiver(t);
    const answers = [503, 429, 200];
    receiver.respond = (req) =>
      (JSON.parse(req.body) as { data: { kind: string } }).data.kind === 'refused'
        ? { status: 400, body: 'bad' }
        : { status: answers.shift() ?? 200 };
    const sinks = await startSinks(
      t,
      [{ name: 'hook', type: 'webhook', url: receiver.url, secret: 'secret:hooks/key', ...fast }],
      { 'hooks/key': 'k3y' },
    );
    sinks.bus.publish('envoy.failed', { kind: 'retried' });
    await waitFor('delivered on the third try', () => {
      const [row] = sinks.rows('hook');
      return row?.state === 'delivered' ? row : undefined;
    });
    assert.equal(sinks.rows('hook')[0]?.attempts, 3);
    const ids = new Set(receiver.requests.map((r) => r.headers['x-vigo-delivery']));
    assert.equal(ids.size, 1, 'a retry carries the same delivery id');
    sinks.bus.publish('envoy.failed', { kind: 'refused' });
    const dead = await waitFor('dead', () => {
      const row = sinks.rows('hook')[1];
      return row?.state === 'dead' ? row : undefined;
    });
    assert.equal(dead.attempts, 1);
    assert.match(dead.last_error ?? '', /^HTTP 400: bad/);
    assert.equal(await sinks.metric(/outcome="retried"/), 2);
    assert.equal(await sinks.metric(/outcome="dead"/), 1);
  });

  it('waits for a secret that is not in the vault, then delivers once it is set', async (t) => {
    const receiver = await startHttpReceiver(t);
    const sinks = await startSinks(t, [
      {
        name: 'hook',
        type: 'webhook',
        url: receiver.url,
        secret: 'secret:hooks/later',
        ...fast,
        max_attempts: 100,
      },
    ]);
    sinks.bus.publish('envoy.failed', failedEnvoy);
    await waitFor('a failed try', () => ((sinks.rows('hook')[0]?.attempts ?? 0) > 0 ? true : undefined));
    assert.match(sinks.rows('hook')[0]?.last_error ?? '', /secret:hooks\/later is not stored in the vault/);
    assert.equal(receiver.requests.length, 0);
    sinks.vault.set('hooks/later', 'now-set');
    const request = await waitFor('the webhook', () => receiver.requests[0]);
    assert.ok(verifyWebhook('now-set', request.headers, request.body, Math.floor(Date.now() / 1000)));
  });
});

describe('Splunk HEC, Loki and Elastic sinks', () => {
  it('Splunk HEC: one POST per batch to /services/collector/event with "Authorization: Splunk <token>"', async (t) => {
    const receiver = await startHttpReceiver(t);
    const sinks = await startSinks(
      t,
      [
        {
          name: 'hec',
          type: 'splunk_hec',
          url: `${receiver.url}/splunk/`,
          token: 'secret:siem/hec',
          index: 'ops',
        },
      ],
      { 'siem/hec': 'hec-token' },
    );
    const events = [1, 2, 3].map((n) => sinks.bus.publish('run.failed', { envoyId: `env-${n}`, count: n }));
    await waitFor('3 events', () =>
      sinks.rows('hec').filter((r) => r.state === 'delivered').length === 3 ? true : undefined,
    );
    const bodies = receiver.requests.flatMap((r) => {
      assert.equal(r.path, '/splunk/services/collector/event');
      assert.equal(r.headers.authorization, 'Splunk hec-token');
      return r.body.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    });
    assert.deepEqual(
      bodies.map((b) => (b.event as { id: string }).id),
      events.map((e) => e.id),
    );
    const [first] = bodies;
    assert.equal(first?.host, 'vigo-test');
    assert.equal(first?.sourcetype, 'vigo:event');
    assert.equal(first?.source, 'vigosrv');
    assert.equal(first?.index, 'ops');
    assert.equal(first?.time, Date.parse(events[0]?.at ?? '') / 1000);
  });

  it('Splunk HEC: a refused token (403) is retried, and delivered once the vault holds the right one', async (t) => {
    const receiver = await startHttpReceiver(t);
    receiver.respond = (req) =>
      req.headers.authorization === 'Splunk right'
        ? { status: 200 }
        : { status: 403, body: '{"text":"Invalid token","code":4}' };
    const sinks = await startSinks(
      t,
      [
        {
          name: 'hec',
          type: 'splunk_hec',
          url: receiver.url,
          token: 'secret:siem/hec',
          ...fast,
          max_attempts: 100,
        },
      ],
      { 'siem/hec': 'wrong' },
    );
    sinks.bus.publish('envoy.failed', failedEnvoy);
    await waitFor('a refused try', () => ((sinks.rows('hec')[0]?.attempts ?? 0) > 0 ? true : undefined));
    assert.equal(sinks.rows('hec')[0]?.state, 'pending');
    assert.match(sinks.rows('hec')[0]?.last_error ?? '', /^HTTP 403: .*Invalid token/);
    sinks.vault.set('siem/hec', 'right');
    await waitFor('delivered', () => (sinks.rows('hec')[0]?.state === 'delivered' ? true : undefined));
  });

  it('Loki: JSON streams labelled job, type and severity, values [unix ns, event JSON]', async (t) => {
    const receiver = await startHttpReceiver(t);
    receiver.respond = () => ({ status: 204 });
    const sinks = await startSinks(
      t,
      [
        {
          name: 'loki',
          type: 'loki',
          url: receiver.url,
          username: 'vigo',
          password: 'secret:siem/loki',
          tenant: 'ops',
        },
      ],
      { 'siem/loki': 'pw' },
    );
    const event = sinks.bus.publish('drift.detected', { envoyId: 'env-1', drift: 'diverged' }, 'env-1');
    const request = await waitFor('the push', () => receiver.requests[0]);
    assert.equal(request.path, '/loki/api/v1/push');
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('vigo:pw').toString('base64')}`);
    assert.equal(request.headers['x-scope-orgid'], 'ops');
    const body = JSON.parse(request.body) as { streams: { stream: unknown; values: [string, string][] }[] };
    assert.equal(body.streams.length, 1);
    assert.deepEqual(body.streams[0]?.stream, { job: 'vigo', type: 'drift.detected', severity: 'warning' });
    const [ns, line] = body.streams[0]?.values[0] ?? ['', ''];
    assert.equal(ns, `${Date.parse(event.at)}000000`);
    assert.equal((JSON.parse(line) as { id: string }).id, event.id);
  });

  it('Elastic: _bulk ndjson with ECS fields; a refused item is dead, the others delivered', async (t) => {
    const receiver = await startHttpReceiver(t);
    receiver.respond = () => ({
      status: 200,
      body: JSON.stringify({
        errors: true,
        items: [
          { index: { status: 201 } },
          { index: { status: 400, error: { type: 'mapper_parsing_exception' } } },
        ],
      }),
    });
    const sinks = await startSinks(
      t,
      [{ name: 'es', type: 'elastic', url: receiver.url, index: 'vigo-events', api_key: 'secret:siem/es' }],
      { 'siem/es': 'a2V5' },
    );
    const first = sinks.bus.publish('envoy.failed', failedEnvoy, 'env-1');
    sinks.bus.publish('audit.chain_broken', { brokenSeq: 7 }, 'audit');
    await waitFor('both settled', () =>
      sinks.rows('es').every((r) => r.state !== 'pending') && sinks.rows('es').length === 2
        ? true
        : undefined,
    );
    assert.deepEqual(
      sinks.rows('es').map((r) => r.state),
      ['delivered', 'dead'],
    );
    assert.match(sinks.rows('es')[1]?.last_error ?? '', /HTTP 400: .*mapper_parsing_exception/);
    const [request] = receiver.requests;
    assert.equal(request?.path, '/_bulk');
    assert.equal(request?.headers['content-type'], 'application/x-ndjson');
    assert.equal(request?.headers.authorization, 'ApiKey a2V5');
    const lines = (request?.body ?? '').split('\n');
    assert.equal(lines.pop(), '', 'the body ends with a newline');
    assert.equal(lines.length, 4);
    const action = JSON.parse(lines[0] ?? '') as { index: { _index: string; _id: string } };
    assert.equal(action.index._index, 'vigo-events');
    assert.match(action.index._id, /^[0-9a-f-]{36}$/);
    const doc = JSON.parse(lines[1] ?? '') as Record<string, Record<string, unknown>>;
    assert.equal(doc['@timestamp'], first.at);
    assert.deepEqual(doc.event, {
      kind: 'alert',
      category: ['host'],
      action: 'envoy.failed',
      id: first.id,
      severity: 3,
      dataset: 'vigo.events',
    });
    assert.deepEqual(doc.host, { name: 'web-1' });
    assert.match(JSON.stringify(doc.message), /^"\[critical\] envoy\.failed web-1: status=failed/);
    assert.deepEqual(doc.vigo, {
      event_type: 'envoy.failed',
      severity: 'critical',
      subject: 'env-1',
      data: failedEnvoy,
    });
  });
});
