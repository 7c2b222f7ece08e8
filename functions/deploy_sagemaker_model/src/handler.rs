//! The entry point: which event came in, and what the invocation did. Every
//! event (a version approved or rejected, an endpoint's state change, the
//! scheduled check) leads to [`converge`], one step toward the desired state;
//! production coming into service also registers autoscaling ([`scale`]).

use aws_sdk_sagemaker::types::ModelApprovalStatus;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::autoscaling::{resource_id, scalable_target_request, scaling_policy_request};
use shared::events::{
    check_kind, detail_type_of, parse_event, Detail, EndpointStateChange, EventBridgeEvent,
    ModelPackageStateChange, ScheduledEvent, SkipClass, Skipped,
};
use shared::metrics::{names, Measured, Measures};
use shared::sagemaker::endpoint::VARIANT_NAME;
use shared::PipelineError;
use tracing::{info, instrument};

use crate::converge::converge;
use crate::marks::{Cause, Stage};
use crate::smoke::Report;
use crate::DeployConfig;

/// The AWS clients the function uses, built once at cold start.
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// The smoke test's requests to the staging endpoint.
    pub runtime: aws_sdk_sagemakerruntime::Client,
    /// The smoke test's sample requests.
    pub s3: aws_sdk_s3::Client,
    /// "Model Deployment Failed".
    pub events: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig) -> Clients {
        Clients {
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(config),
            runtime: aws_sdk_sagemakerruntime::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
        }
    }
}

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DeployOutcome {
    /// Production created on the version.
    Created {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
        /// The smoke test it passed on staging just before.
        #[serde(skip_serializing_if = "Option::is_none")]
        smoke_test: Option<Report>,
    },
    /// A blue/green update of production to the version started.
    Updated {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        smoke_test: Option<Report>,
    },
    /// Production moves off a rejected version that is live.
    RolledBack {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
        rejected_version: i64,
    },
    /// The staging endpoint created on, or updated to, the version.
    Staged {
        endpoint: String,
        endpoint_config: String,
        model_package_version: i64,
    },
    /// The version's deployment failed: marked, alerted, not tried again.
    Failed {
        endpoint: String,
        stage: Stage,
        cause: Cause,
        model_package_version: i64,
        reason: String,
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
        reason_class: SkipClass,
        endpoint: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        model_package_version: Option<i64>,
    },
}

impl DeployOutcome {
    pub(crate) fn skipped(skipped: Skipped, endpoint: &str, version: Option<i64>) -> Self {
        DeployOutcome::Skipped {
            reason: skipped.reason,
            reason_class: skipped.class,
            endpoint: endpoint.to_string(),
            model_package_version: version,
        }
    }

    /// One action's metric (and `Started`) with the version, as measures.
    fn action(name: &str, endpoint: &str, version: i64) -> Measures {
        Measures::default()
            .count(names::STARTED, 1)
            .count(name, 1)
            .property("endpoint", endpoint)
            .property("model_package_version", version)
    }

    /// An update that moves production off `rejected` is its rollback.
    fn after_rejection(self, rejected: i64) -> Self {
        match self {
            DeployOutcome::Updated {
                endpoint,
                endpoint_config,
                model_package_version,
                smoke_test: _,
            } if model_package_version != rejected => DeployOutcome::RolledBack {
                endpoint,
                endpoint_config,
                model_package_version,
                rejected_version: rejected,
            },
            other => other,
        }
    }
}

/// A rollback of production, SageMaker's or after a rejection, counts as
/// `DeploymentsRolledBack`; a failure counts by its cause (`DeploymentsFailed`,
/// and `SmokeTestsFailed` for a failed smoke test).
impl Measured for DeployOutcome {
    fn measures(&self) -> Measures {
        use DeployOutcome::*;
        match self {
            Created {
                endpoint,
                model_package_version,
                ..
            } => Self::action("DeploymentsCreated", endpoint, *model_package_version),
            Updated {
                endpoint,
                model_package_version,
                ..
            } => Self::action("DeploymentsUpdated", endpoint, *model_package_version),
            RolledBack {
                endpoint,
                model_package_version,
                ..
            } => Self::action("DeploymentsRolledBack", endpoint, *model_package_version),
            Staged {
                endpoint,
                model_package_version,
                ..
            } => Self::action("DeploymentsStaged", endpoint, *model_package_version),
            Failed {
                endpoint,
                stage,
                cause,
                model_package_version,
                ..
            } => Measures::default()
                .count_by("DeploymentsFailed", 1, "Cause", cause.as_str())
                .count("SmokeTestsFailed", usize::from(*cause == Cause::SmokeTest))
                .count(
                    "DeploymentsRolledBack",
                    usize::from(*cause == Cause::RolledBack && *stage == Stage::Production),
                )
                .property("endpoint", endpoint.as_str())
                .property("model_package_version", *model_package_version),
            AutoscalingRegistered { endpoint, .. } => Measures::default()
                .count("AutoscalingRegistered", 1)
                .property("endpoint", endpoint.as_str()),
            Skipped { reason_class, .. } => Measures::default().skipped(*reason_class),
        }
    }
}

