/**
 * Live queries and force-push against the real vigosrv (bin/vigosrv on loopback ports, real TLS, gRPC and
 * SQLite) with protocol-level agents that hold AgentStreams: a query aggregated across envoys, an offline
 * envoy listed as not answered, a silent one hitting the deadline, a push reaching an open stream and
 * defeating the no-change shortcut at the next CheckIn, refusals that send nothing, poll-mode stream
 * promotion, and a waiting query answered when the server drains.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveQueryAnswer, PushAnswer } from '../server/orchestration/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { StreamAgent } from './helpers/stream-agent.ts';
import type { QueryAnswer } from './helpers/stream-agent.ts';

const temp = makeTempDir('vigo-live-query-');
let server: ReadyServer;
let adminToken: string;
let viewerToken: string;
const agents = new Map<string, StreamAgent>();
const enrolled = new Map<string, EnrolledAgent>();

after(async () => {
  for (const agent of agents.values()) await agent.disconnect();
  await server?.stop();
  temp.remove();
});

function call(token: string, method: string, path: string, body?: unknown): Promise<HttpsResponse> {
  return server.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function openStreams(): Promise<number> {
  const metrics = (await call(adminToken, 'GET', '/metrics')).body;
  return Number(/^vigo_agent_streams_open (\d+)/m.exec(metrics)?.[1] ?? 0);
}

/** Opens the stream of `hostname` and waits until the server counts it open. */
async function online(hostname: string, answer: QueryAnswer): Promise<StreamAgent> {
  const agent = agents.get(hostname) ?? new StreamAgent(server, enrolled.get(hostname)!);
  agents.set(hostname, agent);
  const before = await openStreams();
  agent.answerQuery = answer;
  await agent.connect();
  await waitFor(`the stream of ${hostname} to be open`, async () =>
    (await openStreams()) > before ? true : undefined,
  );
  return agent;
}

/** Closes the stream of `hostname` and waits until the server no longer counts it. */
async function offline(hostname: string): Promise<void> {
  const before = await openStreams();
  await agents.get(hostname)!.disconnect();
  await waitFor(`the stream of ${hostname} to be closed`, async () =>
    (await openStreams()) < before ? true : undefined,
  );
}

before(async () => {
  server = await startServer({ dataDir: temp.path });
  adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const user = await call(adminToken, 'POST', '/api/v1/users', { username: 'vera', role: 'viewer' });
  assert.equal(user.status, 201, user.body);
  const token = await call(adminToken, 'POST', '/api/v1/tokens', { name: 'view', user: 'vera' });
  assert.equal(token.status, 201, token.body);
  viewerToken = token.json<{ token: string }>().token;
  const enrollToken = await createEnrollToken(server, ['*.example.com'], 20);
  for (const hostname of ['web-1', 'web-2', 'web-3', 'web-4', 'db-1', 'db-2'])
    enrolled.set(hostname, await enrollAgent(server, enrollToken, `${hostname}.example.com`));
  const release = (order: 'a' | 'b', version: string): string =>
    order === 'a'
      ? `{"distro":"ubuntu","version":"${version}"}`
      : `{"version":"${version}","distro":"ubuntu"}`;
  await online('web-1', () => release('a', '24.04'));
  await online('web-2', () => release('b', '24.04'));
  await online('web-3', () => release('a', '22.04'));
  // web-4 is enrolled and never connects: offline.
});

function query(body: Record<string, unknown>, token = adminToken): Promise<HttpsResponse> {
  return call(token, 'POST', '/api/v1/queries', body);
}

const liveQueriesSeen = (): number =>
  [...agents.values()].reduce(
    (sum, a) => sum + a.received.filter((m) => m.kind.case === 'liveQuery').length,
    0,
  );

