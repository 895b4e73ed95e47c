//! A hierarchy of a model's topics (issue 30), as BERTopic's `hierarchical_topics`:
//! agglomerative clustering of the visible topics' embeddings, and themes = a cut of it.
//!
//! - Leaves are the visible topics ([`TopicModel::visible_topics`]), ascending by id (node `i`
//!   = the `i`-th leaf). Distance = `1 − cosine` of topic embeddings; linkage = average
//!   (UPGMA, weighted by the number of topics under each side), so a parent's distance is never
//!   below its children's. At each step the closest pair merges (ties: the smaller pair of node
//!   indices), the new node gets the next index. Deterministic: a model always gives the same
//!   tree, so the tree of a version is a function of the version's stored model.
//! - Each node lists its topics (ascending), its documents (sum of sizes) and keywords: the
//!   c-TF-IDF keywords of its topics, each weighted by weight × topic size, summed, best first
//!   (ties: alphabetical), at most [`NODE_KEYWORDS`]. A node's name is its first three keywords.
//! - [`themes`]: `k` themes = the `k` subtrees left when the last `k − 1` merges are undone
//!   (the root's split first), largest first.
//!
//! BERTopic clusters c-TF-IDF vectors with Ward linkage by default; topic embeddings are what
//! topicd matches and serves by, and average linkage on cosine needs no Euclidean assumption.

use std::collections::BTreeMap;

use crate::model::TopicModel;

/// Most keywords kept per node.
pub const NODE_KEYWORDS: usize = 10;

/// One node of a [`TopicTree`].
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The topic of a leaf; `None` for an inner node.
    pub topic_id: Option<i64>,
    /// The two merged nodes of an inner node (indices into [`TopicTree::nodes`]).
    pub children: Option<(usize, usize)>,
    /// The linkage distance at which the node was formed (0 for a leaf).
    pub distance: f32,
    /// The topics under the node, ascending.
    pub topic_ids: Vec<i64>,
    /// Documents under the node.
    pub size: u64,
    /// Merged keywords, best first.
    pub keywords: Vec<String>,
}

impl TreeNode {
    /// The node's name: its first three keywords joined with ` · ` (empty without keywords).
    pub fn name(&self) -> String {
        self.keywords.iter().take(3).cloned().collect::<Vec<_>>().join(" · ")
    }
}

/// The hierarchy: `n` leaves then `n − 1` inner nodes; the last node is the root.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicTree {
    /// Leaves (ascending topic id), then inner nodes in merge order.
    pub nodes: Vec<TreeNode>,
}

impl TopicTree {
    /// The root's index (`None` for a model without visible topics).
    pub fn root(&self) -> Option<usize> {
        self.nodes.len().checked_sub(1)
    }
    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.len().div_ceil(2)
    }
}

