//! "SageMaker Model Package State Change" in; the endpoint moved to the
//! approved version, or off a rejected one that is live.

use aws_sdk_sagemaker::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemaker::types::{
    EndpointStatus, ModelApprovalStatus, ModelPackageSortBy, SortOrder,
};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::error::is_validation_error;
use shared::events::{
    check_kind, detail_type_of, parse_event, Detail, EndpointStateChange, EventBridgeEvent,
    ModelPackageStateChange,
};
use shared::PipelineError;
use tracing::{info, instrument};

use crate::requests::{
    create_endpoint_config_request, create_model_request, endpoint_config_name,
    scalable_target_request, scaling_policy_request, scaling_resource_id, tags,
    update_endpoint_request, VARIANT_NAME,
};
use crate::DeployConfig;

/// The AWS clients the function uses, built once at cold start.
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig) -> Clients {
        Clients {
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(config),
        }
    }
}

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DeployOutcome {
    Created {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
    },
    Updated {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
    },
    RolledBack {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
        rejected_version: i64,
    },
    AutoscalingRegistered {
        endpoint: String,
        variant: String,
        min_instances: i32,
        max_instances: i32,
        target_invocations_per_instance: f64,
    },
    Skipped {
        reason: String,
        endpoint: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        model_package_version: Option<i64>,
    },
}

/// The endpoint as DescribeEndpoint found it.
enum Endpoint {
    Missing,
    Found {
        arn: String,
        status: EndpointStatus,
        config: String,
        failure_reason: Option<String>,
    },
}

/// The Lambda entry point: a model package decision goes to [`deploy`], an
/// endpoint coming into service to [`scale`].
pub async fn handle(
    clients: &Clients,
    config: &DeployConfig,
    event: LambdaEvent<Value>,
) -> Result<DeployOutcome, PipelineError> {
    match DeployEvent::parse(event.payload)? {
        DeployEvent::EndpointChanged(event) => scale(&clients.autoscaling, config, &event).await,
        DeployEvent::PackageDecided(event) => deploy(&clients.sagemaker, config, &event).await,
    }
}

/// The two kinds of event deploy takes.
pub enum DeployEvent {
    /// A model package version approved, rejected or pending.
    PackageDecided(EventBridgeEvent<ModelPackageStateChange>),
    /// The endpoint changed state (autoscaling once it is in service).
    EndpointChanged(EventBridgeEvent<EndpointStateChange>),
}

impl DeployEvent {
    /// By the payload's `detail-type`; anything but an endpoint's state change
    /// is read as a package decision, whose check names what was expected.
    pub fn parse(payload: Value) -> Result<DeployEvent, PipelineError> {
        if detail_type_of(&payload) == Some(<EndpointStateChange as Detail>::DETAIL_TYPE) {
            return Ok(DeployEvent::EndpointChanged(parse_event(payload)?));
        }
        Ok(DeployEvent::PackageDecided(parse_event(payload)?))
    }
}

