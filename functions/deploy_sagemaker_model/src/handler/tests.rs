//! Handler tests against mocked AWS services (aws-smithy-mocks), one per row
//! of the decision table (docs/deployment.md, "The decision table"): what is read,
//! the one step taken, and what is never called.

use std::collections::HashMap;

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::add_tags::AddTagsOutput;
use aws_sdk_sagemaker::operation::create_endpoint::CreateEndpointOutput;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigOutput;
use aws_sdk_sagemaker::operation::create_model::CreateModelOutput;
use aws_sdk_sagemaker::operation::delete_endpoint::DeleteEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointOutput;
use aws_sdk_sagemaker::operation::update_model_package::UpdateModelPackageOutput;
use aws_sdk_sagemaker::types::{
    EndpointStatus, ModelLifeCycle, ModelPackageSummary, Tag, TrafficRoutingConfigType,
};
use aws_sdk_sagemaker::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use super::*;

const V3: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
const V2: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/2";
const PRODUCTION: &str = "mlops--endpoint";
const STAGING: &str = "mlops--staging-endpoint";
const PRODUCTION_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/mlops--endpoint";
const STAGING_ARN: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:endpoint/mlops--staging-endpoint";
const REQUESTS: &str = r#"{"body": "59,2,32.1,101,157,93.2,38,4,4.8598,87", "expected": {"predictions": [150.0]}}
{"body": "48,1,21.6,87,183,103.2,70,3,3.8918,69"}
"#;

fn config(extra: &[(&'static str, &'static str)]) -> DeployConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

fn staged_config() -> DeployConfig {
    config(&[
        ("STAGING_ENABLED", "true"),
        (
            "SMOKE_TEST_REQUESTS_S3_URI",
            "s3://mlops-data/smoke/requests.jsonl",
        ),
        ("SMOKE_TEST_TOLERANCE", "0.1"),
    ])
}

fn epc(endpoint: &str, arn: &str, number: i64) -> String {
    config(&[])
        .version(arn, number)
        .endpoint_config_name(endpoint)
}

/// An endpoint as DescribeEndpoint shows it.
#[derive(Clone)]
struct Endpoint {
    status: EndpointStatus,
    config: String,
    failure_reason: Option<&'static str>,
}

fn on(status: EndpointStatus, arn: &str, number: i64) -> Option<Endpoint> {
    Some(Endpoint {
        status,
        config: epc(PRODUCTION, arn, number),
        failure_reason: None,
    })
}

fn staging_on(status: EndpointStatus, arn: &str, number: i64) -> Option<Endpoint> {
    Some(Endpoint {
        status,
        config: epc(STAGING, arn, number),
        failure_reason: None,
    })
}

fn approved(arn: &str, number: i32, life_cycle: Option<(&str, &str)>) -> ModelPackageSummary {
    ModelPackageSummary::builder()
        .model_package_arn(arn)
        .model_package_version(number)
        .set_model_life_cycle(life_cycle.map(|(stage, status)| {
            ModelLifeCycle::builder()
                .stage(stage)
                .stage_status(status)
                .build()
        }))
        .build()
}

