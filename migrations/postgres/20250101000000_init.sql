-- topicd metadata (PostgreSQL). Keep in step with ../sqlite/20250101000000_init.sql.

-- One row per stored model version (a day model or a merged model).
CREATE TABLE models (
    id               BIGSERIAL   PRIMARY KEY,
    tenant_id        TEXT        NOT NULL,
    version          TEXT        NOT NULL,
    kind             TEXT        NOT NULL CHECK (kind IN ('day', 'merged')),
    storage_path     TEXT        NOT NULL,
    total_topics     BIGINT      NOT NULL CHECK (total_topics >= 0),
    total_documents  BIGINT      NOT NULL CHECK (total_documents >= 0),
    date_range_start DATE,
    date_range_end   DATE,
    is_active        BOOLEAN     NOT NULL DEFAULT FALSE,
    metadata         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, version)
);

-- At most one active model per tenant, enforced by the database.
CREATE UNIQUE INDEX models_one_active_per_tenant ON models (tenant_id) WHERE is_active;

-- The tenant's top topics of its active model, replaced in the transaction that activates it.
CREATE TABLE topic_snapshot (
    tenant_id     TEXT   NOT NULL,
    rank          BIGINT NOT NULL CHECK (rank >= 1),
    topic_id      BIGINT NOT NULL,
    label         TEXT   NOT NULL,
    keywords      JSONB  NOT NULL,
    message_count BIGINT NOT NULL CHECK (message_count >= 0),
    samples       JSONB  NOT NULL,
    first_seen    DATE   NOT NULL,
    last_seen     DATE   NOT NULL,
    analysis_date DATE   NOT NULL,
    model_version TEXT   NOT NULL,
    PRIMARY KEY (tenant_id, rank)
);

-- Documents per topic per day, for trends.
CREATE TABLE topic_daily_counts (
    tenant_id TEXT   NOT NULL,
    topic_id  BIGINT NOT NULL,
    day       DATE   NOT NULL,
    count     BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (tenant_id, topic_id, day)
);

-- Which date window each merged version took in.
CREATE TABLE merged_windows (
    tenant_id     TEXT        NOT NULL,
    window_start  DATE        NOT NULL,
    window_end    DATE        NOT NULL,
    model_version TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, model_version)
);
CREATE INDEX merged_windows_by_window ON merged_windows (tenant_id, window_start, window_end);
