//! Handler tests against mocked SageMaker, S3 and EventBridge
//! (aws-smithy-mocks): which calls are made, what is published, and each way
//! a call can fail.

use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, MetricData, ModelArtifacts, OutputDataConfig,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use shared::metrics::{Emf, Stage};

use super::*;

const JOB: &str = "mlops--ecr-mlops-training-b26d3342fea05d4c";
const ARN: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/mlops--ecr-mlops-training-b26d3342fea05d4c";
const BUCKET: &str = "mlops-data-123456789012-us-east-1";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

fn config(extra: &[(&'static str, &'static str)]) -> EvaluateConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    EvaluateConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

/// The mocked AWS side of one test.
struct Aws {
    describe: Rule,
    get_report: Rule,
    put_copy: Rule,
    put_events: Rule,
}

impl Aws {
    fn clients(&self) -> Clients {
        Clients {
            sagemaker: mock_client!(
                aws_sdk_sagemaker,
                RuleMode::MatchAny,
                [&self.describe],
                |c| c.retry_config(RetryConfig::standard().with_max_attempts(3))
            ),
            s3: mock_client!(
                aws_sdk_s3,
                RuleMode::MatchAny,
                [&self.get_report, &self.put_copy]
            ),
            events: mock_client!(
                aws_sdk_eventbridge,
                RuleMode::MatchAny,
                [&self.put_events],
                |c| c.retry_config(
                    aws_sdk_eventbridge::config::retry::RetryConfig::standard()
                        .with_max_attempts(3)
                )
            ),
        }
    }

    fn calls(&self) -> [usize; 4] {
        [
            self.describe.num_calls(),
            self.get_report.num_calls(),
            self.put_copy.num_calls(),
            self.put_events.num_calls(),
        ]
    }
}

fn described(metrics: &[(&str, f32)]) -> Rule {
    let metrics: Vec<(String, f32)> = metrics.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    mock!(aws_sdk_sagemaker::Client::describe_training_job)
        .match_requests(|req| req.training_job_name() == Some(JOB))
        .sequence()
        .output(move || {
            DescribeTrainingJobOutput::builder()
                .training_job_name(JOB)
                .training_job_arn(ARN)
                .algorithm_specification(
                    AlgorithmSpecification::builder()
                        .training_image(IMAGE)
                        .build(),
                )
                .model_artifacts(
                    ModelArtifacts::builder()
                        .s3_model_artifacts(format!(
                            "s3://{BUCKET}/models/{JOB}/output/model.tar.gz"
                        ))
                        .build(),
                )
                .output_data_config(
                    OutputDataConfig::builder()
                        .s3_output_path(format!("s3://{BUCKET}/models/"))
                        .build(),
                )
                .set_final_metric_data_list(Some(
                    metrics
                        .iter()
                        .map(|(n, v)| MetricData::builder().metric_name(n).value(*v).build())
                        .collect(),
                ))
                .build()
        })
        .repeatedly()
        .build()
}

fn archive_with_report(report: &str) -> Vec<u8> {
    crate::report::tests::archive(&[("evaluation.json", report.as_bytes())])
}

fn archive_found(report: &'static str) -> Rule {
    let expected_key = format!("models/{JOB}/output/output.tar.gz");
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(move |req| {
            req.bucket() == Some(BUCKET) && req.key() == Some(expected_key.as_str())
        })
        .sequence()
        .output(move || {
            let bytes = archive_with_report(report);
            GetObjectOutput::builder()
                .content_length(bytes.len() as i64)
                .body(ByteStream::from(bytes))
                .build()
        })
        .repeatedly()
        .build()
}

fn no_object() -> Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()))
        .repeatedly()
        .build()
}

fn copy_stored() -> Rule {
    let expected_key = format!("models/{JOB}/output/evaluation.json");
    mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |req| {
            req.bucket() == Some(BUCKET) && req.key() == Some(expected_key.as_str())
        })
        .sequence()
        .output(|| PutObjectOutput::builder().build())
        .repeatedly()
        .build()
}

