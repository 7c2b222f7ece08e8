//! Duplicates: EventBridge delivers at least once, so every handler is given
//! the same event again, one delivery after the other and eight at once, and
//! must leave one resource: one training job, one model package version, one
//! endpoint creation or update.
//!
//! Covered elsewhere, not repeated here: trigger_model_training's push twice
//! and eight at once (trigger_model_training.rs), register's evaluation event
//! twice (evaluate_and_register.rs), deploy's approval twice and the
//! endpoint-in-service event twice (deploy_sagemaker_model.rs).

mod common;

use std::sync::Arc;

use chrono::Duration;

use common::*;
use integration::Emulator;
use serde_json::{json, Value};
use tokio::task::JoinSet;

const DELIVERIES: usize = 8;

/// `DELIVERIES` concurrent runs of `run(i)`, their results in completion order.
async fn at_once<T, F, Fut>(run: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut set = JoinSet::new();
    for i in 0..DELIVERIES {
        set.spawn(run(i));
    }
    let mut results = Vec::with_capacity(DELIVERIES);
    while let Some(joined) = set.join_next().await {
        results.push(joined.expect("delivery task"));
    }
    results
}

// --- retrain_model_on_new_data ---------------------------------------------

/// A batch delivered twice, then eight times at once, asks for one burst
/// schedule; that schedule falling due twice, then eight times at once,
/// starts one training job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrain_one_batch_twice_and_eight_at_once_schedules_one_burst_and_starts_one_job() {
    use retrain_model_on_new_data::{handle, Action};
    let emulator = Emulator::start().await;
    retrain_setup(&emulator).await;
    let clients = Arc::new(retrain_clients(&emulator).await);
    let config = Arc::new(retrain_config());

    // An hour ahead: a due time in the past would be moved to now.
    let base = minute_from_now(60);
    let batch = sqs_batch(&[
        object_created("data/train/a.csv", &instant(base)),
        object_created("data/train/b.csv", &instant(base + Duration::seconds(20))),
    ]);
    let first = handle(&clients, &config, invocation(&batch))
        .await
        .expect("scheduled");
    assert_eq!(first.action, Action::Scheduled);
    assert!(first.schedules[0].created);
    emulator.reset_calls();
    let second = handle(&clients, &config, invocation(&batch))
        .await
        .expect("scheduled");
    assert_eq!(second.action, Action::Scheduled);
    assert!(!second.schedules[0].created, "{second:?}");
    assert_eq!(
        emulator.calls(),
        [("scheduler".to_string(), "CreateSchedule".to_string())]
    );
    let outcomes = at_once(|_| {
        let (clients, config, batch) = (clients.clone(), config.clone(), batch.clone());
        async move { handle(&clients, &config, invocation(&batch)).await }
    })
    .await;
    for outcome in outcomes {
        let outcome = outcome.expect("no delivery fails");
        assert_eq!(outcome.batch_item_failures, Some(Vec::new()));
        assert_eq!(outcome.schedules[0].schedule, first.schedules[0].schedule);
    }
    let schedules = retrain_schedules(&emulator).await;
    assert_eq!(schedules, [first.schedules[0].schedule.clone()]);

    // The schedule falls due: twice, then eight deliveries at once.
    let due = sqs_batch(&[due_message(&emulator, &schedules[0]).await]);
    let started = handle(&clients, &config, invocation(&due))
        .await
        .expect("started");
    assert_eq!(started.action, Action::Started);
    let again = handle(&clients, &config, invocation(&due))
        .await
        .expect("skipped");
    assert_eq!(
        again.training_jobs[0].reason.as_deref(),
        Some("the schedule is gone: a later firing settled the burst")
    );
    let outcomes = at_once(|_| {
        let (clients, config, due) = (clients.clone(), config.clone(), due.clone());
        async move { handle(&clients, &config, invocation(&due)).await }
    })
    .await;
    for outcome in outcomes {
        assert_eq!(outcome.expect("no delivery fails").action, Action::Skipped);
    }
    let jobs = training_jobs(&clients.sagemaker).await;
    assert_eq!(jobs, [started.training_jobs[0].training_job_name.clone()]);
    // Due on the minute after the newest object's quiet period (5 minutes).
    let due_minute = (base + Duration::minutes(6)).format("%Y%m%d-%H%M");
    assert!(
        jobs[0].starts_with(&format!("mlops--s3-{due_minute}-")),
        "{jobs:?}"
    );
    assert!(retrain_schedules(&emulator).await.is_empty());
}

