//! Handler tests against a mocked SageMaker and EventBridge Scheduler
//! (aws-smithy-mocks): the burst schedule a batch asks for, what a schedule
//! falling due does (wait, start, already handled), every skip, and each way a
//! call can fail, per message.

use std::collections::HashMap;

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_processing_job::{
    CreateProcessingJobError, CreateProcessingJobOutput,
};
use aws_sdk_sagemaker::operation::create_training_job::{
    CreateTrainingJobError, CreateTrainingJobOutput,
};
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_training_jobs::ListTrainingJobsOutput;
use aws_sdk_sagemaker::types::error::ResourceInUse;
use aws_sdk_sagemaker::types::{ModelPackageSummary, TrainingJobStatus, TrainingJobSummary};
use aws_sdk_scheduler::operation::create_schedule::{CreateScheduleError, CreateScheduleOutput};
use aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleOutput;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::operation::list_schedules::ListSchedulesOutput;
use aws_sdk_scheduler::types::error::ConflictException;
use aws_sdk_scheduler::types::{ScheduleSummary, Target};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::json;
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use super::*;
use crate::burst::DueMessage;

type SageMaker = aws_sdk_sagemaker::Client;
type Scheduler = aws_sdk_scheduler::Client;

const BUCKET: &str = "mlops-data-123456789012-us-east-1";
const DATA: &str = "s3://mlops-data-123456789012-us-east-1/data/train/";
const GROUP: &str = "mlops-retraining";
const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:mlops-retrain";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/mlops-retrain-scheduler";
const JOB_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x";
const PACKAGE_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
const APPROVED_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

fn config(extra: &[(&'static str, &'static str)]) -> RetrainConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    RetrainConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

/// Standard retries as in production, without real back-off sleeps.
fn clients(sagemaker: &[&Rule], scheduler: &[&Rule]) -> Clients {
    Clients {
        sagemaker: mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, sagemaker, |c| c
            .retry_config(RetryConfig::standard().with_max_attempts(3))),
        scheduler: mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, scheduler, |c| c
            .retry_config(
                aws_sdk_scheduler::config::retry::RetryConfig::standard().with_max_attempts(3)
            )),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// Long before the samples' event times: no due time is floored to it.
fn long_ago() -> DateTime<Utc> {
    at("2020-01-01T00:00:00Z")
}

/// An SQS batch from the queue, one message per event.
fn batch(events: &[Value]) -> Vec<Message> {
    let bodies: Vec<String> = events.iter().map(Value::to_string).collect();
    crate::messages::batch(&bodies)
}

/// S3's EventBridge "Object Created" for `key` at `time`.
fn created_event(key: &str, time: &str) -> Value {
    let mut event = sample("s3-object-created.json");
    event["detail"]["object"]["key"] = json!(key);
    event["time"] = json!(time);
    event
}

/// A schedule's message as it falls due.
fn due_message(data: &str, due: &str, first: &str) -> Value {
    json!(DueMessage {
        retraining_due: due_of(data, due, first),
    })
}

fn due_of(data: &str, due: &str, first: &str) -> Due {
    Due {
        schedule: schedule_name(data, at(due)),
        data: data.to_string(),
        due: at(due),
        first_object: FirstObject {
            bucket: BUCKET.to_string(),
            key: "data/train/part-00000.csv".to_string(),
            time: at(first),
        },
    }
}

fn scheduled() -> Rule {
    mock!(Scheduler::create_schedule).then_output(|| {
        CreateScheduleOutput::builder()
            .schedule_arn("arn")
            .build()
            .unwrap()
    })
}

fn conflict() -> Rule {
    mock!(Scheduler::create_schedule).then_error(|| {
        CreateScheduleError::ConflictException(
            ConflictException::builder()
                .message("Schedule already exists.")
                .build()
                .unwrap(),
        )
    })
}

/// ListSchedules answering these due times of `DATA`'s channel.
fn listing(dues: &'static [&'static str]) -> Rule {
    mock!(Scheduler::list_schedules)
        .match_requests(|req| {
            req.group_name() == Some(GROUP) && req.name_prefix() == Some(&*schedule_prefix(DATA))
        })
        .then_output(move || {
            let mut output = ListSchedulesOutput::builder();
            for due in dues {
                output = output.schedules(
                    ScheduleSummary::builder()
                        .name(schedule_name(DATA, at(due)))
                        .group_name(GROUP)
                        .build(),
                );
            }
            output.build().unwrap()
        })
}

/// GetSchedule of the schedule due `due`, whose batch's oldest object is
/// from `first`.
fn stored(due: &'static str, first: &'static str) -> Rule {
    mock!(Scheduler::get_schedule)
        .match_requests(move |req| {
            req.group_name() == Some(GROUP) && req.name() == Some(&*schedule_name(DATA, at(due)))
        })
        .then_output(move || {
            let input = due_message(DATA, due, first);
            GetScheduleOutput::builder()
                .target(
                    Target::builder()
                        .arn(QUEUE_ARN)
                        .role_arn(ROLE_ARN)
                        .input(input.to_string())
                        .build()
                        .unwrap(),
                )
                .build()
        })
}

