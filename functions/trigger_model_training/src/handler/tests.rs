//! Handler tests against a mocked SageMaker (aws-smithy-mocks): the request
//! sent, every skip, and each way CreateTrainingJob can fail.

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_training_job::{
    CreateTrainingJobError, CreateTrainingJobOutput,
};
use aws_sdk_sagemaker::types::error::ResourceInUse;
use aws_sdk_sagemaker::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::json;
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use super::*;

const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x";
const DIGEST: &str = "sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

fn config(extra: &[(&'static str, &'static str)]) -> TriggerConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    TriggerConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

fn client(rules: &[&Rule]) -> Client {
    // Standard retries as in production, without real back-off sleeps.
    mock_client!(aws_sdk_sagemaker, RuleMode::Sequential, rules, |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)))
}

/// Answers every CreateTrainingJob with success.
fn started() -> Rule {
    mock!(Client::create_training_job)
        .sequence()
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(ARN)
                .build()
        })
        .repeatedly()
        .build()
}

/// Golden: the job name events/ecr-push.json asks for. A redelivery after an
/// upgrade must ask for the same name (one job), so a change is breaking.
#[tokio::test]
async fn golden_training_job_name_of_a_push() {
    let rule = started();
    let outcome = handle(
        &client(&[&rule]),
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap();
    let TriggerOutcome::Started {
        training_job_name, ..
    } = outcome
    else {
        panic!("expected started, got {outcome:?}");
    };
    assert_eq!(
        training_job_name,
        "mlops--ecr-mlops-training-b26d3342fea05d4c"
    );
}

#[tokio::test]
async fn a_push_starts_one_training_job_pinned_by_digest() {
    let rule = mock!(Client::create_training_job)
        .match_requests(|req| {
            let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
            let tags: Vec<(&str, &str)> = req
                .tags()
                .iter()
                .map(|t| (t.key().unwrap(), t.value().unwrap()))
                .collect();
            req.training_job_name().is_some_and(|n| n.starts_with("mlops--ecr-mlops-training-"))
                && req.algorithm_specification().and_then(|a| a.training_image()) == Some(image)
                && req.input_data_config()[0].channel_name() == Some("train")
                && tags.contains(&("mlops:pipeline", "mlops"))
                && tags.contains(&("mlops:trigger", "ecr-push"))
                && tags.contains(&("mlops:ecr-repository", "mlops-training"))
                && tags.contains(&("mlops:image-digest", DIGEST))
                && tags.contains(&("mlops:image-tag", "v1.2.0"))
        })
        .then_output(|| CreateTrainingJobOutput::builder().training_job_arn(ARN).build());
    let sagemaker = client(&[&rule]);

    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap();

    let TriggerOutcome::Started {
        training_job_name,
        training_job_arn,
        image,
    } = &outcome
    else {
        panic!("expected started, got {outcome:?}");
    };
    assert!(training_job_name.starts_with("mlops--ecr-mlops-training-"));
    assert_eq!(training_job_arn, ARN);
    assert!(image.ends_with(&format!("/mlops-training@{DIGEST}")));
    assert_eq!(rule.num_calls(), 1);
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "started");
    assert_eq!(json["training_job_arn"], ARN);
}

#[tokio::test]
async fn the_same_push_twice_gets_the_same_name() {
    let rule = started();
    let sagemaker = client(&[&rule]);
    let config = config(&[]);
    let name = |outcome: TriggerOutcome| match outcome {
        TriggerOutcome::Started {
            training_job_name, ..
        } => training_job_name,
        other => panic!("{other:?}"),
    };
    let first = name(
        handle(&sagemaker, &config, invocation(sample("ecr-push.json")))
            .await
            .unwrap(),
    );
    // Same digest under another tag: same image, same job.
    let mut retagged = sample("ecr-push.json");
    retagged["detail"]["image-tag"] = json!("latest");
    retagged["id"] = json!("another-delivery");
    let second = name(
        handle(&sagemaker, &config, invocation(retagged))
            .await
            .unwrap(),
    );
    assert_eq!(first, second);
}

