//! Handler tests against a mocked SageMaker (aws-smithy-mocks): the group
//! present, absent and created concurrently, the exact model package
//! request, repeated events, throttling and bad input.

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_model_package::CreateModelPackageOutput;
use aws_sdk_sagemaker::operation::create_model_package_group::CreateModelPackageGroupOutput;
use aws_sdk_sagemaker::operation::describe_model_package_group::DescribeModelPackageGroupOutput;
use aws_sdk_sagemaker::types::{ModelApprovalStatus, ProductionVariantInstanceType};
use aws_sdk_sagemaker::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::names::idempotency_token;
use shared::test_support::{aws_error, invocation, sample};

use super::*;

const GROUP_ARN: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/mlops--models";
const PACKAGE_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
const JOB_ARN: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/mlops--ecr-mlops-training-b26d3342fea05d4c";

fn config(extra: &[(&'static str, &'static str)]) -> RegisterConfig {
    let mut vars = vec![("PIPELINE_NAME", "mlops")];
    vars.extend_from_slice(extra);
    RegisterConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)))
}

async fn run(
    sagemaker: &Client,
    config: &RegisterConfig,
    payload: Value,
) -> Result<RegisterOutcome, PipelineError> {
    handle(sagemaker, config, invocation(payload)).await
}

fn group_exists() -> Rule {
    mock!(Client::describe_model_package_group)
        .match_requests(|req| req.model_package_group_name() == Some("mlops--models"))
        .sequence()
        .output(|| {
            DescribeModelPackageGroupOutput::builder()
                .model_package_group_name("mlops--models")
                .model_package_group_arn(GROUP_ARN)
                .build()
        })
        .repeatedly()
        .build()
}

fn group_missing() -> Rule {
    mock!(Client::describe_model_package_group)
        .sequence()
        .http_response(|| {
            aws_error(
                400,
                "ValidationException",
                &format!("ModelPackageGroup {GROUP_ARN} does not exist."),
            )
        })
        .repeatedly()
        .build()
}

fn group_created() -> Rule {
    mock!(Client::create_model_package_group)
        .match_requests(|req| {
            req.model_package_group_name() == Some("mlops--models")
                && req
                    .tags()
                    .iter()
                    .any(|t| t.key() == Some("mlops:pipeline") && t.value() == Some("mlops"))
        })
        .sequence()
        .output(|| {
            CreateModelPackageGroupOutput::builder()
                .model_package_group_arn(GROUP_ARN)
                .build()
        })
        .repeatedly()
        .build()
}

fn package_created() -> Rule {
    mock!(Client::create_model_package)
        .sequence()
        .output(|| {
            CreateModelPackageOutput::builder()
                .model_package_arn(PACKAGE_ARN)
                .build()
        })
        .repeatedly()
        .build()
}

#[tokio::test]
async fn a_passed_evaluation_registers_a_version_pending_approval() {
    let expected_token = idempotency_token(&[JOB_ARN]);
    let create = mock!(Client::create_model_package)
        .match_requests(move |req| {
            let inference = req.inference_specification().unwrap();
            let container = &inference.containers()[0];
            let metadata = req.customer_metadata_properties().unwrap();
            let statistics = req
                .model_metrics()
                .and_then(|m| m.model_quality())
                .and_then(|q| q.statistics())
                .unwrap();
            req.model_package_group_name() == Some("mlops--models")
                && req.client_token() == Some(expected_token.as_str())
                && req.model_approval_status() == Some(&ModelApprovalStatus::PendingManualApproval)
                && container.image() == Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6")
                && container.model_data_url() == Some("s3://mlops-data-123456789012-us-east-1/models/mlops--ecr-mlops-training-b26d3342fea05d4c/output/model.tar.gz")
                && inference.supported_content_types() == ["text/csv"]
                && inference.supported_response_mime_types() == ["text/csv"]
                && inference.supported_realtime_inference_instance_types() == [ProductionVariantInstanceType::MlM5Large]
                && statistics.s3_uri() == Some("s3://mlops-data-123456789012-us-east-1/models/mlops--ecr-mlops-training-b26d3342fea05d4c/output/evaluation.json")
                && statistics.content_type() == Some("application/json")
                && metadata["training_job_name"] == "mlops--ecr-mlops-training-b26d3342fea05d4c"
                && metadata["training_job_arn"] == JOB_ARN
                && metadata["image_digest"] == "sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6"
                && metadata["metric:validation:rmse"] == "2.87"
                && req.tags().is_empty()
        })
        .then_output(|| CreateModelPackageOutput::builder().model_package_arn(PACKAGE_ARN).build());
    let (describe, create_group) = (group_exists(), group_created());
    let sagemaker = client(&[&describe, &create_group, &create]);

    let outcome = run(&sagemaker, &config(&[]), sample("evaluation-passed.json"))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        RegisterOutcome::Registered {
            model_package_arn: PACKAGE_ARN.into(),
            model_package_group: "mlops--models".into(),
            version: Some(3),
            approval_status: "PendingManualApproval".into(),
            training_job_name: "mlops--ecr-mlops-training-b26d3342fea05d4c".into(),
        }
    );
    assert_eq!(
        (
            describe.num_calls(),
            create_group.num_calls(),
            create.num_calls()
        ),
        (1, 0, 1)
    );
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "registered");
}

