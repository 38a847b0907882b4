/**
 * The audit hash chain. Each entry's hash covers the previous entry's hash and the entry itself, so editing,
 * removing, inserting or reordering any entry breaks every link after it. The head (seq, hash) is also kept in
 * `meta`, written in the same transaction. Appends build on that recorded head and refuse to continue a chain
 * whose head does not match its newest entry (head.ts): otherwise the next append would link past removed
 * or forged entries and hide them from `verifyAudit` for good.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { VigoError } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical-json.ts';
import type { JsonObject } from './canonical-json.ts';
import { auditGenesisHash, auditHeadMetaKey, computeAuditHash } from './hash.ts';
import { inspectAuditHead } from './head.ts';
import type { AuditChainBreak, AuditHead } from './head.ts';

export { auditGenesisHash, auditHeadMetaKey, computeAuditHash } from './hash.ts';
export type { AuditHead, AuditRow } from './head.ts';

/** Audit details are a summary of a change, not a copy of it; this bounds one entry. */
export const maxAuditDetailsBytes = 64 * 1024;

const actionPattern = /^[a-z][a-z0-9_.-]*$/;
const maxActorLength = 256;
const maxActionLength = 128;
const maxTargetLength = 1024;

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details?: Record<string, unknown>;
  /** Epoch ms; defaults to now. */
  readonly at?: number;
}

export interface AuditRecord {
  readonly seq: number;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: JsonObject;
  readonly prevHash: string;
  readonly hash: string;
}

type Statement<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

interface AuditStatements {
  last: Statement<[], AuditHead>;
  insert: Statement<[number, number, string, string, string, string, string, string]>;
  writeHead: Statement<[string, string]>;
}

const statementsByDb = new WeakMap<Db, AuditStatements>();

