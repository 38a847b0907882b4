/**
 * An envoy's convergence transitions: written by the results committer (cause `run`) and by the fleet
 * flusher (cause `reachability`), read newest first a page at a time (index convergence_history_envoy).
 */
import type { Db } from '../store/index.ts';
import type { ConvergenceStatus, DriftLevel, Reachability } from './state.ts';

export const historyLimits = { defaultLimit: 50, maxLimit: 500 } as const;

export type HistoryCause = 'run' | 'reachability';

export interface ConvergenceHistoryItem {
  readonly seq: number;
  readonly at: string;
  readonly cause: HistoryCause;
  /** The run that moved status or drift; null for a reachability transition. */
  readonly runId: string | null;
  readonly fromStatus: ConvergenceStatus;
  readonly status: ConvergenceStatus;
  readonly fromDrift: DriftLevel;
  readonly drift: DriftLevel;
  /** Null for a transition caused by a run. */
  readonly fromReachability: Reachability | null;
  readonly reachability: Reachability | null;
  readonly changedStreak: number;
}

export interface ConvergenceHistoryPage {
  readonly items: ConvergenceHistoryItem[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  readonly nextBefore: number | null;
}

export interface ConvergenceHistoryReader {
  page(envoyId: string, limit: number, before?: number): ConvergenceHistoryPage;
}

/** A reachability transition the fleet sweep saw, waiting for the next flush to store it. */
export interface ReachabilityChange {
  readonly envoyId: string;
  readonly atMs: number;
  readonly from: Reachability;
  readonly to: Reachability;
  readonly status: ConvergenceStatus;
  readonly drift: DriftLevel;
  readonly changedStreak: number;
}

interface HistoryRow {
  seq: number;
  at: number;
  cause: HistoryCause;
  run_id: string | null;
  from_status: ConvergenceStatus;
  to_status: ConvergenceStatus;
  from_drift: DriftLevel;
  to_drift: DriftLevel;
  from_reachability: Reachability | null;
  to_reachability: Reachability | null;
  changed_streak: number;
}

export function createConvergenceHistoryReader(db: Db): ConvergenceHistoryReader {
  const select = db.prepare<[string, number, number], HistoryRow>(
    `SELECT seq, at, cause, run_id, from_status, to_status, from_drift, to_drift, from_reachability,
            to_reachability, changed_streak
       FROM convergence_history WHERE envoy_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
  );
  return {
    page(envoyId, limit, before) {
      const rows = select.all(envoyId, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
      const more = rows.length > limit;
      const items = rows.slice(0, limit).map((r) => ({
        seq: r.seq,
        at: new Date(r.at).toISOString(),
        cause: r.cause,
        runId: r.run_id,
        fromStatus: r.from_status,
        status: r.to_status,
        fromDrift: r.from_drift,
        drift: r.to_drift,
        fromReachability: r.from_reachability,
        reachability: r.to_reachability,
        changedStreak: r.changed_streak,
      }));
      return { items, nextBefore: more ? (items.at(-1)?.seq ?? null) : null };
    },
  };
}

/** Writes one reachability transition (inside the caller's transaction). */
export function prepareReachabilityWriter(db: Db): (change: ReachabilityChange) => void {
  const insert = db.prepare(
    `INSERT INTO convergence_history (envoy_id, at, cause, run_id, from_status, to_status, from_drift, to_drift,
                                      from_reachability, to_reachability, changed_streak)
     VALUES (?, ?, 'reachability', NULL, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (c) => {
    insert.run(c.envoyId, c.atMs, c.status, c.status, c.drift, c.drift, c.from, c.to, c.changedStreak);
  };
}
