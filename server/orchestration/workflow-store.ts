/**
 * workflow_runs and workflow_steps: the rows and the statements that read and change them. A workflow
 * changes state a few times per step (not per envoy), so its writes are single small transactions made
 * when the step changes, never on the check-in path.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../store/index.ts';

export const workflowRunStatuses = ['running', 'succeeded', 'failed', 'aborted', 'interrupted'] as const;
export type WorkflowRunStatus = (typeof workflowRunStatuses)[number];
export const workflowStepStatuses = [
  'running',
  'waiting',
  'succeeded',
  'failed',
  'interrupted',
  'aborted',
] as const;
export type WorkflowStepStatus = (typeof workflowStepStatuses)[number];

export interface WorkflowRunRow {
  id: string;
  workflow: string;
  config_version: number;
  definition: string;
  params: string;
  actor: string;
  actor_key: string;
  actor_json: string;
  status: WorkflowRunStatus;
  steps_executed: number;
  error_code: string | null;
  message: string;
  created_at: number;
  finished_at: number | null;
}

export interface WorkflowStepRow {
  run_id: string;
  seq: number;
  step_id: string;
  type: 'task' | 'force_push' | 'wait_for_convergence' | 'approval' | 'publish';
  status: WorkflowStepStatus;
  input: string;
  output: string;
  task_run_id: string | null;
  deadline_at: number | null;
  decided_by: string | null;
  error_code: string | null;
  message: string;
  started_at: number;
  finished_at: number | null;
}

type Stmt<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

export interface WorkflowStatements {
  insertRun: Stmt<[WorkflowRunRow]>;
  finishRun: Stmt<
    [{ id: string; status: WorkflowRunStatus; code: string | null; message: string; at: number }]
  >;
  countStep: Stmt<[string]>;
  insertStep: Stmt<[WorkflowStepRow]>;
  updateStep: Stmt<[Omit<WorkflowStepRow, 'step_id' | 'type' | 'started_at'>]>;
  run: Stmt<[string], WorkflowRunRow>;
  runningRuns: Stmt<[], WorkflowRunRow>;
  stepsOf: Stmt<[string], WorkflowStepRow>;
  runsBefore: Stmt<[{ at: number; id: string; limit: number }], WorkflowRunRow>;
  latestRun: Stmt<[string], { policy_version: number; status: string; resources_failed: number }>;
}

export function workflowStatements(db: Db): WorkflowStatements {
  return {
    insertRun: db.prepare(
      `INSERT INTO workflow_runs (id, workflow, config_version, definition, params, actor, actor_key, actor_json,
         status, steps_executed, error_code, message, created_at, finished_at)
       VALUES (@id, @workflow, @config_version, @definition, @params, @actor, @actor_key, @actor_json,
         @status, @steps_executed, @error_code, @message, @created_at, @finished_at)`,
    ),
    finishRun: db.prepare(
      `UPDATE workflow_runs SET status = @status, error_code = @code, message = @message, finished_at = @at
       WHERE id = @id AND status = 'running'`,
    ),
    countStep: db.prepare('UPDATE workflow_runs SET steps_executed = steps_executed + 1 WHERE id = ?'),
    insertStep: db.prepare(
      `INSERT INTO workflow_steps (run_id, seq, step_id, type, status, input, output, task_run_id, deadline_at,
         decided_by, error_code, message, started_at, finished_at)
       VALUES (@run_id, @seq, @step_id, @type, @status, @input, @output, @task_run_id, @deadline_at,
         @decided_by, @error_code, @message, @started_at, @finished_at)`,
    ),
    updateStep: db.prepare(
      `UPDATE workflow_steps SET status = @status, input = @input, output = @output, task_run_id = @task_run_id,
         deadline_at = @deadline_at, decided_by = @decided_by, error_code = @error_code, message = @message, finished_at = @finished_at
       WHERE run_id = @run_id AND seq = @seq`,
    ),
    run: db.prepare('SELECT * FROM workflow_runs WHERE id = ?'),
    runningRuns: db.prepare("SELECT * FROM workflow_runs WHERE status = 'running' ORDER BY created_at"),
    stepsOf: db.prepare('SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY seq'),
    runsBefore: db.prepare(
      `SELECT * FROM workflow_runs WHERE (created_at, id) < (@at, @id)
       ORDER BY created_at DESC, id DESC LIMIT @limit`,
    ),
    latestRun: db.prepare(
      `SELECT policy_version, status, resources_failed FROM runs
       WHERE envoy_id = ? AND dry_run = 0 ORDER BY started_at DESC LIMIT 1`,
    ),
  };
}
