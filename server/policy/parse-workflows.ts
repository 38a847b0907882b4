/**
 * workflows.vgo at the root of the stacks: named sequences of steps an operator starts on demand (docs/stacks.md
 * "Workflows"). A step runs a task, forces a check-in, waits for convergence or waits for a second
 * person's approval or activates the configuration version waiting for approval; `on_success` / `on_failure` name the step that follows (or `end` / `fail`). Later
 * steps may read the workflow's parameters and earlier steps' outputs through `{{ .Params.<name> }}` and
 * `{{ .Steps.<id>.<field> }}` — checked here, filled in when the step starts.
 */
import type { Pos } from './diagnostics.ts';
import type { TaskParamSpec } from './parse-tasks.ts';
import { namedTaskLimits, paramProblem, paramSchema, timeoutOf } from './parse-tasks.ts';
import { splitRefs, workflowStepOutputs } from './workflow-refs.ts';
import type { WorkflowStepType } from './workflow-refs.ts';
import { isRecord } from './yaml-source.ts';
import { parseNamedDefs, secondsOf } from './named-defs.ts';
import type { NamedDefsContext } from './named-defs.ts';

export const workflowLimits = {
  workflows: 128,
  stepsPerWorkflow: 50,
  paramsPerWorkflow: 64,
  targetsPerStep: 256,
  /** Longest wait of an approval or a convergence step. */
  waitMaxSeconds: 7 * 24 * 3600,
  defaultApprovalSeconds: 3600,
  defaultConvergenceSeconds: 600,
  maxPauseSeconds: 3600,
} as const;

/** A step, compiled: only the keys its type uses are present. */
export interface CompiledWorkflowStep {
  id: string;
  type: WorkflowStepType;
  description: string;
  /** A step id, `end` (the run succeeds) or `fail` (the run fails). */
  on_success: string;
  on_failure: string;
  task?: string;
  command?: string;
  params?: Record<string, string | number | boolean>;
  targets?: string[];
  where?: string[];
  batch_size?: string | number;
  max_failures?: string | number;
  pause_seconds?: number;
  timeout_seconds?: number;
}

export interface CompiledWorkflow {
  description: string;
  /** Key-sorted. */
  params: Record<string, TaskParamSpec>;
  steps: CompiledWorkflowStep[];
}

export interface WorkflowDef {
  name: string;
  file: string;
  at: Pos;
  workflow: CompiledWorkflow;
  /** Where each named task a step runs is written, for the check against tasks.vgo. */
  taskRefs: { step: string; task: string; at: Pos }[];
}

const stepId = /^[a-z][a-z0-9_-]{0,63}$/;
const reservedNext = new Set(['end', 'fail']);
const amountSchema = {
  oneOf: [
    { type: 'integer', minimum: 0, maximum: 10_000_000 },
    { type: 'string', pattern: '^\\s*\\d{1,7}\\s*%?\\s*$' },
  ],
};
const stringList = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 1024 },
  maxItems: workflowLimits.targetsPerStep,
};

const stepSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { enum: Object.keys(workflowStepOutputs) },
    description: { type: 'string', maxLength: namedTaskLimits.descriptionBytes },
    on_success: { type: 'string' },
    on_failure: { type: 'string' },
    task: { type: 'string', minLength: 1, maxLength: 64 },
    command: { type: 'string', minLength: 1, maxLength: namedTaskLimits.commandBytes },
    params: {
      type: 'object',
      maxProperties: namedTaskLimits.paramsPerTask,
      additionalProperties: { type: ['string', 'integer', 'boolean'] },
    },
    targets: { ...stringList, minItems: 1 },
    where: stringList,
    batch_size: amountSchema,
    max_failures: amountSchema,
    pause: { type: ['string', 'integer'] },
    timeout: { type: ['string', 'integer'] },
  },
  required: ['id', 'type'],
  additionalProperties: false,
};

const workflowBodySchema = {
  $id: 'https://vigo.invalid/schemas/workflow.json',
  type: 'object',
  properties: {
    description: { type: 'string', maxLength: namedTaskLimits.descriptionBytes },
    params: {
      type: 'object',
      maxProperties: workflowLimits.paramsPerWorkflow,
      propertyNames: { pattern: '^[a-z][a-z0-9_]{0,63}$' },
      additionalProperties: paramSchema,
    },
    steps: { type: 'array', minItems: 1, maxItems: workflowLimits.stepsPerWorkflow, items: stepSchema },
  },
  required: ['steps'],
  additionalProperties: false,
};

