export { registerAgentService } from './agent-service.ts';
export type { AgentService, AgentServiceDeps } from './agent-service.ts';
export { createCheckinMetrics } from './metrics.ts';
export type { CheckinMetrics } from './metrics.ts';
export { checkinRateMinutes, createCheckinRate } from './checkin-rate.ts';
export type { CheckinMinute, CheckinRate } from './checkin-rate.ts';
export {
  bundleLifetime,
  createEmptyPolicy,
  ensureActiveVersion,
  isBundleRenderFailure,
  withTraitNeeds,
} from './policy.ts';
export type { PolicySource, ServedBundle } from './policy.ts';
export { createResultsCommitter, QueueFullError } from './results-committer.ts';
export type { ResultsParticipant } from './results-committer.ts';
export type { ResultsCommitter, RunRecord } from './results-committer.ts';
export { EnvelopeRejection, verifyEnvelope } from './verify.ts';
