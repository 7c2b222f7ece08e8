//! New objects in, one training job per burst out: a batch of new objects
//! asks for its channel's burst schedule (`burst`, `schedules`); a schedule
//! falling due starts the burst's job once the burst is quiet. With
//! preprocessing, that job is a processing job, and its completion starts the
//! training job (`preprocessing`).
//!
//! The queue delivers batches; every message stands or fails on its own
//! (`batchItemFailures`), so one bad record does not retry the batch.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::TrainingJobStatus;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::events::{ProcessingJobStateChange, SkipClass, Skipped};
use shared::metrics::{names, Measured, Measures};
use shared::sagemaker::processing::ProcessingJobSpec;
use shared::sagemaker::training::{
    create_training_job_request, start_training_job, ChannelDataType, InputChannel, JobStart,
    TrainingJobSpec,
};
use shared::tags::keys as tag_keys;
use shared::{PipelineError, ResourceName};
use tracing::{error, info, instrument};

use crate::burst::{
    decide, due_after, earliest, instant_text, schedule_name, schedule_prefix, Due, Fire,
    FirstObject, Listed,
};
use crate::messages::{invocation, Content, Invocation, Message};
use crate::objects::NewObject;
use crate::preprocessing::{self, ProcessedOutcome};
use crate::schedules::{self, Created};
use crate::{DataChannel, RetrainConfig};

/// The AWS clients the function uses.
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub scheduler: aws_sdk_scheduler::Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A burst's job started.
    Started,
    /// New objects are in a burst whose job is due later.
    Scheduled,
    Skipped,
    /// The message could not be handled; the queue delivers it again.
    Failed,
}

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrainOutcome {
    /// `started` when a job started, else `scheduled` when new objects were
    /// put in a burst, else `skipped`.
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One per data channel of the batch's new objects: its burst schedule.
    pub schedules: Vec<ScheduleOutcome>,
    /// One per schedule that fell due.
    pub training_jobs: Vec<JobOutcome>,
    /// One per processing job state change (preprocessing): the training
    /// job on its outputs.
    pub processed: Vec<ProcessedOutcome>,
    /// What happened to each object, in the batch's order.
    pub records: Vec<RecordOutcome>,
    /// The messages that failed, and why.
    pub failures: Vec<MessageFailure>,
    /// For the queue's event source mapping (`ReportBatchItemFailures`):
    /// the messages to deliver again. Absent when invoked directly.
    #[serde(rename = "batchItemFailures", skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
}

