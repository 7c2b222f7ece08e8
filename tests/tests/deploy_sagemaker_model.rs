//! deploy_sagemaker_model against the emulator, with the real handler and
//! SDK: create, reuse on a repeated event, blue/green update (the emulator
//! records the DeploymentConfig UpdateEndpoint received), rollback when the
//! live version is rejected, and a busy endpoint (tests/deploy_converges.rs
//! has the updates that take time, failures and staging).

use aws_sdk_sagemaker::types::{EndpointStatus, ModelApprovalStatus};
use deploy_sagemaker_model::{Clients, DeployConfig, DeployOutcome};
use integration::Emulator;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::sample;

mod common;
use common::{approved_version, invocation, models_and_configs, ENDPOINT};

fn config() -> DeployConfig {
    DeployConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
        ("DEPLOYMENT_TRAFFIC_ROUTING", "CANARY"),
        ("DEPLOYMENT_CANARY_PERCENT", "10"),
        ("DEPLOYMENT_WAIT_SECONDS", "600"),
        ("DEPLOYMENT_ROLLBACK_ALARMS", "mlops-endpoint-errors"),
        ("AUTOSCALING_MIN_INSTANCES", "1"),
        ("AUTOSCALING_MAX_INSTANCES", "3"),
        ("AUTOSCALING_TARGET_INVOCATIONS", "500"),
    ]))
    .unwrap()
}

/// The state-change event SageMaker sends for the version, as delivered.
fn decision(arn: &str, version: i64, status: &str) -> LambdaEvent<Value> {
    invocation(&common::decision(arn, version, status))
}