fn deleted() -> Rule {
    mock!(Scheduler::delete_schedule)
        .match_requests(|req| req.group_name() == Some(GROUP))
        .then_output(|| DeleteScheduleOutput::builder().build())
}

fn approved_package() -> Rule {
    mock!(SageMaker::list_model_packages).then_output(|| {
        ListModelPackagesOutput::builder()
            .model_package_summary_list(
                ModelPackageSummary::builder()
                    .model_package_arn(PACKAGE_ARN)
                    .build(),
            )
            .build()
    })
}

fn package_description() -> Rule {
    mock!(SageMaker::describe_model_package)
        .match_requests(|req| req.model_package_name() == Some(PACKAGE_ARN))
        .then_output(|| {
            DescribeModelPackageOutput::builder()
                .customer_metadata_properties("training_image", APPROVED_IMAGE)
                .build()
        })
}

fn job_created() -> Rule {
    mock!(SageMaker::create_training_job).then_output(|| {
        CreateTrainingJobOutput::builder()
            .training_job_arn(JOB_ARN)
            .build()
    })
}

/// CreateTrainingJob's answer for a name that is taken.
fn training_job_in_use() -> Rule {
    mock!(SageMaker::create_training_job).then_error(|| {
        CreateTrainingJobError::ResourceInUse(
            ResourceInUse::builder()
                .message("Training job names must be unique within an AWS account and region")
                .build(),
        )
    })
}

fn tags_of(
    req: &aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobInput,
) -> HashMap<String, String> {
    req.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

async fn run(clients: &Clients, config: &RetrainConfig, messages: Vec<Message>) -> RetrainOutcome {
    let (outcome, _) = retrain(clients, config, messages, long_ago()).await;
    outcome
}

// --- new objects: a batch asks for its burst's schedule ---

#[tokio::test]
async fn a_batch_asks_for_one_schedule_due_a_quiet_period_after_its_newest_object() {
    let create = mock!(Scheduler::create_schedule)
        .match_requests(|req| {
            let target = req.target().unwrap();
            let input: DueMessage = serde_json::from_str(target.input().unwrap()).unwrap();
            let due = &input.retraining_due;
            req.group_name() == Some(GROUP)
                && req.name() == Some(&*schedule_name(DATA, at("2026-11-23T09:23:00Z")))
                && req.schedule_expression() == Some("at(2026-11-23T09:23:00)")
                && req.schedule_expression_timezone() == Some("UTC")
                && req.flexible_time_window().unwrap().mode().as_str() == "OFF"
                && req.action_after_completion().unwrap().as_str() == "NONE"
                && target.arn() == QUEUE_ARN
                && target.role_arn() == ROLE_ARN
                && target.dead_letter_config().and_then(|d| d.arn())
                    == Some("arn:aws:sqs:us-east-1:123456789012:mlops-retrain-dead-letters")
                && due.data == DATA
                && due.due == at("2026-11-23T09:23:00Z")
                && due.schedule == req.name().unwrap()
                // The oldest object of the batch, whatever the order.
                && due.first_object.key == "data/train/b.csv"
                && due.first_object.time == at("2026-11-23T09:15:00Z")
        })
        .then_output(|| {
            CreateScheduleOutput::builder()
                .schedule_arn("arn")
                .build()
                .unwrap()
        });
    let clients = clients(&[], &[&create]);
    let messages = batch(&[
        created_event("data/train/a.csv", "2026-11-23T09:16:10Z"),
        created_event("data/train/b.csv", "2026-11-23T09:15:00Z"),
        created_event("data/train/c.csv", "2026-11-23T09:17:01Z"),
    ]);

    let (outcome, failed) = retrain(&clients, &config(&[]), messages, long_ago()).await;

    assert!(failed.is_empty());
    assert_eq!(create.num_calls(), 1);
    assert_eq!(outcome.action, Action::Scheduled);
    let schedule = &outcome.schedules[0];
    assert_eq!(schedule.due, "2026-11-23T09:23:00Z");
    assert_eq!(schedule.objects, 3);
    assert!(schedule.created);
    assert!(outcome.records.iter().all(|r| r.action == Action::Scheduled
        && r.due.as_deref() == Some("2026-11-23T09:23:00Z")
        && r.schedule.as_deref() == Some(&*schedule.schedule)));
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "scheduled");
    assert!(json.get("batchItemFailures").is_none());
}

