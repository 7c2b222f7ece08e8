//! The shared core of the MLOps pipeline's Lambda functions: the AWS events
//! they accept, configuration from the environment, deterministic SageMaker
//! names, SageMaker request builders, and the one error type.

pub mod aws;
pub mod config;
pub mod error;
pub mod evaluation;
pub mod events;
pub mod image;
pub mod logging;
pub mod names;
pub mod s3;
#[cfg(feature = "test-util")]
pub mod test_support;
pub mod training;

pub use error::PipelineError;
pub use names::{PipelineName, ResourceName};

/// Tag keys the pipeline puts on what it creates.
pub mod tag_keys {
    pub const PIPELINE: &str = "mlops:pipeline";
    pub const TRIGGER: &str = "mlops:trigger";
    pub const ECR_REPOSITORY: &str = "mlops:ecr-repository";
    pub const IMAGE_DIGEST: &str = "mlops:image-digest";
    pub const IMAGE_TAG: &str = "mlops:image-tag";
    pub const MODEL_PACKAGE_ARN: &str = "mlops:model-package-arn";
    pub const MODEL_PACKAGE_VERSION: &str = "mlops:model-package-version";
    pub const S3_BUCKET: &str = "mlops:s3-bucket";
    pub const S3_KEY: &str = "mlops:s3-key";
    /// The debounce window a retraining job stands for: `<start>/PT<seconds>S`.
    pub const WINDOW: &str = "mlops:window";
}

/// Keys of the `CustomerMetadataProperties` register_model_in_registry
/// writes on each model package version; retrain_model_on_new_data reads the
/// training image back, people read the rest in the console.
pub mod metadata_keys {
    pub const PIPELINE: &str = "pipeline";
    pub const TRAINING_JOB_NAME: &str = "training_job_name";
    pub const TRAINING_JOB_ARN: &str = "training_job_arn";
    /// The image (by digest) that trained the version: what retraining uses.
    pub const TRAINING_IMAGE: &str = "training_image";
    pub const IMAGE_DIGEST: &str = "image_digest";
    pub const EVALUATION_REPORT: &str = "evaluation_report";
    /// Prefix of one key per gated metric: `metric:<name>`.
    pub const METRIC_PREFIX: &str = "metric:";
}