/// The tree of `model`'s visible topics (module docs).
pub fn topic_tree(model: &TopicModel) -> TopicTree {
    let topics: Vec<_> = model.visible_topics().collect();
    let n = topics.len();
    let mut nodes: Vec<TreeNode> = topics
        .iter()
        .map(|t| {
            let kw: Vec<(String, f64)> = t
                .keywords
                .iter()
                .map(|k| (k.word.clone(), f64::from(k.weight) * t.size.max(1) as f64))
                .collect();
            TreeNode {
                topic_id: Some(t.id),
                children: None,
                distance: 0.0,
                topic_ids: vec![t.id],
                size: t.size,
                keywords: best_keywords(kw),
            }
        })
        .collect();
    if n < 2 {
        return TopicTree { nodes };
    }
    // Weighted keyword sums per node, to merge names.
    let mut sums: Vec<BTreeMap<String, f64>> = topics
        .iter()
        .map(|t| {
            let mut m = BTreeMap::new();
            for k in &t.keywords {
                *m.entry(k.word.clone()).or_insert(0.0) +=
                    f64::from(k.weight) * t.size.max(1) as f64;
            }
            m
        })
        .collect();
    // Distance matrix over the live clusters (f64, full), clusters identified by node index.
    let mut d = vec![vec![0.0f64; n]; n];
    for i in 0..n {
        for j in (i + 1)..n {
            let c: f64 = topics[i]
                .embedding
                .iter()
                .zip(&topics[j].embedding)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            d[i][j] = 1.0 - c;
            d[j][i] = 1.0 - c;
        }
    }
    // slot -> node index; counts per slot.
    let mut node_of: Vec<Option<usize>> = (0..n).map(Some).collect();
    let mut count: Vec<f64> = vec![1.0; n];
    for _ in 0..n - 1 {
        let mut best: Option<(f64, usize, usize)> = None;
        for i in 0..n {
            let Some(ni) = node_of[i] else { continue };
            for j in (i + 1)..n {
                let Some(nj) = node_of[j] else { continue };
                let key = (ni.min(nj), ni.max(nj));
                let better = match best {
                    None => true,
                    Some((bd, bi, bj)) => {
                        let bkey = {
                            let (x, y) = (node_of[bi].unwrap_or(0), node_of[bj].unwrap_or(0));
                            (x.min(y), x.max(y))
                        };
                        d[i][j] < bd || (d[i][j] == bd && key < bkey)
                    }
                };
                if better {
                    best = Some((d[i][j], i, j));
                }
            }
        }
        let Some((dist, i, j)) = best else { break };
        let (ni, nj) = (node_of[i].unwrap_or(0), node_of[j].unwrap_or(0));
        let (ci, cj) = (count[i], count[j]);
        for k in 0..n {
            if k != i && k != j && node_of[k].is_some() {
                let v = (ci * d[i][k] + cj * d[j][k]) / (ci + cj);
                d[i][k] = v;
                d[k][i] = v;
            }
        }
        let mut merged = std::mem::take(&mut sums[j]);
        for (w, v) in std::mem::take(&mut sums[i]) {
            *merged.entry(w).or_insert(0.0) += v;
        }
        let keywords = best_keywords(merged.iter().map(|(w, v)| (w.clone(), *v)).collect());
        sums[i] = merged;
        let mut topic_ids: Vec<i64> =
            nodes[ni].topic_ids.iter().chain(&nodes[nj].topic_ids).copied().collect();
        topic_ids.sort_unstable();
        let size = nodes[ni].size + nodes[nj].size;
        nodes.push(TreeNode {
            topic_id: None,
            children: Some((ni.min(nj), ni.max(nj))),
            distance: dist as f32,
            topic_ids,
            size,
            keywords,
        });
        node_of[i] = Some(nodes.len() - 1);
        node_of[j] = None;
        count[i] = ci + cj;
    }
    TopicTree { nodes }
}

fn best_keywords(mut kw: Vec<(String, f64)>) -> Vec<String> {
    kw.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    kw.dedup_by(|a, b| a.0 == b.0);
    kw.into_iter().take(NODE_KEYWORDS).map(|(w, _)| w).collect()
}

/// The number of themes a tree of `leaves` topics is cut into by default: about the square
/// root of the number of topics, at least 1 (GetTopicTree without `themes`, `topics report`).
pub fn default_theme_count(leaves: usize) -> usize {
    ((leaves as f64).sqrt().round() as usize).max(1)
}

/// What a node is called: the topic's display label for a leaf (a one-topic theme), else the
/// node's [`TreeNode::name`] (its first three merged keywords).
pub fn node_title(model: &TopicModel, node: &TreeNode) -> String {
    match node.topic_id.and_then(|id| model.label_of(id)) {
        Some(label) if !label.is_empty() => label.to_string(),
        _ => node.name(),
    }
}

