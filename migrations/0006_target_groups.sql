-- Saved target groups: a named selection (targets united, then narrowed by trait filters) that tasks,
-- live queries, force-push and workflows name as `@name`. targets and where are JSON arrays of strings;
-- updated_at is epoch milliseconds.

CREATE TABLE target_groups (
  name TEXT PRIMARY KEY NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  targets TEXT NOT NULL CHECK (json_valid(targets)),
  filters TEXT NOT NULL CHECK (json_valid(filters)),
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
