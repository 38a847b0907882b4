/**
 * Walks the audit chain in seq order, one row at a time, and reports the first place it is broken. Runs in
 * one read transaction so a concurrent append cannot look like tampering. Given anchors (the seq and head
 * hash of signed checkpoints), it also checks that the chain still holds exactly those entries: a rewrite
 * that recomputed every hash and the recorded head, or a truncation, verifies on its own but not against a
 * checkpoint taken before it.
 */
import type { Db } from '../store/index.ts';
import { auditGenesisHash, auditHeadMetaKey } from './hash.ts';
import { recomputeRowHash, recordedAuditHead, shortHash } from './head.ts';
import type { AuditHead, AuditRow } from './head.ts';
import { reanchorAction } from './reanchor.ts';

/** A re-anchoring recorded in the chain: the break it acknowledged stays visible in every verification. */
export interface AuditReanchorNote {
  readonly seq: number;
  /** Epoch ms. */
  readonly at: number;
  readonly actor: string;
  readonly reason: string;
  readonly problem: string;
}

interface VerificationFacts {
  /** Entries that verified (all of them when ok). */
  readonly count: number;
  /** Re-anchorings among the verified entries, oldest first (at most `maxReanchorNotes`). */
  readonly reanchored?: readonly AuditReanchorNote[];
  /** How many anchors were checked, when anchors were given. */
  readonly anchorsChecked?: number;
}

export type AuditVerification =
  | (VerificationFacts & { readonly ok: true; readonly headHash: string })
  | (VerificationFacts & { readonly ok: false; readonly brokenSeq: number; readonly reason: string });

export interface VerifyAuditOptions {
  /** (seq, hash) pairs the chain must still hold: seq 0 is the genesis hash. */
  readonly anchors?: readonly AuditHead[];
}

export const maxReanchorNotes = 100;

interface Break {
  brokenSeq: number;
  reason: string;
  /** Set for a broken prev_hash link: the hash the row claims to follow, to tell reordering from editing. */
  claimedPrev?: string;
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
      reason: `prev_hash mismatch: entry ${seq} links to ${shortHash(row.prev_hash)} but entry ${seq - 1} has hash ${shortHash(prevHash)}`,
      claimedPrev: String(row.prev_hash),
    };
  }
  let recomputed: string;
  try {
    recomputed = recomputeRowHash(row);
  } catch (err) {
    return { brokenSeq: seq, reason: `malformed entry: ${(err as Error).message}` };
  }
  if (recomputed !== row.hash) {
    return {
      brokenSeq: seq,
      reason: `hash mismatch: entry ${seq} was edited (stored ${shortHash(row.hash)}, content hashes to ${shortHash(recomputed)})`,
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

function headBreak(db: Db, count: number, lastHash: string): Break | undefined {
  const head = recordedAuditHead(db);
  if (head === undefined) {
    if (count === 0) return undefined;
    return {
      brokenSeq: count,
      reason: `the recorded chain head (meta "${auditHeadMetaKey}") is missing although ${count} entries exist`,
    };
  }
  if (head === 'malformed')
    return { brokenSeq: count, reason: `the recorded chain head (meta "${auditHeadMetaKey}") is malformed` };
  if (head.seq > count) {
    return {
      brokenSeq: count + 1,
      reason: `truncated: the chain ends at seq ${count} but its recorded head is seq ${head.seq}`,
    };
  }
  if (head.seq < count) {
    return {
      brokenSeq: head.seq + 1,
      reason: `entries after the recorded head (seq ${head.seq}) were added outside appendAudit`,
    };
  }
  if (head.hash !== lastHash) {
    return {
      brokenSeq: count,
      reason: `head mismatch: entry ${count} hashes to ${shortHash(lastHash)}, the recorded head is ${shortHash(head.hash)}`,
    };
  }
  return undefined;
}

function reanchorNote(row: AuditRow): AuditReanchorNote {
  let details: { reason?: unknown; problem?: unknown } = {};
  try {
    details = JSON.parse(row.details) as typeof details;
  } catch {
    // the row verified, so its details are canonical JSON; this only guards the types below
  }
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    reason: typeof details.reason === 'string' ? details.reason : '',
    problem: typeof details.problem === 'string' ? details.problem : '',
  };
}

/** The anchors by seq; anchors naming the same seq with different hashes cannot all hold. */
class AnchorCheck {
  readonly #bySeq = new Map<number, Set<string>>();
  #failure: Break | undefined;
  readonly #maxSeq: number;
  readonly size: number;

  constructor(anchors: readonly AuditHead[]) {
    for (const { seq, hash } of anchors) {
      const hashes = this.#bySeq.get(seq) ?? new Set<string>();
      hashes.add(hash);
      this.#bySeq.set(seq, hashes);
    }
    this.size = anchors.length;
    this.#maxSeq = anchors.reduce((max, anchor) => Math.max(max, anchor.seq), 0);
    this.#match(0, auditGenesisHash);
  }

  /** Records the first (lowest seq) anchor the entry `seq` with `hash` contradicts. */
  #match(seq: number, hash: string): void {
    const expected = this.#bySeq.get(seq);
    if (expected === undefined || this.#failure !== undefined) return;
    const other = [...expected].find((h) => h !== hash);
    if (other === undefined) return;
    this.#failure = {
      brokenSeq: Math.max(seq, 1),
      reason:
        `rewritten: entry ${seq} now has hash ${shortHash(hash)}, but a checkpoint recorded ${shortHash(other)} ` +
        'at that seq, so the chain up to there was replaced after the checkpoint was taken',
    };
  }

  see(row: AuditRow): void {
    this.#match(row.seq, row.hash);
  }

  /** The first (lowest seq) anchor an entry contradicted. */
  contradiction(): Break | undefined {
    return this.#failure;
  }

  /** After a walk that reached the end: an anchor beyond the chain's last entry. */
  beyond(count: number): Break | undefined {
    const beyond = this.#maxSeq;
    if (beyond <= count) return undefined;
    return {
      brokenSeq: count + 1,
      reason: `truncated: the chain ends at seq ${count}, but a checkpoint recorded seq ${beyond}`,
    };
  }
}