// --- evaluate_model_function → register_model_in_registry -----------------

/// What a repeated "Training Job State Change" does: evaluate publishes an
/// evaluation event per delivery (PutEvents has no idempotency token, and the
/// function keeps no state), each with the same detail; the report copy is
/// one object, overwritten. The register stage turns all of them into one
/// model package version: its ClientToken is derived from the training job
/// ARN. So the pipeline's contract holds (one version), but the evaluation
/// event itself is at least once, like every EventBridge event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_twice_and_eight_at_once_publishes_per_delivery_and_registers_one_version() {
    use evaluate_model_function::{handle, Clients, EvaluateOutcome};
    let emulator = Emulator::start().await;
    let queue = evaluation_watch(&emulator).await;
    let (job, arn) = completed_job(&emulator, &json!({"rmse": 2.9})).await;
    let sdk = emulator.sdk_config().await;
    let clients = Arc::new(Clients::new(&sdk));
    let config = Arc::new(evaluate_config());
    let event = job_completed(&job, &arn);

    for _ in 0..2 {
        let outcome = handle(&clients, &config, invocation(&event)).await;
        assert!(
            matches!(outcome, Ok(EvaluateOutcome::Evaluated { passed: true, .. })),
            "{outcome:?}"
        );
    }
    let outcomes = at_once(|_| {
        let (clients, config, event) = (clients.clone(), config.clone(), event.clone());
        async move { handle(&clients, &config, invocation(&event)).await }
    })
    .await;
    for outcome in outcomes {
        assert!(
            matches!(outcome, Ok(EvaluateOutcome::Evaluated { passed: true, .. })),
            "{outcome:?}"
        );
    }

    let published = evaluation_events(&emulator, &queue).await;
    assert_eq!(published.len(), 2 + DELIVERIES);
    for event in &published {
        assert_eq!(event["detail"], published[0]["detail"]);
    }
    assert_eq!(published[0]["detail"]["training_job_arn"], arn.as_str());
    let copies = aws_sdk_s3::Client::new(&sdk)
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(format!("models/{job}/output/evaluation.json"))
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(copies.contents().len(), 1);

    // Every one of those events registered, all at once: one version.
    let sagemaker = Arc::new(aws_sdk_sagemaker::Client::new(&sdk));
    let register = Arc::new(register_config());
    let mut set = JoinSet::new();
    for event in published {
        let (sagemaker, register) = (sagemaker.clone(), register.clone());
        set.spawn(async move {
            register_model_in_registry::handle(&sagemaker, &register, invocation(&event)).await
        });
    }
    let mut arns = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined.expect("register task") {
            Ok(register_model_in_registry::RegisterOutcome::Registered {
                model_package_arn,
                ..
            }) => arns.push(model_package_arn),
            other => panic!("not registered: {other:?}"),
        }
    }
    arns.dedup();
    assert_eq!(arns.len(), 1, "{arns:?}");
    assert_eq!(versions(&sagemaker).await, arns);
}

// --- register_model_in_registry --------------------------------------------

/// Eight deliveries at once, before the group exists: they race to create
/// the group (one wins, "already exists" is fine for the others) and to
/// create the version (one ClientToken: one version, the same ARN for all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_eight_at_once_registers_one_version() {
    use register_model_in_registry::{handle, RegisterOutcome};
    let emulator = Emulator::start().await;
    let sagemaker = Arc::new(aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await));
    let config = Arc::new(register_config());
    let event = evaluation_passed("mlops--ecr-mlops-training-0123456789abcdef");

    let outcomes = at_once(|_| {
        let (sagemaker, config, event) = (sagemaker.clone(), config.clone(), event.clone());
        async move { handle(&sagemaker, &config, invocation(&event)).await }
    })
    .await;
    let mut arns: Vec<String> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(RegisterOutcome::Registered {
                model_package_arn,
                version: Some(1),
                ..
            }) => model_package_arn,
            other => panic!("not registered as version 1: {other:?}"),
        })
        .collect();
    arns.dedup();
    assert_eq!(arns.len(), 1, "{arns:?}");
    assert_eq!(versions(&sagemaker).await, arns);
    assert_eq!(emulator.count_calls("CreateModelPackage"), DELIVERIES);
}

// --- deploy_sagemaker_model ------------------------------------------------

