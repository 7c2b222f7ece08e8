//! What the integration tests share: each stage's configuration, the
//! events it receives, and read-backs of what it made.
#![allow(dead_code)] // each test crate uses a part

use std::io::Write;

use chrono::{DateTime, DurationRound, Utc};

use aws_sdk_sagemaker::types::{
    InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
};
use deploy_sagemaker_model::DeployConfig;
use evaluate_model_function::EvaluateConfig;
use integration::Emulator;
use lambda_runtime::{Context, LambdaEvent};
use register_model_in_registry::RegisterConfig;
use retrain_model_on_new_data::RetrainConfig;
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::sample;
use shared::PipelineError;
use trigger_model_training::TriggerConfig;

pub const BUCKET: &str = "mlops-data";
pub const ENDPOINT: &str = "mlops--endpoint";
pub const GROUP: &str = "mlops--models";
const ROLE: &str = "arn:aws:iam::123456789012:role/mlops-sagemaker-execution";

pub fn invocation(payload: &Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload.clone(), Context::default())
}

/// A handler's error is the retryable kind Lambda should retry and the
/// dead-letter queue should keep: `Retryable.*`, also as Lambda records it.
#[track_caller]
pub fn assert_retryable(err: PipelineError) {
    assert!(err.is_retryable(), "not retryable: {err} ({err:?})");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert!(
        diagnostic.error_type.starts_with("Retryable."),
        "{diagnostic:?}"
    );
}

// --- trigger_model_training ------------------------------------------------

pub fn trigger_config() -> TriggerConfig {
    TriggerConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("ECR_REPOSITORY_NAME", "mlops-training"),
        ("SAGEMAKER_ROLE_ARN", ROLE),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data/data/train/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-data/models/"),
    ]))
    .expect("valid trigger configuration")
}

pub fn push_event() -> Value {
    sample("ecr-push.json")
}

pub async fn training_jobs(sagemaker: &aws_sdk_sagemaker::Client) -> Vec<String> {
    let mut names: Vec<String> = sagemaker
        .list_training_jobs()
        .max_results(100)
        .send()
        .await
        .expect("ListTrainingJobs")
        .training_job_summaries()
        .iter()
        .filter_map(|job| job.training_job_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

// --- retrain_model_on_new_data ---------------------------------------------

pub const FALLBACK_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// retrain's schedule group and queue (the schedules' target) in the emulator.
pub const RETRAIN_SCHEDULE_GROUP: &str = "mlops-retraining";
pub const RETRAIN_QUEUE: &str = "mlops-retrain";
pub const RETRAIN_QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:mlops-retrain";

pub fn retrain_config() -> RetrainConfig {
    RetrainConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("SAGEMAKER_ROLE_ARN", ROLE),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data/data/train/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-data/models/"),
        ("RETRAIN_DATA_S3_URI", "s3://mlops-data/data/train/"),
        ("RETRAIN_FALLBACK_IMAGE", FALLBACK_IMAGE),
        ("RETRAIN_SCHEDULE_GROUP", RETRAIN_SCHEDULE_GROUP),
        ("RETRAIN_SCHEDULE_TARGET_ARN", RETRAIN_QUEUE_ARN),
        (
            "RETRAIN_SCHEDULE_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-retrain-scheduler",
        ),
    ]))
    .expect("valid retrain configuration")
}

/// What the template creates for retrain: its schedule group and its queue.
/// Returns the queue's URL.
pub async fn retrain_setup(emulator: &Emulator) -> String {
    let sdk = emulator.sdk_config().await;
    aws_sdk_scheduler::Client::new(&sdk)
        .create_schedule_group()
        .name(RETRAIN_SCHEDULE_GROUP)
        .send()
        .await
        .expect("CreateScheduleGroup");
    aws_sdk_sqs::Client::new(&sdk)
        .create_queue()
        .queue_name(RETRAIN_QUEUE)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL")
}

