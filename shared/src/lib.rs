//! The shared core of the MLOps pipeline's Lambda functions, one module per
//! concept:
//!
//! - what comes in: [`events`] (the AWS events the functions take, typed and
//!   checked), [`config`] (the environment, read once), [`s3`] and [`image`]
//!   (S3 URIs and ECR image references);
//! - what goes out, one home per AWS resource: [`sagemaker`] (`training`,
//!   `model_package`, `endpoint`), [`autoscaling`], [`events_bus`] (what the
//!   pipeline publishes), [`tags`] and [`vpc`];
//! - across all: [`names`] (deterministic names and tokens), [`evaluation`]
//!   (thresholds, the verdict and its event), [`error`] (the one error type),
//!   [`aws`] (SDK configuration), [`logging`] and [`metrics`] (what each
//!   invocation did, as CloudWatch metrics).

pub mod autoscaling;
pub mod aws;
pub mod config;
pub mod error;
pub mod evaluation;
pub mod events;
pub mod events_bus;
pub mod image;
pub mod logging;
pub mod metrics;
pub mod names;
pub mod runtime;
pub mod s3;
pub mod sagemaker;
pub mod tags;
#[cfg(feature = "test-util")]
pub mod test_support;
pub mod vpc;

pub use error::PipelineError;
pub use names::{PipelineName, ResourceName};
