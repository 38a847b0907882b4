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