async fn live_config(sagemaker: &aws_sdk_sagemaker::Client) -> (EndpointStatus, String) {
    let endpoint = sagemaker
        .describe_endpoint()
        .endpoint_name(ENDPOINT)
        .send()
        .await
        .expect("DescribeEndpoint");
    (
        endpoint.endpoint_status().cloned().unwrap(),
        endpoint.endpoint_config_name().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_versions_go_live_and_a_rejected_live_version_rolls_back() {
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config().await);
    let sagemaker = &clients.sagemaker;
    sagemaker
        .create_model_package_group()
        .model_package_group_name("mlops--models")
        .send()
        .await
        .expect("CreateModelPackageGroup");
    let config = config();
    let deploy = |event| deploy_sagemaker_model::handle(&clients, &config, event);

    // First approval: no endpoint yet, so it is created.
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    let outcome = deploy(decision(&v1, n1, "Approved"))
        .await
        .expect("created");
    let v1_config = config.endpoint_config_name(&v1, n1);
    assert_eq!(
        outcome,
        DeployOutcome::Created {
            endpoint: ENDPOINT.into(),
            endpoint_config: v1_config.clone(),
            model_package_version: n1,
            smoke_test: None,
        }
    );
    assert_eq!(
        live_config(sagemaker).await,
        (EndpointStatus::InService, v1_config.clone())
    );
    let model_name = sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(&v1_config)
        .send()
        .await
        .unwrap()
        .production_variants()[0]
        .model_name()
        .unwrap()
        .to_string();
    let model = sagemaker
        .describe_model()
        .model_name(&model_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        model.containers()[0].model_package_name(),
        Some(v1.as_str())
    );

    // The same event again: already live, nothing new created.
    let again = deploy(decision(&v1, n1, "Approved"))
        .await
        .expect("skipped");
    assert!(
        matches!(again, DeployOutcome::Skipped { ref reason, .. } if reason == "live"),
        "{again:?}"
    );
    assert_eq!(models_and_configs(sagemaker).await, (1, 1));

    // Second approval: a blue/green canary update.
    let (v2, n2) = approved_version(sagemaker, 'b').await;
    let outcome = deploy(decision(&v2, n2, "Approved"))
        .await
        .expect("updated");
    let v2_config = config.endpoint_config_name(&v2, n2);
    assert!(
        matches!(outcome, DeployOutcome::Updated { ref endpoint_config, .. } if *endpoint_config == v2_config)
    );
    let state = emulator.control(
        "GET",
        &format!("/_emulator/sagemaker/endpoints/{ENDPOINT}"),
        None,
    );
    assert_eq!(state["EndpointConfigName"], v2_config.as_str());
    assert_eq!(state["UpdateCount"], 1);
    let deployment = &state["LastDeploymentConfig"];
    let routing = &deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"];
    assert_eq!(routing["Type"], "CANARY");
    assert_eq!(routing["WaitIntervalInSeconds"], 600);
    assert_eq!(
        routing["CanarySize"],
        json!({"Type": "CAPACITY_PERCENT", "Value": 10})
    );
    assert_eq!(
        deployment["AutoRollbackConfiguration"]["Alarms"][0]["AlarmName"],
        "mlops-endpoint-errors"
    );
    // The endpoint's tags name the version it moves to, and once in service
    // (its "Endpoint State Change"), the version it serves.
    let tags = common::endpoint_tags(sagemaker).await;
    let tag = |key: &str| tags.get(key).cloned();
    assert_eq!(
        tag("mlops:deploying-model-package-version"),
        Some(n2.to_string())
    );
    assert_eq!(tag("mlops:model-package-version"), Some(n1.to_string()));
    let mut in_service = sample("endpoint-in-service.json");
    in_service["detail"]["Tags"] = json!({"mlops:model-package-arn": v1});
    let outcome = deploy(invocation(&in_service)).await.expect("re-tagged");
    assert!(
        matches!(outcome, DeployOutcome::AutoscalingRegistered { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        common::endpoint_version_tag(sagemaker).await,
        Some(n2.to_string())
    );

    // Rejecting the live version rolls back to the newest other approved one.
    sagemaker
        .update_model_package()
        .model_package_arn(&v2)
        .model_approval_status(ModelApprovalStatus::Rejected)
        .send()
        .await
        .unwrap();
    let outcome = deploy(decision(&v2, n2, "Rejected"))
        .await
        .expect("rolled back");
    assert_eq!(
        outcome,
        DeployOutcome::RolledBack {
            endpoint: ENDPOINT.into(),
            endpoint_config: v1_config.clone(),
            model_package_version: n1,
            rejected_version: n2,
        }
    );
    assert_eq!(live_config(sagemaker).await.1, v1_config);
    // v1's model and config were reused, not made again.
    assert_eq!(models_and_configs(sagemaker).await, (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_endpoint_is_a_skip_and_its_next_state_change_continues() {
    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config().await);
    let sagemaker = &clients.sagemaker;
    sagemaker
        .create_model_package_group()
        .model_package_group_name("mlops--models")
        .send()
        .await
        .unwrap();
    let config = config();
    let (v1, n1) = approved_version(sagemaker, 'a').await;
    deploy_sagemaker_model::handle(&clients, &config, decision(&v1, n1, "Approved"))
        .await
        .expect("created");

    let (v2, n2) = approved_version(sagemaker, 'b').await;
    let path = format!("/_emulator/sagemaker/endpoints/{ENDPOINT}");
    emulator.control("POST", &path, Some(&json!({"EndpointStatus": "Updating"})));
    let outcome = deploy_sagemaker_model::handle(&clients, &config, decision(&v2, n2, "Approved"))
        .await
        .expect("a skip, not an error");
    assert!(
        matches!(outcome, DeployOutcome::Skipped { ref reason, .. } if reason == "endpoint is Updating; its next state change continues"),
        "{outcome:?}"
    );
    assert_eq!(emulator.control("GET", &path, None)["UpdateCount"], 0);

    // The endpoint's next state change (in service) continues the work.
    emulator.control("POST", &path, Some(&json!({"EndpointStatus": "InService"})));
    let outcome = deploy_sagemaker_model::handle(
        &clients,
        &config,
        invocation(&sample("endpoint-in-service.json")),
    )
    .await
    .expect("updated");
    assert!(
        matches!(outcome, DeployOutcome::Updated { model_package_version, .. } if model_package_version == n2),
        "{outcome:?}"
    );
    assert_eq!(emulator.control("GET", &path, None)["UpdateCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_in_service_is_registered_for_autoscaling() {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;

    let emulator = Emulator::start().await;
    let clients = Clients::new(&emulator.sdk_config().await);
    let payload = sample("endpoint-in-service.json");
    for _ in 0..2 {
        // SageMaker may send the event more than once: registering is an upsert.
        let outcome = deploy_sagemaker_model::handle(&clients, &config(), invocation(&payload))
            .await
            .expect("registered");
        assert!(
            matches!(outcome, DeployOutcome::AutoscalingRegistered { .. }),
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
    let targets = targets.scalable_targets();
    assert_eq!(targets.len(), 1);
    assert_eq!(
        targets[0].resource_id(),
        "endpoint/mlops--endpoint/variant/AllTraffic"
    );
    assert_eq!(
        (targets[0].min_capacity(), targets[0].max_capacity()),
        (1, 3)
    );
    let policies = clients
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap();
    let policies = policies.scaling_policies();
    assert_eq!(policies.len(), 1);
    let tracking = policies[0]
        .target_tracking_scaling_policy_configuration()
        .unwrap();
    assert_eq!(tracking.target_value(), 500.0);
}