/// Registers the endpoint's variant with Application Auto Scaling once the
/// endpoint is in service (registering while it is Creating or Updating is
/// refused). Both calls are upserts, so repeated events are harmless. The
/// model of an autoscaled variant may change in a later update; its instance
/// type may not (SageMaker refuses such an update while it is registered).
#[instrument(skip_all, fields(endpoint = %event.detail.endpoint_name, status = %event.detail.endpoint_status))]
pub async fn scale(
    autoscaling: &aws_sdk_applicationautoscaling::Client,
    config: &DeployConfig,
    event: &EventBridgeEvent<EndpointStateChange>,
) -> Result<DeployOutcome, PipelineError> {
    check_kind(event, None)?;
    let endpoint = &event.detail.endpoint_name;
    let skip = |reason: String| {
        info!(%reason, "skipped");
        Ok(DeployOutcome::Skipped {
            reason,
            endpoint: endpoint.clone(),
            model_package_version: None,
        })
    };
    if !endpoint.eq_ignore_ascii_case(&config.endpoint_name) {
        return skip(format!(
            "endpoint {endpoint} is not the configured {}",
            config.endpoint_name
        ));
    }
    if event.detail.endpoint_status != "IN_SERVICE" {
        return skip(format!(
            "endpoint status {}: autoscaling is registered once it is in service",
            event.detail.endpoint_status
        ));
    }
    let Some(scaling) = config.autoscaling else {
        return skip("autoscaling is not configured".into());
    };

    scalable_target_request(config, &scaling)
        .send_with(autoscaling)
        .await
        .map_err(|err| PipelineError::from_sdk("RegisterScalableTarget", err))?;
    scaling_policy_request(config, &scaling)?
        .send_with(autoscaling)
        .await
        .map_err(|err| PipelineError::from_sdk("PutScalingPolicy", err))?;
    let resource_id = scaling_resource_id(config);
    info!(%resource_id, "autoscaling registered");
    Ok(DeployOutcome::AutoscalingRegistered {
        endpoint: config.endpoint_name.clone(),
        variant: VARIANT_NAME.to_string(),
        min_instances: scaling.min_instances,
        max_instances: scaling.max_instances,
        target_invocations_per_instance: scaling.target_invocations_per_instance,
    })
}

#[instrument(
    skip_all,
    fields(
        model_package = %event.detail.model_package_arn,
        approval = %event.detail.model_approval_status,
        endpoint = %config.endpoint_name,
    )
)]
pub async fn deploy(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    event: &EventBridgeEvent<ModelPackageStateChange>,
) -> Result<DeployOutcome, PipelineError> {
    check_kind(event, None)?;
    let package = &event.detail;
    let version = package.model_package_version;
    let skip = |reason: String| {
        info!(%reason, "skipped");
        Ok(DeployOutcome::Skipped {
            reason,
            endpoint: config.endpoint_name.clone(),
            model_package_version: Some(version),
        })
    };
    if !package
        .model_package_group_name
        .eq_ignore_ascii_case(&config.group)
    {
        return skip(format!(
            "model package group {} is not the configured {}",
            package.model_package_group_name, config.group
        ));
    }

    match &package.model_approval_status {
        ModelApprovalStatus::Approved => {
            let endpoint = describe_endpoint(sagemaker, config).await?;
            go_live(
                sagemaker,
                config,
                &package.model_package_arn,
                version,
                endpoint,
            )
            .await
        }
        ModelApprovalStatus::Rejected => {
            let endpoint = describe_endpoint(sagemaker, config).await?;
            let rejected_config = endpoint_config_name(config, &package.model_package_arn, version);
            let live = matches!(&endpoint, Endpoint::Found { config: live, .. } if *live == rejected_config);
            if !live {
                return skip(format!("rejected version {version} is not live"));
            }
            let Some((arn, replacement)) =
                newest_other_approved(sagemaker, config, &package.model_package_arn).await?
            else {
                return skip(format!(
                    "rejected version {version} is live but no other approved version exists to roll back to"
                ));
            };
            match go_live(sagemaker, config, &arn, replacement, endpoint).await? {
                DeployOutcome::Created {
                    endpoint,
                    endpoint_config,
                    model_package_version,
                }
                | DeployOutcome::Updated {
                    endpoint,
                    endpoint_config,
                    model_package_version,
                } => Ok(DeployOutcome::RolledBack {
                    endpoint,
                    endpoint_config,
                    model_package_version,
                    rejected_version: version,
                }),
                other => Ok(other),
            }
        }
        other => skip(format!(
            "approval status {other} is not a deployment decision"
        )),
    }
}

/// What putting a version live takes, given the endpoint as it is: the
/// decision alone, no call.
enum Step {
    /// The endpoint serves this version already (its tags are re-written).
    AlreadyLive {
        arn: String,
    },
    /// Failed, OutOfService or UpdateRollbackFailed: nothing can update it.
    Broken {
        status: EndpointStatus,
        why: String,
    },
    /// Creating, Updating, ...: a later delivery finds it ready.
    Busy(EndpointStatus),
    Create,
    Update,
}

