//! Models held in memory: each tenant's active model for serving ([`ActiveModels`], with the
//! cross-replica change listener [`listen_for_changes`]) and the day models this process has
//! just fitted, for the Merge that follows ([`FittedModels`]).

mod active;
mod fitted;
mod listen;

pub use active::{model_bytes, ActiveModels, HotModel, RECHECK_TIMEOUT};
pub use fitted::FittedModels;
pub use listen::listen_for_changes;
