-- The first schema of vigosrv: enrolled envoys and their traits, enrollment tokens, users with their API
-- tokens and web sessions, published configuration versions, run history, the audit hash chain and small
-- server facts. Every *_at column is epoch milliseconds; ids are TEXT; flags are INTEGER 0/1.
-- Tables are STRICT so a wrong type from application code is an error, not a silent coercion.

-- Trait documents are large and mostly identical across a fleet, so envoys point at a deduplicated copy.
CREATE TABLE traits (
  hash TEXT PRIMARY KEY NOT NULL CHECK (length(hash) = 64),
  json TEXT NOT NULL CHECK (json_valid(json)),
  first_seen_at INTEGER NOT NULL
) STRICT;

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

-- A hostname may be re-enrolled after its old envoy is revoked, but only one active envoy may hold it.
CREATE UNIQUE INDEX envoys_active_hostname ON envoys (hostname) WHERE status = 'active';
CREATE INDEX envoys_last_seen_at ON envoys (last_seen_at);
CREATE INDEX envoys_traits_hash ON envoys (traits_hash);

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

CREATE INDEX enrollment_tokens_expires_at ON enrollment_tokens (expires_at);

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

CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

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

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Compiled snapshots are content-addressed so a rollback reactivates the exact bytes served before.
CREATE TABLE config_snapshots (
  hash TEXT PRIMARY KEY NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

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

-- The fleet is served exactly one configuration at a time.
CREATE UNIQUE INDEX config_versions_one_active ON config_versions (status) WHERE status = 'active';
CREATE INDEX config_versions_snapshot_hash ON config_versions (snapshot_hash);

-- The id comes from the agent, so a report delivered twice lands on the same row.
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
) STRICT;

CREATE INDEX runs_envoy_started ON runs (envoy_id, started_at DESC);
-- Retention pruning deletes by age across the whole fleet.
CREATE INDEX runs_started_at ON runs (started_at);

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

-- The audit hash chain; server/audit/ is its only writer and verifies it.
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

CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- Application code never rewrites history; these catch a bug doing so (verifyAudit catches the rest).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;

CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