pub async fn retrain_clients(emulator: &Emulator) -> retrain_model_on_new_data::Clients {
    let sdk = emulator.sdk_config().await;
    retrain_model_on_new_data::Clients {
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
        scheduler: aws_sdk_scheduler::Client::new(&sdk),
    }
}

/// The whole minute `minutes` from now (UTC).
pub fn minute_from_now(minutes: i64) -> DateTime<Utc> {
    let now = Utc::now() + chrono::Duration::minutes(minutes);
    now.duration_trunc(chrono::Duration::minutes(1))
        .expect("a time chrono can round")
}

/// `2026-11-23T09:15:00Z`, as S3's events write times.
pub fn instant(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// S3's EventBridge "Object Created" (the sample's shape) for `key` in the
/// data bucket at event time `time`.
pub fn object_created(key: &str, time: &str) -> Value {
    let mut event = sample("s3-object-created.json");
    event["time"] = json!(time);
    event["resources"] = json!([format!("arn:aws:s3:::{BUCKET}")]);
    event["detail"]["bucket"]["name"] = json!(BUCKET);
    event["detail"]["object"]["key"] = json!(key);
    event
}

/// A batch from retrain's queue (the sample's, `RETRAIN_QUEUE_ARN`), as the
/// event source mapping delivers it: one message per event, ids `m0`, ...
pub fn sqs_batch(events: &[Value]) -> Value {
    let bodies: Vec<String> = events.iter().map(Value::to_string).collect();
    shared::test_support::sqs_batch(&bodies)
}

/// The names of retrain's schedules in the emulator.
pub async fn retrain_schedules(emulator: &Emulator) -> Vec<String> {
    let sdk = emulator.sdk_config().await;
    let mut names: Vec<String> = aws_sdk_scheduler::Client::new(&sdk)
        .list_schedules()
        .group_name(RETRAIN_SCHEDULE_GROUP)
        .send()
        .await
        .expect("ListSchedules")
        .schedules()
        .iter()
        .filter_map(|s| s.name().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The message a retrain schedule sends when due, read from the schedule.
pub async fn due_message(emulator: &Emulator, name: &str) -> Value {
    let sdk = emulator.sdk_config().await;
    let schedule = aws_sdk_scheduler::Client::new(&sdk)
        .get_schedule()
        .group_name(RETRAIN_SCHEDULE_GROUP)
        .name(name)
        .send()
        .await
        .expect("GetSchedule");
    serde_json::from_str(
        schedule
            .target()
            .expect("a target")
            .input()
            .expect("an input"),
    )
    .expect("the input is JSON")
}

// --- evaluate_model_function -----------------------------------------------

/// The emulator's S3 bucket, and an EventBridge rule that sends every
/// evaluation event to an SQS queue, whose URL is returned: what a user would
/// watch.
pub async fn evaluation_watch(emulator: &Emulator) -> String {
    let sdk = emulator.sdk_config().await;
    aws_sdk_s3::Client::new(&sdk)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("evaluations")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL");
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:evaluations";
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events
        .put_rule()
        .name("evaluations")
        .event_pattern(
            json!({"source": ["mlops.pipeline"], "detail-type": ["Model Evaluation Completed"]})
                .to_string(),
        )
        .send()
        .await
        .expect("PutRule");
    events
        .put_targets()
        .rule("evaluations")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .expect("a target"),
        )
        .send()
        .await
        .expect("PutTargets");
    queue_url
}

/// Every evaluation event delivered to the queue so far (each received once).
pub async fn evaluation_events(emulator: &Emulator, queue_url: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let mut events = Vec::new();
    loop {
        let messages = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            return events;
        }
        for message in messages {
            events.push(serde_json::from_str(message.body().unwrap_or("null")).unwrap());
        }
    }
}

/// A training job as trigger_model_training starts it, completed, with the
/// evaluation report its container wrote uploaded where SageMaker puts it.
/// Returns the job's name and ARN.
pub async fn completed_job(emulator: &Emulator, report: &Value) -> (String, String) {
    let sdk = emulator.sdk_config().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
    let outcome =
        trigger_model_training::handle(&sagemaker, &trigger_config(), invocation(&push_event()))
            .await;
    let Ok(trigger_model_training::TriggerOutcome::Started {
        training_job_name: job,
        training_job_arn: arn,
        ..
    }) = outcome
    else {
        panic!("training did not start: {outcome:?}");
    };

    upload_output_archive(&aws_sdk_s3::Client::new(&sdk), &job, report).await;
    (job, arn)
}

/// What the training container writes to /opt/ml/output/data (here one
/// `evaluation.json`), as SageMaker uploads it: `<output>/<job>/output/output.tar.gz`.
pub async fn upload_output_archive(s3: &aws_sdk_s3::Client, job: &str, report: &Value) {
    let body = report.to_string();
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "evaluation.json", body.as_bytes())
        .unwrap();
    let mut gz = archive.into_inner().unwrap();
    gz.flush().unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key(format!("models/{job}/output/output.tar.gz"))
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .expect("PutObject output.tar.gz");
}