#[tokio::test]
async fn a_missing_group_is_created_first() {
    let (describe, create_group, create) = (group_missing(), group_created(), package_created());
    let sagemaker = client(&[&describe, &create_group, &create]);
    run(&sagemaker, &config(&[]), sample("evaluation-passed.json"))
        .await
        .unwrap();
    assert_eq!(
        (
            describe.num_calls(),
            create_group.num_calls(),
            create.num_calls()
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_group_created_concurrently_is_fine() {
    let create_group = mock!(Client::create_model_package_group)
        .sequence()
        .http_response(|| {
            aws_error(
                400,
                "ValidationException",
                &format!("Model Package Group already exists: {GROUP_ARN}"),
            )
        })
        .build();
    let (describe, create) = (group_missing(), package_created());
    let sagemaker = client(&[&describe, &create_group, &create]);
    let outcome = run(&sagemaker, &config(&[]), sample("evaluation-passed.json"))
        .await
        .unwrap();
    assert!(matches!(outcome, RegisterOutcome::Registered { .. }));
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn a_repeated_event_sends_the_same_client_token() {
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let create = mock!(Client::create_model_package)
        .match_requests(move |req| {
            seen.lock()
                .unwrap()
                .push(req.client_token().unwrap().to_string());
            true
        })
        .sequence()
        .output(|| {
            CreateModelPackageOutput::builder()
                .model_package_arn(PACKAGE_ARN)
                .build()
        })
        .repeatedly()
        .build();
    let describe = group_exists();
    let sagemaker = client(&[&describe, &create]);
    let mut redelivered = sample("evaluation-passed.json");
    redelivered["id"] = json!("another-delivery-id");
    for payload in [sample("evaluation-passed.json"), redelivered] {
        run(&sagemaker, &config(&[]), payload).await.unwrap();
    }
    let tokens = tokens.lock().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[0], idempotency_token(&[JOB_ARN]));
    // Golden: the token for events/evaluation-passed.json. A redelivery after
    // an upgrade must send the same token (one version), so a change is breaking.
    assert_eq!(tokens[0], "e5951b27e3e6dad4fa5ce0813e1208c7");
}

#[tokio::test]
async fn auto_approval_and_a_configured_inference_image_are_used() {
    let create = mock!(Client::create_model_package)
        .match_requests(|req| {
            req.model_approval_status() == Some(&ModelApprovalStatus::Approved)
                && req.inference_specification().unwrap().containers()[0].image()
                    == Some("serving:1@sha256:ab")
        })
        .then_output(|| {
            CreateModelPackageOutput::builder()
                .model_package_arn(PACKAGE_ARN)
                .build()
        });
    let describe = group_exists();
    let sagemaker = client(&[&describe, &create]);
    let config = config(&[
        ("MODEL_APPROVAL_STATUS", "Approved"),
        ("INFERENCE_IMAGE", "serving:1@sha256:ab"),
    ]);
    let outcome = run(&sagemaker, &config, sample("evaluation-passed.json"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, RegisterOutcome::Registered { ref approval_status, .. } if approval_status == "Approved")
    );
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn failed_and_foreign_evaluations_are_skipped_without_calls() {
    let mut foreign = sample("evaluation-passed.json");
    foreign["detail"]["pipeline"] = json!("churn");
    for (payload, reason) in [
        (
            sample("evaluation-failed.json"),
            "evaluation did not pass: validation:rmse = 6.4, required validation:rmse <= 5",
        ),
        (foreign, "evaluation is for pipeline churn, not mlops"),
    ] {
        let (describe, create) = (group_exists(), package_created());
        let sagemaker = client(&[&describe, &create]);
        let outcome = run(&sagemaker, &config(&[]), payload).await.unwrap();
        assert_eq!(
            outcome,
            RegisterOutcome::Skipped {
                reason: reason.into(),
                reason_class: SkipClass::NotApplicable,
                training_job_name: "mlops--ecr-mlops-training-b26d3342fea05d4c".into()
            }
        );
        assert_eq!(describe.num_calls() + create.num_calls(), 0);
    }
}

#[tokio::test]
async fn throttling_is_retried_then_a_retryable_error() {
    let create = mock!(Client::create_model_package)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let describe = group_exists();
    let sagemaker = client(&[&describe, &create]);
    let err = run(&sagemaker, &config(&[]), sample("evaluation-passed.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.AwsTransient");
    assert_eq!(create.num_calls(), 3);
}

#[tokio::test]
async fn other_describe_failures_are_not_taken_for_a_missing_group() {
    let describe = mock!(Client::describe_model_package_group)
        .sequence()
        .http_response(|| aws_error(400, "AccessDeniedException", "not allowed"))
        .build();
    let (create_group, create) = (group_created(), package_created());
    let sagemaker = client(&[&describe, &create_group, &create]);
    let err = run(&sagemaker, &config(&[]), sample("evaluation-passed.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.AwsRejected");
    assert_eq!(err.aws_code(), Some("AccessDeniedException"));
    assert_eq!(create_group.num_calls() + create.num_calls(), 0);
}

#[tokio::test]
async fn malformed_events_are_non_retryable_and_name_the_field() {
    let mut no_artifacts = sample("evaluation-passed.json");
    no_artifacts["detail"]["model_artifacts"] = Value::Null;
    let mut no_passed = sample("evaluation-passed.json");
    no_passed["detail"]
        .as_object_mut()
        .unwrap()
        .remove("passed");
    let mut wrong_source = sample("evaluation-passed.json");
    wrong_source["source"] = json!("someone.else");
    for (payload, expected) in [
        (no_artifacts, "detail.model_artifacts is missing"),
        (no_passed, "missing field `passed`"),
        (wrong_source, "expected source \"mlops.pipeline\""),
        (json!("text"), "invalid type"),
    ] {
        let (describe, create) = (group_exists(), package_created());
        let sagemaker = client(&[&describe, &create]);
        let err = run(&sagemaker, &config(&[]), payload).await.unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent", "{err}");
        assert!(
            err.to_string().contains(expected),
            "{expected:?} not in {err}"
        );
        assert_eq!(describe.num_calls() + create.num_calls(), 0);
    }
}
