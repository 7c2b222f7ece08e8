//! One step toward the desired state: production serves the newest approved
//! version whose deployment has not failed, after it passed the smoke test
//! on staging when staging is on. Every event (and the scheduled check)
//! reads where things stand and takes the one step that is due, or skips
//! with the reason. The decision table of docs/deployment.md is this module.

use std::collections::HashMap;

use shared::events::{EndpointStateChange, Skipped};
use shared::sagemaker::endpoint::{describe_endpoint, list_tags, PackageVersion};
use shared::sagemaker::model_package::{newest_deployable, Deployable, Progress};
use shared::tags::keys as tag_keys;
use shared::PipelineError;

use crate::config::Staging;
use crate::endpoints::{put, standing, Elsewhere, Put, Standing};
use crate::handler::{Clients, DeployOutcome};
use crate::marks::{self, add_tags, Cause, Stage};
use crate::smoke::{self, Report};
use crate::DeployConfig;

/// SageMaker's reason when an endpoint came back in service on its previous
/// configuration without one.
const RETURNED: &str = "the endpoint returned to its previous configuration";

/// Takes the step due on production. `changed`: the endpoint state change
/// that triggered this invocation, if one did (its tags save a read).
pub async fn converge(
    clients: &Clients,
    config: &DeployConfig,
    changed: Option<&EndpointStateChange>,
) -> Result<DeployOutcome, PipelineError> {
    let name = &config.endpoint.name;
    let production = describe_endpoint(&clients.sagemaker, name).await?;
    let Some(desired) = newest_deployable(&clients.sagemaker, &config.group).await? else {
        return Ok(skipped(
            name,
            None,
            Skipped::not_applicable("no approved version whose deployment has not failed"),
        ));
    };
    let version = config.version(&desired.arn, desired.number);
    match standing(production, &version.endpoint_config_name(name)) {
        Standing::Serving { arn } => {
            // The update to it completed: the tags name the version served.
            if changed.is_some_and(|c| c.endpoint_name == *name && !version.is_live_per(&c.tags)) {
                add_tags(&clients.sagemaker, &arn, version.tags()).await?;
            }
            Ok(skipped(
                name,
                Some(version.number),
                Skipped::already_done("live"),
            ))
        }
        Standing::Busy(status) => Ok(skipped(
            name,
            Some(version.number),
            Skipped::waiting(format!(
                "endpoint is {status}; its next state change continues"
            )),
        )),
        Standing::Broken {
            arn,
            status,
            config: broken_on,
            why,
        } => broken_production(clients, config, (arn, broken_on), status, why).await,
        Standing::Elsewhere(elsewhere) => {
            let stage = Stage::Production;
            let failed = last_attempt(clients, config, stage, name, elsewhere, &version);
            if let Some(outcome) = failed.await? {
                return Ok(outcome);
            }
            promote(clients, config, &desired, true).await
        }
        Standing::Missing => promote(clients, config, &desired, false).await,
    }
}

/// What an endpoint in service elsewhere says of its last
/// Create/UpdateEndpoint (one ListTags): the version its tags say it moved to
/// - is the one it serves: that update completed; production's tags are
///   made to name it (the version served, what `GET /model` reads);
/// - is not: SageMaker rolled it back, so that version's deployment failed.
///   It is marked and alerted once (the endpoint's failed-version tag says it
///   was). `Some` when it is the desired version (nothing more to do now);
///   an older one's failure is marked and the desired version's step follows.
async fn last_attempt(
    clients: &Clients,
    config: &DeployConfig,
    stage: Stage,
    name: &str,
    elsewhere: Elsewhere,
    desired: &PackageVersion<'_>,
) -> Result<Option<DeployOutcome>, PipelineError> {
    let tags = list_tags(&clients.sagemaker, &elsewhere.arn).await?;
    let Some((arn, number)) = deploying(&tags) else {
        return Ok(None);
    };
    let attempt = config.version(arn, number);
    if attempt.endpoint_config_name(name) == elsewhere.config {
        if stage == Stage::Production && !attempt.is_live_per(&tags) {
            add_tags(&clients.sagemaker, &elsewhere.arn, attempt.tags()).await?;
        }
        return Ok(None);
    }
    if marked_failed(&tags) == Some(number) {
        // Alerted already; desired again only if a person cleared its mark.
        return Ok(None);
    }
    let reason = elsewhere.failure_reason.unwrap_or_else(|| RETURNED.into());
    let endpoint = (name, elsewhere.arn.as_str());
    let outcome = marks::failed(
        clients,
        config,
        &attempt,
        (stage, Cause::RolledBack),
        endpoint,
        &reason,
    )
    .await?;
    Ok((attempt.arn == desired.arn).then_some(outcome))
}

