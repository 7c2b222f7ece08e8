//! What deploy records where people and the next invocation look: a failed
//! deployment (the alert event, the endpoint's tag, the version's
//! `ModelLifeCycle` and metadata), a passed smoke test (the version's), and
//! the version an endpoint serves (its tags).

use std::collections::HashMap;

use aws_sdk_sagemaker::types::{ModelLifeCycle, Tag};
use serde::{Deserialize, Serialize};
use shared::events::Detail;
use shared::events_bus::publish;
use shared::sagemaker::endpoint::PackageVersion;
use shared::sagemaker::model_package::{life_cycle, metadata_keys};
use shared::tags::{keys as tag_keys, tag, tag_text};
use shared::PipelineError;
use tracing::warn;

use crate::handler::{Clients, DeployOutcome};
use crate::smoke::Report;
use crate::DeployConfig;

/// Which endpoint a deployment failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Staging,
    Production,
}

/// What failed a deployment: the `Cause` of the `DeploymentsFailed` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The version failed the smoke test on staging.
    SmokeTest,
    /// SageMaker rolled the update back (an alarm, or the new fleet failed).
    RolledBack,
    /// The endpoint went to Failed on the version.
    EndpointFailed,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::SmokeTest => "smoke_test",
            Cause::RolledBack => "rolled_back",
            Cause::EndpointFailed => "endpoint_failed",
        }
    }
}

impl Stage {
    fn life_cycle_stage(self) -> &'static str {
        match self {
            Stage::Staging => life_cycle::STAGING,
            Stage::Production => life_cycle::PRODUCTION,
        }
    }
}

/// `detail` of "Model Deployment Failed", which the template's
/// DeploymentFailedAlert rule sends to the alert topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentFailed {
    pub pipeline: String,
    pub model_package_group: String,
    pub model_package_arn: String,
    pub model_package_version: i64,
    pub stage: Stage,
    pub endpoint: String,
    pub reason: String,
}

impl Detail for DeploymentFailed {
    const DETAIL_TYPE: &'static str = "Model Deployment Failed";
    const SOURCE: Option<&'static str> = None;
}

/// SageMaker's limit on `ModelLifeCycle.StageDescription`.
const STAGE_DESCRIPTION_CHARS: usize = 1024;

/// A failed deployment: alerted first, then marked on the version (which
/// stops the loop from trying it again) and, last, on the endpoint (which
/// says it was alerted). A failure between the steps is retried whole (at
/// worst a second alert).
pub async fn failed(
    clients: &Clients,
    config: &DeployConfig,
    version: &PackageVersion<'_>,
    (stage, cause): (Stage, Cause),
    endpoint: (&str, &str),
    reason: &str,
) -> Result<DeployOutcome, PipelineError> {
    let (endpoint_name, endpoint_arn) = endpoint;
    warn!(version = version.number, ?stage, %reason, "deployment failed");
    let detail = DeploymentFailed {
        pipeline: config.pipeline.to_string(),
        model_package_group: config.group.clone(),
        model_package_arn: version.arn.to_string(),
        model_package_version: version.number,
        stage,
        endpoint: endpoint_name.to_string(),
        reason: reason.to_string(),
    };
    publish(&clients.events, config.bus.entry(version.arn, &detail)?).await?;
    let metadata = HashMap::from([
        (
            metadata_keys::DEPLOYMENT_STATUS.to_string(),
            "failed".to_string(),
        ),
        (
            metadata_keys::DEPLOYMENT_STAGE.to_string(),
            stage.life_cycle_stage().to_string(),
        ),
        (
            metadata_keys::DEPLOYMENT_FAILURE.to_string(),
            tag_text(reason, 256),
        ),
    ]);
    record(
        &clients.sagemaker,
        version,
        stage.life_cycle_stage(),
        life_cycle::FAILED,
        reason,
        metadata,
    )
    .await?;
    add_tags(
        &clients.sagemaker,
        endpoint_arn,
        vec![tag(
            tag_keys::FAILED_MODEL_PACKAGE_VERSION,
            &version.number.to_string(),
        )],
    )
    .await?;
    Ok(DeployOutcome::Failed {
        endpoint: endpoint_name.to_string(),
        stage,
        cause,
        model_package_version: version.number,
        reason: reason.to_string(),
    })
}

/// A passed smoke test, on the version: production may have it.
pub async fn passed(
    sagemaker: &aws_sdk_sagemaker::Client,
    version: &PackageVersion<'_>,
    staging_endpoint: &str,
    report: &Report,
) -> Result<(), PipelineError> {
    let metadata = HashMap::from([
        (metadata_keys::SMOKE_TEST.to_string(), "passed".to_string()),
        (
            metadata_keys::SMOKE_TEST_REQUESTS.to_string(),
            report.requests.to_string(),
        ),
        (
            metadata_keys::SMOKE_TEST_P99_MS.to_string(),
            format!("{:.1}", report.p99_ms),
        ),
    ]);
    let description = format!(
        "smoke test on {staging_endpoint}: {} requests, p99 {:.1} ms",
        report.requests, report.p99_ms
    );
    record(
        sagemaker,
        version,
        life_cycle::STAGING,
        life_cycle::PASSED,
        &description,
        metadata,
    )
    .await
}

/// One `UpdateModelPackage`: the life cycle and metadata keys (merged with
/// the version's others); the approval status a person set is not sent.
async fn record(
    sagemaker: &aws_sdk_sagemaker::Client,
    version: &PackageVersion<'_>,
    stage: &str,
    status: &str,
    description: &str,
    metadata: HashMap<String, String>,
) -> Result<(), PipelineError> {
    // One line (the field's pattern is `.{0,1024}`, which no line break matches).
    let description: String = description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(STAGE_DESCRIPTION_CHARS)
        .collect();
    let life_cycle = ModelLifeCycle::builder()
        .stage(stage)
        .stage_status(status)
        .stage_description(description)
        .build();
    sagemaker
        .update_model_package()
        .model_package_arn(version.arn)
        .model_life_cycle(life_cycle)
        .set_customer_metadata_properties(Some(metadata))
        .send()
        .await
        .map(drop)
        .map_err(|err| PipelineError::from_sdk("UpdateModelPackage", err))
}

/// AddTags on an endpoint (it overwrites keys that exist).
pub async fn add_tags(
    sagemaker: &aws_sdk_sagemaker::Client,
    endpoint_arn: &str,
    tags: Vec<Tag>,
) -> Result<(), PipelineError> {
    sagemaker
        .add_tags()
        .resource_arn(endpoint_arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map(drop)
        .map_err(|err| PipelineError::from_sdk("AddTags", err))
}
