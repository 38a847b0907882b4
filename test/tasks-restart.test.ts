/**
 * A task run survives the server: vigosrv is killed (-9) while the first batch waits for a result and
 * started again on the same data directory. The dispatched task is sent again when its envoy's stream
 * reopens, the result that arrives after the restart is stored, and the next batch goes out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { StreamAgent, succeedWith } from './helpers/stream-agent.ts';
import { TasksApi } from './helpers/tasks-api.ts';

const temp = makeTempDir('vigo-tasks-restart-');
let server: ReadyServer;
const agents: StreamAgent[] = [];

before(async () => {
  server = await startServer({ dataDir: temp.path });
});

after(async () => {
  for (const agent of agents) await agent.disconnect();
  if (server?.exitCode() === undefined) server.child.kill('SIGKILL');
  await server?.exited();
  temp.remove();
});

describe('tasks across a server restart', () => {
  it('resumes a running task after kill -9: re-sent on reopen, late result stored, next batch dispatched', async () => {
    const enrollToken = await createEnrollToken(server, ['restart-*']);
    const first = new StreamAgent(
      server,
      await enrollAgent(server, enrollToken, 'restart-1'),
      () => undefined,
    );
    const second = new StreamAgent(
      server,
      await enrollAgent(server, enrollToken, 'restart-2'),
      succeedWith(() => 'second batch'),
    );
    agents.push(first, second);
    await first.connect();
    await second.connect();
    const token = (): string => readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
    let api = new TasksApi(server, token());
    const id = await api.start({ command: 'long-job', targets: ['restart-*'], batchSize: 1 });
    const [dispatch] = await first.waitForDispatches(1);
    await api.until(id, 'the delivery to be recorded', (run) => run.items[0]?.sentAt !== null);

    server.child.kill('SIGKILL');
    await server.exited();
    await first.disconnect();
    await second.disconnect();
    server = await startServer({ dataDir: temp.path });
    api = new TasksApi(server, token());

    const resumed = await api.get(id);
    assert.equal(resumed.status, 'running', 'the run is read back, not lost');
    assert.deepEqual(
      resumed.items.map((t) => t.state),
      ['dispatched', 'pending'],
    );

    first.retarget(server);
    second.retarget(server);
    first.respond = succeedWith(() => 'answered after the restart');
    await first.connect();
    const [, again] = await first.waitForDispatches(2);
    assert.equal(again?.taskId, dispatch?.taskId, 'the unanswered dispatch is sent again');
    await second.connect();

    const run = await api.finished(id);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state, t.stdout]),
      [
        ['restart-1', 'succeeded', 'answered after the restart'],
        ['restart-2', 'succeeded', 'second batch'],
      ],
    );
    assert.equal(second.dispatches.length, 1);
    assert.equal(second.dispatches[0]?.action.case, 'command');
  });
});
