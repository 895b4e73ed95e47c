//! Knowledge-base coverage (issue 29): which of a tenant's help-centre articles answers a
//! question best, and whether that is close enough to count as an answer.
//!
//! A question (an FAQ entry, represented by its topic's embedding or its canonical question's)
//! is *covered* by its best article when their cosine is at least a threshold; otherwise it is
//! a *gap*: customers ask it and the help centre has nothing near it. Cosine of L2-normalised
//! rows, as everywhere else in the engine (transform, merge).
//!
//! ```
//! use topic_engine::coverage::{best_articles, covered};
//! use topic_engine::Matrix;
//!
//! let questions = Matrix::from_rows(&[[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
//! let articles = Matrix::from_rows(&[[0.9f32, 0.1]]).unwrap();
//! let best = best_articles(&questions, &articles).unwrap();
//! assert_eq!(best[0].map(|m| m.article), Some(0));
//! assert!(covered(best[0], 0.6).is_some()); // cosine 0.99
//! assert!(covered(best[1], 0.6).is_none()); // cosine 0.11: a gap
//! ```

use crate::error::{EngineError, Result};
use crate::matrix::Matrix;

/// The article nearest to one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArticleMatch {
    /// Row of the article in the articles matrix.
    pub article: usize,
    /// Cosine between the question and the article, in [-1, 1].
    pub score: f32,
}

/// For each row of `questions`, the row of `articles` with the largest cosine (the first one
/// on ties, so the answer is deterministic); `None` for every question when there are no
/// articles. Rows need not be normalised. `InvalidInput` when the dimensions differ or a row
/// is not finite.
pub fn best_articles(questions: &Matrix, articles: &Matrix) -> Result<Vec<Option<ArticleMatch>>> {
    if articles.rows() == 0 {
        return Ok(vec![None; questions.rows()]);
    }
    if questions.rows() > 0 && questions.cols() != articles.cols() {
        return Err(EngineError::input(format!(
            "questions have dimension {} but articles have {}; embed both with the same model",
            questions.cols(),
            articles.cols()
        )));
    }
    questions.check_finite()?;
    articles.check_finite()?;
    let mut q = questions.clone();
    q.normalize_rows();
    let mut a = articles.clone();
    a.normalize_rows();
    Ok(q.iter_rows()
        .map(|row| {
            let mut best: Option<ArticleMatch> = None;
            for (i, art) in a.iter_rows().enumerate() {
                let score: f32 = row.iter().zip(art).map(|(x, y)| x * y).sum();
                if best.is_none_or(|b| score > b.score) {
                    best = Some(ArticleMatch { article: i, score });
                }
            }
            best
        })
        .collect())
}

/// `best` when its cosine is at least `threshold` (the question is covered), `None` otherwise
/// (a gap).
pub fn covered(best: Option<ArticleMatch>, threshold: f32) -> Option<ArticleMatch> {
    best.filter(|m| m.score >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f32]]) -> Matrix {
        Matrix::from_rows(rows).unwrap()
    }

    #[test]
    fn picks_the_nearest_article_whatever_the_norms() {
        // Question 0 points along x; article 1 (scaled by 5) is exactly along x: cosine 1.
        // Question 1 is at 45° between x and y; article 0 (along y) and article 1 (along x)
        // both have cosine 0.7071: the first wins the tie.
        let q = m(&[&[2.0, 0.0], &[1.0, 1.0]]);
        let a = m(&[&[0.0, 3.0], &[5.0, 0.0]]);
        let best = best_articles(&q, &a).unwrap();
        assert_eq!(best[0].unwrap().article, 1);
        assert!((best[0].unwrap().score - 1.0).abs() < 1e-6);
        assert_eq!(best[1].unwrap().article, 0);
        assert!((best[1].unwrap().score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }

    #[test]
    fn threshold_is_inclusive() {
        let hit = Some(ArticleMatch { article: 0, score: 0.5 });
        assert_eq!(covered(hit, 0.5), hit);
        assert_eq!(covered(hit, 0.500_001), None);
        assert_eq!(covered(None, -1.0), None);
    }

    #[test]
    fn no_articles_means_every_question_is_a_gap() {
        let q = m(&[&[1.0, 0.0], &[0.0, 1.0]]);
        let a = Matrix::zeros(0, 2);
        assert_eq!(best_articles(&q, &a).unwrap(), vec![None, None]);
    }

    #[test]
    fn rejects_mismatched_dimensions_and_nan() {
        let q = m(&[&[1.0, 0.0]]);
        let err = best_articles(&q, &m(&[&[1.0, 0.0, 0.0]])).unwrap_err();
        assert!(err.to_string().contains("dimension 2"), "{err}");
        assert!(best_articles(&q, &m(&[&[f32::NAN, 0.0]])).is_err());
    }
}
