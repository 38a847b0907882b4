/**
 * Rolling execution end to end with the reference agent: a real vigosrv and three real `vigo daemon`
 * processes. A health check that fails after the first batch aborts the rest before they are sent; a run
 * whose failures pass maxFailures aborts the rest; an envoy whose agent is down gets its task when the
 * agent comes back, and runs it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { resumeAgentDaemon, startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { TasksApi } from './helpers/tasks-api.ts';

const serverDir = makeTempDir('vigo-rolling-e2e-srv-');
const work = makeTempDir('vigo-rolling-e2e-work-');
const hostnames = ['roll-e2e-1', 'roll-e2e-2', 'roll-e2e-3'];
let server: ReadyServer;
let api: TasksApi;
let token: string;
const daemons: AgentDaemon[] = [];

/** A health endpoint that answers 503: the service behind the batches is sick. */
const health = createServer((_req, res) => {
  res.statusCode = 503;
  res.end('sick');
});

async function streams(count: number): Promise<void> {
  await waitFor(
    `${count} agents to hold their streams`,
    async () => ((await streamsOpen(server, token)) === count ? true : undefined),
    60_000,
  );
}

before(async () => {
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  server = await startServer({ dataDir: serverDir.path });
  token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  api = new TasksApi(server, token);
  const enrollToken = await createEnrollToken(server, ['roll-e2e-*'], hostnames.length);
  for (const hostname of hostnames)
    daemons.push(await startAgentDaemon(server, { hostname, enrollToken, home: work.path }));
  await streams(hostnames.length);
});

after(async () => {
  for (const daemon of daemons) await daemon.stop();
  await server?.stop();
  await new Promise((resolve) => health.close(resolve));
  serverDir.remove();
  work.remove();
});

describe('rolling execution with the reference agent', () => {
  it('aborts the rest when the health check after the first batch fails: they are never sent', async () => {
    const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
    const id = await api.start({
      command: 'echo ran',
      targets: ['roll-e2e-*'],
      batchSize: 1,
      healthCheck: { url },
    });
    const run = await api.finished(id, 60_000);
    assert.equal(run.status, 'aborted', JSON.stringify(run));
    assert.match(run.message, /health check after batch 1 failed: .* answered 503/);
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state, t.stdout]),
      [
        ['roll-e2e-1', 'succeeded', 'ran\n'],
        ['roll-e2e-2', 'aborted', ''],
        ['roll-e2e-3', 'aborted', ''],
      ],
    );
    assert.deepEqual(
      run.items.slice(1).map((t) => t.sentAt),
      [null, null],
    );
  });

  it('aborts the rest once failures pass maxFailures', async () => {
    const id = await api.start({
      command: 'echo broken >&2; exit 4',
      targets: ['roll-e2e-*'],
      batchSize: 1,
      maxFailures: 0,
    });
    const run = await api.finished(id, 60_000);
    assert.equal(run.status, 'aborted', JSON.stringify(run));
    assert.match(run.message, /1 target\(s\) failed, more than the 0 that maxFailures 0 allows/);
    assert.deepEqual(
      run.items.map((t) => [t.state, t.exitCode, t.stderr]),
      [
        ['failed', 4, 'broken\n'],
        ['aborted', null, ''],
        ['aborted', null, ''],
      ],
    );
  });

  it('an envoy whose agent is down gets its task when the agent comes back', async () => {
    const index = daemons.findIndex((d) => d.hostname === 'roll-e2e-3');
    await daemons[index]!.stop();
    await streams(hostnames.length - 1);
    const id = await api.start({ command: 'echo late', targets: ['roll-e2e-3'], expires: '10m' });
    const waiting = await api.get(id);
    assert.equal(waiting.status, 'running');
    assert.deepEqual(
      waiting.items.map((t) => [t.state, t.sentAt]),
      [['dispatched', null]],
    );
    daemons[index] = resumeAgentDaemon(daemons[index]!, work.path);
    const run = await api.finished(id, 60_000);
    assert.equal(run.status, 'succeeded', `${JSON.stringify(run)}\n${daemons[index].log()}`);
    assert.equal(run.items[0]?.stdout, 'late\n');
  });
});
