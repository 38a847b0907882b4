/**
 * What each kind of workflow step does when it starts and how a waiting step learns it is over:
 *  - task: starts a task run through the task service (same guardrail, targets, rolling batches and
 *    audit as an operator's), and is over when that run is; it succeeds when the run succeeded.
 *  - force_push: forces a check-in of its targets (audited as the push of the run's starter); done at once.
 *  - wait_for_convergence: over when every target's latest run was on the active configuration version
 *    and failed nothing, or failed when its timeout passes first.
 *  - approval: waits for a decision (the service takes it) or fails when its timeout passes.
 *  - publish: activates the configuration version waiting for approval through the publish service, as
 *    the run's starter approving it — so the two-person rule holds: it fails when the starter requested
 *    that version (publish.self_approval), when none waits (publish.not_pending) or when frozen.
 */
import { VigoError, isVigoError } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import { permissionsOf } from '../identity/index.ts';
import type { PublishService } from '../publish/index.ts';
import type { CompiledWorkflowStep } from '../policy/index.ts';
import type { ForcePush } from './force-push.ts';
import { resolveTargets } from './targets.ts';
import { parseTaskRequest } from './task-request.ts';
import type { TaskService } from './task-service-types.ts';
import { fillList, fillText } from './workflow-values.ts';
import type { RefValues, StepOutput } from './workflow-values.ts';
import type { WorkflowStatements } from './workflow-store.ts';

export interface StepDeps {
  readonly tasks: Pick<TaskService, 'start' | 'get' | 'abort'>;
  readonly forcePush: Pick<ForcePush, 'push'>;
  readonly fleet: FleetIndex;
  readonly traitsByHash: (hash: string) => unknown;
  /** The active configuration version, which a converged envoy's latest run was made with. */
  readonly activeVersion: () => number;
  readonly sql: () => WorkflowStatements;
  readonly publish: Pick<PublishService, 'approve' | 'status'>;
}

export interface StepDone {
  readonly ok: boolean;
  readonly output: StepOutput;
  readonly code: string | null;
  readonly message: string;
}

export interface StepWaiting {
  readonly taskRunId?: string;
  readonly deadlineAt?: number;
  /** A publish step's approval under way; `done` once the publish service answered. */
  readonly publishing?: { version: number; done?: StepDone };
}

export interface StepStarted {
  /** What the step was given once its references were filled in (stored with the step). */
  readonly input: Record<string, unknown>;
  readonly outcome: { done: StepDone } | { waiting: StepWaiting };
}

const failedStates = new Set(['failed', 'timed_out', 'rejected', 'expired', 'aborted']);
const maxListedHosts = 10_000;

export function failure(err: unknown): StepDone {
  if (!isVigoError(err)) throw err;
  return { ok: false, output: { status: 'failed' }, code: err.code, message: err.message.slice(0, 1024) };
}

export function startStep(
  deps: StepDeps,
  ctx: Ctx,
  step: CompiledWorkflowStep,
  values: RefValues,
  at: number,
  label: string,
): StepStarted {
  const input: Record<string, unknown> = {};
  try {
    const targets = step.targets === undefined ? [] : fillList(step.targets, values);
    const where = step.where === undefined ? [] : fillList(step.where, values);
    if (step.type !== 'approval') Object.assign(input, { targets, where });
    switch (step.type) {
      case 'task': {
        const params = Object.fromEntries(
          Object.entries(step.params ?? {}).map(([k, v]) => [
            k,
            typeof v === 'string' ? fillText(v, values) : v,
          ]),
        );
        const body = {
          ...(step.task === undefined ? { command: step.command } : { taskName: step.task, params }),
          targets,
          where,
          ...(step.batch_size === undefined ? {} : { batchSize: step.batch_size }),
          ...(step.max_failures === undefined ? {} : { maxFailures: step.max_failures }),
          ...(step.pause_seconds === undefined ? {} : { pauseSeconds: step.pause_seconds }),
          ...(step.timeout_seconds === undefined ? {} : { timeout: step.timeout_seconds }),
          operator: label,
        };
        Object.assign(
          input,
          step.task === undefined ? { command: step.command } : { task: step.task, params },
        );
        const started = deps.tasks.start(ctx, parseTaskRequest(body));
        if ('dryRun' in started)
          throw new VigoError('internal', 'a workflow task step never asks for a dry run');
        return { input, outcome: { waiting: { taskRunId: started.id } } };
      }
      case 'force_push': {
        const answer = deps.forcePush.push(ctx, { targets, where, reason: label.slice(0, 1024) });
        const pushed = [...answer.pushedNow, ...answer.atNextCheckin].map((e) => e.hostname);
        return {
          input,
          outcome: {
            done: {
              ok: true,
              output: { status: 'succeeded', pushed_hosts: pushed.slice(0, maxListedHosts) },
              code: null,
              message: `${answer.pushedNow.length} envoy(s) check in now, ${answer.atNextCheckin.length} at their next check-in`,
            },
          },
        };
      }
      case 'wait_for_convergence': {
        const chosen = resolveTargets(
          { fleet: deps.fleet, traitsByHash: deps.traitsByHash },
          { targets, where },
        );
        input['envoys'] = chosen.map((e) => [e.id, e.hostname]);
        return { input, outcome: { waiting: { deadlineAt: at + (step.timeout_seconds ?? 600) * 1000 } } };
      }
      case 'approval':
        return { input, outcome: { waiting: { deadlineAt: at + (step.timeout_seconds ?? 3600) * 1000 } } };
      case 'publish': {
        if (!permissionsOf(ctx.actor).has('config.publish'))
          throw new VigoError(
            'auth.forbidden',
            `${label}: the run's starter may not publish (config.publish)`,
          );
        const pending = deps.publish.status().pending;
        if (pending === undefined)
          throw new VigoError('publish.not_pending', 'no configuration version is waiting for approval');
        input['version'] = pending.version;
        const publishing: { version: number; done?: StepDone } = { version: pending.version };
        deps.publish.approve(ctx, pending.version).then(
          () => {
            publishing.done = {
              ok: true,
              output: { status: 'succeeded', version: String(pending.version) },
              code: null,
              message: `configuration version ${pending.version} (requested by ${pending.createdBy}) is active`,
            };
          },
          (err: unknown) => {
            publishing.done = isVigoError(err)
              ? { ...failure(err), output: { status: 'failed', version: String(pending.version) } }
              : { ok: false, output: { status: 'failed' }, code: 'internal', message: 'the publish failed' };
          },
        );
        return { input, outcome: { waiting: { publishing } } };
      }
    }
  } catch (err) {
    return { input, outcome: { done: failure(err) } };
  }
}

