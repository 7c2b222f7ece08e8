//! Handler tests against a mocked SageMaker (aws-smithy-mocks): every branch
//! of the endpoint's state, rollback with paginated results, reuse of what an
//! earlier delivery created, and failures.

use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemaker::operation::create_endpoint::CreateEndpointOutput;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigOutput;
use aws_sdk_sagemaker::operation::create_model::CreateModelOutput;
use aws_sdk_sagemaker::operation::delete_endpoint::DeleteEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointOutput;
use aws_sdk_sagemaker::types::{ModelPackageSummary, TrafficRoutingConfigType};
use aws_sdk_sagemaker::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::{aws_error, invocation, sample};

use super::*;
use aws_sdk_sagemaker::types::SortOrder;

const V3: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
const V2: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/2";
const ENDPOINT_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/mlops--endpoint";

fn config(extra: &[(&'static str, &'static str)]) -> DeployConfig {
    let mut vars = crate::config::test_vars();
    vars.extend_from_slice(extra);
    DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

/// Every SageMaker call the handler can make, each answered the usual way
/// unless a test replaces it.
struct Sagemaker {
    describe: Rule,
    create_model: Rule,
    create_config: Rule,
    create_endpoint: Rule,
    update: Rule,
    delete: Rule,
    list: Rule,
    add_tags: Rule,
}

impl Default for Sagemaker {
    fn default() -> Self {
        Sagemaker {
            describe: endpoint_missing(),
            create_model: mock!(Client::create_model)
                .sequence()
                .output(|| CreateModelOutput::builder().model_arn("arn:model").build())
                .repeatedly()
                .build(),
            create_config: mock!(Client::create_endpoint_config)
                .sequence()
                .output(|| {
                    CreateEndpointConfigOutput::builder()
                        .endpoint_config_arn("arn:epc")
                        .build()
                })
                .repeatedly()
                .build(),
            create_endpoint: mock!(Client::create_endpoint)
                .sequence()
                .output(|| {
                    CreateEndpointOutput::builder()
                        .endpoint_arn(ENDPOINT_ARN)
                        .build()
                })
                .repeatedly()
                .build(),
            update: mock!(Client::update_endpoint)
                .sequence()
                .output(|| {
                    UpdateEndpointOutput::builder()
                        .endpoint_arn(ENDPOINT_ARN)
                        .build()
                })
                .repeatedly()
                .build(),
            delete: mock!(Client::delete_endpoint)
                .sequence()
                .output(|| DeleteEndpointOutput::builder().build())
                .repeatedly()
                .build(),
            list: mock!(Client::list_model_packages)
                .sequence()
                .output(|| ListModelPackagesOutput::builder().build())
                .repeatedly()
                .build(),
            add_tags: mock!(Client::add_tags)
                .match_requests(|req| {
                    req.resource_arn() == Some(ENDPOINT_ARN)
                        && req
                            .tags()
                            .iter()
                            .any(|t| t.key() == Some("mlops:model-package-version"))
                })
                .sequence()
                .output(|| aws_sdk_sagemaker::operation::add_tags::AddTagsOutput::builder().build())
                .repeatedly()
                .build(),
        }
    }
}

impl Sagemaker {
    fn client(&self) -> Client {
        let rules = [
            &self.describe,
            &self.create_model,
            &self.create_config,
            &self.create_endpoint,
            &self.update,
            &self.delete,
            &self.list,
            &self.add_tags,
        ];
        mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::standard().with_max_attempts(3)))
    }

    /// Calls made: describe, create model, create config, create endpoint, update, delete, list.
    fn calls(&self) -> [usize; 7] {
        [
            self.describe.num_calls(),
            self.create_model.num_calls(),
            self.create_config.num_calls(),
            self.create_endpoint.num_calls(),
            self.update.num_calls(),
            self.delete.num_calls(),
            self.list.num_calls(),
        ]
    }

    async fn run(
        &self,
        config: &DeployConfig,
        payload: Value,
    ) -> Result<DeployOutcome, PipelineError> {
        let clients = Clients {
            sagemaker: self.client(),
            // No Application Auto Scaling call is expected: any would fail.
            autoscaling: mock_client!(
                aws_sdk_applicationautoscaling,
                RuleMode::MatchAny,
                Vec::<&Rule>::new()
            ),
        };
        handle(&clients, config, invocation(payload)).await
    }
}