export const workflowsFileSchema = {
  $id: 'https://vigo.invalid/schemas/workflows.json',
  type: 'object',
  properties: { workflows: { type: 'object', maxProperties: workflowLimits.workflows } },
  required: ['workflows'],
  additionalProperties: false,
};

/** The keys each step type takes besides id, type, description, on_success and on_failure. */
const stepKeys: Record<WorkflowStepType, readonly string[]> = {
  task: ['task', 'command', 'params', 'targets', 'where', 'batch_size', 'max_failures', 'pause', 'timeout'],
  force_push: ['targets', 'where'],
  wait_for_convergence: ['targets', 'where', 'timeout'],
  approval: ['timeout'],
  publish: [],
};
const commonKeys = new Set(['id', 'type', 'description', 'on_success', 'on_failure']);

export function parseWorkflowsFile(file: string, value: unknown, ctx: NamedDefsContext): WorkflowDef[] {
  return parseNamedDefs(file, value, ctx, {
    kind: 'workflow',
    member: 'workflows',
    fileSchema: workflowsFileSchema,
    bodySchema: workflowBodySchema,
    compile: (name, body, at) => compileWorkflow(name, body, file, at, ctx),
  });
}

function compileWorkflow(
  name: string,
  body: Record<string, unknown>,
  file: string,
  at: Pos,
  ctx: NamedDefsContext,
): WorkflowDef | undefined {
  let errors = 0;
  const error = (code: string, pos: Pos, message: string, hint = ''): void => {
    errors += 1;
    ctx.sink.error(code, pos.line === 0 ? at : pos, `workflow ${name}: ${message}`, hint);
  };
  const params: Record<string, TaskParamSpec> = {};
  const rawParams = isRecord(body.params) ? body.params : {};
  for (const paramName of Object.keys(rawParams).sort()) {
    const spec = rawParams[paramName] as TaskParamSpec;
    const problem = paramProblem(spec);
    if (problem !== undefined)
      error(
        'workflow.param_invalid',
        ctx.map.keyPos(rawParams, paramName),
        `parameter ${paramName}: ${problem}`,
      );
    params[paramName] = spec;
  }
  const rawSteps = body.steps as Record<string, unknown>[];
  const ids = new Map<string, number>();
  rawSteps.forEach((step, i) => {
    const id = step.id as string;
    const pos = ctx.map.keyPos(step, 'id');
    if (!stepId.test(id) || reservedNext.has(id))
      error(
        'workflow.step_id_invalid',
        pos,
        `step id ${JSON.stringify(id.slice(0, 80))} is not 1 to 64 lowercase letters, digits, "_" or "-" starting with a letter (and not end or fail)`,
      );
    else if (ids.has(id)) error('workflow.step_duplicate', pos, `two steps have the id ${id}`);
    else ids.set(id, i);
  });
  const taskRefs: WorkflowDef['taskRefs'] = [];
  const steps = rawSteps.map((raw, i) => {
    const type = raw.type as WorkflowStepType;
    const id = raw.id as string;
    const where = (key: string): Pos => ctx.map.keyPos(raw, key);
    const stepError = (code: string, key: string, message: string, hint = ''): void =>
      error(code, where(key), `step ${id}: ${message}`, hint);
    for (const key of Object.keys(raw))
      if (!commonKeys.has(key) && !stepKeys[type].includes(key))
        stepError('workflow.step_field', key, `${key} does not apply to a ${type} step`);
    const next = (key: 'on_success' | 'on_failure', fallback: string): string => {
      const value = raw[key];
      if (typeof value !== 'string') return fallback;
      if (!reservedNext.has(value) && !ids.has(value))
        stepError(
          'workflow.next_unknown',
          key,
          `${key} names ${JSON.stringify(value.slice(0, 80))}, which is no step id, end or fail`,
        );
      return value;
    };
    const following = rawSteps[i + 1]?.id;
    const step: CompiledWorkflowStep = {
      id,
      type,
      description: typeof raw.description === 'string' ? raw.description : '',
      on_success: next('on_success', typeof following === 'string' ? following : 'end'),
      on_failure: next('on_failure', 'fail'),
    };
    const checkRefs = (text: string, key: string): void => {
      const parts = splitRefs(text);
      if (typeof parts === 'string') return stepError('workflow.ref_invalid', key, parts);
      for (const part of parts) {
        if (typeof part === 'string') continue;
        if (part.kind === 'param') {
          if (!Object.hasOwn(params, part.name))
            stepError(
              'workflow.ref_invalid',
              key,
              `{{ .Params.${part.name} }}: the workflow has no parameter ${part.name}`,
            );
          continue;
        }
        const index = ids.get(part.step);
        const target = index === undefined ? undefined : rawSteps[index];
        if (target === undefined || index === undefined || index >= i) {
          stepError(
            'workflow.ref_invalid',
            key,
            `{{ .Steps.${part.step}.${part.field} }}: ${part.step} is not a step before ${id}`,
          );
          continue;
        }
        const outputs: readonly string[] = workflowStepOutputs[target.type as WorkflowStepType];
        if (!outputs.includes(part.field))
          stepError(
            'workflow.ref_invalid',
            key,
            `{{ .Steps.${part.step}.${part.field} }}: a ${String(target.type)} step's outputs are ${outputs.join(', ')}`,
          );
      }
    };
    if (type === 'task') {
      const hasTask = typeof raw.task === 'string';
      if (hasTask === (typeof raw.command === 'string'))
        stepError('workflow.task_missing', 'type', 'give exactly one of task: (a named task) or command:');
      if (typeof raw.command === 'string') {
        if (raw.command.includes('{{'))
          stepError(
            'workflow.ref_in_command',
            'command',
            'a command takes no {{ … }}: its text goes to a shell as written',
            'run a named task and hand it the value as a parameter (tasks.vgo), which the agent passes as an environment variable',
          );
        step.command = raw.command;
      }
      if (hasTask) {
        step.task = raw.task as string;
        taskRefs.push({ step: id, task: step.task, at: where('task') });
        step.params = {};
        const given = isRecord(raw.params) ? raw.params : {};
        for (const key of Object.keys(given).sort()) {
          const value = given[key] as string | number | boolean;
          if (typeof value === 'string') checkRefs(value, 'params');
          step.params[key] = value;
        }
      } else if (raw.params !== undefined)
        stepError('workflow.step_field', 'params', 'params apply to a named task only');
    }
    if (type !== 'approval' && type !== 'publish') {
      if (!Array.isArray(raw.targets))
        stepError('workflow.targets_missing', 'type', `a ${type} step names its targets:`);
      step.targets = (Array.isArray(raw.targets) ? raw.targets : []) as string[];
      step.targets.forEach((t) => checkRefs(t, 'targets'));
      step.where = (Array.isArray(raw.where) ? raw.where : []) as string[];
      step.where.forEach((t) => checkRefs(t, 'where'));
    }
    if (type === 'task') {
      if (raw.batch_size !== undefined) step.batch_size = raw.batch_size as string | number;
      if (raw.max_failures !== undefined) step.max_failures = raw.max_failures as string | number;
      if (raw.pause !== undefined) {
        const pause = secondsOf(raw.pause, 0, workflowLimits.maxPauseSeconds);
        if (pause === undefined)
          stepError(
            'workflow.duration_invalid',
            'pause',
            `pause ${JSON.stringify(raw.pause)} is not a duration from 0s to 1h`,
          );
        else step.pause_seconds = pause;
      }
      if (raw.timeout !== undefined) {
        const timeout = timeoutOf(raw.timeout);
        if (timeout === undefined)
          stepError(
            'workflow.duration_invalid',
            'timeout',
            `timeout ${JSON.stringify(raw.timeout)} is not a duration from 1s to 24h`,
          );
        else step.timeout_seconds = timeout;
      }
    }
    if (type === 'approval' || type === 'wait_for_convergence') {
      const fallback =
        type === 'approval'
          ? workflowLimits.defaultApprovalSeconds
          : workflowLimits.defaultConvergenceSeconds;
      const timeout =
        raw.timeout === undefined ? fallback : secondsOf(raw.timeout, 1, workflowLimits.waitMaxSeconds);
      if (timeout === undefined)
        stepError(
          'workflow.duration_invalid',
          'timeout',
          `timeout ${JSON.stringify(raw.timeout)} is not a duration from 1s to 7 days`,
        );
      else step.timeout_seconds = timeout;
    }
    return step;
  });
  if (errors > 0) return undefined;
  return {
    name,
    file,
    at,
    taskRefs,
    workflow: { description: typeof body.description === 'string' ? body.description : '', params, steps },
  };
}
