//! retrain_model_on_new_data end to end: the real handler and the real
//! SageMaker SDK against the emulator, which refuses a second training job of
//! the same name as SageMaker does. A burst of 1,000 new objects in one
//! window, delivered to 25 invocations, many of them at once, starts exactly
//! one job; objects in two windows start two.

use std::sync::Arc;

mod common;
use common::training_jobs;

use aws_sdk_sagemaker::types::{
    InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
};
use integration::{repo_root, Emulator};
use lambda_runtime::{Context, LambdaEvent};
use retrain_model_on_new_data::{handle, Action, RetrainConfig, RetrainOutcome};
use serde_json::{json, Value};
use shared::config::EnvReader;
use tokio::task::JoinSet;

const BUCKET: &str = "mlops-data-123456789012-us-east-1";
const FALLBACK_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const APPROVED_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

fn config(extra: &[(&'static str, &'static str)]) -> RetrainConfig {
    let mut vars = vec![
        ("PIPELINE_NAME", "mlops"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data-123456789012-us-east-1/data/train/","content_type":"text/csv"},
               {"name":"validation","s3_uri":"s3://mlops-data-123456789012-us-east-1/data/validation/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-artifacts/models/"),
        (
            "RETRAIN_DATA_S3_URI",
            "s3://mlops-data-123456789012-us-east-1/data/train/",
        ),
    ];
    vars.extend_from_slice(extra);
    RetrainConfig::from_reader(EnvReader::from_vars(vars)).expect("valid configuration")
}

/// One S3 notification with a record per `(key, event time)`, each record
/// shaped like the sample in events/.
fn notification(objects: &[(String, String)]) -> LambdaEvent<Value> {
    let path = repo_root().join("events/s3-notification-put.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records: Vec<Value> = objects
        .iter()
        .map(|(key, time)| {
            let mut record = sample["Records"][0].clone();
            record["eventTime"] = json!(time);
            record["s3"]["object"]["key"] = json!(key);
            record
        })
        .collect();
    LambdaEvent::new(json!({ "Records": records }), Context::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_a_thousand_objects_in_one_window_starts_exactly_one_job() {
    let emulator = Emulator::start().await;
    let sagemaker = Arc::new(aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await));
    let config = Arc::new(config(&[("RETRAIN_FALLBACK_IMAGE", FALLBACK_IMAGE)]));

    // 1,000 objects over the 09:00 hour (URL-encoded keys, as S3 sends
    // them), as 25 notifications of 40 records.
    let objects: Vec<(String, String)> = (0..1000)
        .map(|i| {
            (
                format!("data/train/batch+{:02}/part-{i:04}.csv", i / 40),
                format!(
                    "2026-11-23T09:{:02}:{:02}.{:03}Z",
                    i * 3599 / 1000 / 60,
                    i * 3599 / 1000 % 60,
                    i % 1000
                ),
            )
        })
        .collect();
    let events: Vec<LambdaEvent<Value>> = objects.chunks(40).map(notification).collect();
    assert_eq!(events.len(), 25);

    // The first five one after another, the other twenty all at once.
    let mut outcomes: Vec<RetrainOutcome> = Vec::new();
    let mut events = events.into_iter();
    for event in events.by_ref().take(5) {
        outcomes.push(handle(&sagemaker, &config, event).await.expect("handled"));
    }
    let mut concurrent = JoinSet::new();
    for event in events {
        let (sagemaker, config) = (Arc::clone(&sagemaker), Arc::clone(&config));
        concurrent.spawn(async move { handle(&sagemaker, &config, event).await });
    }
    while let Some(joined) = concurrent.join_next().await {
        outcomes.push(joined.expect("invocation task").expect("handled"));
    }
    assert_eq!(outcomes.len(), 25);

    let jobs = training_jobs(&sagemaker).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let name = &jobs[0];
    assert!(name.starts_with("mlops--s3-20261123-090000-"), "{name}");

    let started: Vec<&RetrainOutcome> = outcomes
        .iter()
        .filter(|o| o.action == Action::Started)
        .collect();
    assert_eq!(started.len(), 1, "exactly one invocation starts the job");
    assert_eq!(
        started[0].training_jobs[0].image.as_deref(),
        Some(FALLBACK_IMAGE)
    );
    let records: Vec<_> = outcomes.iter().flat_map(|o| &o.records).collect();
    assert_eq!(records.len(), 1000);
    for record in &records {
        assert_eq!(record.training_job_name.as_ref(), Some(name), "{record:?}");
        assert!(
            record.action == Action::Started || record.reason.as_deref() == Some("already started"),
            "{record:?}"
        );
    }
    assert!(records
        .iter()
        .any(|r| r.key == "data/train/batch 00/part-0000.csv"));

    // The job reads the whole dataset prefix, with the configured channels.
    let job = sagemaker
        .describe_training_job()
        .training_job_name(name)
        .send()
        .await
        .expect("DescribeTrainingJob");
    let channels = job.input_data_config();
    assert_eq!(channels.len(), 2);
    assert_eq!(
        channels[0]
            .data_source()
            .and_then(|d| d.s3_data_source())
            .and_then(|s| s.s3_uri()),
        Some(&*format!("s3://{BUCKET}/data/train/"))
    );
    let tags = shared::sagemaker::endpoint::list_tags(&sagemaker, job.training_job_arn().unwrap())
        .await
        .expect("ListTags");
    let tag = |key: &str| tags.get(key).cloned();
    assert_eq!(tag("mlops:trigger").as_deref(), Some("s3"));
    assert_eq!(tag("mlops:s3-bucket").as_deref(), Some(BUCKET));
    assert_eq!(
        tag("mlops:window").as_deref(),
        Some("2026-11-23T09:00:00Z/PT3600S")
    );
    assert!(tag("mlops:s3-key").is_some_and(|key| key.starts_with("data/train/batch 00/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_in_two_windows_start_two_jobs_on_the_approved_image() {
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
    // No fallback: the image must come from the registry.
    let config = config(&[]);

    // Before anything is approved there is nothing to retrain: data uploaded
    // first (as the first training needs) is skipped with the reason, no error.
    let early = notification(&[("data/train/a.csv".into(), "2026-11-23T08:30:00Z".into())]);
    let outcome = handle(&sagemaker, &config, early.clone())
        .await
        .expect("skipped");
    assert_eq!(outcome.action, Action::Skipped);
    let reason = outcome.reason.clone().unwrap_or_default();
    assert!(reason.contains("no approved version"), "{reason}");
    assert!(training_jobs(&sagemaker).await.is_empty());

    // An approved version, registered as register_model_in_registry does.
    sagemaker
        .create_model_package_group()
        .model_package_group_name("mlops--models")
        .send()
        .await
        .expect("CreateModelPackageGroup");
    sagemaker
        .create_model_package()
        .model_package_group_name("mlops--models")
        .model_approval_status(ModelApprovalStatus::Approved)
        .customer_metadata_properties("training_image", APPROVED_IMAGE)
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-inference:1")
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("text/csv")
                .build(),
        )
        .send()
        .await
        .expect("CreateModelPackage");

    let event = notification(&[
        ("data/train/a.csv".into(), "2026-11-23T09:59:59.999Z".into()),
        ("data/train/b.csv".into(), "2026-11-23T10:00:00.000Z".into()),
    ]);
    let outcome = handle(&sagemaker, &config, event).await.expect("handled");
    assert_eq!(outcome.action, Action::Started);
    assert_eq!(outcome.training_jobs.len(), 2);
    for job in &outcome.training_jobs {
        assert_eq!(job.action, Action::Started);
        assert_eq!(job.image.as_deref(), Some(APPROVED_IMAGE));
    }
    let jobs = training_jobs(&sagemaker).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(
        jobs[0].starts_with("mlops--s3-20261123-090000-"),
        "{jobs:?}"
    );
    assert!(
        jobs[1].starts_with("mlops--s3-20261123-100000-"),
        "{jobs:?}"
    );

    // The early window's data retrains once a version is approved (its job
    // was never created), e.g. when S3 delivers the event again.
    let outcome = handle(&sagemaker, &config, early).await.expect("handled");
    assert_eq!(outcome.action, Action::Started);
    assert_eq!(training_jobs(&sagemaker).await.len(), 3);

    // A later object in the 10:00 window joins the job already started.
    let late = notification(&[("data/train/c.csv".into(), "2026-11-23T10:59:00Z".into())]);
    let outcome = handle(&sagemaker, &config, late).await.expect("handled");
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(outcome.reason.as_deref(), Some("already started"));
    assert_eq!(training_jobs(&sagemaker).await.len(), 3);
}