describe('live queries over AgentStream', () => {
  it('aggregates the answers of three envoys into two values and lists the offline one', async () => {
    const reply = await query({ targets: ['web-*.example.com'], traitPath: 'os.release' });
    assert.equal(reply.status, 200, reply.body);
    const answer = reply.json<LiveQueryAnswer>();
    assert.equal(answer.status, 'finished');
    assert.deepEqual([answer.targeted, answer.asked, answer.answered], [4, 3, 3]);
    assert.deepEqual(answer.values, [
      { value: { distro: 'ubuntu', version: '24.04' }, count: 2 },
      { value: { distro: 'ubuntu', version: '22.04' }, count: 1 },
    ]);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason, n.askedToConnect]),
      [['web-4.example.com', 'offline', false]],
    );
    assert.deepEqual(answer.rows.map((r) => r.hostname).sort(), [
      'web-1.example.com',
      'web-2.example.com',
      'web-3.example.com',
    ]);
    const again = await call(adminToken, 'GET', `/api/v1/queries/${answer.queryId}`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json<LiveQueryAnswer>(), answer, 'a finished query can be fetched again');

    const audit = await call(adminToken, 'GET', '/api/v1/audit?action=query.started&limit=10');
    const entries = audit.json<{ items: { actor: string; details: Record<string, unknown> }[] }>().items;
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.details['traitPath'], 'os.release');
    assert.deepEqual(entries[0]?.details['targets'], ['web-*.example.com']);
  });

  it('answers at the deadline when an asked envoy stays silent, with its error-free peers counted', async () => {
    await online('db-1', () => '"12"');
    await online('db-2', () => undefined);
    const reply = await query({ targets: ['db-*.example.com'], traitPath: 'os.version', deadlineSeconds: 1 });
    assert.equal(reply.status, 200, reply.body);
    const answer = reply.json<LiveQueryAnswer>();
    assert.deepEqual(answer.values, [{ value: '12', count: 1 }]);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason]),
      [['db-2.example.com', 'timeout']],
    );
  });

  it('lists a read the agent could not make as an error, not a value', async () => {
    await offline('db-1');
    await online('db-1', () => ({ error: 'no trait nosuch.path' }));
    const reply = await query({ targets: ['db-1.example.com'], traitPath: 'nosuch.path' });
    const answer = reply.json<LiveQueryAnswer>();
    assert.deepEqual(answer.values, []);
    assert.deepEqual(answer.errors, [
      { envoyId: enrolled.get('db-1')!.envoyId, hostname: 'db-1.example.com', error: 'no trait nosuch.path' },
    ]);
  });

  it('refuses bad input, and a viewer, with nothing sent to any agent', async () => {
    const sent = liveQueriesSeen();
    const refusals: [Record<string, unknown>, string][] = [
      [{ targets: [], traitPath: 'os.version' }, 'orchestration.target_invalid'],
      [{ targets: ['mail-*'], traitPath: 'os.version' }, 'orchestration.targets_empty'],
      [
        { targets: ['web-*'], where: ['os.distro=arch'], traitPath: 'os.version' },
        'orchestration.targets_empty',
      ],
      [{ targets: ['web-*'], traitPath: 'os version' }, 'query.trait_path_invalid'],
      [{ targets: ['web-*'], traitPath: 'os.version', deadlineSeconds: 61 }, 'query.invalid'],
      [{ targets: ['web-*'], traitPath: 'os.version', rawLimit: 1001 }, 'query.invalid'],
      [{ targets: ['web-*'], traitPath: 'os.version', extra: 1 }, 'request.invalid'],
    ];
    for (const [body, code] of refusals) {
      const reply = await query(body);
      assert.equal(reply.status, 400, reply.body);
      assert.equal(reply.json<{ code: string }>().code, code);
    }
    const viewer = await query({ targets: ['web-*'], traitPath: 'os.version' }, viewerToken);
    assert.equal(viewer.status, 403);
    const unknown = await call(adminToken, 'GET', '/api/v1/queries/00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json<{ code: string }>().code, 'query.not_found');
    assert.equal(liveQueriesSeen(), sent);
  });
});

