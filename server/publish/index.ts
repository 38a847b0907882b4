/**
 * Publish: validate → compile → (approve) → activate, with history, rollback and freeze, all audited.
 * `createPublishService` holds the use cases; `createSnapshotPolicy` turns an activated snapshot into
 * what check-in serves.
 */
export { createPublishService } from './service.ts';
export { createBlastRadiusGuard } from './blast-radius.ts';
export type {
  BlastRadiusDeps,
  BlastRadiusGuard,
  BlastRadiusSettings,
  BlastRadiusWatch,
} from './blast-radius.ts';
export type { PublishServiceDeps } from './service.ts';
export { historyLimits } from './service-types.ts';
export type {
  PublishResult,
  PublishService,
  PublishStatus,
  ValidateReport,
  VersionDetail,
  VersionDiff,
} from './service-types.ts';
export { createSnapshotPolicy, tracedMerkleRoot } from './snapshot-policy.ts';
export type { SnapshotPolicy, SnapshotPolicyOptions } from './snapshot-policy.ts';
export { checkUpload, uploadForms, uploadLimits } from './stack-source.ts';
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
export type {
  AutoRollbackFigures,
  AutoRollbackRecord,
  FreezeState,
  VersionRow,
  VersionStatus,
} from './versions.ts';