function walk(db: Db, anchors: AnchorCheck | undefined): AuditVerification {
  const rows = db
    .prepare<[], AuditRow>(
      'SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq',
    )
    .iterate();
  let count = 0;
  let prevHash = auditGenesisHash;
  let found: Break | undefined;
  const reanchored: AuditReanchorNote[] = [];
  for (const row of rows) {
    found = checkRow(row, count + 1, prevHash);
    // Leaving the loop ends the iteration, freeing the connection for explain() below.
    if (found) break;
    count += 1;
    prevHash = row.hash;
    anchors?.see(row);
    if (row.action === reanchorAction && reanchored.length < maxReanchorNotes)
      reanchored.push(reanchorNote(row));
  }
  const facts: VerificationFacts = {
    count,
    ...(reanchored.length > 0 ? { reanchored } : {}),
    ...(anchors === undefined ? {} : { anchorsChecked: anchors.size }),
  };
  const chainBreak = found
    ? { brokenSeq: found.brokenSeq, reason: explain(db, found) }
    : headBreak(db, count, prevHash);
  const anchorBreak = anchors?.contradiction() ?? (found ? undefined : anchors?.beyond(count));
  // Both can hold (a rewrite behind a checkpoint, then a later edit); the earlier one is reported.
  const broken =
    anchorBreak !== undefined && (chainBreak === undefined || anchorBreak.brokenSeq < chainBreak.brokenSeq)
      ? anchorBreak
      : chainBreak;
  if (broken) return { ok: false, ...facts, brokenSeq: broken.brokenSeq, reason: broken.reason };
  return { ok: true, ...facts, headHash: prevHash };
}

/**
 * Verifies seq contiguity from 1, every prev_hash link, every hash, the recorded head and, when given, that
 * every anchor still holds. `count` is the number of entries that verified (all of them when ok).
 */
export function verifyAudit(db: Db, options: VerifyAuditOptions = {}): AuditVerification {
  const anchors = options.anchors === undefined ? undefined : new AnchorCheck(options.anchors);
  return db.transaction(() => walk(db, anchors)).deferred();
}
