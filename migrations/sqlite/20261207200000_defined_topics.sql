-- Issue 30: tenant-defined topics. One row per tenant: the list as set (JSON array of
-- {name, description?, examples?}), and each topic's embedding (little-endian f32, topics × dim)
-- made by the embedding provider when the list was set. Fit reads it; the model records the
-- topics it was fitted with. Keep in step with ../postgres/20261207200000_defined_topics.sql.
CREATE TABLE defined_topics (
    tenant_id       TEXT    NOT NULL PRIMARY KEY,
    topics          TEXT    NOT NULL,
    embedding_model TEXT    NOT NULL,
    dim             INTEGER NOT NULL,
    embeddings      BLOB    NOT NULL,
    updated_at      TEXT    NOT NULL
);
