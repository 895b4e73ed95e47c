//! Embeddings sent by a caller: checked and turned into a [`Matrix`] (the engine normalises
//! rows itself, in fit and transform). Here, not
//! in an API layer, because the checks depend on state (the embedder's or the active model's
//! dimension) and every API sends the same rows.

use topic_engine::Matrix;

use super::error::{Error, Result};

/// Largest embedding dimension accepted in a request.
pub const MAX_EMBEDDING_DIM: usize = 16_384;

/// Precomputed embeddings: `n` rows of one dimension (`expected_dim` when known), finite and
/// not all zero, passed on as sent. Messages name the field `embeddings[i]`.
pub fn embeddings(rows: Vec<Vec<f32>>, n: usize, expected_dim: Option<usize>) -> Result<Matrix> {
    if rows.len() != n {
        return Err(Error::invalid_argument(format!(
            "{} embeddings for {} documents; send exactly one per document, or none",
            rows.len(),
            n
        )));
    }
    let dim = rows.first().map(Vec::len).unwrap_or(0);
    if dim == 0 || dim > MAX_EMBEDDING_DIM {
        return Err(Error::invalid_argument(format!(
            "embeddings[0] has dimension {dim}; expected 1..={MAX_EMBEDDING_DIM}"
        )));
    }
    if let Some(expected) = expected_dim {
        if dim != expected {
            return Err(Error::invalid_argument(format!(
                "embeddings have dimension {dim} but this server's model uses {expected}; embed with the same model"
            )));
        }
    }
    let mut data = Vec::with_capacity(n * dim);
    for (i, r) in rows.into_iter().enumerate() {
        if r.len() != dim {
            return Err(Error::invalid_argument(format!(
                "embeddings[{i}] has dimension {} but embeddings[0] has {dim}; all rows must match",
                r.len()
            )));
        }
        if r.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "embeddings[{i}] contains NaN or infinity"
            )));
        }
        if r.iter().all(|v| *v == 0.0) {
            return Err(Error::invalid_argument(format!("embeddings[{i}] is all zeros")));
        }
        data.extend_from_slice(&r);
    }
    Matrix::new(data, n, dim).map_err(|e| Error::invalid_argument(format!("embeddings: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_rules() {
        assert!(embeddings(vec![vec![1.0, 0.0]], 2, None).is_err());
        assert!(embeddings(vec![vec![1.0, f32::NAN]], 1, None)
            .unwrap_err()
            .message()
            .contains("NaN"));
        assert!(embeddings(vec![vec![1.0, 0.0], vec![1.0]], 2, None)
            .unwrap_err()
            .message()
            .contains("embeddings[1]"));
        assert!(embeddings(vec![vec![1.0, 0.0]], 1, Some(3))
            .unwrap_err()
            .message()
            .contains("dimension 2"));
        assert!(embeddings(vec![vec![0.0, 0.0]], 1, None).is_err());
        // Passed on as sent: the engine normalises (fit and transform).
        let m = embeddings(vec![vec![3.0, 4.0]], 1, Some(2)).unwrap();
        assert_eq!(m.row(0), [3.0, 4.0]);
    }
}
