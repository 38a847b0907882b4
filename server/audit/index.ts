export {
  appendAudit,
  auditGenesisHash,
  auditHead,
  auditHeadMetaKey,
  computeAuditHash,
  listAudit,
  maxAuditDetailsBytes,
  maxAuditListLimit,
} from './chain.ts';
export type { AuditEntry, AuditHead, AuditRecord, ListAuditOptions } from './chain.ts';
export { verifyAudit } from './verify.ts';
export type { AuditVerification } from './verify.ts';
export { canonicalJson } from './canonical-json.ts';
export type { JsonObject, JsonValue } from './canonical-json.ts';
