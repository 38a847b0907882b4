/**
 * The durable delivery queue (table integration_deliveries, migrations/0008_integrations.sql). Enqueues
 * arrive in groups, one transaction each; a target's pending rows are bounded (the oldest is moved to dead
 * with the reason when a new one would exceed the bound). Each target's pending count is kept in memory,
 * loaded at start, so neither the bound nor the queue-depth gauge counts rows.
 *
 * Rows that were being delivered when the server stopped are still pending and are sent again after a
 * restart: delivery is at least once, and the delivery id lets a receiver drop a repeat.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Store } from '../store/index.ts';

export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** One event as a sink sends it: the bus event plus its severity. */
export interface DeliveryPayload {
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly severity: string;
  readonly subject?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface NewDelivery {
  readonly target: string;
  readonly payload: DeliveryPayload;
  /** When the first try may happen (now, or later for an e-mail digest). */
  readonly dueAtMs: number;
  /** A delivery id chosen by the caller (to audit it before the row exists); a new UUID otherwise. */
  readonly deliveryId?: string;
}

export interface Delivery {
  readonly rowId: number;
  readonly deliveryId: string;
  readonly target: string;
  readonly attempts: number;
  readonly createdAtMs: number;
  readonly payload: DeliveryPayload;
}

export interface Settlement {
  readonly rowId: number;
  readonly state: DeliveryState;
  /** Attempts made so far, this one included. */
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly error: string | undefined;
}

export interface TargetHistory {
  readonly lastSuccessAtMs: number | undefined;
  readonly lastErrorAtMs: number | undefined;
  readonly lastError: string | undefined;
}

export interface DeliveryQueue {
  /** Writes the group in one transaction; returns the rows dropped (dead) per target to respect bounds. */
  enqueue(items: readonly NewDelivery[]): { deliveryIds: string[]; dropped: Map<string, number> };
  /** Due pending deliveries of a target, oldest first, leaving out rows already being sent. */
  due(target: string, nowMs: number, limit: number, busy: ReadonlySet<number>): Delivery[];
  /** The earliest next_attempt_at of a target's pending rows. */
  nextDueMs(target: string): number | undefined;
  /** Records what came of a batch's tries, in one transaction. */
  settle(target: string, settlements: readonly Settlement[]): void;
  depth(target: string): number;
  history(target: string): TargetHistory;
  state(
    deliveryId: string,
  ): { state: DeliveryState; attempts: number; error: string | undefined } | undefined;
}

interface DueRow {
  id: number;
  delivery_id: string;
  target: string;
  attempts: number;
  created_at: number;
  payload: string;
}

export function createDeliveryQueue(
  store: Store,
  options: { maxQueue: (target: string) => number; now?: () => number },
): DeliveryQueue {
  const db: Db = store.db;
  const now = options.now ?? Date.now;
  const insert = db.prepare(
    `INSERT INTO integration_deliveries
       (delivery_id, target, event_id, event_type, payload, state, attempts, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
  );
  const dropOldest = db.prepare(
    `UPDATE integration_deliveries SET state = 'dead', finished_at = ?, last_error = ?
     WHERE id IN (SELECT id FROM integration_deliveries WHERE target = ? AND state = 'pending'
                  ORDER BY id LIMIT ?)`,
  );
  const selectDue = db.prepare(
    `SELECT id, delivery_id, target, attempts, created_at, payload FROM integration_deliveries
     WHERE target = ? AND state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
  );
  const selectNextDue = db
    .prepare(`SELECT MIN(next_attempt_at) FROM integration_deliveries WHERE target = ? AND state = 'pending'`)
    .pluck();
  const update = db.prepare(
    `UPDATE integration_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
       finished_at = ? WHERE id = ? AND state = 'pending'`,
  );
  const countPending = db.prepare(
    `SELECT target, COUNT(*) AS n FROM integration_deliveries WHERE state = 'pending' GROUP BY target`,
  );
  const lastSuccess = db
    .prepare(`SELECT MAX(finished_at) FROM integration_deliveries WHERE target = ? AND state = 'delivered'`)
    .pluck();
  const lastFailure = db.prepare(
    `SELECT finished_at, next_attempt_at, attempts, last_error FROM integration_deliveries
     WHERE target = ? AND last_error IS NOT NULL ORDER BY COALESCE(finished_at, 0) DESC, id DESC LIMIT 1`,
  );
  const selectState = db.prepare(
    `SELECT state, attempts, last_error FROM integration_deliveries WHERE delivery_id = ?`,
  );

  const depths = new Map<string, number>();
  for (const row of countPending.all() as { target: string; n: number }[]) depths.set(row.target, row.n);
  const histories = new Map<string, TargetHistory>();

  const historyFromDb = (target: string): TargetHistory => {
    const success = lastSuccess.get(target) as number | null;
    const failure = lastFailure.get(target) as
      { finished_at: number | null; attempts: number; last_error: string } | undefined;
    return {
      lastSuccessAtMs: success ?? undefined,
      lastErrorAtMs: failure === undefined ? undefined : (failure.finished_at ?? undefined),
      lastError: failure?.last_error,
    };
  };

  return {
    enqueue(items) {
      const at = now();
      const deliveryIds: string[] = [];
      const dropped = new Map<string, number>();
      store.tx(() => {
        const added = new Map<string, number>();
        for (const item of items) {
          const deliveryId = item.deliveryId ?? randomUUID();
          deliveryIds.push(deliveryId);
          insert.run(
            deliveryId,
            item.target,
            item.payload.id,
            item.payload.type,
            JSON.stringify(item.payload),
            at,
            item.dueAtMs,
          );
          added.set(item.target, (added.get(item.target) ?? 0) + 1);
        }
        for (const [target, count] of added) {
          const depth = (depths.get(target) ?? 0) + count;
          const max = options.maxQueue(target);
          if (depth > max) {
            const excess = depth - max;
            dropOldest.run(at, `dropped: the queue of ${target} was full (max_queue ${max})`, target, excess);
            dropped.set(target, excess);
          }
        }
      });
      // Only once committed: a rolled-back group changes no count.
      for (const item of items) depths.set(item.target, (depths.get(item.target) ?? 0) + 1);
      for (const [target, count] of dropped) depths.set(target, (depths.get(target) ?? 0) - count);
      return { deliveryIds, dropped };
    },
    due(target, nowMs, limit, busy) {
      const rows = selectDue.all(target, nowMs, limit + busy.size) as DueRow[];
      return rows
        .filter((row) => !busy.has(row.id))
        .slice(0, limit)
        .map((row) => ({
          rowId: row.id,
          deliveryId: row.delivery_id,
          target: row.target,
          attempts: row.attempts,
          createdAtMs: row.created_at,
          payload: JSON.parse(row.payload) as DeliveryPayload,
        }));
    },
    nextDueMs(target) {
      const value = selectNextDue.get(target) as number | null;
      return value ?? undefined;
    },
    settle(target, settlements) {
      const at = now();
      let finished = 0;
      store.tx(() => {
        for (const s of settlements) {
          const done = s.state !== 'pending';
          const changed = update.run(
            s.state,
            s.attempts,
            s.nextAttemptAtMs,
            s.error ?? null,
            done ? at : null,
            s.rowId,
          ).changes;
          if (done && changed > 0) finished += 1;
        }
      });
      depths.set(target, Math.max(0, (depths.get(target) ?? 0) - finished));
      const previous = histories.get(target) ?? historyFromDb(target);
      const failed = settlements.find((s) => s.error !== undefined);
      histories.set(target, {
        lastSuccessAtMs: settlements.some((s) => s.state === 'delivered') ? at : previous.lastSuccessAtMs,
        lastErrorAtMs: failed === undefined ? previous.lastErrorAtMs : at,
        lastError: failed === undefined ? previous.lastError : failed.error,
      });
    },
    depth: (target) => depths.get(target) ?? 0,
    history(target) {
      let history = histories.get(target);
      if (history === undefined) {
        history = historyFromDb(target);
        histories.set(target, history);
      }
      return history;
    },
    state(deliveryId) {
      const row = selectState.get(deliveryId) as
        { state: DeliveryState; attempts: number; last_error: string | null } | undefined;
      return row === undefined
        ? undefined
        : { state: row.state, attempts: row.attempts, error: row.last_error ?? undefined };
    },
  };
}
