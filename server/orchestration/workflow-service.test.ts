/**
 * The workflow engine on a real SQLite store, FleetIndex, event bus, task service and force-push, with
 * only the agent-stream transport replaced by a recording stand-in (the agents' answers are fed in as
 * TaskResults) and a clock the test moves: branching on a failed task, references to earlier steps, the
 * two-person approval, abort, the loop guard and reading runs back after a restart.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { TaskResultSchema, TaskStatus, rawFromPublicKey } from '../../protocol/index.ts';
import type { AgentStreamResponse } from '../../protocol/index.ts';
import { isVigoError, silentLogger } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import { createEventBus } from '../events/index.ts';
import type { EventBus } from '../events/index.ts';
import { FleetIndex, createFleetAdmin } from '../fleet/index.ts';
import type { CompiledWorkflow } from '../policy/index.ts';
import { ensureActiveVersion } from '../checkin/index.ts';
import { createPublishService, createValidatorPool } from '../publish/index.ts';
import type { PublishService } from '../publish/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { createForcePush } from './force-push.ts';
import { createTaskService } from './task-service.ts';
import type { TaskService, TaskStreams } from './task-service.ts';
import { createWorkflowService, workflowRunLimits } from './workflow-service.ts';
import type { WorkflowService } from './workflow-service.ts';
import type { WorkflowRunDetailView } from './workflow-views.ts';

class RecordingStreams implements TaskStreams {
  readonly open = new Set<string>();
  readonly sent: { envoyId: string; taskId: string }[] = [];
  work: Parameters<TaskStreams['attach']>[0] = {};
  send(envoyId: string, message: AgentStreamResponse): boolean {
    if (!this.open.has(envoyId)) return false;
    if (message.kind.case === 'taskDispatch') this.sent.push({ envoyId, taskId: message.kind.value.taskId });
    return true;
  }
  isOpen(envoyId: string): boolean {
    return this.open.has(envoyId);
  }
  attach(work: Parameters<TaskStreams['attach']>[0]): () => void {
    this.work = work;
    return () => undefined;
  }
}

const user = (name: string, role: 'admin' | 'operator' = 'admin', tokenId?: string): Ctx => ({
  requestId: 'r',
  actor:
    tokenId === undefined
      ? { kind: 'user', userId: `id-${name}`, username: name, role }
      : { kind: 'api-token', tokenId, userId: `id-${name}`, username: name, role },
  log: silentLogger,
});
const alice = user('alice');
const bob = user('bob', 'operator');

const workflows: Record<string, CompiledWorkflow> = {
  check: {
    description: 'probe, and on failure repair only the hosts that failed after an approval',
    params: { pattern: { type: 'string', default: 'web-*' } },
    steps: [
      {
        id: 'probe',
        type: 'task',
        description: '',
        command: 'test -e /etc/hostname',
        targets: ['{{ .Params.pattern }}'],
        where: [],
        on_success: 'end',
        on_failure: 'gate',
      },
      {
        id: 'gate',
        type: 'approval',
        description: '',
        timeout_seconds: 60,
        on_success: 'repair',
        on_failure: 'fail',
      },
      {
        id: 'repair',
        type: 'task',
        description: '',
        command: 'true',
        targets: ['{{ .Steps.probe.failed_hosts }}'],
        where: [],
        on_success: 'push',
        on_failure: 'fail',
      },
      {
        id: 'push',
        type: 'force_push',
        description: '',
        targets: ['{{ .Params.pattern }}'],
        where: [],
        on_success: 'converge',
        on_failure: 'fail',
      },
      {
        id: 'converge',
        type: 'wait_for_convergence',
        description: '',
        targets: ['{{ .Params.pattern }}'],
        where: [],
        timeout_seconds: 30,
        on_success: 'end',
        on_failure: 'fail',
      },
    ],
  },
  needs: {
    description: 'a required parameter',
    params: { ticket: { type: 'string', format: 'name' } },
    steps: [
      {
        id: 'gate',
        type: 'approval',
        description: '',
        timeout_seconds: 60,
        on_success: 'end',
        on_failure: 'fail',
      },
    ],
  },
  release: {
    description: 'activate the version waiting for approval',
    params: {},
    steps: [{ id: 'activate', type: 'publish', description: '', on_success: 'end', on_failure: 'fail' }],
  },
  loop: {
    description: 'fails forever',
    params: {},
    steps: [
      {
        id: 'again',
        type: 'task',
        description: '',
        command: 'true',
        targets: ['nosuch-host'],
        where: [],
        on_success: 'end',
        on_failure: 'again',
      },
    ],
  },
};

let dir: string;
let store: Store;
let fleet: FleetIndex;
let streams: RecordingStreams;
let bus: EventBus;
let clock: number;
let tasks: TaskService | undefined;
let engine: WorkflowService | undefined;
let publish: PublishService;

// One validator worker serves every test of this file, as one serves the whole server.
const validator = createValidatorPool({
  log: silentLogger,
  limits: () => ({ timeoutMs: 60_000, maxHeapMb: 512, maxQueued: 4 }),
});
after(() => validator.close());

const stackFiles = (motd: string) => [
  {
    path: 'configcrates/motd.vgo',
    content: `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-motd\n    content: "${motd}"\n`,
  },
  { path: 'envoys.vgo', content: 'envoys:\n  - match: "web-*"\n    configcrates: [motd]\n' },
];

function enroll(hostname: string): string {
  const id = randomUUID();
  store.db
    .prepare(
      `INSERT INTO envoys (id, hostname, public_key, status, enrolled_at) VALUES (?, ?, ?, 'active', ?)`,
    )
    .run(id, hostname, rawFromPublicKey(generateKeyPairSync('ed25519').publicKey), Date.now());
  return id;
}

function startServices(): WorkflowService {
  fleet = FleetIndex.load(store.db, silentLogger);
  const traitsByHash = (): undefined => undefined;
  tasks = createTaskService({
    store,
    fleet,
    streams,
    traitsByHash,
    bus,
    log: silentLogger,
    dataDir: dir,
    namedTasks: { find: () => undefined, carries: () => false },
    now: () => clock,
    tickMs: 5,
  });
  const forcePush = createForcePush({
    fleet,
    traitsByHash,
    streams,
    admin: createFleetAdmin({ store, index: fleet, onChange: () => undefined }),
  });
  engine = createWorkflowService({
    store,
    bus,
    log: silentLogger,
    tasks,
    forcePush,
    fleet,
    traitsByHash,
    workflows: () => workflows,
    activeVersion: () => 7,
    publish,
    now: () => clock,
    tickMs: 5,
  });
  tasks.resume();
  engine.resume();
  return engine;
}

function stopServices(): void {
  engine?.close();
  tasks?.close();
  engine = undefined;
  tasks = undefined;
}

/** Answers every dispatch sent so far: the hosts in `failing` fail. */
function answer(failing: ReadonlySet<string>): void {
  for (const sent of streams.sent.splice(0)) {
    const entry = fleet.get(sent.envoyId);
    assert.ok(entry);
    const failed = failing.has(entry.hostname);
    streams.work.taskResult?.(
      entry,
      create(TaskResultSchema, {
        taskId: sent.taskId,
        status: failed ? TaskStatus.FAILED : TaskStatus.SUCCEEDED,
        exitCode: failed ? 1 : 0,
      }),
    );
  }
}

