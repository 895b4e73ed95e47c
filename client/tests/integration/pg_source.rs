//! The PostgreSQL message source against a throwaway PostgreSQL cluster
//! (`topicd_testing::PgCluster`: `initdb` + `pg_ctl`, or `DATABASE_URL`).

use chrono::{TimeZone, Utc};
use topicd_testing::PgCluster;
use topics::sources::config::PgSourceConfig;
use topics::sources::postgres::PgSource;
use topics::sources::{MessageSource, Window};

#[allow(clippy::unwrap_used)]
fn window() -> Window {
    Window::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn default_schema_reads_inbound_messages_of_the_window_per_tenant() {
    let pg = PgCluster::start().unwrap();
    let url = pg.create_database().await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TABLE conversation_messages (id BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, \
         direction TEXT NOT NULL, text TEXT, created_at TIMESTAMPTZ NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let rows = [
        ("acme", "inbound", "my card was declined", "2026-11-24T10:00:00Z"),
        ("acme", "inbound", "what is my balance", "2026-11-24T04:00:00Z"),
        ("acme", "outbound", "agent reply", "2026-11-24T10:01:00Z"),
        ("acme", "inbound", "before the window", "2026-11-24T02:59:59Z"),
        ("acme", "inbound", "at the end, excluded", "2026-11-25T03:00:00Z"),
        ("acme", "inbound", "   ", "2026-11-24T11:00:00Z"),
        ("globex", "inbound", "book a flight", "2026-11-24T12:00:00+02:00"),
        ("initech", "outbound", "only outbound", "2026-11-24T12:00:00Z"),
    ];
    for (tenant, direction, text, at) in rows {
        sqlx::query("INSERT INTO conversation_messages (tenant_id, direction, text, created_at) VALUES ($1, $2, $3, $4::timestamptz)")
            .bind(tenant)
            .bind(direction)
            .bind(text)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    }
    let source = PgSource::connect(&url, PgSourceConfig::default()).await.unwrap();
    assert!(!source.describe().contains('@'), "no credentials in logs");
    let tenants = source.tenants(&window()).await.unwrap();
    assert_eq!(tenants, vec!["acme", "globex"]);
    let acme = source.messages("acme", &window()).await.unwrap();
    let texts: Vec<&str> = acme.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["what is my balance", "my card was declined"]);
    assert_eq!(acme[0].id, "2");
    let globex = source.messages("globex", &window()).await.unwrap();
    assert_eq!(globex[0].created_at, Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap());
    assert!(source.messages("nobody", &window()).await.unwrap().is_empty());
}

#[tokio::test]
async fn custom_names_integer_tenants_and_naive_timestamps() {
    let pg = PgCluster::start().unwrap();
    let url = pg.create_database().await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("CREATE SCHEMA app").execute(&pool).await.unwrap();
    sqlx::query(
        "CREATE TABLE app.msgs (msg_id INT PRIMARY KEY, user_id BIGINT NOT NULL, body TEXT, sent TIMESTAMP NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (id, user, body, sent) in [
        (1, 42_i64, "hello there", "2026-11-24 05:00:00"),
        (2, 42, "second", "2026-11-24 06:00:00"),
        (3, 7, "seven", "2026-11-24 07:00:00"),
        (4, 7, "too late", "2026-11-25 07:00:00"),
    ] {
        sqlx::query("INSERT INTO app.msgs VALUES ($1, $2, $3, $4::timestamp)")
            .bind(id)
            .bind(user)
            .bind(body)
            .bind(sent)
            .execute(&pool)
            .await
            .unwrap();
    }
    let config = PgSourceConfig {
        table: "app.msgs".into(),
        tenant_column: "user_id".into(),
        id_column: "msg_id".into(),
        text_column: "body".into(),
        created_at_column: "sent".into(),
        direction_column: String::new(),
        ..Default::default()
    };
    let source = PgSource::connect(&url, config).await.unwrap();
    assert_eq!(source.tenants(&window()).await.unwrap(), vec!["42", "7"]);
    let user42 = source.messages("42", &window()).await.unwrap();
    assert_eq!(user42.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["1", "2"]);
    assert_eq!(user42[0].created_at, Utc.with_ymd_and_hms(2026, 11, 24, 5, 0, 0).unwrap());

    // A hand-written messages query, integer id column, no cast.
    let config = PgSourceConfig {
        tenants_query: Some("SELECT DISTINCT user_id FROM app.msgs WHERE sent >= $1 AND sent < $2".into()),
        messages_query: Some(
            "SELECT msg_id, body, sent FROM app.msgs WHERE user_id = $1 AND sent >= $2 AND sent < $3 ORDER BY sent".into(),
        ),
        ..Default::default()
    };
    let source = PgSource::connect(&url, config).await.unwrap();
    assert_eq!(source.tenants(&window()).await.unwrap(), vec!["42", "7"]);
    let user7 = source.messages("7", &window()).await.unwrap();
    assert_eq!((user7.len(), user7[0].id.as_str(), user7[0].text.as_str()), (1, "3", "seven"));
}

#[tokio::test]
async fn a_missing_table_is_a_database_error_naming_the_step() {
    let pg = PgCluster::start().unwrap();
    let url = pg.create_database().await.unwrap();
    let source = PgSource::connect(&url, PgSourceConfig::default()).await.unwrap();
    let err = source.tenants(&window()).await.unwrap_err().to_string();
    assert!(err.contains("listing tenants"), "{err}");
}
