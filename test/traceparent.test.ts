/**
 * W3C trace context across the REST API and the agent stream, against the real vigosrv with a
 * protocol-level agent holding its AgentStream: a valid `traceparent` header is echoed and travels into
 * the LiveQuery, ForcePush and TaskDispatch the request causes and into their audit entries; a missing or
 * malformed one is replaced by a fresh valid one, and the malformed value goes nowhere.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentStreamResponse } from '../protocol/index.ts';
import { parseTraceparent } from '../server/core/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { StreamAgent, succeedWith } from './helpers/stream-agent.ts';

const temp = makeTempDir('vigo-traceparent-');
let server: ReadyServer;
let adminToken: string;
let agent: StreamAgent;

const traced = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

before(async () => {
  server = await startServer({ dataDir: temp.path });
  adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const identity = await enrollAgent(
    server,
    await createEnrollToken(server, ['*.example.com']),
    'web-1.example.com',
  );
  agent = new StreamAgent(
    server,
    identity,
    succeedWith(() => 'ok'),
    () => '"24.04"',
  );
  await agent.connect();
  await waitFor('the stream to be open', async () => {
    const metrics = (await call('GET', '/metrics')).body;
    return /^vigo_agent_streams_open 1$/m.test(metrics) ? true : undefined;
  });
});

after(async () => {
  await agent?.disconnect();
  await server?.stop();
  temp.remove();
});

function call(method: string, path: string, body?: unknown, traceparent?: string): Promise<HttpsResponse> {
  return server.request(path, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      'content-type': 'application/json',
      ...(traceparent === undefined ? {} : { traceparent }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function lastAudit(action: string): Promise<Record<string, unknown>> {
  const reply = await call('GET', `/api/v1/audit?action=${action}&limit=1`);
  assert.equal(reply.status, 200, reply.body);
  const [entry] = reply.json<{ items: { details: Record<string, unknown> }[] }>().items;
  assert.ok(entry, `an audit entry ${action}`);
  return entry.details;
}

/** The next LiveQuery, ForcePush or TaskDispatch the agent received after message number `from`. */
function pushed(
  kind: 'liveQuery' | 'forcePush' | 'taskDispatch',
  from: number,
): Promise<{ traceparent: string; force?: boolean }> {
  return waitFor(`a ${kind} on the stream`, () => {
    const found: AgentStreamResponse | undefined = agent.received
      .slice(from)
      .find((m) => m.kind.case === kind);
    return found?.kind.case === kind ? found.kind.value : undefined;
  });
}

describe('traceparent on REST requests', () => {
  it('echoes a valid traceparent and starts a fresh trace for a missing or malformed one', async () => {
    const given = await call('GET', '/api/v1/envoys', undefined, traced);
    assert.equal(given.headers['traceparent'], traced);
    const none = await call('GET', '/api/v1/envoys');
    const fresh = String(none.headers['traceparent']);
    assert.equal(parseTraceparent(fresh), fresh, 'a fresh traceparent is valid');
    for (const bad of [
      traced.toUpperCase(),
      `${traced}-x`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    ]) {
      const reply = await call('GET', '/api/v1/envoys', undefined, bad);
      const echoed = String(reply.headers['traceparent']);
      assert.notEqual(echoed, bad);
      assert.equal(parseTraceparent(echoed), echoed);
    }
    assert.notEqual(
      String((await call('GET', '/api/v1/envoys')).headers['traceparent']),
      fresh,
      'one per request',
    );
  });

  it('carries it into the LiveQuery and the query.started audit entry', async () => {
    const from = agent.received.length;
    const reply = await call(
      'POST',
      '/api/v1/queries',
      { targets: ['web-1.example.com'], traitPath: 'os.version' },
      traced,
    );
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.headers['traceparent'], traced);
    assert.equal((await pushed('liveQuery', from)).traceparent, traced);
    const details = await lastAudit('query.started');
    assert.equal(details['traceparent'], traced);
    assert.equal(details['traceId'], traceId);
  });

  it('carries it into the ForcePush and the push audit entries', async () => {
    let from = agent.received.length;
    const many = await call('POST', '/api/v1/push', { targets: ['web-1.example.com'] }, traced);
    assert.equal(many.status, 200, many.body);
    assert.equal((await pushed('forcePush', from)).traceparent, traced);
    assert.equal((await lastAudit('push.requested'))['traceId'], traceId);

    from = agent.received.length;
    const one = await call('POST', `/api/v1/envoys/${agent.envoyId}/push`, undefined, traced);
    assert.equal(one.status, 200, one.body);
    assert.equal((await pushed('forcePush', from)).traceparent, traced);
    assert.equal((await lastAudit('envoy.push_requested'))['traceparent'], traced);
  });

  it('carries it into every TaskDispatch of a run and the task.dispatch audit entry', async () => {
    const from = agent.received.length;
    const reply = await call(
      'POST',
      '/api/v1/tasks',
      { targets: ['web-1.example.com'], command: 'true' },
      traced,
    );
    assert.equal(reply.status, 201, reply.body);
    const dispatch = await pushed('taskDispatch', from);
    assert.equal(dispatch.traceparent, traced);
    assert.equal(dispatch.force, false);
    assert.equal((await lastAudit('task.dispatch'))['traceparent'], traced);
  });

  it('sends a fresh trace, not the malformed header, when the header is bad', async () => {
    const from = agent.received.length;
    const bad = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7';
    const reply = await call(
      'POST',
      '/api/v1/tasks',
      { targets: ['web-1.example.com'], command: 'true', force: true },
      bad,
    );
    assert.equal(reply.status, 201, reply.body);
    const echoed = String(reply.headers['traceparent']);
    assert.equal(parseTraceparent(echoed), echoed);
    const dispatch = await pushed('taskDispatch', from);
    assert.equal(dispatch.traceparent, echoed);
    assert.equal(dispatch.force, true, 'a forced run says so to the agent');
  });
});
