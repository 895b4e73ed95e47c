//! Class-based TF-IDF exactly as BERTopic's `ClassTfidfTransformer`
//! (`../../shared/docs/BERTOPIC_NOTES.md` §2), defaults (no BM25, no frequent-word reduction):
//! - `f_t = Σ_c X[c, t]` (total count of the term over all classes, not a document frequency);
//! - `A = int(mean_c Σ_t X[c, t])` (average number of tokens per class, truncated);
//! - `idf_t = ln(1 + A / f_t)`;
//! - `tf[c, t] = X[c, t] / Σ_t X[c, t]` (row L1) and `c-TF-IDF = tf × idf`, with **no** final
//!   normalisation.
//!
//! Computed in `f64` (as numpy does) and stored as `f32` keyword weights.

use crate::error::{EngineError, Result};
use crate::model::Keyword;
use crate::vectorize::{class_term_counts, ClassCounts, DocTerms};

/// A fitted c-TF-IDF transform: one idf value per vocabulary term.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassTfidf {
    /// `ln(1 + A / f_t)` per term.
    pub idf: Vec<f64>,
    /// `A`: the truncated mean number of tokens per class.
    pub avg_tokens_per_class: u64,
}

/// One sparse row of c-TF-IDF weights `(term index, weight)`, ascending by term index.
pub type SparseWeights = Vec<(u32, f64)>;

impl ClassTfidf {
    /// Fits the idf on class × term counts (sparse rows, ascending term index) over `n_terms`
    /// terms. A term no class counts gets idf 0 (it can never be a keyword).
    pub fn fit<R: AsRef<[(u32, u32)]>>(rows: &[R], n_terms: usize) -> Result<Self> {
        if rows.is_empty() {
            return Err(EngineError::input("c-TF-IDF needs at least one class"));
        }
        let mut f = vec![0u64; n_terms];
        let mut total = 0u64;
        for row in rows {
            for &(t, c) in row.as_ref() {
                let slot = f.get_mut(t as usize).ok_or_else(|| {
                    EngineError::input(format!("term index {t} out of range 0..{n_terms}"))
                })?;
                *slot += u64::from(c);
                total += u64::from(c);
            }
        }
        // numpy: int(X.sum(axis=1).mean()) — the float mean, truncated.
        let avg = (total as f64 / rows.len() as f64) as u64;
        let idf = f
            .iter()
            .map(|&ft| if ft == 0 { 0.0 } else { (1.0 + avg as f64 / ft as f64).ln() })
            .collect();
        Ok(Self { idf, avg_tokens_per_class: avg })
    }

    /// c-TF-IDF of one count row (a class, or a single document): L1 row normalisation × idf.
    /// A row without tokens has no weights.
    pub fn transform(&self, row: &[(u32, u32)]) -> SparseWeights {
        let total: u64 = row.iter().map(|&(_, c)| u64::from(c)).sum();
        if total == 0 {
            return Vec::new();
        }
        row.iter()
            .map(|&(t, c)| {
                let idf = self.idf.get(t as usize).copied().unwrap_or(0.0);
                (t, f64::from(c) / total as f64 * idf)
            })
            .collect()
    }
}

/// Everything c-TF-IDF knows about a set of classes (topics): counts over the fitted
/// vocabulary, the idf, and each class's c-TF-IDF row.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicTerms {
    /// Class × term counts and the sorted vocabulary.
    pub counts: ClassCounts,
    /// The fitted idf.
    pub tfidf: ClassTfidf,
    /// c-TF-IDF row per class.
    pub weights: Vec<SparseWeights>,
}

impl TopicTerms {
    /// BERTopic's `_c_tf_idf(documents_per_topic, fit=True)`: groups documents into
    /// `n_classes` classes, fits the vocabulary and the idf, and weights every class.
    pub fn extract(terms: &DocTerms, class_of: &[usize], n_classes: usize) -> Result<Self> {
        let counts = class_term_counts(terms, class_of, n_classes)?;
        let tfidf = ClassTfidf::fit(&counts.rows, counts.vocabulary.len())?;
        let weights = counts.rows.iter().map(|r| tfidf.transform(r)).collect();
        Ok(Self { counts, tfidf, weights })
    }

    /// The `top_n` keywords of class `c`, best first.
    pub fn keywords(&self, c: usize, top_n: usize) -> Vec<Keyword> {
        self.weights.get(c).map_or_else(Vec::new, |w| top_words(w, &self.counts.vocabulary, top_n))
    }
}

/// The `top_n` c-TF-IDF keywords of every class, from stored class × term counts over
/// `vocabulary` (the one c-TF-IDF: fit uses it through [`TopicTerms`], merge on the merged
/// topics' term counts, the BERTopic import checks against it): [`ClassTfidf::fit`], then
/// [`ClassTfidf::transform`] and [`top_words`] per class. Errors on a term index outside the
/// vocabulary or when there is no class.
pub fn class_keywords<R: AsRef<[(u32, u32)]>>(
    classes: &[R],
    vocabulary: &[String],
    top_n: usize,
) -> Result<Vec<Vec<Keyword>>> {
    let tfidf = ClassTfidf::fit(classes, vocabulary.len())?;
    Ok(classes.iter().map(|c| top_words(&tfidf.transform(c.as_ref()), vocabulary, top_n)).collect())
}

