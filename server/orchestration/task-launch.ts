/**
 * Creating a task run: the checks before it (who may run a command on the server host, the guardrail),
 * its rows and targets split into batches, and the audit entries of a dispatch and of a refusal, bounded
 * so that no selection, however long, makes an entry too large to record.
 */
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { AgentStreamResponseSchema, TaskStatus } from '../../protocol/index.ts';
import type { AgentStreamResponse, TaskResult } from '../../protocol/index.ts';
import { appendAudit } from '../audit/index.ts';
import { VigoError, traceDetails } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import type { Db } from '../store/index.ts';
import type { LiveTarget, StoredRollout } from './active-run.ts';
import type { DangerousPattern } from './guardrail.ts';
import { matchDangerous } from './guardrail.ts';
import { formatAmount } from './rolling.ts';
import type { BoundTaskRequest } from './named-tasks.ts';
import type { TaskRequest } from './task-request.ts';
import { taskStatements } from './tasks-store.ts';
import type { ReportedStatus, ResultRecord, RunRow, TargetRow } from './tasks-store.ts';

/** A health-check command runs on the server host as the server's user: admins only. */
export function checkHealthCheckAllowed(ctx: Ctx, request: TaskRequest): void {
  if (request.rollout.healthCheck?.kind !== 'command') return;
  const actor = ctx.actor;
  const admin =
    actor.kind === 'local-admin' ||
    actor.kind === 'system' ||
    ((actor.kind === 'user' || actor.kind === 'api-token') && actor.role === 'admin');
  if (!admin)
    throw new VigoError(
      'task.health_check_forbidden',
      'a health-check command runs on the server host, which only an admin may do; use a health-check URL',
    );
}

/** Refuses (and audits) a command the guardrail matches, unless the request says force. */
export function checkGuardrail(
  store: { tx<T>(fn: (db: Db) => T): T },
  actor: string,
  request: TaskRequest,
  patterns: readonly DangerousPattern[],
): void {
  if (request.action.kind !== 'command' || request.force) return;
  const danger = matchDangerous(request.action.command, patterns);
  if (danger === undefined) return;
  const command = request.action.command;
  store.tx((db) =>
    appendAudit(db, {
      actor,
      action: 'task.blocked',
      target: `targets:${request.targets.join(',')}`.slice(0, 1024),
      details: {
        command: command.slice(0, 4096),
        pattern: danger.name,
        where: request.where.map((w) => w.slice(0, 256)),
        dryRun: request.dryRun,
      },
    }),
  );
  throw new VigoError(
    'task.blocked',
    `the command matches the guardrail "${danger.name}"; it would stop Vigo or delete its data. ` +
      'Send force: true to run it anyway (audited)',
    { pattern: danger.name },
  );
}

export interface NewRun {
  readonly row: RunRow;
  readonly rollout: StoredRollout;
  readonly targets: LiveTarget[];
}

/** The rows of a new run: every chosen envoy a target with its own task_id, in the batches of `plan`. */
export function newRun(
  request: BoundTaskRequest,
  chosen: readonly EnvoyEntry[],
  plan: readonly number[],
  actor: string,
  createdAt: number,
): NewRun {
  const id = randomUUID();
  const rollout: StoredRollout = {
    ...request.rollout,
    targets: [...request.targets],
    where: [...request.where],
    ...(request.force ? { force: true as const } : {}),
    ...(traceDetails(request.traceparent).traceparent === undefined
      ? {}
      : { traceparent: request.traceparent }),
  };
  const row: RunRow = {
    id,
    kind: request.action.kind,
    command: request.action.kind === 'command' ? request.action.command : null,
    task_name: request.action.kind === 'named' ? request.action.taskName : null,
    params: JSON.stringify(request.action.kind === 'named' ? request.action.params : {}),
    timeout_seconds: request.timeoutSeconds,
    nice: request.nice,
    actor,
    created_at: createdAt,
    expires_at: createdAt + request.expiresMs,
    rollout: JSON.stringify(rollout),
    batches: plan.length,
    current_batch: 0,
    status: 'running',
    message: '',
    finished_at: null,
  };
  const targets: LiveTarget[] = [];
  let index = 0;
  plan.forEach((size, b) => {
    for (const entry of chosen.slice(index, index + size))
      targets.push({
        taskId: randomUUID(),
        runId: id,
        envoyId: entry.id,
        hostname: entry.hostname,
        batch: b + 1,
        state: 'pending',
        sentAt: undefined,
        deadlineAt: undefined,
        reported: false,
      });
    index += size;
  });
  return { row, rollout, targets };
}

