//! trigger_model_training: an image pushed to the configured ECR repository
//! starts a SageMaker training job on that image, pinned by digest.

mod config;
mod handler;

pub use config::TriggerConfig;
pub use handler::{handle, trigger, TriggerOutcome};
