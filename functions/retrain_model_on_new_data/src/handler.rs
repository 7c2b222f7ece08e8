//! S3 new-object events in; at most one `CreateTrainingJob` per data channel
//! and debounce window out, however many objects and invocations there are.
//!
//! The debounce needs no state store: the job name is derived from the data
//! channel and the window the object's event time falls in, so every
//! invocation for that window asks SageMaker for the same name, and SageMaker
//! lets only the first one create it (`ResourceInUse` for the rest).

use aws_sdk_sagemaker::types::TrainingJobStatus;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::events::Skipped;
use shared::sagemaker::training::{
    create_training_job_request, start_training_job, training_job_exists, ChannelDataType,
    InputChannel, JobStart, TrainingJobSpec,
};
use shared::tags::keys as tag_keys;
use shared::{PipelineError, ResourceName};
use tracing::{info, instrument};

use crate::objects::{objects_in, Delivery, NewObject};
use crate::{DataChannel, RetrainConfig, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Started,
    Skipped,
}

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrainOutcome {
    /// `started` when this invocation started a training job.
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One per data channel and window the event's objects fell in.
    pub training_jobs: Vec<JobOutcome>,
    /// What happened to each object, in the event's order.
    pub records: Vec<RecordOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOutcome {
    pub action: Action,
    pub training_job_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_job_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The new data's channel: the S3 prefix or manifest the job reads.
    pub data: String,
    pub window_start: String,
    /// How many of the event's objects fell in this job's window.
    pub objects: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub bucket: String,
    pub key: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_job_name: Option<String>,
}

/// The Lambda entry point: reads the objects from either S3 form, then
/// [`retrain`].
pub async fn handle(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
    event: LambdaEvent<Value>,
) -> Result<RetrainOutcome, PipelineError> {
    match objects_in(event.payload)? {
        Delivery::Objects(objects) => retrain(sagemaker, config, &objects).await,
        Delivery::TestEvent => {
            let Skipped(reason) =
                Skipped::because("s3:TestEvent (S3 checking the notification configuration)");
            Ok(RetrainOutcome {
                action: Action::Skipped,
                reason: Some(reason),
                training_jobs: Vec::new(),
                records: Vec::new(),
            })
        }
    }
}

/// The objects that count, grouped by what they would train on.
struct Batch<'a> {
    channel: InputChannel,
    window: Window,
    /// The object that opened the batch in this event: named in the tags.
    first: &'a NewObject,
    objects: usize,
}

#[instrument(skip_all, fields(objects = objects.len()))]
pub async fn retrain(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
    objects: &[NewObject],
) -> Result<RetrainOutcome, PipelineError> {
    let (batches, decisions) = batches(config, objects);

    let mut lookups = Lookups::default();
    let mut jobs = Vec::with_capacity(batches.len());
    // An error part-way leaves the jobs already started in place: the
    // re-delivered event finds them by name and starts only the rest.
    for batch in &batches {
        // Boxed: the SDK calls nested inside make a future too deep for the
        // compiler's layout limit, and too big to keep on the stack.
        jobs.push(Box::pin(start(sagemaker, config, batch, &mut lookups)).await?);
    }

    let records = record_outcomes(objects, decisions, &jobs);

    let started = jobs.iter().filter(|j| j.action == Action::Started).count();
    info!(
        started,
        skipped_jobs = jobs.len() - started,
        skipped_objects = records
            .iter()
            .filter(|r| r.training_job_name.is_none())
            .count(),
        "done"
    );
    let (action, reason) = if started > 0 {
        (Action::Started, None)
    } else {
        (Action::Skipped, Some(summary_reason(&records)))
    };
    Ok(RetrainOutcome {
        action,
        reason,
        training_jobs: jobs,
        records,
    })
}

/// The objects that count, grouped by data channel and window (the pure
/// decision), and per object the index of its batch or why it does not count.
fn batches<'a>(
    config: &RetrainConfig,
    objects: &'a [NewObject],
) -> (Vec<Batch<'a>>, Vec<Result<usize, String>>) {
    let mut batches: Vec<Batch> = Vec::new();
    let mut decisions = Vec::with_capacity(objects.len());
    for object in objects {
        if let Some(reason) = skip_reason(config, object) {
            decisions.push(Err(reason));
            continue;
        }
        let channel = data_channel(config, object);
        let window = Window::containing(object.time, config.window_seconds);
        let index = match batches
            .iter()
            .position(|b| b.window == window && b.channel == channel)
        {
            Some(index) => index,
            None => {
                batches.push(Batch {
                    channel,
                    window,
                    first: object,
                    objects: 0,
                });
                batches.len() - 1
            }
        };
        batches[index].objects += 1;
        decisions.push(Ok(index));
    }
    (batches, decisions)
}

