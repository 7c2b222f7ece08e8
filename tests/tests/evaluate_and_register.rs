//! trigger → evaluate → register against the emulator, with the real
//! handlers and the real SDK: the job trigger_model_training starts is
//! completed by the emulator, its evaluation report is uploaded where
//! SageMaker would put it, the evaluation event is read back through an
//! EventBridge rule with an SQS target, and register_model_in_registry turns
//! it into a model package version that is read back field by field.

use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use evaluate_model_function::{EvaluateConfig, EvaluateOutcome};
use integration::Emulator;
use register_model_in_registry::{RegisterConfig, RegisterOutcome};
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::{invocation, sample};
use trigger_model_training::{TriggerConfig, TriggerOutcome};

mod common;
use common::{job_completed, BUCKET};

struct Pipeline {
    _emulator: Emulator,
    sagemaker: aws_sdk_sagemaker::Client,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    evaluate: evaluate_model_function::Clients,
    queue_url: String,
}

async fn pipeline() -> Pipeline {
    let emulator = Emulator::start().await;
    let sdk = emulator.sdk_config().await;
    // What a user would watch: every evaluation event, through a rule and a queue.
    let queue_url = common::evaluation_watch(&emulator).await;
    Pipeline {
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
        evaluate: evaluate_model_function::Clients::new(&sdk),
        s3: aws_sdk_s3::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        queue_url,
        _emulator: emulator,
    }
}

async fn start_training(p: &Pipeline) -> (String, String) {
    let config = TriggerConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("ECR_REPOSITORY_NAME", "mlops-training"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data/data/train/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-data/models/"),
        (
            "TRAINING_METRIC_DEFINITIONS",
            r#"[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]"#,
        ),
    ]))
    .unwrap();
    match trigger_model_training::handle(&p.sagemaker, &config, invocation(sample("ecr-push.json")))
        .await
    {
        Ok(TriggerOutcome::Started {
            training_job_name,
            training_job_arn,
            ..
        }) => (training_job_name, training_job_arn),
        other => panic!("training did not start: {other:?}"),
    }
}

async fn evaluate(p: &Pipeline, thresholds: &'static str, event: Value) -> EvaluateOutcome {
    let config = EvaluateConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("EVALUATION_THRESHOLDS", thresholds),
    ]))
    .unwrap();
    evaluate_model_function::handle(&p.evaluate, &config, invocation(event))
        .await
        .expect("evaluated")
}

/// The job's evaluation against the example's gate on rmse and r2, which
/// its report passes.
async fn evaluate_passing(p: &Pipeline, job: &str, job_arn: &str) {
    let outcome = evaluate(
        p,
        "regression_metrics.rmse <= 3.5, regression_metrics.r2 >= 0.8",
        job_completed(job, job_arn),
    )
    .await;
    assert!(
        matches!(outcome, EvaluateOutcome::Evaluated { passed: true, .. }),
        "{outcome:?}"
    );
}

/// The one evaluation event the rule delivered to the queue.
async fn published_event(p: &Pipeline) -> Value {
    let messages = p
        .sqs
        .receive_message()
        .queue_url(&p.queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1, "expected exactly one evaluation event");
    serde_json::from_str(messages[0].body().unwrap()).unwrap()
}

async fn register(p: &Pipeline, event: Value) -> RegisterOutcome {
    let config =
        RegisterConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")])).unwrap();
    register_model_in_registry::handle(&p.sagemaker, &config, invocation(event))
        .await
        .expect("registered")
}

async fn described_package(p: &Pipeline, arn: &str) -> DescribeModelPackageOutput {
    p.sagemaker
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .expect("DescribeModelPackage")
}

