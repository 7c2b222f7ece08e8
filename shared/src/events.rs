//! The events AWS sends to the pipeline's functions, in the shapes AWS
//! documents.
//!
//! The EventBridge envelope and the S3 notification (`Records`) form come
//! from `aws_lambda_events`; the `detail` of each EventBridge event we act on
//! is ours, since that crate has no type for it. Only the fields the pipeline
//! uses are declared: unknown fields are ignored, so AWS adding one breaks
//! nothing, and a missing required field is an error that names it.

use aws_sdk_sagemaker::types::{ModelApprovalStatus, ProcessingJobStatus, TrainingJobStatus};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

pub use aws_lambda_events::eventbridge::EventBridgeEvent;
pub use aws_lambda_events::s3::S3Event as S3Notification;
pub use aws_lambda_events::sqs::SqsEvent;

/// Parses a Lambda payload into `T`. A mismatch is a non-retryable
/// [`PipelineError::InvalidEvent`] that names the field, by its path in the
/// event (`detail.repository-name: missing field ...`).
pub fn parse_event<T: DeserializeOwned>(payload: serde_json::Value) -> Result<T, PipelineError> {
    serde_path_to_error::deserialize(payload).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            PipelineError::invalid_event(err.inner().to_string())
        } else {
            PipelineError::invalid_event(format!("{path}: {}", err.inner()))
        }
    })
}

/// The `detail` of one kind of EventBridge event: it knows the source and
/// detail-type that carry it, so that one check ([`check_kind`]) serves every
/// handler.
pub trait Detail: Serialize + DeserializeOwned {
    /// The `detail-type`, e.g. `ECR Image Action`.
    const DETAIL_TYPE: &'static str;
    /// The `source`; `None` when it is the pipeline's own, configured one.
    const SOURCE: Option<&'static str>;
}

/// Checks that `event` is the kind its detail says: its `detail-type`, and its
/// `source` (`configured_source` for an event of the pipeline's own).
/// Anything else is a non-retryable [`PipelineError::InvalidEvent`] naming both.
pub fn check_kind<D: Detail>(
    event: &EventBridgeEvent<D>,
    configured_source: Option<&str>,
) -> Result<(), PipelineError> {
    let source = D::SOURCE.or(configured_source).unwrap_or_default();
    if event.source == source && event.detail_type == D::DETAIL_TYPE {
        return Ok(());
    }
    Err(PipelineError::invalid_event(format!(
        "expected source {source:?} and detail-type {:?}, got {:?} and {:?}",
        D::DETAIL_TYPE,
        event.source,
        event.detail_type
    )))
}

/// Why an event leads to nothing: decided before anything is sent. Each
/// constructor writes the one "skipped" log line (inside the handler's span,
/// which names what the event is about); each function's outcome then carries
/// the reason as `"action": "skipped"`, with its class as `reason_class`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Skipped {
    pub class: SkipClass,
    pub reason: String,
}

/// The kind of a skip, few and fixed: the `Reason` of the `Skipped` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipClass {
    /// The event asks nothing of this stage: another pipeline's, not a push,
    /// not final, filtered out, a model that did not pass.
    NotApplicable,
    /// The work is done already: a redelivery, the job started, the version
    /// live, a later event settled it.
    AlreadyDone,
    /// The work waits for something in progress (a busy endpoint, a running
    /// job, newer objects) and goes on by itself.
    Waiting,
    /// The work cannot go on without the user: a failed endpoint left as it
    /// is, no image to train with.
    Blocked,
}

impl SkipClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipClass::NotApplicable => "not_applicable",
            SkipClass::AlreadyDone => "already_done",
            SkipClass::Waiting => "waiting",
            SkipClass::Blocked => "blocked",
        }
    }
}

impl Skipped {
    pub fn because(class: SkipClass, reason: impl Into<String>) -> Skipped {
        let reason = reason.into();
        tracing::info!(%reason, reason_class = class.as_str(), "skipped");
        Skipped { class, reason }
    }

    pub fn not_applicable(reason: impl Into<String>) -> Skipped {
        Skipped::because(SkipClass::NotApplicable, reason)
    }

    pub fn already_done(reason: impl Into<String>) -> Skipped {
        Skipped::because(SkipClass::AlreadyDone, reason)
    }

    pub fn waiting(reason: impl Into<String>) -> Skipped {
        Skipped::because(SkipClass::Waiting, reason)
    }

