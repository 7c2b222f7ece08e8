//! Handler tests against a mocked SageMaker (aws-smithy-mocks): the request
//! sent, every skip, each way CreateTrainingJob can fail, and preprocessing's
//! lookup of the newest completed processing job.

use std::sync::{Arc, Mutex};

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_training_job::{
    CreateTrainingJobError, CreateTrainingJobInput, CreateTrainingJobOutput,
};
use aws_sdk_sagemaker::operation::list_processing_jobs::ListProcessingJobsOutput;
use aws_sdk_sagemaker::types::error::ResourceInUse;
use aws_sdk_sagemaker::types::ProcessingJobSummary;
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
        processing_job_name,
    } = &outcome
    else {
        panic!("expected started, got {outcome:?}");
    };
    assert!(training_job_name.starts_with("mlops--ecr-mlops-training-"));
    assert_eq!(training_job_arn, ARN);
    assert!(image.ends_with(&format!("/mlops-training@{DIGEST}")));
    assert_eq!(processing_job_name, &None);
    assert_eq!(rule.num_calls(), 1);
    // The answer without preprocessing is what it was before issue 18.
    let json = serde_json::to_value(&outcome).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["action", "training_job_name", "training_job_arn", "image"]
    );
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

const PROCESSED: &str = "s3://data-bucket/processed/";
/// A completed processing job of this pipeline (`mlops`).
const OURS: &str = "mlops--proc-burst-0123456789abcdef";
/// Other pipelines' jobs ListProcessingJobs' NameContains `mlops--proc-` may
/// list too: the second really contains it.
const OTHERS: [&str; 2] = [
    "other--proc-burst-0123456789abcdef",
    "amlops--proc-burst-0123456789abcdef",
];

fn with_preprocessing() -> TriggerConfig {
    config(&[
        ("PREPROCESSING_ENABLED", "true"),
        ("PROCESSING_OUTPUT_S3_URI", PROCESSED),
    ])
}

/// A ListProcessingJobs page listing `names`, then `next_token` if any.
fn processing_page(names: &[&str], next_token: Option<&str>) -> ListProcessingJobsOutput {
    let summaries = names
        .iter()
        .map(|name| {
            ProcessingJobSummary::builder()
                .processing_job_name(*name)
                .processing_job_status(ProcessingJobStatus::Completed)
                .build()
        })
        .collect();
    ListProcessingJobsOutput::builder()
        .set_processing_job_summaries(Some(summaries))
        .set_next_token(next_token.map(str::to_string))
        .build()
}

/// Answers one ListProcessingJobs with `names`, when it asks for this
/// pipeline's completed jobs, newest first.
fn completed_jobs(names: &'static [&'static str]) -> Rule {
    mock!(Client::list_processing_jobs)
        .match_requests(|req| {
            req.status_equals() == Some(&ProcessingJobStatus::Completed)
                && req.name_contains() == Some("mlops--proc-")
                && req.sort_by() == Some(&SortBy::CreationTime)
                && req.sort_order() == Some(&SortOrder::Descending)
                && req.max_results() == Some(100)
        })
        .then_output(|| processing_page(names, None))
}

/// Answers every CreateTrainingJob with success, keeping the last request.
/// ecr-push.json, with preprocessing on, against these rules.
async fn push_preprocessed(rules: &[&Rule]) -> Result<TriggerOutcome, PipelineError> {
    handle(
        &client(rules),
        &with_preprocessing(),
        invocation(sample("ecr-push.json")),
    )
    .await
}

fn started_capturing() -> (Rule, Arc<Mutex<Option<CreateTrainingJobInput>>>) {
    let seen = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&seen);
    let rule = mock!(Client::create_training_job)
        .match_requests(move |req| {
            *keep.lock().unwrap() = Some(req.clone());
            true
        })
        .sequence()
        .output(|| {
            CreateTrainingJobOutput::builder()
                .training_job_arn(ARN)
                .build()
        })
        .repeatedly()
        .build();
    (rule, seen)
}

/// A CreateTrainingJob request's channels: name and S3 URI.
fn channels(request: &CreateTrainingJobInput) -> Vec<(String, String)> {
    request
        .input_data_config()
        .iter()
        .map(|channel| {
            let uri = channel
                .data_source()
                .and_then(|source| source.s3_data_source())
                .and_then(|s3| s3.s3_uri())
                .unwrap_or_default();
            (
                channel.channel_name().unwrap_or_default().to_string(),
                uri.to_string(),
            )
        })
        .collect()
}

fn tag_value<'a>(request: &'a CreateTrainingJobInput, key: &str) -> Option<&'a str> {
    request
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

#[tokio::test]
async fn preprocessing_trains_on_the_newest_completed_processing_output() {
    static LISTED: [&str; 3] = [OTHERS[0], OURS, "mlops--proc-burst-older0123456789"];
    let list = completed_jobs(&LISTED);
    let (create, seen) = started_capturing();
    let outcome = push_preprocessed(&[&list, &create]).await.unwrap();

    assert_eq!((list.num_calls(), create.num_calls()), (1, 1));
    let request = seen.lock().unwrap().clone().unwrap();
    assert_eq!(
        channels(&request),
        [
            ("train".into(), format!("{PROCESSED}{OURS}/train/")),
            (
                "validation".into(),
                format!("{PROCESSED}{OURS}/validation/")
            ),
        ]
    );
    assert_eq!(tag_value(&request, "mlops:processing-job"), Some(OURS));
    assert_eq!(tag_value(&request, "mlops:image-digest"), Some(DIGEST));
    // The job's identity is still the image: the same name as without.
    assert_eq!(
        request.training_job_name(),
        Some("mlops--ecr-mlops-training-b26d3342fea05d4c")
    );
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "started");
    assert_eq!(json["processing_job_name"], OURS);
}