describe('force-push over AgentStream', () => {
  it('reaches an open stream, and the next CheckIn carries the bundle instead of no_change', async () => {
    const web1 = agents.get('web-1')!;
    const first = await web1.checkIn({ policyVersion: 0n });
    assert.equal(first.outcome.case, 'bundle');
    const document = JSON.parse(
      Buffer.from(first.outcome.case === 'bundle' ? first.outcome.value.payload : []).toString(),
    ) as { merkle_root: string };
    const current = {
      policyVersion: first.policyVersion,
      stateFingerprint: document.merkle_root,
      secretsEpoch: first.secretsEpoch,
    };
    assert.equal((await web1.checkIn(current)).outcome.case, 'noChange');

    const reply = await call(adminToken, 'POST', '/api/v1/push', {
      targets: ['web-1.example.com', 'web-4.example.com'],
      reason: 'hotfix',
    });
    assert.equal(reply.status, 200, reply.body);
    const answer = reply.json<PushAnswer>();
    assert.deepEqual(
      answer.pushedNow.map((e) => e.hostname),
      ['web-1.example.com'],
    );
    assert.deepEqual(
      answer.atNextCheckin.map((e) => e.hostname),
      ['web-4.example.com'],
    );
    const push = await waitFor('the ForcePush to arrive on the stream', () =>
      web1.received.find((m) => m.kind.case === 'forcePush'),
    );
    assert.equal(push.kind.case === 'forcePush' && push.kind.value.reason, 'hotfix');
    assert.equal((await web1.checkIn(current)).outcome.case, 'bundle', 'the push defeats no_change');
    assert.equal((await web1.checkIn(current)).outcome.case, 'noChange', 'once');
  });

  it('the per-envoy push route tells an online envoy too', async () => {
    const web2 = agents.get('web-2')!;
    const before = web2.received.length;
    const reply = await call(adminToken, 'POST', `/api/v1/envoys/${web2.envoyId}/push`);
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(reply.json(), { envoyId: web2.envoyId, forcePush: true, pushedNow: true });
    await waitFor('the ForcePush to arrive', () =>
      web2.received.slice(before).some((m) => m.kind.case === 'forcePush') ? true : undefined,
    );
  });

  it('refuses a viewer and an empty selection, flagging nothing', async () => {
    const viewer = await call(viewerToken, 'POST', '/api/v1/push', { targets: ['web-3.example.com'] });
    assert.equal(viewer.status, 403);
    const empty = await call(adminToken, 'POST', '/api/v1/push', { targets: ['mail-*'] });
    assert.equal(empty.status, 400);
    assert.equal(empty.json<{ code: string }>().code, 'orchestration.targets_empty');
    const web3 = await call(adminToken, 'GET', `/api/v1/envoys/${enrolled.get('web-3')!.envoyId}`);
    assert.equal(web3.json<{ forcePush: boolean }>().forcePush, false);
    assert.equal(agents.get('web-3')!.received.filter((m) => m.kind.case === 'forcePush').length, 0);
  });
});

describe('live queries in poll mode', () => {
  const pollTemp = makeTempDir('vigo-live-query-poll-');
  let poll: ReadyServer;
  let pollAgent: StreamAgent | undefined;
  after(async () => {
    await pollAgent?.disconnect();
    await poll?.stop();
    pollTemp.remove();
  });

  it('asks an envoy without a stream to open one at its next check-in, and asks it then', async () => {
    poll = await startServer({ dataDir: pollTemp.path, env: { VIGO_CHECKIN_CONNECTION: 'poll' } });
    const token = readFileSync(join(pollTemp.path, 'local-admin.token'), 'utf8').trim();
    const agent = await enrollAgent(
      poll,
      await createEnrollToken(poll, ['*.example.com']),
      'app-1.example.com',
    );
    pollAgent = new StreamAgent(poll, agent);
    const before = await pollAgent.checkIn({ policyVersion: 0n });
    assert.equal(before.openStream, false, 'no work: no stream');

    const pending = poll.request('/api/v1/queries', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ targets: ['app-1.example.com'], traitPath: 'os.version', deadlineSeconds: 60 }),
    });
    const reply = await waitFor('a check-in reply that asks for the stream', async () => {
      const answer = await pollAgent!.checkIn({ policyVersion: 0n });
      return answer.openStream ? answer : undefined;
    });
    assert.ok(reply.streamIdleReleaseMs > 0);
    pollAgent.answerQuery = () => '"9.4"';
    await pollAgent.connect();
    const answer = (await pending).json<LiveQueryAnswer>();
    assert.deepEqual([answer.asked, answer.answered, answer.notAnsweredCount], [1, 1, 0]);
    assert.deepEqual(answer.values, [{ value: '9.4', count: 1 }]);
  });

  it('answers a query still waiting when the server stops, with what it has', async () => {
    const token = readFileSync(join(pollTemp.path, 'local-admin.token'), 'utf8').trim();
    await enrollAgent(poll, await createEnrollToken(poll, ['*.example.com']), 'app-2.example.com');
    const pending = poll.request('/api/v1/queries', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ targets: ['app-2.example.com'], traitPath: 'os.version', deadlineSeconds: 60 }),
    });
    await waitFor('the query to be running', async () => {
      const metrics = await poll.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
      return /^vigo_live_queries_running 1$/m.test(metrics.body) ? true : undefined;
    });
    const stopped = poll.stop();
    const reply = await pending;
    assert.equal(reply.status, 200, reply.body);
    const answer = reply.json<LiveQueryAnswer>();
    assert.equal(answer.status, 'finished');
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason, n.askedToConnect]),
      [['app-2.example.com', 'offline', true]],
    );
    assert.equal(await stopped, 0);
  });
});
