//! Topic reduction: `nr_topics = auto | N`, and the final renumbering by size
//! (`../../shared/docs/BERTOPIC_NOTES.md` §1 and §4).
//!
//! Both reductions work on the topic vectors (mean input embedding per topic; BERTopic fits with
//! `use_ctfidf=False`) and only relabel whole topics: a reduction never moves documents into or
//! out of the outlier topic `-1`. The caller re-extracts c-TF-IDF afterwards.
//! - `N` (`_reduce_to_n_topics`): the count includes `-1`, so with outliers the non-outlier
//!   topics are merged into `N − 1` clusters by average-linkage agglomerative clustering on
//!   `1 − cos`; nothing happens when `N` ≥ the current count.
//! - `auto` (`_auto_reduce_topics`): HDBSCAN (`min_cluster_size = min_samples = 2`, EOM) over the
//!   L2-normalised topic vectors; each clustered topic maps to the smallest id of its cluster,
//!   noise topics stay.

use std::collections::HashMap;

use crate::error::{EngineError, Result};
use crate::hdbscan::{self, HdbscanParams};
use crate::matrix::Matrix;
use crate::model::OUTLIER_TOPIC;
use crate::params::NrTopics;

/// Mean input embedding per topic (`-1` included), unnormalised.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicVectors {
    /// Topic ids, ascending (`-1` first when present).
    pub ids: Vec<i64>,
    /// Documents per topic, same order.
    pub sizes: Vec<usize>,
    /// One row per topic, same order.
    pub vectors: Matrix,
}

/// Mean of the embeddings of each topic's documents.
pub fn topic_vectors(labels: &[i64], embeddings: &Matrix) -> Result<TopicVectors> {
    if labels.len() != embeddings.rows() {
        return Err(EngineError::input(format!(
            "{} labels for {} embeddings",
            labels.len(),
            embeddings.rows()
        )));
    }
    let mut ids: Vec<i64> = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let row_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(r, &id)| (id, r)).collect();
    let dim = embeddings.cols();
    let mut sums = vec![0.0f64; ids.len() * dim];
    let mut sizes = vec![0usize; ids.len()];
    for (i, &l) in labels.iter().enumerate() {
        let r = row_of[&l];
        sizes[r] += 1;
        for (s, &v) in sums[r * dim..(r + 1) * dim].iter_mut().zip(embeddings.row(i)) {
            *s += f64::from(v);
        }
    }
    let data: Vec<f32> = sums
        .chunks_exact(dim.max(1))
        .zip(&sizes)
        .flat_map(|(row, &s)| row.iter().map(move |&v| (v / s as f64) as f32))
        .collect();
    let vectors = Matrix::new(data, ids.len(), dim)?;
    Ok(TopicVectors { ids, sizes, vectors })
}

/// Applies `nr_topics` to per-document `labels`, returning the merged labels (ids of surviving
/// topics are kept; renumber afterwards with [`renumber_by_size`]).
pub fn reduce(labels: &[i64], embeddings: &Matrix, nr_topics: NrTopics) -> Result<Vec<i64>> {
    if nr_topics == NrTopics::None {
        return Ok(labels.to_vec());
    }
    let tv = topic_vectors(labels, embeddings)?;
    let has_outliers = tv.ids.first() == Some(&OUTLIER_TOPIC);
    let start = usize::from(has_outliers);
    let ids = &tv.ids[start..];
    let rows: Vec<usize> = (start..tv.ids.len()).collect();
    let vectors = tv.vectors.select_rows(&rows);
    let mapping: HashMap<i64, i64> = match nr_topics {
        NrTopics::None => HashMap::new(),
        NrTopics::Fixed(n) => {
            let count = tv.ids.len();
            if n >= count || ids.is_empty() {
                HashMap::new()
            } else {
                let target = n.saturating_sub(usize::from(has_outliers)).max(1);
                let groups = average_linkage(&cosine_distances(&vectors), target);
                map_groups_to_smallest_id(ids, &groups)
            }
        }
        NrTopics::Auto => {
            if ids.len() < 2 {
                HashMap::new()
            } else {
                let mut normed = vectors.clone();
                normed.normalize_rows();
                let params = HdbscanParams {
                    min_cluster_size: 2,
                    min_samples: Some(2),
                    allow_single_cluster: false,
                };
                let c = hdbscan::fit(&normed, &params)?;
                // Noise topics keep their ids: give each its own group.
                let groups: Vec<i64> = c
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| if l >= 0 { l } else { -(i as i64) - 1 })
                    .collect();
                map_groups_to_smallest_id(ids, &groups)
            }
        }
    };
    Ok(labels.iter().map(|l| mapping.get(l).copied().unwrap_or(*l)).collect())
}