fn next_step(endpoint: Endpoint, endpoint_config: &str) -> Step {
    match endpoint {
        Endpoint::Missing => Step::Create,
        Endpoint::Found {
            arn,
            status,
            config: live,
            ..
        } if status == EndpointStatus::InService && live == endpoint_config => {
            Step::AlreadyLive { arn }
        }
        Endpoint::Found {
            status:
                status @ (EndpointStatus::Failed
                | EndpointStatus::OutOfService
                | EndpointStatus::UpdateRollbackFailed),
            failure_reason,
            ..
        } => Step::Broken {
            status,
            why: failure_reason.unwrap_or_else(|| "no reason given".into()),
        },
        Endpoint::Found { status, .. } if status != EndpointStatus::InService => Step::Busy(status),
        Endpoint::Found { .. } => Step::Update,
    }
}

/// Puts `version` on the endpoint: creates the endpoint, or updates it.
async fn go_live(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    package_arn: &str,
    version: i64,
    endpoint: Endpoint,
) -> Result<DeployOutcome, PipelineError> {
    let endpoint_config = endpoint_config_name(config, package_arn, version);
    let name = &config.endpoint_name;
    let create = match next_step(endpoint, &endpoint_config) {
        Step::AlreadyLive { arn } => {
            // A delivery that updated the endpoint may have failed before it
            // re-tagged it; the tags must name the version that is live.
            tag_endpoint(sagemaker, config, &arn, package_arn, version).await?;
            info!("already live");
            return Ok(DeployOutcome::Skipped {
                reason: "already live".into(),
                endpoint: name.clone(),
                model_package_version: Some(version),
            });
        }
        Step::Broken { status, why } => return Err(broken(sagemaker, config, status, why).await),
        Step::Busy(status) => {
            return Err(PipelineError::ResourceBusy(format!(
                "endpoint {name} is busy ({status})"
            )))
        }
        Step::Create => true,
        Step::Update => false,
    };

    ensure_created(
        "CreateModel",
        "Cannot create already existing model",
        create_model_request(config, package_arn, version)
            .send_with(sagemaker)
            .await,
    )?;
    ensure_created(
        "CreateEndpointConfig",
        "Cannot create already existing endpoint configuration",
        create_endpoint_config_request(config, package_arn, version)
            .send_with(sagemaker)
            .await,
    )?;
    if create {
        create_endpoint(sagemaker, config, package_arn, version, endpoint_config).await
    } else {
        update_endpoint(sagemaker, config, package_arn, version, endpoint_config).await
    }
}

/// A broken endpoint fails the deployment with SageMaker's reason, or, with
/// `ENDPOINT_RECREATE_FAILED`, is deleted so that the retry creates it afresh.
async fn broken(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    status: EndpointStatus,
    why: String,
) -> PipelineError {
    let name = &config.endpoint_name;
    if !config.recreate_failed_endpoint {
        return PipelineError::ResourceFailed(format!("endpoint {name} is {status}: {why}"));
    }
    match sagemaker.delete_endpoint().endpoint_name(name).send().await {
        Ok(_) => PipelineError::ResourceBusy(format!(
            "endpoint {name} was {status} ({why}); it is being deleted and a retry recreates it"
        )),
        Err(err) => PipelineError::from_sdk("DeleteEndpoint", err),
    }
}

/// Creates the endpoint on the version's configuration, tagged with it.
async fn create_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    package_arn: &str,
    version: i64,
    endpoint_config: String,
) -> Result<DeployOutcome, PipelineError> {
    let name = &config.endpoint_name;
    let created = sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(&endpoint_config)
        .set_tags(Some(tags(config, package_arn, version)))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Another invocation created it a moment ago; a retry updates it.
        Err(err) if is_validation_error(&err, "Cannot create already existing endpoint") => {
            return Err(PipelineError::ResourceBusy(format!(
                "endpoint {name} is being created"
            )));
        }
        Err(err) => return Err(PipelineError::from_sdk("CreateEndpoint", err)),
    }
    info!(%endpoint_config, "endpoint created");
    Ok(DeployOutcome::Created {
        endpoint: name.clone(),
        endpoint_config,
        model_package_version: version,
    })
}