async fn versions(p: &Pipeline) -> usize {
    common::versions(&p.sagemaker).await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_job_becomes_one_model_package_version() {
    let p = pipeline().await;
    let (job, job_arn) = start_training(&p).await;
    common::upload_output_archive(
        &p.s3,
        &job,
        &json!({"regression_metrics": {"rmse": {"value": 2.9}, "r2": {"value": 0.91}}}),
    )
    .await;

    evaluate_passing(&p, &job, &job_arn).await;

    let event = published_event(&p).await;
    let detail = &event["detail"];
    let report_uri = format!("s3://{BUCKET}/models/{job}/output/evaluation.json");
    assert_eq!(event["detail-type"], "Model Evaluation Completed");
    assert_eq!(event["source"], "mlops.pipeline");
    assert_eq!(detail["passed"], true);
    assert_eq!(detail["training_job_name"], job.as_str());
    assert_eq!(detail["training_job_arn"], job_arn.as_str());
    assert!(detail["image"]
        .as_str()
        .unwrap()
        .contains("/mlops-training@sha256:"));
    assert_eq!(
        detail["model_artifacts"],
        format!("s3://{BUCKET}/models/{job}/output/model.tar.gz")
    );
    assert_eq!(detail["metrics"]["regression_metrics.rmse"], 2.9);
    assert_eq!(detail["thresholds"][1]["actual"], 0.91);
    assert_eq!(detail["evaluation_report"], report_uri.as_str());

    // The report copy is where the registry points.
    let copy =
        p.s3.get_object()
            .bucket(BUCKET)
            .key(format!("models/{job}/output/evaluation.json"))
            .send()
            .await
            .expect("report copy stored");
    let copy: Value =
        serde_json::from_slice(&copy.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(copy["regression_metrics"]["r2"]["value"], 0.91);

    let RegisterOutcome::Registered {
        model_package_arn,
        version,
        approval_status,
        ..
    } = register(&p, event.clone()).await
    else {
        panic!("not registered");
    };
    assert_eq!(version, Some(1));
    assert_eq!(approval_status, "PendingManualApproval");

    let package = described_package(&p, &model_package_arn).await;
    assert_eq!(
        package.model_approval_status(),
        Some(&ModelApprovalStatus::PendingManualApproval)
    );
    let container = &package.inference_specification().unwrap().containers()[0];
    assert_eq!(container.image(), detail["image"].as_str());
    assert_eq!(
        container.model_data_url(),
        detail["model_artifacts"].as_str()
    );
    let statistics = package
        .model_metrics()
        .unwrap()
        .model_quality()
        .unwrap()
        .statistics()
        .unwrap();
    assert_eq!(statistics.s3_uri(), Some(report_uri.as_str()));
    let metadata = package.customer_metadata_properties().unwrap();
    assert_eq!(metadata["training_job_name"], job);
    assert_eq!(metadata["metric:regression_metrics.r2"], "0.91");
    assert!(metadata["image_digest"].starts_with("sha256:"));

    // The same evaluation event again: the same version, not a second one.
    let again = register(&p, event).await;
    assert!(
        matches!(again, RegisterOutcome::Registered { model_package_arn: ref arn, .. } if *arn == model_package_arn)
    );
    assert_eq!(versions(&p).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_published_and_not_registered() {
    let p = pipeline().await;
    let (job, job_arn) = start_training(&p).await;
    common::upload_output_archive(&p.s3, &job, &json!({"rmse": 7.5})).await;

    let outcome = evaluate(&p, "rmse <= 3.5", job_completed(&job, &job_arn)).await;
    assert!(
        matches!(outcome, EvaluateOutcome::Evaluated { passed: false, .. }),
        "{outcome:?}"
    );
    let event = published_event(&p).await;
    assert_eq!(event["detail"]["passed"], false);
    assert_eq!(
        event["detail"]["reason"],
        "rmse = 7.5, required rmse <= 3.5"
    );

    let outcome = register(&p, event).await;
    assert!(
        matches!(outcome, RegisterOutcome::Skipped { .. }),
        "{outcome:?}"
    );
    assert_eq!(versions(&p).await, 0);
}

/// A report of about 3 MB (a metric per validation row): the evaluation event
/// stays within EventBridge's 256 KB (the emulator refuses more, as
/// EventBridge does), carrying the gated metrics, as many others as fit, the
/// count of those left out, and the stored report, which has them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_of_megabytes_gives_a_bounded_event() {
    let p = pipeline().await;
    let (job, job_arn) = start_training(&p).await;
    let rows: serde_json::Map<String, Value> = (0..100_000)
        .map(|i| (format!("row_{i:06}"), json!(i as f64 / 7.0)))
        .collect();
    let report = json!({
        "regression_metrics": {"rmse": {"value": 2.9}, "r2": {"value": 0.91}},
        "per_row_error": rows,
    });
    let report_bytes = report.to_string().len();
    assert!(report_bytes > 2_900_000, "{report_bytes}");
    common::upload_output_archive(&p.s3, &job, &report).await;

    evaluate_passing(&p, &job, &job_arn).await;

    let event = published_event(&p).await;
    let detail = &event["detail"];
    assert!(detail.to_string().len() < 64 * 1024, "detail too large");
    assert_eq!(detail["metrics"]["regression_metrics.rmse"], 2.9);
    assert_eq!(detail["metrics"]["regression_metrics.r2"], 0.91);
    let carried = detail["metrics"].as_object().unwrap().len();
    let omitted = detail["metrics_omitted"].as_u64().unwrap() as usize;
    // Both report shapes of the two gated metrics (`.value` too), and the rows.
    assert_eq!(carried + omitted, 100_000 + 4);
    assert!(omitted > 90_000, "{omitted}");
    assert_eq!(
        detail["evaluation_report"],
        format!("s3://{BUCKET}/models/{job}/output/evaluation.json")
    );

    let RegisterOutcome::Registered {
        model_package_arn, ..
    } = register(&p, event).await
    else {
        panic!("not registered");
    };
    // The version's metadata has the gated metrics, whatever sorts before them.
    let package = described_package(&p, &model_package_arn).await;
    let metadata = package.customer_metadata_properties().unwrap();
    assert_eq!(metadata["metric:regression_metrics.rmse"], "2.9");
    assert_eq!(metadata["metric:regression_metrics.r2"], "0.91");
}
