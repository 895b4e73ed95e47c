-- Issue 23: operators' topic labels. The snapshot says which labels are an operator's
-- (SetTopicLabel), so GetTopTopics stays one indexed read. Keep in step with
-- ../postgres/20261201000000_label_overrides.sql.
ALTER TABLE topic_snapshot ADD COLUMN label_overridden BOOLEAN NOT NULL DEFAULT 0;
