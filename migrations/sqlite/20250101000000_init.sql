-- topicd metadata (SQLite). Keep in step with ../postgres/20250101000000_init.sql.

-- One row per stored model version (a day model or a merged model).
CREATE TABLE models (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT    NOT NULL,
    version          TEXT    NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('day', 'merged')),
    storage_path     TEXT    NOT NULL,
    total_topics     INTEGER NOT NULL CHECK (total_topics >= 0),
    total_documents  INTEGER NOT NULL CHECK (total_documents >= 0),
    date_range_start TEXT,
    date_range_end   TEXT,
    is_active        BOOLEAN NOT NULL DEFAULT 0,
    metadata         TEXT    NOT NULL DEFAULT '{}',
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    UNIQUE (tenant_id, version)
);

-- At most one active model per tenant, enforced by the database.
CREATE UNIQUE INDEX models_one_active_per_tenant ON models (tenant_id) WHERE is_active;

-- The tenant's top topics of its active model, replaced in the transaction that activates it.
CREATE TABLE topic_snapshot (
    tenant_id     TEXT    NOT NULL,
    rank          INTEGER NOT NULL CHECK (rank >= 1),
    topic_id      INTEGER NOT NULL,
    label         TEXT    NOT NULL,
    keywords      TEXT    NOT NULL,
    message_count INTEGER NOT NULL CHECK (message_count >= 0),
    samples       TEXT    NOT NULL,
    first_seen    TEXT    NOT NULL,
    last_seen     TEXT    NOT NULL,
    analysis_date TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, rank)
);

-- Documents per topic per day, for trends.
CREATE TABLE topic_daily_counts (
    tenant_id TEXT    NOT NULL,
    topic_id  INTEGER NOT NULL,
    day       TEXT    NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (tenant_id, topic_id, day)
);

-- Which date window each merged version took in.
CREATE TABLE merged_windows (
    tenant_id     TEXT NOT NULL,
    window_start  TEXT NOT NULL,
    window_end    TEXT NOT NULL,
    model_version TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, model_version)
);
CREATE INDEX merged_windows_by_window ON merged_windows (tenant_id, window_start, window_end);
