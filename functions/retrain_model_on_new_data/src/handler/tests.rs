//! Handler tests against a mocked SageMaker (aws-smithy-mocks): which image
//! retrains, the debounce name, every skip, and each way a call can fail.

use std::collections::HashMap;

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_training_job::{
    CreateTrainingJobError, CreateTrainingJobOutput,
};
use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_training_jobs::ListTrainingJobsOutput;
use aws_sdk_sagemaker::types::error::ResourceInUse;
use aws_sdk_sagemaker::types::{
    ModelPackageSummary, TrainingInputMode, TrainingJobStatus, TrainingJobSummary,
};
use aws_sdk_sagemaker::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::DateTime;
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use super::*;

const BUCKET: &str = "mlops-data-123456789012-us-east-1";
const JOB_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x";
const PACKAGE_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
const APPROVED_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
const FALLBACK_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn config(extra: &[(&'static str, &'static str)]) -> RetrainConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    RetrainConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

fn client(rules: &[&Rule]) -> Client {
    // Standard retries as in production, without real back-off sleeps.
    mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)))
}

/// DescribeTrainingJob as SageMaker answers it for a name not yet used.
fn no_job_yet() -> Rule {
    mock!(Client::describe_training_job)
        .sequence()
        .http_response(|| aws_error(400, "ValidationException", "Requested resource not found."))
        .repeatedly()
        .build()
}

fn job_exists() -> Rule {
    mock!(Client::describe_training_job).then_output(|| {
        DescribeTrainingJobOutput::builder()
            .training_job_status(TrainingJobStatus::InProgress)
            .build()
    })
}

fn approved_package() -> Rule {
    mock!(Client::list_model_packages)
        .match_requests(|req| {
            req.model_package_group_name() == Some("mlops--models")
                && req.model_approval_status().map(|s| s.as_str()) == Some("Approved")
                && req.sort_by().map(|s| s.as_str()) == Some("CreationTime")
                && req.sort_order().map(|s| s.as_str()) == Some("Descending")
                && req.max_results() == Some(10)
        })
        .then_output(|| {
            ListModelPackagesOutput::builder()
                .model_package_summary_list(
                    ModelPackageSummary::builder()
                        .model_package_arn(PACKAGE_ARN)
                        .build(),
                )
                .build()
        })
}

fn no_approved_package() -> Rule {
    mock!(Client::list_model_packages).then_output(|| ListModelPackagesOutput::builder().build())
}

fn package_description() -> Rule {
    mock!(Client::describe_model_package)
        .match_requests(|req| req.model_package_name() == Some(PACKAGE_ARN))
        .then_output(|| {
            DescribeModelPackageOutput::builder()
                .customer_metadata_properties("training_image", APPROVED_IMAGE)
                .build()
        })
}

fn created() -> Rule {
    mock!(Client::create_training_job)
        .sequence()
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        })
        .repeatedly()
        .build()
}

fn tags_of(
    req: &aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobInput,
) -> HashMap<String, String> {
    req.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn new_data_starts_one_job_on_the_approved_image() {
    let create = mock!(Client::create_training_job)
        .match_requests(|req| {
            let channels = req.input_data_config();
            let train = &channels[0];
            let source = train.data_source().and_then(|d| d.s3_data_source()).unwrap();
            let tags = tags_of(req);
            req.training_job_name().is_some_and(|n| n.starts_with("mlops--s3-20261123-090000-"))
                && req.algorithm_specification().and_then(|a| a.training_image()) == Some(APPROVED_IMAGE)
                && train.channel_name() == Some("train")
                && source.s3_uri() == Some(&*format!("s3://{BUCKET}/data/train/"))
                && source.s3_data_type().map(|t| t.as_str()) == Some("S3Prefix")
                // The configured channel's settings are kept; the others stay.
                && train.content_type() == Some("text/csv")
                && channels.len() == 2
                && channels[1].channel_name() == Some("validation")
                && tags["mlops:pipeline"] == "mlops"
                && tags["mlops:trigger"] == "s3"
                && tags["mlops:s3-bucket"] == BUCKET
                && tags["mlops:s3-key"] == "data/train/part-00000.csv"
                && tags["mlops:window"] == "2026-11-23T09:00:00Z/PT3600S"
        })
        .then_output(|| CreateTrainingJobOutput::builder().training_job_arn(JOB_ARN).build());
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Started);
    assert_eq!(outcome.training_jobs.len(), 1);
    let job = &outcome.training_jobs[0];
    assert_eq!(job.action, Action::Started);
    assert_eq!(job.training_job_arn.as_deref(), Some(JOB_ARN));
    assert_eq!(job.image.as_deref(), Some(APPROVED_IMAGE));
    assert_eq!(job.window_start, "2026-11-23T09:00:00Z");
    assert_eq!(job.objects, 1);
    assert_eq!(outcome.records[0].action, Action::Started);
    assert_eq!(
        outcome.records[0].training_job_name.as_deref(),
        Some(&*job.training_job_name)
    );
    // One call each: nothing looked up twice, nothing extra.
    for rule in [&describe, &list, &package, &create] {
        assert_eq!(rule.num_calls(), 1);
    }
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "started");
    assert_eq!(json["training_jobs"][0]["action"], "started");
}

