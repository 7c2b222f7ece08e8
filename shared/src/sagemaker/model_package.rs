//! The Model Registry: the group, the `CreateModelPackage` request for a
//! passed evaluation with the metadata it carries, and the queries more than
//! one function needs (the version to deploy and retrain, a version's
//! training image, the version number in an ARN).

use std::collections::HashMap;

use aws_sdk_sagemaker::operation::create_model_package::builders::CreateModelPackageInputBuilder;
use aws_sdk_sagemaker::operation::create_model_package::CreateModelPackageInput;
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetricsSource, ModelApprovalStatus, ModelLifeCycle, ModelMetrics,
    ModelPackageContainerDefinition, ModelPackageSortBy, ModelPackageSummary, ModelQuality,
    ProductionVariantInstanceType, SortOrder,
};

use super::is_validation_error;
use crate::evaluation::ModelEvaluation;
use crate::names::idempotency_token;
use crate::tags::{keys as tag_keys, tag, tag_text};
use crate::{PipelineError, PipelineName};

/// Keys of the `CustomerMetadataProperties` each version carries: written by
/// [`create_model_package_request`] (register_model_in_registry); the training
/// image is read back by [`training_image`] (retrain_model_on_new_data);
/// people read the rest in the console.
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
    /// Written by deploy_sagemaker_model: `failed` once the version's
    /// deployment failed, with the stage and SageMaker's (or the smoke
    /// test's) reason.
    pub const DEPLOYMENT_STATUS: &str = "deployment_status";
    pub const DEPLOYMENT_STAGE: &str = "deployment_stage";
    pub const DEPLOYMENT_FAILURE: &str = "deployment_failure";
    /// The smoke test on the staging endpoint: `passed` or `failed`, the
    /// number of requests and their p99 latency in milliseconds.
    pub const SMOKE_TEST: &str = "smoke_test";
    pub const SMOKE_TEST_REQUESTS: &str = "smoke_test_requests";
    pub const SMOKE_TEST_P99_MS: &str = "smoke_test_p99_ms";
}

/// The `ModelLifeCycle` deploy_sagemaker_model gives a version: `Staging` /
/// `Passed` once its smoke test passed, `<stage>` / `Failed` once its
/// deployment failed. `ListModelPackages` returns it with each version, so
/// finding the version to deploy takes one call.
pub mod life_cycle {
    pub const STAGING: &str = "Staging";
    pub const PRODUCTION: &str = "Production";
    pub const PASSED: &str = "Passed";
    pub const FAILED: &str = "Failed";
}
use metadata_keys as keys;

/// SageMaker allows 50 customer metadata properties: 6 fixed ones written at
/// registration and 3 more by deploy_sagemaker_model (a smoke test's result
/// and a failed deployment's, so 6) leave this many for metrics.
const MAX_METRIC_PROPERTIES: usize = 38;

/// SageMaker's answer when the group does not exist (yet).
const GROUP_MISSING: &str = "does not exist";

/// How every version is served: its container and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The inference container; the training image (by digest) when unset.
    pub image: Option<String>,
    pub content_types: Vec<String>,
    pub response_types: Vec<String>,
    pub instance_types: Vec<String>,
}

/// The `CreateModelPackage` request for a passed evaluation. Pure.
pub fn create_model_package_request(
    group: &str,
    approval_status: &ModelApprovalStatus,
    serving: &Serving,
    evaluation: &ModelEvaluation,
) -> Result<CreateModelPackageInputBuilder, PipelineError> {
    let model_data = evaluation.model_artifacts.as_deref().ok_or_else(|| {
        PipelineError::invalid_event("detail.model_artifacts is missing from a passed evaluation")
    })?;
    let image = serving
        .image
        .as_deref()
        .or(evaluation.image.as_deref())
        .ok_or_else(|| {
            PipelineError::invalid_event("detail.image is missing and INFERENCE_IMAGE is not set")
        })?;

    let description = format!(
        "{} trained by {}; evaluation passed",
        evaluation.image.as_deref().unwrap_or(image),
        evaluation.training_job_name
    );
    let mut request = CreateModelPackageInput::builder()
        .model_package_group_name(group)
        .model_package_description(tag_text(&description, 1024))
        .inference_specification(inference_specification(serving, image, model_data))
        .model_approval_status(approval_status.clone())
        .set_customer_metadata_properties(Some(package_metadata(evaluation)))
        // One version per training job, however often the event arrives.
        .client_token(idempotency_token(&[&evaluation.training_job_arn]));
    if let Some(report) = &evaluation.evaluation_report {
        request = request.model_metrics(model_quality(report));
    }
    Ok(request)
}

/// The one container that serves the version, and what it accepts.
fn inference_specification(
    serving: &Serving,
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
        .set_supported_content_types(Some(serving.content_types.clone()))
        .set_supported_response_mime_types(Some(serving.response_types.clone()));
    for instance_type in &serving.instance_types {
        inference = inference.supported_realtime_inference_instance_types(
            ProductionVariantInstanceType::from(instance_type.as_str()),
        );
    }
    inference.build()
}