/// Per batch: the objects put in a burst (`ObjectsReceived`), the burst
/// schedules it created, the jobs it started (`Started`, one per burst),
/// skips by class (an object filtered out is `not_applicable`), and the
/// failed messages by error type.
impl Measured for RetrainOutcome {
    fn measures(&self) -> Measures {
        let count = |action| self.records.iter().filter(|r| r.action == action).count();
        // A schedule delivered twice in a batch has its job's outcome twice.
        let mut seen = std::collections::BTreeSet::new();
        let jobs: Vec<&JobOutcome> = self
            .training_jobs
            .iter()
            .filter(|j| seen.insert(j.schedule.as_str()))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let processed: Vec<&ProcessedOutcome> = self
            .processed
            .iter()
            .filter(|p| seen.insert(p.processing_job_name.as_str()))
            .collect();
        let mut measures = Measures::default()
            .count("ObjectsReceived", count(Action::Scheduled))
            .count(
                "SchedulesCreated",
                self.schedules
                    .iter()
                    .filter(|s| s.action == Action::Scheduled && s.created)
                    .count(),
            )
            .count(
                names::STARTED,
                jobs.iter()
                    .filter(|j| j.action == Action::Started && j.processing_job_name.is_none())
                    .count()
                    + processed
                        .iter()
                        .filter(|p| p.action == Action::Started)
                        .count(),
            )
            .count(
                "ProcessingJobsStarted",
                jobs.iter()
                    .filter(|j| j.action == Action::Started && j.processing_job_name.is_some())
                    .count(),
            );
        // Objects filtered out: one count for the batch, not one per record.
        measures = measures.count_by(
            names::SKIPPED,
            count(Action::Skipped),
            "Reason",
            SkipClass::NotApplicable.as_str(),
        );
        let classes = jobs.iter().filter_map(|j| j.reason_class);
        for class in classes.chain(processed.iter().filter_map(|p| p.reason_class)) {
            measures = measures.skipped(class);
        }
        for failure in &self.failures {
            measures = measures.failed(1, &failure.error_type);
        }
        let started: Vec<&str> = jobs
            .iter()
            .filter(|j| j.action == Action::Started && j.processing_job_name.is_none())
            .map(|j| j.training_job_name.as_str())
            .chain(
                processed
                    .iter()
                    .filter(|p| p.action == Action::Started)
                    .filter_map(|p| p.training_job_name.as_deref()),
            )
            .collect();
        if started.is_empty() {
            measures
        } else {
            measures.property("training_job_names", started)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleOutcome {
    /// `scheduled`, or `failed` (the reason says why).
    pub action: Action,
    pub schedule: String,
    /// `false` when a batch had asked for the same minute first.
    pub created: bool,
    /// The data channel: the S3 prefix or manifest the job will read.
    pub data: String,
    /// When the burst's job is due, unless newer objects push it later.
    pub due: String,
    /// How many of the batch's objects are in this channel.
    pub objects: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOutcome {
    pub action: Action,
    /// The schedule that fell due.
    pub schedule: String,
    /// The burst's training job: started now, or with preprocessing once its
    /// processing job completes.
    pub training_job_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_job_arn: Option<String>,
    /// With preprocessing: the burst's processing job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_job_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_job_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A skip's class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_class: Option<SkipClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub data: String,
    pub due: String,
    /// The burst's first object, as far as its schedules know.
    pub burst_start: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub bucket: String,
    pub key: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// When the object's burst is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageFailure {
    pub message_id: String,
    pub error_type: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// The Lambda entry point. A batch from the queue reports its failed
/// messages; an event invoked directly fails as a whole.
pub async fn handle(
    clients: &Clients,
    config: &RetrainConfig,
    event: LambdaEvent<Value>,
) -> Result<RetrainOutcome, PipelineError> {
    let now = Utc::now();
    match invocation(event.payload)? {
        Invocation::Batch(messages) => {
            let (mut outcome, errors) = retrain(clients, config, messages, now).await;
            outcome.batch_item_failures = Some(
                errors
                    .into_iter()
                    .map(|(id, _)| BatchItemFailure {
                        item_identifier: id,
                    })
                    .collect(),
            );
            Ok(outcome)
        }
        Invocation::Direct(content) => {
            let message = Message {
                id: "event".to_string(),
                content: Ok(content),
            };
            let (outcome, mut errors) = retrain(clients, config, vec![message], now).await;
            match errors.pop() {
                Some((_, err)) => Err(err),
                None => Ok(outcome),
            }
        }
    }
}

/// The new objects of one data channel in a batch.
struct Group<'a> {
    data: String,
    first: &'a NewObject,
    newest: DateTime<Utc>,
    objects: usize,
    /// The messages holding them, by index.
    messages: Vec<usize>,
}

/// Handles a batch: the new objects' schedules, then the schedules due.
/// Returns the outcome and each failed message's id with its error.
#[instrument(skip_all, fields(messages = messages.len()))]
pub async fn retrain(
    clients: &Clients,
    config: &RetrainConfig,
    messages: Vec<Message>,
    now: DateTime<Utc>,
) -> (RetrainOutcome, Vec<(String, PipelineError)>) {
    let mut errors: BTreeMap<usize, PipelineError> = BTreeMap::new();
    let mut objects: Vec<(usize, &NewObject)> = Vec::new();
    let mut dues: Vec<(usize, &Due)> = Vec::new();
    let mut ended: Vec<(usize, &ProcessingJobStateChange)> = Vec::new();
    let mut test_events = 0;
    for (index, message) in messages.iter().enumerate() {
        match &message.content {
            Ok(Content::Objects(list)) => objects.extend(list.iter().map(|o| (index, o))),
            Ok(Content::Due(due)) => dues.push((index, due)),
            Ok(Content::Processed(job)) => ended.push((index, job)),
            Ok(Content::TestEvent) => test_events += 1,
            Err(_) => {}
        }
    }

    let (groups, decisions) = groups(config, &objects);
    let mut schedules = Vec::with_capacity(groups.len());
    for group in &groups {
        match Box::pin(schedule(clients, config, group, now)).await {
            Ok(outcome) => schedules.push(outcome),
            Err(err) => {
                schedules.push(failed_schedule(group, &err));
                for &index in &group.messages {
                    errors.entry(index).or_insert_with(|| err.clone());
                }
            }
        }
    }

    let mut lookups = Lookups::default();
    let mut training_jobs = Vec::with_capacity(dues.len());
    let mut failed_schedules: BTreeMap<String, PipelineError> = BTreeMap::new();
    for (index, due) in dues {
        // The same schedule twice in a batch (a repeated delivery) is one firing.
        if let Some(done) = training_jobs
            .iter()
            .find(|j: &&JobOutcome| j.schedule == due.schedule)
        {
            let done = done.clone();
            if let Some(err) = failed_schedules.get(&due.schedule) {
                errors.insert(index, err.clone());
            }
            training_jobs.push(done);
            continue;
        }
        match Box::pin(fire(clients, config, due, &mut lookups, now)).await {
            Ok(job) => training_jobs.push(job),
            Err(err) => {
                training_jobs.push(failed_job(config, due, &err));
                failed_schedules.insert(due.schedule.clone(), err.clone());
                errors.insert(index, err);
            }
        }
    }

    let mut processed: Vec<ProcessedOutcome> = Vec::with_capacity(ended.len());
    let mut failed_processing: BTreeMap<(&str, &str), PipelineError> = BTreeMap::new();
    for (index, job) in ended {
        // The same state change twice in a batch is handled once.
        let name = &job.processing_job_name;
        let status = job.processing_job_status.as_str();
        if let Some(done) = processed
            .iter()
            .find(|p| &p.processing_job_name == name && p.status == status)
        {
            let done = done.clone();
            if let Some(err) = failed_processing.get(&(name.as_str(), status)) {
                errors.insert(index, err.clone());
            }
            processed.push(done);
            continue;
        }
        match Box::pin(preprocessing::train(clients, config, job, &mut lookups)).await {
            Ok(outcome) => processed.push(outcome),
            Err(err) => {
                processed.push(ProcessedOutcome::failed(job, &err));
                failed_processing.insert((name.as_str(), status), err.clone());
                errors.insert(index, err);
            }
        }
    }

    let records = record_outcomes(&objects, &decisions, &schedules, &errors);
    let mut failed = Vec::new();
    let mut failures = Vec::new();
    for (index, message) in messages.into_iter().enumerate() {
        let err = match (message.content, errors.remove(&index)) {
            (Err(err), _) | (Ok(_), Some(err)) => err,
            (Ok(_), None) => continue,
        };
        error!(message_id = %message.id, error_type = err.error_type(), error = %err, "message failed");
        failures.push(MessageFailure {
            message_id: message.id.clone(),
            error_type: err.error_type().to_string(),
            error: err.to_string(),
        });
        failed.push((message.id, err));
    }

    let (action, reason) = summary(
        &schedules,
        &training_jobs,
        &processed,
        &records,
        test_events,
    );
    info!(
        ?action,
        schedules = schedules.len(),
        fired = training_jobs.len(),
        processed = processed.len(),
        failed = failed.len(),
        "done"
    );
    let outcome = RetrainOutcome {
        action,
        reason,
        schedules,
        training_jobs,
        processed,
        records,
        failures,
        batch_item_failures: None,
    };
    (outcome, failed)
}

/// The batch's new objects grouped by data channel (in order of first
/// appearance), and per object the index of its group or why it does not
/// count.
fn groups<'a>(
    config: &RetrainConfig,
    objects: &[(usize, &'a NewObject)],
) -> (Vec<Group<'a>>, Vec<Result<usize, String>>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut positions: BTreeMap<String, usize> = BTreeMap::new();
    let mut decisions = Vec::with_capacity(objects.len());
    for &(message, object) in objects {
        if let Some(reason) = skip_reason(config, object) {
            decisions.push(Err(reason));
            continue;
        }
        let data = data_of(config, object);
        let index = *positions.entry(data.clone()).or_insert_with(|| {
            groups.push(Group {
                data,
                first: object,
                newest: object.time,
                objects: 0,
                messages: Vec::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[index];
        group.objects += 1;
        group.newest = group.newest.max(object.time);
        if object.time < group.first.time {
            group.first = object;
        }
        if group.messages.last() != Some(&message) {
            group.messages.push(message);
        }
        decisions.push(Ok(index));
    }
    (groups, decisions)
}

/// Puts a channel's new objects in a burst: the schedule due a quiet period
/// after the newest of them.
#[instrument(skip_all, fields(data = %group.data, objects = group.objects))]
async fn schedule(
    clients: &Clients,
    config: &RetrainConfig,
    group: &Group<'_>,
    now: DateTime<Utc>,
) -> Result<ScheduleOutcome, PipelineError> {
    let due_at = due_after(group.newest, config.quiet, now);
    let due = Due {
        schedule: schedule_name(&group.data, due_at),
        data: group.data.clone(),
        due: due_at,
        first_object: FirstObject {
            bucket: group.first.bucket.clone(),
            key: group.first.key.clone(),
            time: group.first.time,
        },
    };
    let created = schedules::create(&clients.scheduler, &config.schedules, &due).await?;
    info!(schedule = %due.schedule, due = %instant_text(due_at), ?created, "scheduled");
    Ok(ScheduleOutcome {
        action: Action::Scheduled,
        schedule: due.schedule,
        created: created == Created::Created,
        data: due.data,
        due: instant_text(due_at),
        objects: group.objects,
        reason: None,
    })
}

fn failed_schedule(group: &Group<'_>, err: &PipelineError) -> ScheduleOutcome {
    ScheduleOutcome {
        action: Action::Failed,
        schedule: String::new(),
        created: false,
        data: group.data.clone(),
        due: String::new(),
        objects: group.objects,
        reason: Some(err.to_string()),
    }
}

fn record_outcomes(
    objects: &[(usize, &NewObject)],
    decisions: &[Result<usize, String>],
    schedules: &[ScheduleOutcome],
    errors: &BTreeMap<usize, PipelineError>,
) -> Vec<RecordOutcome> {
    objects
        .iter()
        .zip(decisions)
        .map(|((message, object), decision)| {
            let mut record = RecordOutcome {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                action: Action::Skipped,
                reason: None,
                schedule: None,
                due: None,
            };
            match decision {
                Err(reason) => record.reason = Some(reason.clone()),
                Ok(group) if schedules[*group].action == Action::Failed => {
                    record.action = Action::Failed;
                    record.reason = schedules[*group].reason.clone();
                }
                Ok(group) => {
                    record.action = Action::Scheduled;
                    record.schedule = Some(schedules[*group].schedule.clone());
                    record.due = Some(schedules[*group].due.clone());
                }
            }
            // Another part of the same message failed: it is delivered again.
            if record.action == Action::Scheduled && errors.contains_key(message) {
                record.reason = Some("scheduled; the message failed elsewhere".to_string());
            }
            record
        })
        .collect()
}

fn summary(
    schedules: &[ScheduleOutcome],
    jobs: &[JobOutcome],
    processed: &[ProcessedOutcome],
    records: &[RecordOutcome],
    test_events: usize,
) -> (Action, Option<String>) {
    if jobs.iter().any(|j| j.action == Action::Started)
        || processed.iter().any(|p| p.action == Action::Started)
    {
        return (Action::Started, None);
    }
    if schedules.iter().any(|s| s.action == Action::Scheduled) {
        return (Action::Scheduled, None);
    }
    let mut reasons = jobs
        .iter()
        .filter_map(|j| j.reason.as_deref())
        .chain(processed.iter().filter_map(|p| p.reason.as_deref()))
        .chain(records.iter().filter_map(|r| r.reason.as_deref()))
        .map(str::to_string)
        .chain(
            (test_events > 0)
                .then(|| "s3:TestEvent (S3 checking the notification configuration)".to_string()),
        );
    let reason = match reasons.next() {
        Some(first) if reasons.all(|r| r == first) => first,
        Some(_) => "nothing to schedule or start; each record and job says why".to_string(),
        None => "no new objects and no schedule due".to_string(),
    };
    let failed = jobs.iter().any(|j| j.action == Action::Failed)
        || processed.iter().any(|p| p.action == Action::Failed)
        || schedules.iter().any(|s| s.action == Action::Failed);
    if failed {
        return (Action::Failed, Some(reason));
    }
    // The log line of the whole batch; each job and record has its class.
    info!(%reason, "skipped");
    (Action::Skipped, Some(reason))
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

/// The S3 location the new object's job reads: the dataset prefix, the
/// object's folder, or the object itself as a manifest.
fn data_of(config: &RetrainConfig, object: &NewObject) -> String {
    let bucket = &config.data.bucket;
    match config.data_channel {
        DataChannel::Dataset => config.data.to_string(),
        DataChannel::ObjectPrefix => {
            let folder = object.key.rfind('/').map_or("", |end| &object.key[..=end]);
            format!("s3://{bucket}/{folder}")
        }
        DataChannel::Manifest => format!("s3://{bucket}/{}", object.key),
    }
}

/// The channel the new data goes into, keeping the content type, input mode
/// and distribution `TRAINING_CHANNELS` gives a channel of that name.
fn channel_for(config: &RetrainConfig, data: &str) -> InputChannel {
    let s3_data_type = match config.data_channel {
        DataChannel::Manifest => ChannelDataType::ManifestFile,
        DataChannel::Dataset | DataChannel::ObjectPrefix => ChannelDataType::S3Prefix,
    };
    let configured = config
        .training
        .channels
        .iter()
        .find(|c| c.name == config.channel_name);
    InputChannel {
        name: config.channel_name.clone(),
        s3_uri: data.to_string(),
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

/// The burst's training job: with preprocessing, the one on its processing
/// job's outputs.
fn burst_training_job_name(config: &RetrainConfig, due: &Due) -> ResourceName {
    match &config.processing {
        Some(_) => preprocessing::training_job_name(
            config,
            preprocessing::processing_job_name(config, due).as_str(),
        ),
        None => job_name(config, due),
    }
}

/// The burst's job: named from its channel and the minute it fell due.
fn job_name(config: &RetrainConfig, due: &Due) -> ResourceName {
    config.pipeline.derive_name(
        "s3",
        &due.due.format("%Y%m%d-%H%M").to_string(),
        &["retrain", &due.data, &instant_text(due.due)],
    )
}

/// Lookups made at most once per invocation, and only when a job is to start.
#[derive(Default)]
pub(crate) struct Lookups {
    image: Option<Option<String>>,
    running: Option<Vec<String>>,
}

impl Lookups {
    /// The image to retrain with; `None` when no version is in production.
    pub(crate) async fn image(
        &mut self,
        sagemaker: &aws_sdk_sagemaker::Client,
        config: &RetrainConfig,
    ) -> Result<Option<String>, PipelineError> {
        if self.image.is_none() {
            self.image = Some(crate::image::current_image(sagemaker, config).await?);
        }
        Ok(self.image.clone().flatten())
    }

    /// The training jobs of this pipeline in progress (one page of 100 at
    /// most: enough to tell whether any other than `own` is).
    async fn running_other_than(
        &mut self,
        sagemaker: &aws_sdk_sagemaker::Client,
        config: &RetrainConfig,
        own: &str,
    ) -> Result<Option<String>, PipelineError> {
        if self.running.is_none() {
            let page = sagemaker
                .list_training_jobs()
                .status_equals(TrainingJobStatus::InProgress)
                .name_contains(config.pipeline.resource_prefix())
                .max_results(100)
                .send()
                .await
                .map_err(|err| PipelineError::from_sdk("ListTrainingJobs", err))?;
            self.running = Some(
                page.training_job_summaries()
                    .iter()
                    .filter_map(|job| job.training_job_name())
                    .filter(|name| config.pipeline.owns(name))
                    .map(str::to_string)
                    .collect(),
            );
        }
        Ok(self
            .running
            .iter()
            .flatten()
            .find(|name| *name != own)
            .cloned())
    }

    /// A job this invocation started is in progress for the next burst due.
    pub(crate) fn started(&mut self, name: &str) {
        if let Some(running) = &mut self.running {
            running.push(name.to_string());
        }
    }
}

/// A schedule fell due: settle the burst from the channel's schedules now,
/// and start its job when it is quiet.
#[instrument(skip_all, fields(schedule = %due.schedule, data = %due.data, training_job = tracing::field::Empty))]
async fn fire(
    clients: &Clients,
    config: &RetrainConfig,
    due: &Due,
    lookups: &mut Lookups,
    now: DateTime<Utc>,
) -> Result<JobOutcome, PipelineError> {
    check_due(config, due)?;
    let name = burst_training_job_name(config, due);
    tracing::Span::current().record("training_job", name.as_str());
    let listed = schedules::list(
        &clients.scheduler,
        &config.schedules,
        &schedule_prefix(&due.data),
    )
    .await?;
    let burst = burst_start(clients, config, due, &listed).await?;
    let mut outcome = JobOutcome {
        action: Action::Skipped,
        schedule: due.schedule.clone(),
        training_job_name: name.to_string(),
        training_job_arn: None,
        processing_job_name: None,
        processing_job_arn: None,
        reason: None,
        reason_class: None,
        image: None,
        data: due.data.clone(),
        due: instant_text(due.due),
        burst_start: instant_text(burst.time),
    };
    let skipped = |mut outcome: JobOutcome, skipped: Skipped| {
        outcome.reason = Some(skipped.reason);
        outcome.reason_class = Some(skipped.class);
        outcome
    };
    match decide(due, &listed, burst.time, config.max_delay) {
        Fire::Handled => {
            return Ok(skipped(
                outcome,
                Skipped::already_done("the schedule is gone: a later firing settled the burst"),
            ))
        }
        Fire::Wait { until } => {
            // The later schedule covers this one's objects; only the burst's
            // earliest is kept, for its first object (the maximum delay).
            if earliest(&listed).is_some_and(|first| first.name != due.schedule) {
                schedules::delete(&clients.scheduler, &config.schedules, &due.schedule).await?;
            }
            return Ok(skipped(
                outcome,
                Skipped::waiting(format!(
                    "newer objects came: the burst is due at {}",
                    instant_text(until)
                )),
            ));
        }
        Fire::Start => {}
    }

    // The schedules this firing settles: it and the burst's earlier ones.
    let covered: Vec<&Listed> = listed.iter().filter(|l| l.due <= due.due).collect();
    if config.skip_if_training {
        // The burst's own job (started by an earlier delivery of this
        // schedule) is not another one: it is found started below.
        if let Some(running) = lookups
            .running_other_than(&clients.sagemaker, config, name.as_str())
            .await?
        {
            let later_due = due_after(due.due, config.quiet, now);
            let later = Due {
                schedule: schedule_name(&due.data, later_due),
                data: due.data.clone(),
                due: later_due,
                first_object: burst.clone(),
            };
            schedules::create(&clients.scheduler, &config.schedules, &later).await?;
            delete(clients, config, &covered).await?;
            return Ok(skipped(
                outcome,
                Skipped::waiting(format!(
                    "training job {running} of this pipeline is in progress: the burst is due again at {}",
                    instant_text(later.due)
                )),
            ));
        }
    }
    let Some(image) = lookups.image(&clients.sagemaker, config).await? else {
        delete(clients, config, &covered).await?;
        return Ok(skipped(outcome, Skipped::blocked(no_version_yet(config))));
    };
    outcome.image = Some(image.clone());
    let channel = channel_for(config, &due.data);
    let tags = job_tags(config, due, &burst);
    if let Some(settings) = &config.processing {
        let processing_name = preprocessing::processing_job_name(config, due);
        let spec = ProcessingJobSpec {
            name: &processing_name,
            image: preprocessing::image(settings, &image),
            raw: &channel,
            tags: &tags,
        };
        outcome.processing_job_name = Some(processing_name.to_string());
        let started = preprocessing::start(&clients.sagemaker, config, settings, &spec).await?;
        delete(clients, config, &covered).await?;
        return Ok(match started {
            JobStart::Started {
                arn: processing_job_arn,
            } => {
                outcome.action = Action::Started;
                outcome.processing_job_arn = Some(processing_job_arn);
                outcome
            }
            JobStart::AlreadyStarted => skipped(outcome, Skipped::already_done("already started")),
        });
    }
    let channels = channels_with(config, &channel);
    let request = create_training_job_request(
        &config.training,
        &TrainingJobSpec {
            name: &name,
            image: &image,
            channels: &channels,
            tags: &tags,
        },
    );
    let started = start_training_job(&clients.sagemaker, request).await?;
    // Only once the job is there: a failure before leaves the schedules, and
    // the message's next delivery finds the job started.
    delete(clients, config, &covered).await?;
    Ok(match started {
        JobStart::Started {
            arn: training_job_arn,
        } => {
            info!(%training_job_arn, %image, "training job started");
            lookups.started(name.as_str());
            outcome.action = Action::Started;
            outcome.training_job_arn = Some(training_job_arn);
            outcome
        }
        JobStart::AlreadyStarted => skipped(outcome, Skipped::already_done("already started")),
    })
}

/// A schedule's input names its schedule and a channel of the data prefix;
/// anything else did not come from this function.
fn check_due(config: &RetrainConfig, due: &Due) -> Result<(), PipelineError> {
    let ours = format!("s3://{}/{}", config.data.bucket, config.data.key);
    if !due.data.starts_with(&ours) {
        return Err(PipelineError::invalid_event(format!(
            "retraining_due.data {} is not under RETRAIN_DATA_S3_URI {ours}",
            due.data
        )));
    }
    let expected = schedule_name(&due.data, due.due);
    if due.schedule != expected {
        return Err(PipelineError::invalid_event(format!(
            "retraining_due.schedule {:?} is not the name of its data and due time ({expected})",
            due.schedule
        )));
    }
    Ok(())
}

/// The burst's first object: that of its earliest schedule still there.
async fn burst_start(
    clients: &Clients,
    config: &RetrainConfig,
    due: &Due,
    listed: &[Listed],
) -> Result<FirstObject, PipelineError> {
    // Read only when the schedule is still there (else nothing starts) and
    // an earlier one is too: for the maximum delay, and the job's tags.
    let listed_itself = listed.iter().any(|l| l.name == due.schedule);
    match earliest(listed) {
        Some(first) if listed_itself && first.name != due.schedule => {
            let first = schedules::get(&clients.scheduler, &config.schedules, &first.name).await?;
            Ok(first
                .map(|d| d.first_object)
                .filter(|o| o.time < due.first_object.time)
                .unwrap_or_else(|| due.first_object.clone()))
        }
        _ => Ok(due.first_object.clone()),
    }
}

async fn delete(
    clients: &Clients,
    config: &RetrainConfig,
    covered: &[&Listed],
) -> Result<(), PipelineError> {
    for schedule in covered {
        schedules::delete(&clients.scheduler, &config.schedules, &schedule.name).await?;
    }
    Ok(())
}

/// A firing that failed: delivered again, it finds the job if it started.
fn failed_job(config: &RetrainConfig, due: &Due, err: &PipelineError) -> JobOutcome {
    JobOutcome {
        action: Action::Failed,
        schedule: due.schedule.clone(),
        training_job_name: burst_training_job_name(config, due).to_string(),
        training_job_arn: None,
        processing_job_name: config
            .processing
            .as_ref()
            .map(|_| preprocessing::processing_job_name(config, due).to_string()),
        processing_job_arn: None,
        reason: Some(err.to_string()),
        reason_class: None,
        image: None,
        data: due.data.clone(),
        due: instant_text(due.due),
        burst_start: instant_text(due.first_object.time),
    }
}

/// What the burst's job is tagged with: the pipeline, the burst's first
/// object, and the burst (`<first object's time>/<due>`).
fn job_tags(config: &RetrainConfig, due: &Due, burst: &FirstObject) -> Vec<(String, String)> {
    vec![
        (tag_keys::PIPELINE.to_string(), config.pipeline.to_string()),
        (tag_keys::TRIGGER.to_string(), "s3".to_string()),
        (tag_keys::S3_BUCKET.to_string(), burst.bucket.clone()),
        (tag_keys::S3_KEY.to_string(), burst.key.clone()),
        (
            tag_keys::BURST.to_string(),
            format!("{}/{}", instant_text(burst.time), instant_text(due.due)),
        ),
    ]
}

/// Why new data that arrives before the first approval trains nothing: the
/// retraining image is the approved one, and the first version comes from an
/// image push. New data after the approval retrains.
pub(crate) fn no_version_yet(config: &RetrainConfig) -> String {
    format!(
        "no approved version in model package group {} to retrain yet, and no {}; \
         new data retrains once a version is approved",
        config.model_package_group,
        crate::config::vars::FALLBACK_IMAGE
    )
}

#[cfg(test)]
mod tests;