/// What happened to each object: its batch's job, or why it was skipped.
fn record_outcomes(
    objects: &[NewObject],
    decisions: Vec<Result<usize, String>>,
    jobs: &[JobOutcome],
) -> Vec<RecordOutcome> {
    objects
        .iter()
        .zip(decisions)
        .map(|(object, decision)| match decision {
            Ok(index) => RecordOutcome {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                action: jobs[index].action,
                reason: jobs[index].reason.clone(),
                training_job_name: Some(jobs[index].training_job_name.clone()),
            },
            Err(reason) => RecordOutcome {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                action: Action::Skipped,
                reason: Some(reason),
                training_job_name: None,
            },
        })
        .collect()
}

/// The one reason every record shares, or a pointer to the records.
fn summary_reason(records: &[RecordOutcome]) -> String {
    let mut reasons = records.iter().filter_map(|r| r.reason.as_deref());
    match reasons.next() {
        Some(first) if reasons.all(|r| r == first) => first.to_string(),
        _ => "nothing to start; each record says why".to_string(),
    }
}

fn skip_reason(config: &RetrainConfig, object: &NewObject) -> Option<String> {
    if !object.created {
        return Some(format!("{} is not an object creation", object.event_name));
    }
    if object.bucket != config.data.bucket {
        return Some(format!(
            "bucket {} is not the data bucket {}",
            object.bucket, config.data.bucket
        ));
    }
    if !object.key.starts_with(&config.data.key) {
        return Some(format!("key is not under the data prefix {}", config.data));
    }
    if object.key.ends_with('/') {
        return Some("folder marker (key ends with /)".to_string());
    }
    if let Some(suffix) = &config.key_suffix {
        if !object.key.ends_with(suffix.as_str()) {
            return Some(format!("key does not end with RETRAIN_KEY_SUFFIX {suffix}"));
        }
    }
    None
}

/// The channel the new data goes into, keeping the content type, input mode
/// and distribution `TRAINING_CHANNELS` gives a channel of that name.
fn data_channel(config: &RetrainConfig, object: &NewObject) -> InputChannel {
    let bucket = &config.data.bucket;
    let (s3_uri, s3_data_type) = match config.data_channel {
        DataChannel::Dataset => (config.data.to_string(), ChannelDataType::S3Prefix),
        DataChannel::ObjectPrefix => {
            let folder = object.key.rfind('/').map_or("", |end| &object.key[..=end]);
            (format!("s3://{bucket}/{folder}"), ChannelDataType::S3Prefix)
        }
        DataChannel::Manifest => (
            format!("s3://{bucket}/{}", object.key),
            ChannelDataType::ManifestFile,
        ),
    };
    let configured = config
        .training
        .channels
        .iter()
        .find(|c| c.name == config.channel_name);
    InputChannel {
        name: config.channel_name.clone(),
        s3_uri,
        s3_data_type,
        content_type: configured.and_then(|c| c.content_type.clone()),
        input_mode: configured.map(|c| c.input_mode).unwrap_or_default(),
        distribution: configured.map(|c| c.distribution).unwrap_or_default(),
    }
}

/// `TRAINING_CHANNELS` with the new data in place of the channel of its name.
fn channels_with(config: &RetrainConfig, data: &InputChannel) -> Vec<InputChannel> {
    let mut channels: Vec<InputChannel> = config
        .training
        .channels
        .iter()
        .filter(|c| c.name != data.name)
        .cloned()
        .collect();
    channels.insert(0, data.clone());
    channels
}

fn job_name(config: &RetrainConfig, channel: &InputChannel, window: &Window) -> ResourceName {
    config.pipeline.derive_name(
        "s3",
        &window.label(),
        &["retrain", &channel.s3_uri, &window.start_text()],
    )
}

/// Lookups made at most once per invocation, and only when a job is to start.
#[derive(Default)]
struct Lookups {
    image: Option<Option<String>>,
    running: Option<Option<String>>,
}

impl Lookups {
    /// The image to retrain with; `None` when no version is in production.
    async fn image(
        &mut self,
        sagemaker: &aws_sdk_sagemaker::Client,
        config: &RetrainConfig,
    ) -> Result<Option<String>, PipelineError> {
        if self.image.is_none() {
            self.image = Some(crate::image::current_image(sagemaker, config).await?);
        }
        Ok(self.image.clone().flatten())
    }

