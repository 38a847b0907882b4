-- The schema after every migration, as recorded in sqlite_master. Generated, do not edit:
-- node --import tsx server/store/write-schema-snapshot.ts

-- table api_tokens
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY NOT NULL CHECK (substr(id, 1, 4) = 'tok_'),
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  -- SHA-256, not bcrypt: the token is checked on every API request and is already high-entropy.
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;

-- index api_tokens_user_id
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- table audit_log
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY CHECK (seq > 0),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL CHECK (length(actor) > 0),
  action TEXT NOT NULL CHECK (length(action) > 0),
  target TEXT NOT NULL,
  details TEXT NOT NULL CHECK (json_valid(details)),
  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;

-- index audit_log_action
CREATE INDEX audit_log_action ON audit_log (action, seq);

-- index audit_log_actor
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- trigger audit_log_no_delete
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;

-- trigger audit_log_no_update
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

-- table compliance_outcomes
CREATE TABLE compliance_outcomes (
  envoy_id TEXT NOT NULL REFERENCES envoys (id) ON DELETE CASCADE,
  configcrate TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('none', 'created', 'updated', 'deleted', 'skipped', 'blocked', 'failed')),
  run_id TEXT NOT NULL,
  -- Agent clock: the start of the run that reported it; an older run does not replace it.
  run_started_at INTEGER NOT NULL,
  PRIMARY KEY (envoy_id, configcrate, resource_id)
) STRICT, WITHOUT ROWID;

-- table compliance_waiver_expiries
CREATE TABLE compliance_waiver_expiries (
  waiver_id TEXT PRIMARY KEY NOT NULL,
  framework TEXT NOT NULL,
  control TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  announced_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- table config_snapshots
CREATE TABLE config_snapshots (
  hash TEXT PRIMARY KEY NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

-- table config_sources
CREATE TABLE config_sources (
  snapshot_hash TEXT PRIMARY KEY NOT NULL REFERENCES config_snapshots (hash),
  form TEXT NOT NULL CHECK (form IN ('publish', 'validate')),
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

-- table config_versions
CREATE TABLE config_versions (
  version INTEGER PRIMARY KEY CHECK (version > 0),
  snapshot_hash TEXT NOT NULL REFERENCES config_snapshots (hash),
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'superseded', 'rejected', 'rolled_back')),
  message TEXT,
  approved_by TEXT,
  approved_at INTEGER,
  source TEXT
) STRICT;

-- index config_versions_one_active
CREATE UNIQUE INDEX config_versions_one_active ON config_versions (status) WHERE status = 'active';

-- index config_versions_snapshot_hash
CREATE INDEX config_versions_snapshot_hash ON config_versions (snapshot_hash);

-- table convergence_history
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

-- index convergence_history_at
CREATE INDEX convergence_history_at ON convergence_history (at);

-- index convergence_history_envoy
CREATE INDEX convergence_history_envoy ON convergence_history (envoy_id, seq DESC);

-- table convergence_state
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

-- table enrollment_tokens
CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  secret_hash TEXT NOT NULL,
  hostname_globs TEXT NOT NULL CHECK (json_valid(hostname_globs) AND json_type(hostname_globs) = 'array'),
  uses_allowed INTEGER NOT NULL CHECK (uses_allowed > 0),
  uses_count INTEGER NOT NULL DEFAULT 0 CHECK (uses_count >= 0 AND uses_count <= uses_allowed),
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER,
  description TEXT
) STRICT;

-- index enrollment_tokens_expires_at
CREATE INDEX enrollment_tokens_expires_at ON enrollment_tokens (expires_at);

-- table envoys
CREATE TABLE envoys (
  id TEXT PRIMARY KEY NOT NULL,
  hostname TEXT NOT NULL CHECK (length(hostname) BETWEEN 1 AND 253),
  public_key BLOB NOT NULL CHECK (length(public_key) = 32),
  cert_serial TEXT,
  cert_fingerprint TEXT CHECK (cert_fingerprint IS NULL OR length(cert_fingerprint) = 64),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  enrolled_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_seen_at INTEGER,
  -- Replay defence: a signed request is accepted only with a timestamp above this one.
  last_ts_ms INTEGER NOT NULL DEFAULT 0,
  policy_version INTEGER NOT NULL DEFAULT 0,
  state_fingerprint TEXT,
  traits_hash TEXT REFERENCES traits (hash),
  interval_ms INTEGER CHECK (interval_ms IS NULL OR interval_ms > 0),
  observe_only INTEGER NOT NULL DEFAULT 0 CHECK (observe_only IN (0, 1)),
  force_push INTEGER NOT NULL DEFAULT 0 CHECK (force_push IN (0, 1)),
  environment TEXT,
  agent_version TEXT,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
) STRICT;

-- index envoys_active_hostname
CREATE UNIQUE INDEX envoys_active_hostname ON envoys (hostname) WHERE status = 'active';

-- index envoys_last_seen_at
CREATE INDEX envoys_last_seen_at ON envoys (last_seen_at);

-- index envoys_traits_hash
CREATE INDEX envoys_traits_hash ON envoys (traits_hash);

-- table integration_deliveries
CREATE TABLE integration_deliveries (
  id INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL UNIQUE,
  target TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  finished_at INTEGER
) STRICT;

