-- A run in which every resource was already in its desired state is stored as this row alone (a heartbeat),
-- without one run_results row per resource. resources_digest names the set of resources a run checked
-- (SHA-256, see docs/operations.md), kept for every new run so a heartbeat can be matched to the last run
-- that reported the same resources in full. Rows written before this migration have neither.
ALTER TABLE runs ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0 CHECK (heartbeat IN (0, 1));
ALTER TABLE runs ADD COLUMN resources_digest BLOB CHECK (resources_digest IS NULL OR length(resources_digest) = 32);
-- A heartbeat's detail names the newest earlier run of its envoy over the same resources stored in full:
-- one seek here. Only full runs are in it, so a heartbeat costs no index entry.
CREATE INDEX runs_full_by_resources ON runs (envoy_id, resources_digest, started_at) WHERE heartbeat = 0;
