//! "Model Evaluation Completed" in; for a passed evaluation, the model
//! package group made sure of and one new model package version created.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::evaluation::ModelEvaluation;
use shared::events::{check_kind, parse_event, EventBridgeEvent, SkipClass, Skipped};
use shared::metrics::{names, Measured, Measures};
use shared::sagemaker::model_package::{
    create_model_package_request, ensure_group, version_from_arn,
};
use shared::PipelineError;
use tracing::{info, instrument};

use crate::RegisterConfig;

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
        reason_class: SkipClass,
        training_job_name: String,
    },
}

impl RegisterOutcome {
    fn skipped(skipped: Skipped, training_job_name: &str) -> Self {
        RegisterOutcome::Skipped {
            reason: skipped.reason,
            reason_class: skipped.class,
            training_job_name: training_job_name.to_string(),
        }
    }
}

impl Measured for RegisterOutcome {
    fn measures(&self) -> Measures {
        match self {
            RegisterOutcome::Registered {
                model_package_arn,
                training_job_name,
                ..
            } => Measures::default()
                .count(names::STARTED, 1)
                .property("model_package_arn", model_package_arn.as_str())
                .property("training_job_name", training_job_name.as_str()),
            RegisterOutcome::Skipped { reason_class, .. } => {
                Measures::default().skipped(*reason_class)
            }
        }
    }
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
        Ok(RegisterOutcome::skipped(
            Skipped::not_applicable(reason),
            &evaluation.training_job_name,
        ))
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

    let request = create_model_package_request(
        &config.group,
        &config.approval_status,
        &config.serving,
        evaluation,
    )?;
    ensure_group(sagemaker, &config.group, &config.pipeline).await?;
    let created = request
        .send_with(sagemaker)
        .await
        .map_err(|err| PipelineError::from_sdk("CreateModelPackage", err))?;
    let arn = created.model_package_arn().unwrap_or_default().to_string();
    let version = version_from_arn(&arn);
    info!(model_package_arn = %arn, "model package registered");
    Ok(RegisterOutcome::Registered {
        model_package_arn: arn,
        model_package_group: config.group.clone(),
        version,
        approval_status: config.approval_status.as_str().to_string(),
        training_job_name: evaluation.training_job_name.clone(),
    })
}

#[cfg(test)]
mod tests;