/// `k` themes (clamped to `1..=leaves`): the node indices of the subtrees left when the last
/// `k − 1` merges are undone, largest first (ties: the smaller smallest topic id).
pub fn themes(tree: &TopicTree, k: usize) -> Vec<usize> {
    let Some(root) = tree.root() else { return Vec::new() };
    let k = k.clamp(1, tree.n_leaves());
    let mut cut = vec![root];
    // Undo merges from the last one: the live inner node with the largest index goes first.
    while cut.len() < k {
        let Some(pos) = cut
            .iter()
            .enumerate()
            .filter(|(_, &i)| tree.nodes[i].children.is_some())
            .max_by_key(|(_, &i)| i)
            .map(|(p, _)| p)
        else {
            break;
        };
        let node = cut.swap_remove(pos);
        if let Some((a, b)) = tree.nodes[node].children {
            cut.push(a);
            cut.push(b);
        }
    }
    cut.sort_by(|&a, &b| {
        let (x, y) = (&tree.nodes[a], &tree.nodes[b]);
        y.size.cmp(&x.size).then(x.topic_ids.first().cmp(&y.topic_ids.first()))
    });
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{day, day_model, unit, TopicSpec};

    fn model() -> TopicModel {
        // Two groups: topics on axes 0/1 close together, 2/3 close together.
        let near = |a: usize, b: usize| {
            let mut v = vec![0.0f32; 6];
            v[a] = 1.0;
            v[b] = 0.3;
            unit(v)
        };
        let specs: Vec<TopicSpec<'_>> = vec![
            (near(0, 1), vec![("refund", 10), ("money", 4)], 30),
            (near(1, 0), vec![("refund", 6), ("card", 8)], 20),
            (near(2, 3), vec![("delivery", 9), ("late", 5)], 25),
            (near(3, 2), vec![("delivery", 7), ("parcel", 6)], 15),
            (near(5, 4), vec![("hello", 5)], 5),
        ];
        day_model(day(0), &specs, None)
    }

    #[test]
    fn the_tree_groups_near_topics_and_themes_cut_it() {
        let m = model();
        let t = topic_tree(&m);
        assert_eq!(t.nodes.len(), 9);
        assert_eq!(t.n_leaves(), 5);
        let root = &t.nodes[t.root().unwrap()];
        assert_eq!(root.topic_ids, vec![0, 1, 2, 3, 4]);
        assert_eq!(root.size, 95);
        // Distances never decrease up the tree.
        for n in &t.nodes {
            if let Some((a, b)) = n.children {
                assert!(n.distance >= t.nodes[a].distance && n.distance >= t.nodes[b].distance);
            }
        }
        let th = themes(&t, 3);
        let groups: Vec<Vec<i64>> = th.iter().map(|&i| t.nodes[i].topic_ids.clone()).collect();
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert!(t.nodes[th[0]].name().starts_with("refund"), "{}", t.nodes[th[0]].name());
        assert!(t.nodes[th[1]].name().starts_with("delivery"));
        assert_eq!(themes(&t, 1), vec![t.root().unwrap()]);
        assert_eq!(themes(&t, 99).len(), 5);
        // Deterministic.
        assert_eq!(topic_tree(&m), t);
    }

    #[test]
    fn hidden_topics_are_left_out_and_small_models_work() {
        let mut m = model();
        for t in m.topics.iter_mut().filter(|t| t.id == 4) {
            t.memory.edits.hidden = true;
        }
        assert_eq!(topic_tree(&m).n_leaves(), 4);
        m.topics.retain(|t| t.id == 0);
        let t = topic_tree(&m);
        assert_eq!(t.nodes.len(), 1);
        assert_eq!(themes(&t, 3), vec![0]);
        m.topics.clear();
        assert!(themes(&topic_tree(&m), 3).is_empty());
    }

    #[test]
    fn default_theme_counts_and_node_titles() {
        let counts: Vec<usize> = [0, 1, 2, 3, 5, 9, 20, 500].map(default_theme_count).to_vec();
        assert_eq!(counts, vec![1, 1, 1, 2, 2, 3, 4, 22]);
        let mut m = model();
        let t = topic_tree(&m);
        // A leaf is titled by its topic's label (an operator's when set), an inner node by
        // its keywords.
        assert_eq!(node_title(&m, &t.nodes[0]), m.label_of(0).unwrap());
        let root = &t.nodes[t.root().unwrap()];
        assert_eq!(node_title(&m, root), root.name());
        m.set_label_override(0, Some("Refunds")).unwrap();
        assert_eq!(node_title(&m, &t.nodes[0]), "Refunds");
    }
}
