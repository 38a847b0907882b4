-- The durable delivery queue of the event sinks (server.yaml `integrations:`): one row per event and
-- target. A row is pending until its target accepted it (delivered) or it can never be delivered (dead:
-- refused, out of tries, or dropped because its target's queue was full). Times are epoch milliseconds;
-- payload is the event as JSON. Finished rows are pruned after a retention period.

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

CREATE INDEX integration_deliveries_due ON integration_deliveries (target, state, next_attempt_at, id);
CREATE INDEX integration_deliveries_finished ON integration_deliveries (state, finished_at)
  WHERE state <> 'pending';
