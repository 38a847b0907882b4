/**
 * The audit hash chain. Each entry's hash covers the previous entry's hash and the entry itself, so editing,
 * removing, inserting or reordering any entry breaks every link after it. The head (seq, hash) is also kept in
 * `meta`, written in the same transaction, so removing entries from the end is caught too.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { VigoError } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical-json.ts';
import type { JsonObject } from './canonical-json.ts';

/** prev_hash of the first entry. */
export const auditGenesisHash = '0'.repeat(64);
/** The `meta` key holding the chain head as JSON `{"seq":n,"hash":"…"}`. */
export const auditHeadMetaKey = 'audit.head';
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

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

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

type Statement<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

interface AuditStatements {
  last: Statement<[], AuditHead>;
  insert: Statement<[number, number, string, string, string, string, string, string]>;
  writeHead: Statement<[string, string]>;
  lists: Map<string, Statement<unknown[], AuditRow>>;
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
      lists: new Map(),
    };
    statementsByDb.set(db, found);
  }
  return found;
}

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
function validateEntry(entry: AuditEntry): string {
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

/**
 * Appends an entry to the chain. Must run inside the transaction that makes the change it records, so the
 * two commit or roll back together; a bad entry throws, rolling the caller's change back with it. Reading the
 * head inside that write transaction keeps the chain linear even with several processes writing.
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
  const detailsText = validateEntry(entry);
  const details = JSON.parse(detailsText) as JsonObject;
  const s = statements(db);
  const last = s.last.get();
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? auditGenesisHash;
  const at = entry.at ?? Date.now();
  const { actor, action, target } = entry;
  const hash = computeAuditHash(prevHash, { seq, at, actor, action, target, details });
  s.insert.run(seq, at, actor, action, target, detailsText, prevHash, hash);
  s.writeHead.run(auditHeadMetaKey, JSON.stringify({ seq, hash }));
  return { seq, at, actor, action, target, details, prevHash, hash };
}

/** The newest entry's (seq, hash), or undefined for an empty chain. */
export function auditHead(db: Db): AuditHead | undefined {
  return statements(db).last.get();
}

export interface ListAuditOptions {
  /** Return entries with seq above this (for paging: the last seq of the previous page). */
  readonly afterSeq?: number;
  /** Newest first: entries with seq below this (the oldest seq of the previous page); overrides afterSeq. */
  readonly beforeSeq?: number;
  /** 1 to 1000. */
  readonly limit: number;
  readonly action?: string;
  readonly actor?: string;
}

export const maxAuditListLimit = 1000;

function listStatement(
  db: Db,
  byAction: boolean,
  byActor: boolean,
  newestFirst: boolean,
): Statement<unknown[], AuditRow> {
  const s = statements(db);
  const key = `${byAction}/${byActor}/${newestFirst}`;
  let statement = s.lists.get(key);
  if (!statement) {
    const where = [newestFirst ? 'seq < @beforeSeq' : 'seq > @afterSeq'];
    if (byAction) where.push('action = @action');
    if (byActor) where.push('actor = @actor');
    statement = db.prepare<unknown[], AuditRow>(
      `SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
       WHERE ${where.join(' AND ')} ORDER BY seq ${newestFirst ? 'DESC' : ''} LIMIT @limit`,
    );
    s.lists.set(key, statement);
  }
  return statement;
}

/** One page of entries in seq order (or newest first with beforeSeq), optionally one action and/or actor. */
export function listAudit(db: Db, options: ListAuditOptions): AuditRecord[] {
  const afterSeq = options.afterSeq ?? 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new VigoError(
      'request.invalid',
      `afterSeq must be a whole number, 0 or more, not ${String(afterSeq)}`,
    );
  }
  if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > maxAuditListLimit) {
    throw new VigoError(
      'request.invalid',
      `limit must be a whole number from 1 to ${maxAuditListLimit}, not ${String(options.limit)}`,
    );
  }
  const byAction = options.action !== undefined;
  const byActor = options.actor !== undefined;
  const newestFirst = options.beforeSeq !== undefined;
  if (newestFirst && (!Number.isSafeInteger(options.beforeSeq) || (options.beforeSeq ?? 0) < 1)) {
    throw new VigoError(
      'request.invalid',
      `beforeSeq must be a whole number above 0, not ${String(options.beforeSeq)}`,
    );
  }
  const params: Record<string, unknown> = newestFirst
    ? { beforeSeq: options.beforeSeq, limit: options.limit }
    : { afterSeq, limit: options.limit };
  if (byAction) params.action = options.action;
  if (byActor) params.actor = options.actor;
  return listStatement(db, byAction, byActor, newestFirst)
    .all(params)
    .map((row) => ({
      seq: row.seq,
      at: row.at,
      actor: row.actor,
      action: row.action,
      target: row.target,
      details: JSON.parse(row.details) as JsonObject,
      prevHash: row.prev_hash,
      hash: row.hash,
    }));
}
