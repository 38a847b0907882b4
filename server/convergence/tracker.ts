/**
 * Keeps each envoy's convergence state as runs arrive. The results committer hands every newly stored run
 * to `stage` inside its batch transaction: the new state and any transition are written in that same
 * transaction, so a run, its state and its history row are durable together or not at all. In-memory
 * states change only in `commit`, after the transaction; `rollback` forgets what was staged.
 */
import type { Db } from '../store/index.ts';
import { applyRun, initialConvergence } from './state.ts';
import type { ConvergenceState, ConvergenceTransition, RunSummary } from './state.ts';

/** Where an envoy's state lives in memory (an EnvoyEntry of the FleetIndex). */
export interface ConvergenceHolder {
  readonly id: string;
  readonly hostname: string;
  convergence: ConvergenceState;
}

export interface ConvergenceTransitionEvent {
  readonly envoyId: string;
  readonly hostname: string;
  readonly transition: ConvergenceTransition;
}

export interface ConvergenceTrackerOptions {
  readonly db: Db;
  readonly holder: (envoyId: string) => ConvergenceHolder | undefined;
  /** Told about each transition once its batch is durable. */
  readonly onTransition?: (event: ConvergenceTransitionEvent) => void;
  readonly now?: () => number;
}

/** One participant in a results batch. */
export interface ConvergenceTracker {
  /** Inside the batch transaction: the run was stored for the first time. */
  stage(envoyId: string, run: RunSummary): void;
  /** After the transaction committed: states change in memory and transitions are announced. */
  commit(): void;
  /** After the transaction rolled back. */
  rollback(): void;
}

interface StateRow {
  envoy_id: string;
  status: ConvergenceState['status'];
  drift: ConvergenceState['drift'];
  changed_streak: number;
  last_run_id: string;
  last_run_started_at: number;
  since: number;
}

function fromRow(row: StateRow): ConvergenceState {
  return {
    status: row.status,
    drift: row.drift,
    changedStreak: row.changed_streak,
    lastRunId: row.last_run_id,
    lastRunStartedAtMs: row.last_run_started_at,
    sinceMs: row.since,
  };
}

/** Puts every stored state on its holder (at boot, after the FleetIndex loaded). Returns how many. */
export function loadConvergenceStates(
  db: Db,
  holder: (envoyId: string) => ConvergenceHolder | undefined,
): number {
  let loaded = 0;
  const rows = db
    .prepare<[], StateRow>(
      `SELECT envoy_id, status, drift, changed_streak, last_run_id, last_run_started_at, since
         FROM convergence_state`,
    )
    .iterate();
  for (const row of rows) {
    const target = holder(row.envoy_id);
    if (target === undefined) continue;
    target.convergence = fromRow(row);
    loaded += 1;
  }
  return loaded;
}

export function createConvergenceTracker(options: ConvergenceTrackerOptions): ConvergenceTracker {
  const now = options.now ?? Date.now;
  const upsertState = options.db.prepare(
    `INSERT INTO convergence_state (envoy_id, status, drift, changed_streak, last_run_id, last_run_started_at, since)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (envoy_id) DO UPDATE SET status = excluded.status, drift = excluded.drift,
       changed_streak = excluded.changed_streak, last_run_id = excluded.last_run_id,
       last_run_started_at = excluded.last_run_started_at, since = excluded.since`,
  );
  const insertHistory = options.db.prepare(
    `INSERT INTO convergence_history (envoy_id, at, cause, run_id, from_status, to_status, from_drift, to_drift,
                                      changed_streak)
     VALUES (?, ?, 'run', ?, ?, ?, ?, ?, ?)`,
  );
  /** States staged in the open batch, by envoy: several runs of one envoy in a batch chain through it. */
  const staged = new Map<string, ConvergenceState>();
  const transitions: { envoyId: string; transition: ConvergenceTransition }[] = [];

  return {
    stage(envoyId, run) {
      const before = staged.get(envoyId) ?? options.holder(envoyId)?.convergence ?? initialConvergence;
      const step = applyRun(before, run, now());
      if (!step.counted) return;
      const s = step.state;
      upsertState.run(
        envoyId,
        s.status,
        s.drift,
        s.changedStreak,
        s.lastRunId,
        s.lastRunStartedAtMs,
        s.sinceMs,
      );
      if (step.transition !== undefined) {
        const t = step.transition;
        insertHistory.run(
          envoyId,
          t.atMs,
          t.runId,
          t.from.status,
          t.to.status,
          t.from.drift,
          t.to.drift,
          s.changedStreak,
        );
        transitions.push({ envoyId, transition: t });
      }
      staged.set(envoyId, s);
    },
    commit() {
      for (const [envoyId, state] of staged) {
        const target = options.holder(envoyId);
        if (target !== undefined) target.convergence = state;
      }
      staged.clear();
      const done = transitions.splice(0);
      if (options.onTransition === undefined) return;
      for (const { envoyId, transition } of done) {
        options.onTransition({ envoyId, hostname: options.holder(envoyId)?.hostname ?? '', transition });
      }
    },
    rollback() {
      staged.clear();
      transitions.length = 0;
    },
  };
}
