/**
 * Force-push and live queries end to end with the reference agent: a real vigosrv and a real `vigo daemon`
 * holding its stream. `vigocli push` makes the agent check in at once (long before its 5-minute interval),
 * a push over REST brings its traceparent to the agent, and `vigocli traits livequery` returns the trait as
 * the agent reads it on this host.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveQueryAnswer, PushAnswer } from '../server/orchestration/index.ts';
import { createEnrollToken } from './helpers/agent-client.ts';
import { runVigo, startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-pq-e2e-srv-');
const work = makeTempDir('vigo-pq-e2e-work-');
const hostname = 'pq-e2e-1';
let server: ReadyServer;
let adminToken = '';
let agent: AgentDaemon;

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    cleanCliEnv(work.path),
    work.path,
  );
}

function ok(run: CliRun, what: string): CliRun {
  assert.equal(
    run.code,
    0,
    `${what}: exit ${run.code}\n${run.stdout}\n${run.stderr}\n--- agent ---\n${agent.log()}`,
  );
  return run;
}

async function envoy(): Promise<{ forcePush: boolean; lastSeenAt: string | null }> {
  const reply = await server.request(`/api/v1/envoys/${agent.envoyId}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  assert.equal(reply.status, 200, reply.body);
  return reply.json();
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  adminToken = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  agent = await startAgentDaemon(server, {
    hostname,
    enrollToken: await createEnrollToken(server, ['pq-e2e-*'], 1),
    home: work.path,
  });
  await waitFor(
    'the agent to check in and hold its stream',
    async () =>
      (await streamsOpen(server, adminToken)) === 1 && (await envoy()).lastSeenAt !== null ? true : undefined,
    60_000,
  );
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('force-push and live queries with the reference agent', () => {
  it('vigocli push makes the agent check in now, not at its interval', async () => {
    const run = ok(await vigocli(['push', hostname, '--reason', 'e2e', '--json']), 'vigocli push');
    const answer = JSON.parse(run.stdout) as PushAnswer;
    assert.deepEqual(
      answer.pushedNow.map((e) => e.envoyId),
      [agent.envoyId],
    );
    // The flag is cleared only by the check-in that takes the full bundle; the interval is 5 minutes.
    await waitFor('the forced check-in', async () => ((await envoy()).forcePush ? undefined : true), 30_000);
    assert.match(agent.log(), /the server asked for a check-in now.*"reason":"e2e"/);
  });

  it('a push over REST carries its traceparent to the agent', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const reply = await server.request('/api/v1/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ targets: [hostname], reason: 'traced' }),
    });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.headers['traceparent'], traceparent);
    await waitFor('the agent to log the traced push', () =>
      /the server asked for a check-in now.*"reason":"traced".*"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"/.test(
        agent.log(),
      )
        ? true
        : undefined,
    );
  });

  it('a live query of os returns what the agent reads on this host', async () => {
    const traits = JSON.parse(
      ok(await runVigo(agent.stateDir, work.path, ['traits']), 'vigo traits').stdout,
    ) as { os: unknown };
    const run = ok(
      await vigocli(['traits', 'livequery', agent.envoyId, 'os', '--json']),
      'vigocli traits livequery',
    );
    const answer = JSON.parse(run.stdout) as LiveQueryAnswer;
    assert.deepEqual([answer.asked, answer.answered, answer.errorCount], [1, 1, 0], run.stdout);
    assert.deepEqual(answer.values, [{ value: traits.os, count: 1 }]);
    const version = ok(
      await vigocli(['traits', 'livequery', hostname, 'os.version']),
      'livequery os.version',
    );
    const expected = `1      ${JSON.stringify((traits.os as { version: string }).version)}`;
    assert.ok(version.stdout.split('\n').includes(expected), `${expected} in\n${version.stdout}`);
  });
});
