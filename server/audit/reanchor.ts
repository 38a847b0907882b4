/**
 * The audited way out of a broken head. An admin who has looked at the damage re-anchors the chain: one
 * entry records the recorded head and the actual newest entry as they were found, with the admin's reason,
 * and links to that newest entry, so appends can continue. Nothing is rewritten or hidden: the entry stays in
 * the chain (every later hash covers it) and `verifyAudit` lists every re-anchoring it walks past.
 */
import { VigoError } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { auditDetailsText, writeAuditEntry } from './chain.ts';
import type { AuditRecord } from './chain.ts';
import { inspectAuditHead } from './head.ts';

export const reanchorAction = 'audit.reanchored';
export const maxReanchorReasonLength = 500;

export interface ReanchorInput {
  /** Who re-anchors, as actorName() spells it. */
  readonly actor: string;
  /** Why it is safe to continue: what the operator found and did about it. */
  readonly reason: string;
  /** Epoch ms; defaults to now. */
  readonly at?: number;
}

function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new VigoError(
      'request.invalid',
      'a re-anchoring needs a reason: say what was found and why the chain may continue',
      { field: 'reason' },
    );
  }
  if (reason.length > maxReanchorReasonLength) {
    throw new VigoError(
      'request.invalid',
      `the reason is longer than ${maxReanchorReasonLength} characters`,
      { field: 'reason' },
    );
  }
  return reason.trim();
}

/**
 * Appends the `audit.reanchored` entry after the actual newest entry and makes it the recorded head. Must run
 * in a write transaction. Refuses with `audit.not_broken` when the head is intact: there is nothing to
 * acknowledge, and a re-anchoring must always stand for a real break.
 */
export function reanchorAudit(db: Db, input: ReanchorInput): AuditRecord {
  if (!db.inTransaction) throw new Error('reanchorAudit must run inside store.tx(...)');
  const reason = checkReason(input.reason);
  const inspection = inspectAuditHead(db);
  if (inspection.intact) {
    throw new VigoError(
      'audit.not_broken',
      'the audit chain head matches its newest entry, so there is nothing to re-anchor; ' +
        'run "vigocli audit verify" to check the whole chain',
    );
  }
  const { damage } = inspection;
  const entry = {
    actor: input.actor,
    action: reanchorAction,
    target: 'audit',
    at: input.at,
    details: {
      reason,
      problem: damage.problem,
      recordedHead: damage.recordedHead,
      recordedHeadMalformed: damage.recordedHeadMalformed,
      lastEntry: damage.lastEntry,
    },
  };
  return writeAuditEntry(db, entry, auditDetailsText(entry), damage.lastEntry ?? undefined);
}
