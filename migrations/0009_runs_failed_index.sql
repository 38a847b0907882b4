-- Runs with at least one failed resource, newest first: GET /api/v1/runs?failed=true walks this partial
-- index instead of every run when failures are rare.
CREATE INDEX runs_failed_started ON runs (started_at) WHERE resources_failed > 0;
