//! Cooperative cancellation and stage progress: a [`Cancel`] token handed to the long-running
//! engine calls ([`crate::pipeline::fit_cancellable`]), checked between stages and inside the
//! long loops (kNN tiles and NN-descent iterations, the spectral initialisation's Lanczos
//! restarts, every UMAP SGD epoch, HDBSCAN's MST rounds). A cancelled call returns
//! [`EngineError::Cancelled`] and no partial result; a call that is not cancelled computes
//! exactly what it would without a token (the checks only read the flag).
//!
//! The same loops report how far they are ([`Progress`]) to an optional observer
//! ([`Cancel::with_progress`]): the token already reaches every one of them, so progress needs no
//! second parameter threaded through the engine. Reporting never changes a result.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{EngineError, Result};

/// A stage of a fit, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading or preparing the input (the CLI's embeddings file, the small-talk filter).
    Input,
    /// The k-nearest-neighbour graph (units: tiles or NN-descent iterations).
    Neighbors,
    /// UMAP: spectral initialisation, then SGD epochs (units: epochs).
    Reduce,
    /// HDBSCAN (units: MST rounds; the total is not known in advance).
    Cluster,
    /// Topic reduction, c-TF-IDF, keywords, representative documents, topic embeddings.
    Topics,
    /// Assigning documents that were not in the fit sample (`max_fit_documents`).
    Assign,
}

impl Stage {
    /// A short lowercase name for logs and progress bars.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Neighbors => "neighbors",
            Stage::Reduce => "umap",
            Stage::Cluster => "hdbscan",
            Stage::Topics => "topics",
            Stage::Assign => "assign",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How far a stage is: `done` of `total` units (`total` is 0 when unknown). A stage reports
/// `done == 0` when it starts and `done == total` when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Units done.
    pub done: u64,
    /// Units in all; 0 when not known in advance.
    pub total: u64,
}

type Observer = Arc<dyn Fn(Progress) + Send + Sync>;

/// A cancellation token: cheap to clone, every clone shares one flag (and one progress
/// observer, if any). Cancelling is one-way.
#[derive(Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    observer: Option<Observer>,
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl Cancel {
    /// A token that is not cancelled (yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// A token for callers that never cancel (nobody else holds it).
    pub fn never() -> Self {
        Self::default()
    }

    /// This token (sharing its flag) with `observer` called on every [`Progress`] report.
    /// The observer runs on the engine's threads: keep it cheap (a counter, a bar update).
    pub fn with_progress(self, observer: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        Self { flag: self.flag, observer: Some(Arc::new(observer)) }
    }

    /// Asks every holder of this token (and its clones) to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called on this token or a clone of it.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// `Err(EngineError::Cancelled)` once cancelled, for `?` in the engine's loops.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports progress to the observer, if any.
    pub fn report(&self, stage: Stage, done: u64, total: u64) {
        if let Some(o) = &self.observer {
            o(Progress { stage, done, total });
        }
    }

    /// [`Cancel::check`], then [`Cancel::report`]: what a long loop calls once per unit.
    pub fn step(&self, stage: Stage, done: u64, total: u64) -> Result<()> {
        self.check()?;
        self.report(stage, done, total);
        Ok(())
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

    #[test]
    fn progress_reaches_the_observer_of_every_clone() {
        use std::sync::Mutex;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let a = Cancel::new().with_progress(move |p| sink.lock().unwrap().push(p));
        let b = a.clone();
        b.report(Stage::Reduce, 0, 200);
        assert!(a.step(Stage::Reduce, 200, 200).is_ok());
        a.cancel();
        assert!(b.step(Stage::Reduce, 1, 2).is_err(), "a cancelled step stops before reporting");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1], Progress { stage: Stage::Reduce, done: 200, total: 200 });
        Cancel::never().report(Stage::Input, 1, 1); // no observer: nothing happens
    }
}
