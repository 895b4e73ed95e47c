//! `topics report` end to end: a model made by the offline fit and merge (two days of CLINC150
//! reference embeddings), with an operator's label, becomes ONE self-contained HTML file that
//! loads nothing and holds the topic labels, the map and the trends.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use topicd_dashboard::ReportData;

use crate::offline::{load_clinc, p, topics, write_day};

/// The report's inlined data.
fn inline_data(html: &str) -> ReportData {
    let open = r#"<script type="application/json" id="topicd-report">"#;
    let start = html.find(open).unwrap() + open.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

#[test]
fn report_of_an_offline_model_is_one_self_contained_file() {
    let c = load_clinc(&topicd_testing::locate::clinc150_dir());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut intents: Vec<&str> = c.labels.iter().map(String::as_str).collect();
    intents.sort_unstable();
    intents.dedup();
    let rows_of = |intent: &str, skip: usize| -> Vec<usize> {
        (0..c.labels.len()).filter(|&i| c.labels[i] == intent).skip(skip).take(40).collect()
    };
    // Day 1: 6 intents; day 2: the same 6, other documents.
    let day1: Vec<usize> = intents[..6].iter().flat_map(|i| rows_of(i, 0)).collect();
    let day2: Vec<usize> = intents[..6].iter().flat_map(|i| rows_of(i, 40)).collect();
    let (d1, e1) = write_day(&c, &day1, dir, "day1");
    let (d2, e2) = write_day(&c, &day2, dir, "day2");
    let (m1, m2, base) = (dir.join("m1"), dir.join("m2"), dir.join("long-lived"));
    for (docs, emb, out, day) in [(&d1, &e1, &m1, "2026-11-01"), (&d2, &e2, &m2, "2026-11-02")] {
        topics(&["fit", "--docs", p(docs), "--embeddings", p(emb), "--out", p(out), "--day", day]);
    }
    topics(&["merge", "--day", p(&m1), "--out", p(&base)]);
    topics(&["merge", "--base", p(&base), "--day", p(&m2), "--out", p(&base)]);

    // An operator's label, stored with the model.
    let mut model = topic_engine::io::load(&base).unwrap();
    let edited = model.top_topics(1)[0].id;
    model.set_label_override(edited, Some("Operator's label <checked>")).unwrap();
    topic_engine::io::save(&model, &base).unwrap();
    let model = topic_engine::io::load(&base).unwrap();

    let out = dir.join("report.html");
    let printed = topics(&["report", "--model", p(&base), "--out", p(&out)]);
    assert!(printed.contains("report:"), "{printed}");
    let html = std::fs::read_to_string(&out).unwrap();

    // Self-contained: no asset is referenced, from any host or from the server's /ui/.
    for reference in
        ["src=\"http", "href=\"http", "url(http", "@import", "<link", "<script src", "/ui/"]
    {
        assert!(!html.contains(reference), "the report references {reference:?}");
    }
    assert!(html.contains(topicd_dashboard::APP_JS) && html.contains(topicd_dashboard::APP_CSS));

    // The topic labels (the operator's where set), the map and the trends.
    let data = inline_data(&html);
    let active: Vec<_> = model.top_topics(usize::MAX);
    assert!(active.len() >= 4, "{} topics", active.len());
    let want: Vec<&str> = active.iter().take(10).map(|t| t.display_label()).collect();
    let got: Vec<&str> = data.top_topics.topics.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(got, want);
    for label in want.iter().filter(|l| !l.contains('<')) {
        assert!(html.contains(label), "{label:?} is not in the page");
    }
    assert_eq!(data.top_topics.topics[0].topic_id, edited);
    assert_eq!(data.top_topics.topics[0].label, "Operator's label <checked>");
    assert!(data.top_topics.topics[0].label_overridden);
    assert!(!html.contains("<checked>"), "data is escaped inside its script element");
    assert_eq!(data.map.points.len(), active.len());
    assert_eq!(data.topics.len(), active.len());
    assert!(data.top_topics.topics.iter().all(|t| !t.trend.is_empty()));
    assert!(data.top_topics.topics.iter().any(|t| t.trend.len() == 2), "two days of counts");
    assert_eq!(data.total_documents, model.n_documents);
    assert_eq!(data.tenant_id, "long-lived");
    assert_eq!(data.top_topics.date_range_end, "2026-11-02");

    // The themes: the topic tree cut into about sqrt(topics) groups that partition the topics,
    // largest first, each named (a one-topic theme by its topic's label).
    let themes = &data.tree.themes;
    assert_eq!(themes.len(), ((active.len() as f64).sqrt().round() as usize).max(1));
    let mut covered: Vec<i64> = themes.iter().flat_map(|t| t.topic_ids.clone()).collect();
    covered.sort_unstable();
    let mut ids: Vec<i64> = active.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    assert_eq!(covered, ids, "every topic in exactly one theme");
    assert!(themes.windows(2).all(|w| w[0].size >= w[1].size), "largest first");
    for th in themes {
        assert!(!th.name.is_empty());
        let size: u64 = th.topic_ids.iter().map(|&id| model.topic(id).unwrap().size).sum();
        assert_eq!(th.size, size);
        if let [only] = th.topic_ids[..] {
            assert_eq!(th.name, model.label_of(only).unwrap());
        }
    }
    assert_eq!(data.tree.version, data.version);

    // A hidden topic is in no theme (as in GetTopicTree).
    let mut hidden_model = model.clone();
    let hidden = active[1].id;
    let author = topic_engine::model::EditAuthor { by: "test".into(), at: chrono::Utc::now() };
    hidden_model = topic_engine::edits::apply(
        &hidden_model,
        &topic_engine::edits::TopicEdit::Hide(hidden),
        &author,
    )
    .unwrap()
    .model;
    let hidden_dir = dir.join("hidden");
    topic_engine::io::save(&hidden_model, &hidden_dir).unwrap();
    let out = dir.join("hidden.html");
    topics(&["report", "--model", p(&hidden_dir), "--out", p(&out)]);
    let data = inline_data(&std::fs::read_to_string(&out).unwrap());
    let in_themes: Vec<i64> = data.tree.themes.iter().flat_map(|t| t.topic_ids.clone()).collect();
    assert_eq!(in_themes.len(), active.len() - 1);
    assert!(!in_themes.contains(&hidden));

    // Bad arguments are reported, not written.
    let missing = Path::new(dir).join("no-model");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(["report", "--model", p(&missing), "--out", p(&dir.join("x.html"))])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!dir.join("x.html").exists());
}
