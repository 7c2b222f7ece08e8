//! Every sample event in `events/` (AWS's documented shapes, see
//! events/README.md) parses into the type the pipeline reads it as.

use std::path::{Path, PathBuf};

use shared::events::*;

fn load(path: PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sample(name: &str) -> serde_json::Value {
    load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(name),
    )
}

#[test]
fn ecr_image_action_samples() {
    let push: EventBridgeEvent<EcrImageAction> = parse_event(sample("ecr-push.json")).unwrap();
    assert_eq!(push.source, ECR_SOURCE);
    assert_eq!(push.detail_type, ECR_IMAGE_ACTION);
    assert_eq!(push.account.as_deref(), Some("123456789012"));
    assert_eq!(push.region.as_deref(), Some("us-east-1"));
    assert_eq!(push.detail.action_type, "PUSH");
    assert_eq!(push.detail.result, "SUCCESS");
    assert_eq!(push.detail.repository_name, "mlops-training");
    assert_eq!(push.detail.image_tag.as_deref(), Some("v1.2.0"));
    assert!(shared::image::is_sha256_digest(
        push.detail.image_digest.as_deref().unwrap()
    ));

    let other: EventBridgeEvent<EcrImageAction> =
        parse_event(sample("ecr-push-other-repository.json")).unwrap();
    assert_ne!(other.detail.repository_name, "mlops-training");

    let delete: EventBridgeEvent<EcrImageAction> = parse_event(sample("ecr-delete.json")).unwrap();
    assert_eq!(delete.detail.action_type, "DELETE");

    let failure: EventBridgeEvent<EcrImageAction> =
        parse_event(sample("ecr-push-failure.json")).unwrap();
    assert_eq!(failure.detail.result, "FAILURE");

    let untagged: EventBridgeEvent<EcrImageAction> =
        parse_event(sample("ecr-push-untagged.json")).unwrap();
    assert_eq!(untagged.detail.image_tag, None);
    let empty_tag: EventBridgeEvent<EcrImageAction> =
        parse_event(sample("ecr-push-untagged-empty-tag.json")).unwrap();
    assert_eq!(empty_tag.detail.image_tag.as_deref(), Some(""));
}

/// Every file in `events/` is the input of one function, told by its name.
#[test]
fn every_sample_in_events_parses_as_its_functions_input() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "README.md" {
            continue; // where the shapes come from
        }
        let payload = load(path);
        let parsed = if name.starts_with("ecr-") {
            parse_event::<EventBridgeEvent<EcrImageAction>>(payload).map(drop)
        } else if name.starts_with("training-job-") {
            parse_event::<EventBridgeEvent<TrainingJobStateChange>>(payload).map(drop)
        } else if name.starts_with("processing-job-") {
            // retrain, with preprocessing: a burst's processing job ended.
            parse_event::<EventBridgeEvent<ProcessingJobStateChange>>(payload).map(drop)
        } else if name.starts_with("model-package-") {
            parse_event::<EventBridgeEvent<ModelPackageStateChange>>(payload).map(drop)
        } else if name.starts_with("endpoint-") {
            parse_event::<EventBridgeEvent<EndpointStateChange>>(payload).map(drop)
        } else if name.starts_with("scheduled-") {
            parse_event::<EventBridgeEvent<shared::events::ScheduledEvent>>(payload).map(drop)
        } else if name == "s3-test-event.json" {
            // What S3 sends when a notification configuration is saved.
            assert_eq!(payload["Event"], "s3:TestEvent");
            Ok(())
        } else if name.starts_with("s3-notification-") {
            parse_event::<S3Notification>(payload).map(drop)
        } else if name.starts_with("s3-object-") {
            parse_event::<EventBridgeEvent<S3ObjectCreated>>(payload).map(drop)
        } else if name.starts_with("sqs-s3-") {
            // retrain's queue: each message body is S3's EventBridge event.
            parse_event::<shared::events::SqsEvent>(payload).map(|event| {
                for record in event.records {
                    let body: serde_json::Value =
                        serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
                    parse_event::<EventBridgeEvent<S3ObjectCreated>>(body).unwrap();
                }
            })
        } else if name.starts_with("retraining-due") {
            // retrain: what a burst's schedule sends (retrain's burst::Due).
            assert!(payload["retraining_due"]["due"].is_string(), "{name}");
            Ok(())
        } else if name.starts_with("evaluation-") {
            parse_event::<EventBridgeEvent<shared::evaluation::ModelEvaluation>>(payload).map(drop)
        } else if name.starts_with("apigw-") {
            // serve_predictions: lambda_http reads it as this type.
            parse_event::<aws_lambda_events::apigw::ApiGatewayV2httpRequest>(payload).map(drop)
        } else {
            panic!("{name}: no function takes this sample; name it after its input")
        };
        parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        count += 1;
    }
    assert!(count >= 12, "only {count} samples found");
}