#[tokio::test]
async fn preprocessing_without_a_completed_job_trains_on_the_configured_channels() {
    static NONE: [&str; 0] = [];
    static ONLY_OTHERS: [&str; 2] = OTHERS;
    for listed in [&NONE[..], &ONLY_OTHERS[..]] {
        let list = completed_jobs(listed);
        let (create, seen) = started_capturing();
        let outcome = push_preprocessed(&[&list, &create]).await.unwrap();

        assert_eq!(list.num_calls(), 1, "{listed:?}");
        let request = seen.lock().unwrap().clone().unwrap();
        assert_eq!(
            channels(&request),
            [("train".into(), "s3://data-bucket/train/".into())],
            "{listed:?}"
        );
        assert_eq!(tag_value(&request, "mlops:processing-job"), None);
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["action"], "started");
        assert!(json.get("processing_job_name").is_none(), "{json}");
    }
}

#[tokio::test]
async fn preprocessing_reads_further_pages_until_one_holds_a_job_of_ours() {
    let first = mock!(Client::list_processing_jobs)
        .match_requests(|req| req.next_token().is_none())
        .then_output(|| processing_page(&OTHERS, Some("page-2")));
    let second = mock!(Client::list_processing_jobs)
        .match_requests(|req| req.next_token() == Some("page-2"))
        .then_output(|| processing_page(&[OURS], Some("page-3")));
    let (create, seen) = started_capturing();
    let outcome = push_preprocessed(&[&first, &second, &create])
        .await
        .unwrap();

    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    let request = seen.lock().unwrap().clone().unwrap();
    assert_eq!(tag_value(&request, "mlops:processing-job"), Some(OURS));
    assert!(
        matches!(&outcome, TriggerOutcome::Started { processing_job_name: Some(job), .. } if job == OURS),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn preprocessing_pages_are_bounded() {
    // Every page lists only other pipelines' jobs and promises another (each
    // token new: the paginator stops at a repeated one).
    let mut pages = mock!(Client::list_processing_jobs).sequence();
    for page in 2..=6 {
        let token = format!("page-{page}");
        pages = pages.output(move || processing_page(&OTHERS, Some(&token)));
    }
    let pages = pages.build();
    let (create, seen) = started_capturing();
    let outcome = push_preprocessed(&[&pages, &create]).await.unwrap();

    // A sixth page would have reached the CreateTrainingJob rule and panicked.
    assert_eq!((pages.num_calls(), create.num_calls()), (5, 1));
    let request = seen.lock().unwrap().clone().unwrap();
    assert_eq!(
        channels(&request),
        [("train".into(), "s3://data-bucket/train/".into())]
    );
    assert!(
        matches!(
            outcome,
            TriggerOutcome::Started {
                processing_job_name: None,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn without_preprocessing_processing_jobs_are_not_listed() {
    static LISTED: [&str; 1] = [OURS];
    let list = completed_jobs(&LISTED);
    let (create, seen) = started_capturing();
    let sagemaker = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, &[&list, &create]);
    let outcome = handle(
        &sagemaker,
        &config(&[]),
        invocation(sample("ecr-push.json")),
    )
    .await
    .unwrap();

    assert_eq!((list.num_calls(), create.num_calls()), (0, 1));
    let request = seen.lock().unwrap().clone().unwrap();
    assert_eq!(
        channels(&request),
        [("train".into(), "s3://data-bucket/train/".into())]
    );
    assert!(matches!(
        outcome,
        TriggerOutcome::Started {
            processing_job_name: None,
            ..
        }
    ));
}

#[tokio::test]
async fn a_failed_processing_job_lookup_fails_the_invocation_before_any_job() {
    // Rejected: not retried, not retryable.
    let denied = mock!(Client::list_processing_jobs).then_http_response(|| {
        aws_error(
            400,
            "AccessDeniedException",
            "not authorized to perform: sagemaker:ListProcessingJobs",
        )
    });
    // Throttled: retried by the SDK, then retryable.
    let throttled = mock!(Client::list_processing_jobs)
        .sequence()
        .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
        .times(3)
        .build();
    let cases = [
        (
            denied,
            1,
            "NonRetryable.AwsRejected",
            "AccessDeniedException",
        ),
        (
            throttled,
            3,
            "Retryable.AwsTransient",
            "ThrottlingException",
        ),
    ];
    for (list, calls, error_type, code) in cases {
        let create = started();
        let err = push_preprocessed(&[&list, &create]).await.unwrap_err();
        assert_eq!(err.error_type(), error_type, "{err}");
        assert_eq!(err.aws_code(), Some(code));
        assert!(err.to_string().starts_with("ListProcessingJobs "), "{err}");
        assert_eq!(list.num_calls(), calls, "{code}");
        assert_eq!(create.num_calls(), 0, "{code}");
    }
}
