/** Reads an envoy's convergence transitions, newest first, a page at a time (index convergence_history_envoy). */
import type { Db } from '../store/index.ts';
import type { ConvergenceStatus, DriftLevel } from './state.ts';

export const historyLimits = { defaultLimit: 50, maxLimit: 500 } as const;

export interface ConvergenceHistoryItem {
  readonly seq: number;
  readonly at: string;
  readonly runId: string;
  readonly fromStatus: ConvergenceStatus;
  readonly status: ConvergenceStatus;
  readonly fromDrift: DriftLevel;
  readonly drift: DriftLevel;
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

interface HistoryRow {
  seq: number;
  at: number;
  run_id: string;
  from_status: ConvergenceStatus;
  to_status: ConvergenceStatus;
  from_drift: DriftLevel;
  to_drift: DriftLevel;
  changed_streak: number;
}

export function createConvergenceHistoryReader(db: Db): ConvergenceHistoryReader {
  const select = db.prepare<[string, number, number], HistoryRow>(
    `SELECT seq, at, run_id, from_status, to_status, from_drift, to_drift, changed_streak
       FROM convergence_history WHERE envoy_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
  );
  return {
    page(envoyId, limit, before) {
      const rows = select.all(envoyId, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
      const more = rows.length > limit;
      const items = rows.slice(0, limit).map((r) => ({
        seq: r.seq,
        at: new Date(r.at).toISOString(),
        runId: r.run_id,
        fromStatus: r.from_status,
        status: r.to_status,
        fromDrift: r.from_drift,
        drift: r.to_drift,
        changedStreak: r.changed_streak,
      }));
      return { items, nextBefore: more ? (items.at(-1)?.seq ?? null) : null };
    },
  };
}
