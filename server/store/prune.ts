/**
 * Deleting history past its retention (database.retention.*), in short transactions so the serving
 * thread's writes wait at most one of them for the lock. Each family deletes its oldest rows first, a
 * batch at a time; the batch grows or shrinks to keep each transaction near `targetTxnMs`. The audit log
 * is never pruned, nor is anything still in progress, nor an envoy's latest run (its state is read from it).
 */
import type Database from 'better-sqlite3';

export const pruneFamilies = ['runs', 'tasks', 'workflows', 'convergence_history', 'deliveries'] as const;
export type PruneFamily = (typeof pruneFamilies)[number];

/** Deletes rows older than the cutoff (ms since the epoch); a family without a cutoff keeps everything. */
export type PruneCutoffs = Partial<Record<PruneFamily, number>>;

export interface PruneReport {
  /** Top-level rows deleted per family (their cascaded children not counted). */
  readonly deleted: Record<PruneFamily, number>;
  readonly transactions: number;
  /** The longest single transaction: the longest the serving thread's writer could have waited. */
  readonly longestTxnMs: number;
  readonly ms: number;
  /** Whether it stopped before the end because it was asked to. */
  readonly interrupted: boolean;
}

export interface PruneOptions {
  /** Aim for transactions about this long (default 10 ms). */
  readonly targetTxnMs?: number;
  /** Asked between transactions: true stops the pass. */
  readonly shouldStop?: () => boolean;
  /** Runs between transactions, so the writer can take the lock (the worker yields to its event loop). */
  readonly between?: (lastTxnMs: number) => Promise<void>;
}

/**
 * One statement per family deleting at most `?` of the oldest rows older than `?`. The subqueries walk
 * an index in time order, so each batch costs the rows it deletes, not the table.
 */
const deleteSql: Record<PruneFamily, string> = {
  // An envoy's latest run is kept however old: its last result and convergence are read from it.
  runs: `DELETE FROM runs WHERE id IN (
      SELECT r.id FROM runs r
      WHERE r.started_at < ?
        AND EXISTS (SELECT 1 FROM runs n WHERE n.envoy_id = r.envoy_id AND n.started_at > r.started_at)
      ORDER BY r.started_at LIMIT ?)`,
  tasks: `DELETE FROM task_runs WHERE id IN (
      SELECT id FROM task_runs WHERE created_at < ? AND status <> 'running' ORDER BY created_at LIMIT ?)`,
  workflows: `DELETE FROM workflow_runs WHERE id IN (
      SELECT id FROM workflow_runs WHERE created_at < ? AND status <> 'running' ORDER BY created_at LIMIT ?)`,
  convergence_history: `DELETE FROM convergence_history WHERE seq IN (
      SELECT seq FROM convergence_history WHERE at < ? ORDER BY at LIMIT ?)`,
  deliveries: `DELETE FROM integration_deliveries WHERE id IN (
      SELECT id FROM integration_deliveries
      WHERE state <> 'pending' AND finished_at < ? ORDER BY finished_at LIMIT ?)`,
};

const firstBatch = 16;
const smallestBatch = 8;
const largestBatch = 4096;

export async function pruneHistory(
  db: Database.Database,
  cutoffs: PruneCutoffs,
  options: PruneOptions = {},
): Promise<PruneReport> {
  const targetMs = options.targetTxnMs ?? 10;
  const started = performance.now();
  const deleted = Object.fromEntries(pruneFamilies.map((family) => [family, 0])) as Record<
    PruneFamily,
    number
  >;
  let transactions = 0;
  let longestTxnMs = 0;
  for (const family of pruneFamilies) {
    const cutoff = cutoffs[family];
    if (cutoff === undefined) continue;
    const statement = db.prepare(deleteSql[family]);
    const batchOf = db.transaction((limit: number) => statement.run(cutoff, limit).changes);
    let batch = firstBatch;
    for (;;) {
      if (options.shouldStop?.() === true) return report(true);
      const txnStarted = performance.now();
      const changes = batchOf(batch);
      const txnMs = performance.now() - txnStarted;
      transactions += 1;
      longestTxnMs = Math.max(longestTxnMs, txnMs);
      deleted[family] += changes;
      if (changes < batch) break;
      batch =
        txnMs > targetMs
          ? Math.max(smallestBatch, Math.floor(batch / 2))
          : txnMs < targetMs / 2
            ? Math.min(largestBatch, batch * 2)
            : batch;
      await options.between?.(txnMs);
    }
  }
  return report(false);

  function report(interrupted: boolean): PruneReport {
    return { deleted, transactions, longestTxnMs, ms: performance.now() - started, interrupted };
  }
}

/** Cutoffs for `now` from retention periods in ms (0 keeps that family forever). */
export function cutoffsFor(retentionMs: Record<PruneFamily, number>, now: number): PruneCutoffs {
  const cutoffs: PruneCutoffs = {};
  for (const family of pruneFamilies) {
    const keep = retentionMs[family];
    if (keep > 0) cutoffs[family] = now - keep;
  }
  return cutoffs;
}
