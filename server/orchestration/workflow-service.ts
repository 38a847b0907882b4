/**
 * Workflow runs (workflows.vgo). A run is stored with the workflow as defined when it started, then
 * walks its steps: each step is written before it acts (so a restart finds it), started, and — when it
 * waits on a task run, on convergence or on an approval — looked at again every tick until it is over.
 * Its outcome picks the next step through on_success / on_failure, up to `end` or `fail`; a run executes
 * at most `maxStepsPerRun` steps, which stops a branch loop.
 *
 * Approval mirrors two-person publish: anyone holding workflow.execute except the person who started
 * the run may approve or reject (the same user through another token is the same person). Starts,
 * aborts and decisions are audited in the transaction that records them.
 *
 * A restart loses no run: running runs are read back; a step waiting on a task run, a convergence or an
 * approval waits on; a step caught between being written and having acted is marked interrupted and the
 * run follows its on_failure (ending `interrupted` when that is `fail`).
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/index.ts';
import { VigoError, actorName, isVigoError } from '../core/index.ts';
import type { Actor, Ctx } from '../core/index.ts';
import type { GivenParam } from '../policy/index.ts';
import { createWorkflowEngine, workflowRunLimits } from './workflow-engine.ts';
import type { WorkflowServiceDeps } from './workflow-engine.ts';
import type { WorkflowRunRow } from './workflow-store.ts';
import { bindWorkflowParams } from './workflow-values.ts';
import { definitionView, runView, stepView } from './workflow-views.ts';
import type { WorkflowDefinitionView, WorkflowRunDetailView, WorkflowRunView } from './workflow-views.ts';

export { workflowRunLimits };
export type { WorkflowServiceDeps };

export interface WorkflowService {
  definitions(): WorkflowDefinitionView[];
  start(ctx: Ctx, input: { workflow: string; params: Readonly<Record<string, GivenParam>> }): WorkflowRunView;
  abort(ctx: Ctx, id: string, reason: string): WorkflowRunView;
  /** Approves or rejects the approval step a run waits on. */
  decide(ctx: Ctx, id: string, decision: { approve: boolean; comment: string }): WorkflowRunView;
  list(options: { limit: number; cursor?: string }): { items: WorkflowRunView[]; nextCursor: string | null };
  get(id: string): WorkflowRunDetailView;
  resume(): void;
  close(): void;
}

/** Who a person is for the two-person rule: a user is the same person through any of their tokens. */
export function personKey(actor: Actor): string {
  switch (actor.kind) {
    case 'user':
    case 'api-token':
      return `user:${actor.userId}`;
    case 'envoy':
      return `envoy:${actor.envoyId}`;
    default:
      return actor.kind;
  }
}