/// The Lambda entry point.
pub async fn handle(
    clients: &Clients,
    config: &DeployConfig,
    event: LambdaEvent<Value>,
) -> Result<DeployOutcome, PipelineError> {
    match DeployEvent::parse(event.payload)? {
        DeployEvent::PackageDecided(event) => deploy(clients, config, &event).await,
        DeployEvent::EndpointChanged(event) => endpoint_changed(clients, config, &event).await,
        DeployEvent::Scheduled(event) => {
            check_kind(&event, None)?;
            converge(clients, config, None).await
        }
    }
}

/// The three kinds of event deploy takes.
pub enum DeployEvent {
    /// A model package version approved, rejected or pending.
    PackageDecided(EventBridgeEvent<ModelPackageStateChange>),
    /// The production or staging endpoint changed state.
    EndpointChanged(EventBridgeEvent<EndpointStateChange>),
    /// The scheduled check (a schedule rule's "Scheduled Event").
    Scheduled(EventBridgeEvent<ScheduledEvent>),
}

impl DeployEvent {
    /// By the payload's `detail-type`: an endpoint's state change, the
    /// schedule, else a package decision, whose check names what was
    /// expected. A missing `detail-type` is named as such.
    pub fn parse(payload: Value) -> Result<DeployEvent, PipelineError> {
        match detail_type_of(&payload) {
            Some(<EndpointStateChange as Detail>::DETAIL_TYPE) => {
                Ok(DeployEvent::EndpointChanged(parse_event(payload)?))
            }
            Some(<ScheduledEvent as Detail>::DETAIL_TYPE) => {
                Ok(DeployEvent::Scheduled(parse_event(payload)?))
            }
            Some(_) => Ok(DeployEvent::PackageDecided(parse_event(payload)?)),
            None => Err(PipelineError::invalid_event(
                "detail-type: missing, or not a string",
            )),
        }
    }
}

/// A version approved or rejected: the endpoints converge (a rejected live
/// version is replaced by the newest other good one).
#[instrument(
    skip_all,
    fields(
        model_package = %event.detail.model_package_arn,
        approval = %event.detail.model_approval_status,
        endpoint = %config.endpoint.name,
    )
)]
pub async fn deploy(
    clients: &Clients,
    config: &DeployConfig,
    event: &EventBridgeEvent<ModelPackageStateChange>,
) -> Result<DeployOutcome, PipelineError> {
    check_kind(event, None)?;
    let package = &event.detail;
    let version = package.model_package_version;
    let skip = |reason: String| {
        Ok(DeployOutcome::skipped(
            Skipped::not_applicable(reason),
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
        ModelApprovalStatus::Approved => converge(clients, config, None).await,
        ModelApprovalStatus::Rejected => Ok(converge(clients, config, None)
            .await?
            .after_rejection(version)),
        other => skip(format!(
            "approval status {other} is not a deployment decision"
        )),
    }
}

/// The production or staging endpoint changed state: the deployment that
/// waited for it continues; production in service registers autoscaling
/// first, when configured.
#[instrument(skip_all, fields(endpoint = %event.detail.endpoint_name, status = %event.detail.endpoint_status))]
async fn endpoint_changed(
    clients: &Clients,
    config: &DeployConfig,
    event: &EventBridgeEvent<EndpointStateChange>,
) -> Result<DeployOutcome, PipelineError> {
    check_kind(event, None)?;
    let endpoint = &event.detail.endpoint_name;
    let production = endpoint.eq_ignore_ascii_case(&config.endpoint.name);
    let staging = config
        .staging
        .as_ref()
        .is_some_and(|s| endpoint.eq_ignore_ascii_case(&s.endpoint.name));
    if !production && !staging {
        return Ok(DeployOutcome::skipped(
            Skipped::not_applicable(format!(
                "endpoint {endpoint} is neither the configured {} nor its staging endpoint",
                config.endpoint.name
            )),
            endpoint,
            None,
        ));
    }
    let registered = if production {
        scale(&clients.autoscaling, config, event).await?
    } else {
        None
    };
    match (
        converge(clients, config, Some(&event.detail)).await?,
        registered,
    ) {
        (DeployOutcome::Skipped { .. }, Some(registered)) => Ok(registered),
        (outcome, _) => Ok(outcome),
    }
}

/// Registers production's variant with Application Auto Scaling once it is
/// in service (registering while it is Creating or Updating is refused);
/// `None` when that is not due. Both calls are upserts, so repeated events
/// are harmless. The model of an autoscaled variant may change in a later
/// update; its instance type may not (SageMaker refuses such an update while
/// it is registered).
pub async fn scale(
    autoscaling: &aws_sdk_applicationautoscaling::Client,
    config: &DeployConfig,
    event: &EventBridgeEvent<EndpointStateChange>,
) -> Result<Option<DeployOutcome>, PipelineError> {
    let (Some(scaling), "IN_SERVICE") = (config.autoscaling, event.detail.endpoint_status.as_str())
    else {
        return Ok(None);
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
    Ok(Some(DeployOutcome::AutoscalingRegistered {
        endpoint: name.clone(),
        variant: VARIANT_NAME.to_string(),
        min_instances: scaling.min_instances,
        max_instances: scaling.max_instances,
        target_invocations_per_instance: scaling.target_invocations_per_instance,
    }))
}

#[cfg(test)]
mod tests;
