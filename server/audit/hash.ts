/** The chain's fixed points: the genesis link, where the head is recorded, and how one entry is hashed. */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** prev_hash of the first entry. */
export const auditGenesisHash = '0'.repeat(64);
/** The `meta` key holding the chain head as JSON `{"seq":n,"hash":"…"}`. */
export const auditHeadMetaKey = 'audit.head';

/**
 * SHA-256 hex over `prevHash + "\n" + canonicalJson({seq, at, actor, action, target, details})`. Exported so
 * an operator can re-derive any entry's hash independently of this code.
 */
export function computeAuditHash(
  prevHash: string,
  fields: { seq: unknown; at: unknown; actor: unknown; action: unknown; target: unknown; details: unknown },
): string {
  const { seq, at, actor, action, target, details } = fields;
  const body = canonicalJson({ seq, at, actor, action, target, details });
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}