async function until(
  id: string,
  done: (run: WorkflowRunDetailView) => boolean,
): Promise<WorkflowRunDetailView> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const run = engine?.get(id);
    if (run !== undefined && done(run)) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${id} did not reach the expected state: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function refused(fn: () => unknown, code: string): void {
  assert.throws(fn, (err) => isVigoError(err) && err.code === code, code);
}

function auditActions(): string[] {
  return store.db
    .prepare<[], string>("SELECT action FROM audit_log WHERE action LIKE 'workflow.%' ORDER BY seq")
    .pluck()
    .all();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigo-workflows-unit-'));
  store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  streams = new RecordingStreams();
  bus = createEventBus({ retain: 1000 });
  clock = 1_000_000_000;
  ensureActiveVersion(store, 1_000);
  publish = createPublishService({
    store,
    log: silentLogger,
    fleet: FleetIndex.load(store.db, silentLogger),
    validator,
    validatorOptions: () => ({ protectedPaths: ['/var/lib/vigo'], protectedServices: [], knownSecrets: [] }),
    approvalRequired: () => true,
    activate: () => undefined,
    scratchDir: join(dir, 'tmp'),
  });
});

afterEach(() => {
  stopServices();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('workflow engine', () => {
  it('takes on_failure when a task fails on one host, passes that host on, and waits for a second person', async () => {
    const ids = ['web-1', 'web-2', 'web-3'].map(enroll);
    ids.forEach((id) => streams.open.add(id));
    const wf = startServices();
    const run = wf.start(alice, { workflow: 'check', params: {} });
    assert.equal(run.currentStep, 'probe');
    answer(new Set(['web-2']));
    const gated = await until(run.id, (r) => r.awaitingApproval);
    assert.deepEqual(
      gated.steps.map((s) => [s.stepId, s.status]),
      [
        ['probe', 'failed'],
        ['gate', 'waiting'],
      ],
    );
    assert.deepEqual((gated.steps[0]!.output as { failed_hosts: string[] }).failed_hosts, ['web-2']);
    refused(() => wf.decide(alice, run.id, { approve: true, comment: '' }), 'workflow.self_approval');
    refused(
      () => wf.decide(user('alice', 'admin', 'tok-2'), run.id, { approve: true, comment: '' }),
      'workflow.self_approval',
    );
    wf.decide(bob, run.id, { approve: true, comment: 'go' });
    const repairing = await until(run.id, (r) => r.currentStep === 'repair');
    assert.deepEqual((repairing.steps[2]!.input as { targets: string[] }).targets, ['web-2']);
    assert.deepEqual(
      streams.sent.map((s) => fleet.get(s.envoyId)?.hostname),
      ['web-2'],
    );
    answer(new Set());
    await until(run.id, (r) => r.currentStep === 'converge');
    const runRow = store.db.prepare(
      'INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status) VALUES (?, ?, 7, 1, 2, 3, ?)',
    );
    for (const id of ids) runRow.run(randomUUID(), id, 'converged');
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(
      done.steps.map((s) => s.stepId),
      ['probe', 'gate', 'repair', 'push', 'converge'],
    );
    assert.equal(done.steps[1]!.decidedBy, 'user:bob');
    assert.deepEqual(auditActions(), ['workflow.start', 'workflow.approve']);
  });

  it('fails the run when the approval is rejected', async () => {
    ['web-1'].map(enroll).forEach((id) => streams.open.add(id));
    const wf = startServices();
    const run = wf.start(alice, { workflow: 'check', params: { pattern: 'web-1' } });
    answer(new Set(['web-1']));
    await until(run.id, (r) => r.awaitingApproval);
    wf.decide(bob, run.id, { approve: false, comment: 'not now' });
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'failed');
    assert.equal(done.errorCode, 'workflow.rejected');
    assert.deepEqual(auditActions(), ['workflow.start', 'workflow.reject']);
  });

  it('fails a convergence step whose targets have not converged when its timeout passes', async () => {
    const web1 = enroll('web-1');
    streams.open.add(web1);
    const wf = startServices();
    const run = wf.start(alice, { workflow: 'check', params: {} });
    answer(new Set(['web-1']));
    await until(run.id, (r) => r.awaitingApproval);
    wf.decide(bob, run.id, { approve: true, comment: '' });
    answer(new Set());
    await until(run.id, (r) => r.currentStep === 'converge');
    // A run on an older version does not count.
    store.db
      .prepare(
        "INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status) VALUES (?, ?, 6, 1, 2, 3, 'converged')",
      )
      .run(randomUUID(), web1);
    clock += 31_000;
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'failed');
    assert.equal(done.errorCode, 'workflow.timeout');
    assert.deepEqual((done.steps.at(-1)!.output as { pending_hosts: string[] }).pending_hosts, ['web-1']);
  });

  it('refuses unknown workflows and unknown, ill-typed or missing parameters before anything runs', () => {
    enroll('web-1');
    const wf = startServices();
    refused(() => wf.start(alice, { workflow: 'nosuch', params: {} }), 'workflow.unknown');
    refused(() => wf.start(alice, { workflow: 'check', params: { other: 'x' } }), 'workflow.param_unknown');
    refused(() => wf.start(alice, { workflow: 'check', params: { pattern: 5 } }), 'workflow.param_invalid');
    refused(() => wf.start(alice, { workflow: 'needs', params: {} }), 'workflow.param_missing');
    refused(
      () => wf.start(alice, { workflow: 'needs', params: { ticket: 'a b' } }),
      'workflow.param_invalid',
    );
    assert.equal(wf.list({ limit: 10 }).items.length, 0);
    assert.deepEqual(auditActions(), []);
  });

  it('aborts a run waiting for approval, audited, and refuses a second abort or a late approval', async () => {
    ['web-1'].map(enroll).forEach((id) => streams.open.add(id));
    const wf = startServices();
    const run = wf.start(alice, { workflow: 'check', params: {} });
    answer(new Set(['web-1']));
    await until(run.id, (r) => r.awaitingApproval);
    const aborted = wf.abort(bob, run.id, 'wrong window');
    assert.equal(aborted.status, 'aborted');
    assert.equal(wf.get(run.id).steps[1]!.status, 'aborted');
    refused(() => wf.abort(bob, run.id, ''), 'workflow.finished');
    refused(() => wf.decide(bob, run.id, { approve: true, comment: '' }), 'workflow.finished');
    refused(() => wf.abort(bob, randomUUID(), ''), 'workflow.not_found');
    assert.deepEqual(auditActions(), ['workflow.start', 'workflow.abort']);
  });

  it('stops a run whose branches loop, with workflow.step_limit', () => {
    const wf = startServices();
    const run = wf.start(alice, { workflow: 'loop', params: {} });
    const done = wf.get(run.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.errorCode, 'workflow.step_limit');
    assert.equal(done.stepsExecuted, workflowRunLimits.maxStepsPerRun);
    assert.equal(done.steps[0]!.errorCode, 'orchestration.target_unknown');
  });

  it('reads runs back after a restart: an approval waits on, a step caught mid-start is interrupted', async () => {
    ['web-1'].map(enroll).forEach((id) => streams.open.add(id));
    let wf = startServices();
    const waiting = wf.start(alice, { workflow: 'check', params: {} });
    const caught = wf.start(alice, { workflow: 'check', params: {} });
    answer(new Set(['web-1']));
    await until(waiting.id, (r) => r.awaitingApproval);
    await until(caught.id, (r) => r.awaitingApproval);
    stopServices();
    // As if the server stopped between writing the step and acting on it.
    store.db
      .prepare("UPDATE workflow_steps SET status = 'running' WHERE run_id = ? AND step_id = 'gate'")
      .run(caught.id);
    wf = startServices();
    const resumed = wf.get(waiting.id);
    assert.equal(resumed.status, 'running');
    assert.equal(resumed.awaitingApproval, true);
    const interrupted = wf.get(caught.id);
    assert.equal(interrupted.status, 'interrupted');
    assert.equal(interrupted.errorCode, 'workflow.interrupted');
    assert.equal(interrupted.steps[1]!.status, 'interrupted');
    wf.decide(bob, waiting.id, { approve: true, comment: '' });
    assert.equal(wf.get(waiting.id).currentStep, 'repair');
  });

  it('activates the version waiting for approval as its starter, with the two-person rule intact', async () => {
    const wf = startServices();
    const pending = await publish.publish(bob, { kind: 'files', files: stackFiles('one') }, {});
    assert.equal(pending.outcome, 'pending');
    const mine = wf.start(bob, { workflow: 'release', params: {} });
    const refusedRun = await until(mine.id, (r) => r.status !== 'running');
    assert.equal(refusedRun.status, 'failed');
    assert.equal(refusedRun.errorCode, 'publish.self_approval');
    const run = wf.start(alice, { workflow: 'release', params: {} });
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(publish.status().active?.version, 'version' in pending ? pending.version : -1);
    assert.equal(publish.status().active?.approvedBy, 'user:alice');
    const none = wf.start(alice, { workflow: 'release', params: {} });
    const nothing = await until(none.id, (r) => r.status !== 'running');
    assert.equal(nothing.errorCode, 'publish.not_pending');
  });
});