fn endpoint_missing() -> Rule {
    mock!(Client::describe_endpoint)
        .sequence()
        .http_response(|| {
            aws_error(
                400,
                "ValidationException",
                &format!("Could not find endpoint \"{ENDPOINT_ARN}\"."),
            )
        })
        .repeatedly()
        .build()
}

fn endpoint(status: EndpointStatus, endpoint_config: String) -> Rule {
    mock!(Client::describe_endpoint)
        .match_requests(|req| req.endpoint_name() == Some("mlops--endpoint"))
        .sequence()
        .output(move || {
            DescribeEndpointOutput::builder()
                .endpoint_name("mlops--endpoint")
                .endpoint_arn(ENDPOINT_ARN)
                .endpoint_config_name(&endpoint_config)
                .endpoint_status(status.clone())
                .failure_reason("The primary container failed the ping health check")
                .build()
        })
        .repeatedly()
        .build()
}

fn v3_config() -> String {
    config(&[]).endpoint_config_name(V3, 3)
}

fn v2_config() -> String {
    config(&[]).endpoint_config_name(V2, 2)
}

#[tokio::test]
async fn approved_without_an_endpoint_creates_it() {
    let expected_config = v3_config();
    let sagemaker = Sagemaker {
        create_endpoint: mock!(Client::create_endpoint)
            .match_requests(move |req| {
                req.endpoint_name() == Some("mlops--endpoint")
                    && req.endpoint_config_name() == Some(expected_config.as_str())
                    && req.tags().iter().any(|t| {
                        t.key() == Some("mlops:model-package-arn") && t.value() == Some(V3)
                    })
            })
            .then_output(|| {
                CreateEndpointOutput::builder()
                    .endpoint_arn(ENDPOINT_ARN)
                    .build()
            }),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::Created {
            endpoint: "mlops--endpoint".into(),
            endpoint_config: v3_config(),
            model_package_version: 3,
        }
    );
    assert_eq!(sagemaker.calls(), [1, 1, 1, 1, 0, 0, 0]);
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["action"], "created");
}

#[tokio::test]
async fn approved_with_a_live_endpoint_updates_it_blue_green() {
    let expected_config = v3_config();
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v2_config()),
        update: mock!(Client::update_endpoint)
            .match_requests(move |req| {
                let routing = req
                    .deployment_config()
                    .and_then(|d| d.blue_green_update_policy())
                    .and_then(|p| p.traffic_routing_configuration());
                req.endpoint_config_name() == Some(expected_config.as_str())
                    && routing.and_then(|r| r.r#type()) == Some(&TrafficRoutingConfigType::Linear)
                    && routing
                        .and_then(|r| r.linear_step_size())
                        .and_then(|s| s.value())
                        == Some(25)
                    && req
                        .deployment_config()
                        .and_then(|d| d.auto_rollback_configuration())
                        .is_some_and(|a| a.alarms()[0].alarm_name() == Some("errors-high"))
            })
            .then_output(|| {
                UpdateEndpointOutput::builder()
                    .endpoint_arn(ENDPOINT_ARN)
                    .build()
            }),
        ..Default::default()
    };
    let config = config(&[
        ("DEPLOYMENT_TRAFFIC_ROUTING", "LINEAR"),
        ("DEPLOYMENT_LINEAR_STEP_PERCENT", "25"),
        ("DEPLOYMENT_ROLLBACK_ALARMS", "errors-high"),
    ]);
    let outcome = sagemaker
        .run(&config, sample("model-package-approved.json"))
        .await
        .unwrap();
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
    assert_eq!(sagemaker.calls(), [1, 1, 1, 0, 1, 0, 0]);
    // The endpoint's tags now name the version it serves.
    assert_eq!(sagemaker.add_tags.num_calls(), 1);
}