/// Maps each topic to the smallest topic id sharing its group label.
fn map_groups_to_smallest_id(ids: &[i64], groups: &[i64]) -> HashMap<i64, i64> {
    let mut smallest: HashMap<i64, i64> = HashMap::new();
    for (&id, &g) in ids.iter().zip(groups) {
        let e = smallest.entry(g).or_insert(id);
        *e = (*e).min(id);
    }
    ids.iter().zip(groups).map(|(&id, g)| (id, smallest[g])).collect()
}

/// `1 − cos` between all rows (diagonal 0), row-major `k × k`.
fn cosine_distances(vectors: &Matrix) -> Vec<f64> {
    let k = vectors.rows();
    let norms: Vec<f64> = vectors
        .iter_rows()
        .map(|r| r.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt())
        .collect();
    let mut d = vec![0.0f64; k * k];
    for i in 0..k {
        for j in (i + 1)..k {
            let dot: f64 = vectors
                .row(i)
                .iter()
                .zip(vectors.row(j))
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum();
            let cos =
                if norms[i] == 0.0 || norms[j] == 0.0 { 0.0 } else { dot / (norms[i] * norms[j]) };
            d[i * k + j] = 1.0 - cos;
            d[j * k + i] = 1.0 - cos;
        }
    }
    d
}

/// Average-linkage (UPGMA) agglomerative clustering of `k` items with the precomputed distance
/// matrix `dist` (`k × k`) into `n_clusters` groups; returns a group label per item. Ties merge
/// the lexicographically smallest pair first.
pub fn average_linkage(dist: &[f64], n_clusters: usize) -> Vec<i64> {
    let k = (dist.len() as f64).sqrt().round() as usize;
    let mut d = dist.to_vec();
    let mut members: Vec<usize> = vec![1; k];
    let mut active: Vec<bool> = vec![true; k];
    let mut group: Vec<usize> = (0..k).collect();
    let mut count = k;
    while count > n_clusters.max(1) {
        let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
        for i in (0..k).filter(|&i| active[i]) {
            for j in ((i + 1)..k).filter(|&j| active[j]) {
                if d[i * k + j] < best.0 {
                    best = (d[i * k + j], i, j);
                }
            }
        }
        let (_, a, b) = best;
        if a == usize::MAX {
            break;
        }
        // Lance–Williams update for average linkage, weighted by cluster sizes.
        let (na, nb) = (members[a] as f64, members[b] as f64);
        for x in (0..k).filter(|&x| active[x] && x != a && x != b) {
            let v = (na * d[a * k + x] + nb * d[b * k + x]) / (na + nb);
            d[a * k + x] = v;
            d[x * k + a] = v;
        }
        members[a] += members[b];
        active[b] = false;
        for g in group.iter_mut() {
            if *g == b {
                *g = a;
            }
        }
        count -= 1;
    }
    group.into_iter().map(|g| g as i64).collect()
}