#[tokio::test]
async fn resource_in_use_means_already_started() {
    let rule = mock!(Client::create_training_job).then_error(|| {
        CreateTrainingJobError::ResourceInUse(
            ResourceInUse::builder()
                .message("Training job names must be unique within an AWS account and region")
                .build(),
        )
    });
    let sagemaker = client(&[&rule]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "skipped");
    assert_eq!(json["reason"], "already started");
    assert_eq!(json["reason_class"], "already_done");
    assert!(json["training_job_name"]
        .as_str()
        .unwrap()
        .starts_with("mlops--ecr-"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    let rule = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(ARN)
                .build()
        })
        .build();
    let sagemaker = client(&[&rule]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, TriggerOutcome::Started { .. }));
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn persistent_throttling_is_a_retryable_error() {
    let rule = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let sagemaker = client(&[&rule]);
    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.AwsTransient");
    assert_eq!(err.aws_code(), Some("ThrottlingException"));
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn server_errors_are_retried_then_retryable() {
    let rule = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| aws_error(500, "InternalFailure", "We encountered an internal error"))
        .times(3)
        .build();
    let sagemaker = client(&[&rule]);
    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn validation_errors_are_not_retried_and_keep_sagemaker_message() {
    let rule = mock!(Client::create_training_job)
        .sequence()
        .http_response(|| {
            aws_error(
                400,
                "ValidationException",
                "Instance type ml.m5.large is not supported",
            )
        })
        .build();
    let sagemaker = client(&[&rule]);
    let err = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.AwsRejected");
    assert_eq!(err.aws_code(), Some("ValidationException"));
    assert!(
        err.to_string()
            .contains("Instance type ml.m5.large is not supported"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn pushes_that_are_not_ours_are_skipped_without_calls() {
    let cases = [
        (
            "ecr-push-other-repository.json",
            "repository someone-elses-repo is not the configured mlops-training",
        ),
        ("ecr-delete.json", "action-type DELETE is not a push"),
        (
            "ecr-push-failure.json",
            "push result is FAILURE, not SUCCESS",
        ),
    ];
    for (file, reason) in cases {
        let rule = started();
        let sagemaker = client(&[&rule]);
        let outcome = handle(&sagemaker, &config(&[]), invocation(sample(file)))
            .await
            .unwrap();
        assert_eq!(outcome, skipped_before_any_call(reason), "{file}");
        assert_eq!(rule.num_calls(), 0, "{file}");
    }
}

#[tokio::test]
async fn tag_filter_selects_pushes() {
    let filtered = config(&[("ECR_TAG_FILTER", "release-*,v1.*")]);
    let rule = started();
    let sagemaker = client(&[&rule]);
    // v1.2.0 matches v1.*
    let outcome = handle(&sagemaker, &filtered, invocation(sample("ecr-push.json")))
        .await
        .unwrap();
    assert!(matches!(outcome, TriggerOutcome::Started { .. }));

    let mut other_tag = sample("ecr-push.json");
    other_tag["detail"]["image-tag"] = json!("latest");
    let outcome = handle(&sagemaker, &filtered, invocation(other_tag))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        skipped_before_any_call("tag latest does not match ECR_TAG_FILTER release-*,v1.*")
    );

    for untagged in ["ecr-push-untagged.json", "ecr-push-untagged-empty-tag.json"] {
        let outcome = handle(&sagemaker, &filtered, invocation(sample(untagged)))
            .await
            .unwrap();
        assert!(
            matches!(&outcome, TriggerOutcome::Skipped { reason, .. } if reason.starts_with("untagged push")),
            "{untagged}: {outcome:?}"
        );
    }
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn untagged_pushes_train_when_there_is_no_filter() {
    let rule = mock!(Client::create_training_job)
        .match_requests(|req| {
            !req.tags()
                .iter()
                .any(|t| t.key() == Some("mlops:image-tag"))
        })
        .sequence()
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(ARN)
                .build()
        })
        .times(2)
        .build();
    let sagemaker = client(&[&rule]);
    for untagged in ["ecr-push-untagged.json", "ecr-push-untagged-empty-tag.json"] {
        let outcome = handle(&sagemaker, &config(&[]), invocation(sample(untagged)))
            .await
            .unwrap();
        assert!(
            matches!(outcome, TriggerOutcome::Started { .. }),
            "{untagged}"
        );
    }
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn malformed_events_are_non_retryable_and_name_the_field() {
    let mut missing_digest = sample("ecr-push.json");
    missing_digest["detail"]
        .as_object_mut()
        .unwrap()
        .remove("image-digest");
    let mut bad_digest = sample("ecr-push.json");
    bad_digest["detail"]["image-digest"] = json!("sha256:nothex");
    let mut missing_account = sample("ecr-push.json");
    missing_account.as_object_mut().unwrap().remove("account");
    let mut wrong_type = sample("ecr-push.json");
    wrong_type["detail"]["result"] = json!(true);
    let mut no_detail = sample("ecr-push.json");
    no_detail.as_object_mut().unwrap().remove("detail");
    let mut wrong_source = sample("ecr-push.json");
    wrong_source["source"] = json!("aws.s3");

    let cases = [
        (missing_digest, "detail.image-digest is missing"),
        (bad_digest, "detail.image-digest \"sha256:nothex\""),
        (missing_account, "account is missing"),
        (wrong_type, "detail.result"),
        (no_detail, "missing field `detail`"),
        (wrong_source, "expected source \"aws.ecr\""),
        (json!("not an object"), "invalid type"),
        (json!(null), "invalid type"),
    ];
    for (payload, expected) in cases {
        let rule = started();
        let sagemaker = client(&[&rule]);
        let err = handle(&sagemaker, &config(&[]), invocation(payload))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent", "{err}");
        assert!(
            err.to_string().contains(expected),
            "{expected:?} not in {err}"
        );
        assert_eq!(rule.num_calls(), 0);
    }
}

/// The outcome of an event skipped before any call: no job named.
fn skipped_before_any_call(reason: &str) -> TriggerOutcome {
    TriggerOutcome::Skipped {
        reason: reason.to_string(),
        reason_class: SkipClass::NotApplicable,
        training_job_name: None,
        image: None,
    }
}
