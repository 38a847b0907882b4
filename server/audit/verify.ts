/**
 * Walks the audit chain in seq order, one row at a time, and reports the first place it is broken. Runs in
 * one read transaction so a concurrent append cannot look like tampering.
 */
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { auditGenesisHash, auditHeadMetaKey, computeAuditHash } from './chain.ts';
import type { AuditRow } from './chain.ts';

export type AuditVerification =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | { readonly ok: false; readonly count: number; readonly brokenSeq: number; readonly reason: string };

interface Break {
  brokenSeq: number;
  reason: string;
  /** Set for a broken prev_hash link: the hash the row claims to follow, to tell reordering from editing. */
  claimedPrev?: string;
}

function short(hash: unknown): string {
  return typeof hash === 'string' ? `${hash.slice(0, 12)}…` : String(hash);
}

function checkDetails(row: AuditRow): unknown {
  const parsed: unknown = JSON.parse(row.details);
  if (canonicalJson(parsed) !== row.details)
    throw new Error('details are not in canonical form, so were rewritten');
  return parsed;
}

function checkRow(row: AuditRow, expectedSeq: number, prevHash: string): Break | undefined {
  const seq: unknown = row.seq;
  if (typeof seq !== 'number' || !Number.isInteger(seq)) {
    return {
      brokenSeq: expectedSeq,
      reason: `malformed seq ${String(seq)} where ${expectedSeq} was expected`,
    };
  }
  if (seq > expectedSeq) {
    return {
      brokenSeq: expectedSeq,
      reason: `gap: seq ${expectedSeq} is missing (the next entry is seq ${seq})`,
    };
  }
  if (seq < expectedSeq) {
    return {
      brokenSeq: Math.max(seq, 1),
      reason: `unexpected seq ${seq} where ${expectedSeq} was expected (duplicated, or the chain does not start at 1)`,
    };
  }
  if (row.prev_hash !== prevHash) {
    return {
      brokenSeq: seq,
      reason: `prev_hash mismatch: entry ${seq} links to ${short(row.prev_hash)} but entry ${seq - 1} has hash ${short(prevHash)}`,
      claimedPrev: String(row.prev_hash),
    };
  }
  let recomputed: string;
  try {
    const details = checkDetails(row);
    const { at, actor, action, target } = row;
    recomputed = computeAuditHash(prevHash, { seq, at, actor, action, target, details });
  } catch (err) {
    return { brokenSeq: seq, reason: `malformed entry: ${(err as Error).message}` };
  }
  if (recomputed !== row.hash) {
    return {
      brokenSeq: seq,
      reason: `hash mismatch: entry ${seq} was edited (stored ${short(row.hash)}, content hashes to ${short(recomputed)})`,
    };
  }
  return undefined;
}

/** A broken link whose prev_hash is another entry's hash means entries were moved, not edited. */
function explain(db: Db, found: Break): string {
  if (found.claimedPrev === undefined) return found.reason;
  const owner = db
    .prepare<[string], { seq: number }>('SELECT seq FROM audit_log WHERE hash = ? LIMIT 1')
    .get(found.claimedPrev);
  if (!owner) return found.reason;
  return `reordered: entry ${found.brokenSeq} links to entry ${owner.seq} instead of entry ${found.brokenSeq - 1}`;
}

function readHead(db: Db): { seq: number; hash: string } | 'malformed' | undefined {
  const value = db
    .prepare<[string], string>('SELECT value FROM meta WHERE key = ?')
    .pluck()
    .get(auditHeadMetaKey);
  if (value === undefined) return undefined;
  try {
    const head = JSON.parse(value) as { seq?: unknown; hash?: unknown };
    if (typeof head.seq === 'number' && typeof head.hash === 'string')
      return { seq: head.seq, hash: head.hash };
  } catch {
    // falls through: a head that is not JSON is as broken as one with the wrong fields
  }
  return 'malformed';
}

function checkHead(db: Db, count: number, lastHash: string): AuditVerification {
  const head = readHead(db);
  const fail = (brokenSeq: number, reason: string): AuditVerification => ({
    ok: false,
    count,
    brokenSeq,
    reason,
  });
  if (head === undefined) {
    if (count === 0) return { ok: true, count, headHash: auditGenesisHash };
    return fail(
      count,
      `the recorded chain head (meta "${auditHeadMetaKey}") is missing although ${count} entries exist`,
    );
  }
  if (head === 'malformed')
    return fail(count, `the recorded chain head (meta "${auditHeadMetaKey}") is malformed`);
  if (head.seq > count) {
    return fail(
      count + 1,
      `truncated: the chain ends at seq ${count} but its recorded head is seq ${head.seq}`,
    );
  }
  if (head.seq < count) {
    return fail(
      head.seq + 1,
      `entries after the recorded head (seq ${head.seq}) were added outside appendAudit`,
    );
  }
  if (head.hash !== lastHash) {
    return fail(
      count,
      `head mismatch: entry ${count} hashes to ${short(lastHash)}, the recorded head is ${short(head.hash)}`,
    );
  }
  return { ok: true, count, headHash: lastHash };
}

function walk(db: Db): AuditVerification {
  const rows = db
    .prepare<[], AuditRow>(
      'SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq',
    )
    .iterate();
  let count = 0;
  let prevHash = auditGenesisHash;
  let found: Break | undefined;
  for (const row of rows) {
    found = checkRow(row, count + 1, prevHash);
    // Leaving the loop ends the iteration, freeing the connection for explain() below.
    if (found) break;
    count += 1;
    prevHash = row.hash;
  }
  if (found) return { ok: false, count, brokenSeq: found.brokenSeq, reason: explain(db, found) };
  return checkHead(db, count, prevHash);
}

/**
 * Verifies seq contiguity from 1, every prev_hash link, every hash, and the recorded head. `count` is the
 * number of entries that verified (all of them when ok).
 */
export function verifyAudit(db: Db): AuditVerification {
  return db.transaction(() => walk(db)).deferred();
}
