/**
 * The task service on a real SQLite store, FleetIndex and event bus, with the agent-stream transport
 * replaced by a recording stand-in and a clock the test moves: expiry of undelivered targets, the
 * per-target deadline, late results, grouped result writes, the admin-only server-side health check and
 * runs that cannot be read back after a restart.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { TaskResultSchema, TaskStatus, rawFromPublicKey } from '../../protocol/index.ts';
import type { AgentStreamResponse, TaskResult } from '../../protocol/index.ts';
import { isVigoError, silentLogger } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import { createEventBus } from '../events/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { parseTaskRequest } from './task-request.ts';
import { createTaskService } from './task-service.ts';
import type { TaskService, TaskStreams } from './task-service.ts';
import type { NamedTasks } from './named-tasks.ts';
import type { RunDetailView } from './task-views.ts';
import { noTargetGroups } from './target-groups.ts';

class RecordingStreams implements TaskStreams {
  readonly open = new Set<string>();
  readonly sent: { envoyId: string; taskId: string }[] = [];
  work: Parameters<TaskStreams['attach']>[0] = {};
  send(envoyId: string, message: AgentStreamResponse): boolean {
    if (!this.open.has(envoyId) || message.kind.case !== 'taskDispatch') return false;
    this.sent.push({ envoyId, taskId: message.kind.value.taskId });
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

/** The active configuration's named tasks: restart-web, carried by the hosts named web-*. */
const namedTasks: NamedTasks = {
  find: (name) =>
    name === 'restart-web'
      ? {
          description: 'restart the web server',
          command: 'systemctl restart nginx',
          script: null,
          params: {
            graceful: { type: 'boolean', default: true },
            wait: { type: 'integer', min: 0, max: 60 },
          },
          timeout_seconds: 120,
          nice: 5,
          roles: ['web'],
        }
      : undefined,
  carries: (hostname, name) => name === 'restart-web' && hostname.startsWith('web-'),
};

const admin: Ctx = { requestId: 'r', actor: { kind: 'local-admin' }, log: silentLogger };
const operator: Ctx = {
  requestId: 'r',
  actor: { kind: 'api-token', tokenId: 't', userId: 'u', username: 'op', role: 'operator' },
  log: silentLogger,
};

let dir: string;
let store: Store;
let fleet: FleetIndex;
let streams: RecordingStreams;
let clock: number;
let service: TaskService | undefined;
let transactions = 0;

function enroll(hostname: string): string {
  const id = randomUUID();
  store.db
    .prepare(
      `INSERT INTO envoys (id, hostname, public_key, status, enrolled_at) VALUES (?, ?, ?, 'active', ?)`,
    )
    .run(id, hostname, rawFromPublicKey(generateKeyPairSync('ed25519').publicKey), Date.now());
  return id;
}

function startService(maxRunningRuns?: number): TaskService {
  fleet = FleetIndex.load(store.db, silentLogger);
  service = createTaskService({
    store,
    fleet,
    streams,
    traitsByHash: () => undefined,
    targetGroups: noTargetGroups,
    bus: createEventBus({ retain: 1000 }),
    log: silentLogger,
    dataDir: dir,
    namedTasks,
    now: () => clock,
    graceMs: 1_000,
    tickMs: 5,
    ...(maxRunningRuns === undefined ? {} : { maxRunningRuns }),
  });
  return service;
}

function entry(id: string): EnvoyEntry {
  const found = fleet.get(id);
  assert.ok(found);
  return found;
}

function result(taskId: string, status: TaskStatus, stdout = ''): TaskResult {
  return create(TaskResultSchema, { taskId, status, stdout: Buffer.from(stdout) });
}

async function until(id: string, done: (run: RunDetailView) => boolean): Promise<RunDetailView> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const run = service?.get(id);
    if (run !== undefined && done(run)) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${id} did not reach the expected state: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigo-tasks-unit-'));
  store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  const tx = store.tx.bind(store);
  transactions = 0;
  store = {
    ...store,
    tx: (fn) => {
      transactions += 1;
      return tx(fn);
    },
  };
  streams = new RecordingStreams();
  clock = 1_000_000_000;
});