#[tokio::test]
async fn the_version_already_live_is_a_skip() {
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v3_config()),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Skipped { ref reason, .. } if reason == "already live")
    );
    assert_eq!(sagemaker.calls(), [1, 0, 0, 0, 0, 0, 0]);
    // The tags are re-asserted: the delivery that updated the endpoint may
    // have failed before it tagged it.
    assert_eq!(sagemaker.add_tags.num_calls(), 1);
}

#[tokio::test]
async fn a_repeated_event_reuses_what_the_first_created() {
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v2_config()),
        create_model: mock!(Client::create_model)
            .sequence()
            .http_response(|| {
                aws_error(
                    400,
                    "ValidationException",
                    "Cannot create already existing model \"arn:model\".",
                )
            })
            .build(),
        create_config: mock!(Client::create_endpoint_config)
            .sequence()
            .http_response(|| {
                aws_error(
                    400,
                    "ValidationException",
                    "Cannot create already existing endpoint configuration \"arn:epc\".",
                )
            })
            .build(),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Updated { .. }),
        "{outcome:?}"
    );
    assert_eq!(sagemaker.calls(), [1, 1, 1, 0, 1, 0, 0]);
}

#[tokio::test]
async fn a_busy_endpoint_is_a_retryable_error_and_nothing_is_created() {
    for status in [
        EndpointStatus::Creating,
        EndpointStatus::Updating,
        EndpointStatus::SystemUpdating,
        EndpointStatus::RollingBack,
    ] {
        let sagemaker = Sagemaker {
            describe: endpoint(status.clone(), v2_config()),
            ..Default::default()
        };
        let err = sagemaker
            .run(&config(&[]), sample("model-package-approved.json"))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Retryable.ResourceBusy", "{status}");
        assert!(
            err.to_string().contains(&format!("busy ({status})")),
            "{err}"
        );
        assert_eq!(sagemaker.calls(), [1, 0, 0, 0, 0, 0, 0], "{status}");
    }
}

#[tokio::test]
async fn an_update_refused_as_in_progress_is_busy() {
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v2_config()),
        update: mock!(Client::update_endpoint)
            .sequence()
            .http_response(|| {
                aws_error(
                    400,
                    "ValidationException",
                    &format!("Cannot update in-progress endpoint \"{ENDPOINT_ARN}\"."),
                )
            })
            .build(),
        ..Default::default()
    };
    let err = sagemaker
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.ResourceBusy");
}

