-- Framework compliance (docs/compliance.md). The last outcome of every resource whose configcrate claims a
-- control, per envoy: with the active snapshot's claims and waivers it determines every control's state,
-- so a restart serves the same answers. Rows are written in the same transaction as the run that reported
-- them. Every *_at column is epoch milliseconds.

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

-- Waivers whose expiry was announced (event compliance.waiver_expired): one row per waiver id, so the
-- event is raised once, also across restarts.
CREATE TABLE compliance_waiver_expiries (
  waiver_id TEXT PRIMARY KEY NOT NULL,
  framework TEXT NOT NULL,
  control TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  announced_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