-- index integration_deliveries_due
CREATE INDEX integration_deliveries_due ON integration_deliveries (target, state, next_attempt_at, id);

-- index integration_deliveries_finished
CREATE INDEX integration_deliveries_finished ON integration_deliveries (state, finished_at)
  WHERE state <> 'pending';

-- table meta
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;

-- table run_results
CREATE TABLE run_results (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL CHECK (seq >= 0),
  resource_id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  configcrate TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('none', 'created', 'updated', 'deleted', 'skipped', 'blocked', 'failed')),
  message TEXT,
  duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
  PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- table runs
CREATE TABLE runs (
  id TEXT PRIMARY KEY NOT NULL,
  envoy_id TEXT NOT NULL REFERENCES envoys (id) ON DELETE CASCADE,
  policy_version INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
  status TEXT NOT NULL CHECK (status IN ('converged', 'changed', 'failed', 'partial')),
  resources_total INTEGER NOT NULL DEFAULT 0 CHECK (resources_total >= 0),
  resources_changed INTEGER NOT NULL DEFAULT 0 CHECK (resources_changed >= 0),
  resources_failed INTEGER NOT NULL DEFAULT 0 CHECK (resources_failed >= 0),
  trace_id TEXT
, heartbeat INTEGER NOT NULL DEFAULT 0 CHECK (heartbeat IN (0, 1)), resources_digest BLOB CHECK (resources_digest IS NULL OR length(resources_digest) = 32)) STRICT;

-- index runs_envoy_started
CREATE INDEX runs_envoy_started ON runs (envoy_id, started_at DESC);

-- index runs_failed_started
CREATE INDEX runs_failed_started ON runs (started_at) WHERE resources_failed > 0;

-- index runs_full_by_resources
CREATE INDEX runs_full_by_resources ON runs (envoy_id, resources_digest, started_at) WHERE heartbeat = 0;

-- index runs_started_at
CREATE INDEX runs_started_at ON runs (started_at);

-- table schema_migrations
CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;

-- table sessions
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT
) STRICT;

-- index sessions_expires_at
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- index sessions_user_id
CREATE INDEX sessions_user_id ON sessions (user_id);

-- table target_groups
CREATE TABLE target_groups (
  name TEXT PRIMARY KEY NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  targets TEXT NOT NULL CHECK (json_valid(targets)),
  filters TEXT NOT NULL CHECK (json_valid(filters)),
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- table task_runs
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

-- index task_runs_created_at
CREATE INDEX task_runs_created_at ON task_runs (created_at);

-- index task_runs_running
CREATE INDEX task_runs_running ON task_runs (status) WHERE status = 'running';

-- table task_targets
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

-- index task_targets_envoy
CREATE INDEX task_targets_envoy ON task_targets (envoy_id) WHERE state = 'dispatched';

-- index task_targets_run_batch
CREATE INDEX task_targets_run_batch ON task_targets (task_run_id, batch);

-- table traits
CREATE TABLE traits (
  hash TEXT PRIMARY KEY NOT NULL CHECK (length(hash) = 64),
  json TEXT NOT NULL CHECK (json_valid(json)),
  first_seen_at INTEGER NOT NULL
) STRICT;

-- table users
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  username TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(username) BETWEEN 1 AND 128),
  display_name TEXT,
  email TEXT,
  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'compliance')),
  password_hash TEXT,
  ssh_public_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  disabled_at INTEGER
) STRICT;

-- table workflow_runs
CREATE TABLE workflow_runs (
  id TEXT PRIMARY KEY NOT NULL,
  workflow TEXT NOT NULL,
  config_version INTEGER NOT NULL,
  definition TEXT NOT NULL CHECK (json_valid(definition)),
  params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  -- Who started it, as audit entries name them, and as compared when an approval is given.
  actor TEXT NOT NULL,
  actor_key TEXT NOT NULL,
  -- The starter's identity, with which the run's tasks and pushes are started.
  actor_json TEXT NOT NULL CHECK (json_valid(actor_json)),
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'aborted', 'interrupted')),
  steps_executed INTEGER NOT NULL DEFAULT 0 CHECK (steps_executed >= 0),
  -- Why the run failed or stopped: a stable code (NULL when it succeeded or is running) and a sentence.
  error_code TEXT,
  message TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

-- index workflow_runs_created_at
CREATE INDEX workflow_runs_created_at ON workflow_runs (created_at);

-- index workflow_runs_running
CREATE INDEX workflow_runs_running ON workflow_runs (status) WHERE status = 'running';

-- table workflow_steps
CREATE TABLE workflow_steps (
  run_id TEXT NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL CHECK (seq > 0),
  step_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('task', 'force_push', 'wait_for_convergence', 'approval', 'publish')),
  status TEXT NOT NULL CHECK (status IN (
    'running', 'waiting', 'succeeded', 'failed', 'interrupted', 'aborted')),
  -- What the step was given once its references were filled in, and what it left for later steps.
  input TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(input)),
  output TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(output)),
  task_run_id TEXT,
  -- When an approval or a convergence wait gives up.
  deadline_at INTEGER,
  -- Who approved or rejected an approval step.
  decided_by TEXT,
  error_code TEXT,
  message TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (run_id, seq)
) STRICT;
