//! Faults: throttling and 5xx injected by the emulator (tests/emulator/faults.py)
//! on the calls each handler makes. The handler's SDK retries (standard mode,
//! three attempts, as `shared::aws::sdk_config` sets it; the tests use a 1 ms
//! backoff), then the handler fails with a retryable error and reports no
//! work as done; once the fault clears, the same event delivered again
//! completes the work exactly once.

mod common;

use common::*;
use integration::{Emulator, Fault, MAX_ATTEMPTS};
use serde_json::{json, Value};

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

/// The faults every call is put through: throttling (HTTP 400
/// `ThrottlingException`, as SageMaker, EventBridge and Application Auto
/// Scaling send it) and two 5xx. Each fails all of a call's attempts.
fn faults(operation: &str) -> [(Fault, &'static str); 3] {
    let s3 = matches!(operation, "GetObject" | "PutObject");
    [
        (Fault::throttling(operation), "ThrottlingException"),
        (
            Fault::server_error(operation, 500),
            if s3 {
                "InternalError"
            } else {
                "InternalFailure"
            },
        ),
        (
            Fault::server_error(operation, 503),
            if s3 { "SlowDown" } else { "ServiceUnavailable" },
        ),
    ]
}

/// Injects `fault` on all `MAX_ATTEMPTS` attempts of one call, runs
/// `invocation`, and checks that it failed retryably with the service's code
/// after exactly `MAX_ATTEMPTS` attempts, and that the fault is used up.
async fn fails_retryably<T: std::fmt::Debug>(
    emulator: &Emulator,
    operation: &str,
    (fault, code): (Fault, &str),
    invocation: impl std::future::Future<Output = Result<T, shared::PipelineError>>,
) {
    emulator.reset_calls();
    emulator.inject_fault(fault.count(MAX_ATTEMPTS));
    let err = invocation.await.expect_err(&format!(
        "{operation} failing with {code} fails the invocation"
    ));
    assert_eq!(err.aws_code(), Some(code), "{err:?}");
    assert!(err.to_string().contains(operation), "{err}");
    assert_retryable(err);
    assert_eq!(
        emulator.count_calls(operation),
        MAX_ATTEMPTS as usize,
        "{operation} attempts: {:?}",
        emulator.calls()
    );
    assert!(emulator.faults().is_empty(), "{:?}", emulator.faults());
}

// --- trigger_model_training ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_fails_retryably_then_the_redelivered_push_starts_one_job() {
    use trigger_model_training::{handle, TriggerOutcome};
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config_fast_retries().await);
    let config = trigger_config();
    let event = push_event();

    for fault in faults("CreateTrainingJob") {
        let run = handle(&sagemaker, &config, invocation(&event));
        fails_retryably(&emulator, "CreateTrainingJob", fault, run).await;
        assert!(training_jobs(&sagemaker).await.is_empty());
    }

    let outcome = handle(&sagemaker, &config, invocation(&event)).await;
    assert!(
        matches!(outcome, Ok(TriggerOutcome::Started { .. })),
        "{outcome:?}"
    );
    let again = handle(&sagemaker, &config, invocation(&event)).await;
    assert!(
        matches!(&again, Ok(TriggerOutcome::Skipped { reason, .. }) if reason == "already started"),
        "{again:?}"
    );
    assert_eq!(training_jobs(&sagemaker).await.len(), 1);
}

/// A 5xx after SageMaker created the job: the SDK's retry finds the name
/// taken, which the handler reads as "already started". One job, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_whose_create_answer_is_lost_still_makes_one_job() {
    use trigger_model_training::{handle, TriggerOutcome};
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config_fast_retries().await);
    emulator.inject_fault(
        Fault::server_error("CreateTrainingJob", 500)
            .after()
            .count(1),
    );
    let outcome = handle(&sagemaker, &trigger_config(), invocation(&push_event())).await;
    assert!(
        matches!(&outcome, Ok(TriggerOutcome::Skipped { reason, .. }) if reason == "already started"),
        "{outcome:?}"
    );
    assert_eq!(emulator.count_calls("CreateTrainingJob"), 2);
    assert_eq!(training_jobs(&sagemaker).await.len(), 1);
}