/// A newer approved version whose deployment failed (stopped by the smoke
/// test, or rolled back) is not the one in production: the one before it
/// retrains.
#[tokio::test]
async fn a_version_whose_deployment_failed_is_not_retrained() {
    let list = mock!(Client::list_model_packages).then_output(|| {
        ListModelPackagesOutput::builder()
            .model_package_summary_list(
                ModelPackageSummary::builder()
                    .model_package_arn(
                        "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/9",
                    )
                    .model_life_cycle(
                        aws_sdk_sagemaker::types::ModelLifeCycle::builder()
                            .stage("Staging")
                            .stage_status("Failed")
                            .build(),
                    )
                    .build(),
            )
            .model_package_summary_list(
                ModelPackageSummary::builder()
                    .model_package_arn(PACKAGE_ARN)
                    .build(),
            )
            .build()
    });
    let (describe, package, create) = (no_job_yet(), package_description(), created());
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.training_jobs[0].image.as_deref(),
        Some(APPROVED_IMAGE)
    );
    assert_eq!(package.num_calls(), 1);
}

/// Golden: the job name events/s3-object-created.json asks for (its channel
/// and window). A redelivery after an upgrade must ask for the same name
/// (one job per window), so a change is breaking.
#[tokio::test]
async fn golden_training_job_name_of_a_window() {
    let (describe, list, create) = (no_job_yet(), no_approved_package(), created());
    let sagemaker = client(&[&describe, &list, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[("RETRAIN_FALLBACK_IMAGE", FALLBACK_IMAGE)]),
        invocation(sample("s3-object-created.json")),
    )
    .await
    .unwrap();

    assert_eq!(
        outcome.training_jobs[0].training_job_name,
        "mlops--s3-20261123-090000-a8cb22ab6cd8342b"
    );
}

