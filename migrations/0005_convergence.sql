-- The convergence model (docs/convergence.md): each envoy's current failure and drift state, written in the
-- same transaction as the run that moved it, and an append-only history of its transitions. Every *_at
-- column is epoch milliseconds. Current reachability is not stored: it follows from last_seen_at and the
-- cadence; its transitions are in the history.

CREATE TABLE convergence_state (
  envoy_id TEXT PRIMARY KEY NOT NULL REFERENCES envoys (id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('converged', 'degraded', 'failed', 'no_data')),
  drift TEXT NOT NULL CHECK (drift IN ('none', 'changed', 'diverged')),
  -- Consecutive counted runs with changes, up to and including last_run_id.
  changed_streak INTEGER NOT NULL CHECK (changed_streak >= 0),
  last_run_id TEXT NOT NULL,
  -- Agent clock: the start of the last run counted; a run that started earlier does not count.
  last_run_started_at INTEGER NOT NULL,
  -- When status or drift last changed.
  since INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per transition: cause 'run' when a run changed the envoy's status or drift (the reachability
-- columns are NULL), 'reachability' when the fleet sweep saw it become online, stale or offline (run_id is
-- NULL; status and drift are its values at that moment, unchanged). run_id has no foreign key: runs are
-- pruned by age, their transitions stay.
CREATE TABLE convergence_history (
  seq INTEGER PRIMARY KEY,
  envoy_id TEXT NOT NULL REFERENCES envoys (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  cause TEXT NOT NULL CHECK (cause IN ('run', 'reachability')),
  run_id TEXT,
  from_status TEXT NOT NULL CHECK (from_status IN ('converged', 'degraded', 'failed', 'no_data')),
  to_status TEXT NOT NULL CHECK (to_status IN ('converged', 'degraded', 'failed', 'no_data')),
  from_drift TEXT NOT NULL CHECK (from_drift IN ('none', 'changed', 'diverged')),
  to_drift TEXT NOT NULL CHECK (to_drift IN ('none', 'changed', 'diverged')),
  from_reachability TEXT CHECK (from_reachability IN ('online', 'stale', 'offline')),
  to_reachability TEXT CHECK (to_reachability IN ('online', 'stale', 'offline')),
  changed_streak INTEGER NOT NULL CHECK (changed_streak >= 0),
  CHECK ((cause = 'run') = (run_id IS NOT NULL)),
  CHECK ((cause = 'reachability') = (from_reachability IS NOT NULL AND to_reachability IS NOT NULL))
) STRICT;

CREATE INDEX convergence_history_envoy ON convergence_history (envoy_id, seq DESC);
-- Retention pruning deletes by age across the whole fleet.
CREATE INDEX convergence_history_at ON convergence_history (at);
