/**
 * A task run survives a server crash with the reference agent: a real `vigo daemon` runs a command task
 * that lasts until the test lets it finish; vigosrv is killed (-9) while it runs, the task finishes while
 * the server is down, and vigosrv starts again on the same data directory and addresses. The agent
 * reconnects, sends the result it kept, the restarted server stores it and the run finishes, and the
 * command ran exactly once although the server dispatched it again when the stream reopened.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, startServer } from './helpers/server-process.ts';
import { TasksApi } from './helpers/tasks-api.ts';

const serverDir = makeTempDir('vigo-restart-e2e-srv-');
const work = makeTempDir('vigo-restart-e2e-work-');
let ports: { grpc: number; api: number };
let server: ReadyServer;
let daemon: AgentDaemon | undefined;

function start(): Promise<ReadyServer> {
  return startServer({
    dataDir: serverDir.path,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
  });
}

const token = (): string => readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();

before(async () => {
  ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  server = await start();
  const enrollToken = await createEnrollToken(server, ['restart-e2e-*']);
  daemon = await startAgentDaemon(server, { hostname: 'restart-e2e-1', enrollToken, home: work.path });
  await waitFor(
    'the agent to hold its stream',
    async () => ((await streamsOpen(server, token())) === 1 ? true : undefined),
    60_000,
  );
});

after(async () => {
  await daemon?.stop();
  if (server !== undefined && server.exitCode() === undefined) await server.stop();
  serverDir.remove();
  work.remove();
});

describe('a task across a server crash, with the reference agent', () => {
  it('stores the result the agent kept while the server was down, and the run finishes', async () => {
    const started = join(work.path, 'started');
    const go = join(work.path, 'go');
    const done = join(work.path, 'done');
    // Runs until the test creates `go`: it is certainly mid-task when the server dies.
    const command =
      `echo run >> ${started}; while [ ! -e ${go} ]; do sleep 0.1; done; ` + `echo finished; touch ${done}`;
    let api = new TasksApi(server, token());
    const id = await api.start({ command, targets: ['restart-e2e-1'], timeout: 120, expires: '10m' });
    await waitFor(
      'the task to be running on the agent',
      () => (existsSync(started) ? true : undefined),
      30_000,
    );
    await api.until(id, 'the delivery to be recorded', (run) => run.items[0]?.sentAt !== null);

    server.child.kill('SIGKILL');
    await server.exited();
    writeFileSync(go, '');
    await waitFor(
      'the task to finish while the server is down',
      () => (existsSync(done) ? true : undefined),
      30_000,
    );

    server = await start();
    api = new TasksApi(server, token());
    const resumed = await api.get(id);
    assert.equal(resumed.status, 'running', 'the run is read back, not lost');
    assert.equal(resumed.items[0]?.state, 'dispatched');

    const run = await api.finished(id, 120_000);
    assert.equal(run.status, 'succeeded', `${JSON.stringify(run.items)}\n${daemon!.log()}`);
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state, t.exitCode, t.stdout]),
      [['restart-e2e-1', 'succeeded', 0, 'finished\n']],
    );
    assert.equal(readFileSync(started, 'utf8'), 'run\n', 'the command ran once, not again after the restart');
  });
});
