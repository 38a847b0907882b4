export { createLiveQueries, liveQueryCapacity } from './live-query.ts';
export type { LiveQueries, LiveQueryDeps, LiveQueryInput, StreamLink } from './live-query.ts';
export type { LiveQueryAnswer, NotAnswered } from './query-run.ts';
export { liveQueryLimits, parseTraitPath } from './query-aggregate.ts';
export {
  createForcePush,
  defaultPushReason,
  pushListedMax,
  pushReasonMaxBytes,
  withStreamPush,
} from './force-push.ts';
export type { ForcePush, ForcePushDeps, PushAnswer, PushInput, PushedEnvoy } from './force-push.ts';
export { parseSelection, resolveTargets, targetLimits } from './targets.ts';
export type { TargetDeps, TargetSelection } from './targets.ts';
export { parseTaskRequest, taskLimits } from './task-request.ts';
export type { HealthCheck, Rollout, TaskAction, TaskRequest } from './task-request.ts';
export { batchSizeOf, failureAllowance, parseAmount, planBatches, tooManyFailures } from './rolling.ts';
export type { Amount } from './rolling.ts';
export { dangerousPatterns, matchDangerous } from './guardrail.ts';
export { runHealthCheck } from './health-check.ts';
export { createTaskService, taskPageLimits } from './task-service.ts';
export type { TaskService, TaskServiceDeps, TaskStreams } from './task-service.ts';
export { runStatuses, targetStates } from './tasks-store.ts';
export type { RunStatus, TargetState } from './tasks-store.ts';
export type { DryRunView, RunDetailView, RunSummaryView, TargetView } from './task-views.ts';
export type { NamedTasks } from './named-tasks.ts';
export { createWorkflowService, personKey, workflowRunLimits } from './workflow-service.ts';
export type { WorkflowService, WorkflowServiceDeps } from './workflow-service.ts';
export { workflowRunStatuses, workflowStepStatuses } from './workflow-store.ts';
export type {
  WorkflowDefinitionView,
  WorkflowRunDetailView,
  WorkflowRunView,
  WorkflowStepView,
} from './workflow-views.ts';
