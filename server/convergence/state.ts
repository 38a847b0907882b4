/**
 * The convergence model of one envoy, as a pure function of its previous state and a run summary. Two axes
 * move with runs (failure and drift, docs/convergence.md has the exact definitions); reachability moves with
 * time and is computed by the fleet sweep (see `reachabilityOf`).
 */

export const convergenceStatuses = ['converged', 'degraded', 'failed', 'no_data'] as const;
export type ConvergenceStatus = (typeof convergenceStatuses)[number];

export const driftLevels = ['none', 'changed', 'diverged'] as const;
export type DriftLevel = (typeof driftLevels)[number];

export const reachabilities = ['online', 'stale', 'offline'] as const;
export type Reachability = (typeof reachabilities)[number];

/** Consecutive runs with changes after which an envoy's drift is `diverged`. */
export const divergedAfterRuns = 3;
/** A run is `failed` (not `degraded`) when at least this fraction of its applied resources failed. */
export const failedFraction = 0.5;
/** Unseen for more than this many cadences: offline (stale starts at the configured stale factor). */
export const offlineFactor = 10;

/** What a run did, counted by resource outcome (agent.proto ResourceOutcome). */
export interface RunSummary {
  readonly runId: string;
  readonly startedAtMs: number;
  readonly dryRun: boolean;
  /** NONE: already in the desired state. */
  readonly unchanged: number;
  /** CREATED, UPDATED, DELETED: brought back to the desired state. */
  readonly changed: number;
  readonly failed: number;
  /** BLOCKED: the executor refused to act (a guard or a failed dependency held it back). */
  readonly blocked: number;
  readonly skipped: number;
}

export interface ConvergenceState {
  readonly status: ConvergenceStatus;
  readonly drift: DriftLevel;
  /** Consecutive counted runs with at least one change, up to and including the last one. */
  readonly changedStreak: number;
  /** The last run counted ('' before the first). */
  readonly lastRunId: string;
  readonly lastRunStartedAtMs: number;
  /** When status or drift last changed (0 before the first run). */
  readonly sinceMs: number;
}

export const initialConvergence: ConvergenceState = {
  status: 'no_data',
  drift: 'none',
  changedStreak: 0,
  lastRunId: '',
  lastRunStartedAtMs: 0,
  sinceMs: 0,
};

export interface ConvergenceTransition {
  readonly from: { readonly status: ConvergenceStatus; readonly drift: DriftLevel };
  readonly to: { readonly status: ConvergenceStatus; readonly drift: DriftLevel };
  readonly runId: string;
  readonly atMs: number;
}

export interface ConvergenceStep {
  readonly state: ConvergenceState;
  /** Whether the run counted (false: a dry run, or one that started before the last run counted). */
  readonly counted: boolean;
  /** Set when status or drift changed. */
  readonly transition: ConvergenceTransition | undefined;
}

/** The failure axis of one run. */
export function runFailureStatus(run: RunSummary): Exclude<ConvergenceStatus, 'no_data'> {
  if (run.failed === 0) return 'converged';
  const applied = run.unchanged + run.changed + run.failed;
  return run.failed >= applied * failedFraction ? 'failed' : 'degraded';
}

function nextDrift(run: RunSummary, changedStreak: number): DriftLevel {
  if (run.blocked > 0 || changedStreak >= divergedAfterRuns) return 'diverged';
  return changedStreak > 0 ? 'changed' : 'none';
}

/**
 * The state after `run`. Dry runs change nothing on the envoy and do not count; neither does a run that
 * started before the last one counted (a late delivery from an agent's offline queue): the newest run wins.
 */
export function applyRun(state: ConvergenceState, run: RunSummary, atMs: number): ConvergenceStep {
  if (run.dryRun || (state.lastRunId !== '' && run.startedAtMs < state.lastRunStartedAtMs))
    return { state, counted: false, transition: undefined };
  const status = runFailureStatus(run);
  const changedStreak = run.changed > 0 ? state.changedStreak + 1 : 0;
  const drift = nextDrift(run, changedStreak);
  const moved = status !== state.status || drift !== state.drift;
  const next: ConvergenceState = {
    status,
    drift,
    changedStreak,
    lastRunId: run.runId,
    lastRunStartedAtMs: run.startedAtMs,
    sinceMs: moved ? atMs : state.sinceMs,
  };
  return {
    state: next,
    counted: true,
    transition: moved
      ? {
          from: { status: state.status, drift: state.drift },
          to: { status, drift },
          runId: run.runId,
          atMs,
        }
      : undefined,
  };
}

/**
 * An envoy's reachability at `nowMs`: online while seen within `staleFactor` cadences, stale after that,
 * offline after `offlineFactor` cadences or when it never checked in.
 */
export function reachabilityOf(
  lastSeenAtMs: number,
  cadenceMs: number,
  staleFactor: number,
  nowMs: number,
): Reachability {
  if (lastSeenAtMs === 0) return 'offline';
  const unseenMs = nowMs - lastSeenAtMs;
  if (unseenMs > Math.max(offlineFactor, staleFactor) * cadenceMs) return 'offline';
  return unseenMs > staleFactor * cadenceMs ? 'stale' : 'online';
}