/// The state-change event SageMaker sends when the job completes.
pub fn job_completed(job: &str, arn: &str) -> Value {
    let mut event = sample("training-job-completed.json");
    event["detail"]["TrainingJobName"] = json!(job);
    event["detail"]["TrainingJobArn"] = json!(arn);
    event["resources"] = json!([arn]);
    event
}

pub fn evaluate_config() -> EvaluateConfig {
    EvaluateConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("EVALUATION_THRESHOLDS", "rmse <= 3.5"),
    ]))
    .expect("valid evaluate configuration")
}

// --- register_model_in_registry --------------------------------------------

pub fn register_config() -> RegisterConfig {
    RegisterConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")]))
        .expect("valid register configuration")
}

/// A passed evaluation of training job `job` (the sample's, renamed).
pub fn evaluation_passed(job: &str) -> Value {
    let mut event = sample("evaluation-passed.json");
    let arn = format!("arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}");
    event["resources"] = json!([arn]);
    event["detail"]["training_job_name"] = json!(job);
    event["detail"]["training_job_arn"] = json!(arn);
    event["detail"]["model_artifacts"] =
        json!(format!("s3://{BUCKET}/models/{job}/output/model.tar.gz"));
    event["detail"]["evaluation_report"] =
        json!(format!("s3://{BUCKET}/models/{job}/output/evaluation.json"));
    event
}

/// The ARNs of the group's model package versions.
pub async fn versions(sagemaker: &aws_sdk_sagemaker::Client) -> Vec<String> {
    match sagemaker
        .list_model_packages()
        .model_package_group_name(GROUP)
        .send()
        .await
    {
        Ok(list) => list
            .model_package_summary_list()
            .iter()
            .filter_map(|p| p.model_package_arn().map(str::to_string))
            .collect(),
        // No group yet: no version. Any other failure fails the test, so that
        // "nothing registered" is never an error read as nothing.
        Err(err) if shared::sagemaker::is_validation_error(&err, "does not exist") => Vec::new(),
        Err(err) => panic!("ListModelPackages: {err:?}"),
    }
}

// --- deploy_sagemaker_model ------------------------------------------------

pub fn deploy_config() -> DeployConfig {
    DeployConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("SAGEMAKER_ROLE_ARN", ROLE),
        ("DEPLOYMENT_TRAFFIC_ROUTING", "ALL_AT_ONCE"),
        ("AUTOSCALING_MIN_INSTANCES", "1"),
        ("AUTOSCALING_MAX_INSTANCES", "3"),
        ("AUTOSCALING_TARGET_INVOCATIONS", "500"),
    ]))
    .expect("valid deploy configuration")
}

