/**
 * The fleet's converged share over a recent window, for the dashboard chart. It is rebuilt from the
 * transitions in convergence_history rather than stored: the window is cut into equal buckets, one grouped
 * range query on `convergence_history_at` sums each bucket's net change in converged and reporting envoys,
 * and the series is walked back from the current fleet totals. Reachability rows change neither count.
 * Envoys revoked within the window still have their transitions counted while the current totals leave
 * them out, so each point is clamped to what can be true (0 ≤ converged ≤ reporting).
 */
import type { Db } from '../store/index.ts';
import type { FleetConvergence } from './tally.ts';

export interface FleetConvergencePoint {
  readonly atMs: number;
  readonly converged: number;
  /** Envoys with a reported run (not no_data). */
  readonly reporting: number;
}

export const fleetHistoryLimits = { maxBuckets: 500 } as const;

export interface FleetConvergenceHistory {
  /** `buckets + 1` points from `nowMs - windowMs` to `nowMs`, oldest first; the last is `current`. */
  series(
    current: FleetConvergence,
    nowMs: number,
    windowMs: number,
    buckets: number,
  ): FleetConvergencePoint[];
}

interface BucketRow {
  bucket: number;
  converged: number;
  reporting: number;
}

export function createFleetConvergenceHistory(db: Db): FleetConvergenceHistory {
  const deltas = db.prepare<{ start: number; end: number; width: number }, BucketRow>(
    `SELECT CAST((at - @start - 1) / @width AS INTEGER) AS bucket,
            sum((to_status = 'converged') - (from_status = 'converged')) AS converged,
            sum((to_status <> 'no_data') - (from_status <> 'no_data')) AS reporting
       FROM convergence_history
      WHERE at > @start AND at <= @end
      GROUP BY bucket`,
  );
  return {
    series(current, nowMs, windowMs, buckets) {
      const count = Math.max(1, Math.min(fleetHistoryLimits.maxBuckets, Math.floor(buckets)));
      const width = Math.max(1, Math.ceil(windowMs / count));
      const start = nowMs - width * count;
      const byBucket = new Map<number, BucketRow>();
      for (const row of deltas.all({ start, end: nowMs, width })) byBucket.set(row.bucket, row);
      let converged = current.status.converged;
      let reporting = current.total - current.status.no_data;
      const points: FleetConvergencePoint[] = [];
      for (let i = count; i >= 0; i--) {
        const clampedReporting = Math.max(0, reporting);
        points.push({
          atMs: start + i * width,
          reporting: clampedReporting,
          converged: Math.min(clampedReporting, Math.max(0, converged)),
        });
        // The value before bucket i-1 started: undo what bucket i-1 changed.
        const row = byBucket.get(i - 1);
        if (row !== undefined) {
          converged -= row.converged;
          reporting -= row.reporting;
        }
      }
      return points.reverse();
    },
  };
}