/** Whether a waiting task, convergence or approval step is over now; undefined while it goes on. */
export function checkStep(
  deps: StepDeps,
  step: CompiledWorkflowStep,
  waiting: StepWaiting & { readonly input: Record<string, unknown> },
  at: number,
): StepDone | undefined {
  switch (step.type) {
    case 'task':
      return waiting.taskRunId === undefined ? undefined : taskOutcome(deps, waiting.taskRunId);
    case 'wait_for_convergence':
      return convergence(deps, step, waiting, at);
    case 'approval':
      if (waiting.deadlineAt !== undefined && at > waiting.deadlineAt)
        return {
          ok: false,
          output: { status: 'failed', approved_by: '' },
          code: 'workflow.timeout',
          message: `no approval within ${step.timeout_seconds ?? 3600} s`,
        };
      return undefined;
    case 'publish':
      return waiting.publishing?.done;
    case 'force_push':
      return undefined;
  }
}

function taskOutcome(deps: StepDeps, taskRunId: string): StepDone | undefined {
  const head = deps.tasks.get(taskRunId, { limit: 1, offset: 0 });
  if (head.status === 'running') return undefined;
  const failed: string[] = [];
  const succeeded: string[] = [];
  let offset: number | null = 0;
  while (offset !== null && failed.length + succeeded.length < maxListedHosts) {
    const page = deps.tasks.get(taskRunId, { limit: 1000, offset });
    for (const t of page.items)
      if (t.state === 'succeeded') succeeded.push(t.hostname);
      else if (failedStates.has(t.state)) failed.push(t.hostname);
    offset = page.nextOffset;
  }
  const ok = head.status === 'succeeded';
  return {
    ok,
    output: {
      status: ok ? 'succeeded' : 'failed',
      run_id: taskRunId,
      failed_hosts: failed,
      succeeded_hosts: succeeded,
    },
    code: ok ? null : 'workflow.step_failed',
    message: (
      `task run ${taskRunId} ${head.status}` +
      (failed.length === 0
        ? ''
        : `; did not succeed on ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}`) +
      (head.message === '' ? '' : `: ${head.message}`)
    ).slice(0, 1024),
  };
}

function convergence(
  deps: StepDeps,
  step: CompiledWorkflowStep,
  waiting: StepWaiting & { readonly input: Record<string, unknown> },
  at: number,
): StepDone | undefined {
  const envoys = (Array.isArray(waiting.input['envoys']) ? waiting.input['envoys'] : []) as [
    string,
    string,
  ][];
  const version = deps.activeVersion();
  const latest = deps.sql().latestRun;
  const converged: string[] = [];
  const pending: string[] = [];
  for (const [id, hostname] of envoys) {
    const run = latest.get(id);
    const ok =
      run !== undefined &&
      run.policy_version === version &&
      run.resources_failed === 0 &&
      (run.status === 'converged' || run.status === 'changed');
    (ok ? converged : pending).push(hostname);
  }
  if (pending.length === 0)
    return {
      ok: true,
      output: { status: 'succeeded', converged_hosts: converged, pending_hosts: [] },
      code: null,
      message: `${converged.length} target(s) ran configuration version ${version} without failures`,
    };
  if (waiting.deadlineAt !== undefined && at > waiting.deadlineAt)
    return {
      ok: false,
      output: { status: 'failed', converged_hosts: converged, pending_hosts: pending },
      code: 'workflow.timeout',
      message: `${pending.length} target(s) had not converged on version ${version} within ${step.timeout_seconds ?? 600} s: ${pending.slice(0, 10).join(', ')}`,
    };
  return undefined;
}
