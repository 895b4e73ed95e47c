-- Issue 30: hand edits. The snapshot lists the ids merged into each topic by hand (its
-- aliases, a JSON array), so GetTopTopics stays one indexed read. Keep in step with
-- ../sqlite/20261207300000_snapshot_aliases.sql.
ALTER TABLE topic_snapshot ADD COLUMN aliases JSONB NOT NULL DEFAULT '[]';
