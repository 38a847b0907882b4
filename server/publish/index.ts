/**
 * Publish: validate → compile → (approve) → activate, with history, rollback and freeze, all audited.
 * `createPublishService` holds the use cases; `createSnapshotPolicy` turns an activated snapshot into
 * what check-in serves.
 */
export { createPublishService, historyLimits } from './service.ts';
export type {
  PublishResult,
  PublishService,
  PublishServiceDeps,
  PublishStatus,
  ValidateReport,
  VersionDetail,
} from './service.ts';
export { createSnapshotPolicy, tracedMerkleRoot } from './snapshot-policy.ts';
export type { SnapshotPolicy, SnapshotPolicyOptions } from './snapshot-policy.ts';
export { checkUpload, uploadLimits } from './stack-source.ts';
export { createValidatorPool } from './validator-pool.ts';
export type {
  ValidatorLimits,
  ValidatorPool,
  ValidatorPoolOptions,
  ValidatorResult,
} from './validator-pool.ts';
export type { ValidateJob, ValidatedSnapshot, ValidatorOptions } from './validator-protocol.ts';
export type { StackFile, StackSource } from './stack-source.ts';
export type { ImpactGroup, PublishImpact } from './impact.ts';
export type { FreezeState, VersionRow, VersionStatus } from './versions.ts';
