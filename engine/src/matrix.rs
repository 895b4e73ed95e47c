//! A dense row-major `f32` matrix: the one container for embeddings and layouts in the engine.

use crate::error::{EngineError, Result};

/// Dense row-major `rows × cols` matrix of `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl Matrix {
    /// Wraps `data` (row-major). Fails if `data.len() != rows * cols`.
    pub fn new(data: Vec<f32>, rows: usize, cols: usize) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(EngineError::input(format!(
                "matrix of {rows}×{cols} needs {} values, got {}",
                rows.saturating_mul(cols),
                data.len()
            )));
        }
        Ok(Self { data, rows, cols })
    }

    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { data: vec![0.0; rows * cols], rows, cols }
    }

    /// Builds a matrix from equal-length rows. Fails on ragged rows.
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let cols = rows.first().map(|r| r.as_ref().len()).unwrap_or(0);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != cols {
                return Err(EngineError::DimensionMismatch { expected: cols, got: r.len() })
                    .map_err(|e| EngineError::input(format!("row {i}: {e}")));
            }
            data.extend_from_slice(r);
        }
        Ok(Self { data, rows: rows.len(), cols })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Row `i` as a slice. Panics if `i >= rows` (an internal invariant, never request data).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Row `i`, mutable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// All values, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }
    /// All values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }
    /// Consumes the matrix, returning its row-major values.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }
    /// Iterator over rows.
    pub fn iter_rows(&self) -> impl Iterator<Item = &[f32]> {
        // `max(1)` keeps chunks_exact valid for a 0-column matrix (which then has no rows to yield
        // only if rows == 0; a rows×0 matrix yields nothing, which callers never rely on).
        self.data.chunks_exact(self.cols.max(1))
    }

    /// Errors if any value is NaN or infinite, naming the first bad row.
    pub fn check_finite(&self) -> Result<()> {
        if let Some(pos) = self.data.iter().position(|v| !v.is_finite()) {
            let row = pos / self.cols.max(1);
            return Err(EngineError::input(format!(
                "embedding row {row} contains NaN or infinity"
            )));
        }
        Ok(())
    }

    /// L2-normalises every row in place; all-zero rows stay zero.
    pub fn normalize_rows(&mut self) {
        let cols = self.cols.max(1);
        for r in self.data.chunks_exact_mut(cols) {
            let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                r.iter_mut().for_each(|v| *v /= norm);
            }
        }
    }

    /// A new matrix with the given rows, in order.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix { data, rows: idx.len(), cols: self.cols }
    }
}
