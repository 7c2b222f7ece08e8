//! "SageMaker Model Package State Change" in; the endpoint moved to the
//! approved version, or off a rejected one that is live.

use aws_sdk_sagemaker::types::{EndpointStatus, ModelApprovalStatus};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::autoscaling::{resource_id, scalable_target_request, scaling_policy_request};
use shared::events::{
    check_kind, detail_type_of, parse_event, Detail, EndpointStateChange, EventBridgeEvent,
    ModelPackageStateChange, Skipped,
};
use shared::sagemaker::endpoint::{
    answers, create_endpoint_config_request, create_model_request, describe_endpoint, is_broken,
    update_endpoint_request, EndpointSettings, EndpointState, PackageVersion, VARIANT_NAME,
};
use shared::sagemaker::model_package::newest_approved;
use shared::sagemaker::{ensure_created, is_validation_error};
use shared::PipelineError;
use tracing::{info, instrument};

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

impl DeployOutcome {
    fn skipped(Skipped(reason): Skipped, endpoint: &str, version: Option<i64>) -> Self {
        DeployOutcome::Skipped {
            reason,
            endpoint: endpoint.to_string(),
            model_package_version: version,
        }
    }
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
    /// By the payload's `detail-type`: an endpoint's state change, else a
    /// package decision, whose check names what was expected. A missing
    /// `detail-type` is named as such.
    pub fn parse(payload: Value) -> Result<DeployEvent, PipelineError> {
        match detail_type_of(&payload) {
            Some(<EndpointStateChange as Detail>::DETAIL_TYPE) => {
                Ok(DeployEvent::EndpointChanged(parse_event(payload)?))
            }
            Some(_) => Ok(DeployEvent::PackageDecided(parse_event(payload)?)),
            None => Err(PipelineError::invalid_event(
                "detail-type: missing, or not a string",
            )),
        }
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
        Ok(DeployOutcome::skipped(
            Skipped::because(reason),
            endpoint,
            None,
        ))
    };
    if !endpoint.eq_ignore_ascii_case(&config.endpoint.name) {
        return skip(format!(
            "endpoint {endpoint} is not the configured {}",
            config.endpoint.name
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

    let name = &config.endpoint.name;
    scalable_target_request(name, &scaling)
        .send_with(autoscaling)
        .await
        .map_err(|err| PipelineError::from_sdk("RegisterScalableTarget", err))?;
    scaling_policy_request(&config.pipeline, name, &scaling)?
        .send_with(autoscaling)
        .await
        .map_err(|err| PipelineError::from_sdk("PutScalingPolicy", err))?;
    let resource_id = resource_id(name);
    info!(%resource_id, "autoscaling registered");
    Ok(DeployOutcome::AutoscalingRegistered {
        endpoint: name.clone(),
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
        endpoint = %config.endpoint.name,
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
        Ok(DeployOutcome::skipped(
            Skipped::because(reason),
            &config.endpoint.name,
            Some(version),
        ))
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
            let endpoint = describe_endpoint(sagemaker, &config.endpoint.name).await?;
            let approved = config.version(&package.model_package_arn, version);
            go_live(sagemaker, config, &approved, endpoint).await
        }
        ModelApprovalStatus::Rejected => {
            let rejected = config.version(&package.model_package_arn, version);
            match roll_back(sagemaker, config, &rejected).await? {
                Ok(outcome) => Ok(outcome),
                Err(skipped) => Ok(DeployOutcome::skipped(
                    skipped,
                    &config.endpoint.name,
                    Some(version),
                )),
            }
        }
        other => skip(format!(
            "approval status {other} is not a deployment decision"
        )),
    }
}

/// A rejected version that is live is replaced by the newest other approved
/// one; a rejected version that is not live needs nothing.
async fn roll_back(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    rejected: &PackageVersion<'_>,
) -> Result<Result<DeployOutcome, Skipped>, PipelineError> {
    let number = rejected.number;
    let endpoint = describe_endpoint(sagemaker, &config.endpoint.name).await?;
    let rejected_config = rejected.endpoint_config_name(&config.endpoint.name);
    if !matches!(&endpoint, EndpointState::Found { config: live, .. } if *live == rejected_config) {
        return Ok(Err(Skipped::because(format!(
            "rejected version {number} is not live"
        ))));
    }
    let Some(replacement) = newest_approved(sagemaker, &config.group, Some(rejected.arn)).await?
    else {
        return Ok(Err(Skipped::because(format!(
            "rejected version {number} is live but no other approved version exists to roll back to"
        ))));
    };
    let replacement = config.version(&replacement.arn, replacement.number);
    Ok(Ok(
        match go_live(sagemaker, config, &replacement, endpoint).await? {
            DeployOutcome::Created {
                endpoint,
                endpoint_config,
                model_package_version,
            }
            | DeployOutcome::Updated {
                endpoint,
                endpoint_config,
                model_package_version,
            } => DeployOutcome::RolledBack {
                endpoint,
                endpoint_config,
                model_package_version,
                rejected_version: number,
            },
            other => other,
        },
    ))
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

fn next_step(endpoint: EndpointState, endpoint_config: &str) -> Step {
    match endpoint {
        EndpointState::Missing => Step::Create,
        EndpointState::Found {
            arn,
            status,
            config: live,
            ..
        } if status == EndpointStatus::InService && live == endpoint_config => {
            Step::AlreadyLive { arn }
        }
        EndpointState::Found {
            status,
            failure_reason,
            ..
        } if is_broken(&status) => Step::Broken {
            status,
            why: failure_reason.unwrap_or_else(|| "no reason given".into()),
        },
        EndpointState::Found { status, .. } if status != EndpointStatus::InService => {
            Step::Busy(status)
        }
        EndpointState::Found { .. } => Step::Update,
    }
}

/// Puts `version` on the endpoint: creates the endpoint, or updates it.
async fn go_live(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    version: &PackageVersion<'_>,
    endpoint: EndpointState,
) -> Result<DeployOutcome, PipelineError> {
    let name = &config.endpoint.name;
    let endpoint_config = version.endpoint_config_name(name);
    let create = match next_step(endpoint, &endpoint_config) {
        Step::AlreadyLive { arn } => {
            // A delivery that updated the endpoint may have failed before it
            // re-tagged it; the tags must name the version that is live.
            tag_endpoint(sagemaker, &arn, version).await?;
            return Ok(DeployOutcome::skipped(
                Skipped::because("already live"),
                name,
                Some(version.number),
            ));
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
        answers::MODEL_EXISTS,
        create_model_request(&config.endpoint, version)
            .send_with(sagemaker)
            .await,
    )?;
    ensure_created(
        "CreateEndpointConfig",
        answers::ENDPOINT_CONFIG_EXISTS,
        create_endpoint_config_request(&config.endpoint, version)
            .send_with(sagemaker)
            .await,
    )?;
    let (endpoint, model_package_version) = (name.clone(), version.number);
    Ok(if create {
        create_endpoint(sagemaker, name, version, &endpoint_config).await?;
        DeployOutcome::Created {
            endpoint,
            endpoint_config,
            model_package_version,
        }
    } else {
        update_endpoint(sagemaker, &config.endpoint, version, &endpoint_config).await?;
        DeployOutcome::Updated {
            endpoint,
            endpoint_config,
            model_package_version,
        }
    })
}

/// A broken endpoint fails the deployment with SageMaker's reason, or, with
/// `ENDPOINT_RECREATE_FAILED`, is deleted so that the retry creates it afresh.
async fn broken(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &DeployConfig,
    status: EndpointStatus,
    why: String,
) -> PipelineError {
    let name = &config.endpoint.name;
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
    name: &str,
    version: &PackageVersion<'_>,
    endpoint_config: &str,
) -> Result<(), PipelineError> {
    let created = sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(endpoint_config)
        .set_tags(Some(version.tags()))
        .send()
        .await;
    match created {
        Ok(_) => {
            info!(%endpoint_config, "endpoint created");
            Ok(())
        }
        // Another invocation created it a moment ago; a retry updates it.
        Err(err) if is_validation_error(&err, answers::ENDPOINT_EXISTS) => Err(
            PipelineError::ResourceBusy(format!("endpoint {name} is being created")),
        ),
        Err(err) => Err(PipelineError::from_sdk("CreateEndpoint", err)),
    }
}

/// A blue/green update to the version's configuration, then the tags.
async fn update_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    endpoint: &EndpointSettings,
    version: &PackageVersion<'_>,
    endpoint_config: &str,
) -> Result<(), PipelineError> {
    let name = &endpoint.name;
    let updated = update_endpoint_request(endpoint, endpoint_config)
        .send_with(sagemaker)
        .await;
    let endpoint_arn = match updated {
        Ok(output) => output.endpoint_arn().unwrap_or_default().to_string(),
        Err(err) if is_validation_error(&err, answers::ENDPOINT_BUSY) => {
            return Err(PipelineError::ResourceBusy(format!(
                "endpoint {name} is busy"
            )));
        }
        Err(err) => return Err(PipelineError::from_sdk("UpdateEndpoint", err)),
    };
    tag_endpoint(sagemaker, &endpoint_arn, version).await?;
    info!(%endpoint_config, "endpoint update started");
    Ok(())
}

/// The endpoint's tags say which version it serves; AddTags overwrites.
async fn tag_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    endpoint_arn: &str,
    version: &PackageVersion<'_>,
) -> Result<(), PipelineError> {
    sagemaker
        .add_tags()
        .resource_arn(endpoint_arn)
        .set_tags(Some(version.tags()))
        .send()
        .await
        .map(drop)
        .map_err(|err| PipelineError::from_sdk("AddTags", err))
}

#[cfg(test)]
mod tests;
