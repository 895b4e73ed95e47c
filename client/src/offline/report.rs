//! `topics report`: the dashboard's views of one saved model as ONE self-contained HTML file,
//! offline (no server).
//!
//! ```text
//! topics report --model DIR --out report.html [--title NAME] [--top 10]
//! ```
//! `DIR` is a model directory (`model.safetensors` + `config.json`): the output of
//! `topics fit` / `topics merge`, or a server's `{store}/{tenant}/{version}/`. The page shows
//! what the live dashboard shows for an active model: the ranked top topics with keywords,
//! samples and daily trends, the stacked chart over the history window, what changed over the
//! last 7 days, the topic map (`topic_engine::layout`) and every topic grouped into themes (the
//! topic tree, `topic_engine::tree`, cut as GetTopicTree cuts it by default); labels are the ones
//! shown everywhere (an operator's label when set). Search matches keywords, as a file has no
//! embedder. The file loads nothing: CSS, script and data are inlined
//! (`topicd_dashboard::report_html`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::{SecondsFormat, Utc};
use topic_engine::changes::{self, change_lists, Baseline};
use topic_engine::{tree, Topic, TopicModel};
use topicd_dashboard::{
    DailyCount, Keyword, ReportData, TopTopic, TopTopics, TopicChange, TopicChanges, TopicMap,
    TopicPoint, TopicTheme, TopicTree,
};

use super::files;

/// Most topics `--top` may rank (as `GetTopTopics`).
const MAX_TOP: usize = 100;
/// Topics per list of "what changed" (as `GetTopicChanges`' default).
const CHANGES_PER_LIST: usize = 5;
/// Keywords per topic on the map.
const MAP_KEYWORDS: usize = 5;

/// Arguments of `topics report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The model directory (`model.safetensors` + `config.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The HTML file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// The report's title (default: the tenant when DIR is a server's
    /// `{tenant}/{version}/`, else the directory's name).
    #[arg(long)]
    pub title: Option<String>,
    /// Topics in the ranked list and the stacked chart (1-100).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// Runs `topics report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    if args.top == 0 || args.top > MAX_TOP {
        bail!("--top {} is out of range: give 1 to {MAX_TOP}", args.top);
    }
    let model = files::load_model(&args.model)?;
    let (title, version) = names(&args.model, args.title.as_deref());
    let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut data = build(&model, &title, &version, args.top, &generated_at)?;
    data.source = args.model.display().to_string();
    let html = topicd_dashboard::report_html(&data).context("building the report page")?;
    std::fs::write(&args.out, &html)
        .with_context(|| format!("writing the report to {}", args.out.display()))?;
    println!(
        "report: {} ({} topics, {} ranked, {} KiB)",
        args.out.display(),
        data.total_topics,
        data.top_topics.topics.len(),
        html.len().div_ceil(1024)
    );
    Ok(ExitCode::SUCCESS)
}

/// The title and version of the model in `dir`: a server stores versions as
/// `{tenant}/{YYYYMMDD_HHMMSS}/`, so such a directory is titled after its tenant.
fn names(dir: &Path, title: Option<&str>) -> (String, String) {
    let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let version = name(&abs).unwrap_or_else(|| "model".into());
    let server_version = version.len() == 15
        && version.char_indices().all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() });
    let default_title = match abs.parent().and_then(name) {
        Some(tenant) if server_version => tenant,
        _ => version.clone(),
    };
    (title.map(str::to_string).unwrap_or(default_title), version)
}

