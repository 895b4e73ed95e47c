//! The model-change listener (PostgreSQL LISTEN/NOTIFY): other replicas' activations and
//! deletions drop this replica's cached copies at once.

use std::time::Duration;

use super::ActiveModels;
use crate::store::MODEL_CHANGES_CHANNEL;

/// Listens on [`MODEL_CHANGES_CHANNEL`] (PostgreSQL) and applies each notification to
/// `cache` ([`ActiveModels::on_change`]) until `stop` turns true. Reconnects after errors (1 s,
/// backing off to 30 s); after every (re)connect all entries are marked for a re-check, since
/// notifications sent while disconnected are lost.
pub async fn listen_for_changes(
    pool: sqlx::PgPool,
    cache: ActiveModels,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    'connect: loop {
        if *stop.borrow() {
            return;
        }
        let connected = async {
            let mut l = sqlx::postgres::PgListener::connect_with(&pool).await?;
            l.listen(MODEL_CHANGES_CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        };
        let connected = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            r = connected => r,
        };
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, retry_secs = backoff.as_secs(),
                    "cannot listen for model changes; cached models are re-checked every refresh interval meanwhile");
                cache.mark_all_stale();
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue 'connect;
            }
        };
        tracing::info!(channel = MODEL_CHANGES_CHANNEL, "listening for model changes");
        cache.mark_all_stale();
        backoff = Duration::from_secs(1);
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                n = listener.try_recv() => n,
            };
            match next {
                Ok(Some(n)) => {
                    cache.on_change(n.payload()).await;
                }
                Ok(None) => {
                    // The connection dropped; the next `try_recv` reconnects (and re-listens).
                    tracing::warn!("model-change listener disconnected; reconnecting");
                    cache.mark_all_stale();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "model-change listener failed; reconnecting");
                    cache.mark_all_stale();
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    continue 'connect;
                }
            }
        }
    }
}
