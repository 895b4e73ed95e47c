//! Member samples ([`TopicMemory`](crate::model::TopicMemory)): bounded, deterministic,
//! mergeable samples of a topic's document embeddings, and the nearest-neighbour votes the
//! member rule of [`super::merge`] takes from them.
//!
//! Each document embedding gets a pseudo-random key from its own bits ([`member_key`]); a sample
//! keeps the `k` documents with the smallest keys (a bottom-k sample). The bottom-k of the union
//! of two bottom-k samples is the bottom-k of the union of the two document sets, so a topic's
//! sample stays a uniform draw of every document folded into it without keeping the documents,
//! and it needs no seed: the same documents give the same sample in any order.

use crate::simd::Isa;

/// Rounds an embedding to what the model file stores (`f16`), so a sample reads back bit for
/// bit and its keys do not change on a save and load.
pub(crate) fn quantize(row: &[f32]) -> Vec<f32> {
    row.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect()
}

/// The sampling key of a (quantized) member embedding: FNV-1a over the `f32` bits, then
/// SplitMix64's finaliser so that close embeddings get unrelated keys.
pub(crate) fn member_key(row: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in row {
        h ^= u64::from(v.to_bits());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The `k` rows with the smallest keys (ties: the bitwise smaller row), in key order.
pub(crate) fn bottom_k<'a>(rows: impl IntoIterator<Item = &'a [f32]>, k: usize) -> Vec<Vec<f32>> {
    let mut keyed: Vec<(u64, &[f32])> = rows.into_iter().map(|r| (member_key(r), r)).collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.iter().map(|v| v.to_bits()).cmp(b.1.iter().map(|v| v.to_bits())))
    });
    keyed.truncate(k);
    keyed.into_iter().map(|(_, r)| r.to_vec()).collect()
}

/// Where the `neighbors` nearest rows (cosine; unit rows) of each query fall among `groups`:
/// per query, how many of its neighbours are in each group.
///
/// `groups[i]` is a set of rows; when `own` is `Some(g)`, the queries are `groups[g]` itself and
/// a query is never its own neighbour. Ties in similarity go to the earlier group and row, so the
/// result is deterministic. Returns the counts and the number of neighbours each query had
/// (`neighbors`, or fewer when there are fewer rows).
pub(crate) fn neighbour_counts(
    isa: Isa,
    queries: &[&[f32]],
    groups: &[&[&[f32]]],
    own: Option<usize>,
    neighbors: usize,
) -> (Vec<Vec<u32>>, usize) {
    let pool =
        groups.iter().map(|g| g.len()).sum::<usize>().saturating_sub(usize::from(own.is_some()));
    let k = neighbors.min(pool);
    let mut counts = vec![vec![0u32; groups.len()]; queries.len()];
    if k == 0 {
        return (counts, 0);
    }
    // (similarity, group, row) of every candidate neighbour of one query.
    let mut scored: Vec<(f32, usize, usize)> = Vec::with_capacity(pool + 1);
    for (qi, q) in queries.iter().enumerate() {
        scored.clear();
        for (g, rows) in groups.iter().enumerate() {
            for (ri, r) in rows.iter().enumerate() {
                if own == Some(g) && ri == qi {
                    continue;
                }
                scored.push((isa.dot(q, r), g, ri));
            }
        }
        let by_similarity = |a: &(f32, usize, usize), b: &(f32, usize, usize)| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
        };
        if scored.len() > k {
            scored.select_nth_unstable_by(k - 1, by_similarity);
        }
        for &(_, g, _) in &scored[..k] {
            counts[qi][g] += 1;
        }
    }
    (counts, k)
}

/// The share of all neighbour slots of the queries ([`neighbour_counts`]) that each group
/// received (the shares sum to 1; all zero when there is nothing to vote for).
pub(crate) fn neighbour_shares(
    isa: Isa,
    queries: &[&[f32]],
    groups: &[&[&[f32]]],
    own: Option<usize>,
    neighbors: usize,
) -> Vec<f32> {
    let (counts, k) = neighbour_counts(isa, queries, groups, own, neighbors);
    let total = (k * queries.len()) as f64;
    (0..groups.len())
        .map(|g| {
            if total == 0.0 {
                return 0.0;
            }
            (counts.iter().map(|c| f64::from(c[g])).sum::<f64>() / total) as f32
        })
        .collect()
}

/// The share of neighbour slots a group of `n_group` rows gets from `n_query` queries when both
/// are draws of one distribution (the queries' own other rows competing): what
/// [`neighbour_shares`] is compared with.
pub(crate) fn expected_share(n_group: usize, n_query: usize) -> f32 {
    let pool = n_group + n_query.saturating_sub(1);
    if pool == 0 {
        return 0.0;
    }
    n_group as f32 / pool as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize, dim: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        v[i % dim] = 1.0;
        v[(i * 7 + 3) % dim] += 0.5;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        quantize(&v.into_iter().map(|x| x / n).collect::<Vec<_>>())
    }

    #[test]
    fn bottom_k_of_a_union_is_the_union_of_bottom_ks() {
        let rows: Vec<Vec<f32>> = (0..40).map(|i| row(i, 16)).collect();
        let all = bottom_k(rows.iter().map(Vec::as_slice), 8);
        let a = bottom_k(rows[..25].iter().map(Vec::as_slice), 8);
        let b = bottom_k(rows[25..].iter().map(Vec::as_slice), 8);
        let merged = bottom_k(a.iter().chain(&b).map(Vec::as_slice), 8);
        assert_eq!(all, merged);
        // Order of the input does not matter.
        let rev = bottom_k(rows.iter().rev().map(Vec::as_slice), 8);
        assert_eq!(all, rev);
    }

    #[test]
    fn quantized_rows_keep_their_keys() {
        let r = row(3, 16);
        assert_eq!(quantize(&r), r);
        assert_eq!(member_key(&quantize(&r)), member_key(&r));
    }

    #[test]
    fn shares_follow_the_nearest_rows() {
        let isa = Isa::detect();
        let x = |a: f32| vec![a.cos(), a.sin()];
        // Queries near angle 0; group 0 near 0 too, group 1 at 90 degrees.
        let (q0, q1) = (x(0.0), x(0.05));
        let (a, b, c, d) = (x(0.02), x(0.03), x(1.5), x(1.6));
        let q: Vec<&[f32]> = vec![&q0, &q1];
        let g0: Vec<&[f32]> = vec![&a, &b];
        let g1: Vec<&[f32]> = vec![&c, &d];
        let s = neighbour_shares(isa, &q, &[&g0, &g1], None, 2);
        assert_eq!(s, vec![1.0, 0.0]);
        // With the queries as their own group, each query's nearest other query competes.
        let s = neighbour_shares(isa, &q, &[&g0, &g1, &q], Some(2), 3);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((s[0] - 4.0 / 6.0).abs() < 1e-6 && s[1] == 0.0);
        assert_eq!(expected_share(2, 2), 2.0 / 3.0);
    }
}
