/**
 * Workflows end to end: a real vigosrv on fixed loopback ports and two real `vigo daemon` processes.
 * The workflow probes both hosts with a named task that fails on one (its HOME holds a "broken" file),
 * takes on_failure to an approval gate, which its starter may not pass and a second admin does; then
 * repairs only the host that failed (the probe's failed_hosts), forces a check-in and waits for
 * convergence. Also: vigocli follows a run to its end, an abort, and a server killed (-9) while a run
 * waits for approval, after which the run still waits and finishes once approved.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, startServer } from './helpers/server-process.ts';
import { followEvents } from './helpers/tasks-api.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-wf-e2e-srv-');
const work = makeTempDir('vigo-wf-e2e-work-');
const hostnames = ['wf-e2e-1', 'wf-e2e-2'];
const broken = join(work.path, 'wf-e2e-2', 'broken');
let server: ReadyServer;
let ports: { grpc: number; api: number };
let adminToken: string;
let secondAdmin: string;
const daemons: AgentDaemon[] = [];

interface StepView {
  stepId: string;
  status: string;
  input: { targets?: string[] };
  output: { failed_hosts?: string[]; approved_by?: string };
  taskRunId: string | null;
}
interface RunView {
  id: string;
  status: string;
  errorCode: string | null;
  message: string;
  currentStep: string | null;
  awaitingApproval: boolean;
  steps: StepView[];
}

const workflows = `workflows:
  heal:
    description: probe, and repair the hosts that fail once a second admin agrees
    params:
      pattern: { type: string, default: "wf-e2e-*" }
    steps:
      - id: probe
        type: task
        task: healthy
        targets: ["{{ .Params.pattern }}"]
        on_success: end
        on_failure: gate
      - id: gate
        type: approval
        timeout: 1h
      - id: repair
        type: task
        command: rm -f "$HOME/broken"
        targets: ["{{ .Steps.probe.failed_hosts }}"]
      - id: push
        type: force_push
        targets: ["{{ .Params.pattern }}"]
      - id: converge
        type: wait_for_convergence
        targets: ["{{ .Params.pattern }}"]
        timeout: 5m
`;

function writeStacks(): string {
  const root = join(work.path, 'stacks');
  mkdirSync(join(root, 'configcrates'), { recursive: true });
  writeFileSync(
    join(root, 'configcrates', 'marker.vgo'),
    `name: marker\nresources:\n  - name: dir\n    type: directory\n    target_path: ${join(work.path, 'converged')}\n`,
  );
  writeFileSync(join(root, 'envoys.vgo'), 'envoys:\n  - match: "wf-e2e-*"\n    configcrates: [marker]\n');
  writeFileSync(join(root, 'tasks.vgo'), 'tasks:\n  healthy:\n    command: test ! -e "$HOME/broken"\n');
  writeFileSync(join(root, 'workflows.vgo'), workflows);
  return root;
}

async function boot(): Promise<void> {
  server = await startServer({
    dataDir: serverDir.path,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
    args: ['--stacks', join(work.path, 'stacks'), '--publish-at-start'],
  });
  adminToken = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
}

function call(method: string, path: string, body?: unknown, token = adminToken): Promise<HttpsResponse> {
  return server.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function getRun(id: string): Promise<RunView> {
  const reply = await call('GET', `/api/v1/workflows/runs/${id}`);
  assert.equal(reply.status, 200, reply.body);
  return reply.json<RunView>();
}

function until(
  id: string,
  what: string,
  done: (run: RunView) => boolean,
  timeoutMs = 90_000,
): Promise<RunView> {
  return waitFor(
    `workflow run ${id}: ${what}`,
    async () => {
      const run = await getRun(id);
      return done(run) ? run : undefined;
    },
    timeoutMs,
    100,
  );
}

async function start(): Promise<string> {
  const reply = await call('POST', '/api/v1/workflows/runs', { workflow: 'heal' });
  assert.equal(reply.status, 201, reply.body);
  return reply.json<{ id: string }>().id;
}

const cli = (args: string[]) =>
  runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    cleanCliEnv(work.path, { XDG_CONFIG_HOME: join(work.path, 'cli') }),
    work.path,
  );

async function actions(action: string): Promise<{ actor: string; details: Record<string, unknown> }[]> {
  const reply = await call('GET', `/api/v1/audit?action=${action}&limit=50`);
  assert.equal(reply.status, 200, reply.body);
  return reply.json<{ items: { actor: string; details: Record<string, unknown> }[] }>().items;
}

before(async () => {
  ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  writeStacks();
  await boot();
  const user = await call('POST', '/api/v1/users', { username: 'second', role: 'admin' });
  assert.equal(user.status, 201, user.body);
  const token = await call('POST', '/api/v1/tokens', { name: 'approver', user: 'second' });
  assert.equal(token.status, 201, token.body);
  secondAdmin = token.json<{ token: string }>().token;
  const enrollToken = await createEnrollToken(server, ['wf-e2e-*'], 2);
  for (const hostname of hostnames) {
    // Each agent has a HOME of its own, so the probe can fail on one of them.
    const home = join(work.path, hostname);
    mkdirSync(home, { recursive: true });
    daemons.push(await startAgentDaemon(server, { hostname, enrollToken, home }));
  }
  await waitFor(
    'both agents to hold their streams',
    async () => ((await streamsOpen(server, adminToken)) === 2 ? true : undefined),
    60_000,
  );
});

after(async () => {
  for (const daemon of daemons) await daemon.stop();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('workflows with the reference agent', () => {
  it('takes on_failure when the probe fails on one host, waits for a second admin, repairs that host, converges', async () => {
    writeFileSync(broken, '');
    const stream = followEvents(server, adminToken, 'workflow.*');
    await stream.ready;
    const following = cli(['workflow', 'run', 'heal']);
    const id = await waitFor('the run to appear', async () => {
      const list = await call('GET', '/api/v1/workflows/runs?limit=1');
      return list.json<{ items: { id: string }[] }>().items[0]?.id;
    });
    const gated = await until(id, 'the approval gate', (r) => r.awaitingApproval);
    assert.deepEqual(gated.steps[0]?.output.failed_hosts, ['wf-e2e-2']);
    const self = await call('POST', `/api/v1/workflows/runs/${id}/approve`, {});
    assert.equal(self.status, 403, self.body);
    assert.equal(self.json<{ code: string }>().code, 'workflow.self_approval');
    const approved = await call(
      'POST',
      `/api/v1/workflows/runs/${id}/approve`,
      { comment: 'go' },
      secondAdmin,
    );
    assert.equal(approved.status, 200, approved.body);
    const result = await following;
    const done = await getRun(id);
    const agents = daemons.map((d) => d.log()).join('\n--- next agent ---\n');
    assert.equal(
      done.status,
      'succeeded',
      `${JSON.stringify(done)}\n${result.stdout}\n${result.stderr}\n${agents}`,
    );
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.deepEqual(
      done.steps.map((s) => [s.stepId, s.status]),
      [
        ['probe', 'failed'],
        ['gate', 'succeeded'],
        ['repair', 'succeeded'],
        ['push', 'succeeded'],
        ['converge', 'succeeded'],
      ],
    );
    assert.deepEqual(done.steps[2]?.input.targets, ['wf-e2e-2']);
    assert.equal(existsSync(broken), false, 'the repair ran on the host that failed');
    assert.match(result.stdout, /step probe \[task\] failed/);
    assert.match(result.stdout, /step gate \[approval\] succeeded: approved by .*second/);
    assert.match(result.stdout, /Workflow run .* \(heal\): succeeded/);
    const [approval] = await actions('workflow.approve');
    assert.match(approval?.actor ?? '', /second/);
    assert.equal(approval?.details['startedBy'], 'local-admin');
    const [started] = await actions('workflow.start');
    assert.deepEqual(started?.details['params'], { pattern: 'wf-e2e-*' });
    const seen = await waitFor('the workflow events', () => {
      const types = new Set(stream.events.filter((e) => e.data['runId'] === id).map((e) => e.type));
      return types.has('workflow.finished') ? types : undefined;
    });
    stream.close();
    for (const type of ['workflow.started', 'workflow.step', 'workflow.approval_requested'])
      assert.ok(seen.has(type), `${type} in ${[...seen].join(', ')}`);
  });

  it('aborts a run waiting for approval with vigocli, audited, and refuses a late approval', async () => {
    writeFileSync(broken, '');
    const id = await start();
    await until(id, 'the approval gate', (r) => r.awaitingApproval);
    const aborted = await cli(['workflow', 'abort', id, '--reason', 'not today']);
    assert.equal(aborted.code, 0, aborted.stderr);
    const run = await getRun(id);
    assert.equal(run.status, 'aborted');
    assert.equal(run.steps.at(-1)?.status, 'aborted');
    const [entry] = await actions('workflow.abort');
    assert.equal(entry?.details['reason'], 'not today');
    const status = await cli(['workflow', 'status', id]);
    assert.match(status.stdout, /status: +aborted/);
    const late = await call('POST', `/api/v1/workflows/runs/${id}/approve`, {}, secondAdmin);
    assert.equal(late.json<{ code: string }>().code, 'workflow.finished');
  });

  it('keeps a run waiting for approval across kill -9 of the server, and finishes it once approved', async () => {
    writeFileSync(broken, '');
    const id = await start();
    await until(id, 'the approval gate', (r) => r.awaitingApproval);
    server.child.kill('SIGKILL');
    await server.exited();
    await boot();
    const resumed = await getRun(id);
    assert.equal(resumed.status, 'running', JSON.stringify(resumed));
    assert.equal(resumed.awaitingApproval, true);
    await waitFor(
      'both agents to reconnect',
      async () => ((await streamsOpen(server, adminToken)) === 2 ? true : undefined),
      90_000,
      100,
    );
    const listed = await cli(['workflow', 'list']);
    assert.match(listed.stdout, new RegExp(`${id} +heal .* running +gate \\(approval\\)`));
    const self = await cli(['workflow', 'approve', id]);
    assert.equal(self.code, 4, `${self.stdout}\n${self.stderr}`);
    assert.match(self.stderr, /workflow\.self_approval/);
    const approved = await cli([
      '--token',
      secondAdmin,
      'workflow',
      'approve',
      id,
      '--comment',
      'after restart',
    ]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /Approved; workflow run .* is running/);
    const done = await until(id, 'the end', (r) => r.status !== 'running');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(existsSync(broken), false);
  });
});
