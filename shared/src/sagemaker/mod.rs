//! SageMaker, by resource: each module holds that resource's pure request
//! builders, how SageMaker says it already exists, is missing or is busy, and
//! the queries more than one function needs.
//!
//! - [`training`]: training jobs (settings, `CreateTrainingJob`, does a job exist).
//! - [`processing`]: processing jobs, preprocessing before training (settings,
//!   `CreateProcessingJob`, the outputs as training channels).
//! - [`model_package`]: the Model Registry (groups, versions, their metadata,
//!   the newest approved version).
//! - [`endpoint`]: models, endpoint configurations and endpoints.

pub mod endpoint;
pub mod model_package;
pub mod processing;
pub mod training;

use aws_sdk_sagemaker::error::{ProvideErrorMetadata, SdkError};

use crate::PipelineError;

/// Whether `err` is a `ValidationException` whose message contains
/// `message_part`. SageMaker reports an existing or missing resource this way
/// ("Cannot create already existing model", "Could not find endpoint", "does
/// not exist"), with no dedicated error code.
pub fn is_validation_error<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
    message_part: &str,
) -> bool {
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationException")
            && e.message().is_some_and(|m| m.contains(message_part))
    })
}

/// What sending a job's create (`CreateTrainingJob`, `CreateProcessingJob`)
/// under one of our deterministic names came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStart {
    Started {
        arn: String,
    },
    /// SageMaker's `ResourceInUse` for the name: an earlier delivery (or a
    /// concurrent invocation) already started this job.
    AlreadyStarted,
}

/// A job's create answered: its ARN ([`JobStart::Started`]), the
/// operation's `ResourceInUse` error (`in_use`: [`JobStart::AlreadyStarted`]),
/// or any other failure as a classified [`PipelineError`].
pub(crate) fn job_start<O, E>(
    operation: &'static str,
    result: Result<O, SdkError<E, aws_smithy_runtime_api::http::Response>>,
    arn: impl FnOnce(&O) -> Option<&str>,
    in_use: impl FnOnce(&E) -> bool,
) -> Result<JobStart, PipelineError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(JobStart::Started {
            arn: arn(&output).unwrap_or_default().to_string(),
        }),
        Err(err) if err.as_service_error().is_some_and(in_use) => Ok(JobStart::AlreadyStarted),
        Err(err) => Err(PipelineError::from_sdk(operation, err)),
    }
}

/// A create under one of our deterministic names whose answer is "already
/// exists" means an earlier delivery created it: done, as if just created.
pub fn ensure_created<O, E>(
    operation: &'static str,
    already_exists: &str,
    result: Result<O, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<(), PipelineError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_validation_error(&err, already_exists) => Ok(()),
        Err(err) => Err(PipelineError::from_sdk(operation, err)),
    }
}
