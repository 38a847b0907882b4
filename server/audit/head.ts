/**
 * The chain head as an append sees it. The recorded head (meta "audit.head") must name the newest entry,
 * and that entry's hash must recompute from its own fields; otherwise entries were removed, added, replaced
 * or edited at the end of the chain outside vigosrv. Appending on top of such a head would make the damage
 * invisible to `verifyAudit`, so appends refuse instead (see chain.ts) until an admin re-anchors the chain.
 * Two indexed reads and one SHA-256: cheap enough for every append, every scrape and every start.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { auditHeadMetaKey, computeAuditHash } from './hash.ts';

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** One stored row of audit_log, as SQLite returns it. */
export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** What the damage at the end of the chain looks like; JSON-safe, so it travels in events and entries. */
export interface AuditChainBreak {
  /** One sentence for operators: what is wrong, with seqs and short hashes. */
  readonly problem: string;
  /** The recorded head, or null when the meta row is missing or malformed. */
  readonly recordedHead: AuditHead | null;
  readonly recordedHeadMalformed: boolean;
  /** The newest stored entry, or null when the table is empty. */
  readonly lastEntry: AuditHead | null;
}

export type HeadInspection =
  | { readonly intact: true; readonly head: AuditHead | undefined }
  | { readonly intact: false; readonly damage: AuditChainBreak };

export function shortHash(hash: unknown): string {
  return typeof hash === 'string' ? `${hash.slice(0, 12)}…` : String(hash);
}

interface HeadStatements {
  readonly recorded: BetterSqlite3.Statement<[string], string>;
  readonly last: BetterSqlite3.Statement<[], AuditRow>;
}

const statementsByDb = new WeakMap<Db, HeadStatements>();

function statements(db: Db): HeadStatements {
  let found = statementsByDb.get(db);
  if (!found) {
    found = {
      recorded: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      last: db.prepare<[], AuditRow>(
        'SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
      ),
    };
    statementsByDb.set(db, found);
  }
  return found;
}

function readRecordedHead(db: Db): AuditHead | 'missing' | 'malformed' {
  const value = statements(db).recorded.get(auditHeadMetaKey);
  if (value === undefined) return 'missing';
  try {
    const head = JSON.parse(value) as { seq?: unknown; hash?: unknown };
    if (Number.isSafeInteger(head.seq) && typeof head.hash === 'string')
      return { seq: head.seq as number, hash: head.hash };
  } catch {
    // falls through: a head that is not JSON is as broken as one with the wrong fields
  }
  return 'malformed';
}

/** `recordedHead` as `verifyAudit` reads it: undefined when missing. */
export function recordedAuditHead(db: Db): AuditHead | 'malformed' | undefined {
  const head = readRecordedHead(db);
  return head === 'missing' ? undefined : head;
}

/**
 * The hash `row` should have, from its own fields and its own prev_hash; throws when its details are not
 * canonical JSON (so were rewritten) or a field cannot be hashed.
 */
export function recomputeRowHash(row: AuditRow): string {
  const parsed: unknown = JSON.parse(row.details);
  if (canonicalJson(parsed) !== row.details)
    throw new Error('details are not in canonical form, so were rewritten');
  const { seq, at, actor, action, target } = row;
  return computeAuditHash(row.prev_hash, { seq, at, actor, action, target, details: parsed });
}

function lastRowProblem(row: AuditRow): string | undefined {
  try {
    const recomputed = recomputeRowHash(row);
    if (recomputed === row.hash) return undefined;
    return (
      `the newest entry (seq ${row.seq}) was edited: it is stored with hash ${shortHash(row.hash)}, ` +
      `its content hashes to ${shortHash(recomputed)}`
    );
  } catch (err) {
    return `the newest entry (seq ${row.seq}) is malformed: ${(err as Error).message}`;
  }
}

function headProblem(
  recorded: AuditHead | 'missing' | 'malformed',
  last: AuditRow | undefined,
): string | undefined {
  if (recorded === 'malformed') return `the recorded chain head (meta "${auditHeadMetaKey}") is malformed`;
  if (recorded === 'missing') {
    return last === undefined
      ? undefined
      : `the recorded chain head (meta "${auditHeadMetaKey}") is missing although entries exist up to seq ${last.seq}`;
  }
  if (last === undefined)
    return `every entry was removed: the recorded head is seq ${recorded.seq} but the chain is empty`;
  if (recorded.seq > last.seq) {
    return (
      `entries after seq ${last.seq} were removed: the recorded head is seq ${recorded.seq} ` +
      `(${shortHash(recorded.hash)})`
    );
  }
  if (recorded.seq < last.seq) {
    const added =
      last.seq === recorded.seq + 1
        ? `entry ${last.seq} was`
        : `entries ${recorded.seq + 1} to ${last.seq} were`;
    return `${added} added outside vigosrv: the recorded head is seq ${recorded.seq} (${shortHash(recorded.hash)})`;
  }
  if (recorded.hash !== last.hash) {
    return (
      `the newest entry (seq ${last.seq}) was replaced: its hash is ${shortHash(last.hash)}, ` +
      `the recorded head says ${shortHash(recorded.hash)}`
    );
  }
  return undefined;
}

/** Compares the recorded head with the newest entry, and that entry with its own hash. */
export function inspectAuditHead(db: Db): HeadInspection {
  const recorded = readRecordedHead(db);
  const last = statements(db).last.get();
  const problem = headProblem(recorded, last) ?? (last === undefined ? undefined : lastRowProblem(last));
  const lastEntry = last === undefined ? null : { seq: last.seq, hash: last.hash };
  if (problem === undefined) return { intact: true, head: lastEntry ?? undefined };
  return {
    intact: false,
    damage: {
      problem,
      recordedHead: typeof recorded === 'string' ? null : recorded,
      recordedHeadMalformed: recorded === 'malformed',
      lastEntry,
    },
  };
}