// --- retrain_model_on_new_data ---------------------------------------------

/// Each call fails in turn: CreateSchedule for a new object; then, as its
/// burst falls due, ListSchedules, the image lookup and CreateTrainingJob
/// (nothing started, the schedule kept), and DeleteSchedule after the job
/// started. Every failure is retryable and none is reported as done; the
/// redelivered message finds the job started and clears the schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrain_fails_retryably_and_the_redelivery_starts_the_bursts_job_once() {
    use retrain_model_on_new_data::{handle, Action, Clients};
    let emulator = Emulator::start().await;
    retrain_setup(&emulator).await;
    let sdk = emulator.sdk_config_fast_retries().await;
    let clients = Clients {
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
        scheduler: aws_sdk_scheduler::Client::new(&sdk),
    };
    let config = retrain_config();
    let event = object_created("data/train/a.csv", &instant(minute_from_now(60)));

    for fault in faults("CreateSchedule") {
        let run = handle(&clients, &config, invocation(&event));
        fails_retryably(&emulator, "CreateSchedule", fault, run).await;
        assert!(retrain_schedules(&emulator).await.is_empty());
    }
    let scheduled = handle(&clients, &config, invocation(&event))
        .await
        .expect("scheduled");
    assert_eq!(scheduled.action, Action::Scheduled);
    let schedules = retrain_schedules(&emulator).await;
    assert_eq!(schedules.len(), 1);
    let due = due_message(&emulator, &schedules[0]).await;

    for operation in ["ListSchedules", "ListModelPackages", "CreateTrainingJob"] {
        for fault in faults(operation) {
            let run = handle(&clients, &config, invocation(&due));
            fails_retryably(&emulator, operation, fault, run).await;
            assert!(training_jobs(&clients.sagemaker).await.is_empty());
            assert_eq!(retrain_schedules(&emulator).await, schedules);
        }
    }
    for fault in faults("DeleteSchedule") {
        let run = handle(&clients, &config, invocation(&due));
        fails_retryably(&emulator, "DeleteSchedule", fault, run).await;
        assert_eq!(training_jobs(&clients.sagemaker).await.len(), 1);
        assert_eq!(retrain_schedules(&emulator).await, schedules);
    }
    let outcome = handle(&clients, &config, invocation(&due))
        .await
        .expect("the redelivery completes");
    assert_eq!(outcome.action, Action::Skipped);
    assert_eq!(
        outcome.training_jobs[0].reason.as_deref(),
        Some("already started")
    );
    assert!(retrain_schedules(&emulator).await.is_empty());
    assert_eq!(training_jobs(&clients.sagemaker).await.len(), 1);
}

// --- evaluate_model_function -----------------------------------------------

/// Every call of the evaluation fails in turn (the job's description, the
/// output archive, the report copy, the event): a retryable error each time
/// and no evaluation event; then the redelivered event publishes exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_fails_retryably_without_publishing_then_publishes_once() {
    use evaluate_model_function::{handle, Clients, EvaluateOutcome};
    let emulator = Emulator::start().await;
    let queue = evaluation_watch(&emulator).await;
    let (job, arn) = completed_job(&emulator, &json!({"rmse": 2.9})).await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let config = evaluate_config();
    let event = job_completed(&job, &arn);

    for operation in ["DescribeTrainingJob", "GetObject", "PutObject", "PutEvents"] {
        for fault in faults(operation) {
            let run = handle(&clients, &config, invocation(&event));
            fails_retryably(&emulator, operation, fault, run).await;
            if operation != "PutEvents" {
                assert_eq!(emulator.count_calls("PutEvents"), 0);
            }
            assert_eq!(
                evaluation_events(&emulator, &queue).await,
                Vec::<Value>::new()
            );
        }
    }

    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(outcome, Ok(EvaluateOutcome::Evaluated { passed: true, .. })),
        "{outcome:?}"
    );
    let published = evaluation_events(&emulator, &queue).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["detail"]["training_job_name"], job.as_str());
    assert_eq!(published[0]["detail"]["passed"], true);
}