/// A result of deploy's, reduced to what the duplicates tests count.
fn kind(outcome: &Result<deploy_sagemaker_model::DeployOutcome, shared::PipelineError>) -> String {
    use deploy_sagemaker_model::DeployOutcome;
    match outcome {
        Ok(DeployOutcome::Created { .. }) => "created".into(),
        Ok(DeployOutcome::Updated { .. }) => "updated".into(),
        Ok(DeployOutcome::RolledBack { .. }) => "rolled back".into(),
        Ok(DeployOutcome::Skipped { reason, .. }) => format!("skipped: {reason}"),
        Ok(other) => format!("{other:?}"),
        Err(err) => err.error_type().to_string(),
    }
}

fn tally(kinds: Vec<String>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for kind in kinds {
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts.sort();
    counts
}

/// Whether a kind is a skip because the endpoint is mid-change (its next
/// state change continues the work).
fn waits(kind: &str) -> bool {
    kind.starts_with("skipped: endpoint is") && kind.ends_with("its next state change continues")
}

/// Eight approvals of the first version at once, no endpoint yet: one
/// creates it; the others reuse the model and configuration, and either find
/// it live or lose the race to create it, which is a skip (its state change
/// continues). No error, one endpoint, never updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_eight_approvals_at_once_create_one_endpoint() {
    use deploy_sagemaker_model::{handle, Clients};
    let emulator = Emulator::start().await;
    let clients = Arc::new(Clients::new(&emulator.sdk_config().await));
    let config = Arc::new(deploy_config());
    let (v1, n1) = approved_version(&clients.sagemaker, 'a').await;
    let event = decision(&v1, n1, "Approved");

    let deliver = |_| {
        let (clients, config, event) = (clients.clone(), config.clone(), event.clone());
        async move { handle(&clients, &config, invocation(&event)).await }
    };
    let kinds: Vec<String> = at_once(deliver).await.iter().map(kind).collect();
    let lost = kinds.iter().filter(|k| waits(k)).count();
    assert!(
        kinds
            .iter()
            .all(|k| k == "created" || k == "skipped: live" || waits(k)),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "created").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(emulator.count_calls("CreateEndpoint"), 1 + lost);

    // Delivered again (or the scheduled check): live.
    let outcome = handle(&clients, &config, invocation(&event)).await;
    assert_eq!(kind(&outcome), "skipped: live");
    assert_eq!(models_and_configs(&clients.sagemaker).await, (1, 1));
    let state = endpoint_state(&emulator).await.expect("an endpoint");
    assert_eq!(state["UpdateCount"], 0);
}

