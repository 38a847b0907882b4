/**
 * The workflow run engine: walks a run's steps (each written before it acts), looks at waiting steps
 * every tick, follows on_success / on_failure, bounds the steps a run executes, and reads running runs
 * back after a restart (workflow-service.ts describes the whole). The service's requests (start, abort,
 * approve) act on the runs it holds.
 */
import { VigoError, newRequestId } from '../core/index.ts';
import type { Actor, Ctx, Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { CompiledWorkflow, CompiledWorkflowStep } from '../policy/index.ts';
import type { Db, Store } from '../store/index.ts';
import { checkStep, failure, startStep } from './workflow-steps.ts';
import type { StepDeps, StepDone, StepWaiting } from './workflow-steps.ts';
import { workflowStatements } from './workflow-store.ts';
import type {
  WorkflowRunRow,
  WorkflowRunStatus,
  WorkflowStatements,
  WorkflowStepRow,
} from './workflow-store.ts';
import type { StepOutput } from './workflow-values.ts';

export const workflowRunLimits = { maxStepsPerRun: 200, maxRunning: 100, maxListed: 500 } as const;

export interface WorkflowServiceDeps extends Omit<StepDeps, 'sql'> {
  readonly store: Store;
  readonly bus: EventBus;
  readonly log: Logger;
  /** The workflows of the active configuration. */
  readonly workflows: () => Readonly<Record<string, CompiledWorkflow>>;
  readonly now?: () => number;
  readonly tickMs?: number;
}

export interface Current extends StepWaiting {
  readonly seq: number;
  readonly step: CompiledWorkflowStep;
  readonly input: Record<string, unknown>;
}

export interface LiveRun {
  readonly row: WorkflowRunRow;
  readonly def: CompiledWorkflow;
  readonly params: Record<string, string>;
  readonly ctx: Ctx;
  readonly outputs: Record<string, StepOutput>;
  current: Current | undefined;
  nextSeq: number;
}

export interface WorkflowEngine {
  readonly sql: WorkflowStatements;
  readonly runs: Map<string, LiveRun>;
  readonly now: () => number;
  readonly publish: (
    type: Parameters<EventBus['publish']>[0],
    data: Parameters<EventBus['publish']>[1],
    id: string,
  ) => void;
  /** Records a step's end (with `audit` in the same transaction) and walks on from it. */
  readonly complete: (
    run: LiveRun,
    current: Current,
    done: StepDone,
    extra?: { decidedBy?: string; audit?: (db: Db) => void },
  ) => void;
  readonly walk: (run: LiveRun, next: string, last: StepDone | undefined) => void;
  readonly adopt: (row: WorkflowRunRow, steps: readonly WorkflowStepRow[]) => LiveRun;
  /** A running run, or workflow.not_found / workflow.finished. */
  readonly live: (id: string) => LiveRun;
  readonly currentOf: (id: string) => { stepId: string; type: string } | undefined;
  readonly resume: () => void;
  readonly close: () => void;
}

export function createWorkflowEngine(deps: WorkflowServiceDeps): WorkflowEngine {
  const now = deps.now ?? Date.now;
  const sql = workflowStatements(deps.store.db);
  const stepDeps: StepDeps = { ...deps, sql: () => sql };
  const runs = new Map<string, LiveRun>();
  let closed = false;

  const publish = (
    type: Parameters<EventBus['publish']>[0],
    data: Parameters<EventBus['publish']>[1],
    id: string,
  ): void => {
    if (!closed) deps.bus.publish(type, data, id);
  };

  const finish = (run: LiveRun, status: WorkflowRunStatus, code: string | null, message: string): void => {
    const at = now();
    deps.store.tx(() => sql.finishRun.run({ id: run.row.id, status, code, message, at }));
    Object.assign(run.row, { status, error_code: code, message, finished_at: at });
    runs.delete(run.row.id);
    publish(
      'workflow.finished',
      { runId: run.row.id, workflow: run.row.workflow, status, code, message },
      run.row.id,
    );
  };

  const stepEvent = (
    run: LiveRun,
    seq: number,
    step: CompiledWorkflowStep,
    status: string,
    message = '',
  ): void =>
    publish(
      'workflow.step',
      { runId: run.row.id, seq, step: step.id, type: step.type, status, message: message.slice(0, 512) },
      run.row.id,
    );

  /** Records a step's end and walks on from it. */
  const complete = (
    run: LiveRun,
    current: Current,
    done: StepDone,
    extra: { decidedBy?: string; audit?: (db: Db) => void } = {},
  ): void => {
    const status = done.ok ? 'succeeded' : done.code === 'workflow.interrupted' ? 'interrupted' : 'failed';
    deps.store.tx((db) => {
      extra.audit?.(db);
      sql.updateStep.run({
        run_id: run.row.id,
        seq: current.seq,
        status,
        input: JSON.stringify(current.input),
        output: JSON.stringify(done.output),
        task_run_id: current.taskRunId ?? null,
        deadline_at: current.deadlineAt ?? null,
        decided_by: extra.decidedBy ?? null,
        error_code: done.code,
        message: done.message,
        finished_at: now(),
      });
    });
    run.current = undefined;
    run.outputs[current.step.id] = done.output;
    stepEvent(run, current.seq, current.step, status, done.message);
    walk(run, done.ok ? current.step.on_success : current.step.on_failure, done);
  };

  const walk = (run: LiveRun, next: string, last: StepDone | undefined): void => {
    if (next === 'end') return finish(run, 'succeeded', null, '');
    if (next === 'fail') {
      const interrupted = last?.code === 'workflow.interrupted';
      return finish(
        run,
        interrupted ? 'interrupted' : 'failed',
        last?.code ?? 'workflow.step_failed',
        last?.message ?? 'a step failed',
      );
    }
    if (run.row.steps_executed >= workflowRunLimits.maxStepsPerRun)
      return finish(
        run,
        'failed',
        'workflow.step_limit',
        `the run executed ${run.row.steps_executed} steps, the most a run may; check the workflow's on_success/on_failure for a loop`,
      );
    const step = run.def.steps.find((s) => s.id === next);
    if (step === undefined)
      return finish(run, 'failed', 'workflow.step_failed', `the workflow has no step ${next}`);
    const seq = run.nextSeq++;
    const at = now();
    deps.store.tx(() => {
      sql.insertStep.run({
        run_id: run.row.id,
        seq,
        step_id: step.id,
        type: step.type,
        status: 'running',
        input: '{}',
        output: '{}',
        task_run_id: null,
        deadline_at: null,
        decided_by: null,
        error_code: null,
        message: '',
        started_at: at,
        finished_at: null,
      });
      sql.countStep.run(run.row.id);
    });
    run.row.steps_executed += 1;
    stepEvent(run, seq, step, 'running');
    const label = `workflow ${run.row.workflow} step ${step.id} (run ${run.row.id})`.slice(0, 128);
    const started = startStep(stepDeps, run.ctx, step, { params: run.params, steps: run.outputs }, at, label);
    const current: Current = { seq, step, input: started.input };
    if ('done' in started.outcome) return complete(run, current, started.outcome.done);
    run.current = { ...current, ...started.outcome.waiting };
    persistWaiting(run, run.current);
  };

  const persistWaiting = (run: LiveRun, current: Current): void => {
    deps.store.tx(() =>
      sql.updateStep.run({
        run_id: run.row.id,
        seq: current.seq,
        status: 'waiting',
        input: JSON.stringify(current.input),
        output: '{}',
        task_run_id: current.taskRunId ?? null,
        deadline_at: current.deadlineAt ?? null,
        decided_by: null,
        error_code: null,
        message: '',
        finished_at: null,
      }),
    );
    stepEvent(run, current.seq, current.step, 'waiting');
    if (current.step.type === 'approval')
      publish(
        'workflow.approval_requested',
        {
          runId: run.row.id,
          workflow: run.row.workflow,
          step: current.step.id,
          startedBy: run.row.actor,
          deadlineAt: new Date(current.deadlineAt ?? 0).toISOString(),
        },
        run.row.id,
      );
  };

  const tick = (): void => {
    for (const run of [...runs.values()]) {
      const current = run.current;
      if (current === undefined || closed) continue;
      let done: StepDone | undefined;
      try {
        done = checkStep(stepDeps, current.step, current, now());
      } catch (err) {
        done = failure(err);
      }
      if (done !== undefined && runs.has(run.row.id) && run.current === current) complete(run, current, done);
    }
  };
  const ticker = setInterval(() => {
    try {
      tick();
    } catch (err) {
      deps.log.error('workflow tick failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }, deps.tickMs ?? 1_000);
  ticker.unref();

  const live = (id: string): LiveRun => {
    const run = runs.get(id);
    if (run !== undefined) return run;
    const row = sql.run.get(id);
    if (row === undefined) throw new VigoError('workflow.not_found', `no workflow run has the id ${id}`);
    throw new VigoError('workflow.finished', `workflow run ${id} is already over (${row.status})`);
  };

  const ctxOf = (actorJson: string): Ctx => ({
    requestId: newRequestId(),
    actor: JSON.parse(actorJson) as Actor,
    log: deps.log,
  });

  const adopt = (row: WorkflowRunRow, steps: readonly WorkflowStepRow[]): LiveRun => {
    const run: LiveRun = {
      row,
      def: JSON.parse(row.definition) as CompiledWorkflow,
      params: JSON.parse(row.params) as Record<string, string>,
      ctx: ctxOf(row.actor_json),
      outputs: {},
      current: undefined,
      nextSeq: (steps.at(-1)?.seq ?? 0) + 1,
    };
    if (!Array.isArray(run.def.steps) || run.def.steps.length === 0)
      throw new Error('the stored workflow has no steps');
    for (const s of steps)
      if (s.status !== 'running' && s.status !== 'waiting')
        run.outputs[s.step_id] = JSON.parse(s.output) as StepOutput;
    runs.set(row.id, run);
    return run;
  };

  const resumeOne = (row: WorkflowRunRow): void => {
    const steps = sql.stepsOf.all(row.id);
    let run: LiveRun;
    try {
      run = adopt(row, steps);
    } catch (err) {
      const message = `interrupted by a server restart and could not be read back: ${err instanceof Error ? err.message : String(err)}`;
      deps.store.tx(() =>
        sql.finishRun.run({
          id: row.id,
          status: 'interrupted',
          code: 'workflow.interrupted',
          message,
          at: now(),
        }),
      );
      deps.log.warn('workflow run interrupted', { runId: row.id, reason: message });
      return;
    }
    const last = steps.at(-1);
    deps.log.info('workflow run resumed', { runId: row.id, step: last?.step_id ?? null });
    if (last === undefined) return walk(run, run.def.steps[0]!.id, undefined);
    const step = run.def.steps.find((s) => s.id === last.step_id);
    const current: Current | undefined =
      step === undefined
        ? undefined
        : {
            seq: last.seq,
            step,
            input: JSON.parse(last.input) as Record<string, unknown>,
            ...(last.task_run_id === null ? {} : { taskRunId: last.task_run_id }),
            ...(last.deadline_at === null ? {} : { deadlineAt: last.deadline_at }),
          };
    if (last.status === 'waiting' && current?.step.type === 'publish') {
      // The approval was in flight: whether it took effect is read from the versions.
      const version = (current.input as { version?: number }).version;
      const active = deps.publish.status().active?.version;
      return complete(
        run,
        current,
        active === version
          ? {
              ok: true,
              output: { status: 'succeeded', version: String(version) },
              code: null,
              message: `configuration version ${version} is active`,
            }
          : {
              ok: false,
              output: { status: 'interrupted' },
              code: 'workflow.interrupted',
              message: `the server stopped while version ${String(version)} was being activated; it was not`,
            },
      );
    }
    if (last.status === 'waiting' && current !== undefined) {
      run.current = current;
      return;
    }
    if (last.status === 'running' && current !== undefined)
      return complete(run, current, {
        ok: false,
        output: { status: 'interrupted' },
        code: 'workflow.interrupted',
        message: `step ${last.step_id} was starting when the server stopped; whether it acted is unknown`,
      });
    const ok = last.status === 'succeeded';
    walk(run, step === undefined ? 'fail' : ok ? step.on_success : step.on_failure, {
      ok,
      output: {},
      code: last.error_code,
      message: last.message,
    });
  };

  const currentOf = (id: string): { stepId: string; type: string } | undefined => {
    const c = runs.get(id)?.current;
    return c === undefined ? undefined : { stepId: c.step.id, type: c.step.type };
  };

  return {
    sql,
    runs,
    now,
    publish,
    complete,
    walk,
    adopt,
    live,
    currentOf,
    resume() {
      for (const row of sql.runningRuns.all()) resumeOne(row);
    },
    close() {
      closed = true;
      clearInterval(ticker);
    },
  };
}