/// The version an endpoint's tags say failed there last (and was alerted).
fn marked_failed(tags: &HashMap<String, String>) -> Option<i64> {
    tags.get(tag_keys::FAILED_MODEL_PACKAGE_VERSION)?
        .parse()
        .ok()
}

/// The version an endpoint's tags say its last Create/UpdateEndpoint moved
/// it to.
fn deploying(tags: &HashMap<String, String>) -> Option<(&str, i64)> {
    let arn = tags.get(tag_keys::DEPLOYING_MODEL_PACKAGE_ARN)?;
    let number = tags
        .get(tag_keys::DEPLOYING_MODEL_PACKAGE_VERSION)?
        .parse()
        .ok()?;
    Some((arn, number))
}

/// The desired version goes to production, through staging first when
/// staging is on and it has not passed there yet.
async fn promote(
    clients: &Clients,
    config: &DeployConfig,
    desired: &Deployable,
    production_exists: bool,
) -> Result<DeployOutcome, PipelineError> {
    let version = config.version(&desired.arn, desired.number);
    match &config.staging {
        Some(staging) if desired.progress != Progress::PassedStaging => {
            stage(clients, config, staging, &version, production_exists).await
        }
        _ => go_live(clients, config, &version, production_exists, None).await,
    }
}

/// The step due on the staging endpoint for `version`: create or update it,
/// wait for it, mark the version failed there, or run the smoke test and,
/// when it passes, promote the version to production.
async fn stage(
    clients: &Clients,
    config: &DeployConfig,
    staging: &Staging,
    version: &PackageVersion<'_>,
    production_exists: bool,
) -> Result<DeployOutcome, PipelineError> {
    let name = &staging.endpoint.name;
    let endpoint = describe_endpoint(&clients.sagemaker, name).await?;
    let number = Some(version.number);
    match standing(endpoint, &version.endpoint_config_name(name)) {
        Standing::Serving { arn } => {
            let requests = smoke::requests(&clients.s3, &staging.smoke_test).await?;
            match smoke::run(&clients.runtime, name, &staging.smoke_test, &requests).await? {
                Ok(report) => {
                    marks::passed(&clients.sagemaker, version, name, &report).await?;
                    go_live(clients, config, version, production_exists, Some(report)).await
                }
                Err(reason) => {
                    let endpoint = (name.as_str(), arn.as_str());
                    let failed = (Stage::Staging, Cause::SmokeTest);
                    marks::failed(clients, config, version, failed, endpoint, &reason).await
                }
            }
        }
        Standing::Busy(status) => Ok(skipped(
            name,
            number,
            Skipped::waiting(format!(
                "staging endpoint is {status}; its next state change continues"
            )),
        )),
        Standing::Broken {
            arn,
            config: broken_on,
            why,
            ..
        } if broken_on == version.endpoint_config_name(name) => {
            let endpoint = (name.as_str(), arn.as_str());
            let failed = (Stage::Staging, Cause::EndpointFailed);
            let outcome = marks::failed(clients, config, version, failed, endpoint, &why).await?;
            delete(&clients.sagemaker, name).await?;
            Ok(outcome)
        }
        Standing::Broken { status, .. } => {
            delete(&clients.sagemaker, name).await?;
            Ok(skipped(
                name,
                number,
                Skipped::waiting(format!("staging endpoint was {status} on another version and is being deleted; a later check creates it")),
            ))
        }
        Standing::Elsewhere(elsewhere) => {
            let stage = Stage::Staging;
            let failed = last_attempt(clients, config, stage, name, elsewhere, version);
            if let Some(outcome) = failed.await? {
                return Ok(outcome);
            }
            staged(clients, config, staging, version, true).await
        }
        Standing::Missing => staged(clients, config, staging, version, false).await,
    }
}

async fn staged(
    clients: &Clients,
    config: &DeployConfig,
    staging: &Staging,
    version: &PackageVersion<'_>,
    exists: bool,
) -> Result<DeployOutcome, PipelineError> {
    let name = &staging.endpoint.name;
    match put(
        &clients.sagemaker,
        &config.endpoint,
        &staging.endpoint,
        version,
        exists,
    )
    .await?
    {
        Put::Busy => Ok(skipped(
            name,
            Some(version.number),
            Skipped::waiting(
                "staging endpoint is busy with another deployment; its next state change continues",
            ),
        )),
        _ => Ok(DeployOutcome::Staged {
            endpoint: name.clone(),
            endpoint_config: version.endpoint_config_name(name),
            model_package_version: version.number,
        }),
    }
}