    /// A training job of this pipeline that is in progress, if any.
    async fn running_job(
        &mut self,
        sagemaker: &aws_sdk_sagemaker::Client,
        config: &RetrainConfig,
    ) -> Result<Option<String>, PipelineError> {
        if let Some(running) = &self.running {
            return Ok(running.clone());
        }
        let mut pages = sagemaker
            .list_training_jobs()
            .status_equals(TrainingJobStatus::InProgress)
            .name_contains(config.pipeline.resource_prefix())
            .max_results(100)
            .into_paginator()
            .send();
        let mut running = None;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| PipelineError::from_sdk("ListTrainingJobs", err))?;
            running = page
                .training_job_summaries()
                .iter()
                .map(|job| job.training_job_name().unwrap_or_default())
                .find(|name| config.pipeline.owns(name))
                .map(str::to_string);
            if running.is_some() {
                break;
            }
        }
        self.running = Some(running.clone());
        Ok(running)
    }
}

#[instrument(skip_all, fields(data = %batch.channel.s3_uri, window = %batch.window.start_text(), training_job = tracing::field::Empty))]
async fn start(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
    batch: &Batch<'_>,
    lookups: &mut Lookups,
) -> Result<JobOutcome, PipelineError> {
    let name = job_name(config, &batch.channel, &batch.window);
    tracing::Span::current().record("training_job", name.as_str());
    let skipped = |Skipped(reason), image: Option<String>| JobOutcome {
        action: Action::Skipped,
        training_job_name: name.to_string(),
        training_job_arn: None,
        reason: Some(reason),
        image,
        data: batch.channel.s3_uri.clone(),
        window_start: batch.window.start_text(),
        objects: batch.objects,
    };
    let image = match image_to_start(sagemaker, config, &name, lookups).await? {
        Ok(image) => image,
        Err(why) => return Ok(skipped(why, None)),
    };
    let channels = channels_with(config, &batch.channel);
    let tags = job_tags(config, batch);
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
        JobStart::Started { training_job_arn } => {
            info!(%training_job_arn, %image, "training job started");
            Ok(JobOutcome {
                action: Action::Started,
                training_job_arn: Some(training_job_arn),
                reason: None,
                image: Some(image),
                ..skipped(Skipped(String::new()), None)
            })
        }
        // Another invocation for the same window got there first.
        JobStart::AlreadyStarted => Ok(skipped(Skipped::because("already started"), Some(image))),
    }
}

/// The image the batch's job would train with, or why it is not started:
/// started already, another job of the pipeline in progress, or nothing in
/// production yet.
async fn image_to_start(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
    name: &ResourceName,
    lookups: &mut Lookups,
) -> Result<Result<String, Skipped>, PipelineError> {
    // In a burst nearly every invocation finds the window's job started:
    // one Describe tells it, before any lookup for a job we would not start.
    if training_job_exists(sagemaker, name).await? {
        return Ok(Err(Skipped::because("already started")));
    }
    if config.skip_if_training {
        if let Some(running) = lookups.running_job(sagemaker, config).await? {
            return Ok(Err(Skipped::because(format!(
                "training job {running} of this pipeline is in progress"
            ))));
        }
    }
    match lookups.image(sagemaker, config).await? {
        Some(image) => Ok(Ok(image)),
        None => Ok(Err(Skipped::because(no_version_yet(config)))),
    }
}

/// What the batch's job is tagged with: the pipeline, the object that opened
/// the batch, and the window.
fn job_tags(config: &RetrainConfig, batch: &Batch<'_>) -> Vec<(String, String)> {
    let window = format!("{}/PT{}S", batch.window.start_text(), batch.window.seconds);
    vec![
        (tag_keys::PIPELINE.to_string(), config.pipeline.to_string()),
        (tag_keys::TRIGGER.to_string(), "s3".to_string()),
        (tag_keys::S3_BUCKET.to_string(), batch.first.bucket.clone()),
        (tag_keys::S3_KEY.to_string(), batch.first.key.clone()),
        (tag_keys::WINDOW.to_string(), window),
    ]
}

/// Why new data that arrives before the first approval trains nothing: the
/// retraining image is the approved one, and the first version comes from an
/// image push. The window's job is not created, so new data after the
/// approval retrains.
fn no_version_yet(config: &RetrainConfig) -> String {
    format!(
        "no approved version in model package group {} to retrain yet, and no {}; \
         new data retrains once a version is approved",
        config.model_package_group,
        crate::config::vars::FALLBACK_IMAGE
    )
}

#[cfg(test)]
mod tests;
