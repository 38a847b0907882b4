export {
  advertisedSans,
  agentDialAddress,
  createEnrollService,
  defaultEnrollFailureLimit,
  enrollBcryptCost,
} from './service.ts';
export type { AgentDialOptions, EnrollRequest, EnrollService, EnrollServiceDeps } from './service.ts';
export type { EnrollInput, EnrollPki, EnrollResult, EnrolledEnvoy } from './enroll.ts';
export { tokenLimits } from './tokens.ts';
export type { CreateTokenInput, CreatedEnrollToken, EnrollTokenView, TokenListing } from './tokens.ts';
export type { EnrollTokenStatus } from './token-store.ts';
export { enrollTokenPrefix } from './token-secret.ts';
export { FailureLimiter } from './rate-limiter.ts';
export type { AttemptReservation, FailureLimiterOptions } from './rate-limiter.ts';
export { FairQueue, defaultBcryptQueue } from './fair-queue.ts';
export type { FairQueueOptions } from './fair-queue.ts';
export { compileGlobs, normalizeGlob } from './glob.ts';
export { normalizeHostname } from './hostname.ts';