/// Renumbers topics `0..k` by size descending, ties by first appearance in document order
/// (BERTopic's `_sort_mappings_by_frequency`); `-1` stays `-1`.
pub fn renumber_by_size(labels: &[i64]) -> Vec<i64> {
    let mut stats: HashMap<i64, (usize, usize)> = HashMap::new(); // id → (size, first index)
    for (i, &l) in labels.iter().enumerate() {
        if l != OUTLIER_TOPIC {
            stats.entry(l).or_insert((0, i)).0 += 1;
        }
    }
    let mut order: Vec<(i64, usize, usize)> =
        stats.into_iter().map(|(id, (s, f))| (id, s, f)).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let new_id: HashMap<i64, i64> =
        order.iter().enumerate().map(|(rank, &(id, _, _))| (id, rank as i64)).collect();
    labels.iter().map(|l| if *l == OUTLIER_TOPIC { OUTLIER_TOPIC } else { new_id[l] }).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Four topics in 2-d: 0 and 1 point the same way, 2 and 3 another; -1 elsewhere.
    fn example() -> (Vec<i64>, Matrix) {
        let labels = vec![0, 0, 1, 2, 2, 2, 3, -1, -1, 1];
        let rows: Vec<[f32; 3]> = vec![
            [1.0, 0.0, 0.0],
            [1.0, 0.1, 0.0],
            [0.9, 0.2, 0.0],
            [0.0, 1.0, 0.0],
            [0.1, 1.0, 0.0],
            [0.0, 0.9, 0.0],
            [0.2, 1.0, 0.1],
            [0.0, 0.0, 1.0],
            [0.0, 0.1, 1.0],
            [1.0, 0.3, 0.0],
        ];
        (labels, Matrix::from_rows(&rows).unwrap())
    }

    #[test]
    fn means_per_topic() {
        let (labels, m) = example();
        let tv = topic_vectors(&labels, &m).unwrap();
        assert_eq!(tv.ids, vec![-1, 0, 1, 2, 3]);
        assert_eq!(tv.sizes, vec![2, 2, 2, 3, 1]);
        assert!((tv.vectors.row(1)[1] - 0.05).abs() < 1e-6);
    }

    #[test]
    fn fixed_n_counts_the_outlier_topic() {
        let (labels, m) = example();
        // 5 topics including -1; N = 3 → 2 clusters of non-outlier topics.
        let r = reduce(&labels, &m, NrTopics::Fixed(3)).unwrap();
        assert_eq!(r, vec![0, 0, 0, 2, 2, 2, 2, -1, -1, 0]);
        // N ≥ count: unchanged.
        assert_eq!(reduce(&labels, &m, NrTopics::Fixed(5)).unwrap(), labels);
        // N = 1 still leaves one topic besides -1.
        let r = reduce(&labels, &m, NrTopics::Fixed(1)).unwrap();
        assert!(r.iter().all(|&l| l == 0 || l == -1));
        assert_eq!(r.iter().filter(|&&l| l == -1).count(), 2);
    }

    #[test]
    fn auto_merges_similar_topics_and_never_touches_outliers() {
        // Six topics: three near-copies of direction x, three of direction y, one doc each.
        let labels: Vec<i64> = vec![0, 1, 2, 3, 4, 5, -1];
        let rows: Vec<[f32; 2]> = vec![
            [1.0, 0.0],
            [1.0, 0.01],
            [1.0, 0.02],
            [0.0, 1.0],
            [0.01, 1.0],
            [0.02, 1.0],
            [1.0, 0.0],
        ];
        let m = Matrix::from_rows(&rows).unwrap();
        let r = reduce(&labels, &m, NrTopics::Auto).unwrap();
        assert_eq!(r, vec![0, 0, 0, 3, 3, 3, -1]);
    }

    #[test]
    fn average_linkage_uses_mean_distances() {
        // Items 0,1 close; 2 at 4 from 0 and 6 from 1 (mean 5); 3 at 4.5 from 0 and 1.
        let d = vec![
            0.0, 1.0, 4.0, 4.5, //
            1.0, 0.0, 6.0, 4.5, //
            4.0, 6.0, 0.0, 9.0, //
            4.5, 4.5, 9.0, 0.0,
        ];
        // After {0,1}: d({0,1},2) = 5, d({0,1},3) = 4.5 → 3 joins next.
        assert_eq!(average_linkage(&d, 2), vec![0, 0, 2, 0]);
        assert_eq!(average_linkage(&d, 4), vec![0, 1, 2, 3]);
    }

    #[test]
    fn renumbering_by_size_then_first_appearance() {
        let labels = vec![5, 7, 7, -1, 9, 9, 5, 3];
        assert_eq!(renumber_by_size(&labels), vec![0, 1, 1, -1, 2, 2, 0, 3]);
    }
}