/// PutEvents accepted but its answer lost: the SDK's retry publishes the
/// evaluation a second time (EventBridge has no idempotency token). The
/// two events are the same evaluation, and the register stage makes one
/// model package version of them (its ClientToken is the training job ARN).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_put_events_answer_publishes_twice_and_registers_once() {
    use evaluate_model_function::{handle, Clients, EvaluateOutcome};
    let emulator = Emulator::start().await;
    let queue = evaluation_watch(&emulator).await;
    let (job, arn) = completed_job(&emulator, &json!({"rmse": 2.9})).await;
    let sdk = emulator.sdk_config_fast_retries().await;
    let clients = Clients::new(&sdk);
    emulator.inject_fault(Fault::server_error("PutEvents", 500).after().count(1));
    let outcome = handle(
        &clients,
        &evaluate_config(),
        invocation(&job_completed(&job, &arn)),
    )
    .await;
    assert!(
        matches!(outcome, Ok(EvaluateOutcome::Evaluated { passed: true, .. })),
        "{outcome:?}"
    );
    assert_eq!(emulator.count_calls("PutEvents"), 2);
    let published = evaluation_events(&emulator, &queue).await;
    assert_eq!(published.len(), 2);
    assert_eq!(published[0]["detail"], published[1]["detail"]);

    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
    let mut arns = Vec::new();
    for event in &published {
        match register_model_in_registry::handle(&sagemaker, &register_config(), invocation(event))
            .await
        {
            Ok(register_model_in_registry::RegisterOutcome::Registered {
                model_package_arn,
                ..
            }) => arns.push(model_package_arn),
            other => panic!("not registered: {other:?}"),
        }
    }
    assert_eq!(arns[0], arns[1]);
    assert_eq!(versions(&sagemaker).await, [arns[0].clone()]);
}

// --- register_model_in_registry --------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_fails_retryably_then_the_redelivery_registers_one_version() {
    use register_model_in_registry::{handle, RegisterOutcome};
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config_fast_retries().await);
    let config = register_config();
    let event = evaluation_passed("mlops--ecr-mlops-training-0123456789abcdef");

    // The group is missing, so each of its calls is made; then the create.
    for operation in [
        "DescribeModelPackageGroup",
        "CreateModelPackageGroup",
        "CreateModelPackage",
    ] {
        for fault in faults(operation) {
            let run = handle(&sagemaker, &config, invocation(&event));
            fails_retryably(&emulator, operation, fault, run).await;
            if operation != "CreateModelPackage" {
                assert_eq!(emulator.count_calls("CreateModelPackage"), 0);
            }
            assert!(versions(&sagemaker).await.is_empty());
        }
    }

    let registered = |outcome: &Result<RegisterOutcome, shared::PipelineError>| match outcome {
        Ok(RegisterOutcome::Registered {
            model_package_arn,
            version,
            ..
        }) => (model_package_arn.clone(), *version),
        other => panic!("not registered: {other:?}"),
    };
    let first = registered(&handle(&sagemaker, &config, invocation(&event)).await);
    assert_eq!(first.1, Some(1));
    let again = registered(&handle(&sagemaker, &config, invocation(&event)).await);
    assert_eq!(again, first);
    assert_eq!(versions(&sagemaker).await, vec![first.0.clone()]);

    // Another job's evaluation, whose CreateModelPackage answer is lost after
    // SageMaker made the version: the SDK's retry, with the same ClientToken,
    // is answered that version, not a new one.
    emulator.reset_calls();
    emulator.inject_fault(
        Fault::server_error("CreateModelPackage", 503)
            .after()
            .count(1),
    );
    let other = evaluation_passed("mlops--ecr-mlops-training-fedcba9876543210");
    let second = registered(&handle(&sagemaker, &config, invocation(&other)).await);
    assert_eq!(second.1, Some(2));
    assert_eq!(emulator.count_calls("CreateModelPackage"), 2);
    assert_eq!(versions(&sagemaker).await.len(), 2);
}