#[tokio::test]
async fn a_schedule_another_batch_created_first_is_the_same_burst() {
    let create = conflict();
    let clients = clients(&[], &[&create]);
    let outcome = handle(
        &clients,
        &config(&[]),
        invocation(sample("sqs-s3-object-created.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Scheduled);
    assert!(!outcome.schedules[0].created);
    assert_eq!(outcome.batch_item_failures, Some(Vec::new()));
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["batchItemFailures"], json!([]));
}

#[tokio::test]
async fn each_data_channel_has_its_own_burst_and_fails_alone() {
    // object-prefix: two folders, two channels; the first one's schedule
    // cannot be created (throttled through the SDK's retries).
    let first_prefix = schedule_prefix(&format!("s3://{BUCKET}/data/train/day-1/"));
    let throttled = mock!(Scheduler::create_schedule)
        .match_requests(move |req| req.name().unwrap().starts_with(&first_prefix))
        .sequence()
        .http_response(|| aws_error(429, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let created = scheduled();
    let clients = clients(&[], &[&throttled, &created]);
    let messages = batch(&[
        created_event("data/train/day-1/a.csv", "2026-11-23T09:15:00Z"),
        created_event("data/train/day-2/a.csv", "2026-11-23T09:15:00Z"),
        created_event("data/train/day-1/b.csv", "2026-11-23T09:15:30Z"),
        json!({"not": "an event"}),
    ]);

    let (outcome, failed) = retrain(
        &clients,
        &config(&[("RETRAIN_DATA_CHANNEL", "object-prefix")]),
        messages,
        long_ago(),
    )
    .await;

    let failed_ids: Vec<&str> = failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed_ids, ["m0", "m2", "m3"]);
    assert!(failed[0].1.is_retryable());
    assert_eq!(failed[2].1.error_type(), "NonRetryable.InvalidEvent");
    assert_eq!(created.num_calls(), 1);
    assert_eq!(throttled.num_calls(), 3);
    assert_eq!(outcome.action, Action::Scheduled);
    assert_eq!(outcome.schedules[0].action, Action::Failed);
    assert_eq!(
        outcome.schedules[1].data,
        format!("s3://{BUCKET}/data/train/day-2/")
    );
    assert_eq!(outcome.records[0].action, Action::Failed);
    assert_eq!(outcome.records[1].action, Action::Scheduled);
    assert_eq!(outcome.failures.len(), 3);
    assert_eq!(outcome.failures[2].message_id, "m3");
}

#[tokio::test]
async fn invoked_directly_a_failure_is_the_invocations_error() {
    let throttled = mock!(Scheduler::create_schedule)
        .sequence()
        .http_response(|| aws_error(429, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let clients = clients(&[], &[&throttled]);
    let err = handle(
        &clients,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.aws_code(), Some("ThrottlingException"));
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn objects_that_are_not_new_data_are_skipped_without_calls() {
    let clients = clients(&[], &[]);
    let cases = [
        (
            "s3-notification-delete.json",
            "ObjectRemoved:Delete is not an object creation",
        ),
        (
            "s3-notification-other-prefix.json",
            "key is not under the data prefix",
        ),
        ("s3-notification-folder-marker.json", "folder marker"),
    ];
    for (file, reason) in cases {
        let outcome = handle(&clients, &config(&[]), invocation(sample(file)))
            .await
            .unwrap();
        assert_eq!(outcome.action, Action::Skipped, "{file}");
        assert!(
            outcome.reason.as_deref().unwrap().contains(reason),
            "{file}: {:?}",
            outcome.reason
        );
    }
    let outcome = handle(
        &clients,
        &config(&[("RETRAIN_KEY_SUFFIX", "_SUCCESS")]),
        invocation(sample("s3-object-created.json")),
    )
    .await
    .unwrap();
    assert!(outcome.records[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("RETRAIN_KEY_SUFFIX _SUCCESS"));
    let test_event = handle(
        &clients,
        &config(&[]),
        invocation(sample("s3-test-event.json")),
    )
    .await
    .unwrap();
    assert_eq!(test_event.action, Action::Skipped);
    assert!(test_event.reason.unwrap().contains("s3:TestEvent"));
}

#[tokio::test]
async fn a_manifest_is_its_own_channel() {
    let create = mock!(Scheduler::create_schedule)
        .match_requests(|req| {
            let input: DueMessage =
                serde_json::from_str(req.target().unwrap().input().unwrap()).unwrap();
            input.retraining_due.data == format!("s3://{BUCKET}/data/train/day-1/manifest.json")
        })
        .then_output(|| {
            CreateScheduleOutput::builder()
                .schedule_arn("arn")
                .build()
                .unwrap()
        });
    let clients = clients(&[], &[&create]);
    let outcome = run(
        &clients,
        &config(&[
            ("RETRAIN_DATA_CHANNEL", "manifest"),
            ("RETRAIN_KEY_SUFFIX", "manifest.json"),
        ]),
        batch(&[
            created_event("data/train/day-1/part-0.csv", "2026-11-23T09:15:00Z"),
            created_event("data/train/day-1/manifest.json", "2026-11-23T09:15:10Z"),
        ]),
    )
    .await;
    assert_eq!(create.num_calls(), 1);
    assert_eq!(outcome.records[0].action, Action::Skipped);
    assert_eq!(outcome.records[1].action, Action::Scheduled);
}

// --- a schedule falls due ---

#[tokio::test]
async fn a_quiet_burst_starts_one_job_and_deletes_its_schedules() {
    let list = listing(&["2026-11-23T09:18:00Z", "2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let create = mock!(SageMaker::create_training_job)
        .match_requests(|req| {
            let channels = req.input_data_config();
            let train = &channels[0];
            let source = train
                .data_source()
                .and_then(|d| d.s3_data_source())
                .unwrap();
            let tags = tags_of(req);
            let expected = job_name(
                &config(&[]),
                &due_of(DATA, "2026-11-23T09:21:00Z", "2026-11-23T09:15:00Z"),
            );
            req.training_job_name() == Some(expected.as_str())
                && req
                    .algorithm_specification()
                    .and_then(|a| a.training_image())
                    == Some(APPROVED_IMAGE)
                && train.channel_name() == Some("train")
                && source.s3_uri() == Some(DATA)
                && source.s3_data_type().map(|t| t.as_str()) == Some("S3Prefix")
                && train.content_type() == Some("text/csv")
                && channels.len() == 2
                && tags["mlops:pipeline"] == "mlops"
                && tags["mlops:trigger"] == "s3"
                && tags["mlops:s3-key"] == "data/train/part-00000.csv"
                && tags["mlops:burst"] == "2026-11-23T09:12:00Z/2026-11-23T09:21:00Z"
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    // The burst began with the 09:18 schedule, whose batch's oldest object is
    // from 09:12: the job is tagged with it.
    let get = stored("2026-11-23T09:18:00Z", "2026-11-23T09:12:00Z");
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &create], &[&list, &get, &delete]);

    let outcome = handle(
        &clients,
        &config(&[]),
        invocation(sample("retraining-due.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Started);
    let job = &outcome.training_jobs[0];
    assert_eq!(job.action, Action::Started);
    assert_eq!(job.training_job_arn.as_deref(), Some(JOB_ARN));
    assert_eq!(job.image.as_deref(), Some(APPROVED_IMAGE));
    assert_eq!(job.due, "2026-11-23T09:21:00Z");
    assert_eq!(job.burst_start, "2026-11-23T09:12:00Z");
    assert!(job
        .training_job_name
        .starts_with("mlops--s3-20261123-0921-"));
    // List, the burst's first schedule, the image (2), the job, and one
    // delete per schedule of the burst.
    assert_eq!(list.num_calls(), 1);
    assert_eq!(get.num_calls(), 1);
    assert_eq!(create.num_calls(), 1);
    assert_eq!(delete.num_calls(), 2);
}

#[test]
fn job_names_are_the_channel_and_the_minute_due() {
    let config = config(&[]);
    let name =
        |data: &str, due: &str| job_name(&config, &due_of(data, due, "2026-11-23T09:00:00Z"));
    let golden = name(DATA, "2026-11-23T09:21:00Z");
    assert_eq!(golden.as_str(), "mlops--s3-20261123-0921-254e33de4dd71f7b");
    // The first object does not name the job: only the channel and the due time.
    assert_eq!(
        job_name(
            &config,
            &due_of(DATA, "2026-11-23T09:21:00Z", "2026-11-23T08:00:00Z")
        ),
        golden
    );
    assert_ne!(name(DATA, "2026-11-23T09:22:00Z"), golden);
    assert_ne!(
        name(&format!("{DATA}day-1/"), "2026-11-23T09:21:00Z"),
        golden
    );
}

#[tokio::test]
async fn newer_objects_make_the_burst_wait_for_their_schedule() {
    let list = listing(&["2026-11-23T09:21:00Z", "2026-11-23T09:24:00Z"]);
    let clients = clients(&[], &[&list]);
    let outcome = run(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    let job = &outcome.training_jobs[0];
    assert_eq!(
        job.reason.as_deref(),
        Some("newer objects came: the burst is due at 2026-11-23T09:24:00Z")
    );
    // Its own schedule is the earliest: no GetSchedule, no SageMaker call.
    assert_eq!(list.num_calls(), 1);
}

#[tokio::test]
async fn at_its_maximum_delay_a_burst_starts_while_data_keeps_coming() {
    // The burst began with the 09:00 schedule, whose first object is 08:55:
    // one hour later (RETRAIN_MAX_DELAY_MINUTES 60) its job starts anyway.
    let list = listing(&[
        "2026-11-23T09:00:00Z",
        "2026-11-23T09:55:00Z",
        "2026-11-23T09:56:00Z",
    ]);
    let get = stored("2026-11-23T09:00:00Z", "2026-11-23T08:55:00Z");
    let delete = deleted();
    let (packages, package, create) = (approved_package(), package_description(), job_created());
    let clients = clients(&[&packages, &package, &create], &[&list, &get, &delete]);
    let due = due_message(DATA, "2026-11-23T09:55:00Z", "2026-11-23T09:49:00Z");

    let outcome = run(&clients, &config(&[]), batch(&[due])).await;

    assert_eq!(outcome.action, Action::Started);
    assert_eq!(outcome.training_jobs[0].burst_start, "2026-11-23T08:55:00Z");
    assert_eq!(get.num_calls(), 1);
    // 09:00 and 09:55 are settled; 09:56 (newer objects) is the next burst's.
    assert_eq!(delete.num_calls(), 2);

    // With a longer maximum delay the same firing waits, and its schedule
    // goes: 09:56 covers its objects, 09:00 keeps the burst's first object.
    let list = listing(&[
        "2026-11-23T09:00:00Z",
        "2026-11-23T09:55:00Z",
        "2026-11-23T09:56:00Z",
    ]);
    let delete = deleted();
    let waiting = self::clients(&[], &[&list, &get, &delete]);
    let outcome = run(
        &waiting,
        &config(&[("RETRAIN_MAX_DELAY_MINUTES", "120")]),
        batch(&[due_message(
            DATA,
            "2026-11-23T09:55:00Z",
            "2026-11-23T09:49:00Z",
        )]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn a_waiting_schedule_that_is_not_the_bursts_first_is_deleted() {
    // 09:18 began the burst, 09:24 is newer: 09:21 waits, and goes, since
    // 09:24 covers its objects and 09:18 keeps the burst's first object.
    let list = listing(&[
        "2026-11-23T09:18:00Z",
        "2026-11-23T09:21:00Z",
        "2026-11-23T09:24:00Z",
    ]);
    let get = stored("2026-11-23T09:18:00Z", "2026-11-23T09:12:00Z");
    let delete = mock!(Scheduler::delete_schedule)
        .match_requests(|req| req.name() == Some(&*schedule_name(DATA, at("2026-11-23T09:21:00Z"))))
        .then_output(|| DeleteScheduleOutput::builder().build());
    let clients = clients(&[], &[&list, &get, &delete]);
    let outcome = run(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(outcome.training_jobs[0].burst_start, "2026-11-23T09:12:00Z");
}

#[tokio::test]
async fn a_schedule_a_later_job_deleted_is_already_handled() {
    let list = listing(&["2026-11-23T09:30:00Z"]);
    let clients = clients(&[], &[&list]);
    let outcome = run(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json"), sample("retraining-due.json")]),
    )
    .await;
    // Two deliveries of one schedule in a batch: one firing.
    assert_eq!(list.num_calls(), 1);
    assert_eq!(outcome.training_jobs.len(), 2);
    assert!(outcome
        .training_jobs
        .iter()
        .all(|j| j.reason.as_deref()
            == Some("the schedule is gone: a later firing settled the burst")));
}

#[tokio::test]
async fn a_job_already_started_still_clears_its_schedules() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let in_use = training_job_in_use();
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &in_use], &[&list, &delete]);
    let outcome = run(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(
        outcome.training_jobs[0].reason.as_deref(),
        Some("already started")
    );
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn without_an_approved_version_the_burst_trains_nothing_and_is_cleared() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let none = mock!(SageMaker::list_model_packages)
        .then_output(|| ListModelPackagesOutput::builder().build());
    let create = job_created();
    let clients = clients(&[&none, &create], &[&list, &delete]);
    let outcome = run(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    assert!(outcome.reason.unwrap().contains("no approved version"));
    assert_eq!(create.num_calls(), 0);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn optionally_a_running_job_of_the_pipeline_defers_the_burst() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let later = mock!(Scheduler::create_schedule)
        .match_requests(|req| {
            let input: DueMessage =
                serde_json::from_str(req.target().unwrap().input().unwrap()).unwrap();
            req.name() == Some(&*schedule_name(DATA, at("2026-11-23T09:26:00Z")))
                && input.retraining_due.first_object.time == at("2026-11-23T09:15:00Z")
        })
        .then_output(|| {
            CreateScheduleOutput::builder()
                .schedule_arn("arn")
                .build()
                .unwrap()
        });
    let running = mock!(SageMaker::list_training_jobs)
        .match_requests(|req| req.status_equals() == Some(&TrainingJobStatus::InProgress))
        .then_output(|| {
            ListTrainingJobsOutput::builder()
                .training_job_summaries(
                    TrainingJobSummary::builder()
                        .training_job_name("mlops--ecr-v1-0123456789abcdef")
                        .build(),
                )
                .build()
        });
    let create = job_created();
    let clients = clients(&[&running, &create], &[&list, &later, &delete]);
    let outcome = run(
        &clients,
        &config(&[("RETRAIN_SKIP_IF_TRAINING", "true")]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped);
    assert!(outcome.training_jobs[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("mlops--ecr-v1-0123456789abcdef of this pipeline is in progress: the burst is due again at 2026-11-23T09:26:00Z"));
    assert_eq!(later.num_calls(), 1);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(create.num_calls(), 0);
}

/// The job in progress is the burst's own (an earlier delivery started it,
/// then failed to delete the schedule): not a reason to defer a second one.
#[tokio::test]
async fn the_bursts_own_job_in_progress_does_not_defer_it() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let own = job_name(
        &config(&[]),
        &due_of(DATA, "2026-11-23T09:21:00Z", "2026-11-23T09:15:00Z"),
    )
    .to_string();
    let running = mock!(SageMaker::list_training_jobs).then_output(move || {
        ListTrainingJobsOutput::builder()
            .training_job_summaries(
                TrainingJobSummary::builder()
                    .training_job_name(own.clone())
                    .build(),
            )
            .build()
    });
    let in_use = training_job_in_use();
    let later = scheduled();
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(
        &[&running, &packages, &package, &in_use],
        &[&list, &later, &delete],
    );
    let outcome = run(
        &clients,
        &config(&[("RETRAIN_SKIP_IF_TRAINING", "true")]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(
        outcome.training_jobs[0].reason.as_deref(),
        Some("already started")
    );
    assert_eq!(later.num_calls(), 0);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_delete_fails_the_message_after_the_job_started() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = mock!(Scheduler::delete_schedule)
        .sequence()
        .http_response(|| aws_error(500, "InternalServerException", "oops"))
        .times(3)
        .build();
    let (packages, package, create) = (approved_package(), package_description(), job_created());
    let clients = clients(&[&packages, &package, &create], &[&list, &delete]);
    let (outcome, failed) = retrain(
        &clients,
        &config(&[]),
        batch(&[sample("retraining-due.json")]),
        long_ago(),
    )
    .await;
    // Delivered again, the job is found started and the schedule deleted then.
    assert_eq!(create.num_calls(), 1);
    assert_eq!(failed.len(), 1);
    assert!(failed[0].1.is_retryable());
    assert_eq!(outcome.action, Action::Failed);
}

#[tokio::test]
async fn a_due_message_that_is_not_ours_is_refused() {
    let clients = clients(&[], &[]);
    let mut elsewhere = sample("retraining-due.json");
    elsewhere["retraining_due"]["data"] = json!("s3://another-bucket/data/");
    let mut renamed = sample("retraining-due.json");
    renamed["retraining_due"]["schedule"] = json!("whatever");
    let (_, failed) = retrain(
        &clients,
        &config(&[]),
        batch(&[elsewhere, renamed]),
        long_ago(),
    )
    .await;
    assert_eq!(failed.len(), 2);
    assert!(failed[0]
        .1
        .to_string()
        .contains("is not under RETRAIN_DATA_S3_URI"));
    assert!(failed[1]
        .1
        .to_string()
        .contains("is not the name of its data and due time"));
}

// --- preprocessing: a processing job first, the training job on its outputs ---

const PROCESSED: &str = "s3://mlops-data-123456789012-us-east-1/processed/";
const PROCESSING_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/x";

fn preprocessing(extra: &[(&'static str, &'static str)]) -> RetrainConfig {
    let mut vars = vec![
        ("PREPROCESSING_ENABLED", "true"),
        ("PROCESSING_OUTPUT_S3_URI", PROCESSED),
    ];
    vars.extend_from_slice(extra);
    config(&vars)
}

/// The EMF document of the outcome's metrics without a third dimension.
fn totals(outcome: &RetrainOutcome) -> Value {
    let emf = shared::metrics::Emf::new("mlops", shared::metrics::Stage::Retrain);
    let documents = emf.documents(&outcome.measures(), 0);
    documents
        .into_iter()
        .find(|d| d.get("Reason").is_none() && d.get("ErrorType").is_none())
        .unwrap()
}

/// The sample's completed processing job, as the rule puts it on the queue.
fn completed() -> Value {
    sample("processing-job-completed.json")
}

fn completed_name() -> String {
    completed()["detail"]["ProcessingJobName"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn with_preprocessing_a_quiet_burst_starts_one_processing_job() {
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let config = preprocessing(&[]);
    let due = due_of(DATA, "2026-11-23T09:21:00Z", "2026-11-23T09:15:00Z");
    let expected = preprocessing::processing_job_name(&config, &due);
    let name = expected.to_string();
    let create = mock!(SageMaker::create_processing_job)
        .match_requests(move |req| {
            let app = req.app_specification().unwrap();
            let raw = &req.processing_inputs()[0];
            let input = raw.s3_input().unwrap();
            let outputs: Vec<(&str, &str)> = req
                .processing_output_config()
                .unwrap()
                .outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_name().unwrap(),
                        o.s3_output().unwrap().s3_uri().unwrap(),
                    )
                })
                .collect();
            let tags: HashMap<&str, &str> = req
                .tags()
                .iter()
                .map(|t| (t.key().unwrap(), t.value().unwrap()))
                .collect();
            req.processing_job_name() == Some(name.as_str())
                && app.image_uri() == Some(APPROVED_IMAGE)
                && app.container_entrypoint() == ["preprocess"]
                && raw.input_name() == Some("raw")
                && input.s3_uri() == Some(DATA)
                && input.local_path() == Some("/opt/ml/processing/input/raw")
                && outputs
                    == [
                        ("train", &*format!("{PROCESSED}{name}/train/")),
                        ("validation", &*format!("{PROCESSED}{name}/validation/")),
                        ("test", &*format!("{PROCESSED}{name}/test/")),
                    ]
                && req.role_arn() == Some("arn:aws:iam::123456789012:role/SageMakerExecution")
                && tags["mlops:burst"] == "2026-11-23T09:15:00Z/2026-11-23T09:21:00Z"
                && tags["mlops:trigger"] == "s3"
        })
        .then_output(|| {
            CreateProcessingJobOutput::builder()
                .processing_job_arn(PROCESSING_ARN)
                .build()
        });
    let training = job_created();
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(
        &[&packages, &package, &create, &training],
        &[&list, &delete],
    );

    let outcome = run(&clients, &config, batch(&[sample("retraining-due.json")])).await;

    assert_eq!(outcome.action, Action::Started, "{outcome:?}");
    let job = &outcome.training_jobs[0];
    assert_eq!(job.processing_job_name.as_deref(), Some(expected.as_str()));
    assert_eq!(job.processing_job_arn.as_deref(), Some(PROCESSING_ARN));
    // The training job comes with the processing job's completion.
    assert_eq!(job.training_job_arn, None);
    assert_eq!(
        job.training_job_name,
        preprocessing::training_job_name(&config, expected.as_str()).as_str()
    );
    assert!(expected.as_str().starts_with("mlops--proc-20261123-0921-"));
    assert_eq!(create.num_calls(), 1);
    assert_eq!(training.num_calls(), 0);
    assert_eq!(delete.num_calls(), 1);
    let totals = totals(&outcome);
    assert_eq!(totals["ProcessingJobsStarted"], 1.0);
    assert!(totals.get(names::STARTED).is_none(), "{totals}");
}

#[tokio::test]
async fn a_processing_image_and_an_existing_processing_job() {
    const OTHER: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-preprocess@sha256:1f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
    let list = listing(&["2026-11-23T09:21:00Z"]);
    let delete = deleted();
    let in_use = mock!(SageMaker::create_processing_job)
        .match_requests(|req| req.app_specification().unwrap().image_uri() == Some(OTHER))
        .then_error(|| {
            CreateProcessingJobError::ResourceInUse(
                ResourceInUse::builder()
                    .message("Processing job names must be unique within an AWS account and region")
                    .build(),
            )
        });
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &in_use], &[&list, &delete]);
    let outcome = run(
        &clients,
        &preprocessing(&[("PROCESSING_IMAGE", OTHER)]),
        batch(&[sample("retraining-due.json")]),
    )
    .await;
    assert_eq!(outcome.action, Action::Skipped, "{outcome:?}");
    assert_eq!(
        outcome.training_jobs[0].reason.as_deref(),
        Some("already started")
    );
    assert_eq!(in_use.num_calls(), 1);
    // Its schedules are settled all the same.
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn a_completed_processing_job_starts_the_training_job_on_its_outputs() {
    let config = preprocessing(&[]);
    let processing = completed_name();
    let expected = preprocessing::training_job_name(&config, &processing);
    let (name, job) = (expected.to_string(), processing.clone());
    let create = mock!(SageMaker::create_training_job)
        .match_requests(move |req| {
            let channels: Vec<(&str, &str, Option<&str>)> = req
                .input_data_config()
                .iter()
                .map(|c| {
                    let source = c.data_source().unwrap().s3_data_source().unwrap();
                    (
                        c.channel_name().unwrap(),
                        source.s3_uri().unwrap(),
                        c.content_type(),
                    )
                })
                .collect();
            let tags = tags_of(req);
            req.training_job_name() == Some(name.as_str())
                && req
                    .algorithm_specification()
                    .and_then(|a| a.training_image())
                    == Some(APPROVED_IMAGE)
                // The outputs replace TRAINING_CHANNELS' train and validation,
                // keeping their content types.
                && channels
                    == [
                        (
                            "train",
                            &*format!("{PROCESSED}{job}/train/"),
                            Some("text/csv"),
                        ),
                        ("validation", &*format!("{PROCESSED}{job}/validation/"), None),
                    ]
                && tags["mlops:processing-job"] == job
                && tags["mlops:pipeline"] == "mlops"
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &create], &[]);

    // The same state change twice in a batch (EventBridge delivers at least once).
    let (outcome, failed) = retrain(
        &clients,
        &config,
        batch(&[completed(), completed()]),
        long_ago(),
    )
    .await;

    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(outcome.action, Action::Started, "{outcome:?}");
    assert_eq!(create.num_calls(), 1);
    // The image is the one the processing job ran: no lookup.
    assert_eq!(packages.num_calls() + package.num_calls(), 0);
    let done = &outcome.processed[0];
    assert_eq!(done.action, Action::Started);
    assert_eq!(done.status, "Completed");
    assert_eq!(done.training_job_name.as_deref(), Some(expected.as_str()));
    assert_eq!(done.training_job_arn.as_deref(), Some(JOB_ARN));
    assert_eq!(
        done.channels["train"],
        format!("{PROCESSED}{processing}/train/")
    );
    assert_eq!(outcome.processed[1], outcome.processed[0]);
    assert_eq!(totals(&outcome)[names::STARTED], 1.0);
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["processed"][0]["action"], "started");
    assert!(expected
        .as_str()
        .starts_with("mlops--s3-20250612-1130-5c0e3b7a"));
}

#[tokio::test]
async fn a_redelivered_completion_finds_its_training_job_started() {
    let in_use = training_job_in_use();
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &in_use], &[]);
    let outcome = handle(&clients, &preprocessing(&[]), invocation(completed()))
        .await
        .unwrap();
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(
        outcome.processed[0].reason.as_deref(),
        Some("already started")
    );
    assert_eq!(
        outcome.processed[0].reason_class,
        Some(SkipClass::AlreadyDone)
    );
}

#[tokio::test]
async fn a_processing_job_that_did_not_complete_trains_nothing() {
    // No rule: any call would fail the message.
    let clients = clients(&[], &[]);
    let config = preprocessing(&[]);
    let mut other = completed();
    other["detail"]["ProcessingJobName"] = json!("other--proc-20250612-1130-5c0e3b7a9d21f846");
    // Named like the pipeline's resources, but not by the pipeline.
    let mut by_hand = completed();
    by_hand["detail"]["ProcessingJobName"] = json!("mlops--feature-backfill");
    let cases = [
        (
            sample("processing-job-failed.json"),
            "is Failed, not Completed",
        ),
        (
            other,
            "is not a preprocessing job of pipeline mlops (mlops--proc-…)",
        ),
        (by_hand, "is not a preprocessing job of pipeline mlops"),
    ];
    for (event, reason) in cases {
        let outcome = handle(&clients, &config, invocation(event)).await.unwrap();
        assert_eq!(outcome.action, Action::Skipped);
        assert!(
            outcome.reason.as_deref().unwrap().contains(reason),
            "{outcome:?}"
        );
        assert_eq!(
            outcome.processed[0].reason_class,
            Some(SkipClass::NotApplicable)
        );
    }
    // Preprocessing turned off since: nothing says where the outputs are.
    let outcome = handle(&clients, &config_off(), invocation(completed()))
        .await
        .unwrap();
    assert!(outcome
        .reason
        .unwrap()
        .contains("preprocessing is off (PREPROCESSING_ENABLED is not true)"));
}

fn config_off() -> RetrainConfig {
    config(&[])
}

#[tokio::test]
async fn a_failed_training_start_fails_the_message_for_redelivery() {
    let throttled = mock!(SageMaker::create_training_job)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &throttled], &[]);
    let (outcome, failed) = retrain(
        &clients,
        &preprocessing(&[]),
        batch(&[completed(), sample("s3-test-event.json")]),
        long_ago(),
    )
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "m0");
    assert!(failed[0].1.is_retryable());
    assert_eq!(outcome.action, Action::Failed);
    assert_eq!(outcome.processed[0].action, Action::Failed);
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn a_separate_processing_image_trains_with_the_image_in_production() {
    const PREPROCESS: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-preprocess@sha256:1f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
    let mut event = completed();
    event["detail"]["AppSpecification"]["ImageUri"] = json!(PREPROCESS);
    let create = mock!(SageMaker::create_training_job)
        .match_requests(|req| {
            req.algorithm_specification()
                .and_then(|a| a.training_image())
                == Some(APPROVED_IMAGE)
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    let (packages, package) = (approved_package(), package_description());
    let clients = clients(&[&packages, &package, &create], &[]);
    let outcome = handle(
        &clients,
        &preprocessing(&[("PROCESSING_IMAGE", PREPROCESS)]),
        invocation(event),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Started, "{outcome:?}");
    assert_eq!(outcome.processed[0].image.as_deref(), Some(APPROVED_IMAGE));
    assert_eq!((packages.num_calls(), create.num_calls()), (1, 1));
}

#[tokio::test]
async fn an_in_progress_and_a_completed_change_of_one_job_in_a_batch_are_two() {
    let mut in_progress = completed();
    in_progress["detail"]["ProcessingJobStatus"] = json!("InProgress");
    let create = job_created();
    let clients = clients(&[&create], &[]);
    let (outcome, failed) = retrain(
        &clients,
        &preprocessing(&[]),
        batch(&[in_progress, completed()]),
        long_ago(),
    )
    .await;
    assert!(failed.is_empty(), "{failed:?}");
    let actions: Vec<Action> = outcome.processed.iter().map(|p| p.action).collect();
    assert_eq!(actions, [Action::Skipped, Action::Started]);
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn without_an_approved_version_a_completed_job_trains_nothing() {
    // An event without the image the job ran (a direct invocation's): the
    // image in production, of which there is none.
    let mut event = completed();
    event["detail"]
        .as_object_mut()
        .unwrap()
        .remove("AppSpecification");
    let none = mock!(SageMaker::list_model_packages)
        .then_output(|| ListModelPackagesOutput::builder().build());
    let clients = clients(&[&none], &[]);
    let outcome = handle(&clients, &preprocessing(&[]), invocation(event))
        .await
        .unwrap();
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(outcome.processed[0].reason_class, Some(SkipClass::Blocked));
}

#[test]
fn processing_and_training_names_are_pinned() {
    // Names are the idempotency keys: a change would start a burst's jobs twice.
    let config = preprocessing(&[]);
    let due = due_of(DATA, "2026-11-23T09:21:00Z", "2026-11-23T09:00:00Z");
    let processing = preprocessing::processing_job_name(&config, &due);
    assert_eq!(
        processing.as_str(),
        "mlops--proc-20261123-0921-97eecc63e39165e4"
    );
    let training = preprocessing::training_job_name(&config, processing.as_str());
    assert_eq!(
        training.as_str(),
        "mlops--s3-20261123-0921-97eecc63e39165e4-ade019c5c3ed5951"
    );
    // Not the burst's own training job without preprocessing.
    assert_ne!(training, job_name(&config, &due));
    // docs/preprocessing.md's example: the sample event's job.
    assert_eq!(
        preprocessing::training_job_name(&config, &completed_name()).as_str(),
        "mlops--s3-20250612-1130-5c0e3b7a9d21f846-53766c29d5e0377f"
    );
}
