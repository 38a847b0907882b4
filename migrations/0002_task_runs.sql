-- Tasks the server dispatches over the agent stream: one task_runs row per operator request (an ad-hoc
-- command or a named task, its targets split into batches) and one task_targets row per envoy it reaches,
-- keyed by the task_id sent in its TaskDispatch. Every *_at column is epoch milliseconds.

CREATE TABLE task_runs (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('command', 'named')),
  command TEXT,
  task_name TEXT,
  params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  timeout_seconds INTEGER NOT NULL CHECK (timeout_seconds > 0),
  nice INTEGER NOT NULL CHECK (nice BETWEEN 0 AND 19),
  actor TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- The rolling settings as requested (batch size, max failures, canary, health check, pause), as JSON.
  rollout TEXT NOT NULL CHECK (json_valid(rollout)),
  batches INTEGER NOT NULL CHECK (batches > 0),
  -- The batch dispatched last (1-based); 0 before the first.
  current_batch INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'aborted', 'interrupted', 'expired')),
  -- Why the run stopped early (abort, failed health check, too many failures), for a person.
  message TEXT NOT NULL DEFAULT '',
  finished_at INTEGER,
  CHECK ((kind = 'command') = (command IS NOT NULL)),
  CHECK ((kind = 'named') = (task_name IS NOT NULL)),
  CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

CREATE INDEX task_runs_created_at ON task_runs (created_at);
CREATE INDEX task_runs_running ON task_runs (status) WHERE status = 'running';

CREATE TABLE task_targets (
  task_id TEXT PRIMARY KEY NOT NULL,
  task_run_id TEXT NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
  envoy_id TEXT NOT NULL REFERENCES envoys (id),
  hostname TEXT NOT NULL,
  batch INTEGER NOT NULL CHECK (batch > 0),
  state TEXT NOT NULL CHECK (state IN (
    'pending', 'dispatched', 'succeeded', 'failed', 'timed_out', 'rejected', 'expired', 'aborted')),
  -- When the dispatch was last written to the envoy's stream (NULL: not yet delivered).
  sent_at INTEGER,
  -- When the server stops waiting for the result of a delivered dispatch.
  deadline_at INTEGER,
  -- What the agent reported (its TaskStatus), NULL until a TaskResult arrived; later copies are ignored.
  reported TEXT CHECK (reported IS NULL OR reported IN ('succeeded', 'failed', 'timed_out', 'rejected')),
  exit_code INTEGER,
  stdout BLOB,
  stderr BLOB,
  truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
  -- Agent clock, as reported.
  started_at INTEGER,
  finished_at INTEGER,
  message TEXT NOT NULL DEFAULT '',
  UNIQUE (task_run_id, envoy_id)
) STRICT;

CREATE INDEX task_targets_run_batch ON task_targets (task_run_id, batch);
CREATE INDEX task_targets_envoy ON task_targets (envoy_id) WHERE state = 'dispatched';