// --- deploy_sagemaker_model ------------------------------------------------

/// No endpoint yet: each call of the creation fails in turn, then the
/// redelivered approval creates one model, one configuration, one endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_create_fails_retryably_then_the_redelivery_creates_one_endpoint() {
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let sagemaker = &clients.sagemaker;
    let config = deploy_config();
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    let event = decision(&v1, n1, "Approved");

    for operation in [
        "DescribeEndpoint",
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
    ] {
        for fault in faults(operation) {
            let run = handle(&clients, &config, invocation(&event));
            fails_retryably(&emulator, operation, fault, run).await;
            assert_eq!(endpoint_state(&emulator).await, None);
        }
    }

    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(outcome, Ok(DeployOutcome::Created { .. })),
        "{outcome:?}"
    );
    let again = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(&again, Ok(DeployOutcome::Skipped { reason, .. }) if reason == "live"),
        "{again:?}"
    );
    assert_eq!(models_and_configs(sagemaker).await, (1, 1));
    let state = endpoint_state(&emulator).await.expect("an endpoint");
    assert_eq!(state["UpdateCount"], 0);
    assert_eq!(state["EndpointStatus"], "InService");
}

/// CreateEndpoint done but its answer lost: the SDK's retry is told the
/// endpoint exists, which the handler reports as a skip (another delivery's
/// work, whose state change continues), and the redelivery finds it live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_whose_create_endpoint_answer_is_lost_is_retried_into_a_skip() {
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let config = deploy_config();
    let (v1, n1) = approved_version(&clients.sagemaker, 'a').await;
    let event = decision(&v1, n1, "Approved");

    emulator.inject_fault(Fault::server_error("CreateEndpoint", 500).after().count(1));
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(&outcome, Ok(DeployOutcome::Skipped { reason, .. }) if reason.starts_with("endpoint is busy")),
        "{outcome:?}"
    );
    assert_eq!(emulator.count_calls("CreateEndpoint"), 2);
    let again = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(&again, Ok(DeployOutcome::Skipped { reason, .. }) if reason == "live"),
        "{again:?}"
    );
    assert_eq!(models_and_configs(&clients.sagemaker).await, (1, 1));
    assert_eq!(endpoint_state(&emulator).await.unwrap()["UpdateCount"], 0);
}

/// An endpoint live on v1: UpdateEndpoint to v2 fails, then the redelivery
/// updates it once. Rejecting v2 then rolls back to v1, through a failing
/// ListModelPackages first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_update_and_rollback_fail_retryably_then_happen_once() {
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let sagemaker = &clients.sagemaker;
    let config = deploy_config();
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    handle(
        &clients,
        &config,
        invocation(&decision(&v1, n1, "Approved")),
    )
    .await
    .expect("created");
    // In service: its state change tags it with v1.
    let in_service = shared::test_support::sample("endpoint-in-service.json");
    handle(&clients, &config, invocation(&in_service))
        .await
        .expect("in service");
    let (v2, n2) = approved_version(sagemaker, 'b').await;
    let event = decision(&v2, n2, "Approved");

    for fault in faults("UpdateEndpoint") {
        let run = handle(&clients, &config, invocation(&event));
        fails_retryably(&emulator, "UpdateEndpoint", fault, run).await;
        assert_eq!(emulator.count_calls("AddTags"), 0);
        let state = endpoint_state(&emulator).await.unwrap();
        assert_eq!(state["UpdateCount"], 0);
        assert_eq!(
            state["EndpointConfigName"],
            config.endpoint_config_name(&v1, n1)
        );
    }
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(outcome, Ok(DeployOutcome::Updated { .. })),
        "{outcome:?}"
    );
    let state = endpoint_state(&emulator).await.unwrap();
    assert_eq!(state["UpdateCount"], 1);
    assert_eq!(
        state["EndpointConfigName"],
        config.endpoint_config_name(&v2, n2)
    );

    // v2 rejected while live: the lookup of the version to roll back to fails first.
    sagemaker
        .update_model_package()
        .model_package_arn(&v2)
        .model_approval_status(aws_sdk_sagemaker::types::ModelApprovalStatus::Rejected)
        .send()
        .await
        .unwrap();
    let rejected = decision(&v2, n2, "Rejected");
    for fault in faults("ListModelPackages") {
        let run = handle(&clients, &config, invocation(&rejected));
        fails_retryably(&emulator, "ListModelPackages", fault, run).await;
        assert_eq!(emulator.count_calls("UpdateEndpoint"), 0);
    }
    let outcome = handle(&clients, &config, invocation(&rejected)).await;
    assert!(
        matches!(outcome, Ok(DeployOutcome::RolledBack { model_package_version, .. }) if model_package_version == n1),
        "{outcome:?}"
    );
    let state = endpoint_state(&emulator).await.unwrap();
    assert_eq!(state["UpdateCount"], 2);
    assert_eq!(
        state["EndpointConfigName"],
        config.endpoint_config_name(&v1, n1)
    );
    assert_eq!(models_and_configs(sagemaker).await, (2, 2));
}

