/** Paging through the audit log for the API, the CLI and the web UI. */
import type BetterSqlite3 from 'better-sqlite3';
import { VigoError } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import type { JsonObject } from './canonical-json.ts';
import type { AuditRecord } from './chain.ts';
import type { AuditRow } from './head.ts';

type ListStatement = BetterSqlite3.Statement<unknown[], AuditRow>;

const statementsByDb = new WeakMap<Db, Map<string, ListStatement>>();

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

function listStatement(db: Db, byAction: boolean, byActor: boolean, newestFirst: boolean): ListStatement {
  let cache = statementsByDb.get(db);
  if (!cache) {
    cache = new Map();
    statementsByDb.set(db, cache);
  }
  const key = `${byAction}/${byActor}/${newestFirst}`;
  let statement = cache.get(key);
  if (!statement) {
    const where = [newestFirst ? 'seq < @beforeSeq' : 'seq > @afterSeq'];
    if (byAction) where.push('action = @action');
    if (byActor) where.push('actor = @actor');
    statement = db.prepare<unknown[], AuditRow>(
      `SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
       WHERE ${where.join(' AND ')} ORDER BY seq ${newestFirst ? 'DESC' : ''} LIMIT @limit`,
    );
    cache.set(key, statement);
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

const atOrAfterStatements = new WeakMap<Db, BetterSqlite3.Statement<[number], number>>();

/**
 * The first seq whose entry was appended at or after `atMs` (one past the newest when none was): a time
 * bound turned into a seq bound, so a time-range query walks the primary key instead of every row. Entries
 * are appended in time order, so a binary search over seq finds it in about 40 point lookups at most.
 */
export function firstSeqAtOrAfter(db: Db, atMs: number, headSeq: number): number {
  let statement = atOrAfterStatements.get(db);
  if (statement === undefined) {
    statement = db
      .prepare<[number], number>('SELECT at FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1')
      .pluck();
    atOrAfterStatements.set(db, statement);
  }
  let low = 1;
  let high = headSeq + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const at = statement.get(mid);
    if (at === undefined || at >= atMs) high = mid;
    else low = mid + 1;
  }
  return low;
}
