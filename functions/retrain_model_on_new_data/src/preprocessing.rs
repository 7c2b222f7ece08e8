//! Preprocessing (`PREPROCESSING_ENABLED`, docs/preprocessing.md): a quiet
//! burst starts a SageMaker Processing job on the raw data instead of a
//! training job ([`start`]); SageMaker's "Processing Job State Change"
//! (Completed) for it starts the training job on its outputs ([`train`]).
//!
//! Both names are deterministic: the processing job is named from the burst
//! (its channel and the minute it fell due), the training job from the
//! processing job, so redelivered schedules and completion events start
//! nothing twice.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::ProcessingJobStatus;
use serde::Serialize;
use shared::events::{ProcessingJobStateChange, SkipClass, Skipped};
use shared::sagemaker::processing::{
    create_processing_job_request, is_preprocessing_job, preprocessing_prefix,
    start_processing_job, ProcessingJobSpec, ProcessingSettings, JOB_KIND,
};
use shared::sagemaker::training::{
    create_training_job_request, start_training_job, InputChannel, JobStart, TrainingJobSpec,
};
use shared::tags::keys as tag_keys;
use shared::{PipelineError, ResourceName};
use tracing::{info, instrument};

use crate::burst::{instant_text, Due};
use crate::handler::{Action, Clients, Lookups};
use crate::RetrainConfig;

/// The processing job of the burst due at `due`.
pub fn processing_job_name(config: &RetrainConfig, due: &Due) -> ResourceName {
    config.pipeline.derive_name(
        JOB_KIND,
        &due.due.format("%Y%m%d-%H%M").to_string(),
        &["preprocess", &due.data, &instant_text(due.due)],
    )
}

/// The training job on the outputs of the processing job `processing`: the
/// same readable part (the burst's minute), its own kind and identity.
pub fn training_job_name(config: &RetrainConfig, processing: &str) -> ResourceName {
    let readable = processing
        .strip_prefix(&preprocessing_prefix(&config.pipeline))
        .unwrap_or(processing);
    config
        .pipeline
        .derive_name("s3", readable, &["processed", processing])
}

/// Starts the burst's processing job: the raw data as its input, `image` (the
/// production image) unless `PROCESSING_IMAGE` names another.
pub async fn start(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
    settings: &ProcessingSettings,
    spec: &ProcessingJobSpec<'_>,
) -> Result<JobStart, PipelineError> {
    let request = create_processing_job_request(settings, &config.training, spec);
    let started = start_processing_job(sagemaker, request).await?;
    if let JobStart::Started {
        arn: processing_job_arn,
    } = &started
    {
        info!(%processing_job_arn, image = spec.image, "processing job started");
    }
    Ok(started)
}

/// The image a processing job runs: `PROCESSING_IMAGE`, else the one the
/// burst trains with.
pub fn image<'a>(settings: &'a ProcessingSettings, training_image: &'a str) -> &'a str {
    settings.image.as_deref().unwrap_or(training_image)
}

/// What a processing job's state change came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessedOutcome {
    /// `started` (the training job on its outputs), `skipped` or `failed`.
    pub action: Action,
    pub processing_job_name: String,
    /// The job's status, as the event says.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_job_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_job_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The training channels: channel name -> S3 prefix of an output.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_class: Option<SkipClass>,
}

impl ProcessedOutcome {
    fn new(job: &ProcessingJobStateChange) -> ProcessedOutcome {
        ProcessedOutcome {
            action: Action::Skipped,
            processing_job_name: job.processing_job_name.clone(),
            status: job.processing_job_status.as_str().to_string(),
            training_job_name: None,
            training_job_arn: None,
            image: None,
            channels: BTreeMap::new(),
            reason: None,
            reason_class: None,
        }
    }

    fn skipped(mut self, skipped: Skipped) -> ProcessedOutcome {
        self.reason = Some(skipped.reason);
        self.reason_class = Some(skipped.class);
        self
    }