/// UpdateEndpoint succeeds, then AddTags (the tag naming the version the
/// endpoint moves to) fails: the invocation fails retryably. While the
/// deployment runs (StatusAfterUpdate Updating), the redelivery is a skip;
/// once it is in service, the redelivery finds v2 live, and the endpoint's
/// "Endpoint State Change" tags it with the version it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_whose_tagging_fails_after_the_update_retags_on_redelivery() {
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let sagemaker = &clients.sagemaker;
    let config = deploy_config();
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    handle(
        &clients,
        &config,
        invocation(&decision(&v1, n1, "Approved")),
    )
    .await
    .expect("created");
    // In service: its state change tags it with v1.
    let in_service = shared::test_support::sample("endpoint-in-service.json");
    handle(&clients, &config, invocation(&in_service))
        .await
        .expect("in service");
    let path = format!("/_emulator/sagemaker/endpoints/{ENDPOINT}");
    emulator.control(
        "POST",
        &path,
        Some(&json!({"StatusAfterUpdate": "Updating"})),
    );
    let (v2, n2) = approved_version(sagemaker, 'b').await;
    let event = decision(&v2, n2, "Approved");

    let run = handle(&clients, &config, invocation(&event));
    fails_retryably(&emulator, "AddTags", faults("AddTags")[0].clone(), run).await;
    assert_eq!(endpoint_state(&emulator).await.unwrap()["UpdateCount"], 1);

    // While the deployment runs, the redelivery waits for its state change.
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(&outcome, Ok(DeployOutcome::Skipped { reason, .. }) if reason.starts_with("endpoint is Updating")),
        "{outcome:?}"
    );
    emulator.control("POST", &path, Some(&json!({"EndpointStatus": "InService"})));
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(&outcome, Ok(DeployOutcome::Skipped { reason, .. }) if reason == "live"),
        "{outcome:?}"
    );
    handle(&clients, &config, invocation(&in_service))
        .await
        .expect("in service");
    assert_eq!(endpoint_state(&emulator).await.unwrap()["UpdateCount"], 1);
    assert_eq!(endpoint_version_tag(sagemaker).await, Some(n2.to_string()));
}

/// Autoscaling registration: the target, then the policy, fail in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_autoscaling_fails_retryably_then_registers_once() {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config_fast_retries().await);
    let config = deploy_config();
    let event = shared::test_support::sample("endpoint-in-service.json");

    for operation in ["RegisterScalableTarget", "PutScalingPolicy"] {
        for fault in faults(operation) {
            let run = handle(&clients, &config, invocation(&event));
            fails_retryably(&emulator, operation, fault, run).await;
            let policies = clients
                .autoscaling
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Sagemaker)
                .send()
                .await
                .unwrap();
            assert!(policies.scaling_policies().is_empty());
        }
    }
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert!(
        matches!(outcome, Ok(DeployOutcome::AutoscalingRegistered { .. })),
        "{outcome:?}"
    );
    let targets = clients
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.scalable_targets().len(), 1);
    let policies = clients
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap();
    assert_eq!(policies.scaling_policies().len(), 1);
}