function statements(db: Db): AuditStatements {
  let found = statementsByDb.get(db);
  if (!found) {
    found = {
      last: db.prepare<[], AuditHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(
        'INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      writeHead: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
    statementsByDb.set(db, found);
  }
  return found;
}

function invalid(entry: AuditEntry, problem: string): VigoError {
  const action = typeof entry.action === 'string' ? entry.action : '?';
  return new VigoError('audit.invalid_entry', `audit entry "${action}" is invalid: ${problem}`, { action });
}

function checkText(entry: AuditEntry, field: 'actor' | 'action' | 'target', maxLength: number): void {
  const value: unknown = entry[field];
  if (typeof value !== 'string') throw invalid(entry, `${field} must be a string`);
  if (value.length > maxLength) throw invalid(entry, `${field} is longer than ${maxLength} characters`);
}

/** Returns the canonical details text, or throws audit.invalid_entry saying what is wrong. */
export function auditDetailsText(entry: AuditEntry): string {
  checkText(entry, 'actor', maxActorLength);
  checkText(entry, 'action', maxActionLength);
  checkText(entry, 'target', maxTargetLength);
  if (entry.actor.trim() === '')
    throw invalid(entry, 'actor is empty; say who acted (e.g. "system", "user:ann")');
  if (!actionPattern.test(entry.action)) {
    throw invalid(
      entry,
      'action must be lower-case words like "config.published" (matching /^[a-z][a-z0-9_.-]*$/)',
    );
  }
  if (entry.at !== undefined && (!Number.isSafeInteger(entry.at) || entry.at < 0)) {
    throw invalid(
      entry,
      `at must be epoch milliseconds (a whole number, 0 or more), not ${String(entry.at)}`,
    );
  }
  const details: unknown = entry.details ?? {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw invalid(entry, 'details must be a plain object');
  }
  let text: string;
  try {
    text = canonicalJson(details);
  } catch (err) {
    throw invalid(entry, `details ${(err as Error).message.replace(/^\$/, 'at $')}`);
  }
  if (Buffer.byteLength(text) > maxAuditDetailsBytes) {
    throw invalid(
      entry,
      `details take ${Buffer.byteLength(text)} bytes, over the ${maxAuditDetailsBytes}-byte limit`,
    );
  }
  return text;
}

/** Told about every append refused because the chain is broken (the server's alarm listens here). */
export type AuditRefusalListener = (damage: AuditChainBreak, action: string) => void;

const listenersByDb = new WeakMap<Db, Set<AuditRefusalListener>>();

/** Calls `listener` for each refused append on `db`; returns the function that stops it. */
export function watchAuditRefusals(db: Db, listener: AuditRefusalListener): () => void {
  let listeners = listenersByDb.get(db);
  if (!listeners) {
    listeners = new Set();
    listenersByDb.set(db, listeners);
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function chainBrokenError(damage: AuditChainBreak, action: string): VigoError {
  return new VigoError(
    'audit.chain_broken',
    `"${action}" was refused because it cannot be audited: the audit chain is broken (${damage.problem}). ` +
      'Privileged actions stay refused until an admin records the break and continues the chain with ' +
      '"vigocli audit reanchor --reason TEXT" (the local admin on the server host can always do so)',
    { action, problem: damage.problem },
  );
}

function refusal(db: Db, damage: AuditChainBreak, action: string): VigoError {
  for (const listener of listenersByDb.get(db) ?? []) {
    try {
      listener(damage, action);
    } catch {
      // An alarm that fails must not turn the refusal into another error: the caller still gets chain_broken.
    }
  }
  return chainBrokenError(damage, action);
}

/**
 * The head an append would build on (undefined for an empty chain). Throws `audit.chain_broken`, and tells
 * the watchers, when the recorded head does not match the newest entry. Use cases with a side effect outside
 * the database (a vault file) call it before that side effect, inside their transaction.
 */
export function assertAuditWritable(db: Db, action: string): AuditHead | undefined {
  const inspection = inspectAuditHead(db);
  if (!inspection.intact) throw refusal(db, inspection.damage, action);
  return inspection.head;
}

/**
 * Writes one entry linked to `link` (undefined: the genesis) and records it as the head. Only appendAudit and
 * re-anchoring call it: nothing else may choose what an entry links to.
 */
export function writeAuditEntry(
  db: Db,
  entry: AuditEntry,
  detailsText: string,
  link: AuditHead | undefined,
): AuditRecord {
  const details = JSON.parse(detailsText) as JsonObject;
  const s = statements(db);
  const seq = (link?.seq ?? 0) + 1;
  const prevHash = link?.hash ?? auditGenesisHash;
  const at = entry.at ?? Date.now();
  const { actor, action, target } = entry;
  const hash = computeAuditHash(prevHash, { seq, at, actor, action, target, details });
  s.insert.run(seq, at, actor, action, target, detailsText, prevHash, hash);
  s.writeHead.run(auditHeadMetaKey, JSON.stringify({ seq, hash }));
  return { seq, at, actor, action, target, details, prevHash, hash };
}

/**
 * Appends an entry to the chain. Must run inside the transaction that makes the change it records, so the
 * two commit or roll back together; a bad entry throws, rolling the caller's change back with it. Reading the
 * head inside that write transaction keeps the chain linear even with several processes writing. A broken
 * head throws `audit.chain_broken`, so the change it would have recorded is refused too.
 */
export function appendAudit(db: Db, entry: AuditEntry): AuditRecord {
  if (!db.inTransaction) {
    throw new VigoError(
      'audit.invalid_entry',
      `audit entry "${String(entry.action)}" was appended outside a transaction: call appendAudit inside the ` +
        'same store.tx(...) as the change it records, so both commit or roll back together',
      { action: entry.action },
    );
  }
  const detailsText = auditDetailsText(entry);
  const head = assertAuditWritable(db, entry.action);
  return writeAuditEntry(db, entry, detailsText, head);
}

/** The newest entry's (seq, hash), or undefined for an empty chain. */
export function auditHead(db: Db): AuditHead | undefined {
  return statements(db).last.get();
}