afterEach(() => {
  service?.close();
  service = undefined;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('task service', () => {
  it('expires a target whose envoy never opened its stream, after asking it to', async () => {
    const id = enroll('quiet-1');
    const tasks = startService();
    const run = tasks.start(
      admin,
      parseTaskRequest({ command: 'uptime', targets: ['quiet-1'], expires: '10s' }),
    );
    assert.ok(!('dryRun' in run));
    assert.equal(
      entry(id).streamRequested,
      true,
      'the envoy is told to open its stream at its next check-in',
    );
    clock += 10_001;
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'expired');
    assert.equal(done.items[0]?.state, 'expired');
    assert.equal(streams.sent.length, 0);
  });

  it('times a delivered target out after its timeout and grace, and keeps a late result beside the verdict', async () => {
    const id = enroll('slow-1');
    streams.open.add(id);
    const tasks = startService();
    const run = tasks.start(
      admin,
      parseTaskRequest({ command: 'sleep 99', targets: ['slow-1'], timeout: 5 }),
    );
    assert.ok(!('dryRun' in run));
    const [sent] = streams.sent;
    assert.ok(sent);
    clock += 5_000 + 1_000 + 1;
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'failed');
    assert.equal(done.items[0]?.state, 'timed_out');
    streams.work.taskResult?.(entry(id), result(sent.taskId, TaskStatus.SUCCEEDED, 'finally'));
    const late = await until(run.id, (r) => r.items[0]?.stdout === 'finally');
    assert.equal(late.items[0]?.state, 'timed_out');
    assert.match(late.items[0]?.message ?? '', /the agent reported succeeded later/);
  });

  it('commits many results arriving together in one transaction, each stored once', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => enroll(`bulk-${String(i).padStart(3, '0')}`));
    for (const id of ids) streams.open.add(id);
    const tasks = startService();
    const run = tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['bulk-*'] }));
    assert.ok(!('dryRun' in run));
    await until(run.id, (r) => r.items.every((t) => t.sentAt !== null));
    const before = transactions;
    for (const { envoyId, taskId } of streams.sent) {
      streams.work.taskResult?.(entry(envoyId), result(taskId, TaskStatus.SUCCEEDED, 'first'));
      streams.work.taskResult?.(entry(envoyId), result(taskId, TaskStatus.FAILED, 'duplicate'));
    }
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'succeeded');
    assert.ok(done.items.every((t) => t.stdout === 'first'));
    assert.equal(
      transactions - before,
      2,
      '400 results (200 of them duplicates) in one transaction, and the end of the run in one more',
    );
  });

  it('holds the next batch for the pause, and an abort during the pause stops it', async () => {
    const first = enroll('pause-1');
    const second = enroll('pause-2');
    streams.open.add(first);
    streams.open.add(second);
    const tasks = startService();
    const body = { command: 'true', targets: ['pause-*'], batchSize: 1, pauseSeconds: 3600 };
    const run = tasks.start(admin, parseTaskRequest(body));
    assert.ok(!('dryRun' in run));
    assert.deepEqual(
      streams.sent.map((s) => s.envoyId),
      [first],
    );
    streams.work.taskResult?.(entry(first), result(streams.sent[0]?.taskId ?? '', TaskStatus.SUCCEEDED));
    const paused = await until(run.id, (r) => r.items[0]?.state === 'succeeded');
    assert.deepEqual(
      [paused.currentBatch, paused.items[1]?.state],
      [1, 'pending'],
      'batch 2 waits out the pause',
    );
    tasks.abort(admin, run.id, 'enough');
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.deepEqual([done.status, done.items[1]?.state], ['aborted', 'aborted']);
    assert.equal(streams.sent.length, 1, 'nothing went out after the abort');
  });

  it('aborts the target of an envoy revoked before its batch, and the run ends failed', async () => {
    const first = enroll('gone-1');
    const second = enroll('gone-2');
    streams.open.add(first);
    const tasks = startService();
    const run = tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['gone-*'], batchSize: 1 }));
    assert.ok(!('dryRun' in run));
    entry(second).status = 'revoked';
    streams.work.taskResult?.(entry(first), result(streams.sent[0]?.taskId ?? '', TaskStatus.SUCCEEDED));
    const done = await until(run.id, (r) => r.status !== 'running');
    assert.equal(done.status, 'failed');
    assert.deepEqual(
      done.items.map((t) => [t.state, t.message]),
      [
        ['succeeded', ''],
        ['aborted', 'the envoy is revoked'],
      ],
    );
  });

  it('refuses an abort it cannot audit, and changes nothing', () => {
    enroll('audit-1');
    const tasks = startService();
    const run = tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['audit-1'] }));
    assert.ok(!('dryRun' in run));
    // A recorded head that no longer matches the newest entry: appends are refused from now on.
    store.db
      .prepare("UPDATE meta SET value = ? WHERE key = 'audit.head'")
      .run(JSON.stringify({ seq: 999, hash: 'f'.repeat(64) }));
    assert.throws(
      () => tasks.abort(admin, run.id, 'no trace'),
      (err) => isVigoError(err) && err.code === 'audit.chain_broken',
    );
    const after = tasks.get(run.id);
    assert.deepEqual([after.status, after.items[0]?.state, after.message], ['running', 'dispatched', '']);
  });

  it('lets only an admin run a health-check command on the server host', () => {
    enroll('hc-1');
    const tasks = startService();
    const body = { command: 'true', targets: ['hc-1'], dryRun: true, healthCheck: { command: 'true' } };
    assert.throws(
      () => tasks.start(operator, parseTaskRequest(body)),
      (err) => isVigoError(err) && err.code === 'task.health_check_forbidden',
    );
    assert.ok('dryRun' in tasks.start(admin, parseTaskRequest(body)));
    const urlCheck = { ...body, healthCheck: { url: 'http://127.0.0.1:9/health' } };
    assert.ok('dryRun' in tasks.start(operator, parseTaskRequest(urlCheck)));
  });

  it('keeps a bounded number of runs going at once, and pages the targets of a run', () => {
    enroll('cap-1');
    enroll('cap-2');
    const tasks = startService(1);
    const first = tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['cap-*'] }));
    assert.ok(!('dryRun' in first));
    assert.throws(
      () => tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['cap-1'] })),
      (err) => isVigoError(err) && err.code === 'task.limit',
    );
    const page = tasks.get(first.id, { limit: 1, offset: 0 });
    assert.deepEqual([page.items.length, page.nextOffset, page.targets], [1, 1, 2]);
    const last = tasks.get(first.id, { limit: 1, offset: 1 });
    assert.deepEqual([last.items[0]?.hostname, last.nextOffset], ['cap-2', null]);
    tasks.abort(admin, first.id, '');
    const second = tasks.start(admin, parseTaskRequest({ command: 'true', targets: ['cap-1'] }));
    assert.ok(!('dryRun' in second));
    tasks.abort(admin, second.id, '');
    // Both runs were created in the same millisecond: the cursor still pages through each exactly once.
    const firstPage = tasks.list({ limit: 1 });
    assert.ok(firstPage.nextCursor !== null);
    const secondPage = tasks.list({ limit: 1, cursor: firstPage.nextCursor });
    assert.deepEqual(
      [...firstPage.items, ...secondPage.items].map((r) => r.id).sort(),
      [first.id, second.id].sort(),
    );
    assert.equal(secondPage.nextCursor, null);
    assert.throws(
      () => tasks.list({ limit: 1, cursor: 'bm90LWEtY3Vyc29y' }),
      (err) => isVigoError(err) && err.code === 'request.invalid',
    );
  });

  it('binds a named task to its published definition, and refuses unknown tasks and wrong parameters', () => {
    const web = enroll('web-7');
    enroll('db-7');
    streams.open.add(web);
    const tasks = startService();
    const refusedWith = (body: Record<string, unknown>, code: string, message: RegExp): void =>
      assert.throws(
        () => tasks.start(admin, parseTaskRequest(body)),
        (err) => isVigoError(err) && err.code === code && message.test(err.message),
        JSON.stringify(body),
      );
    refusedWith({ taskName: 'reboot-all', targets: ['web-7'] }, 'task.unknown', /no task "reboot-all"/);
    refusedWith(
      { taskName: 'restart-web', targets: ['db-7'] },
      'task.unknown',
      /not in the bundles of 1 target\(s\): db-7 \(it belongs to the roles web\)/,
    );
    refusedWith({ taskName: 'restart-web', targets: ['web-7'] }, 'task.param_missing', /wait/);
    refusedWith(
      { taskName: 'restart-web', targets: ['web-7'], params: { wait: 99 } },
      'task.param_invalid',
      /wait/,
    );
    refusedWith(
      { taskName: 'restart-web', targets: ['web-7'], params: { wait: 1, colour: 'red' } },
      'task.param_unknown',
      /colour/,
    );
    assert.equal(streams.sent.length, 0);
    const run = tasks.start(
      admin,
      parseTaskRequest({ taskName: 'restart-web', targets: ['web-7'], params: { wait: '3' } }),
    );
    assert.ok(!('dryRun' in run));
    assert.deepEqual([run.timeoutSeconds, run.nice], [120, 5], "the task's own timeout and niceness");
    assert.deepEqual(tasks.get(run.id).params, { graceful: 'true', wait: '3' });
    const builtin = tasks.start(admin, parseTaskRequest({ taskName: 'vigo.converge', targets: ['db-7'] }));
    assert.ok(!('dryRun' in builtin), "the agent's built-in tasks need no definition in the stacks");
    refusedWith(
      { taskName: 'vigo.traits', targets: ['db-7'], params: { x: 1 } },
      'task.param_unknown',
      /no parameters/,
    );
  });

  it('marks a run interrupted when it cannot be read back at start, and resumes the others', () => {
    const id = enroll('resume-1');
    const insertRun = store.db.prepare(
      `INSERT INTO task_runs (id, kind, command, timeout_seconds, nice, actor, created_at, expires_at, rollout,
         batches, current_batch, status) VALUES (?, 'command', 'true', 60, 0, 'test', ?, ?, ?, 1, 1, 'running')`,
    );
    const insertTarget = store.db.prepare(
      `INSERT INTO task_targets (task_id, task_run_id, envoy_id, hostname, batch, state)
       VALUES (?, ?, ?, 'resume-1', 1, 'dispatched')`,
    );
    const broken = randomUUID();
    const fine = randomUUID();
    insertRun.run(broken, clock, clock + 3_600_000, '{"unreadable":true}');
    insertTarget.run(randomUUID(), broken, id);
    insertRun.run(fine, clock, clock + 3_600_000, '{"pauseSeconds":0,"targets":["resume-1"],"where":[]}');
    const fineTask = randomUUID();
    insertTarget.run(fineTask, fine, id);
    const tasks = startService();
    tasks.resume();
    const interrupted = tasks.get(broken);
    assert.equal(interrupted.status, 'interrupted');
    assert.match(interrupted.message, /could not be resumed/);
    assert.equal(interrupted.items[0]?.state, 'aborted');
    assert.equal(tasks.get(fine).status, 'running');
    streams.open.add(id);
    streams.work.opened?.(entry(id));
    assert.deepEqual(
      streams.sent,
      [{ envoyId: id, taskId: fineTask }],
      'the resumed dispatch goes out on open',
    );
  });
});
