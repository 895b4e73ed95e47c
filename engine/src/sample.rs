//! Fitting large inputs on a sample ([`crate::FitParams::max_fit_documents`]): BERTopic's advice
//! for corpora too large to fit at once is to fit on a representative sample and assign the
//! rest with `transform`. The sample is stratified by day, so a tenant's quiet days keep their
//! share, and seeded, so the same input and seed give the same topics.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Up to `max` of the indices `0..n`, ascending: each day (`dates[i]`; one stratum when there
/// are no dates) gets `max · its documents / n` of them, rounded by largest remainder (ties to
/// the earlier day), drawn uniformly without replacement with a generator seeded by `seed`.
/// All of `0..n` when `n <= max`.
pub(crate) fn stratified_sample(
    dates: Option<&[NaiveDate]>,
    n: usize,
    max: usize,
    seed: u64,
) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut strata: BTreeMap<Option<NaiveDate>, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        strata.entry(dates.map(|d| d[i])).or_default().push(i);
    }
    // Largest-remainder allocation of `max` over the strata.
    let mut quota: Vec<(usize, u128, usize)> = strata
        .values()
        .enumerate()
        .map(|(s, members)| {
            let exact = members.len() as u128 * max as u128;
            ((exact / n as u128) as usize, exact % n as u128, s)
        })
        .collect();
    let left = max - quota.iter().map(|q| q.0).sum::<usize>();
    let mut order: Vec<usize> = (0..quota.len()).collect();
    order.sort_by(|&a, &b| quota[b].1.cmp(&quota[a].1).then(quota[a].2.cmp(&quota[b].2)));
    for &s in order.iter().take(left) {
        quota[s].0 += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A3C_1E00);
    let mut out = Vec::with_capacity(max);
    for (members, &(take, _, _)) in strata.values().zip(&quota) {
        let picked = rand::seq::index::sample(&mut rng, members.len(), take.min(members.len()));
        out.extend(picked.into_iter().map(|j| members[j]));
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default() + chrono::Days::new(n)
    }

    #[test]
    fn small_inputs_are_kept_whole() {
        assert_eq!(stratified_sample(None, 5, 5, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(stratified_sample(None, 3, 10, 1), vec![0, 1, 2]);
    }

    #[test]
    fn each_day_keeps_its_share_and_the_seed_decides() {
        // 700 documents on day 0, 200 on day 1, 100 on day 2; keep 100.
        let dates: Vec<NaiveDate> = (0..1000)
            .map(|i| {
                day(if i < 700 {
                    0
                } else if i < 900 {
                    1
                } else {
                    2
                })
            })
            .collect();
        let s = stratified_sample(Some(&dates), 1000, 100, 7);
        assert_eq!(s.len(), 100);
        assert!(s.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
        let per_day = |d: u64| s.iter().filter(|&&i| dates[i] == day(d)).count();
        assert_eq!((per_day(0), per_day(1), per_day(2)), (70, 20, 10));
        assert_eq!(s, stratified_sample(Some(&dates), 1000, 100, 7), "deterministic");
        assert_ne!(s, stratified_sample(Some(&dates), 1000, 100, 8), "the seed matters");
    }

    #[test]
    fn remainders_go_to_the_largest_fractions() {
        // Three days of 2, 2 and 6 documents, keep 3: exact shares 0.6, 0.6 and 1.8, so day 2
        // gets 1 + 1 and the last one goes to the earlier of the tied days.
        let dates: Vec<NaiveDate> = (0..10)
            .map(|i| {
                day(if i < 2 {
                    0
                } else if i < 4 {
                    1
                } else {
                    2
                })
            })
            .collect();
        let s = stratified_sample(Some(&dates), 10, 3, 1);
        let per_day = |d: u64| s.iter().filter(|&&i| dates[i] == day(d)).count();
        assert_eq!((per_day(0), per_day(1), per_day(2)), (1, 0, 2));
    }
}
