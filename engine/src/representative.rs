//! Representative documents per topic, as BERTopic's `_extract_representative_docs`
//! (`../../shared/docs/BERTOPIC_NOTES.md` §5), kept deterministic and made a little more useful:
//! 1. Per topic (ascending id, `-1` included), draw [`CANDIDATES`] documents **with replacement**
//!    from one seeded random stream shared by all topics, then drop duplicates: all documents of
//!    a small topic, about 63 % of a 500-document one.
//! 2. Vectorize each candidate's **raw** text over the fitted vocabulary (no English stripping),
//!    apply the c-TF-IDF transform and score it by cosine to the topic's c-TF-IDF row.
//! 3. Keep the best `n` (BERTopic keeps 3, unordered); ours are sorted best first (ties by
//!    document order) and identical texts are kept once.

use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::ctfidf::{sparse_cosine, TopicTerms};
use crate::vectorize::{count_in_vocabulary, Tokenizer};

/// Documents drawn per topic before deduplication (BERTopic's `nr_samples=500`).
pub const CANDIDATES: usize = 500;

/// Up to `n` representative documents (indices into `texts`) for each class.
///
/// `members[c]` lists the documents of class `c` in document order; `topics` holds the classes'
/// c-TF-IDF rows in the same order.
pub fn representative_docs(
    texts: &[String],
    members: &[Vec<usize>],
    topics: &TopicTerms,
    tokenizer: &Tokenizer,
    n: usize,
    seed: u64,
) -> Vec<Vec<usize>> {
    // The draws come from one stream, in topic order; the scoring then runs in parallel.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let candidates: Vec<Vec<usize>> = members
        .iter()
        .map(|docs| {
            if docs.is_empty() || n == 0 {
                return Vec::new();
            }
            let mut picked: Vec<usize> =
                (0..CANDIDATES).map(|_| docs[rng.random_range(0..docs.len())]).collect();
            picked.sort_unstable();
            picked.dedup();
            picked
        })
        .collect();
    candidates
        .into_par_iter()
        .zip(topics.weights.par_iter())
        .map(|(picked, weights)| {
            let mut scored: Vec<(f64, usize)> = picked
                .into_iter()
                .map(|d| {
                    let row = count_in_vocabulary(&texts[d], tokenizer, &topics.counts);
                    (sparse_cosine(&topics.tfidf.transform(&row), weights), d)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut out: Vec<usize> = Vec::with_capacity(n);
            for (_, d) in scored {
                if out.len() == n {
                    break;
                }
                if !out.iter().any(|&o| texts[o].trim() == texts[d].trim()) {
                    out.push(d);
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vectorize::DocTerms;

    #[test]
    fn picks_the_most_typical_documents_first() {
        let texts: Vec<String> = [
            "refund my order",
            "refund refund order",
            "where is my card",
            "order refund please",
            "card card delivery",
            "refund my order",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let classes = [0, 0, 1, 0, 1, 0];
        let tok = Tokenizer::new(true).unwrap();
        let topics =
            TopicTerms::extract(&DocTerms::count(&texts, true, &tok), &classes, 2).unwrap();
        let members = vec![vec![0, 1, 3, 5], vec![2, 4]];
        let reps = representative_docs(&texts, &members, &topics, &tok, 5, 42);
        // Duplicate text "refund my order" appears once.
        assert_eq!(reps[0].len(), 3);
        assert!(reps[0].iter().all(|d| members[0].contains(d)));
        assert_eq!(reps[1].len(), 2);
        let again = representative_docs(&texts, &members, &topics, &tok, 5, 42);
        assert_eq!(reps, again);
        let two = representative_docs(&texts, &members, &topics, &tok, 2, 42);
        assert_eq!(&two[0][..], &reps[0][..2]);
    }
}