/// The report's data for `model` (deterministic for the same model and `generated_at`).
pub fn build(
    model: &TopicModel,
    title: &str,
    version: &str,
    top: usize,
    generated_at: &str,
) -> anyhow::Result<ReportData> {
    let ranked = model.top_topics(usize::MAX);
    let (start, end) = match model.date_range {
        Some((s, e)) => (s.to_string(), e.to_string()),
        None => (String::new(), String::new()),
    };
    let top_topics: Vec<TopTopic> =
        ranked.iter().take(top).enumerate().map(|(i, t)| top_topic(t, i + 1, true)).collect();
    let all: Vec<TopTopic> =
        ranked.iter().enumerate().map(|(i, t)| top_topic(t, i + 1, false)).collect();
    let layout = topic_engine::layout::model_map(model).context("laying out the topic map")?;
    let points = layout
        .iter()
        .filter_map(|p| model.topic(p.topic_id).map(|t| (p, t)))
        .map(|(p, t)| TopicPoint {
            topic_id: t.id,
            label: t.display_label().to_string(),
            x: p.x,
            y: p.y,
            size: t.size,
            keywords: t.keywords.iter().take(MAP_KEYWORDS).map(|k| k.word.clone()).collect(),
        })
        .collect();
    Ok(ReportData {
        tenant_id: title.to_string(),
        version: version.to_string(),
        generated_at: generated_at.to_string(),
        source: String::new(),
        embedding_model: model.embedding_model.clone(),
        total_topics: ranked.len() as u64,
        total_documents: model.n_documents,
        top_topics: TopTopics {
            version: version.to_string(),
            analysis_date: generated_at.to_string(),
            date_range_start: start,
            date_range_end: end,
            topics: top_topics,
        },
        changes: changes(model, version),
        map: TopicMap { version: version.to_string(), points },
        topics: all,
        tree: themes(model, version),
    })
}

/// The topics grouped into themes: the topic tree cut as GetTopicTree cuts it by default
/// (about the square root of the number of topics), largest theme first.
fn themes(model: &TopicModel, version: &str) -> TopicTree {
    let t = tree::topic_tree(model);
    let cut = tree::themes(&t, tree::default_theme_count(t.n_leaves()));
    TopicTree {
        version: version.to_string(),
        themes: cut
            .into_iter()
            .filter_map(|i| t.nodes.get(i).map(|n| (i, n)))
            .map(|(i, n)| TopicTheme {
                node: u32::try_from(i).unwrap_or(u32::MAX),
                name: tree::node_title(model, n),
                topic_ids: n.topic_ids.clone(),
                size: n.size,
            })
            .collect(),
    }
}

fn top_topic(t: &Topic, rank: usize, with_trend: bool) -> TopTopic {
    TopTopic {
        topic_id: t.id,
        label: t.display_label().to_string(),
        label_overridden: t.is_label_overridden(),
        keywords: t
            .keywords
            .iter()
            .map(|k| Keyword { word: k.word.clone(), weight: k.weight })
            .collect(),
        message_count: t.size,
        sample_messages: t.samples.clone(),
        first_seen: t.first_seen.to_string(),
        last_seen: t.last_seen.to_string(),
        rank: u32::try_from(rank).unwrap_or(u32::MAX),
        trend: if with_trend {
            t.daily_counts
                .iter()
                .map(|d| DailyCount { date: d.date.to_string(), count: d.count })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// What changed, from the model alone ([`Baseline::ModelOnly`]: a file holds one version, so
/// "new" are the topics first seen in the last 7 days of its history and "retired" those it
/// keeps as retired); the same rule as the server's `GetTopicChanges`.
fn changes(model: &TopicModel, version: &str) -> TopicChanges {
    let lists = change_lists(model, Baseline::ModelOnly, CHANGES_PER_LIST);
    let to_report = |list: Vec<changes::TopicChange>| -> Vec<TopicChange> {
        list.into_iter()
            .map(|c| TopicChange {
                topic_id: c.topic_id,
                label: c.label,
                recent_count: c.recent_count,
                previous_count: c.previous_count,
                relative_change: c.relative_change,
            })
            .collect()
    };
    TopicChanges {
        version: version.to_string(),
        previous_version: String::new(),
        note: format!(
            "From this model alone (no previous version in a file): new = first seen in the last \
             {days} days; rising and falling = the last {days} days against the {days} before.",
            days = changes::CHANGE_DAYS
        ),
        new_topics: to_report(lists.new_topics),
        retired_topics: to_report(lists.retired_topics),
        rising: to_report(lists.rising),
        falling: to_report(lists.falling),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn server_version_directories_are_titled_after_their_tenant() {
        let tmp = tempfile::tempdir().unwrap();
        let v = tmp.path().join("acme").join("20261207_030012");
        std::fs::create_dir_all(&v).unwrap();
        assert_eq!(names(&v, None), ("acme".into(), "20261207_030012".into()));
        let other = tmp.path().join("long-lived");
        std::fs::create_dir_all(&other).unwrap();
        assert_eq!(names(&other, None), ("long-lived".into(), "long-lived".into()));
        assert_eq!(names(&other, Some("Q4")).0, "Q4");
    }
}