/// Accepts the event and checks it against `check`.
fn published(check: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Rule {
    mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(move |req| {
            let entry = &req.entries()[0];
            let detail: Value = serde_json::from_str(entry.detail().unwrap()).unwrap();
            req.entries().len() == 1
                && entry.event_bus_name() == Some("mlops-bus")
                && entry.source() == Some("mlops.pipeline")
                && entry.detail_type() == Some("Model Evaluation Completed")
                && entry.resources() == [ARN]
                && check(&detail)
        })
        .sequence()
        .output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(0)
                .entries(PutEventsResultEntry::builder().event_id("event-1").build())
                .build()
        })
        .repeatedly()
        .build()
}

async fn run(
    aws: &Aws,
    config: &EvaluateConfig,
    file: &str,
) -> Result<EvaluateOutcome, PipelineError> {
    handle(&aws.clients(), config, invocation(sample(file))).await
}

#[tokio::test]
async fn a_passing_job_publishes_metrics_verdicts_and_the_report_copy() {
    let aws = Aws {
        describe: described(&[("validation:rmse", 2.5)]),
        get_report: archive_found(r#"{"regression_metrics":{"r2":{"value":0.91}}}"#),
        put_copy: copy_stored(),
        put_events: published(|d| {
            d["passed"] == true
                && d["pipeline"] == "mlops"
                && d["training_job_name"] == JOB
                && d["training_job_arn"] == ARN
                && d["training_job_status"] == "Completed"
                && d["image"] == IMAGE
                && d["model_artifacts"] == format!("s3://{BUCKET}/models/{JOB}/output/model.tar.gz")
                && d["metrics"]["validation:rmse"] == 2.5
                && d["metrics"]["regression_metrics.r2"] == 0.91
                && d["thresholds"][0]
                    == json!({"metric":"validation:rmse","comparison":"<=","threshold":3.5,"actual":2.5,"passed":true})
                && d["thresholds"][1]["passed"] == true
                && d.get("reason").is_none()
                && d["evaluation_report"]
                    == format!("s3://{BUCKET}/models/{JOB}/output/evaluation.json")
        }),
    };
    let outcome = run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap();
    assert_eq!(
        outcome,
        EvaluateOutcome::Evaluated {
            training_job_name: JOB.into(),
            passed: true,
            reason: None,
            gated_metrics: BTreeMap::from([
                ("validation:rmse".to_string(), 2.5),
                ("regression_metrics.r2".to_string(), 0.91)
            ]),
            event_id: "event-1".into(),
        }
    );
    assert_eq!(aws.calls(), [1, 1, 1, 1]);

    // Its metrics: the verdict, and each gated metric's value by name.
    let emf = Emf::new("mlops", Stage::Evaluate);
    let documents = emf.documents(&outcome.measures(), 0);
    let of = |key: &str, value: &str| {
        documents
            .iter()
            .find(|d| d[key] == value)
            .unwrap_or_else(|| panic!("no {key}={value} in {documents:?}"))
    };
    assert_eq!(of("Metric", "validation:rmse")["ModelQuality"], 2.5);
    assert_eq!(of("Metric", "regression_metrics.r2")["ModelQuality"], 0.91);
    let verdict = of("Stage", "evaluate");
    assert_eq!(verdict["EvaluationsPassed"], 1.0);
    assert_eq!(verdict["Started"], 1.0);
    assert_eq!(verdict["training_job_name"], JOB);
}

#[tokio::test]
async fn without_a_report_a_report_metric_is_missing_and_fails() {
    let aws = Aws {
        describe: described(&[("validation:rmse", 2.5)]),
        get_report: no_object(),
        put_copy: copy_stored(),
        put_events: published(|d| {
            d["passed"] == false
                && d["reason"] == "metric regression_metrics.r2 not found"
                && d["evaluation_report"].is_null()
                && d["thresholds"][1]["actual"].is_null()
        }),
    };
    let outcome = run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        EvaluateOutcome::Evaluated { passed: false, .. }
    ));
    assert_eq!(aws.calls(), [1, 1, 0, 1]);
}

