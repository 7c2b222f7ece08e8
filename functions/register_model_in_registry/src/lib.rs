//! register_model_in_registry: a passed evaluation becomes a new model
//! package version in the SageMaker Model Registry (manual approval by
//! default).

mod config;
mod handler;

pub use config::RegisterConfig;
pub use handler::{handle, register, RegisterOutcome};