#[tokio::test]
async fn without_an_approved_package_the_fallback_image_trains() {
    let create = mock!(Client::create_training_job)
        .match_requests(|req| {
            req.algorithm_specification()
                .and_then(|a| a.training_image())
                == Some(FALLBACK_IMAGE)
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    let (describe, list, package) = (no_job_yet(), no_approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[("RETRAIN_FALLBACK_IMAGE", FALLBACK_IMAGE)]),
        invocation(sample("s3-object-created.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Started);
    assert_eq!(
        outcome.training_jobs[0].image.as_deref(),
        Some(FALLBACK_IMAGE)
    );
    assert_eq!(package.num_calls(), 0);
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn without_an_approved_package_or_a_fallback_new_data_is_skipped_not_failed() {
    let (describe, list, create) = (no_job_yet(), no_approved_package(), created());
    let sagemaker = client(&[&describe, &list, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();

    // Data uploaded before the first approval is no error: no on-failure
    // queue, no alarm; the reason says what will make it retrain.
    assert_eq!(outcome.action, Action::Skipped);
    let reason = outcome.reason.unwrap();
    assert!(
        reason.contains("no approved version in model package group mlops--models"),
        "{reason}"
    );
    assert!(reason.contains("RETRAIN_FALLBACK_IMAGE"), "{reason}");
    assert_eq!(outcome.training_jobs[0].action, Action::Skipped);
    assert!(outcome.records.iter().all(|r| r.action == Action::Skipped));
    assert_eq!(list.num_calls(), 1);
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn a_package_without_a_training_image_uses_its_inference_image() {
    use aws_sdk_sagemaker::types::{InferenceSpecification, ModelPackageContainerDefinition};
    let package = mock!(Client::describe_model_package).then_output(|| {
        DescribeModelPackageOutput::builder()
            .inference_specification(
                InferenceSpecification::builder()
                    .containers(
                        ModelPackageContainerDefinition::builder()
                            .image(APPROVED_IMAGE)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let (describe, list, create) = (no_job_yet(), approved_package(), created());
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.training_jobs[0].image.as_deref(),
        Some(APPROVED_IMAGE)
    );
}

#[tokio::test]
async fn a_window_already_started_costs_one_call() {
    let (describe, list, package, create) = (
        job_exists(),
        approved_package(),
        package_description(),
        created(),
    );
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-encoded-key.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(outcome.reason.as_deref(), Some("already started"));
    assert_eq!(outcome.records[0].key, "data/train/Happy Face(1).csv");
    assert_eq!(
        outcome.records[0].reason.as_deref(),
        Some("already started")
    );
    assert_eq!(describe.num_calls(), 1);
    for rule in [&list, &package, &create] {
        assert_eq!(rule.num_calls(), 0);
    }
}

#[tokio::test]
async fn resource_in_use_means_another_invocation_started_the_window() {
    let create = mock!(Client::create_training_job).then_error(|| {
        CreateTrainingJobError::ResourceInUse(
            ResourceInUse::builder()
                .message("Training job names must be unique within an AWS account and region")
                .build(),
        )
    });
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(outcome.reason.as_deref(), Some("already started"));
    assert_eq!(
        outcome.training_jobs[0].image.as_deref(),
        Some(APPROVED_IMAGE)
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn throttling_is_retried_then_a_retryable_error() {
    let create = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap_err();

    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.aws_code(), Some("ThrottlingException"));
    assert_eq!(create.num_calls(), 3);
}

#[tokio::test]
async fn throttled_lookups_fail_retryably_before_any_job() {
    let list = mock!(Client::list_model_packages)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let (describe, create) = (no_job_yet(), created());
    let sagemaker = client(&[&describe, &list, &create]);

    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap_err();

    assert!(err.is_retryable(), "{err}");
    assert_eq!(list.num_calls(), 3);
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn a_throttled_then_recovered_call_starts_the_job() {
    let create = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| aws_error(503, "ServiceUnavailable", "Service unavailable"))
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        })
        .build();
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Started);
    assert_eq!(create.num_calls(), 2);
}

#[tokio::test]
async fn objects_that_are_not_new_data_are_skipped_without_calls() {
    let cases = [
        (
            "s3-notification-other-prefix.json",
            format!("key is not under the data prefix s3://{BUCKET}/data/train/"),
        ),
        (
            "s3-notification-folder-marker.json",
            "folder marker (key ends with /)".to_string(),
        ),
        (
            "s3-notification-delete.json",
            "ObjectRemoved:Delete is not an object creation".to_string(),
        ),
    ];
    for (file, reason) in cases {
        let (describe, create) = (no_job_yet(), created());
        let sagemaker = client(&[&describe, &create]);
        let outcome = handle(&sagemaker, &config(&[]), invocation(sample(file)))
            .await
            .unwrap();
        assert_eq!(outcome.action, Action::Skipped, "{file}");
        assert_eq!(outcome.reason.as_deref(), Some(&*reason), "{file}");
        assert_eq!(
            outcome.records[0].reason.as_deref(),
            Some(&*reason),
            "{file}"
        );
        assert!(outcome.training_jobs.is_empty(), "{file}");
        assert_eq!(describe.num_calls() + create.num_calls(), 0, "{file}");
    }

    let other_bucket = config(&[("RETRAIN_DATA_S3_URI", "s3://another-bucket/data/train/")]);
    let sagemaker = client(&[]);
    let outcome = handle(
        &sagemaker,
        &other_bucket,
        invocation(sample("s3-object-created.json")),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.reason.as_deref(),
        Some(&*format!(
            "bucket {BUCKET} is not the data bucket another-bucket"
        ))
    );

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-test-event.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Skipped);
    assert!(outcome.reason.unwrap().starts_with("s3:TestEvent"));
}

#[tokio::test]
async fn many_records_in_one_window_start_one_job_and_say_what_happened_to_each() {
    let (describe, list, package, create) = (
        no_job_yet(),
        approved_package(),
        package_description(),
        created(),
    );
    let sagemaker = client(&[&describe, &list, &package, &create]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-many-records.json")),
    )
    .await
    .unwrap();

    assert_eq!(outcome.action, Action::Started);
    assert_eq!(outcome.training_jobs.len(), 1);
    assert_eq!(outcome.training_jobs[0].objects, 3);
    let actions: Vec<(&str, Action)> = outcome
        .records
        .iter()
        .map(|r| (r.key.as_str(), r.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("data/train/part-00001.csv", Action::Started),
            ("data/train/part-00002.csv", Action::Started),
            ("data/train/Happy Face(1).csv", Action::Started),
            ("logs/ingest-2026-11-23.log", Action::Skipped),
        ]
    );
    assert_eq!(create.num_calls(), 1);
    assert_eq!(describe.num_calls(), 1);
}

fn object(key: &str, time: &str) -> NewObject {
    NewObject {
        event_name: "ObjectCreated:Put".into(),
        created: true,
        bucket: BUCKET.into(),
        key: key.into(),
        size: Some(10),
        time: DateTime::parse_from_rfc3339(time).unwrap().to_utc(),
    }
}

#[tokio::test]
async fn records_in_two_windows_start_two_jobs() {
    let (describe, list, package, create) = (
        no_job_yet(),
        approved_package(),
        package_description(),
        created(),
    );
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let objects = [
        object("data/train/a.csv", "2026-11-23T09:59:59.900Z"),
        object("data/train/b.csv", "2026-11-23T10:00:00.000Z"),
        object("data/train/c.csv", "2026-11-23T10:30:00.000Z"),
    ];

    let outcome = retrain(&sagemaker, &config(&[]), &objects).await.unwrap();

    let windows: Vec<(&str, usize)> = outcome
        .training_jobs
        .iter()
        .map(|j| (j.window_start.as_str(), j.objects))
        .collect();
    assert_eq!(
        windows,
        [("2026-11-23T09:00:00Z", 1), ("2026-11-23T10:00:00Z", 2)]
    );
    assert_ne!(
        outcome.training_jobs[0].training_job_name,
        outcome.training_jobs[1].training_job_name
    );
    assert_eq!(create.num_calls(), 2);
    // The image is looked up once for the whole event.
    assert_eq!(list.num_calls(), 1);
    assert_eq!(package.num_calls(), 1);
}

#[test]
fn job_names_are_the_window_and_the_data() {
    let config = config(&[]);
    let name = |time: &str| {
        let object = object("data/train/x.csv", time);
        let channel = data_channel(&config, &object);
        job_name(&config, &channel, &Window::containing(object.time, 3600)).to_string()
    };
    let start = name("2026-11-23T09:00:00Z");
    assert_eq!(start, name("2026-11-23T09:59:59.999Z"));
    assert_ne!(start, name("2026-11-23T10:00:00Z"));
    assert_ne!(start, name("2026-11-23T08:59:59.999Z"));
    assert!(start.starts_with("mlops--s3-20261123-090000-"), "{start}");
    assert!(shared::names::is_valid_sagemaker_name(&start), "{start}");

    // Another data channel in the same window is another job.
    let other = RetrainConfig {
        data_channel: DataChannel::ObjectPrefix,
        ..config.clone()
    };
    let object = object("data/train/2026-11-23/x.csv", "2026-11-23T09:00:00Z");
    let channel = data_channel(&other, &object);
    assert_eq!(
        channel.s3_uri,
        format!("s3://{BUCKET}/data/train/2026-11-23/")
    );
    assert_ne!(
        job_name(&other, &channel, &Window::containing(object.time, 3600)).to_string(),
        start
    );
}

#[tokio::test]
async fn a_marker_suffix_picks_the_objects_and_the_channel_can_be_its_folder() {
    let create = mock!(Client::create_training_job)
        .match_requests(|req| {
            let source = req.input_data_config()[0]
                .data_source()
                .and_then(|d| d.s3_data_source())
                .unwrap();
            source.s3_uri() == Some(&*format!("s3://{BUCKET}/data/train/2026-11-23/"))
                && source.s3_data_type().map(|t| t.as_str()) == Some("S3Prefix")
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let config = config(&[
        ("RETRAIN_KEY_SUFFIX", "_SUCCESS"),
        ("RETRAIN_DATA_CHANNEL", "object-prefix"),
    ]);

    // The zero-byte marker is what counts, not a folder.
    let outcome = handle(
        &sagemaker,
        &config,
        invocation(sample("s3-object-created-success-marker.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Started);

    let outcome = handle(
        &sagemaker,
        &config,
        invocation(sample("s3-object-created.json")),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.reason.as_deref(),
        Some("key does not end with RETRAIN_KEY_SUFFIX _SUCCESS")
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn a_manifest_channel_points_at_the_manifest() {
    let create = mock!(Client::create_training_job)
        .match_requests(|req| {
            let channel = &req.input_data_config()[0];
            let source = channel
                .data_source()
                .and_then(|d| d.s3_data_source())
                .unwrap();
            source.s3_uri() == Some(&*format!("s3://{BUCKET}/data/train/2026-11-23/_SUCCESS"))
                && source.s3_data_type().map(|t| t.as_str()) == Some("ManifestFile")
                && channel.input_mode() == Some(&TrainingInputMode::File)
        })
        .then_output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(JOB_ARN)
                .build()
        });
    let (describe, list, package) = (no_job_yet(), approved_package(), package_description());
    let sagemaker = client(&[&describe, &list, &package, &create]);
    let config = config(&[
        ("RETRAIN_KEY_SUFFIX", "_SUCCESS"),
        ("RETRAIN_DATA_CHANNEL", "manifest"),
    ]);
    let outcome = handle(
        &sagemaker,
        &config,
        invocation(sample("s3-object-created-success-marker.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Started);
    assert_eq!(create.num_calls(), 1);
}

fn in_progress(names: &'static [&'static str]) -> Rule {
    mock!(Client::list_training_jobs)
        .match_requests(|req| {
            req.status_equals().map(|s| s.as_str()) == Some("InProgress")
                && req.name_contains() == Some("mlops--")
        })
        .then_output(move || {
            let mut output = ListTrainingJobsOutput::builder();
            for name in names {
                output = output.training_job_summaries(
                    TrainingJobSummary::builder()
                        .training_job_name(*name)
                        .training_job_status(TrainingJobStatus::InProgress)
                        .build(),
                );
            }
            output.build()
        })
}

#[tokio::test]
async fn optionally_a_running_job_of_the_pipeline_defers_retraining() {
    let config = config(&[("RETRAIN_SKIP_IF_TRAINING", "true")]);

    let (describe, running, list, create) = (
        no_job_yet(),
        in_progress(&[
            "notmlops--ecr-x-0123456789abcdef",
            "mlops--ecr-v2-0123456789abcdef",
        ]),
        approved_package(),
        created(),
    );
    let sagemaker = client(&[&describe, &running, &list, &create]);
    let outcome = handle(
        &sagemaker,
        &config,
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(
        outcome.reason.as_deref(),
        Some("training job mlops--ecr-v2-0123456789abcdef of this pipeline is in progress")
    );
    assert_eq!(create.num_calls() + list.num_calls(), 0);

    // Another pipeline's job that merely contains our prefix does not count.
    let (describe, running, list, package, create) = (
        no_job_yet(),
        in_progress(&["notmlops--ecr-x-0123456789abcdef"]),
        approved_package(),
        package_description(),
        created(),
    );
    let sagemaker = client(&[&describe, &running, &list, &package, &create]);
    let outcome = handle(
        &sagemaker,
        &config,
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap();
    assert_eq!(outcome.action, Action::Started);
    assert_eq!(running.num_calls(), 1);
}

#[tokio::test]
async fn other_describe_errors_are_not_mistaken_for_a_new_window() {
    let describe = mock!(Client::describe_training_job)
        .sequence()
        .http_response(|| {
            aws_error(
                400,
                "AccessDeniedException",
                "not authorized to perform sagemaker:DescribeTrainingJob",
            )
        })
        .build();
    let create = created();
    let sagemaker = client(&[&describe, &create]);
    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("s3-notification-put.json")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.AwsRejected");
    assert_eq!(create.num_calls(), 0);
}