#[tokio::test]
async fn a_threshold_not_met_fails_with_the_values() {
    let aws = Aws {
        describe: described(&[("validation:rmse", 4.0)]),
        get_report: archive_found(r#"{"regression_metrics":{"r2":{"value":"NaN"}}}"#),
        put_copy: copy_stored(),
        put_events: published(|d| {
            d["passed"] == false
                && d["reason"] == "validation:rmse = 4, required validation:rmse <= 3.5; metric regression_metrics.r2 is NaN"
        }),
    };
    let outcome = run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        EvaluateOutcome::Evaluated { passed: false, .. }
    ));
}

#[tokio::test]
async fn an_unreadable_report_fails_the_evaluation_with_the_reason() {
    let aws = Aws {
        describe: described(&[("validation:rmse", 2.5)]),
        get_report: archive_found("{broken"),
        put_copy: copy_stored(),
        put_events: published(|d| {
            d["passed"] == false
                && d["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("evaluation.json in s3://")
                && d["reason"].as_str().unwrap().contains("is not valid JSON")
        }),
    };
    run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap();
    assert_eq!(aws.calls(), [1, 1, 0, 1]);
}

#[tokio::test]
async fn a_configured_report_location_is_read_directly() {
    let report_key = format!("reports/{JOB}/evaluation.json");
    let aws = Aws {
        describe: described(&[]),
        get_report: mock!(aws_sdk_s3::Client::get_object)
            .match_requests(move |req| {
                req.bucket() == Some("reports-bucket") && req.key() == Some(report_key.as_str())
            })
            .sequence()
            .output(|| {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(
                        br#"{"validation:rmse": 1.0, "regression_metrics": {"r2": 0.95}}"#,
                    ))
                    .build()
            })
            .build(),
        put_copy: copy_stored(),
        put_events: published(|d| d["passed"] == true && d["metrics"]["validation:rmse"] == 1.0),
    };
    let config = config(&[(
        "EVALUATION_REPORT_S3_URI",
        "s3://reports-bucket/reports/{training_job_name}/evaluation.json",
    )]);
    run(&aws, &config, "training-job-completed.json")
        .await
        .unwrap();
    assert_eq!(aws.calls(), [1, 1, 1, 1]);
}

#[tokio::test]
async fn failed_and_stopped_jobs_publish_a_failure_without_lookups() {
    for (file, expected) in [
        (
            "training-job-failed.json",
            "training job Failed: AlgorithmError: ExecuteUserScriptError",
        ),
        ("training-job-stopped.json", "training job Stopped"),
    ] {
        let aws = Aws {
            describe: described(&[]),
            get_report: no_object(),
            put_copy: copy_stored(),
            put_events: published(move |d| {
                d["passed"] == false
                    && d["reason"].as_str().unwrap().starts_with(expected)
                    && d["image"] == IMAGE
                    && d["thresholds"] == json!([])
            }),
        };
        let outcome = run(&aws, &config(&[]), file).await.unwrap();
        assert!(
            matches!(outcome, EvaluateOutcome::Evaluated { passed: false, .. }),
            "{file}"
        );
        assert_eq!(aws.calls(), [0, 0, 0, 1], "{file}");
    }
}

