//! Faults: throttling and 5xx injected by the emulator (tests/emulator/faults.py)
//! on the calls each handler makes. The handler's SDK retries (standard mode,
//! three attempts, as `shared::aws::sdk_config` sets it; the tests use a 1 ms
//! backoff), then the handler fails with a retryable error and reports no
//! work as done; once the fault clears, the same event delivered again
//! completes the work exactly once.

use integration::{Emulator, Fault, MAX_ATTEMPTS};

/// The tests' retry policy is the functions' own, apart from the backoff.
#[tokio::test]
async fn the_tests_retry_as_the_functions_do() {
    let production = shared::aws::sdk_config().await;
    let production = production.retry_config().expect("a retry config");
    assert_eq!(production.mode(), aws_config::retry::RetryMode::Standard);
    assert_eq!(production.max_attempts(), MAX_ATTEMPTS);
}

/// The emulator's error answers are classified by the Rust SDK as AWS's are:
/// throttling and 5xx are retried, for the JSON (SageMaker, EventBridge) and
/// REST-XML (S3) protocols alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_injected_throttling_and_server_errors() {
    let emulator = Emulator::start().await;
    let config = emulator.sdk_config_fast_retries().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    let events = aws_sdk_eventbridge::Client::new(&config);

    emulator.inject_fault(Fault::throttling("ListTrainingJobs").count(1));
    emulator.inject_fault(Fault::server_error("ListTrainingJobs", 503).count(1));
    sagemaker
        .list_training_jobs()
        .send()
        .await
        .expect("third attempt");
    emulator.inject_fault(Fault::server_error("ListBuckets", 500).count(2));
    s3.list_buckets().send().await.expect("third attempt");
    emulator.inject_fault(Fault::throttling("ListEventBuses").count(2));
    events
        .list_event_buses()
        .send()
        .await
        .expect("third attempt");
    let log = emulator.call_log();
    let statuses: Vec<(&str, &str, Option<u16>, bool)> = log
        .iter()
        .map(|c| (c.service.as_str(), c.operation.as_str(), c.status, c.fault))
        .collect();
    assert_eq!(
        statuses,
        [
            ("sagemaker", "ListTrainingJobs", Some(400), true),
            ("sagemaker", "ListTrainingJobs", Some(503), true),
            ("sagemaker", "ListTrainingJobs", Some(200), false),
            ("s3", "ListBuckets", Some(500), true),
            ("s3", "ListBuckets", Some(500), true),
            ("s3", "ListBuckets", Some(200), false),
            ("events", "ListEventBuses", Some(400), true),
            ("events", "ListEventBuses", Some(400), true),
            ("events", "ListEventBuses", Some(200), false),
        ]
    );
    assert!(emulator.faults().is_empty());

    // Three failures exhaust the three attempts; the error is the service's.
    emulator.reset_calls();
    emulator.inject_fault(Fault::throttling("ListEndpoints").count(3));
    let err = sagemaker.list_endpoints().send().await.unwrap_err();
    let err = err.into_service_error();
    use aws_sdk_sagemaker::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.message(), Some("Rate exceeded"));
    assert_eq!(emulator.count_calls("ListEndpoints"), 3);
    assert_eq!(
        emulator.calls(),
        vec![("sagemaker".to_string(), "ListEndpoints".to_string()); 3]
    );

    // A non-retryable error is not retried.
    emulator.reset_calls();
    emulator.inject_fault(Fault::new("ListModels", 400, "ValidationException", "nope").count(3));
    sagemaker.list_models().send().await.unwrap_err();
    assert_eq!(emulator.count_calls("ListModels"), 1);
    emulator.clear_faults();
    assert!(emulator.faults().is_empty());
}