export function createWorkflowService(deps: WorkflowServiceDeps): WorkflowService {
  const engine = createWorkflowEngine(deps);
  const { sql, runs, now, publish, complete, walk, adopt, live, currentOf } = engine;
  return {
    definitions: () => Object.entries(deps.workflows()).map(([name, w]) => definitionView(name, w)),
    start(ctx, input) {
      const def = Object.hasOwn(deps.workflows(), input.workflow)
        ? deps.workflows()[input.workflow]
        : undefined;
      if (def === undefined)
        throw new VigoError(
          'workflow.unknown',
          `the active configuration has no workflow ${JSON.stringify(input.workflow.slice(0, 64))} (workflows.vgo)`,
          { field: 'workflow' },
        );
      const params = bindWorkflowParams(input.workflow, def, input.params);
      if (runs.size >= workflowRunLimits.maxRunning)
        throw new VigoError(
          'workflow.limit',
          `${runs.size} workflow runs are running, the most the server keeps going at once; wait for some to finish or abort them`,
        );
      const actor = actorName(ctx.actor);
      const row: WorkflowRunRow = {
        id: randomUUID(),
        workflow: input.workflow,
        config_version: deps.activeVersion(),
        definition: JSON.stringify(def),
        params: JSON.stringify(params),
        actor,
        actor_key: personKey(ctx.actor),
        actor_json: JSON.stringify(ctx.actor),
        status: 'running',
        steps_executed: 0,
        error_code: null,
        message: '',
        created_at: now(),
        finished_at: null,
      };
      deps.store.tx((db) => {
        sql.insertRun.run(row);
        appendAudit(db, {
          actor,
          action: 'workflow.start',
          target: `workflow_run:${row.id}`,
          details: {
            workflow: input.workflow,
            configVersion: row.config_version,
            params,
            steps: def.steps.map((s) => ({
              id: s.id,
              type: s.type,
              targets: (s.targets ?? []).slice(0, 20).map((t) => t.slice(0, 200)),
              ...(s.task === undefined ? {} : { task: s.task }),
              ...(s.command === undefined ? {} : { command: s.command.slice(0, 1024) }),
            })),
          },
        });
      });
      const run = adopt(row, []);
      publish('workflow.started', { runId: row.id, workflow: row.workflow, actor, params }, row.id);
      walk(run, def.steps[0]!.id, undefined);
      return runView(row, currentOf(row.id));
    },
    abort(ctx, id, reason) {
      const run = live(id);
      const by = actorName(ctx.actor);
      const current = run.current;
      const message = `aborted by ${by}${reason === '' ? '' : `: ${reason}`}`.slice(0, 1024);
      const at = now();
      deps.store.tx((db) => {
        appendAudit(db, {
          actor: by,
          action: 'workflow.abort',
          target: `workflow_run:${id}`,
          details: {
            workflow: run.row.workflow,
            reason,
            startedBy: run.row.actor,
            step: current?.step.id ?? null,
            params: run.params,
          },
        });
        if (current !== undefined)
          sql.updateStep.run({
            run_id: id,
            seq: current.seq,
            status: 'aborted',
            input: JSON.stringify(current.input),
            output: JSON.stringify({ status: 'aborted' }),
            task_run_id: current.taskRunId ?? null,
            deadline_at: current.deadlineAt ?? null,
            decided_by: null,
            error_code: 'workflow.aborted',
            message,
            finished_at: at,
          });
        sql.finishRun.run({ id, status: 'aborted', code: 'workflow.aborted', message, at });
      });
      Object.assign(run.row, { status: 'aborted', error_code: 'workflow.aborted', message, finished_at: at });
      run.current = undefined;
      runs.delete(id);
      if (current?.taskRunId !== undefined)
        try {
          deps.tasks.abort(ctx, current.taskRunId, `workflow run ${id} ${message}`.slice(0, 1024));
        } catch (err) {
          if (!isVigoError(err) || err.code !== 'task.finished') throw err;
        }
      publish(
        'workflow.aborted',
        { runId: id, workflow: run.row.workflow, by, reason: reason.slice(0, 512) },
        id,
      );
      publish(
        'workflow.finished',
        { runId: id, workflow: run.row.workflow, status: 'aborted', code: 'workflow.aborted', message },
        id,
      );
      return runView(run.row, undefined);
    },
    decide(ctx, id, { approve, comment }) {
      const run = live(id);
      const current = run.current;
      if (current?.step.type !== 'approval')
        throw new VigoError(
          'workflow.not_waiting',
          `workflow run ${id} is not waiting for an approval${current === undefined ? '' : ` (step ${current.step.id} is a ${current.step.type} step)`}`,
        );
      const by = actorName(ctx.actor);
      if (personKey(ctx.actor) === run.row.actor_key)
        throw new VigoError(
          'workflow.self_approval',
          `workflow run ${id} was started by ${run.row.actor}; a different person must approve or reject it`,
        );
      complete(
        run,
        current,
        approve
          ? {
              ok: true,
              output: { status: 'succeeded', approved_by: by },
              code: null,
              message: `approved by ${by}${comment === '' ? '' : `: ${comment}`}`,
            }
          : {
              ok: false,
              output: { status: 'failed', approved_by: '' },
              code: 'workflow.rejected',
              message: `rejected by ${by}${comment === '' ? '' : `: ${comment}`}`,
            },
        {
          decidedBy: by,
          audit: (db) =>
            appendAudit(db, {
              actor: by,
              action: approve ? 'workflow.approve' : 'workflow.reject',
              target: `workflow_run:${id}`,
              details: {
                workflow: run.row.workflow,
                step: current.step.id,
                startedBy: run.row.actor,
                comment,
                params: run.params,
              },
            }),
        },
      );
      return runView(run.row, currentOf(id));
    },
    list({ limit, cursor }) {
      const after = cursor === undefined ? { at: Number.MAX_SAFE_INTEGER, id: '' } : parseCursor(cursor);
      const rows = sql.runsBefore.all({ ...after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => runView(runs.get(row.id)?.row ?? row, currentOf(row.id))),
        nextCursor:
          rows.length > limit && last !== undefined
            ? Buffer.from(`${last.created_at}:${last.id}`).toString('base64url')
            : null,
      };
    },
    get(id) {
      const row = sql.run.get(id);
      if (row === undefined) throw new VigoError('workflow.not_found', `no workflow run has the id ${id}`);
      return { ...runView(row, currentOf(id)), steps: sql.stepsOf.all(id).map(stepView) };
    },
    resume: () => engine.resume(),
    close: () => engine.close(),
  };
}

function parseCursor(cursor: string): { at: number; id: string } {
  const match = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null)
    throw new VigoError('request.invalid', 'cursor: not a cursor from a previous page', { field: 'cursor' });
  return { at: Number(match[1]), id: match[2] ?? '' };
}