#[test]
fn processing_job_state_changes() {
    for (file, status) in [
        ("processing-job-completed.json", "Completed"),
        ("processing-job-failed.json", "Failed"),
    ] {
        let event: EventBridgeEvent<ProcessingJobStateChange> =
            parse_event(sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event.source, SAGEMAKER_SOURCE, "{file}");
        assert_eq!(event.detail_type, PROCESSING_JOB_STATE_CHANGE, "{file}");
        assert_eq!(
            event.detail.processing_job_status.as_str(),
            status,
            "{file}"
        );
        assert!(event.detail.processing_job_arn.ends_with(&format!(
            ":processing-job/{}",
            event.detail.processing_job_name
        )));
    }
    let failed: EventBridgeEvent<ProcessingJobStateChange> =
        parse_event(sample("processing-job-failed.json")).unwrap();
    assert!(failed.detail.failure_reason.is_some() && failed.detail.exit_message.is_some());
}

#[test]
fn training_job_state_changes() {
    for (file, status) in [
        ("training-job-completed.json", "Completed"),
        ("training-job-completed-string-times.json", "Completed"),
        ("training-job-failed.json", "Failed"),
        ("training-job-stopped.json", "Stopped"),
        ("training-job-in-progress.json", "InProgress"),
    ] {
        let event: EventBridgeEvent<TrainingJobStateChange> =
            parse_event(sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event.source, SAGEMAKER_SOURCE, "{file}");
        assert_eq!(event.detail_type, TRAINING_JOB_STATE_CHANGE, "{file}");
        assert_eq!(event.detail.training_job_status.as_str(), status, "{file}");
        assert!(
            event.detail.training_job_arn.contains(":training-job/"),
            "{file}"
        );
    }
    let failed: EventBridgeEvent<TrainingJobStateChange> =
        parse_event(sample("training-job-failed.json")).unwrap();
    assert!(failed.detail.failure_reason.is_some());
    let completed: EventBridgeEvent<TrainingJobStateChange> =
        parse_event(sample("training-job-completed.json")).unwrap();
    assert!(completed
        .detail
        .model_artifacts
        .unwrap()
        .s3_model_artifacts
        .starts_with("s3://"));
}

#[test]
fn model_package_state_changes() {
    for file in [
        "model-package-approved.json",
        "model-package-approved-string-times.json",
    ] {
        let event: EventBridgeEvent<ModelPackageStateChange> =
            parse_event(sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event.detail_type, MODEL_PACKAGE_STATE_CHANGE);
        assert_eq!(event.detail.model_approval_status.as_str(), "Approved");
        assert_eq!(event.detail.model_package_version, 3);
        assert!(event.detail.model_package_arn.ends_with("/3"));
    }
}

#[test]
fn s3_notification_records() {
    let notification: S3Notification =
        parse_event(sample("s3-notification-many-records.json")).unwrap();
    assert_eq!(notification.records.len(), 4);
    for record in &notification.records {
        assert!(record
            .event_name
            .as_deref()
            .unwrap()
            .starts_with("ObjectCreated:"));
    }
    let key = notification.records[2].s3.object.key.as_deref().unwrap();
    assert_eq!(
        shared::s3::decode_notification_key(key).unwrap(),
        "data/train/Happy Face(1).csv"
    );
}

#[test]
fn s3_eventbridge_object_created() {
    let event: EventBridgeEvent<S3ObjectCreated> =
        parse_event(sample("s3-object-created.json")).unwrap();
    assert_eq!(event.source, S3_SOURCE);
    assert_eq!(event.detail_type, S3_OBJECT_CREATED);
    assert!(!event.detail.bucket.name.is_empty());
    assert!(!event.detail.object.key.is_empty());
}

/// The inference API's requests, as an API Gateway HTTP API (payload 2.0)
/// sends them: a prediction with its CSV body, and the model route.
#[test]
fn api_gateway_http_api_samples() {
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    let predict: ApiGatewayV2httpRequest = parse_event(sample("apigw-predictions.json")).unwrap();
    assert_eq!(predict.route_key.as_deref(), Some("POST /predictions"));
    assert_eq!(predict.request_context.http.method.as_str(), "POST");
    assert_eq!(predict.headers["content-type"], "text/csv");
    assert_eq!(predict.body.as_deref().map(|b| b.lines().count()), Some(3));
    assert!(!predict.is_base64_encoded);
    assert!(predict.request_context.request_id.is_some());
    let model: ApiGatewayV2httpRequest = parse_event(sample("apigw-model.json")).unwrap();
    assert_eq!(model.raw_path.as_deref(), Some("/model"));
    assert_eq!(model.body, None);
}
