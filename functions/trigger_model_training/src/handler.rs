//! ECR "Image Action" event in, at most one `CreateTrainingJob` out.
//! With preprocessing on, the job trains on the outputs of this pipeline's
//! newest completed processing job (`ListProcessingJobs`), if there is one.

use aws_sdk_sagemaker::types::{ProcessingJobStatus, SortBy, SortOrder};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::events::{
    check_kind, parse_event, EcrImageAction, EventBridgeEvent, SkipClass, Skipped,
};
use shared::metrics::{names, Measured, Measures};
use shared::sagemaker::processing::{is_preprocessing_job, preprocessing_prefix};
use shared::sagemaker::training::{
    create_training_job_request, start_training_job, InputChannel, JobStart, TrainingJobSpec,
};
use shared::tags::keys as tag_keys;
use shared::{PipelineError, ResourceName};
use tracing::{info, instrument, warn, Span};

use crate::TriggerConfig;

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TriggerOutcome {
    Started {
        training_job_name: String,
        training_job_arn: String,
        image: String,
        /// The processing job whose outputs the job trains on; absent when
        /// it trains on `TRAINING_CHANNELS`.
        #[serde(skip_serializing_if = "Option::is_none")]
        processing_job_name: Option<String>,
    },
    Skipped {
        reason: String,
        reason_class: SkipClass,
        #[serde(skip_serializing_if = "Option::is_none")]
        training_job_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<String>,
    },
}

impl TriggerOutcome {
    fn skipped(skipped: Skipped, job: Option<(&ResourceName, String)>) -> Self {
        let (training_job_name, image) = job.unzip();
        TriggerOutcome::Skipped {
            reason: skipped.reason,
            reason_class: skipped.class,
            training_job_name: training_job_name.map(ToString::to_string),
            image,
        }
    }
}

impl Measured for TriggerOutcome {
    fn measures(&self) -> Measures {
        match self {
            TriggerOutcome::Started {
                training_job_name, ..
            } => Measures::default()
                .count(names::STARTED, 1)
                .property("training_job_name", training_job_name.as_str()),
            TriggerOutcome::Skipped { reason_class, .. } => {
                Measures::default().skipped(*reason_class)
            }
        }
    }
}

/// The Lambda entry point: parses the payload, then [`trigger`].
pub async fn handle(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &TriggerConfig,
    event: LambdaEvent<Value>,
) -> Result<TriggerOutcome, PipelineError> {
    let event: EventBridgeEvent<EcrImageAction> = parse_event(event.payload)?;
    trigger(sagemaker, config, &event).await
}

#[instrument(
    skip_all,
    fields(
        repository = %event.detail.repository_name,
        image_digest = event.detail.image_digest.as_deref().unwrap_or(""),
        image_tag = event.detail.image_tag.as_deref().unwrap_or(""),
        training_job = tracing::field::Empty,
    )
)]
pub async fn trigger(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &TriggerConfig,
    event: &EventBridgeEvent<EcrImageAction>,
) -> Result<TriggerOutcome, PipelineError> {
    check_kind(event, None)?;
    let detail = &event.detail;
    if let Some(reason) = skip_reason(config, detail) {
        return Ok(TriggerOutcome::skipped(
            Skipped::not_applicable(reason),
            None,
        ));
    }

    let (image, digest) = pushed_image(event)?;

    // The image by digest is the identity of the work: the same push
    // delivered twice, or the same digest pushed under two tags, is one job.
    let name = config
        .pipeline
        .derive_name("ecr", &detail.repository_name, &[&image]);
    Span::current().record("training_job", name.as_str());

    let (channels, processing_job) = training_channels(sagemaker, config).await?;
    let mut tags = job_tags(config, detail, digest);
    if let Some(job) = &processing_job {
        tags.push((tag_keys::PROCESSING_JOB.to_string(), job.clone()));
    }
    let request = create_training_job_request(
        &config.training,
        &TrainingJobSpec {
            name: &name,
            image: &image,
            channels: &channels,
            tags: &tags,
        },
    );

    match start_training_job(sagemaker, request).await? {
        JobStart::Started {
            arn: training_job_arn,
        } => {
            info!(
                %training_job_arn,
                processing_job = processing_job.as_deref(),
                "training job started"
            );
            Ok(TriggerOutcome::Started {
                training_job_name: name.into(),
                training_job_arn,
                image,
                processing_job_name: processing_job,
            })
        }
        // Our deterministic name is taken: this push already started its job.
        // It trained on the processing output newest then, maybe not the one
        // listed now, so the outcome names none.
        JobStart::AlreadyStarted => Ok(TriggerOutcome::skipped(
            Skipped::already_done("already started"),
            Some((&name, image)),
        )),
    }
}

/// `ListProcessingJobs` pages read at most, and their size (the API's
/// maximum), looking for this pipeline's newest completed job.
const PROCESSING_PAGES: usize = 5;
const PROCESSING_PAGE_SIZE: i32 = 100;

