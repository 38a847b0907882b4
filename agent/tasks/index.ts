/**
 * Pushed work: the tasks the server dispatches on AgentStream and the live queries it asks. Tasks are
 * checked, refused or run under the host-wide work lock (shared with convergence), stored durably by
 * task_id and answered at least once; live queries read one trait afresh.
 */
export { WorkLock } from './work-lock.ts';
export { TaskRunner, defaultMaxQueuedTasks } from './task-runner.ts';
export type { ResultSender, TaskPolicy, TaskRunnerOptions } from './task-runner.ts';
export { TaskResultStore, defaultTaskStoreLimits } from './result-store.ts';
export type { TaskStoreOptions } from './result-store.ts';
export { LiveQueries, defaultMaxLiveQueries } from './live-query.ts';
export type { LiveQueriesOptions, QueryAnswer } from './live-query.ts';
export { builtinTaskNames, createBuiltinTasks } from './builtin-tasks.ts';
export type { BuiltinTaskHooks, ConvergePass, NamedTask, TraitsReport } from './builtin-tasks.ts';
export { createStreamWork, taskResultPayload } from './stream-work.ts';
export { checkDispatch, taskLimits } from './dispatch-check.ts';
export type { TaskOutcome, TaskRequest, TaskStatusName } from './types.ts';
