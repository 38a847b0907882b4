export {
  appendAudit,
  assertAuditWritable,
  auditGenesisHash,
  auditHead,
  auditHeadMetaKey,
  computeAuditHash,
  maxAuditDetailsBytes,
} from './chain.ts';
export type { AuditEntry, AuditHead, AuditRecord } from './chain.ts';
export { firstSeqAtOrAfter, listAudit, maxAuditListLimit } from './list.ts';
export type { ListAuditOptions } from './list.ts';
export { inspectAuditHead } from './head.ts';
export type { AuditChainBreak, HeadInspection } from './head.ts';
export { maxReanchorReasonLength, reanchorAction, reanchorAudit } from './reanchor.ts';
export type { ReanchorInput } from './reanchor.ts';
export { maxReanchorNotes, verifyAudit } from './verify.ts';
export type { AuditReanchorNote, AuditVerification, VerifyAuditOptions } from './verify.ts';
export {
  auditCheckpointFormat,
  auditCheckpointSignatureDomain,
  checkpointKeyId,
  checkpointSignatureProblem,
  createAuditCheckpoint,
  maxCheckpointsPerFile,
  parseAuditCheckpoint,
  parseAuditCheckpoints,
} from './checkpoint.ts';
export type { AuditCheckpoint } from './checkpoint.ts';
export { createAuditMonitor } from './monitor.ts';
export type { AuditAlarmHandlers, AuditMonitor, AuditMonitorOptions } from './monitor.ts';
export { createCheckpointExporter } from './checkpoint-export.ts';
export type { CheckpointExportOptions, CheckpointExporter } from './checkpoint-export.ts';
export { canonicalJson } from './canonical-json.ts';
export type { JsonObject, JsonValue } from './canonical-json.ts';
