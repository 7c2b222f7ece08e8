//! "Model Evaluation Completed" in; for a passed evaluation, the model
//! package group made sure of and one new model package version created.

use std::collections::HashMap;

use aws_sdk_sagemaker::operation::create_model_package::builders::CreateModelPackageInputBuilder;
use aws_sdk_sagemaker::operation::create_model_package::CreateModelPackageInput;
use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetricsSource, ModelMetrics, ModelPackageContainerDefinition,
    ModelQuality, ProductionVariantInstanceType,
};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::error::is_validation_error;
use shared::evaluation::ModelEvaluation;
use shared::events::{check_kind, parse_event, EventBridgeEvent};
use shared::names::idempotency_token;
use shared::training::{tag, tag_text};
use shared::{metadata_keys as keys, tag_keys, PipelineError};
use tracing::{info, instrument};

use crate::RegisterConfig;

/// SageMaker allows 50 customer metadata properties; the fixed ones leave
/// this many for metrics.
const MAX_METRIC_PROPERTIES: usize = 44;

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RegisterOutcome {
    Registered {
        model_package_arn: String,
        model_package_group: String,
        version: Option<i64>,
        approval_status: String,
        training_job_name: String,
    },
    Skipped {
        reason: String,
        training_job_name: String,
    },
}

/// The Lambda entry point: parses the payload, then [`register`].
pub async fn handle(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RegisterConfig,
    event: LambdaEvent<Value>,
) -> Result<RegisterOutcome, PipelineError> {
    let event: EventBridgeEvent<ModelEvaluation> = parse_event(event.payload)?;
    register(sagemaker, config, &event).await
}

#[instrument(skip_all, fields(training_job = %event.detail.training_job_name, model_package_group = %config.group))]
pub async fn register(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RegisterConfig,
    event: &EventBridgeEvent<ModelEvaluation>,
) -> Result<RegisterOutcome, PipelineError> {
    check_kind(event, Some(&config.event_source))?;
    let evaluation = &event.detail;
    let skip = |reason: String| {
        info!(%reason, "skipped");
        Ok(RegisterOutcome::Skipped {
            reason,
            training_job_name: evaluation.training_job_name.clone(),
        })
    };
    if evaluation.pipeline != config.pipeline.as_str() {
        return skip(format!(
            "evaluation is for pipeline {}, not {}",
            evaluation.pipeline, config.pipeline
        ));
    }
    if !evaluation.passed {
        return skip(format!(
            "evaluation did not pass: {}",
            evaluation.reason.as_deref().unwrap_or("no reason given")
        ));
    }

    let request = create_model_package_request(config, evaluation)?;
    ensure_group(sagemaker, config).await?;
    let created = request
        .send_with(sagemaker)
        .await
        .map_err(|err| PipelineError::from_sdk("CreateModelPackage", err))?;
    let arn = created.model_package_arn().unwrap_or_default().to_string();
    let version = arn.rsplit('/').next().and_then(|v| v.parse().ok());
    info!(model_package_arn = %arn, "model package registered");
    Ok(RegisterOutcome::Registered {
        model_package_arn: arn,
        model_package_group: config.group.clone(),
        version,
        approval_status: config.approval_status.as_str().to_string(),
        training_job_name: evaluation.training_job_name.clone(),
    })
}

/// Creates the group unless it exists. Another invocation creating it at
/// the same moment is fine: SageMaker then answers "already exists".
async fn ensure_group(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RegisterConfig,
) -> Result<(), PipelineError> {
    let described = sagemaker
        .describe_model_package_group()
        .model_package_group_name(&config.group)
        .send()
        .await;
    match described {
        Ok(_) => return Ok(()),
        Err(err) if is_validation_error(&err, "does not exist") => {}
        Err(err) => return Err(PipelineError::from_sdk("DescribeModelPackageGroup", err)),
    }
    let created = sagemaker
        .create_model_package_group()
        .model_package_group_name(&config.group)
        .model_package_group_description(format!(
            "Models trained and evaluated by the {} pipeline",
            config.pipeline
        ))
        .tags(tag(tag_keys::PIPELINE, config.pipeline.as_str()))
        .send()
        .await;
    match created {
        Ok(_) => {
            info!("model package group created");
            Ok(())
        }
        Err(err) if is_validation_error(&err, "already exists") => Ok(()),
        Err(err) => Err(PipelineError::from_sdk("CreateModelPackageGroup", err)),
    }
}