/// A version registered as register_model_in_registry does and approved as a
/// user does (the group is created first when needed). Returns (ARN, version).
pub async fn approved_version(sagemaker: &aws_sdk_sagemaker::Client, digit: char) -> (String, i64) {
    let image = format!(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:{}",
        digit.to_string().repeat(64)
    );
    let model_data = format!("s3://{BUCKET}/models/job-{digit}/output/model.tar.gz");
    approved_image(sagemaker, &image, &model_data).await
}

/// A version of `image` serving `model_data`, registered (pending) and then
/// approved as a user does; the group is created first when needed.
pub async fn approved_image(
    sagemaker: &aws_sdk_sagemaker::Client,
    image: &str,
    model_data: &str,
) -> (String, i64) {
    let _ = sagemaker
        .create_model_package_group()
        .model_package_group_name(GROUP)
        .send()
        .await; // already there from an earlier version: fine
    let created = sagemaker
        .create_model_package()
        .model_package_group_name(GROUP)
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image(image)
                        .model_data_url(model_data)
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("text/csv")
                .build(),
        )
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .send()
        .await
        .expect("CreateModelPackage");
    let arn = created.model_package_arn().unwrap().to_string();
    sagemaker
        .update_model_package()
        .model_package_arn(&arn)
        .model_approval_status(ModelApprovalStatus::Approved)
        .send()
        .await
        .expect("UpdateModelPackage");
    let version = arn.rsplit('/').next().unwrap().parse().unwrap();
    (arn, version)
}

/// The "SageMaker Model Package State Change" event for the version.
pub fn decision(arn: &str, version: i64, status: &str) -> Value {
    let mut event = sample("model-package-approved.json");
    event["resources"] = json!([arn]);
    event["detail"]["ModelPackageArn"] = json!(arn);
    event["detail"]["ModelPackageVersion"] = json!(version);
    event["detail"]["ModelPackageName"] = json!(format!("{GROUP}/{version}"));
    event["detail"]["ModelApprovalStatus"] = json!(status);
    event
}

/// The endpoint as the emulator's control sees it (`UpdateCount`,
/// `EndpointConfigName`, `EndpointStatus`, ...), or `None` if there is none.
pub async fn endpoint_state(emulator: &Emulator) -> Option<Value> {
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
    let listed = sagemaker
        .list_endpoints()
        .send()
        .await
        .expect("ListEndpoints");
    if listed.endpoints().is_empty() {
        return None;
    }
    Some(emulator.control(
        "GET",
        &format!("/_emulator/sagemaker/endpoints/{ENDPOINT}"),
        None,
    ))
}

/// How many models and endpoint configurations exist.
pub async fn models_and_configs(sagemaker: &aws_sdk_sagemaker::Client) -> (usize, usize) {
    let models = sagemaker.list_models().send().await.unwrap().models().len();
    let configs = sagemaker
        .list_endpoint_configs()
        .send()
        .await
        .unwrap()
        .endpoint_configs()
        .len();
    (models, configs)
}

/// The endpoint's tags, by key (none when there is no endpoint).
pub async fn endpoint_tags(
    sagemaker: &aws_sdk_sagemaker::Client,
) -> std::collections::HashMap<String, String> {
    let Ok(endpoint) = sagemaker
        .describe_endpoint()
        .endpoint_name(ENDPOINT)
        .send()
        .await
    else {
        return Default::default();
    };
    let arn = endpoint.endpoint_arn().unwrap_or_default();
    shared::sagemaker::endpoint::list_tags(sagemaker, arn)
        .await
        .unwrap_or_default()
}

/// The value of the endpoint's `mlops:model-package-version` tag.
pub async fn endpoint_version_tag(sagemaker: &aws_sdk_sagemaker::Client) -> Option<String> {
    endpoint_tags(sagemaker)
        .await
        .remove("mlops:model-package-version")
}
