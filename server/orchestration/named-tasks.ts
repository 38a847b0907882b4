/**
 * Named tasks come from the published stacks (tasks.vgo): before a run is created, the name must be a
 * task of the active configuration that every chosen envoy's bundle carries, and the parameters are
 * bound to its definition (names, types, required ones, defaults). A request that leaves the timeout or
 * the niceness out takes the task's own. Commands take the server's defaults.
 *
 * The reference agent also knows built-in tasks of its own (`vigo.converge`: a convergence pass now;
 * `vigo.traits`: collect every trait afresh and check in). They take no parameters and every envoy has
 * them; an agent whose configuration does not allow one answers REJECTED.
 */
import { VigoError } from '../core/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import { bindTaskParams } from '../policy/index.ts';
import type { CompiledTask } from '../policy/index.ts';
import type { TaskRequest } from './task-request.ts';
import { taskLimits } from './task-request.ts';

/** The named tasks of the active configuration. */
export interface NamedTasks {
  find(name: string): CompiledTask | undefined;
  /** Whether the bundle of the envoy with this hostname carries the task. */
  carries(hostname: string, name: string): boolean;
}

export type BoundTaskRequest = TaskRequest & { readonly timeoutSeconds: number; readonly nice: number };

const maxNamedHosts = 10;

export const builtinAgentTasks: readonly string[] = ['vigo.converge', 'vigo.traits'];

export function bindTaskRequest(
  request: TaskRequest,
  chosen: readonly EnvoyEntry[],
  tasks: NamedTasks,
): BoundTaskRequest {
  const { action } = request;
  if (action.kind === 'command')
    return {
      ...request,
      timeoutSeconds: request.timeoutSeconds ?? taskLimits.defaultTimeoutSeconds,
      nice: request.nice ?? 0,
    };
  if (builtinAgentTasks.includes(action.taskName)) {
    const given = Object.keys(action.params);
    if (given.length > 0)
      throw new VigoError(
        'task.param_unknown',
        `the built-in task ${action.taskName} takes no parameters; got ${given.slice(0, 5).join(', ')}`,
        { field: 'params' },
      );
    return {
      ...request,
      action: { ...action, params: {} },
      timeoutSeconds: request.timeoutSeconds ?? taskLimits.defaultTimeoutSeconds,
      nice: request.nice ?? 0,
    };
  }
  const task = tasks.find(action.taskName);
  if (task === undefined)
    throw new VigoError(
      'task.unknown',
      `the active configuration has no task ${JSON.stringify(action.taskName.slice(0, 64))} (tasks.vgo)`,
      { field: 'taskName' },
    );
  const without = chosen.filter((e) => !tasks.carries(e.hostname, action.taskName)).map((e) => e.hostname);
  if (without.length > 0)
    throw new VigoError(
      'task.unknown',
      `task ${action.taskName} is not in the bundles of ${without.length} target(s): ` +
        `${without.slice(0, maxNamedHosts).join(', ')}${without.length > maxNamedHosts ? ', …' : ''}` +
        (task.roles.length > 0 ? ` (it belongs to the roles ${task.roles.join(', ')})` : ''),
      { field: 'taskName' },
    );
  return {
    ...request,
    action: { ...action, params: bindTaskParams(action.taskName, task, action.params) },
    timeoutSeconds: request.timeoutSeconds ?? task.timeout_seconds,
    nice: request.nice ?? task.nice,
  };
}