/// Failed, OutOfService and UpdateRollbackFailed: nothing can update the
/// endpoint, so the deployment fails with SageMaker's reason; with
/// ENDPOINT_RECREATE_FAILED the configured endpoint (and only it) is deleted
/// so that the retry creates it afresh.
#[tokio::test]
async fn a_broken_endpoint_is_a_non_retryable_error_or_is_recreated() {
    for status in [
        EndpointStatus::Failed,
        EndpointStatus::OutOfService,
        EndpointStatus::UpdateRollbackFailed,
    ] {
        let sagemaker = Sagemaker {
            describe: endpoint(status.clone(), v2_config()),
            ..Default::default()
        };
        let err = sagemaker
            .run(&config(&[]), sample("model-package-approved.json"))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.ResourceFailed", "{status}");
        let message = err.to_string();
        assert!(message.contains(status.as_str()), "{message}");
        assert!(
            message.contains("failed the ping health check"),
            "{message}"
        );
        assert_eq!(sagemaker.calls(), [1, 0, 0, 0, 0, 0, 0], "{status}");

        let sagemaker = Sagemaker {
            describe: endpoint(status.clone(), v2_config()),
            delete: mock!(Client::delete_endpoint)
                .match_requests(|req| req.endpoint_name() == Some("mlops--endpoint"))
                .sequence()
                .output(|| DeleteEndpointOutput::builder().build())
                .repeatedly()
                .build(),
            ..Default::default()
        };
        let err = sagemaker
            .run(
                &config(&[("ENDPOINT_RECREATE_FAILED", "true")]),
                sample("model-package-approved.json"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Retryable.ResourceBusy", "{status}");
        assert_eq!(sagemaker.calls(), [1, 0, 0, 0, 0, 1, 0], "{status}");
    }
}

#[tokio::test]
async fn serverless_endpoints_update_in_place() {
    let serverless = config(&[("ENDPOINT_SERVERLESS_MEMORY_MB", "2048")]);
    let sagemaker = Sagemaker {
        describe: endpoint(
            EndpointStatus::InService,
            serverless.endpoint_config_name(V2, 2),
        ),
        update: mock!(Client::update_endpoint)
            .match_requests(|req| req.deployment_config().is_none())
            .then_output(|| {
                UpdateEndpointOutput::builder()
                    .endpoint_arn(ENDPOINT_ARN)
                    .build()
            }),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&serverless, sample("model-package-approved.json"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Updated { .. }),
        "{outcome:?}"
    );
    assert_eq!(sagemaker.update.num_calls(), 1);
}

/// ListModelPackages answers in pages: the rejected version alone on the
/// first, the replacement on the second.
fn approved_pages() -> Rule {
    mock!(Client::list_model_packages)
        .match_requests(|req| {
            req.model_package_group_name() == Some("mlops--models")
                && req.model_approval_status() == Some(&ModelApprovalStatus::Approved)
                && req.sort_order() == Some(&SortOrder::Descending)
        })
        .sequence()
        .output(|| {
            ListModelPackagesOutput::builder()
                .model_package_summary_list(
                    ModelPackageSummary::builder()
                        .model_package_arn(V3)
                        .model_package_version(3)
                        .build(),
                )
                .next_token("page-2")
                .build()
        })
        .output(|| {
            ListModelPackagesOutput::builder()
                .model_package_summary_list(
                    ModelPackageSummary::builder()
                        .model_package_arn(V2)
                        .model_package_version(2)
                        .build(),
                )
                .build()
        })
        .build()
}

#[tokio::test]
async fn rejecting_the_live_version_rolls_back_to_the_newest_other_approved() {
    let expected_model = config(&[]).version(V2, 2).model_name();
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v3_config()),
        list: approved_pages(),
        create_model: mock!(Client::create_model)
            .match_requests(move |req| {
                req.model_name() == Some(expected_model.as_str())
                    && req.containers()[0].model_package_name() == Some(V2)
            })
            .then_output(|| CreateModelOutput::builder().model_arn("arn:model").build()),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&config(&[]), sample("model-package-rejected.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        DeployOutcome::RolledBack {
            endpoint: "mlops--endpoint".into(),
            endpoint_config: v2_config(),
            model_package_version: 2,
            rejected_version: 3,
        }
    );
    assert_eq!(sagemaker.calls(), [1, 1, 1, 0, 1, 0, 2]);
}

#[tokio::test]
async fn rejecting_the_live_version_with_nothing_to_roll_back_to_is_a_skip() {
    let sagemaker = Sagemaker {
        describe: endpoint(EndpointStatus::InService, v3_config()),
        list: mock!(Client::list_model_packages).then_output(|| {
            ListModelPackagesOutput::builder()
                .model_package_summary_list(
                    ModelPackageSummary::builder().model_package_arn(V3).build(),
                )
                .build()
        }),
        ..Default::default()
    };
    let outcome = sagemaker
        .run(&config(&[]), sample("model-package-rejected.json"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeployOutcome::Skipped { ref reason, .. } if reason.contains("no other approved version")),
        "{outcome:?}"
    );
    assert_eq!(sagemaker.calls(), [1, 0, 0, 0, 0, 0, 1]);
}

