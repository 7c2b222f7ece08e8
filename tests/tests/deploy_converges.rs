//! deploy_sagemaker_model converging, against the emulator with the real
//! handler and SDK: endpoint updates that take a controlled time and end with
//! their "Endpoint State Change" (delivered here as the template's rule
//! would: through a queue, one event at a time to the handler), approvals
//! during an update, a rollback by alarm, the scheduled check, and staged
//! promotion with the smoke test against models served for real
//! (tests/emulator/fixtures/broken-model).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::types::ModelApprovalStatus;
use deploy_sagemaker_model::{Clients, DeployConfig, DeployOutcome, Stage};
use integration::{repo_root, Emulator};
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::test_support::sample;

mod common;
use common::{approved_image, approved_version, invocation, BUCKET, ENDPOINT};

const STAGING: &str = "mlops--staging-endpoint";
/// How long each emulated update takes.
const UPDATE_SECONDS: f64 = 2.0;
/// The most any scenario here may take.
const TIMEOUT: Duration = Duration::from_secs(120);

fn config(extra: &[(&str, &str)]) -> DeployConfig {
    let mut vars = vec![
        ("PIPELINE_NAME", "mlops"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
        ("DEPLOYMENT_ROLLBACK_ALARMS", "mlops-endpoint-errors"),
    ];
    vars.extend_from_slice(extra);
    DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

/// A queue that receives, through an EventBridge rule on the default bus,
/// every event matching `pattern`.
async fn queue(emulator: &Emulator, name: &str, pattern: Value) -> String {
    let sdk = emulator.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events
        .put_rule()
        .name(name)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(format!("arn:aws:sqs:us-east-1:123456789012:{name}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    url
}

async fn receive(emulator: &Emulator, url: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let messages = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    for message in &messages {
        sqs.delete_message()
            .queue_url(url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    messages
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect()
}

/// The pipeline's deploy function as the template wires it: every endpoint
/// state change goes to the handler; every outcome must be a success (an
/// error would land in the on-failure queue).
struct Pipeline {
    emulator: Emulator,
    clients: Clients,
    config: DeployConfig,
    endpoint_events: String,
    alerts: String,
    outcomes: Vec<DeployOutcome>,
}

impl Pipeline {
    async fn start(emulator: Emulator, config: DeployConfig) -> Pipeline {
        let endpoint_events = queue(
            &emulator,
            "endpoint-events",
            json!({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"],
                   "detail": {"EndpointStatus": ["IN_SERVICE", "FAILED", "OUT_OF_SERVICE", "UPDATE_ROLLBACK_FAILED"]}}),
        )
        .await;
        let alerts = queue(
            &emulator,
            "alerts",
            json!({"source": ["mlops.pipeline"], "detail-type": ["Model Deployment Failed"]}),
        )
        .await;
        let clients = Clients::new(&emulator.sdk_config().await);
        Pipeline {
            emulator,
            clients,
            config,
            endpoint_events,
            alerts,
            outcomes: Vec::new(),
        }
    }

    async fn handle(&mut self, payload: Value) -> DeployOutcome {
        let outcome =
            deploy_sagemaker_model::handle(&self.clients, &self.config, invocation(&payload))
                .await
                .unwrap_or_else(|err| panic!("{err:?} for {payload}"));
        self.outcomes.push(outcome.clone());
        outcome
    }

    async fn approve(&mut self, digit: char) -> (String, i64) {
        let (arn, number) = approved_version(&self.clients.sagemaker, digit).await;
        self.handle(common::decision(&arn, number, "Approved"))
            .await;
        (arn, number)
    }

    /// Delivers endpoint state changes until `done` holds, or fails.
    async fn run_until(&mut self, what: &str, done: impl AsyncFn(&Pipeline) -> bool) {
        let started = Instant::now();
        while !done(self).await {
            assert!(
                started.elapsed() < TIMEOUT,
                "timed out waiting for {what}: {:#?}",
                self.outcomes
            );
            for event in receive(&self.emulator, &self.endpoint_events).await {
                self.handle(event).await;
            }
        }
    }

    async fn serving(&self) -> (String, String) {
        let endpoint = self
            .clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(ENDPOINT)
            .send()
            .await
            .unwrap();
        (
            endpoint.endpoint_status().unwrap().as_str().to_string(),
            endpoint.endpoint_config_name().unwrap().to_string(),
        )
    }

    fn update_count(&self) -> u64 {
        self.emulator.control(
            "GET",
            &format!("/_emulator/sagemaker/endpoints/{ENDPOINT}"),
            None,
        )["UpdateCount"]
            .as_u64()
            .unwrap()
    }

    async fn life_cycle(&self, arn: &str) -> (Option<String>, Option<String>) {
        let package = self
            .clients
            .sagemaker
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .unwrap();
        let life_cycle = package.model_life_cycle();
        (
            life_cycle.and_then(|l| l.stage()).map(str::to_string),
            life_cycle
                .and_then(|l| l.stage_status())
                .map(str::to_string),
        )
    }
}

fn slow_updates(emulator: &Emulator, outcome: &str) {
    emulator.control(
        "POST",
        "/_emulator/sagemaker/endpoint-defaults",
        Some(&json!({"UpdateSeconds": UPDATE_SECONDS, "UpdateOutcome": outcome})),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_during_an_update_end_with_the_newest_live_and_no_error() {
    let emulator = Emulator::start().await;
    slow_updates(&emulator, "InService");
    let mut pipeline = Pipeline::start(emulator, config(&[])).await;

    pipeline.approve('a').await;
    assert!(matches!(
        pipeline.outcomes[0],
        DeployOutcome::Created { .. }
    ));
    // v2 starts an update; v3 and v4 arrive while it runs: skips, not errors.
    let (_, n2) = pipeline.approve('b').await;
    assert!(
        matches!(pipeline.outcomes[1], DeployOutcome::Updated { model_package_version, .. } if model_package_version == n2)
    );
    pipeline.approve('c').await;
    let (v4, n4) = pipeline.approve('d').await;
    for outcome in &pipeline.outcomes[2..] {
        assert!(
            matches!(outcome, DeployOutcome::Skipped { reason, .. } if reason.contains("Updating")),
            "{outcome:?}"
        );
    }
    let v4_config = pipeline.config.endpoint_config_name(&v4, n4);
    let expected = ("InService".to_string(), v4_config.clone());
    pipeline
        .run_until("v4 live", async |p: &Pipeline| {
            p.serving().await == expected
        })
        .await;
    // v2's update, then straight to v4: v3 was never deployed.
    assert_eq!(pipeline.update_count(), 2);
    // The last state change re-tags the endpoint with the version it serves.
    pipeline
        .run_until("the tags", async |p: &Pipeline| {
            common::endpoint_version_tag(&p.clients.sagemaker).await == Some(n4.to_string())
        })
        .await;
    assert!(receive(&pipeline.emulator, &pipeline.alerts)
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_by_alarm_is_marked_and_alerted_never_looped() {
    let emulator = Emulator::start().await;
    let mut pipeline = Pipeline::start(emulator, config(&[])).await;
    let (v1, n1) = pipeline.approve('a').await;
    slow_updates(&pipeline.emulator, "RolledBack");
    let (v2, n2) = pipeline.approve('b').await;
    pipeline
        .run_until("v2 marked", async |p: &Pipeline| {
            p.outcomes
                .iter()
                .any(|o| matches!(o, DeployOutcome::Failed { .. }))
        })
        .await;
    let failed = pipeline.outcomes.last().unwrap().clone();
    let DeployOutcome::Failed {
        stage,
        model_package_version,
        reason,
        ..
    } = failed
    else {
        panic!("{failed:?}");
    };
    assert_eq!((stage, model_package_version), (Stage::Production, n2));
    assert!(reason.contains("mlops-endpoint-errors"), "{reason}");
    assert_eq!(
        pipeline.life_cycle(&v2).await,
        (Some("Production".into()), Some("Failed".into()))
    );
    // The approval a person set is unchanged.
    let package = pipeline
        .clients
        .sagemaker
        .describe_model_package()
        .model_package_name(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        package.model_approval_status(),
        Some(&ModelApprovalStatus::Approved)
    );
    assert_eq!(
        package.customer_metadata_properties().unwrap()["deployment_status"],
        "failed"
    );

    let alerts = receive(&pipeline.emulator, &pipeline.alerts).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["detail"]["model_package_version"], n2);
    assert_eq!(alerts[0]["detail"]["reason"], reason.as_str());

    // No loop: more events and checks change nothing, v1 stays live.
    let updates = pipeline.update_count();
    for _ in 0..3 {
        let outcome = pipeline
            .handle(sample("scheduled-deployment-check.json"))
            .await;
        assert!(
            matches!(outcome, DeployOutcome::Skipped { ref reason, .. } if reason == "live"),
            "{outcome:?}"
        );
    }
    assert_eq!(pipeline.update_count(), updates);
    assert_eq!(
        pipeline.serving().await.1,
        pipeline.config.endpoint_config_name(&v1, n1)
    );

    // A newer version approved next goes live; v2's failure is not alerted again.
    slow_updates(&pipeline.emulator, "InService");
    let (v3, n3) = pipeline.approve('c').await;
    let expected = (
        "InService".to_string(),
        pipeline.config.endpoint_config_name(&v3, n3),
    );
    pipeline
        .run_until("v3 live", async |p: &Pipeline| {
            p.serving().await == expected
        })
        .await;
    assert!(receive(&pipeline.emulator, &pipeline.alerts)
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_check_with_nothing_to_do_reads_and_writes_nothing() {
    let emulator = Emulator::start().await;
    let mut pipeline = Pipeline::start(emulator, config(&[])).await;
    pipeline.approve('a').await;
    pipeline.emulator.reset_calls();
    let outcome = pipeline
        .handle(sample("scheduled-deployment-check.json"))
        .await;
    assert!(matches!(outcome, DeployOutcome::Skipped { ref reason, .. } if reason == "live"));
    let calls: Vec<String> = pipeline
        .emulator
        .call_log()
        .into_iter()
        .filter(|c| c.service == "sagemaker")
        .map(|c| c.operation)
        .collect();
    assert_eq!(calls, ["DescribeEndpoint", "ListModelPackages"]);
}

// --- staged promotion with models served for real --------------------------

/// The broken-model fixture as the repository `mlops-fixture`, by tag:
/// `good` answers, `v500` answers 500, `garbage` answers unparseable JSON.
fn local_images() -> PathBuf {
    let fixture = repo_root().join("tests/emulator/fixtures/broken-model");
    let file =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deploy_converges-local-images.json");
    let document = json!({
        "repositories": {"mlops-fixture": {"example": fixture, "tags": {
            "good": {"environment": {}},
            "v500": {"environment": {"BROKEN_MODE": "500"}},
            "garbage": {"environment": {"BROKEN_MODE": "garbage"}},
        }}},
        "serve_workers": 1,
    });
    std::fs::write(&file, document.to_string()).unwrap();
    file
}

/// A version of `tag`'s model, registered and approved; deploy gets the
/// approval.
async fn fixture_version(pipeline: &mut Pipeline, tag: &str) -> (String, i64) {
    let image = format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-fixture:{tag}");
    let model_data = format!("s3://{BUCKET}/models/model.tar.gz");
    let (arn, number) = approved_image(&pipeline.clients.sagemaker, &image, &model_data).await;
    pipeline
        .handle(common::decision(&arn, number, "Approved"))
        .await;
    (arn, number)
}

async fn staged_pipeline() -> Pipeline {
    let emulator = Emulator::start_with_local_images(local_images()).await;
    let s3 = aws_sdk_s3::Client::new(&emulator.sdk_config().await);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    // A model archive with one file: the fixture does not read it.
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(7);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "model.txt", &b"fixture"[..])
        .unwrap();
    let model = archive.into_inner().unwrap().finish().unwrap();
    for (key, body) in [
        ("models/model.tar.gz", model),
        (
            "smoke/requests.jsonl",
            b"{\"body\": \"1,2,3\"}\n{\"body\": \"4,5,6\", \"expected\": {\"predictions\": [1.0]}}\n".to_vec(),
        ),
    ] {
        s3.put_object().bucket(BUCKET).key(key).body(body.into()).send().await.unwrap();
    }
    let config = config(&[
        ("STAGING_ENABLED", "true"),
        (
            "SMOKE_TEST_REQUESTS_S3_URI",
            "s3://mlops-data/smoke/requests.jsonl",
        ),
        ("SMOKE_TEST_TOLERANCE", "0.01"),
        ("SMOKE_TEST_P99_MS", "5000"),
    ]);
    Pipeline::start(emulator, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_model_passes_the_smoke_test_and_a_bad_one_never_reaches_production() {
    let mut pipeline = staged_pipeline().await;
    assert_eq!(BUCKET, "mlops-data");

    // A good model: staging, smoke test, production.
    let (good, n_good) = fixture_version(&mut pipeline, "good").await;
    assert!(
        matches!(pipeline.outcomes.last(), Some(DeployOutcome::Staged { .. })),
        "{:?}",
        pipeline.outcomes
    );
    let good_config = pipeline.config.endpoint_config_name(&good, n_good);
    let expected = ("InService".to_string(), good_config.clone());
    pipeline
        .run_until("the good model in production", async |p: &Pipeline| {
            p.clients
                .sagemaker
                .describe_endpoint()
                .endpoint_name(ENDPOINT)
                .send()
                .await
                .is_ok()
                && p.serving().await == expected
        })
        .await;
    assert!(pipeline.outcomes.iter().any(|o| matches!(o, DeployOutcome::Created { smoke_test: Some(report), .. } if report.requests == 2)), "{:#?}", pipeline.outcomes);
    assert_eq!(
        pipeline.life_cycle(&good).await,
        (Some("Staging".into()), Some("Passed".into()))
    );

    // Models that answer 500 or garbage: stopped on staging.
    for (tag, why) in [("v500", "HTTP 500"), ("garbage", "not JSON")] {
        let (bad, n_bad) = fixture_version(&mut pipeline, tag).await;
        pipeline
            .run_until("the bad model stopped", async |p: &Pipeline| {
                p.outcomes.iter().any(|o| {
                    matches!(o, DeployOutcome::Failed { model_package_version, .. } if *model_package_version == n_bad)
                })
            })
            .await;
        let Some(DeployOutcome::Failed { stage, reason, .. }) = pipeline.outcomes.last() else {
            panic!("{:?}", pipeline.outcomes.last());
        };
        assert_eq!(*stage, Stage::Staging);
        assert!(reason.contains(why), "{reason}");
        assert_eq!(
            pipeline.life_cycle(&bad).await,
            (Some("Staging".into()), Some("Failed".into()))
        );
        assert_eq!(
            pipeline.serving().await,
            expected,
            "production keeps the good model"
        );
        let alerts = receive(&pipeline.emulator, &pipeline.alerts).await;
        assert_eq!(alerts.len(), 1, "{alerts:?}");
    }
    // Staging keeps the last version it tested.
    let staging = pipeline
        .clients
        .sagemaker
        .describe_endpoint()
        .endpoint_name(STAGING)
        .send()
        .await
        .unwrap();
    assert_eq!(staging.endpoint_status().unwrap().as_str(), "InService");
}