/// An endpoint live on v1. The endpoint is Updating while a deployment runs,
/// as in SageMaker (the emulator's `StatusAfterUpdate`); an instant update
/// would let a racing duplicate update again, which SageMaker refuses.
///
/// v2's approval twice, then eight at once: one UpdateEndpoint, the others
/// skips while the deployment runs, then "live". Then v2 rejected, eight at
/// once: one rollback to v1. No delivery is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_repeated_approvals_and_rejections_update_once_each() {
    use deploy_sagemaker_model::{handle, Clients};
    let emulator = Emulator::start().await;
    let clients = Arc::new(Clients::new(&emulator.sdk_config().await));
    let sagemaker = &clients.sagemaker;
    let config = Arc::new(deploy_config());
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    let created = handle(
        &clients,
        &config,
        invocation(&decision(&v1, n1, "Approved")),
    )
    .await;
    assert_eq!(kind(&created), "created");
    let path = format!("/_emulator/sagemaker/endpoints/{ENDPOINT}");
    emulator.control(
        "POST",
        &path,
        Some(&json!({"StatusAfterUpdate": "Updating"})),
    );
    let deployment_ends = || {
        emulator.control("POST", &path, Some(&json!({"EndpointStatus": "InService"})));
    };
    let deliver_at_once = |event: Value| {
        let (clients, config) = (clients.clone(), config.clone());
        at_once(move |_| {
            let (clients, config, event) = (clients.clone(), config.clone(), event.clone());
            async move { handle(&clients, &config, invocation(&event)).await }
        })
    };
    let updated_once = |kinds: &[String]| {
        kinds.iter().filter(|k| *k == "updated").count() == 1
            && kinds.iter().all(|k| k == "updated" || waits(k))
    };

    // Twice, one after the other, during and after the deployment.
    let (v2, n2) = approved_version(sagemaker, 'b').await;
    let approved = decision(&v2, n2, "Approved");
    let first = handle(&clients, &config, invocation(&approved)).await;
    assert_eq!(kind(&first), "updated");
    let during = handle(&clients, &config, invocation(&approved)).await;
    assert_eq!(
        kind(&during),
        "skipped: endpoint is Updating; its next state change continues"
    );
    deployment_ends();
    let after = handle(&clients, &config, invocation(&approved)).await;
    assert_eq!(kind(&after), "skipped: live");
    assert_eq!(endpoint_state(&emulator).await.unwrap()["UpdateCount"], 1);
    // The deployment's "Endpoint State Change" (in service) tags it with v2.
    let in_service = shared::test_support::sample("endpoint-in-service.json");
    handle(&clients, &config, invocation(&in_service))
        .await
        .expect("in service");
    assert_eq!(endpoint_version_tag(sagemaker).await, Some(n2.to_string()));

    // Eight at once: v3 (one AddTags: the winner's, naming v3 as the version
    // the endpoint moves to).
    let (v3, n3) = approved_version(sagemaker, 'c').await;
    let approved = decision(&v3, n3, "Approved");
    emulator.reset_calls();
    let kinds: Vec<String> = deliver_at_once(approved.clone())
        .await
        .iter()
        .map(kind)
        .collect();
    assert!(updated_once(&kinds), "{kinds:?}");
    // The losers of the race may have asked too: SageMaker refused them.
    let updates = emulator.count_calls("UpdateEndpoint");
    assert!((1..=DELIVERIES).contains(&updates), "{updates}");
    assert_eq!(emulator.count_calls("AddTags"), 1);
    deployment_ends();
    let kinds = tally(deliver_at_once(approved).await.iter().map(kind).collect());
    assert_eq!(kinds, [("skipped: live".to_string(), DELIVERIES)]);
    let state = endpoint_state(&emulator).await.unwrap();
    assert_eq!(state["UpdateCount"], 2);
    assert_eq!(
        state["EndpointConfigName"],
        config.endpoint_config_name(&v3, n3)
    );
    // Its "Endpoint State Change" (in service) re-tags it with the version.
    handle(&clients, &config, invocation(&in_service))
        .await
        .expect("in service");
    assert_eq!(endpoint_version_tag(sagemaker).await, Some(n3.to_string()));

    // v3 rejected while live, eight at once: one rollback, to v2.
    sagemaker
        .update_model_package()
        .model_package_arn(&v3)
        .model_approval_status(aws_sdk_sagemaker::types::ModelApprovalStatus::Rejected)
        .send()
        .await
        .unwrap();
    // A delivery that reads the endpoint after the rollback began finds it
    // Updating; one that read it before is refused the update: both skips.
    let rejected = decision(&v3, n3, "Rejected");
    let kinds: Vec<String> = deliver_at_once(rejected.clone())
        .await
        .iter()
        .map(kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "rolled back").count(),
        1,
        "{kinds:?}"
    );
    assert!(
        kinds.iter().all(|k| k == "rolled back" || waits(k)),
        "{kinds:?}"
    );
    deployment_ends();
    let again = handle(&clients, &config, invocation(&rejected)).await;
    assert_eq!(kind(&again), "skipped: live");
    let state = endpoint_state(&emulator).await.unwrap();
    assert_eq!(state["UpdateCount"], 3);
    assert_eq!(
        state["EndpointConfigName"],
        config.endpoint_config_name(&v2, n2)
    );
    // One model and one configuration per version, whatever the deliveries.
    assert_eq!(models_and_configs(sagemaker).await, (3, 3));
}

/// SageMaker may send "Endpoint State Change" IN_SERVICE more than once:
/// eight at once register one scalable target with one policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_eight_in_service_events_at_once_register_autoscaling_once() {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;
    use deploy_sagemaker_model::{handle, Clients, DeployOutcome};
    let emulator = Emulator::start().await;
    let clients = Arc::new(Clients::new(&emulator.sdk_config().await));
    let config = Arc::new(deploy_config());
    let event = shared::test_support::sample("endpoint-in-service.json");
    let outcomes = at_once(|_| {
        let (clients, config, event) = (clients.clone(), config.clone(), event.clone());
        async move { handle(&clients, &config, invocation(&event)).await }
    })
    .await;
    for outcome in outcomes {
        assert!(
            matches!(outcome, Ok(DeployOutcome::AutoscalingRegistered { .. })),
            "{outcome:?}"
        );
    }
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
