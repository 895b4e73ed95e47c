//! GetTopicTree (issue 30): the topic tree of a version ([`topic_engine::tree`]) and its themes.
//! The tree is a deterministic function of the version's stored model, so each version has
//! its own tree and a rollback brings its tree back.

use topic_engine::tree::{default_theme_count, themes, topic_tree, TopicTree};

use super::error::{Error, Result};
use super::{blocking, Lifecycle};
use crate::store::{TenantId, Version};

/// Most themes a caller may ask for.
pub const MAX_THEMES: usize = 100;

/// A version's topic tree and its themes.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The version.
    pub version: Version,
    /// The tree.
    pub tree: TopicTree,
    /// Node indices of the themes, largest first.
    pub themes: Vec<usize>,
    /// Display labels of the leaves' topics, by node index (empty for inner nodes).
    pub labels: Vec<String>,
}

impl Lifecycle {
    /// The tree of `version` (`None`: the active one) cut into `n_themes` themes (0: about the
    /// square root of the number of topics). `InvalidArgument` above [`MAX_THEMES`];
    /// `NotFound` for an unknown tenant or version.
    pub async fn topic_tree(
        &self,
        tenant: &TenantId,
        version: Option<&Version>,
        n_themes: usize,
    ) -> Result<Tree> {
        if n_themes > MAX_THEMES {
            return Err(Error::invalid_argument(format!(
                "themes = {n_themes} is more than {MAX_THEMES}; ask for fewer"
            )));
        }
        let rec = match version {
            Some(v) => self.record(tenant, v).await?,
            None => self.active_record(tenant).await?,
        };
        let model = self.load(&rec).await?;
        let (tree, labels) = blocking(move || {
            let tree = topic_tree(&model);
            let labels = tree
                .nodes
                .iter()
                .map(|n| {
                    n.topic_id.and_then(|id| model.label_of(id)).unwrap_or_default().to_string()
                })
                .collect();
            Ok((tree, labels))
        })
        .await?;
        let k = if n_themes == 0 { default_theme_count(tree.n_leaves()) } else { n_themes };
        let themes = themes(&tree, k);
        Ok(Tree { version: rec.version, tree, themes, labels })
    }
}
