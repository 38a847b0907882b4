/**
 * Each envoy's latest real (not dry) run, followed incrementally from the runs table for the dashboard's
 * convergence figure.
 */
import type { Db } from '../store/index.ts';

export interface LatestRun {
  readonly status: string;
  readonly policyVersion: number;
  readonly failed: number;
}

export interface LatestRuns {
  /** Each envoy's latest real (not dry) run known so far. */
  readonly runs: ReadonlyMap<string, LatestRun>;
  /** False while the reader is still catching up (the first views after a start on a large fleet). */
  readonly complete: boolean;
}

export interface LatestRunsReader {
  latest(): LatestRuns;
}

export interface LatestRunsOptions {
  /** New runs are read at most this often. */
  readonly maxAgeMs: number;
  /** Work one call may do before it returns what it has (0: a single step). */
  readonly budgetMs: number;
  /** Rows one step reads. */
  readonly chunkRows: number;
}

interface KnownRun extends LatestRun {
  readonly startedAt: number;
}

interface SeedRow extends KnownRun {
  readonly envoyId: string;
}

interface NewRow extends SeedRow {
  readonly seq: number;
  readonly dryRun: number;
}

const runColumns = `r.status AS status, r.policy_version AS policyVersion, r.resources_failed AS failed,
  r.started_at AS startedAt`;

/**
 * Each envoy's latest run, kept up to date without rereading history. It starts from one index seek per
 * envoy (runs_envoy_started, in envoy-id chunks: the cost grows with the fleet, not with the run history),
 * then follows the runs table by rowid, reading only rows added since. Every call stops after `budgetMs`,
 * so catching up on a large fleet takes a few views instead of stalling check-ins for one. A run that
 * arrives late (queued while its agent was offline) counts only if it started after what is known.
 */
export function createLatestRunsReader(
  db: Db,
  options: LatestRunsOptions,
  nowMs: () => number = Date.now,
): LatestRunsReader {
  const seed = db.prepare<[string, number], SeedRow>(
    `SELECT e.id AS envoyId, ${runColumns} FROM envoys e JOIN runs r ON r.id = (
       SELECT id FROM runs WHERE envoy_id = e.id AND dry_run = 0 ORDER BY started_at DESC LIMIT 1)
     WHERE e.id > ? ORDER BY e.id LIMIT ?`,
  );
  const added = db.prepare<[number, number], NewRow>(
    `SELECT r.rowid AS seq, r.envoy_id AS envoyId, r.dry_run AS dryRun, ${runColumns}
     FROM runs r WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?`,
  );
  const known = new Map<string, KnownRun>();
  // Rows up to here are covered by the seeding; anything added while it runs is read afterwards.
  let lastSeq = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM runs').pluck().get() ?? 0;
  let seedAfter: string | undefined = '';
  let caughtUp = false;
  let readAtMs: number | undefined;

  const remember = (envoyId: string, run: KnownRun): void => {
    const before = known.get(envoyId);
    if (before !== undefined && before.startedAt > run.startedAt) return;
    known.set(envoyId, {
      status: run.status,
      policyVersion: run.policyVersion,
      failed: run.failed,
      startedAt: run.startedAt,
    });
  };
  /** One chunk of work; true once nothing is left to read. */
  const step = (): boolean => {
    let rows = 0;
    if (seedAfter !== undefined) {
      for (const row of seed.iterate(seedAfter, options.chunkRows)) {
        rows += 1;
        seedAfter = row.envoyId;
        remember(row.envoyId, row);
      }
      if (rows < options.chunkRows) seedAfter = undefined;
      return false;
    }
    for (const row of added.iterate(lastSeq, options.chunkRows)) {
      rows += 1;
      lastSeq = row.seq;
      if (row.dryRun === 0) remember(row.envoyId, row);
    }
    return rows < options.chunkRows;
  };

  return {
    latest() {
      const now = nowMs();
      if (!caughtUp || readAtMs === undefined || now - readAtMs >= options.maxAgeMs) {
        readAtMs = now;
        const startedAt = performance.now();
        do caughtUp = step();
        while (!caughtUp && performance.now() - startedAt < options.budgetMs);
      }
      return { runs: known, complete: caughtUp };
    },
  };
}
