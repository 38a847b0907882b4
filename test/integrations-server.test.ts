/**
 * Event sinks in the real vigosrv: runs reported over mTLS become run.failed and resource.blocked webhooks
 * while a dead target fails beside them without holding up check-ins or the other target; the REST API,
 * vigocli and the web page show each target's health; a test delivery is sent and audited; deliveries
 * pending at a shutdown are sent after the restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { deadPort } from './helpers/sink-receivers.ts';
import type { HttpReceiver } from './helpers/sink-receivers.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const temp = makeTempDir('vigo-integrations-');
const home = makeTempDir('vigo-integrations-home-');
const clock = createEnvelopeClock();
let server: ReadyServer;
let admin: string;
let live: HttpReceiver;
let flaky: HttpReceiver & { up: boolean };
const closers: (() => void)[] = [];

/** A recording receiver outside node:test's per-test lifetime: it must outlive a server restart. */
async function receiver(): Promise<HttpReceiver & { up: boolean }> {
  const r = { url: '', requests: [] as HttpReceiver['requests'], up: true, respond: () => ({ status: 200 }) };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(r.up ? 200 : 503).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

function serverEnv(deadUrl: string): Record<string, string> {
  const secret = 'secret:hooks/key';
  return {
    VIGO_INTEGRATIONS: JSON.stringify([
      { name: 'live', type: 'webhook', url: live.url, secret, events: ['run.failed', 'resource.blocked'] },
      { name: 'dead', type: 'webhook', url: deadUrl, secret, max_attempts: 3, backoff_initial: '10ms' },
      {
        name: 'flaky',
        type: 'webhook',
        url: flaky.url,
        secret,
        events: ['envoy.enrolled'],
        backoff_initial: '300ms',
        backoff_max: '300ms',
        max_attempts: 100,
      },
    ]),
  };
}

let env: Record<string, string>;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const reply = await server.request(path, {
    method,
    headers: { authorization: admin, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: reply.status, json: reply.json<T>() };
}

before(async () => {
  live = await receiver();
  flaky = await receiver();
  env = serverEnv(`http://127.0.0.1:${await deadPort()}/`);
  server = await startServer({ dataDir: temp.path, env });
  admin = `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}`;
  const set = await api('POST', '/api/v1/secrets', { path: 'hooks/key', value: 'k3y' });
  assert.equal(set.status, 201);
});

after(async () => {
  await server?.stop();
  for (const close of closers) close();
  temp.remove();
  home.remove();
});

async function report(agent: EnrolledAgent, outcomes: ResourceOutcome[]): Promise<void> {
  const client = agentClient(server, agent);
  try {
    const runId = randomUUID();
    const ack = await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 0n,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: outcomes.map((outcome, i) => ({
              resourceId: `file:/tmp/r${i}`,
              resourceType: 'file',
              configcrate: 'motd',
              outcome,
              message: outcome === ResourceOutcome.FAILED ? 'permission denied' : '',
              durationMs: 1,
            })),
          },
        ],
      }),
    );
    assert.deepEqual(ack.acceptedRunIds, [runId]);
  } finally {
    client.close();
  }
}

async function checkIn(agent: EnrolledAgent): Promise<void> {
  const client = agentClient(server, agent);
  try {
    await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
        agentVersion: 'test',
        hostname: agent.hostname,
      }),
    );
  } finally {
    client.close();
  }
}

interface Status {
  name: string;
  health: string;
  dead: number;
  delivered: number;
  queueDepth: number;
  lastError: string | null;
}

