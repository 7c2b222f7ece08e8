//! Putting one version on one endpoint (production or staging): its model
//! and endpoint configuration (reused when an earlier delivery made them),
//! then CreateEndpoint or UpdateEndpoint, and the endpoint's tag naming the
//! version it moves to. Where an endpoint stands is read here too.

use aws_sdk_sagemaker::types::EndpointStatus;
use shared::sagemaker::endpoint::{
    answers, create_endpoint_config_request, create_model_request, is_broken,
    update_endpoint_request, EndpointSettings, EndpointState, PackageVersion,
};
use shared::sagemaker::{ensure_created, is_validation_error};
use shared::tags::{keys as tag_keys, tag};
use shared::PipelineError;
use tracing::info;

use crate::marks::add_tags;

/// Where an endpoint stands with respect to one endpoint configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    Missing,
    /// In service on that configuration.
    Serving {
        arn: String,
    },
    /// Creating, Updating, RollingBack, ...: its next state change continues.
    Busy(EndpointStatus),
    /// Failed, OutOfService or UpdateRollbackFailed: only a delete helps.
    Broken {
        arn: String,
        status: EndpointStatus,
        /// The configuration it broke on.
        config: String,
        why: String,
    },
    /// In service on another configuration.
    Elsewhere(Elsewhere),
}

/// An endpoint in service on another configuration than the one asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Elsewhere {
    pub arn: String,
    /// The configuration it serves.
    pub config: String,
    /// SageMaker's reason, after a rolled-back update.
    pub failure_reason: Option<String>,
}

/// The decision alone, no call.
pub fn standing(endpoint: EndpointState, endpoint_config: &str) -> Standing {
    let EndpointState::Found {
        arn,
        status,
        config,
        failure_reason,
    } = endpoint
    else {
        return Standing::Missing;
    };
    if is_broken(&status) {
        return Standing::Broken {
            arn,
            status,
            config,
            why: failure_reason.unwrap_or_else(|| "no reason given".into()),
        };
    }
    match status {
        EndpointStatus::InService if config == endpoint_config => Standing::Serving { arn },
        EndpointStatus::InService => Standing::Elsewhere(Elsewhere {
            arn,
            config,
            failure_reason,
        }),
        status => Standing::Busy(status),
    }
}

/// What [`put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Updated,
    /// Another invocation got there first: the endpoint is busy with it.
    Busy,
}

/// Puts `version` on the endpoint: creates it (`exists` false) or updates it.
pub async fn put(
    sagemaker: &aws_sdk_sagemaker::Client,
    model: &EndpointSettings,
    endpoint: &EndpointSettings,
    version: &PackageVersion<'_>,
    exists: bool,
) -> Result<Put, PipelineError> {
    ensure_created(
        "CreateModel",
        answers::MODEL_EXISTS,
        create_model_request(model, version)
            .send_with(sagemaker)
            .await,
    )?;
    ensure_created(
        "CreateEndpointConfig",
        answers::ENDPOINT_CONFIG_EXISTS,
        create_endpoint_config_request(endpoint, version)
            .send_with(sagemaker)
            .await,
    )?;
    let endpoint_config = version.endpoint_config_name(&endpoint.name);
    if !exists {
        return create(sagemaker, &endpoint.name, version, &endpoint_config).await;
    }
    let updated = update_endpoint_request(endpoint, &endpoint_config)
        .send_with(sagemaker)
        .await;
    let arn = match updated {
        Ok(output) => output.endpoint_arn().unwrap_or_default().to_string(),
        Err(err) if is_validation_error(&err, answers::ENDPOINT_BUSY) => return Ok(Put::Busy),
        Err(err) => return Err(PipelineError::from_sdk("UpdateEndpoint", err)),
    };
    // Names the version the update moves to: if the endpoint comes back in
    // service elsewhere, this version's update failed. No failure of it is
    // recorded yet (a version retried after its mark was cleared).
    let mut tags = version.deploying_tags();
    tags.push(tag(tag_keys::FAILED_MODEL_PACKAGE_VERSION, ""));
    add_tags(sagemaker, &arn, tags).await?;
    info!(endpoint = %endpoint.name, %endpoint_config, "endpoint update started");
    Ok(Put::Updated)
}

/// Creates the endpoint on the version's configuration.
async fn create(
    sagemaker: &aws_sdk_sagemaker::Client,
    name: &str,
    version: &PackageVersion<'_>,
    endpoint_config: &str,
) -> Result<Put, PipelineError> {
    // The pipeline's tag and the version it moves to; the tags naming the
    // version it serves come once it is in service (its state change).
    let mut tags = vec![tag(tag_keys::PIPELINE, version.pipeline.as_str())];
    tags.extend(version.deploying_tags());
    let created = sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(endpoint_config)
        .set_tags(Some(tags))
        .send()
        .await;
    match created {
        Ok(_) => {
            info!(endpoint = %name, %endpoint_config, "endpoint created");
            Ok(Put::Created)
        }
        // Another invocation created it a moment ago.
        Err(err) if is_validation_error(&err, answers::ENDPOINT_EXISTS) => Ok(Put::Busy),
        Err(err) => Err(PipelineError::from_sdk("CreateEndpoint", err)),
    }
}
