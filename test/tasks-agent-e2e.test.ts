/**
 * Tasks end to end with the reference agent: a real vigosrv and two real `vigo daemon` processes holding
 * their streams. A command sent to both by a glob runs on each, and each host's exit code and output
 * come back through the REST API and vigocli; the agent's built-in tasks and a named task of the published
 * stacks (tasks.vgo, carried in the agents' bundles) run the same way. A command forced past the server's
 * guardrail is still refused by each agent's own command guard, and none of it runs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { TasksApi } from './helpers/tasks-api.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-tasks-e2e-srv-');
const work = makeTempDir('vigo-tasks-e2e-work-');
const hostnames = ['task-e2e-1', 'task-e2e-2'];
let server: ReadyServer;
let api: TasksApi;
const daemons: AgentDaemon[] = [];

/** Stacks with one named task whose parameter reaches the script as an environment variable. */
function writeStacks(): string {
  const root = join(work.path, 'stacks');
  mkdirSync(join(root, 'configcrates'), { recursive: true });
  writeFileSync(
    join(root, 'configcrates', 'marker.vgo'),
    `name: marker\nresources:\n  - name: dir\n    type: directory\n    target_path: ${join(work.path, 'converged')}\n`,
  );
  writeFileSync(join(root, 'envoys.vgo'), 'envoys:\n  - match: "task-e2e-*"\n    configcrates: [marker]\n');
  writeFileSync(
    join(root, 'tasks.vgo'),
    'tasks:\n  greet:\n    script: printf "hello %s" "$VIGO_PARAM_WHO"\n' +
      '    params:\n      who: { type: string, format: name }\n',
  );
  return root;
}

before(async () => {
  server = await startServer({
    dataDir: serverDir.path,
    args: ['--stacks', writeStacks(), '--publish-at-start'],
  });
  const token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  api = new TasksApi(server, token);
  const enrollToken = await createEnrollToken(server, ['task-e2e-*'], 2);
  for (const hostname of hostnames)
    daemons.push(await startAgentDaemon(server, { hostname, enrollToken, home: work.path }));
  await waitFor(
    'both agents to hold their streams',
    async () => ((await streamsOpen(server, token)) === 2 ? true : undefined),
    60_000,
  );
});

after(async () => {
  for (const daemon of daemons) await daemon.stop();
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
    const agents = daemons.map((d) => d.log()).join('\n--- next agent ---\n');
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

  it('runs a named task of the published stacks with its parameter, and refuses a parameter it does not allow', async () => {
    const id = await api.start({ taskName: 'greet', params: { who: 'ops' }, targets: ['task-e2e-*'] });
    const run = await api.finished(id, 60_000);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.items));
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state, t.stdout]),
      hostnames.map((h) => [h, 'succeeded', 'hello ops']),
    );
    const refused = await api.call('POST', '/api/v1/tasks', {
      taskName: 'greet',
      params: { who: 'a b' },
      targets: ['task-e2e-*'],
    });
    assert.equal(refused.status, 400, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'task.param_invalid');
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

  it("refuses on each agent a command forced past the server's guardrail, running none of it", async () => {
    const marker = join(work.path, 'forced-ran');
    const id = await api.start({
      command: `touch ${marker}; systemctl stop vigo-envoy`,
      targets: ['task-e2e-*'],
      force: true,
    });
    const run = await api.finished(id, 60_000);
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state]),
      hostnames.map((h) => [h, 'rejected']),
      JSON.stringify(run.items),
    );
    for (const item of run.items)
      assert.match(item.message, /^task\.agent_refused: the agent guardrail "stop-agent-service"/);
    assert.equal(existsSync(marker), false);
  });
});
