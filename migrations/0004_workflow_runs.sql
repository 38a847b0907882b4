-- Workflow runs (workflows.vgo): one workflow_runs row per start, holding the workflow as it was defined
-- when it started (so a later publish does not change a run under way), and one workflow_steps row per
-- step executed, in execution order (a step reached again through a branch gets a new row). Every *_at
-- column is epoch milliseconds.

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

CREATE INDEX workflow_runs_created_at ON workflow_runs (created_at);
CREATE INDEX workflow_runs_running ON workflow_runs (status) WHERE status = 'running';

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
