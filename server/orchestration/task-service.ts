/**
 * Tasks over the agent stream. A run is created (with its audit entry) in one transaction, then its
 * batches go out one after the other: each target gets its own task_id, written to the envoy's stream
 * when it is open; otherwise the envoy is asked to open it (stream promotion) and the dispatch goes out
 * when its Hello arrives, until the run expires. Delivery is at-least-once: every dispatched target
 * without a result is sent again whenever its envoy's stream reopens, and the agent answers a task_id
 * it already ran from its own record, so only the first result of a task_id is stored.
 *
 * A server restart loses nothing: running runs are read back at start, their dispatched targets wait
 * for their envoys' streams again and the batches go on; a run that cannot be read back is marked
 * interrupted.
 */
import type { TaskResult } from '../../protocol/index.ts';
import type { TaskService, TaskServiceDeps } from './task-service-types.ts';
import { VigoError, actorName } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { ActiveRun, isOpen } from './active-run.ts';
import type { LiveTarget, StoredRollout } from './active-run.ts';
import { dangerousPatterns } from './guardrail.ts';
import { bindTaskRequest } from './named-tasks.ts';
import {
  checkGuardrail,
  checkHealthCheckAllowed,
  dispatchMessage,
  insertRun,
  liveTarget,
  newRun,
  resultRecord,
} from './task-launch.ts';
import { runHealthCheck } from './health-check.ts';
import { formatAmount, planBatches } from './rolling.ts';
import type { TaskRequest } from './task-request.ts';
import { TaskWriter, resultParams, taskStatements } from './tasks-store.ts';
import type { RunRow, RunStatus } from './tasks-store.ts';
import { resolveTargets } from './targets.ts';
import { createTaskReads, taskPageLimits } from './task-reads.ts';
import { markInterrupted, persistAbort } from './task-stop.ts';
import { dryRunView, runSummary } from './task-views.ts';
import type { DryRunView, RunSummaryView } from './task-views.ts';