    /// A state change whose handling failed: delivered again, it finds the
    /// training job if it started.
    pub fn failed(job: &ProcessingJobStateChange, err: &PipelineError) -> ProcessedOutcome {
        let mut outcome = ProcessedOutcome::new(job);
        outcome.action = Action::Failed;
        outcome.reason = Some(err.to_string());
        outcome
    }
}

/// A preprocessing job of this pipeline completed: its training job starts on
/// its outputs. Its image: without `PROCESSING_IMAGE`, the one the processing
/// job ran (the image in production then: its `preprocess` made the features
/// its `train` reads), else the image in production now. Any other status,
/// or a job that is not this pipeline's preprocessing, is skipped (the alert
/// rule announces Failed and Stopped).
#[instrument(skip_all, fields(processing_job = %job.processing_job_name, training_job = tracing::field::Empty))]
pub async fn train(
    clients: &Clients,
    config: &RetrainConfig,
    job: &ProcessingJobStateChange,
    lookups: &mut Lookups,
) -> Result<ProcessedOutcome, PipelineError> {
    let outcome = ProcessedOutcome::new(job);
    let name = &job.processing_job_name;
    if !is_preprocessing_job(&config.pipeline, name) {
        return Ok(outcome.skipped(Skipped::not_applicable(format!(
            "processing job {name} is not a preprocessing job of pipeline {} ({}…)",
            config.pipeline,
            preprocessing_prefix(&config.pipeline)
        ))));
    }
    if job.processing_job_status != ProcessingJobStatus::Completed {
        return Ok(outcome.skipped(Skipped::not_applicable(format!(
            "processing job {name} is {}, not Completed; nothing to train on",
            job.processing_job_status.as_str()
        ))));
    }
    let Some(settings) = &config.processing else {
        return Ok(outcome.skipped(Skipped::not_applicable(format!(
            "preprocessing is off ({} is not true): processing job {name}'s outputs are not \
             trained on",
            shared::sagemaker::processing::vars::ENABLED
        ))));
    };
    let training_name = training_job_name(config, name);
    tracing::Span::current().record("training_job", training_name.as_str());
    let mut outcome = outcome;
    outcome.training_job_name = Some(training_name.to_string());
    let channels = settings.training_channels(&config.training, name);
    outcome.channels = channel_map(&channels);
    let ran = job
        .app_specification
        .as_ref()
        .map(|app| app.image_uri.as_str())
        .filter(|image| settings.image.is_none() && shared::image::is_pinned_by_digest(image));
    let image = match ran {
        Some(image) => image.to_string(),
        None => match lookups.image(&clients.sagemaker, config).await? {
            Some(image) => image,
            None => {
                return Ok(outcome.skipped(Skipped::blocked(crate::handler::no_version_yet(config))))
            }
        },
    };
    outcome.image = Some(image.clone());
    let tags = vec![
        (tag_keys::PIPELINE.to_string(), config.pipeline.to_string()),
        (tag_keys::TRIGGER.to_string(), "s3".to_string()),
        (tag_keys::PROCESSING_JOB.to_string(), name.clone()),
    ];
    let request = create_training_job_request(
        &config.training,
        &TrainingJobSpec {
            name: &training_name,
            image: &image,
            channels: &channels,
            tags: &tags,
        },
    );
    Ok(
        match start_training_job(&clients.sagemaker, request).await? {
            JobStart::Started {
                arn: training_job_arn,
            } => {
                info!(%training_job_arn, %image, "training job started on the processed data");
                lookups.started(training_name.as_str());
                outcome.action = Action::Started;
                outcome.training_job_arn = Some(training_job_arn);
                outcome
            }
            JobStart::AlreadyStarted => outcome.skipped(Skipped::already_done("already started")),
        },
    )
}

fn channel_map(channels: &[InputChannel]) -> BTreeMap<String, String> {
    channels
        .iter()
        .map(|c| (c.name.clone(), c.s3_uri.clone()))
        .collect()
}
