-- Issue 29: a tenant's help-centre articles and their embeddings (knowledge gaps). Replaced
-- as a set by SetArticles; deleted with the tenant. Keep in step with
-- ../postgres/20261207100000_kb_articles.sql.
CREATE TABLE kb_articles (
    tenant_id       TEXT    NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 0),
    article_id      TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    url             TEXT,
    summary         TEXT,
    -- little-endian f32 values; NULL when the server had no embedding provider
    embedding       BLOB,
    embedding_model TEXT,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, article_id),
    UNIQUE (tenant_id, position)
);
