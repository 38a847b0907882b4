/** What the API answers about workflows: definitions of the active configuration, runs and their steps. */
import type { CompiledWorkflow, TaskParamSpec } from '../policy/index.ts';
import type {
  WorkflowRunRow,
  WorkflowRunStatus,
  WorkflowStepRow,
  WorkflowStepStatus,
} from './workflow-store.ts';

export interface WorkflowDefinitionView {
  name: string;
  description: string;
  params: Record<string, TaskParamSpec>;
  steps: { id: string; type: string; description: string; onSuccess: string; onFailure: string }[];
}

export interface WorkflowStepView {
  seq: number;
  stepId: string;
  type: WorkflowStepRow['type'];
  status: WorkflowStepStatus;
  input: unknown;
  output: unknown;
  taskRunId: string | null;
  deadlineAt: string | null;
  decidedBy: string | null;
  errorCode: string | null;
  message: string;
  startedAt: string;
  finishedAt: string | null;
}

export interface WorkflowRunView {
  id: string;
  workflow: string;
  configVersion: number;
  actor: string;
  status: WorkflowRunStatus;
  params: Record<string, string>;
  stepsExecuted: number;
  /** The step under way (null when the run is over). */
  currentStep: string | null;
  /** True while the current step is an approval waiting for a decision. */
  awaitingApproval: boolean;
  errorCode: string | null;
  message: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface WorkflowRunDetailView extends WorkflowRunView {
  steps: WorkflowStepView[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

export function definitionView(name: string, w: CompiledWorkflow): WorkflowDefinitionView {
  return {
    name,
    description: w.description,
    params: w.params,
    steps: w.steps.map((s) => ({
      id: s.id,
      type: s.type,
      description: s.description,
      onSuccess: s.on_success,
      onFailure: s.on_failure,
    })),
  };
}

export function runView(
  row: WorkflowRunRow,
  current: { stepId: string; type: string } | undefined,
): WorkflowRunView {
  return {
    id: row.id,
    workflow: row.workflow,
    configVersion: row.config_version,
    actor: row.actor,
    status: row.status,
    params: parsed(row.params) as Record<string, string>,
    stepsExecuted: row.steps_executed,
    currentStep: current?.stepId ?? null,
    awaitingApproval: current?.type === 'approval',
    errorCode: row.error_code,
    message: row.message,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: iso(row.finished_at),
  };
}

export function stepView(row: WorkflowStepRow): WorkflowStepView {
  return {
    seq: row.seq,
    stepId: row.step_id,
    type: row.type,
    status: row.status,
    input: parsed(row.input),
    output: parsed(row.output),
    taskRunId: row.task_run_id,
    deadlineAt: iso(row.deadline_at),
    decidedBy: row.decided_by,
    errorCode: row.error_code,
    message: row.message,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: iso(row.finished_at),
  };
}