/// What the job trains on: with preprocessing on, the outputs of this
/// pipeline's newest completed processing job (and the job's name), else,
/// or when there is none, `TRAINING_CHANNELS`.
async fn training_channels(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &TriggerConfig,
) -> Result<(Vec<InputChannel>, Option<String>), PipelineError> {
    if let Some(processing) = &config.processing {
        if let Some(job) = newest_processing_job(sagemaker, config).await? {
            let channels = processing.training_channels(&config.training, &job);
            return Ok((channels, Some(job)));
        }
    }
    Ok((config.training.channels.clone(), None))
}

/// The name of this pipeline's newest Completed processing job, if any.
///
/// NameContains matches anywhere in a name, so a page may also list other
/// pipelines' jobs (`amlops--proc-…` contains `mlops--proc-`): those are skipped, and
/// the next page read only when a whole page held none of ours. Such names
/// are rare, so the first page almost always answers; the paging is bounded
/// all the same, to keep within the function's timeout.
async fn newest_processing_job(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &TriggerConfig,
) -> Result<Option<String>, PipelineError> {
    let mut pages = sagemaker
        .list_processing_jobs()
        .status_equals(ProcessingJobStatus::Completed)
        .name_contains(preprocessing_prefix(&config.pipeline))
        .sort_by(SortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .max_results(PROCESSING_PAGE_SIZE)
        .into_paginator()
        .send();
    for _ in 0..PROCESSING_PAGES {
        let Some(page) = pages.next().await else {
            return Ok(None);
        };
        let page = page.map_err(|err| PipelineError::from_sdk("ListProcessingJobs", err))?;
        let ours = page
            .processing_job_summaries()
            .iter()
            .filter_map(|job| job.processing_job_name())
            .find(|name| is_preprocessing_job(&config.pipeline, name));
        if let Some(name) = ours {
            return Ok(Some(name.to_string()));
        }
    }
    warn!(
        listed = PROCESSING_PAGES * PROCESSING_PAGE_SIZE as usize,
        "no completed processing job of this pipeline among the newest listed; \
         training on TRAINING_CHANNELS"
    );
    Ok(None)
}

/// The pushed image pinned by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:…`), and the digest.
fn pushed_image(event: &EventBridgeEvent<EcrImageAction>) -> Result<(String, &str), PipelineError> {
    let detail = &event.detail;
    let digest = detail.image_digest.as_deref().ok_or_else(|| {
        PipelineError::invalid_event("detail.image-digest is missing from a successful push")
    })?;
    let account = event
        .account
        .as_deref()
        .ok_or_else(|| PipelineError::invalid_event("account is missing"))?;
    let region = event
        .region
        .as_deref()
        .ok_or_else(|| PipelineError::invalid_event("region is missing"))?;
    let image =
        shared::image::ecr_image_by_digest(account, region, &detail.repository_name, digest)
            .map_err(PipelineError::invalid_event)?;
    Ok((image, digest))
}

/// What the job is tagged with: the pipeline, the trigger and the push.
fn job_tags(
    config: &TriggerConfig,
    detail: &EcrImageAction,
    digest: &str,
) -> Vec<(String, String)> {
    let mut tags = vec![
        (tag_keys::PIPELINE.to_string(), config.pipeline.to_string()),
        (tag_keys::TRIGGER.to_string(), "ecr-push".to_string()),
        (
            tag_keys::ECR_REPOSITORY.to_string(),
            detail.repository_name.clone(),
        ),
        (tag_keys::IMAGE_DIGEST.to_string(), digest.to_string()),
    ];
    if let Some(tag) = image_tag(detail) {
        tags.push((tag_keys::IMAGE_TAG.to_string(), tag.to_string()));
    }
    tags
}

/// ECR sends `"image-tag": ""` as well as no tag at all for untagged pushes.
fn image_tag(detail: &EcrImageAction) -> Option<&str> {
    detail.image_tag.as_deref().filter(|tag| !tag.is_empty())
}

fn skip_reason(config: &TriggerConfig, detail: &EcrImageAction) -> Option<String> {
    if detail.action_type != "PUSH" {
        return Some(format!("action-type {} is not a push", detail.action_type));
    }
    if detail.result != "SUCCESS" {
        return Some(format!("push result is {}, not SUCCESS", detail.result));
    }
    if detail.repository_name != config.repository {
        return Some(format!(
            "repository {} is not the configured {}",
            detail.repository_name, config.repository
        ));
    }
    if config.tag_filter.is_empty() {
        return None;
    }
    let filter: Vec<&str> = config
        .tag_filter
        .iter()
        .map(glob::Pattern::as_str)
        .collect();
    match image_tag(detail) {
        None => Some(format!(
            "untagged push; ECR_TAG_FILTER requires a tag matching {}",
            filter.join(",")
        )),
        Some(tag) if !config.tag_filter.iter().any(|glob| glob.matches(tag)) => Some(format!(
            "tag {tag} does not match ECR_TAG_FILTER {}",
            filter.join(",")
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests;