/// The `top_n` best terms of a c-TF-IDF row, best first, as BERTopic's
/// `_extract_words_per_topic`: only positive weights (BERTopic pads with `("", 1e-5)`, we just
/// return fewer), ties broken by vocabulary order.
pub fn top_words(weights: &SparseWeights, vocabulary: &[String], top_n: usize) -> Vec<Keyword> {
    let mut best: Vec<(u32, f64)> = weights.iter().copied().filter(|&(_, w)| w > 0.0).collect();
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    best.into_iter()
        .take(top_n)
        .filter_map(|(t, w)| {
            vocabulary.get(t as usize).map(|word| Keyword { word: word.clone(), weight: w as f32 })
        })
        .collect()
}

/// Cosine similarity of two sparse rows (ascending term indices).
pub fn sparse_cosine(a: &SparseWeights, b: &SparseWeights) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    let na = a.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vectorize::SparseCounts;

    /// Hand-computed example. Vocabulary [card, order, refund]; classes:
    ///   c0 = {order: 2, refund: 3}  (5 tokens)
    ///   c1 = {card: 1, order: 1}    (2 tokens)
    ///   c2 = {card: 4}              (4 tokens)
    /// f = [5, 3, 3]; A = int(11 / 3) = 3; idf = [ln(1 + 3/5), ln 2, ln 2].
    /// c0: order 2/5·ln 2 = 0.277259, refund 3/5·ln 2 = 0.415888.
    /// c1: card 1/2·ln 1.6 = 0.235002, order 1/2·ln 2 = 0.346574.
    /// c2: card 1·ln 1.6 = 0.470004.
    #[test]
    fn matches_hand_computed_values() {
        let rows: Vec<SparseCounts> =
            vec![vec![(1, 2), (2, 3)], vec![(0, 1), (1, 1)], vec![(0, 4)]];
        let m = ClassTfidf::fit(&rows, 3).unwrap();
        assert_eq!(m.avg_tokens_per_class, 3);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(m.idf[0], 1.6f64.ln()));
        assert!(close(m.idf[1], 2f64.ln()));
        let c0 = m.transform(&rows[0]);
        assert!(close(c0[0].1, 0.277259) && close(c0[1].1, 0.415888), "{c0:?}");
        let c1 = m.transform(&rows[1]);
        assert!(close(c1[0].1, 0.235002) && close(c1[1].1, 0.346574), "{c1:?}");
        let c2 = m.transform(&rows[2]);
        assert!(close(c2[0].1, 0.470004), "{c2:?}");

        let vocab: Vec<String> =
            ["card", "order", "refund"].iter().map(|s| s.to_string()).collect();
        let words = top_words(&c0, &vocab, 10);
        assert_eq!(words.iter().map(|k| k.word.as_str()).collect::<Vec<_>>(), ["refund", "order"]);
        assert!((words[0].weight - 0.415888).abs() < 1e-6);
        assert_eq!(top_words(&c1, &vocab, 1)[0].word, "order");
    }

    #[test]
    fn ties_follow_vocabulary_order_and_empty_rows_are_empty() {
        let rows: Vec<SparseCounts> = vec![vec![(0, 1), (1, 1)], vec![]];
        let m = ClassTfidf::fit(&rows, 2).unwrap();
        let vocab: Vec<String> = vec!["b".into(), "a".into()];
        let w = top_words(&m.transform(&rows[0]), &vocab, 5);
        assert_eq!(w[0].word, "b");
        assert!(m.transform(&rows[1]).is_empty());
        assert!(ClassTfidf::fit::<SparseCounts>(&[], 2).is_err());
        assert!(ClassTfidf::fit(&[vec![(5, 1)]], 2).is_err());
    }

    /// Two classes: c0 = {a:3, b:1}, c1 = {b:2, c:2}. f = (3, 3, 2), A = int(8/2) = 4.
    #[test]
    fn class_keywords_match_the_bertopic_formula() {
        let vocab: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let c0 = [(0u32, 3u32), (1, 1)];
        let c1 = [(1u32, 2u32), (2, 2)];
        let kw = class_keywords(&[&c0[..], &c1[..]], &vocab, 10).unwrap();
        let idf = |f: f64| (1.0 + 4.0 / f).ln();
        assert_eq!(kw[0][0].word, "a");
        assert!((kw[0][0].weight as f64 - 0.75 * idf(3.0)).abs() < 1e-6);
        assert!((kw[0][1].weight as f64 - 0.25 * idf(3.0)).abs() < 1e-6);
        assert_eq!(kw[1][0].word, "c");
        assert!((kw[1][0].weight as f64 - 0.5 * idf(2.0)).abs() < 1e-6);
        // Zero counts and empty classes have no keywords; a bad index is an error.
        let kw = class_keywords(&[vec![(0u32, 0u32)], vec![]], &vocab, 10).unwrap();
        assert!(kw.iter().all(Vec::is_empty));
        assert!(class_keywords(&[vec![(7u32, 1u32)]], &vocab, 10).is_err());
    }

    #[test]
    fn cosine() {
        let a = vec![(0, 1.0), (2, 1.0)];
        let b = vec![(2, 2.0)];
        assert!((sparse_cosine(&a, &b) - 1.0 / 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(sparse_cosine(&a, &Vec::new()), 0.0);
    }
}