#[tokio::test]
async fn other_decisions_are_skipped() {
    let cases = [
        (
            "model-package-rejected.json",
            "rejected version 3 is not live",
            1,
        ),
        (
            "model-package-rejected-not-live.json",
            "rejected version 2 is not live",
            1,
        ),
        (
            "model-package-pending.json",
            "approval status PendingManualApproval is not a deployment decision",
            0,
        ),
        (
            "model-package-other-group.json",
            "model package group churn--models is not the configured mlops--models",
            0,
        ),
    ];
    for (file, reason, describes) in cases {
        let sagemaker = Sagemaker {
            // Version 1 is live.
            describe: endpoint(
                EndpointStatus::InService,
                config(&[]).endpoint_config_name(&V2.replace("/2", "/1"), 1),
            ),
            ..Default::default()
        };
        let outcome = sagemaker.run(&config(&[]), sample(file)).await.unwrap();
        assert!(
            matches!(outcome, DeployOutcome::Skipped { reason: ref got, .. } if got == reason),
            "{file}: {outcome:?}"
        );
        assert_eq!(sagemaker.calls(), [describes, 0, 0, 0, 0, 0, 0], "{file}");
    }
}

#[tokio::test]
async fn throttling_is_retried_then_a_retryable_error() {
    let sagemaker = Sagemaker {
        describe: mock!(Client::describe_endpoint)
            .sequence()
            .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
            .times(3)
            .build(),
        ..Default::default()
    };
    let err = sagemaker
        .run(&config(&[]), sample("model-package-approved.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Retryable.AwsTransient");
    assert_eq!(sagemaker.calls(), [3, 0, 0, 0, 0, 0, 0]);
}

#[tokio::test]
async fn malformed_events_are_non_retryable() {
    let mut no_version = sample("model-package-approved.json");
    no_version["detail"]
        .as_object_mut()
        .unwrap()
        .remove("ModelPackageVersion");
    let mut wrong_type = sample("model-package-approved.json");
    wrong_type["detail-type"] = json!("SageMaker Training Job State Change");
    for (payload, expected) in [
        (no_version, "ModelPackageVersion"),
        (wrong_type, "expected source \"aws.sagemaker\""),
    ] {
        let sagemaker = Sagemaker::default();
        let err = sagemaker.run(&config(&[]), payload).await.unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidEvent");
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(sagemaker.calls(), [0; 7]);
    }
}

mod autoscaling {
    use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
    use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetOutput;
    use aws_sdk_applicationautoscaling::types::{
        MetricType, PolicyType, ScalableDimension, ServiceNamespace,
    };
    use aws_sdk_applicationautoscaling::Client as AutoScaling;

    use super::*;

    fn scaling_config() -> DeployConfig {
        config(&[
            ("AUTOSCALING_MIN_INSTANCES", "1"),
            ("AUTOSCALING_MAX_INSTANCES", "4"),
            ("AUTOSCALING_TARGET_INVOCATIONS", "750"),
        ])
    }

    struct Rules {
        register: Rule,
        policy: Rule,
    }

    impl Rules {
        fn ok() -> Rules {
            Rules {
                register: mock!(AutoScaling::register_scalable_target)
                    .match_requests(|req| {
                        req.service_namespace() == Some(&ServiceNamespace::Sagemaker)
                            && req.resource_id()
                                == Some("endpoint/mlops--endpoint/variant/AllTraffic")
                            && req.scalable_dimension()
                                == Some(&ScalableDimension::SageMakerVariantDesiredInstanceCount)
                            && req.min_capacity() == Some(1)
                            && req.max_capacity() == Some(4)
                    })
                    .then_output(|| RegisterScalableTargetOutput::builder().build()),
                policy: mock!(AutoScaling::put_scaling_policy)
                    .match_requests(|req| {
                        let tracking = req.target_tracking_scaling_policy_configuration().unwrap();
                        req.policy_name() == Some("mlops--invocations-per-instance")
                            && req.policy_type() == Some(&PolicyType::TargetTrackingScaling)
                            && req.resource_id()
                                == Some("endpoint/mlops--endpoint/variant/AllTraffic")
                            && tracking.target_value() == 750.0
                            && tracking
                                .predefined_metric_specification()
                                .unwrap()
                                .predefined_metric_type()
                                == &MetricType::SageMakerVariantInvocationsPerInstance
                    })
                    .then_output(|| {
                        PutScalingPolicyOutput::builder()
                            .policy_arn(
                                "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x",
                            )
                            .build()
                            .unwrap()
                    }),
            }
        }

        async fn run(
            &self,
            config: &DeployConfig,
            payload: Value,
        ) -> Result<DeployOutcome, PipelineError> {
            let clients = Clients {
                sagemaker: Sagemaker::default().client(),
                autoscaling: mock_client!(
                    aws_sdk_applicationautoscaling,
                    RuleMode::MatchAny,
                    [&self.register, &self.policy],
                    |c| c.retry_config(
                        aws_sdk_applicationautoscaling::config::retry::RetryConfig::standard()
                            .with_max_attempts(3)
                    )
                ),
            };
            handle(&clients, config, invocation(payload)).await
        }
    }

    #[tokio::test]
    async fn an_endpoint_in_service_is_registered_for_autoscaling() {
        let rules = Rules::ok();
        let outcome = rules
            .run(&scaling_config(), sample("endpoint-in-service.json"))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            DeployOutcome::AutoscalingRegistered {
                endpoint: "mlops--endpoint".into(),
                variant: "AllTraffic".into(),
                min_instances: 1,
                max_instances: 4,
                target_invocations_per_instance: 750.0,
            }
        );
        assert_eq!(
            (rules.register.num_calls(), rules.policy.num_calls()),
            (1, 1)
        );
        assert_eq!(
            serde_json::to_value(&outcome).unwrap()["action"],
            "autoscaling_registered"
        );
    }

    #[tokio::test]
    async fn other_endpoint_events_are_skipped_without_calls() {
        let mut other_endpoint = sample("endpoint-in-service.json");
        other_endpoint["detail"]["EndpointName"] = json!("someone-elses-endpoint");
        let cases = [
            (
                scaling_config(),
                sample("endpoint-updating.json"),
                "endpoint status UPDATING",
            ),
            (
                scaling_config(),
                other_endpoint,
                "endpoint someone-elses-endpoint is not the configured",
            ),
            (
                config(&[]),
                sample("endpoint-in-service.json"),
                "autoscaling is not configured",
            ),
        ];
        for (config, payload, expected) in cases {
            let rules = Rules::ok();
            let outcome = rules.run(&config, payload).await.unwrap();
            assert!(
                matches!(&outcome, DeployOutcome::Skipped { reason, model_package_version: None, .. } if reason.starts_with(expected)),
                "{outcome:?}"
            );
            assert_eq!(rules.register.num_calls() + rules.policy.num_calls(), 0);
        }
    }

    #[tokio::test]
    async fn throttled_registration_is_retried_then_retryable() {
        let rules = Rules {
            register: mock!(AutoScaling::register_scalable_target)
                .sequence()
                .http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded"))
                .times(3)
                .build(),
            policy: Rules::ok().policy,
        };
        let err = rules
            .run(&scaling_config(), sample("endpoint-in-service.json"))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Retryable.AwsTransient");
        assert_eq!(
            (rules.register.num_calls(), rules.policy.num_calls()),
            (3, 0)
        );
    }
}
