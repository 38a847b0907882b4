/**
 * Tasks end to end with the reference agent: a real vigosrv and two real `vigo daemon` processes holding
 * their streams. A command sent to both by a glob runs on each, and each host's exit code and output
 * come back through the REST API and vigocli; the agent's built-in tasks run the same way.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { TasksApi } from './helpers/tasks-api.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-tasks-e2e-srv-');
const work = makeTempDir('vigo-tasks-e2e-work-');
const hostnames = ['task-e2e-1', 'task-e2e-2'];
let server: ReadyServer;
let api: TasksApi;
const daemons: { process: ChildProcess; log: string }[] = [];

function vigo(
  stateDir: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(work.path), timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

async function streamsOpen(token: string): Promise<number> {
  const metrics = (await server.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).body;
  return Number(/^vigo_agent_streams_open (\d+)/m.exec(metrics)?.[1] ?? 0);
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  const token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  api = new TasksApi(server, token);
  const enrollToken = await createEnrollToken(server, ['task-e2e-*'], 2);
  for (const hostname of hostnames) {
    const stateDir = join(work.path, hostname);
    const enrolled = await vigo(stateDir, [
      'enroll',
      '--server',
      `127.0.0.1:${server.apiPort}`,
      '--token',
      enrollToken,
      '--ca',
      join(serverDir.path, 'tls', 'ca.crt'),
      '--hostname',
      hostname,
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const daemon = {
      process: spawn(vigoBin, ['daemon', '--state-dir', stateDir, '--log-level', 'info'], {
        env: cleanCliEnv(work.path),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      log: '',
    };
    daemon.process.stdout?.on('data', (chunk: Buffer) => (daemon.log += chunk.toString()));
    daemon.process.stderr?.on('data', (chunk: Buffer) => (daemon.log += chunk.toString()));
    daemons.push(daemon);
  }
  await waitFor(
    'both agents to hold their streams',
    async () => ((await streamsOpen(token)) === 2 ? true : undefined),
    60_000,
  );
});

after(async () => {
  for (const daemon of daemons) {
    if (daemon.process.exitCode !== null) continue;
    const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
    daemon.process.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('tasks with the reference agent', () => {
  it('runs a command on two hosts chosen by a glob, with exit codes and output per host', async () => {
    const id = await api.start({
      command: 'echo "out $VIGO_TEST_MARK"; echo err >&2',
      targets: ['task-e2e-*'],
      timeout: 30,
    });
    const run = await api.finished(id, 60_000);
    const agents = daemons.map((d) => d.log).join('\n--- next agent ---\n');
    assert.equal(run.status, 'succeeded', `${JSON.stringify(run.items)}\n${agents}`);
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state, t.exitCode, t.stdout, t.stderr]),
      hostnames.map((h) => [h, 'succeeded', 0, 'out \n', 'err\n']),
    );

    const failing = await runVigocli(
      [
        '--server',
        server.apiUrl,
        '--data-dir',
        serverDir.path,
        'task',
        'run',
        'exit 3',
        '--target',
        'task-e2e-*',
      ],
      cleanCliEnv(work.path, { XDG_CONFIG_HOME: join(work.path, 'cli') }),
      work.path,
    );
    assert.equal(failing.code, 1, `${failing.stdout}\n${failing.stderr}`);
    for (const hostname of hostnames) assert.match(failing.stdout, new RegExp(`${hostname}: failed exit 3`));
  });

  it("runs the agent's built-in vigo.traits task on both hosts", async () => {
    const id = await api.start({ taskName: 'vigo.traits', targets: ['task-e2e-*'] });
    const run = await api.finished(id, 60_000);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.items));
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state]),
      hostnames.map((h) => [h, 'succeeded']),
    );
  });
});