/** Writes the run, its targets and its audit entry (one transaction: the caller's). */
export function insertRun(db: Db, run: NewRun, request: BoundTaskRequest, plan: readonly number[]): void {
  const s = taskStatements(db);
  s.insertRun.run(run.row);
  for (const t of run.targets)
    s.insertTarget.run({
      task_id: t.taskId,
      task_run_id: t.runId,
      envoy_id: t.envoyId,
      hostname: t.hostname,
      batch: t.batch,
      state: 'pending',
      sent_at: null,
      deadline_at: null,
    });
  appendAudit(db, {
    actor: run.row.actor,
    action: 'task.dispatch',
    target: `task_run:${run.row.id}`,
    details: dispatchDetails(request, run.targets, plan),
  });
}

/** Enough to say who ran what where; long lists are cut (the run itself holds every target). */
const audited = { hostnames: 50, selectionItem: 200, paramNames: 32, paramName: 64, command: 4096 } as const;

function dispatchDetails(
  request: BoundTaskRequest,
  targets: readonly LiveTarget[],
  plan: readonly number[],
): Record<string, unknown> {
  const { action, rollout } = request;
  const check = rollout.healthCheck;
  return {
    ...(action.kind === 'command'
      ? { command: action.command.slice(0, audited.command) }
      : {
          taskName: action.taskName,
          params: Object.keys(action.params)
            .slice(0, audited.paramNames)
            .map((k) => k.slice(0, audited.paramName)),
        }),
    targets: request.targets.map((t) => t.slice(0, audited.selectionItem)),
    where: request.where.map((w) => w.slice(0, audited.selectionItem)),
    resolved: targets.length,
    hostnames: targets.slice(0, audited.hostnames).map((t) => t.hostname),
    timeoutSeconds: request.timeoutSeconds,
    nice: request.nice,
    expiresMs: request.expiresMs,
    batches: plan.length,
    ...(rollout.batchSize === undefined ? {} : { batchSize: formatAmount(rollout.batchSize) }),
    ...(rollout.maxFailures === undefined ? {} : { maxFailures: formatAmount(rollout.maxFailures) }),
    ...(rollout.canary === undefined ? {} : { canary: rollout.canary }),
    ...(check === undefined
      ? {}
      : { healthCheck: check.kind === 'url' ? check.url : check.command.slice(0, 1024) }),
    pauseSeconds: rollout.pauseSeconds,
    ...(request.force ? { forced: true } : {}),
    ...(request.operatorLabel === undefined ? {} : { operator: request.operatorLabel }),
    ...traceDetails(request.traceparent),
  };
}

/** What a run's dispatches carry besides the task: the force flag and the traceparent, from its rollout. */
function dispatchExtras(row: RunRow): { force: boolean; traceparent: string } {
  let stored: Partial<StoredRollout>;
  try {
    stored = JSON.parse(row.rollout) as Partial<StoredRollout>;
  } catch {
    stored = {};
  }
  return {
    force: stored.force === true,
    traceparent: traceDetails(stored.traceparent).traceparent ?? '',
  };
}

/** The TaskDispatch of one target. */
export function dispatchMessage(row: RunRow, taskId: string): AgentStreamResponse {
  return create(AgentStreamResponseSchema, {
    kind: {
      case: 'taskDispatch',
      value: {
        taskId,
        action:
          row.kind === 'command'
            ? { case: 'command', value: row.command ?? '' }
            : { case: 'taskName', value: row.task_name ?? '' },
        params: JSON.parse(row.params) as Record<string, string>,
        timeoutSeconds: row.timeout_seconds,
        nice: row.nice,
        ...dispatchExtras(row),
      },
    },
  });
}

const statusOfProto: Partial<Record<TaskStatus, ReportedStatus>> = {
  [TaskStatus.SUCCEEDED]: 'succeeded',
  [TaskStatus.FAILED]: 'failed',
  [TaskStatus.TIMED_OUT]: 'timed_out',
  [TaskStatus.REJECTED]: 'rejected',
};

/** A TaskResult as it is stored; undefined for a status the stream limits already refuse. */
export function resultRecord(envoyId: string, result: TaskResult): ResultRecord | undefined {
  const status = statusOfProto[result.status];
  if (status === undefined) return undefined;
  return {
    taskId: result.taskId,
    envoyId,
    status,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.truncated,
    startedAtMs: Number(result.startedAtMs),
    finishedAtMs: Number(result.finishedAtMs),
    message: result.message,
  };
}

export function liveTarget(row: TargetRow): LiveTarget {
  return {
    taskId: row.task_id,
    runId: row.task_run_id,
    envoyId: row.envoy_id,
    hostname: row.hostname,
    batch: row.batch,
    state: row.state,
    sentAt: row.sent_at ?? undefined,
    deadlineAt: row.deadline_at ?? undefined,
    reported: row.reported !== null,
  };
}