export function createTaskService(deps: TaskServiceDeps): TaskService {
  const now = deps.now ?? Date.now;
  const graceMs = deps.graceMs ?? 30_000;
  const sql = taskStatements(deps.store.db);
  const writer = new TaskWriter(deps.store, deps.log);
  const patterns = dangerousPatterns([deps.dataDir]);
  const check = deps.healthCheck ?? runHealthCheck;
  const runs = new Map<string, ActiveRun>();
  const reads = createTaskReads({ sql, writer, runs });
  const byTaskId = new Map<string, { run: ActiveRun; target: LiveTarget }>();
  /** Dispatched targets without a result, by envoy: sent again whenever the envoy's stream opens. */
  const awaiting = new Map<string, Set<LiveTarget>>();
  let closed = false;

  const publish = (
    type: Parameters<EventBus['publish']>[0],
    data: Parameters<EventBus['publish']>[1],
    subject: string,
  ): void => {
    if (!closed) deps.bus.publish(type, data, subject);
  };

  const forget = (target: LiveTarget): void => {
    const set = awaiting.get(target.envoyId);
    set?.delete(target);
    if (set?.size === 0) awaiting.delete(target.envoyId);
  };

  /** Writes the dispatch to the envoy's stream, or asks the envoy to open one. */
  const deliver = (run: ActiveRun, target: LiveTarget): void => {
    if (target.state !== 'dispatched') return;
    if (
      deps.streams.isOpen(target.envoyId) &&
      deps.streams.send(target.envoyId, dispatchMessage(run.row, target.taskId))
    ) {
      const at = now();
      target.sentAt = at;
      target.deadlineAt = at + run.row.timeout_seconds * 1000 + graceMs;
      const deadline = target.deadlineAt;
      writer.queue((db) => taskStatements(db).setSent.run(at, deadline, target.taskId));
      return;
    }
    const asked = deps.fleet.requestStream(target.envoyId);
    if (asked === 'unknown' || asked === 'revoked')
      settle(run, target, 'aborted', `the envoy is ${asked === 'revoked' ? 'revoked' : 'no longer known'}`);
  };

  const settle = (run: ActiveRun, target: LiveTarget, state: LiveTarget['state'], message: string): void => {
    target.state = state;
    forget(target);
    writer.queue(
      (db) => taskStatements(db).setState.run(state, message, target.taskId),
      () => publishResult(run, target, null, message),
    );
  };

  const publishResult = (
    run: ActiveRun,
    target: LiveTarget,
    exitCode: number | null,
    message: string,
  ): void =>
    publish(
      'task.result',
      {
        runId: run.id,
        taskId: target.taskId,
        envoyId: target.envoyId,
        hostname: target.hostname,
        batch: target.batch,
        state: target.state,
        exitCode,
        message: message.slice(0, 512),
      },
      run.id,
    );

  const startBatch = (run: ActiveRun, batch: number): void => {
    run.row.current_batch = batch;
    run.between = false;
    writer.queue((db) => taskStatements(db).setBatch.run(batch, run.id));
    for (const target of run.byBatch[batch - 1] ?? []) {
      if (target.state !== 'pending') continue;
      target.state = 'dispatched';
      writer.queue((db) => taskStatements(db).setState.run('dispatched', '', target.taskId));
      awaiting.set(target.envoyId, (awaiting.get(target.envoyId) ?? new Set()).add(target));
      deliver(run, target);
    }
    progress(run);
  };

  /** Aborts what has not been reached; `persisted` when the caller already wrote it (with its audit entry). */
  const stopRest = (run: ActiveRun, reason: string, by: string, persisted = false): void => {
    if (run.stopReason !== undefined) return;
    run.stopReason = reason;
    if (run.timer !== undefined) clearTimeout(run.timer);
    for (const target of run.stoppable()) {
      if (!persisted) {
        settle(run, target, 'aborted', reason);
        continue;
      }
      target.state = 'aborted';
      forget(target);
      publishResult(run, target, null, reason);
    }
    if (!persisted) writer.queue((db) => taskStatements(db).setMessage.run(reason, run.id));
    publish('task.aborted', { runId: run.id, reason, by }, run.id);
  };

  const finish = (run: ActiveRun): void => {
    const status = run.outcome();
    const at = now();
    runs.delete(run.id);
    for (const target of run.targets) {
      byTaskId.delete(target.taskId);
      forget(target);
    }
    if (run.timer !== undefined) clearTimeout(run.timer);
    const message = run.stopReason ?? '';
    run.row.status = status;
    run.row.finished_at = at;
    run.row.message = message;
    writer.queue(
      (db) => taskStatements(db).finishRun.run(status, message, at, run.id),
      () => publish('task.finished', { runId: run.id, status, counts: run.counts() }, run.id),
    );
  };

  const progress = (run: ActiveRun): void => {
    if (!runs.has(run.id)) return;
    if (run.stopReason === undefined && run.allowance !== undefined && run.failures() > run.allowance)
      stopRest(
        run,
        `${run.failures()} target(s) failed, more than the ${run.allowance} that maxFailures ${formatAmount(run.rollout.maxFailures ?? { kind: 'count', value: 0 })} allows`,
        'system',
      );
    if (run.stopReason !== undefined) {
      if (run.targets.every((t) => !isOpen(t.state))) finish(run);
      return;
    }
    if (run.between || !run.batchDone()) return;
    publishBatch(run);
    if (run.row.current_batch >= run.row.batches) return finish(run);
    run.between = true;
    void betweenBatches(run);
  };

  /**
   * Progress once every result committed together has been told: a batch is reported done after the
   * results that completed it, whatever their order in the commit.
   */
  const progressPending = new Set<ActiveRun>();
  const progressSoon = (run: ActiveRun): void => {
    if (progressPending.size === 0)
      queueMicrotask(() => {
        const due = [...progressPending];
        progressPending.clear();
        for (const r of due) progress(r);
      });
    progressPending.add(run);
  };

  const publishBatch = (run: ActiveRun): void => {
    const batch = run.byBatch[run.row.current_batch - 1] ?? [];
    publish(
      'task.batch',
      {
        runId: run.id,
        batch: run.row.current_batch,
        batches: run.row.batches,
        targets: batch.length,
        succeeded: batch.filter((t) => t.state === 'succeeded').length,
      },
      run.id,
    );
  };

  const betweenBatches = async (run: ActiveRun): Promise<void> => {
    const health = run.rollout.healthCheck;
    if (health !== undefined) {
      const outcome = await check(health);
      if (closed || run.stopReason !== undefined) return progress(run);
      if (!outcome.ok) {
        stopRest(
          run,
          `health check after batch ${run.row.current_batch} failed: ${outcome.detail}`.slice(0, 1024),
          'system',
        );
        return progress(run);
      }
    }
    const next = run.row.current_batch + 1;
    if (run.rollout.pauseSeconds === 0) return startBatch(run, next);
    run.timer = setTimeout(() => {
      run.timer = undefined;
      if (!closed && run.stopReason === undefined) startBatch(run, next);
    }, run.rollout.pauseSeconds * 1000);
    run.timer.unref();
  };

  const onResult = (entry: EnvoyEntry, result: TaskResult): void => {
    const record = resultRecord(entry.id, result);
    if (record === undefined) return;
    const { status } = record;
    const live = byTaskId.get(result.taskId);
    if (live === undefined || live.target.envoyId !== entry.id) {
      // A late answer (its run is over) or one for another envoy's task: the row decides, by envoy id.
      writer.queue((db) => taskStatements(db).recordResult.run(resultParams(record)));
      return;
    }
    const { run, target } = live;
    if (target.reported || target.sentAt === undefined) return;
    target.reported = true;
    const wasOpen = target.state === 'dispatched';
    if (wasOpen) {
      target.state = status;
      forget(target);
    }
    writer.queue(
      (db) => taskStatements(db).recordResult.run(resultParams(record)),
      () => {
        if (wasOpen) publishResult(run, target, result.exitCode, result.message);
        progressSoon(run);
      },
    );
  };

  const onOpened = (entry: EnvoyEntry): void => {
    const waiting = awaiting.get(entry.id);
    if (waiting === undefined) return;
    for (const target of [...waiting]) {
      const live = byTaskId.get(target.taskId);
      if (live !== undefined) deliver(live.run, target);
    }
  };

  const tick = (): void => {
    const at = now();
    for (const run of [...runs.values()]) {
      let changed = false;
      for (const target of run.targets) {
        if (target.state !== 'dispatched') continue;
        if (target.sentAt === undefined && at > run.row.expires_at) {
          settle(run, target, 'expired', 'the envoy did not open its stream before the task expired');
          changed = true;
        } else if (target.deadlineAt !== undefined && at > target.deadlineAt) {
          settle(
            run,
            target,
            'timed_out',
            `no result within ${run.row.timeout_seconds} s of delivery (and ${graceMs / 1000} s of grace)`,
          );
          changed = true;
        }
      }
      if (changed)
        writer.queue(
          () => undefined,
          () => progressSoon(run),
        );
    }
  };

  const detach = deps.streams.attach({ opened: onOpened, taskResult: onResult });
  const ticker = setInterval(tick, deps.tickMs ?? 1_000);
  ticker.unref();

  const activate = (run: ActiveRun): void => {
    runs.set(run.id, run);
    for (const target of run.targets) {
      if (!isOpen(target.state)) continue;
      byTaskId.set(target.taskId, { run, target });
      if (target.state === 'dispatched')
        awaiting.set(target.envoyId, (awaiting.get(target.envoyId) ?? new Set()).add(target));
    }
  };

  const start = (ctx: Ctx, request: TaskRequest): RunSummaryView | DryRunView => {
    const actor = actorName(ctx.actor);
    checkHealthCheckAllowed(ctx, request);
    checkGuardrail(deps.store, actor, request, patterns);
    const chosen = resolveTargets({ fleet: deps.fleet, traitsByHash: deps.traitsByHash }, request);
    const bound = bindTaskRequest(request, chosen, deps.namedTasks);
    const plan = planBatches(chosen.length, request.rollout);
    if (request.dryRun) return dryRunView(chosen, plan, bound, (id) => deps.streams.isOpen(id));
    if (runs.size >= (deps.maxRunningRuns ?? taskPageLimits.maxRunning))
      throw new VigoError(
        'task.limit',
        `${runs.size} task runs are running, the most the server keeps going at once; wait for some to finish or abort them`,
      );
    writer.flush();
    const created = newRun(bound, chosen, plan, actor, now());
    deps.store.tx((db) => insertRun(db, created, bound, plan));
    const run = new ActiveRun(created.row, created.rollout, created.targets);
    activate(run);
    const { row } = created;
    publish(
      'task.started',
      {
        runId: row.id,
        actor,
        targets: created.targets.length,
        batches: plan.length,
        kind: row.kind,
        command: (row.command ?? row.task_name ?? '').slice(0, 512),
      },
      row.id,
    );
    startBatch(run, 1);
    return runSummary(row, run.counts());
  };

  const resumeOne = (row: RunRow): void => {
    let rollout: StoredRollout;
    const rows = sql.targetsOf.all(row.id);
    try {
      rollout = JSON.parse(row.rollout) as StoredRollout;
      if (rows.length === 0 || typeof rollout.pauseSeconds !== 'number')
        throw new Error('no targets or no rollout');
    } catch (err) {
      const message = `interrupted by a server restart and could not be resumed: ${err instanceof Error ? err.message : String(err)}`;
      markInterrupted(deps.store, row, rows, message, now());
      deps.log.warn('task run interrupted', { runId: row.id, reason: message });
      return;
    }
    const targets = rows.map(liveTarget);
    const run = new ActiveRun(row, rollout, targets);
    if (row.message !== '' && targets.some((t) => t.state === 'aborted')) run.stopReason = row.message;
    activate(run);
    for (const target of targets) if (target.state === 'dispatched') deliver(run, target);
    deps.log.info('task run resumed', { runId: row.id, batch: row.current_batch, batches: row.batches });
    if (row.current_batch === 0) startBatch(run, 1);
    else progress(run);
  };

  return {
    start,
    abort(ctx, id, reason) {
      const run = runs.get(id);
      if (run === undefined) {
        const row = sql.run.get(id);
        if (row === undefined) throw new VigoError('task.not_found', `no task run has the id ${id}`);
        throw new VigoError(
          'task.finished',
          `task run ${id} is already over (${row.status}); nothing to abort`,
        );
      }
      const by = actorName(ctx.actor);
      const why = `aborted by ${by}${reason === '' ? '' : `: ${reason}`}`;
      writer.flush();
      const stopping = run.stopReason === undefined ? run.stoppable() : [];
      // The abort and its audit entry are one change: both are written, or neither.
      deps.store.tx((db) => persistAbort(db, { run, by, reason, why, stopping }));
      stopRest(run, why, by, true);
      progress(run);
      return runSummary(run.row, run.counts());
    },
    list: (options) => reads.list(options),
    get: (id, page) => reads.get(id, page),
    resume() {
      for (const row of sql.runningRuns.all()) resumeOne(row);
    },
    close() {
      closed = true;
      clearInterval(ticker);
      detach();
      for (const run of runs.values()) if (run.timer !== undefined) clearTimeout(run.timer);
      writer.flush();
    },
  };
}

export { taskPageLimits };
export type { TaskService, TaskServiceDeps, TaskStreams } from './task-service-types.ts';
export type { RunStatus };