    pub fn blocked(reason: impl Into<String>) -> Skipped {
        Skipped::because(SkipClass::Blocked, reason)
    }
}

/// The `detail-type` of a payload, to tell apart the kinds one function takes.
pub fn detail_type_of(payload: &serde_json::Value) -> Option<&str> {
    payload
        .get("detail-type")
        .and_then(serde_json::Value::as_str)
}

/// Serde for the SDK's enums (`TrainingJobStatus`, `ModelApprovalStatus`, ...)
/// by the string AWS sends, which events share with the API. A value the SDK
/// does not know yet is kept (the enum's `Unknown`), not refused.
pub mod sdk_enum {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: AsRef<str>, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_ref())
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: for<'a> From<&'a str>,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(deserializer)?;
        Ok(T::from(text.as_str()))
    }
}

/// `detail` of an ECR "ECR Image Action" event (source `aws.ecr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EcrImageAction {
    /// `PUSH` or `DELETE`.
    pub action_type: String,
    /// `SUCCESS` or `FAILURE`.
    pub result: String,
    pub repository_name: String,
    /// `sha256:<64 hex>`; absent on some failed pushes.
    #[serde(default)]
    pub image_digest: Option<String>,
    /// Absent when an image is pushed by digest only.
    #[serde(default)]
    pub image_tag: Option<String>,
}

pub const ECR_SOURCE: &str = "aws.ecr";
pub const ECR_IMAGE_ACTION: &str = "ECR Image Action";

impl Detail for EcrImageAction {
    const DETAIL_TYPE: &'static str = ECR_IMAGE_ACTION;
    const SOURCE: Option<&'static str> = Some(ECR_SOURCE);
}

/// `detail` of a "SageMaker Training Job State Change" event (source `aws.sagemaker`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrainingJobStateChange {
    pub training_job_name: String,
    pub training_job_arn: String,
    /// `InProgress`, `Completed`, `Failed`, `Stopping` or `Stopped`.
    #[serde(with = "sdk_enum")]
    pub training_job_status: TrainingJobStatus,
    #[serde(default)]
    pub secondary_status: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub model_artifacts: Option<ModelArtifacts>,
    #[serde(default)]
    pub algorithm_specification: Option<TrainingAlgorithm>,
    #[serde(default)]
    pub final_metric_data_list: Option<Vec<FinalMetric>>,
}

pub const SAGEMAKER_SOURCE: &str = "aws.sagemaker";
pub const TRAINING_JOB_STATE_CHANGE: &str = "SageMaker Training Job State Change";
pub const MODEL_PACKAGE_STATE_CHANGE: &str = "SageMaker Model Package State Change";

impl Detail for TrainingJobStateChange {
    const DETAIL_TYPE: &'static str = TRAINING_JOB_STATE_CHANGE;
    const SOURCE: Option<&'static str> = Some(SAGEMAKER_SOURCE);
}

/// `detail` of a "SageMaker Processing Job State Change" event (source
/// `aws.sagemaker`): the `DescribeProcessingJob` answer, of which the
/// pipeline reads these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingJobStateChange {
    pub processing_job_name: String,
    pub processing_job_arn: String,
    /// `InProgress`, `Completed`, `Failed`, `Stopping` or `Stopped`.
    #[serde(with = "sdk_enum")]
    pub processing_job_status: ProcessingJobStatus,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub exit_message: Option<String>,
    #[serde(default)]
    pub app_specification: Option<ProcessingAppSpecification>,
}

/// The image a processing job ran (`AppSpecification` of its description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingAppSpecification {
    pub image_uri: String,
}

pub const PROCESSING_JOB_STATE_CHANGE: &str = "SageMaker Processing Job State Change";