/// The `CreateModelPackage` request for a passed evaluation. Pure.
pub fn create_model_package_request(
    config: &RegisterConfig,
    evaluation: &ModelEvaluation,
) -> Result<CreateModelPackageInputBuilder, PipelineError> {
    let model_data = evaluation.model_artifacts.as_deref().ok_or_else(|| {
        PipelineError::invalid_event("detail.model_artifacts is missing from a passed evaluation")
    })?;
    let image = config
        .inference_image
        .as_deref()
        .or(evaluation.image.as_deref())
        .ok_or_else(|| {
            PipelineError::invalid_event("detail.image is missing and INFERENCE_IMAGE is not set")
        })?;

    let inference = inference_specification(config, image, model_data);
    let metadata = package_metadata(evaluation);

    let description = format!(
        "{} trained by {}; evaluation passed",
        evaluation.image.as_deref().unwrap_or(image),
        evaluation.training_job_name
    );
    let mut request = CreateModelPackageInput::builder()
        .model_package_group_name(&config.group)
        .model_package_description(tag_text(&description, 1024))
        .inference_specification(inference)
        .model_approval_status(config.approval_status.clone())
        .set_customer_metadata_properties(Some(metadata))
        // One version per training job, however often the event arrives.
        .client_token(idempotency_token(&[&evaluation.training_job_arn]));
    if let Some(report) = &evaluation.evaluation_report {
        request = request.model_metrics(model_quality(report));
    }
    Ok(request)
}

/// The one container that serves the version, and what it accepts.
fn inference_specification(
    config: &RegisterConfig,
    image: &str,
    model_data: &str,
) -> InferenceSpecification {
    let mut inference = InferenceSpecification::builder()
        .containers(
            ModelPackageContainerDefinition::builder()
                .image(image)
                .model_data_url(model_data)
                .build(),
        )
        .set_supported_content_types(Some(config.content_types.clone()))
        .set_supported_response_mime_types(Some(config.response_types.clone()));
    for instance_type in &config.instance_types {
        inference = inference.supported_realtime_inference_instance_types(
            ProductionVariantInstanceType::from(instance_type.as_str()),
        );
    }
    inference.build()
}

/// The version's `CustomerMetadataProperties` ([`shared::metadata_keys`]):
/// where it came from, the image retraining uses, and the gated metrics.
fn package_metadata(evaluation: &ModelEvaluation) -> HashMap<String, String> {
    let mut metadata = HashMap::from([
        (keys::PIPELINE.to_string(), evaluation.pipeline.clone()),
        (
            keys::TRAINING_JOB_NAME.to_string(),
            evaluation.training_job_name.clone(),
        ),
        (
            keys::TRAINING_JOB_ARN.to_string(),
            tag_text(&evaluation.training_job_arn, 256),
        ),
    ]);
    if let Some(image) = &evaluation.image {
        metadata.insert(keys::TRAINING_IMAGE.to_string(), tag_text(image, 256));
        if let Some((_, digest)) = image.split_once('@') {
            metadata.insert(keys::IMAGE_DIGEST.to_string(), digest.to_string());
        }
    }
    if let Some(report) = &evaluation.evaluation_report {
        metadata.insert(keys::EVALUATION_REPORT.to_string(), tag_text(report, 256));
    }
    for (name, value) in evaluation.metrics.iter().take(MAX_METRIC_PROPERTIES) {
        let key = format!("{}{name}", keys::METRIC_PREFIX);
        metadata.insert(tag_text(&key, 128), value.to_string());
    }
    metadata
}

/// The evaluation report as the version's model-quality statistics.
fn model_quality(report: &str) -> ModelMetrics {
    ModelMetrics::builder()
        .model_quality(
            ModelQuality::builder()
                .statistics(
                    MetricsSource::builder()
                        .content_type("application/json")
                        .s3_uri(report)
                        .build(),
                )
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests;