/// Where everything stands; [`World::mocks`] answers every call from it.
#[derive(Clone)]
struct World {
    production: Option<Endpoint>,
    staging: Option<Endpoint>,
    /// Newest first.
    approved: Vec<ModelPackageSummary>,
    /// Both endpoints' tags (ListTags).
    tags: Vec<(&'static str, String)>,
    /// The model's answer on staging: content type and body, or an HTTP
    /// status it failed with.
    answer: Result<(&'static str, &'static str), u16>,
}

impl Default for World {
    fn default() -> Self {
        World {
            production: None,
            staging: None,
            approved: vec![approved(V3, 3, None), approved(V2, 2, None)],
            tags: Vec::new(),
            answer: Ok(("application/json", r#"{"predictions": [151.5]}"#)),
        }
    }
}

/// The mocked calls, by operation name.
struct Mocks(HashMap<&'static str, Rule>);

impl World {
    fn mocks(&self) -> Mocks {
        let mut rules = HashMap::new();
        for (name, arn, state) in [
            (PRODUCTION, PRODUCTION_ARN, self.production.clone()),
            (STAGING, STAGING_ARN, self.staging.clone()),
        ] {
            let rule = mock!(Client::describe_endpoint)
                .match_requests(move |req| req.endpoint_name() == Some(name))
                .sequence();
            let rule = match state {
                None => rule.http_response(move || {
                    aws_error(
                        400,
                        "ValidationException",
                        &format!("Could not find endpoint \"{arn}\"."),
                    )
                }),
                Some(endpoint) => rule.output(move || {
                    DescribeEndpointOutput::builder()
                        .endpoint_name(name)
                        .endpoint_arn(arn)
                        .endpoint_config_name(&endpoint.config)
                        .endpoint_status(endpoint.status.clone())
                        .set_failure_reason(endpoint.failure_reason.map(str::to_string))
                        .build()
                }),
            };
            let key = if name == PRODUCTION {
                "DescribeEndpoint"
            } else {
                "DescribeEndpoint(staging)"
            };
            rules.insert(key, rule.repeatedly().build());
        }
        let approved = self.approved.clone();
        rules.insert(
            "ListModelPackages",
            mock!(Client::list_model_packages)
                .sequence()
                .output(move || {
                    ListModelPackagesOutput::builder()
                        .set_model_package_summary_list(Some(approved.clone()))
                        .build()
                })
                .repeatedly()
                .build(),
        );
        let tags = self.tags.clone();
        rules.insert(
            "ListTags",
            mock!(Client::list_tags)
                .sequence()
                .output(move || {
                    ListTagsOutput::builder()
                        .set_tags(Some(
                            tags.iter()
                                .map(|(k, v)| Tag::builder().key(*k).value(v).build())
                                .collect(),
                        ))
                        .build()
                })
                .repeatedly()
                .build(),
        );
        macro_rules! ok {
            ($name:literal, $op:path, $output:expr) => {
                rules.insert(
                    $name,
                    mock!($op)
                        .sequence()
                        .output(|| $output)
                        .repeatedly()
                        .build(),
                );
            };
        }
        ok!(
            "CreateModel",
            Client::create_model,
            CreateModelOutput::builder().model_arn("arn:model").build()
        );
        ok!(
            "CreateEndpointConfig",
            Client::create_endpoint_config,
            CreateEndpointConfigOutput::builder()
                .endpoint_config_arn("arn:epc")
                .build()
        );
        ok!(
            "CreateEndpoint",
            Client::create_endpoint,
            CreateEndpointOutput::builder()
                .endpoint_arn(PRODUCTION_ARN)
                .build()
        );
        ok!(
            "UpdateEndpoint",
            Client::update_endpoint,
            UpdateEndpointOutput::builder()
                .endpoint_arn(PRODUCTION_ARN)
                .build()
        );
        ok!(
            "AddTags",
            Client::add_tags,
            AddTagsOutput::builder().build()
        );
        ok!(
            "DeleteEndpoint",
            Client::delete_endpoint,
            DeleteEndpointOutput::builder().build()
        );
        ok!(
            "UpdateModelPackage",
            Client::update_model_package,
            UpdateModelPackageOutput::builder()
                .model_package_arn(V3)
                .build()
        );
        ok!(
            "PutEvents",
            aws_sdk_eventbridge::Client::put_events,
            put_events_accepted()
        );
        rules.insert(
            "GetObject",
            mock!(aws_sdk_s3::Client::get_object)
                .sequence()
                .output(|| {
                    aws_sdk_s3::operation::get_object::GetObjectOutput::builder()
                        .body(aws_sdk_s3::primitives::ByteStream::from_static(
                            REQUESTS.as_bytes(),
                        ))
                        .build()
                })
                .repeatedly()
                .build(),
        );
        let answer = self.answer;
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
            .match_requests(|req| req.endpoint_name() == Some(STAGING))
            .sequence();
        let invoke = match answer {
            Ok((content_type, body)) => invoke.output(move || {
                aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput::builder(
                )
                .content_type(content_type)
                .body(aws_sdk_sagemakerruntime::primitives::Blob::new(body))
                .build()
            }),
            Err(status) => invoke.http_response(move || model_error(status)),
        };
        rules.insert("InvokeEndpoint", invoke.repeatedly().build());
        Mocks(rules)
    }
}

/// PutEvents' answer when it took the one entry.
fn put_events_accepted() -> aws_sdk_eventbridge::operation::put_events::PutEventsOutput {
    aws_sdk_eventbridge::operation::put_events::PutEventsOutput::builder()
        .failed_entry_count(0)
        .entries(
            aws_sdk_eventbridge::types::PutEventsResultEntry::builder()
                .event_id("event-1")
                .build(),
        )
        .build()
}

/// SageMaker Runtime's answer when the model answered `status`.
fn model_error(status: u16) -> Response {
    let mut response = Response::new(
        StatusCode::try_from(424).unwrap(),
        SdkBody::from(
            json!({"OriginalStatusCode": status, "OriginalMessage": "internal error", "Message": "Received server error from primary"})
                .to_string(),
        ),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", "ModelError");
    response
}

impl Mocks {
    /// Replaces one operation's answer.
    fn with(mut self, name: &'static str, rule: Rule) -> Mocks {
        self.0.insert(name, rule);
        self
    }

    fn calls(&self, name: &str) -> usize {
        self.0[name].num_calls()
    }

    /// Operations called, sorted, with their counts.
    fn called(&self) -> Vec<(&'static str, usize)> {
        let mut called: Vec<_> = self
            .0
            .iter()
            .map(|(name, rule)| (*name, rule.num_calls()))
            .filter(|(_, n)| *n > 0)
            .collect();
        called.sort();
        called
    }

    async fn run(
        &self,
        config: &DeployConfig,
        payload: Value,
    ) -> Result<DeployOutcome, PipelineError> {
        let rules: Vec<&Rule> = self.0.values().collect();
        let clients = Clients {
            sagemaker: mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, &rules, |c| c
                .retry_config(RetryConfig::standard().with_max_attempts(3))),
            autoscaling: mock_client!(
                aws_sdk_applicationautoscaling,
                RuleMode::MatchAny,
                Vec::<&Rule>::new()
            ),
            runtime: mock_client!(aws_sdk_sagemakerruntime, RuleMode::MatchAny, &rules),
            s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, &rules),
            events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, &rules),
        };
        handle(&clients, config, invocation(payload)).await
    }
}

fn scheduled() -> Value {
    sample("scheduled-deployment-check.json")
}

fn in_service(endpoint: &str, tags: Value) -> Value {
    let mut event = sample("endpoint-in-service.json");
    event["detail"]["EndpointName"] = json!(endpoint);
    event["detail"]["Tags"] = tags;
    event
}

fn skip_reason(outcome: &DeployOutcome) -> &str {
    match outcome {
        DeployOutcome::Skipped { reason, .. } => reason,
        other => panic!("expected a skip, got {other:?}"),
    }
}

// --- production, no staging ----------------------------------------------

#[tokio::test]
async fn the_scheduled_check_with_nothing_to_do_reads_twice_and_writes_nothing() {
    let world = World {
        production: on(EndpointStatus::InService, V3, 3),
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert_eq!(skip_reason(&outcome), "live");
    assert_eq!(
        mocks.called(),
        [("DescribeEndpoint", 1), ("ListModelPackages", 1)]
    );
}

#[tokio::test]
async fn no_approved_version_is_a_skip() {
    let world = World {
        approved: Vec::new(),
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert_eq!(
        skip_reason(&outcome),
        "no approved version whose deployment has not failed"
    );
    assert_eq!(
        mocks.called(),
        [("DescribeEndpoint", 1), ("ListModelPackages", 1)]
    );
}

#[tokio::test]
async fn approved_without_an_endpoint_creates_it_tagged_with_the_version() {
    let expected = epc(PRODUCTION, V3, 3);
    let mocks = World::default().mocks().with(
        "CreateEndpoint",
        mock!(Client::create_endpoint)
            .match_requests(move |req| {
                let tag = |key: &str| {
                    req.tags()
                        .iter()
                        .find(|t| t.key() == Some(key))
                        .and_then(|t| t.value())
                        .map(str::to_string)
                };
                // The version it serves is tagged once it is in service.
                req.endpoint_name() == Some(PRODUCTION)
                    && req.endpoint_config_name() == Some(expected.as_str())
                    && tag("mlops:pipeline").as_deref() == Some("mlops")
                    && tag("mlops:model-package-arn").is_none()
                    && tag("mlops:deploying-model-package-arn").as_deref() == Some(V3)
                    && tag("mlops:deploying-model-package-version").as_deref() == Some("3")
            })
            .then_output(|| {
                CreateEndpointOutput::builder()
                    .endpoint_arn(PRODUCTION_ARN)
                    .build()
            }),
    );
    let outcome = mocks
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::Created {
            endpoint: PRODUCTION.into(),
            endpoint_config: epc(PRODUCTION, V3, 3),
            model_package_version: 3,
            smoke_test: None,
        }
    );
    assert_eq!(
        mocks.called(),
        [
            ("CreateEndpoint", 1),
            ("CreateEndpointConfig", 1),
            ("CreateModel", 1),
            ("DescribeEndpoint", 1),
            ("ListModelPackages", 1),
        ]
    );
    assert_eq!(serde_json::to_value(&outcome).unwrap()["action"], "created");
}

#[tokio::test]
async fn a_live_endpoint_on_an_older_version_is_updated_blue_green_and_tagged() {
    let expected = epc(PRODUCTION, V3, 3);
    let world = World {
        production: on(EndpointStatus::InService, V2, 2),
        tags: vec![
            ("mlops:model-package-arn", V2.into()),
            ("mlops:deploying-model-package-arn", V2.into()),
            ("mlops:deploying-model-package-version", "2".into()),
        ],
        ..World::default()
    };
    let mocks = world
        .mocks()
        .with(
            "UpdateEndpoint",
            mock!(Client::update_endpoint)
                .match_requests(move |req| {
                    let routing = req
                        .deployment_config()
                        .and_then(|d| d.blue_green_update_policy())
                        .and_then(|p| p.traffic_routing_configuration());
                    req.endpoint_config_name() == Some(expected.as_str())
                        && routing.and_then(|r| r.r#type())
                            == Some(&TrafficRoutingConfigType::Linear)
                        && req
                            .deployment_config()
                            .and_then(|d| d.auto_rollback_configuration())
                            .is_some_and(|a| a.alarms()[0].alarm_name() == Some("errors-high"))
                })
                .then_output(|| {
                    UpdateEndpointOutput::builder()
                        .endpoint_arn(PRODUCTION_ARN)
                        .build()
                }),
        )
        .with(
            "AddTags",
            mock!(Client::add_tags)
                .match_requests(|req| {
                    req.resource_arn() == Some(PRODUCTION_ARN)
                        && req.tags().iter().any(|t| {
                            t.key() == Some("mlops:deploying-model-package-version")
                                && t.value() == Some("3")
                        })
                })
                .then_output(|| AddTagsOutput::builder().build()),
        );
    let config = config(&[
        ("DEPLOYMENT_TRAFFIC_ROUTING", "LINEAR"),
        ("DEPLOYMENT_ROLLBACK_ALARMS", "errors-high"),
    ]);
    let outcome = mocks
        .run(&config, sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        DeployOutcome::Updated {
            model_package_version: 3,
            ..
        }
    ));
    assert_eq!(
        mocks.called(),
        [
            ("AddTags", 1),
            ("CreateEndpointConfig", 1),
            ("CreateModel", 1),
            ("DescribeEndpoint", 1),
            ("ListModelPackages", 1),
            ("ListTags", 1),
            ("UpdateEndpoint", 1),
        ]
    );
}

#[tokio::test]
async fn a_busy_endpoint_is_a_skip_not_an_error_and_nothing_is_written() {
    for status in [
        EndpointStatus::Creating,
        EndpointStatus::Updating,
        EndpointStatus::RollingBack,
        EndpointStatus::SystemUpdating,
    ] {
        let world = World {
            production: on(status.clone(), V2, 2),
            ..World::default()
        };
        let mocks = world.mocks();
        let outcome = mocks
            .run(&config(&[]), sample("model-package-approved.json"))
            .await
            .unwrap();
        assert_eq!(
            skip_reason(&outcome),
            format!("endpoint is {status}; its next state change continues")
        );
        assert_eq!(
            mocks.called(),
            [("DescribeEndpoint", 1), ("ListModelPackages", 1)]
        );
    }
}

#[tokio::test]
async fn an_update_refused_as_in_progress_is_a_skip() {
    let world = World {
        production: on(EndpointStatus::InService, V2, 2),
        ..World::default()
    };
    let mocks = world.mocks().with(
        "UpdateEndpoint",
        mock!(Client::update_endpoint).then_http_response(|| {
            aws_error(
                400,
                "ValidationException",
                &format!("Cannot update in-progress endpoint \"{PRODUCTION_ARN}\"."),
            )
        }),
    );
    let outcome = mocks
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(skip_reason(&outcome).starts_with("endpoint is busy with another deployment"));
    assert_eq!(mocks.calls("AddTags"), 0);
}

#[tokio::test]
async fn the_completed_update_retags_the_endpoint_with_the_version_it_serves() {
    let world = World {
        production: on(EndpointStatus::InService, V3, 3),
        ..World::default()
    };
    let mocks = world.mocks().with(
        "AddTags",
        mock!(Client::add_tags)
            .match_requests(|req| {
                req.tags()
                    .iter()
                    .any(|t| t.key() == Some("mlops:model-package-arn") && t.value() == Some(V3))
            })
            .then_output(|| AddTagsOutput::builder().build()),
    );
    let event = in_service(PRODUCTION, json!({"mlops:model-package-arn": V2}));
    let outcome = mocks.run(&config(&[]), event).await.unwrap();
    assert_eq!(skip_reason(&outcome), "live");
    assert_eq!(mocks.calls("AddTags"), 1);

    // Tags already right: no write.
    let mocks = world.mocks();
    let event = in_service(PRODUCTION, json!({"mlops:model-package-arn": V3}));
    mocks.run(&config(&[]), event).await.unwrap();
    assert_eq!(mocks.calls("AddTags"), 0);
}

#[tokio::test]
async fn a_rolled_back_update_marks_the_version_failed_and_alerts_once() {
    let world = World {
        production: Some(Endpoint {
            failure_reason: Some("CloudWatch alarm errors-high went into ALARM"),
            ..on(EndpointStatus::InService, V2, 2).unwrap()
        }),
        tags: vec![
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let mocks = world
        .mocks()
        .with(
            "UpdateModelPackage",
            mock!(Client::update_model_package)
                .match_requests(|req| {
                    let life_cycle = req.model_life_cycle().unwrap();
                    let metadata = req.customer_metadata_properties().unwrap();
                    req.model_package_arn() == Some(V3)
                        && req.model_approval_status().is_none()
                        && life_cycle.stage() == Some("Production")
                        && life_cycle.stage_status() == Some("Failed")
                        && life_cycle.stage_description()
                            == Some("CloudWatch alarm errors-high went into ALARM")
                        && metadata["deployment_status"] == "failed"
                })
                .then_output(|| {
                    UpdateModelPackageOutput::builder()
                        .model_package_arn(V3)
                        .build()
                }),
        )
        .with(
            "PutEvents",
            mock!(aws_sdk_eventbridge::Client::put_events)
                .match_requests(|req| {
                    let entry = &req.entries()[0];
                    let detail: Value = serde_json::from_str(entry.detail().unwrap()).unwrap();
                    entry.detail_type() == Some("Model Deployment Failed")
                        && entry.source() == Some("mlops.pipeline")
                        && detail["model_package_version"] == 3
                        && detail["stage"] == "production"
                        && detail["reason"] == "CloudWatch alarm errors-high went into ALARM"
                })
                .then_output(put_events_accepted),
        );
    let outcome = mocks
        .run(&config(&[]), in_service(PRODUCTION, json!({})))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::Failed {
            endpoint: PRODUCTION.into(),
            stage: Stage::Production,
            cause: Cause::RolledBack,
            model_package_version: 3,
            reason: "CloudWatch alarm errors-high went into ALARM".into(),
        }
    );
    // Counted as a rollback and as a failure caused by it.
    let emf = shared::metrics::Emf::new("mlops", shared::metrics::Stage::Deploy);
    let documents = emf.documents(&outcome.measures(), 0);
    let by_cause = documents
        .iter()
        .find(|d| d["Cause"] == "rolled_back")
        .unwrap();
    assert_eq!(by_cause["DeploymentsFailed"], 1.0);
    let totals = documents.iter().find(|d| d.get("Cause").is_none()).unwrap();
    assert_eq!(totals["DeploymentsRolledBack"], 1.0);
    assert!(totals.get("SmokeTestsFailed").is_none());
    assert_eq!(mocks.calls("UpdateEndpoint"), 0);
    assert_eq!(mocks.calls("PutEvents"), 1);
    assert_eq!(mocks.calls("AddTags"), 1);

    // Marked: the version is no longer the desired one, the old one is live.
    let marked = World {
        approved: vec![
            approved(V3, 3, Some(("Production", "Failed"))),
            approved(V2, 2, None),
        ],
        ..world
    };
    let mocks = marked.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert_eq!(skip_reason(&outcome), "live");
    assert_eq!(
        mocks.called(),
        [("DescribeEndpoint", 1), ("ListModelPackages", 1)]
    );
}

const V4: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/4";

/// v3's update rolled back and was marked (the endpoint's failed-version tag
/// says so); v4 approved next: no second alert for v3, v4 goes live.
#[tokio::test]
async fn a_rollback_already_marked_is_not_alerted_again() {
    let world = World {
        production: on(EndpointStatus::InService, V2, 2),
        approved: vec![
            approved(V4, 4, None),
            approved(V3, 3, Some(("Production", "Failed"))),
            approved(V2, 2, None),
        ],
        tags: vec![
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
            ("mlops:failed-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert!(
        matches!(
            outcome,
            DeployOutcome::Updated {
                model_package_version: 4,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(mocks.calls("PutEvents"), 0);
    assert_eq!(mocks.calls("UpdateModelPackage"), 0);
}

/// A person cleared v3's mark (its ModelLifeCycle no longer Failed): v3 is
/// deployed again, and its failed-version tag is cleared with the new
/// attempt, so that a second failure is marked and alerted too.
#[tokio::test]
async fn a_version_whose_mark_was_cleared_is_tried_again() {
    let world = World {
        production: on(EndpointStatus::InService, V2, 2),
        approved: vec![
            approved(V3, 3, Some(("Production", "Retry"))),
            approved(V2, 2, None),
        ],
        tags: vec![
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
            ("mlops:failed-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let mocks = world.mocks().with(
        "AddTags",
        mock!(Client::add_tags)
            .match_requests(|req| {
                let tag = |key: &str| {
                    req.tags()
                        .iter()
                        .find(|t| t.key() == Some(key))
                        .and_then(|t| t.value())
                };
                tag("mlops:deploying-model-package-version") == Some("3")
                    && tag("mlops:failed-model-package-version") == Some("")
            })
            .then_output(|| AddTagsOutput::builder().build()),
    );
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert!(
        matches!(
            outcome,
            DeployOutcome::Updated {
                model_package_version: 3,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(mocks.calls("AddTags"), 1);
    assert_eq!(mocks.calls("PutEvents"), 0);
}

/// v3's update completed while v4 was approved: the endpoint's state change
/// finds it on v3, tags it with v3 (the version served, for `GET /model`),
/// then starts v4's update.
#[tokio::test]
async fn a_completed_update_is_tagged_before_the_next_one_starts() {
    let world = World {
        production: on(EndpointStatus::InService, V3, 3),
        approved: vec![approved(V4, 4, None), approved(V3, 3, None)],
        tags: vec![
            ("mlops:model-package-arn", V2.into()),
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let live_v3 = mock!(Client::add_tags)
        .match_requests(|req| {
            req.tags()
                .iter()
                .any(|t| t.key() == Some("mlops:model-package-arn") && t.value() == Some(V3))
        })
        .then_output(|| AddTagsOutput::builder().build());
    let deploying_v4 = mock!(Client::add_tags)
        .match_requests(|req| {
            req.tags().iter().any(|t| {
                t.key() == Some("mlops:deploying-model-package-version") && t.value() == Some("4")
            })
        })
        .then_output(|| AddTagsOutput::builder().build());
    let mocks = world
        .mocks()
        .with("AddTags", live_v3)
        .with("AddTags(deploying)", deploying_v4);
    let outcome = mocks
        .run(&config(&[]), in_service(PRODUCTION, json!({})))
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            DeployOutcome::Updated {
                model_package_version: 4,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(
        (mocks.calls("AddTags"), mocks.calls("AddTags(deploying)")),
        (1, 1)
    );
}

#[tokio::test]
async fn an_endpoint_that_failed_on_the_version_marks_it_and_is_recreated_when_configured() {
    let world = World {
        production: Some(Endpoint {
            failure_reason: Some("The primary container failed the ping health check"),
            ..on(EndpointStatus::Failed, V3, 3).unwrap()
        }),
        // Created on v3, which never came into service.
        tags: vec![
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert!(matches!(
        outcome,
        DeployOutcome::Failed {
            model_package_version: 3,
            ..
        }
    ));
    assert_eq!(mocks.calls("DeleteEndpoint"), 0);

    let mocks = world.mocks();
    mocks
        .run(
            &config(&[("ENDPOINT_RECREATE_FAILED", "true")]),
            scheduled(),
        )
        .await
        .unwrap();
    assert_eq!(mocks.calls("DeleteEndpoint"), 1);
}

#[tokio::test]
async fn an_endpoint_broken_on_another_version_is_an_error_or_is_recreated() {
    let world = World {
        production: on(EndpointStatus::Failed, V2, 2),
        ..World::default()
    };
    let mocks = world.mocks();
    let err = mocks.run(&config(&[]), scheduled()).await.unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.ResourceFailed");
    assert_eq!(mocks.calls("DeleteEndpoint"), 0);

    let mocks = world.mocks();
    let err = mocks
        .run(
            &config(&[("ENDPOINT_RECREATE_FAILED", "true")]),
            scheduled(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.ResourceBusy");
    assert_eq!(mocks.calls("DeleteEndpoint"), 1);

    // Broken since a version failed on it (alerted then): a skip each check,
    // not an error every few minutes.
    let marked = World {
        tags: vec![
            ("mlops:deploying-model-package-arn", V2.into()),
            ("mlops:deploying-model-package-version", "2".into()),
            ("mlops:failed-model-package-version", "2".into()),
        ],
        ..world.clone()
    };
    let mocks = marked.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert!(
        skip_reason(&outcome).starts_with("endpoint is Failed since version 2 failed on it"),
        "{outcome:?}"
    );
    assert_eq!(mocks.calls("DeleteEndpoint"), 0);

    // Broken while serving v2 (its tags name it as served): no version's
    // fault, so nothing is marked; an error for an operator.
    let serving = World {
        tags: vec![
            ("mlops:model-package-arn", V2.into()),
            ("mlops:deploying-model-package-arn", V2.into()),
            ("mlops:deploying-model-package-version", "2".into()),
        ],
        ..world
    };
    let mocks = serving.mocks();
    let err = mocks.run(&config(&[]), scheduled()).await.unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.ResourceFailed");
    assert_eq!(mocks.calls("UpdateModelPackage"), 0);
    assert_eq!(mocks.calls("PutEvents"), 0);
}

#[tokio::test]
async fn a_failed_newest_version_is_passed_over_for_the_next() {
    let world = World {
        production: on(EndpointStatus::InService, V3, 3),
        approved: vec![
            approved(
                "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/4",
                4,
                Some(("Staging", "Failed")),
            ),
            approved(V3, 3, Some(("Staging", "Passed"))),
        ],
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks.run(&config(&[]), scheduled()).await.unwrap();
    assert_eq!(skip_reason(&outcome), "live");
}

#[tokio::test]
async fn rejecting_the_live_version_rolls_back_to_the_newest_other_approved() {
    let world = World {
        production: on(EndpointStatus::InService, V3, 3),
        approved: vec![approved(V2, 2, None)],
        tags: vec![
            ("mlops:deploying-model-package-arn", V3.into()),
            ("mlops:deploying-model-package-version", "3".into()),
        ],
        ..World::default()
    };
    let mocks = world.mocks();
    let outcome = mocks
        .run(&config(&[]), sample("model-package-rejected.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::RolledBack {
            endpoint: PRODUCTION.into(),
            endpoint_config: epc(PRODUCTION, V2, 2),
            model_package_version: 2,
            rejected_version: 3,
        }
    );
    assert_eq!(mocks.calls("UpdateModelPackage"), 0);
}

#[tokio::test]
async fn serverless_endpoints_update_in_place() {
    let world = World {
        production: on(EndpointStatus::InService, V2, 2),
        ..World::default()
    };
    let mocks = world.mocks().with(
        "UpdateEndpoint",
        mock!(Client::update_endpoint)
            .match_requests(|req| req.deployment_config().is_none())
            .then_output(|| {
                UpdateEndpointOutput::builder()
                    .endpoint_arn(PRODUCTION_ARN)
                    .build()
            }),
    );
    let config = config(&[("ENDPOINT_SERVERLESS_MEMORY_MB", "2048")]);
    let outcome = mocks
        .run(&config, sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(matches!(outcome, DeployOutcome::Updated { .. }));
}

#[tokio::test]
async fn other_groups_pending_versions_and_other_endpoints_are_skipped_without_calls() {
    for (event, reason) in [
        (
            sample("model-package-other-group.json"),
            "is not the configured mlops--models",
        ),
        (
            sample("model-package-pending.json"),
            "is not a deployment decision",
        ),
        (
            in_service("someone-elses-endpoint", json!({})),
            "is neither the configured mlops--endpoint nor its staging endpoint",
        ),
    ] {
        let mocks = World::default().mocks();
        let outcome = mocks.run(&config(&[]), event).await.unwrap();
        assert!(skip_reason(&outcome).ends_with(reason), "{outcome:?}");
        assert_eq!(mocks.called(), []);
    }
}

#[tokio::test]
async fn throttling_is_retried_then_a_retryable_error() {
    let mocks = World::default().mocks().with(
        "DescribeEndpoint",
        mock!(Client::describe_endpoint)
            .sequence()
            .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
            .repeatedly()
            .build(),
    );
    let err = mocks.run(&config(&[]), scheduled()).await.unwrap_err();
    assert!(err.error_type().starts_with("Retryable."), "{err:?}");
    assert_eq!(mocks.calls("DescribeEndpoint"), 3);
}

#[tokio::test]
async fn malformed_events_are_non_retryable() {
    for payload in [
        json!({"detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker"}),
        json!({"source": "aws.sagemaker", "detail": {}}),
        json!({"detail-type": "Scheduled Event", "source": "aws.sagemaker", "detail": {},
               "version": "0", "id": "x", "account": "1", "time": "2026-01-01T00:00:00Z",
               "region": "us-east-1", "resources": []}),
    ] {
        let mocks = World::default().mocks();
        let err = mocks.run(&config(&[]), payload).await.unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
        assert_eq!(mocks.called(), []);
    }
}

// --- staging and the smoke test ------------------------------------------

#[tokio::test]
async fn with_staging_a_new_version_goes_to_a_serverless_staging_endpoint_first() {
    let expected = epc(STAGING, V3, 3);
    let mocks = World {
        production: on(EndpointStatus::InService, V2, 2),
        ..World::default()
    }
    .mocks()
    .with(
        "CreateEndpointConfig",
        mock!(Client::create_endpoint_config)
            .match_requests(move |req| {
                let variant = &req.production_variants()[0];
                req.endpoint_config_name() == Some(expected.as_str())
                    && variant.serverless_config().is_some()
                    && variant.instance_type().is_none()
                    && req.data_capture_config().is_none()
            })
            .then_output(|| {
                CreateEndpointConfigOutput::builder()
                    .endpoint_config_arn("arn:epc")
                    .build()
            }),
    );
    let outcome = mocks
        .run(&staged_config(), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::Staged {
            endpoint: STAGING.into(),
            endpoint_config: epc(STAGING, V3, 3),
            model_package_version: 3,
        }
    );
    assert_eq!(mocks.calls("UpdateEndpoint"), 0);
    assert_eq!(mocks.calls("CreateEndpoint"), 1);
}

#[tokio::test]
async fn a_busy_staging_endpoint_is_a_skip() {
    let mocks = World {
        production: on(EndpointStatus::InService, V2, 2),
        staging: staging_on(EndpointStatus::Creating, V3, 3),
        ..World::default()
    }
    .mocks();
    let outcome = mocks.run(&staged_config(), scheduled()).await.unwrap();
    assert_eq!(
        skip_reason(&outcome),
        "staging endpoint is Creating; its next state change continues"
    );
    assert_eq!(mocks.calls("InvokeEndpoint"), 0);
}

#[tokio::test]
async fn a_passed_smoke_test_is_recorded_and_production_gets_the_version() {
    let mocks = World {
        production: on(EndpointStatus::InService, V2, 2),
        staging: staging_on(EndpointStatus::InService, V3, 3),
        ..World::default()
    }
    .mocks()
    .with(
        "UpdateModelPackage",
        mock!(Client::update_model_package)
            .match_requests(|req| {
                let life_cycle = req.model_life_cycle().unwrap();
                life_cycle.stage() == Some("Staging")
                    && life_cycle.stage_status() == Some("Passed")
                    && req.customer_metadata_properties().unwrap()["smoke_test_requests"] == "2"
            })
            .then_output(|| {
                UpdateModelPackageOutput::builder()
                    .model_package_arn(V3)
                    .build()
            }),
    );
    let outcome = mocks
        .run(&staged_config(), in_service(STAGING, json!({})))
        .await
        .unwrap();
    let DeployOutcome::Updated {
        endpoint,
        model_package_version: 3,
        smoke_test: Some(report),
        ..
    } = outcome
    else {
        panic!("expected production updated, got {outcome:?}");
    };
    assert_eq!(endpoint, PRODUCTION);
    assert_eq!(report.requests, 2);
    // A warm-up request, then the two samples.
    assert_eq!(mocks.calls("InvokeEndpoint"), 3);
    assert_eq!(mocks.calls("UpdateModelPackage"), 1);
    assert_eq!(mocks.calls("PutEvents"), 0);
}

#[tokio::test]
async fn a_failed_smoke_test_marks_the_version_and_production_is_untouched() {
    // (answer, why, requests sent: a model error stops the test at once)
    for (answer, why, sent) in [
        (Err(500), "the model answered HTTP 500", 2),
        (
            Ok(("application/json", "{\"predictions\": [1.0,")),
            "is not JSON",
            3,
        ),
        (
            Ok(("application/json", "{\"predictions\": [900.0]}")),
            "was expected",
            3,
        ),
    ] {
        let mocks = World {
            production: on(EndpointStatus::InService, V2, 2),
            staging: staging_on(EndpointStatus::InService, V3, 3),
            answer,
            ..World::default()
        }
        .mocks();
        let outcome = mocks
            .run(&staged_config(), in_service(STAGING, json!({})))
            .await
            .unwrap();
        let DeployOutcome::Failed {
            stage,
            cause,
            reason,
            model_package_version: 3,
            ..
        } = &outcome
        else {
            panic!("expected the version failed, got {outcome:?}");
        };
        assert_eq!(*stage, Stage::Staging);
        assert_eq!(*cause, Cause::SmokeTest);
        assert!(reason.contains(why), "{reason}");
        assert!(reason.starts_with("smoke test request 1: "), "{reason}");
        assert_eq!(mocks.calls("InvokeEndpoint"), sent);
        assert_eq!(mocks.calls("UpdateEndpoint"), 0);
        assert_eq!(mocks.calls("PutEvents"), 1);
        assert_eq!(mocks.calls("UpdateModelPackage"), 1);
    }
}

#[tokio::test]
async fn a_version_that_passed_staging_goes_straight_to_production() {
    let mocks = World {
        production: on(EndpointStatus::InService, V2, 2),
        approved: vec![approved(V3, 3, Some(("Staging", "Passed")))],
        ..World::default()
    }
    .mocks();
    let outcome = mocks.run(&staged_config(), scheduled()).await.unwrap();
    assert!(matches!(
        outcome,
        DeployOutcome::Updated {
            smoke_test: None,
            ..
        }
    ));
    assert_eq!(mocks.calls("DescribeEndpoint(staging)"), 0);
    assert_eq!(mocks.calls("InvokeEndpoint"), 0);
}

#[tokio::test]
async fn a_staging_endpoint_that_failed_on_the_version_marks_it_and_is_deleted() {
    let mocks = World {
        staging: Some(Endpoint {
            failure_reason: Some("The primary container failed the ping health check"),
            ..staging_on(EndpointStatus::Failed, V3, 3).unwrap()
        }),
        ..World::default()
    }
    .mocks();
    let outcome = mocks.run(&staged_config(), scheduled()).await.unwrap();
    assert!(matches!(
        outcome,
        DeployOutcome::Failed {
            stage: Stage::Staging,
            ..
        }
    ));
    assert_eq!(mocks.calls("DeleteEndpoint"), 1);
    assert_eq!(mocks.calls("CreateEndpoint"), 0);
}

#[tokio::test]
async fn unreadable_sample_requests_are_an_error_and_mark_nothing() {
    let mocks = World {
        staging: staging_on(EndpointStatus::InService, V3, 3),
        ..World::default()
    }
    .mocks()
    .with(
        "GetObject",
        mock!(aws_sdk_s3::Client::get_object).then_http_response(|| {
            Response::new(
                StatusCode::try_from(404).unwrap(),
                SdkBody::from(
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
                ),
            )
        }),
    );
    let err = mocks.run(&staged_config(), scheduled()).await.unwrap_err();
    assert_eq!(err.error_type(), "NonRetryable.ResourceFailed");
    assert!(
        err.to_string()
            .contains("smoke test requests s3://mlops-data/smoke/requests.jsonl: no such object"),
        "{err}"
    );
    assert_eq!(mocks.calls("UpdateModelPackage"), 0);
    assert_eq!(mocks.calls("PutEvents"), 0);
}

// --- autoscaling ----------------------------------------------------------

mod autoscaling {
    use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
    use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetOutput;
    use aws_sdk_applicationautoscaling::Client as AutoScaling;

    use super::*;

    fn scaling_config() -> DeployConfig {
        config(&[
            ("AUTOSCALING_MIN_INSTANCES", "1"),
            ("AUTOSCALING_MAX_INSTANCES", "4"),
            ("AUTOSCALING_TARGET_INVOCATIONS", "750"),
        ])
    }

    async fn run(
        world: &World,
        payload: Value,
    ) -> (Result<DeployOutcome, PipelineError>, [usize; 2]) {
        let register = mock!(AutoScaling::register_scalable_target)
            .match_requests(|req| {
                req.resource_id() == Some("endpoint/mlops--endpoint/variant/AllTraffic")
                    && req.min_capacity() == Some(1)
                    && req.max_capacity() == Some(4)
            })
            .then_output(|| RegisterScalableTargetOutput::builder().build());
        let policy = mock!(AutoScaling::put_scaling_policy)
            .match_requests(|req| {
                req.policy_name() == Some("mlops--invocations-per-instance")
                    && req
                        .target_tracking_scaling_policy_configuration()
                        .is_some_and(|t| t.target_value() == 750.0)
            })
            .then_output(|| {
                PutScalingPolicyOutput::builder()
                    .policy_arn("arn:policy")
                    .build()
                    .unwrap()
            });
        let mocks = world.mocks();
        let rules: Vec<&Rule> = mocks.0.values().collect();
        let clients = Clients {
            sagemaker: mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, &rules),
            autoscaling: mock_client!(
                aws_sdk_applicationautoscaling,
                RuleMode::MatchAny,
                [&register, &policy]
            ),
            runtime: mock_client!(aws_sdk_sagemakerruntime, RuleMode::MatchAny, &rules),
            s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, &rules),
            events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, &rules),
        };
        let outcome = handle(&clients, &scaling_config(), invocation(payload)).await;
        (outcome, [register.num_calls(), policy.num_calls()])
    }

    #[tokio::test]
    async fn production_in_service_is_registered_for_autoscaling() {
        let world = World {
            production: on(EndpointStatus::InService, V3, 3),
            ..World::default()
        };
        let (outcome, calls) = run(
            &world,
            in_service(PRODUCTION, json!({"mlops:model-package-arn": V3})),
        )
        .await;
        assert!(matches!(
            outcome.unwrap(),
            DeployOutcome::AutoscalingRegistered {
                min_instances: 1,
                max_instances: 4,
                ..
            }
        ));
        assert_eq!(calls, [1, 1]);
    }

    #[tokio::test]
    async fn other_states_and_the_schedule_register_nothing() {
        let world = World {
            production: on(EndpointStatus::Updating, V3, 3),
            ..World::default()
        };
        let mut updating = in_service(PRODUCTION, json!({}));
        updating["detail"]["EndpointStatus"] = json!("UPDATING");
        for payload in [updating, scheduled()] {
            let (outcome, calls) = run(&world, payload).await;
            assert!(matches!(outcome.unwrap(), DeployOutcome::Skipped { .. }));
            assert_eq!(calls, [0, 0]);
        }
    }
}