/// A blue/green update to the version's configuration, then the tags.
async fn update_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    package_arn: &str,
    version: i64,
    endpoint_config: String,
) -> Result<DeployOutcome, PipelineError> {
    let name = &config.endpoint_name;
    let updated = update_endpoint_request(config, &endpoint_config)
        .send_with(sagemaker)
        .await;
    let endpoint_arn = match updated {
        Ok(output) => output.endpoint_arn().unwrap_or_default().to_string(),
        Err(err) if is_validation_error(&err, "Cannot update in-progress endpoint") => {
            return Err(PipelineError::ResourceBusy(format!(
                "endpoint {name} is busy"
            )));
        }
        Err(err) => return Err(PipelineError::from_sdk("UpdateEndpoint", err)),
    };
    tag_endpoint(sagemaker, config, &endpoint_arn, package_arn, version).await?;
    info!(%endpoint_config, "endpoint update started");
    Ok(DeployOutcome::Updated {
        endpoint: name.clone(),
        endpoint_config,
        model_package_version: version,
    })
}

/// The endpoint's tags say which version it serves; AddTags overwrites.
async fn tag_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    endpoint_arn: &str,
    package_arn: &str,
    version: i64,
) -> Result<(), PipelineError> {
    sagemaker
        .add_tags()
        .resource_arn(endpoint_arn)
        .set_tags(Some(tags(config, package_arn, version)))
        .send()
        .await
        .map(drop)
        .map_err(|err| PipelineError::from_sdk("AddTags", err))
}

async fn describe_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
) -> Result<Endpoint, PipelineError> {
    match sagemaker
        .describe_endpoint()
        .endpoint_name(&config.endpoint_name)
        .send()
        .await
    {
        Ok(endpoint) => Ok(Endpoint::Found {
            arn: endpoint.endpoint_arn().unwrap_or_default().to_string(),
            status: endpoint
                .endpoint_status()
                .cloned()
                .unwrap_or(EndpointStatus::Creating),
            config: endpoint
                .endpoint_config_name()
                .unwrap_or_default()
                .to_string(),
            failure_reason: endpoint.failure_reason().map(str::to_string),
        }),
        Err(err) if is_validation_error(&err, "Could not find endpoint") => Ok(Endpoint::Missing),
        Err(err) => Err(PipelineError::from_sdk("DescribeEndpoint", err)),
    }
}

/// The newest Approved version of the group other than `rejected_arn`.
async fn newest_other_approved(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    rejected_arn: &str,
) -> Result<Option<(String, i64)>, PipelineError> {
    let mut pages = sagemaker
        .list_model_packages()
        .model_package_group_name(&config.group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| PipelineError::from_sdk("ListModelPackages", err))?;
        for summary in page.model_package_summary_list() {
            let arn = summary.model_package_arn().unwrap_or_default();
            if arn != rejected_arn && !arn.is_empty() {
                let version = summary
                    .model_package_version()
                    .map(i64::from)
                    .or_else(|| arn.rsplit('/').next().and_then(|v| v.parse().ok()))
                    .unwrap_or_default();
                return Ok(Some((arn.to_string(), version)));
            }
        }
    }
    Ok(None)
}

/// Our deterministic name already existing means an earlier delivery
/// created it: reuse it.
fn ensure_created<O, E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    already_exists: &str,
    result: Result<O, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<(), PipelineError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_validation_error(&err, already_exists) => Ok(()),
        Err(err) => Err(PipelineError::from_sdk(operation, err)),
    }
}

#[cfg(test)]
mod tests;
