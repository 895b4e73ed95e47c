//! Cooperative cancellation: a [`Cancel`] token handed to the long-running engine calls
//! ([`crate::pipeline::fit_cancellable`]), checked between stages and inside the long loops
//! (kNN tiles and NN-descent iterations, the spectral initialisation's Lanczos restarts, every
//! UMAP SGD epoch, HDBSCAN's MST rounds). A cancelled call returns
//! [`EngineError::Cancelled`] and no partial result; a call that is not cancelled computes
//! exactly what it would without a token (the checks only read the flag).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{EngineError, Result};

/// A cancellation token: cheap to clone, every clone shares one flag. Cancelling is one-way.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that is not cancelled (yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// A token for callers that never cancel (nobody else holds it).
    pub fn never() -> Self {
        Self::default()
    }

    /// Asks every holder of this token (and its clones) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called on this token or a clone of it.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(EngineError::Cancelled)` once cancelled, for `?` in the engine's loops.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_cancelled() && b.check().is_ok());
        a.cancel();
        assert!(b.is_cancelled());
        assert!(matches!(b.check(), Err(EngineError::Cancelled)));
        assert!(!Cancel::never().is_cancelled());
    }
}
