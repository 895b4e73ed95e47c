//! The lifecycle end to end on in-memory stores, without any API on top.

use candle_core::Device;
use chrono::{NaiveDate, TimeZone, Utc};
use topic_engine::FitParams;

use super::fit::DayDocuments;
use super::merge::MergeDay;
use super::query::TransformInput;
use super::{ErrorKind, Lifecycle, Window};
use crate::config::Config;
use crate::store::{MetaStore, ModelStore, TenantId};

async fn lifecycle(fitted_max_bytes: u64) -> Lifecycle {
    let mut config = Config::for_data_dir("unused");
    config.cache.fitted_max_bytes = fitted_max_bytes;
    let meta = MetaStore::connect("sqlite::memory:").await.unwrap();
    let models = ModelStore::from_url("memory://").unwrap();
    Lifecycle::new(&config, meta, models, Err("none in this test".into()), None, Device::Cpu)
}

/// Three well-separated groups of 30 documents in 8-d, each with its own words, on one day.
fn day_documents(day: u32) -> DayDocuments {
    let words = [
        ["billing", "invoice", "refund"],
        ["login", "password", "reset"],
        ["shipping", "parcel", "courier"],
    ];
    let (mut texts, mut rows) = (Vec::new(), Vec::new());
    for (g, w) in words.iter().enumerate() {
        for i in 0..30 {
            texts.push(format!("{} {} {} note{}", w[0], w[1], w[2], i % 5));
            let mut v = vec![0.01 * ((i % 7) as f32); 8];
            v[g] = 1.0;
            v[g + 3] = 0.05 * ((i % 3) as f32);
            rows.push(v);
        }
    }
    let start = Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap();
    DayDocuments {
        texts,
        dates: None,
        embeddings: Some(rows),
        window: Some(Window { start, end: start + chrono::Duration::days(1) }),
        params: FitParams::default(),
    }
}

fn merge(day_version: crate::store::Version, force: bool) -> MergeDay {
    MergeDay { day_version, base_version: None, force }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_uses_the_day_model_fit_kept_in_memory() {
    let tenant = TenantId::parse("acme").unwrap();
    for (fitted_max_bytes, merges) in [(256 << 20, true), (0, false)] {
        let lc = lifecycle(fitted_max_bytes).await;
        let fit = lc.fit_day(&tenant, day_documents(24)).await.unwrap();
        assert!(fit.record.total_topics >= 2, "{:?}", fit.record);
        assert_eq!(fit.scores.len(), 90);
        // Fit wrote the store first, whatever the cache; with the files gone, only the copy
        // in memory can serve the Merge.
        lc.models().delete_version(&fit.record.storage_path).await.unwrap();
        let r = lc.merge_day(&tenant, merge(fit.record.version, false)).await;
        assert_eq!(r.is_ok(), merges, "cache {fitted_max_bytes}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_fit_records_is_the_one_merge_refuses_twice() {
    let tenant = TenantId::parse("acme").unwrap();
    let lc = lifecycle(256 << 20).await;
    let first = lc.fit_day(&tenant, day_documents(24)).await.unwrap();
    let merged = lc.merge_day(&tenant, merge(first.record.version, false)).await.unwrap();
    assert_eq!(merged.previous, None);
    let windows = lc.merged_windows(&tenant).await.unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    assert_eq!((windows[0].window.window_start, windows[0].window.window_end), (day, day));

    let again = lc.fit_day(&tenant, day_documents(24)).await.unwrap();
    let e = lc.merge_day(&tenant, merge(again.record.version, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert!(e.message().contains("already merged"), "{e}");
    let forced = lc.merge_day(&tenant, merge(again.record.version, true)).await.unwrap();
    assert_eq!(forced.previous, Some(merged.record.version));

    // The active model tags a document of the first group with a labelled topic.
    let mut row = vec![0.0; 8];
    row[0] = 1.0;
    let tagged = lc.transform(&tenant, TransformInput::Embeddings(vec![row])).await.unwrap();
    assert_eq!(tagged.version, forced.record.version);
    assert!(tagged.tags[0].topic_id >= 0 && !tagged.tags[0].label.is_empty(), "{tagged:?}");
    // Texts need an embedding provider, which this lifecycle lacks.
    let e = lc.transform(&tenant, TransformInput::Texts(vec!["hi".into()])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FailedPrecondition);
}
