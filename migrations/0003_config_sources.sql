-- The stacks upload a configuration version was published from, kept for the active and pending versions
-- only. At start, a server without a stacks directory validates the active one again in its validator
-- worker: the worker is then warm, so the next publish takes what did not change from it, and the log says
-- when the active configuration no longer validates with this server. created_at is epoch milliseconds.

CREATE TABLE config_sources (
  snapshot_hash TEXT PRIMARY KEY NOT NULL REFERENCES config_snapshots (hash),
  form TEXT NOT NULL CHECK (form IN ('publish', 'validate')),
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