impl Detail for ProcessingJobStateChange {
    const DETAIL_TYPE: &'static str = PROCESSING_JOB_STATE_CHANGE;
    const SOURCE: Option<&'static str> = Some(SAGEMAKER_SOURCE);
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelArtifacts {
    pub s3_model_artifacts: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrainingAlgorithm {
    #[serde(default)]
    pub training_image: Option<String>,
    #[serde(default)]
    pub training_input_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FinalMetric {
    pub metric_name: String,
    pub value: f64,
}

/// `detail` of a "SageMaker Model Package State Change" event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelPackageStateChange {
    pub model_package_group_name: String,
    pub model_package_version: i64,
    pub model_package_arn: String,
    /// `Approved`, `Rejected` or `PendingManualApproval`.
    #[serde(with = "sdk_enum")]
    pub model_approval_status: ModelApprovalStatus,
    #[serde(default)]
    pub model_package_name: Option<String>,
}

/// `detail` of a "SageMaker Endpoint State Change" event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointStateChange {
    pub endpoint_name: String,
    #[serde(default)]
    pub endpoint_arn: Option<String>,
    #[serde(default)]
    pub endpoint_config_name: Option<String>,
    /// Upper case with underscores in these events: `IN_SERVICE`, `UPDATING`, ...
    pub endpoint_status: String,
    /// SageMaker's reason, after a failure or a rolled-back update.
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// The endpoint's tags when it changed.
    #[serde(default)]
    pub tags: std::collections::HashMap<String, String>,
}

/// `detail` of EventBridge's "Scheduled Event" (a schedule rule firing): `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledEvent {}

pub const SCHEDULED_EVENT: &str = "Scheduled Event";

impl Detail for ScheduledEvent {
    const DETAIL_TYPE: &'static str = SCHEDULED_EVENT;
    const SOURCE: Option<&'static str> = Some("aws.events");
}

pub const ENDPOINT_STATE_CHANGE: &str = "SageMaker Endpoint State Change";

impl Detail for ModelPackageStateChange {
    const DETAIL_TYPE: &'static str = MODEL_PACKAGE_STATE_CHANGE;
    const SOURCE: Option<&'static str> = Some(SAGEMAKER_SOURCE);
}

impl Detail for EndpointStateChange {
    const DETAIL_TYPE: &'static str = ENDPOINT_STATE_CHANGE;
    const SOURCE: Option<&'static str> = Some(SAGEMAKER_SOURCE);
}

/// `detail` of an S3 "Object Created" event delivered through EventBridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct S3ObjectCreated {
    pub bucket: S3BucketRef,
    pub object: S3ObjectRef,
    #[serde(default)]
    pub reason: Option<String>,
}

pub const S3_SOURCE: &str = "aws.s3";
pub const S3_OBJECT_CREATED: &str = "Object Created";

impl Detail for S3ObjectCreated {
    const DETAIL_TYPE: &'static str = S3_OBJECT_CREATED;
    const SOURCE: Option<&'static str> = Some(S3_SOURCE);
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3BucketRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct S3ObjectRef {
    pub key: String,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub sequencer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_fields_are_named_by_path() {
        let payload = json!({
            "detail-type": "ECR Image Action",
            "source": "aws.ecr",
            "detail": {"action-type": "PUSH", "result": "SUCCESS"}
        });
        let err = parse_event::<EventBridgeEvent<EcrImageAction>>(payload).unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
        let message = err.to_string();
        assert!(message.contains("detail"), "{message}");
        assert!(message.contains("repository-name"), "{message}");
    }

    #[test]
    fn wrong_types_are_named_by_path() {
        let payload = json!({
            "detail-type": "ECR Image Action",
            "source": "aws.ecr",
            "detail": {"action-type": "PUSH", "result": "SUCCESS", "repository-name": 7}
        });
        let message = parse_event::<EventBridgeEvent<EcrImageAction>>(payload)
            .unwrap_err()
            .to_string();
        assert!(message.contains("detail.repository-name"), "{message}");
    }

    #[test]
    fn check_kind_takes_only_its_own_source_and_detail_type() {
        let event = |source: &str, detail_type: &str| {
            parse_event::<EventBridgeEvent<EcrImageAction>>(json!({
                "detail-type": detail_type,
                "source": source,
                "detail": {"action-type": "PUSH", "result": "SUCCESS", "repository-name": "r"}
            }))
            .unwrap()
        };
        assert!(check_kind(&event("aws.ecr", "ECR Image Action"), None).is_ok());
        for (source, detail_type) in [
            ("aws.s3", "ECR Image Action"),
            ("aws.ecr", "Object Created"),
        ] {
            let err = check_kind(&event(source, detail_type), None).unwrap_err();
            assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
            assert!(
                err.to_string().contains("expected source \"aws.ecr\""),
                "{err}"
            );
        }
    }

    #[test]
    fn not_an_object_is_an_invalid_event() {
        for payload in [json!(null), json!("text"), json!([1, 2]), json!({})] {
            let err = parse_event::<EventBridgeEvent<EcrImageAction>>(payload).unwrap_err();
            assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
        }
    }
}
