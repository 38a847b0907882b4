/**
 * Tasks end to end against a real vigosrv, with protocol-level agents that open AgentStream, receive
 * TaskDispatch and answer TaskResult: selection by glob, rolling batches with canary and health checks,
 * max-failures and REST aborts, offline envoys picking the task up when their stream opens, at-least-once
 * re-dispatch answered once, the guardrail, dry runs and refused bodies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TaskStatus } from '../protocol/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { StreamAgent, succeedWith } from './helpers/stream-agent.ts';
import type { Responder } from './helpers/stream-agent.ts';
import { TasksApi, followEvents } from './helpers/tasks-api.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const temp = makeTempDir('vigo-tasks-');
let server: ReadyServer;
let api: TasksApi;
let adminToken: string;
let enrollToken: string;
const agents: StreamAgent[] = [];
let healthStatus = 200;
let healthHits = 0;
const health = createServer((_req, res) => {
  healthHits += 1;
  res.writeHead(healthStatus).end();
});

before(async () => {
  server = await startServer({ dataDir: temp.path });
  adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  api = new TasksApi(server, adminToken);
  enrollToken = await createEnrollToken(server, ['*'], 100);
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const agent of agents) await agent.disconnect();
  health.close();
  await server?.stop();
  temp.remove();
});

const echoHost: Responder = succeedWith((d) => `ran ${d.action.value ?? ''}`);

async function agent(hostname: string, respond: Responder = echoHost, online = true): Promise<StreamAgent> {
  const a = new StreamAgent(server, await enrollAgent(server, enrollToken, hostname), respond);
  agents.push(a);
  if (online) await a.connect();
  return a;
}

const failing: Responder = () => ({ status: TaskStatus.FAILED, exitCode: 3, stderr: 'boom' });
const silent: Responder = () => undefined;

describe('tasks', () => {
  it('runs a command on the hosts a glob selects, with results per host, events and an audit entry', async () => {
    const [one, two] = [await agent('glob-1'), await agent('glob-2')];
    const bystander = await agent('other-1');
    const follow = followEvents(server, adminToken, 'task.*');
    await follow.ready;
    try {
      const id = await api.start({ command: 'echo hi', targets: ['glob-*'], timeout: 30, nice: 5 });
      const run = await api.finished(id);
      assert.equal(run.status, 'succeeded');
      assert.deepEqual(
        run.items.map((t) => [t.hostname, t.state, t.exitCode, t.stdout]),
        [
          ['glob-1', 'succeeded', 0, 'ran echo hi'],
          ['glob-2', 'succeeded', 0, 'ran echo hi'],
        ],
      );
      assert.equal(one.dispatches[0]?.timeoutSeconds, 30);
      assert.equal(two.dispatches[0]?.nice, 5);
      assert.equal(bystander.dispatches.length, 0);
      const types = await waitFor('task.finished on the event stream', () => {
        const mine = follow.events.filter((e) => e.subject === id).map((e) => e.type);
        return mine.includes('task.finished') ? mine : undefined;
      });
      assert.deepEqual(types, ['task.started', 'task.result', 'task.result', 'task.batch', 'task.finished']);
    } finally {
      follow.close();
    }
    const audit = await api.call('GET', '/api/v1/audit?action=task.dispatch');
    const entry = audit.json<{ items: { actor: string; details: Record<string, unknown> }[] }>().items[0];
    assert.equal(entry?.actor, 'local-admin');
    assert.deepEqual(entry?.details['targets'], ['glob-*']);
    assert.equal(entry?.details['command'], 'echo hi');
    assert.deepEqual(entry?.details['hostnames'], ['glob-1', 'glob-2']);
  });

  it('rolls out canary first, then in batches, checking health between batches', async () => {
    const hosts = [];
    for (const n of [1, 2, 3, 4]) hosts.push(await agent(`canary-${n}`));
    healthStatus = 200;
    healthHits = 0;
    const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
    const id = await api.start({
      command: 'true',
      targets: ['canary-*'],
      canary: 1,
      batchSize: 2,
      healthCheck: { url },
    });
    const run = await api.finished(id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.batches, 3);
    assert.deepEqual(
      run.items.map((t) => t.batch),
      [1, 2, 2, 3],
    );
    assert.equal(healthHits, 2, 'one health check between each pair of batches');
  });

  it('aborts the rest when the health check after the first batch fails', async () => {
    const hosts = [];
    for (const n of [1, 2, 3, 4]) hosts.push(await agent(`sick-${n}`));
    healthStatus = 503;
    const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
    const id = await api.start({
      command: 'true',
      targets: ['sick-*'],
      batchSize: '50%',
      healthCheck: { url },
    });
    const run = await api.finished(id);
    assert.equal(run.status, 'aborted');
    assert.match(run.message, /health check after batch 1 failed: .* answered 503/);
    assert.deepEqual(
      run.items.map((t) => [t.hostname, t.state]),
      [
        ['sick-1', 'succeeded'],
        ['sick-2', 'succeeded'],
        ['sick-3', 'aborted'],
        ['sick-4', 'aborted'],
      ],
    );
    assert.equal(hosts[2]?.dispatches.length, 0);
    assert.equal(hosts[3]?.dispatches.length, 0);
  });

  it('aborts the rest once failures exceed maxFailures', async () => {
    for (const n of [1, 2, 3, 4]) await agent(`flaky-${n}`, failing);
    const id = await api.start({ command: 'false', targets: ['flaky-*'], batchSize: 1, maxFailures: 1 });
    const run = await api.finished(id);
    assert.equal(run.status, 'aborted');
    assert.match(run.message, /2 target\(s\) failed, more than the 1 that maxFailures 1 allows/);
    assert.deepEqual(
      run.items.map((t) => t.state),
      ['failed', 'failed', 'aborted', 'aborted'],
    );
    assert.equal(run.items[0]?.stderr, 'boom');
    assert.equal(run.items[0]?.exitCode, 3);
  });

  it('aborts on request: undelivered targets are aborted, the delivered one still reports', async () => {
    const first = await agent('stop-1', silent);
    const second = await agent('stop-2');
    const id = await api.start({ command: 'sleep 60', targets: ['stop-*'], batchSize: 1 });
    const [dispatch] = await first.waitForDispatches(1);
    const viewer = await tokenFor('viewer');
    assert.equal((await api.call('POST', `/api/v1/tasks/${id}/abort`, {}, viewer)).status, 403);
    const aborted = await api.call('POST', `/api/v1/tasks/${id}/abort`, { reason: 'wrong command' });
    assert.equal(aborted.status, 200, aborted.body);
    first.answerLater(dispatch?.taskId ?? '', { status: TaskStatus.SUCCEEDED });
    const run = await api.finished(id);
    assert.equal(run.status, 'aborted');
    assert.match(run.message, /aborted by local-admin: wrong command/);
    assert.deepEqual(
      run.items.map((t) => t.state),
      ['succeeded', 'aborted'],
    );
    assert.equal(second.dispatches.length, 0);
    const abortAudit = (await api.call('GET', '/api/v1/audit?action=task.abort')).json<{
      items: { actor: string; target: string; details: Record<string, unknown> }[];
    }>().items[0];
    assert.deepEqual(
      [abortAudit?.actor, abortAudit?.target, abortAudit?.details['reason'], abortAudit?.details['targets']],
      ['local-admin', `task_run:${id}`, 'wrong command', ['stop-*']],
    );
    const again = await api.call('POST', `/api/v1/tasks/${id}/abort`, {});
    assert.equal(again.status, 409);
    assert.equal(again.json<{ code: string }>().code, 'task.finished');
  });

  it('delivers to an offline envoy when its stream opens', async () => {
    const late = await agent('late-1', echoHost, false);
    const id = await api.start({ command: 'uptime', targets: ['late-1'], expires: '10m' });
    const waiting = await api.get(id);
    assert.equal(waiting.items[0]?.state, 'dispatched');
    assert.equal(waiting.items[0]?.sentAt, null);
    await late.connect();
    const run = await api.finished(id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.items[0]?.stdout, 'ran uptime');
  });

  it('sends an unanswered task again when the stream reopens, and stores its result once', async () => {
    const host = await agent('again-1', silent);
    const id = await api.start({ command: 'date', targets: ['again-1'] });
    const [first] = await host.waitForDispatches(1);
    await host.disconnect();
    host.respond = succeedWith(() => 'first answer');
    await host.connect();
    const dispatches = await host.waitForDispatches(2);
    assert.equal(dispatches[1]?.taskId, first?.taskId, 'the same task_id is sent again');
    const run = await api.finished(id);
    assert.equal(run.items[0]?.stdout, 'first answer');
    assert.equal(host.runs.get(first?.taskId ?? ''), 1, 'the agent ran it once');
    // A second TaskResult for the same task_id changes nothing.
    host.answerLater(first?.taskId ?? '', { status: TaskStatus.FAILED, stdout: 'second answer' });
    const marker = await api.start({ command: 'marker', targets: ['again-1'] });
    await api.finished(marker);
    const kept = await api.get(id);
    assert.deepEqual([kept.items[0]?.state, kept.items[0]?.stdout], ['succeeded', 'first answer']);
    await host.disconnect();
    await host.connect();
    const third = await api.start({ command: 'after-reopen', targets: ['again-1'] });
    await api.finished(third);
    assert.equal(
      host.dispatches.filter((d) => d.taskId === first?.taskId).length,
      2,
      'a task with a stored result is not sent again',
    );
  });

  it('runs a named task from the published stacks with its parameters bound, and refuses unknown ones', async () => {
    const files = {
      'configcrates/motd.vgo':
        'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-tasks-motd\n    content: "hi"\n',
      'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
      'envoys.vgo': 'envoys:\n  - match: "named-*"\n    roles: [base]\n',
      'tasks.vgo':
        'tasks:\n  disk-usage:\n    command: df -h | head -n "$VIGO_PARAM_TOP"\n    timeout: 2m\n' +
        '    params:\n      top: { type: integer, default: 5, min: 1, max: 50 }\n',
    };
    const published = await api.call('POST', '/api/v1/config/publish', {
      files: Object.entries(files).map(([path, content]) => ({ path, content })),
    });
    assert.equal(published.status, 201, published.body);
    const host = await agent('named-1');
    const id = await api.start({ taskName: 'disk-usage', params: { top: '3' }, targets: ['named-1'] });
    const run = await api.finished(id);
    assert.equal(run.status, 'succeeded');
    const [dispatch] = host.dispatches;
    assert.deepEqual(
      [dispatch?.action.case, dispatch?.action.value, dispatch?.params, dispatch?.timeoutSeconds],
      ['taskName', 'disk-usage', { top: '3' }, 120],
    );
    const refused = async (body: Record<string, unknown>, code: string): Promise<void> => {
      const reply = await api.call('POST', '/api/v1/tasks', { targets: ['named-1'], ...body });
      assert.equal(reply.json<{ code: string }>().code, code, reply.body);
    };
    await refused({ taskName: 'no-such-task' }, 'task.unknown');
    await refused({ taskName: 'disk-usage', params: { top: 500 } }, 'task.param_invalid');
    await refused({ taskName: 'disk-usage', params: { bottom: 1 } }, 'task.param_unknown');
    assert.equal(host.dispatches.length, 1);
  });

  it('refuses a command the guardrail matches unless forced, and audits both', async () => {
    const host = await agent('guard-1');
    const blocked = await api.call('POST', '/api/v1/tasks', {
      command: 'systemctl stop vigo',
      targets: ['guard-1'],
    });
    assert.equal(blocked.status, 403, blocked.body);
    assert.equal(blocked.json<{ code: string }>().code, 'task.blocked');
    assert.equal(host.dispatches.length, 0);
    const forced = await api.start({ command: 'systemctl stop vigo', targets: ['guard-1'], force: true });
    await api.finished(forced);
    const audit = async (action: string): Promise<Record<string, unknown> | undefined> =>
      (await api.call('GET', `/api/v1/audit?action=${action}`)).json<{
        items: { details: Record<string, unknown> }[];
      }>().items[0]?.details;
    assert.match(String((await audit('task.blocked'))?.['pattern']), /systemctl/);
    assert.equal((await audit('task.dispatch'))?.['forced'], true);
  });

  it("answers a dry run with the targets and batch plan, dispatching nothing, also in Vigo's body", async () => {
    for (const n of [1, 2, 3]) await agent(`plan-${n}`);
    const before = (await api.call('GET', '/api/v1/tasks?limit=500')).json<{ items: unknown[] }>().items
      .length;
    const reply = await api.call('POST', '/api/v1/task', {
      command: 'uptime',
      target: 'plan-*',
      operator: 'ops',
      batchSize: '1',
      maxFailures: '0',
      dryRun: true,
      taskName: '',
      params: {},
      force: false,
    });
    assert.equal(reply.status, 200, reply.body);
    const plan = reply.json<{ batches: { hostnames: string[] }[]; targets: { online: boolean }[] }>();
    assert.deepEqual(
      plan.batches.map((b) => b.hostnames),
      [['plan-1'], ['plan-2'], ['plan-3']],
    );
    const after = (await api.call('GET', '/api/v1/tasks?limit=500')).json<{ items: unknown[] }>().items
      .length;
    assert.equal(after, before, 'no run was created');
  });

  it('refuses bad bodies with a clear code and dispatches nothing', async () => {
    const host = await agent('bad-1');
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ command: 'x', targets: ['bad-1'], colour: 'red' }, 400, 'request.invalid', /unknown field "colour"/],
      [{ command: 'x', targets: ['bad-1'], timeout: '60' }, 400, 'request.invalid', /timeout/],
      [{ command: 'x', targets: ['bad-1'], nice: 25 }, 400, 'task.invalid', /nice/],
      [{ command: 'x', targets: ['bad-1'], batchSize: '150%' }, 400, 'task.invalid', /batchSize/],
      [{ command: 'x', targets: ['no-such-host'] }, 404, 'orchestration.target_unknown', /no-such-host/],
      [
        { command: 'x', targets: ['nothing-*'] },
        400,
        'orchestration.targets_empty',
        /select no active envoy/,
      ],
      [{ command: 'x', targets: ['bad-1'], where: ['=debian'] }, 400, 'fleet.trait_filter', /./],
      [{ targets: ['bad-1'] }, 400, 'task.invalid', /command/],
    ];
    for (const [body, status, code, message] of cases) {
      const reply = await api.call('POST', '/api/v1/tasks', body);
      assert.equal(reply.status, status, `${JSON.stringify(body)}: ${reply.body}`);
      const error = reply.json<{ code: string; message: string }>();
      assert.equal(error.code, code, reply.body);
      assert.match(error.message, message);
    }
    const viewer = await tokenFor('viewer');
    const forbidden = await api.call('POST', '/api/v1/tasks', { command: 'x', targets: ['bad-1'] }, viewer);
    assert.equal(forbidden.status, 403);
    assert.equal((await api.call('GET', '/api/v1/tasks', undefined, viewer)).status, 200);
    const operator = await tokenFor('operator');
    const serverCommand = await api.call(
      'POST',
      '/api/v1/tasks',
      { command: 'x', targets: ['bad-1'], healthCheck: { command: 'true' } },
      operator,
    );
    assert.equal(serverCommand.json<{ code: string }>().code, 'task.health_check_forbidden');
    assert.equal(host.dispatches.length, 0);
  });
});

describe('vigocli task', () => {
  const cli = (args: string[]): Promise<CliRun> =>
    runVigocli(
      ['--server', server.apiUrl, '--data-dir', temp.path, ...args],
      cleanCliEnv(temp.path, { XDG_CONFIG_HOME: join(temp.path, 'cli-config') }),
      temp.path,
    );

  it('runs a task to the end, printing each host, and exits 1 when a host failed', async () => {
    await agent('cli-1');
    await agent('cli-2', failing);
    const plan = await cli(['task', 'run', 'echo hi', '--target', 'cli-*', '--batch-size', '1', '--dry-run']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /2 target\(s\) in 2 batch\(es\); nothing was dispatched/);
    const ok = await cli(['task', 'run', 'echo hi', '--target', 'cli-1', '--timeout', '20']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /cli-1: succeeded exit 0\n {2}\| ran echo hi\n/);
    assert.match(ok.stdout, /succeeded \(1 succeeded\)/);
    const failed = await cli([
      'task',
      'run',
      'exit 3',
      '--target',
      'cli-*',
      '--max-failures',
      '0',
      '--batch-size',
      '1',
    ]);
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stdout, /cli-2: failed exit 3/);
    assert.match(failed.stderr, /cli\.task_failed/);
    const id = /Task run ([0-9a-f-]{36})/.exec(failed.stdout)?.[1] ?? '';
    const status = await cli(['task', 'status', id]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /cli-2\s+2\s+failed\s+3/);
    const list = await cli(['task', 'list', '--limit', '5']);
    assert.match(list.stdout, new RegExp(id));
    const usage = await cli(['task', 'run', 'x', '--target', 'cli-1', '--batch-size', 'half']);
    assert.equal(usage.code, 2);
  });
});

const roleTokens = new Map<string, string>();
async function tokenFor(role: string): Promise<string> {
  const known = roleTokens.get(role);
  if (known !== undefined) return known;
  const username = `tasks-${role}`;
  const user = await api.call('POST', '/api/v1/users', { username, role });
  assert.equal(user.status, 201, user.body);
  const token = await api.call('POST', '/api/v1/tokens', { name: 'tasks', user: username });
  assert.equal(token.status, 201, token.body);
  const value = token.json<{ token: string }>().token;
  roleTokens.set(role, value);
  return value;
}