#[tokio::test]
async fn unfinished_and_foreign_jobs_are_skipped_without_calls() {
    for (file, reason) in [
        ("training-job-in-progress.json", "training job status InProgress is not final"),
        (
            "training-job-other-pipeline.json",
            "training job churn--ecr-churn-model-5e0d7c1a9b3f2468 is not one of pipeline mlops's (prefix mlops--)",
        ),
    ] {
        let aws = Aws {
            describe: described(&[]),
            get_report: no_object(),
            put_copy: copy_stored(),
            put_events: published(|_| true),
        };
        let outcome = run(&aws, &config(&[]), file).await.unwrap();
        let EvaluateOutcome::Skipped { reason: got, .. } = outcome else {
            panic!("{file}: {outcome:?}");
        };
        assert_eq!(got, reason);
        assert_eq!(aws.calls(), [0, 0, 0, 0], "{file}");
    }
}

#[tokio::test]
async fn the_job_name_field_is_authoritative_over_the_arn() {
    // As in AWS's documentation sample: the ARN names another job.
    let mut event = sample("training-job-completed.json");
    event["detail"]["TrainingJobArn"] =
        json!("arn:aws:sagemaker:us-east-1:123456789012:training-job/something-else");
    let aws = Aws {
        describe: described(&[("validation:rmse", 1.0)]),
        get_report: archive_found(r#"{"regression_metrics":{"r2":{"value":0.9}}}"#),
        put_copy: copy_stored(),
        put_events: published(|d| d["training_job_name"] == JOB),
    };
    let outcome = handle(&aws.clients(), &config(&[]), invocation(event))
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        EvaluateOutcome::Evaluated { passed: true, .. }
    ));
    // And a lower-cased ARN (as SageMaker writes them) is simply the same job.
    let mut event = sample("training-job-completed.json");
    event["detail"]["TrainingJobArn"] = json!(ARN.to_lowercase());
    handle(&aws.clients(), &config(&[]), invocation(event))
        .await
        .unwrap();
    assert_eq!(aws.describe.num_calls(), 2);
}

#[tokio::test]
async fn a_failed_put_events_entry_is_a_retryable_error() {
    let aws = Aws {
        describe: described(&[("validation:rmse", 1.0)]),
        get_report: no_object(),
        put_copy: copy_stored(),
        put_events: mock!(aws_sdk_eventbridge::Client::put_events)
            .sequence()
            .output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(1)
                    .entries(
                        PutEventsResultEntry::builder()
                            .error_code("InternalFailure")
                            .error_message("try again")
                            .build(),
                    )
                    .build()
            })
            .build(),
    };
    let err = run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.AwsTransient");
    assert_eq!(err.aws_code(), Some("InternalFailure"));
    assert_eq!(aws.put_events.num_calls(), 1);
}

#[tokio::test]
async fn throttled_describe_is_retried_then_a_retryable_error() {
    let aws = Aws {
        describe: mock!(aws_sdk_sagemaker::Client::describe_training_job)
            .sequence()
            .http_response(|| aws_error(400, "ThrottlingException", "injected"))
            .times(3)
            .build(),
        get_report: no_object(),
        put_copy: copy_stored(),
        put_events: published(|_| true),
    };
    let err = run(&aws, &config(&[]), "training-job-completed.json")
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(aws.calls(), [3, 0, 0, 0]);
}

#[tokio::test]
async fn malformed_events_are_non_retryable() {
    let mut missing_status = sample("training-job-completed.json");
    missing_status["detail"]
        .as_object_mut()
        .unwrap()
        .remove("TrainingJobStatus");
    let mut wrong_type = sample("training-job-completed.json");
    wrong_type["detail-type"] = json!("ECR Image Action");
    for (payload, expected) in [
        (missing_status, "TrainingJobStatus"),
        (wrong_type, "expected source \"aws.sagemaker\""),
        (json!([]), "expected struct EventBridgeEvent"),
    ] {
        let aws = Aws {
            describe: described(&[]),
            get_report: no_object(),
            put_copy: copy_stored(),
            put_events: published(|_| true),
        };
        let err = handle(&aws.clients(), &config(&[]), invocation(payload))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
        assert!(err.to_string().contains(expected), "{err}");
    }
}