/// The version's `CustomerMetadataProperties` ([`metadata_keys`]): where it
/// came from, the image retraining uses, and the gated metrics (then other
/// metrics, as many as fit).
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
    // The gated metrics first (a report's other metrics may sort before them),
    // then the others by name while there is room.
    let gated = evaluation
        .thresholds
        .iter()
        .filter_map(|t| evaluation.metrics.get_key_value(&t.metric));
    let others = evaluation
        .metrics
        .iter()
        .filter(|(name, _)| !evaluation.thresholds.iter().any(|t| &t.metric == *name));
    for (name, value) in gated.chain(others).take(MAX_METRIC_PROPERTIES) {
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

/// The image that trained a version: the [`metadata_keys::TRAINING_IMAGE`]
/// register wrote; a version registered some other way is taken to train
/// with its inference image.
pub fn training_image(package: &DescribeModelPackageOutput) -> Option<String> {
    package
        .customer_metadata_properties()
        .and_then(|metadata| metadata.get(keys::TRAINING_IMAGE))
        .cloned()
        .or_else(|| {
            package
                .inference_specification()
                .and_then(|spec| spec.containers().first())
                .and_then(|container| container.image())
                .map(str::to_string)
        })
        .filter(|image| !image.is_empty())
}

/// The version number at the end of a versioned package ARN
/// (`arn:aws:sagemaker:…:model-package/<group>/<version>`).
pub fn version_from_arn(arn: &str) -> Option<i64> {
    arn.rsplit('/').next().and_then(|v| v.parse().ok())
}

/// How far an approved version's deployment got, by its `ModelLifeCycle`
/// ([`life_cycle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing recorded: not smoke-tested yet (or deployed without staging).
    New,
    PassedStaging,
    Failed,
}

impl Progress {
    pub fn of(life_cycle: Option<&ModelLifeCycle>) -> Progress {
        match life_cycle.and_then(ModelLifeCycle::stage_status) {
            Some(life_cycle::FAILED) => Progress::Failed,
            Some(life_cycle::PASSED)
                if life_cycle.and_then(ModelLifeCycle::stage) == Some(life_cycle::STAGING) =>
            {
                Progress::PassedStaging
            }
            _ => Progress::New,
        }
    }
}

/// An approved version and how far its deployment got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployable {
    pub arn: String,
    pub number: i64,
    pub progress: Progress,
}

impl Deployable {
    fn from_summary(summary: &ModelPackageSummary) -> Option<Deployable> {
        let arn = summary.model_package_arn().filter(|arn| !arn.is_empty())?;
        Some(Deployable {
            arn: arn.to_string(),
            number: summary
                .model_package_version()
                .map(i64::from)
                .or_else(|| version_from_arn(arn))
                .unwrap_or_default(),
            progress: Progress::of(summary.model_life_cycle()),
        })
    }
}

/// Versions read per `ListModelPackages` page when looking for the one to
/// deploy: the newest is on the first, and so are the few before it that
/// may have failed.
const DEPLOYABLE_PAGE: i32 = 10;

/// The version the endpoints should serve: the newest Approved version of
/// `group` whose deployment has not failed. One call unless the ten newest
/// approved versions all failed; `None` when there is none, or no group yet.
pub async fn newest_deployable(
    sagemaker: &aws_sdk_sagemaker::Client,
    group: &str,
) -> Result<Option<Deployable>, PipelineError> {
    let mut pages = sagemaker
        .list_model_packages()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .max_results(DEPLOYABLE_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(err) if is_validation_error(&err, GROUP_MISSING) => return Ok(None),
            Err(err) => return Err(PipelineError::from_sdk("ListModelPackages", err)),
        };
        let found = page
            .model_package_summary_list()
            .iter()
            .filter_map(Deployable::from_summary)
            .find(|version| version.progress != Progress::Failed);
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Creates the group unless it exists. Another invocation creating it at the
/// same moment is fine: SageMaker then answers "already exists".
pub async fn ensure_group(
    sagemaker: &aws_sdk_sagemaker::Client,
    group: &str,
    pipeline: &PipelineName,
) -> Result<(), PipelineError> {
    let described = sagemaker
        .describe_model_package_group()
        .model_package_group_name(group)
        .send()
        .await;
    match described {
        Ok(_) => return Ok(()),
        Err(err) if is_validation_error(&err, GROUP_MISSING) => {}
        Err(err) => return Err(PipelineError::from_sdk("DescribeModelPackageGroup", err)),
    }
    let created = sagemaker
        .create_model_package_group()
        .model_package_group_name(group)
        .model_package_group_description(format!(
            "Models trained and evaluated by the {pipeline} pipeline"
        ))
        .tags(tag(tag_keys::PIPELINE, pipeline.as_str()))
        .send()
        .await;
    match created {
        Ok(_) => {
            tracing::info!("model package group created");
            Ok(())
        }
        Err(err) if is_validation_error(&err, "already exists") => Ok(()),
        Err(err) => Err(PipelineError::from_sdk("CreateModelPackageGroup", err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_last_part_of_the_arn() {
        let arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/12";
        assert_eq!(version_from_arn(arn), Some(12));
        assert_eq!(
            version_from_arn("arn:aws:sagemaker:us-east-1:123456789012:model-package/x"),
            None
        );
    }
}