describe('event sinks in vigosrv', () => {
  let agent: EnrolledAgent;

  it('reported runs reach the live target as run.failed and resource.blocked; check-ins go on', async () => {
    const token = await createEnrollToken(server, ['sink-*'], 2);
    agent = await enrollAgent(server, token, 'sink-web');
    await report(agent, [ResourceOutcome.FAILED, ResourceOutcome.BLOCKED, ResourceOutcome.NONE]);
    // The dead target is failing all the while: every check-in and report is still answered.
    for (let n = 0; n < 10; n += 1) {
      await checkIn(agent);
      await report(agent, [ResourceOutcome.NONE]);
    }
    const events = await waitFor('both events', () => {
      const types = live.requests.map((r) => r.headers['x-vigo-event']);
      return types.includes('run.failed') && types.includes('resource.blocked') ? live.requests : undefined;
    });
    assert.equal(events.length, 2, 'the live target selected only these two types');
    const failed = JSON.parse(events.find((r) => r.headers['x-vigo-event'] === 'run.failed')?.body ?? '') as {
      severity: string;
      data: { envoyId: string; count: number; resources: { id: string; message: string }[] };
    };
    assert.equal(failed.severity, 'warning');
    assert.equal(failed.data.envoyId, agent.envoyId);
    assert.equal(failed.data.count, 1);
    assert.deepEqual(failed.data.resources, [
      { id: 'file:/tmp/r0', type: 'file', message: 'permission denied' },
    ]);
  });

  it('GET /api/v1/integrations and vigocli show the dead target failing and the live one healthy', async () => {
    const dead = await waitFor('the dead target to give up', async () => {
      const { json } = await api<{ items: Status[] }>('GET', '/api/v1/integrations');
      const d = json.items.find((s) => s.name === 'dead');
      return d !== undefined && d.dead > 0 ? { d, items: json.items } : undefined;
    });
    assert.equal(dead.d.health, 'failing');
    assert.match(dead.d.lastError ?? '', /ECONNREFUSED/);
    assert.equal(dead.items.find((s) => s.name === 'live')?.health, 'healthy');
    const list = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', temp.path, 'integrations', 'list'],
      cleanCliEnv(home.path),
      home.path,
    );
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+TYPE\s+ENDPOINT\s+HEALTH/m);
    assert.match(list.stdout, /^dead\s+webhook\s+http:\/\/127\.0\.0\.1:\d+\s+failing/m);
    const page = await server.request('/integrations', { headers: { authorization: admin } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<code>live<\/code>/);
    assert.match(page.body, /badge-bad">failing</);
    const metrics = (await server.request('/metrics', { headers: { authorization: admin } })).body;
    assert.match(metrics, /^vigo_integration_deliveries_total\{target="live",outcome="delivered"\} [1-9]/m);
    assert.match(metrics, /^vigo_integration_deliveries_total\{target="dead",outcome="dead"\} [1-9]/m);
  });

  it('vigocli integrations test sends a test event (audited); a dead target exits 1', async () => {
    const cli = (args: string[]) =>
      runVigocli(
        ['--server', server.apiUrl, '--data-dir', temp.path, ...args],
        cleanCliEnv(home.path),
        home.path,
      );
    const ok = await cli(['integrations', 'test', 'live']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Test event delivered to live \(delivery [0-9a-f-]{36}\)\.$/m);
    assert.ok(live.requests.some((r) => r.headers['x-vigo-event'] === 'integration.test'));
    const failing = await cli(['integrations', 'test', 'dead']);
    assert.equal(failing.code, 1);
    assert.match(
      failing.stderr,
      /cli\.integration_test_failed: the test delivery [0-9a-f-]{36} to dead failed; it will be tried again: .*ECONNREFUSED/,
    );
    const unknown = await api<{ code: string }>('POST', '/api/v1/integrations/nope/test');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'integrations.target_not_found');
    const audit = await api<{ items: { action: string; target: string }[] }>(
      'GET',
      '/api/v1/audit?action=integrations.test',
    );
    assert.deepEqual(audit.json.items.map((e) => e.target).sort(), ['integration:dead', 'integration:live']);
  });

  it('deliveries pending at shutdown are delivered after the restart, with the same delivery id', async () => {
    flaky.up = false;
    const seen = flaky.requests.length;
    const token = await createEnrollToken(server, ['late-*'], 1);
    await enrollAgent(server, token, 'late-web');
    const refused = await waitFor('a refused try', () => flaky.requests[seen]);
    const firstId = refused.headers['x-vigo-delivery'];
    assert.equal(await server.stop(), 0);
    const triedBefore = flaky.requests.length;
    flaky.up = true;
    server = await startServer({ dataDir: temp.path, env });
    // Each start writes a new local-admin token.
    admin = `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}`;
    const delivered = await waitFor('the delivery after the restart', () =>
      flaky.requests.slice(triedBefore).find((r) => r.headers['x-vigo-delivery'] === firstId),
    );
    const body = JSON.parse(delivered.body) as { data: { hostname: string } };
    assert.equal(body.data.hostname, 'late-web');
    await waitFor('an empty queue', async () => {
      const { json } = await api<{ items: Status[] }>('GET', '/api/v1/integrations');
      return json.items.find((s) => s.name === 'flaky')?.queueDepth === 0 ? true : undefined;
    });
  });
});