/// Production gets the version: created, or a blue/green update.
async fn go_live(
    clients: &Clients,
    config: &DeployConfig,
    version: &PackageVersion<'_>,
    exists: bool,
    smoke_test: Option<Report>,
) -> Result<DeployOutcome, PipelineError> {
    let endpoint = config.endpoint.name.clone();
    let endpoint_config = version.endpoint_config_name(&endpoint);
    let model_package_version = version.number;
    Ok(
        match put(
            &clients.sagemaker,
            &config.endpoint,
            &config.endpoint,
            version,
            exists,
        )
        .await?
        {
            Put::Created => DeployOutcome::Created {
                endpoint,
                endpoint_config,
                model_package_version,
                smoke_test,
            },
            Put::Updated => DeployOutcome::Updated {
                endpoint,
                endpoint_config,
                model_package_version,
                smoke_test,
            },
            Put::Busy => skipped(
                &endpoint,
                Some(model_package_version),
                Skipped::waiting(
                    "endpoint is busy with another deployment; its next state change continues",
                ),
            ),
        },
    )
}

/// A broken production endpoint (Failed, OutOfService, UpdateRollbackFailed).
/// Broken while moving to a version that never came into service on it (its
/// deploying tag names it, the tags of the version served do not): that
/// version's deployment failed, so it is marked and alerted, once. Broken
/// otherwise (while serving, say OutOfService) is no version's fault: an
/// error with SageMaker's reason for an operator (the on-failure queue's
/// alarm). With `ENDPOINT_RECREATE_FAILED` the endpoint is deleted either
/// way, so that a later check creates it on the desired version.
async fn broken_production(
    clients: &Clients,
    config: &DeployConfig,
    (arn, broken_on): (String, String),
    status: aws_sdk_sagemaker::types::EndpointStatus,
    why: String,
) -> Result<DeployOutcome, PipelineError> {
    let name = &config.endpoint.name;
    let tags = list_tags(&clients.sagemaker, &arn).await?;
    let attempt = deploying(&tags)
        .map(|(arn, number)| config.version(arn, number))
        .filter(|attempt| {
            attempt.endpoint_config_name(name) == broken_on && !attempt.is_live_per(&tags)
        });
    let Some(attempt) = attempt else {
        return Err(broken(clients, config, status, why).await);
    };
    let number = Some(attempt.number);
    let outcome = if marked_failed(&tags) == number {
        skipped(
            name,
            number,
            Skipped::blocked(format!("endpoint is {status} since version {} failed on it (alerted); delete it, or set EndpointRecreateFailed, to deploy another version", attempt.number)),
        )
    } else {
        let endpoint = (name.as_str(), arn.as_str());
        let failed = (Stage::Production, Cause::EndpointFailed);
        marks::failed(clients, config, &attempt, failed, endpoint, &why).await?
    };
    if config.recreate_failed_endpoint {
        delete(&clients.sagemaker, name).await?;
    }
    Ok(outcome)
}

/// A broken production endpoint that no version's deployment explains fails
/// the invocation with SageMaker's reason, or, with
/// `ENDPOINT_RECREATE_FAILED`, is deleted so that a retry (or the next check)
/// creates it afresh.
async fn broken(
    clients: &Clients,
    config: &DeployConfig,
    status: aws_sdk_sagemaker::types::EndpointStatus,
    why: String,
) -> PipelineError {
    let name = &config.endpoint.name;
    if !config.recreate_failed_endpoint {
        return PipelineError::ResourceFailed(format!("endpoint {name} is {status}: {why}"));
    }
    match delete(&clients.sagemaker, name).await {
        Ok(()) => PipelineError::ResourceBusy(format!(
            "endpoint {name} was {status} ({why}); it is being deleted and a retry recreates it"
        )),
        Err(err) => err,
    }
}

async fn delete(sagemaker: &aws_sdk_sagemaker::Client, name: &str) -> Result<(), PipelineError> {
    sagemaker
        .delete_endpoint()
        .endpoint_name(name)
        .send()
        .await
        .map(drop)
        .map_err(|err| PipelineError::from_sdk("DeleteEndpoint", err))
}

fn skipped(endpoint: &str, version: Option<i64>, skipped: Skipped) -> DeployOutcome {
    DeployOutcome::skipped(skipped, endpoint, version)
}
