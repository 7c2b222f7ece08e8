//! Bad input: every handler, fed every sample in events/ mutated (fields
//! removed, wrong types, nulls, huge strings, deep nesting, odd unicode,
//! invalid percent-encoding, empty `Records`), never panics, and every
//! rejection is a non-retryable error that names the problem.
//!
//! The handlers run whole, with SDK clients pointed at a closed loopback port:
//! an event that gets past validation reaches "AWS" and fails there as a
//! retryable transport error, which is the one retryable answer allowed.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use integration::repo_root;
use lambda_runtime::{Context, LambdaEvent};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use shared::config::EnvReader;
use shared::PipelineError;

/// Which function takes a sample, by the name of its file (as
/// shared/tests/fixtures.rs tells them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Trigger,
    Retrain,
    Evaluate,
    Register,
    Deploy,
}

impl Function {
    fn of(sample: &str) -> Function {
        match sample.split('-').next() {
            Some("ecr") => Function::Trigger,
            Some("s3") => Function::Retrain,
            Some("training") => Function::Evaluate,
            Some("evaluation") => Function::Register,
            Some("model" | "endpoint") => Function::Deploy,
            _ => panic!("{sample}: no function takes this sample"),
        }
    }
}

/// The five handlers, configured, with clients that cannot reach AWS.
struct Handlers {
    sagemaker: aws_sdk_sagemaker::Client,
    evaluate_clients: evaluate_model_function::Clients,
    deploy_clients: deploy_sagemaker_model::Clients,
    trigger: trigger_model_training::TriggerConfig,
    retrain: retrain_model_on_new_data::RetrainConfig,
    evaluate: evaluate_model_function::EvaluateConfig,
    register: register_model_in_registry::RegisterConfig,
    deploy: deploy_sagemaker_model::DeployConfig,
}

type Outcome<'a> = Pin<Box<dyn Future<Output = Result<Value, PipelineError>> + 'a>>;

impl Handlers {
    fn new(runtime: &tokio::runtime::Runtime) -> Handlers {
        let sdk = runtime.block_on(unreachable_aws());
        let env = |extra: &[(&'static str, &'static str)]| {
            let mut vars = vec![
                ("PIPELINE_NAME", "mlops"),
                (
                    "SAGEMAKER_ROLE_ARN",
                    "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
                ),
                ("ECR_REPOSITORY_NAME", "mlops-training"),
                (
                    "TRAINING_CHANNELS",
                    r#"[{"name":"train","s3_uri":"s3://mlops-data-123456789012-us-east-1/data/train/"}]"#,
                ),
                ("TRAINING_OUTPUT_S3_URI", "s3://mlops-artifacts/models/"),
            ];
            vars.extend_from_slice(extra);
            EnvReader::from_vars(vars)
        };
        Handlers {
            sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
            evaluate_clients: evaluate_model_function::Clients::new(&sdk),
            deploy_clients: deploy_sagemaker_model::Clients::new(&sdk),
            trigger: trigger_model_training::TriggerConfig::from_reader(env(&[])).unwrap(),
            retrain: retrain_model_on_new_data::RetrainConfig::from_reader(env(&[
                ("RETRAIN_DATA_S3_URI", "s3://mlops-data-123456789012-us-east-1/data/train/"),
                ("RETRAIN_FALLBACK_IMAGE", "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6"),
            ]))
            .unwrap(),
            evaluate: evaluate_model_function::EvaluateConfig::from_reader(env(&[(
                "EVALUATION_THRESHOLDS",
                "validation:rmse <= 3.5",
            )]))
            .unwrap(),
            register: register_model_in_registry::RegisterConfig::from_reader(env(&[])).unwrap(),
            deploy: deploy_sagemaker_model::DeployConfig::from_reader(env(&[
                ("AUTOSCALING_MIN_INSTANCES", "1"),
                ("AUTOSCALING_MAX_INSTANCES", "2"),
                ("AUTOSCALING_TARGET_INVOCATIONS", "100"),
            ]))
            .unwrap(),
        }
    }

    fn handle(&self, function: Function, payload: Value) -> Outcome<'_> {
        let event = LambdaEvent::new(payload, Context::default());
        match function {
            Function::Trigger => Box::pin(async move {
                json(trigger_model_training::handle(&self.sagemaker, &self.trigger, event).await)
            }),
            Function::Retrain => Box::pin(async move {
                json(retrain_model_on_new_data::handle(&self.sagemaker, &self.retrain, event).await)
            }),
            Function::Evaluate => Box::pin(async move {
                json(
                    evaluate_model_function::handle(&self.evaluate_clients, &self.evaluate, event)
                        .await,
                )
            }),
            Function::Register => Box::pin(async move {
                json(
                    register_model_in_registry::handle(&self.sagemaker, &self.register, event)
                        .await,
                )
            }),
            Function::Deploy => Box::pin(async move {
                json(
                    deploy_sagemaker_model::handle(&self.deploy_clients, &self.deploy, event).await,
                )
            }),
        }
    }
}

fn json<T: serde::Serialize>(outcome: Result<T, PipelineError>) -> Result<Value, PipelineError> {
    outcome.map(|o| serde_json::to_value(o).expect("an outcome serializes"))
}

/// SDK configuration for a loopback port nobody listens on, without retries:
/// every call fails at once with a connection error.
async fn unreachable_aws() -> SdkConfig {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "bad-input"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

fn samples() -> Vec<(String, Value)> {
    let dir = repo_root().join("events");
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        // The samples; events/README.md says where their shapes come from.
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = file_name(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    samples
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// What a handler may answer to any input.
fn check(sample: &str, outcome: Result<Value, PipelineError>) -> Result<(), TestCaseError> {
    let Err(err) = outcome else {
        return Ok(());
    };
    let message = err.to_string();
    if err.is_retryable() {
        // Only the unreachable "AWS" may make an answer retryable.
        prop_assert_eq!(
            err.error_type(),
            "Retryable.AwsTransient",
            "{}: {}",
            sample,
            message
        );
        return Ok(());
    }
    prop_assert!(
        err.error_type().starts_with("NonRetryable."),
        "{}: {}",
        sample,
        message
    );
    prop_assert!(
        message.len() > "invalid event: ".len() + 3,
        "{}: the error says too little: {:?}",
        sample,
        message
    );
    // An error that echoes a huge field whole would flood the logs.
    prop_assert!(
        message.chars().count() <= shared::error::MAX_EVENT_ERROR_CHARS + 100,
        "{}: {} character error",
        sample,
        message.chars().count()
    );
    Ok(())
}

/// Every path to a node of `value`, as object keys and array indexes.
fn paths(value: &Value) -> Vec<Vec<PathStep>> {
    let mut out = vec![Vec::new()];
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                for mut rest in paths(child) {
                    rest.insert(0, PathStep::Key(key.clone()));
                    out.push(rest);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                for mut rest in paths(child) {
                    rest.insert(0, PathStep::Index(i));
                    out.push(rest);
                }
            }
        }
        _ => {}
    }
    out
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn node<'a>(value: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    path.iter().fold(value, |node, step| match step {
        PathStep::Key(key) => &mut node[key.as_str()],
        PathStep::Index(i) => &mut node[*i],
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove,
    Replace(Value),
}

/// Values that are wrong in type, size, depth or content.
fn bad_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1e308)),
        Just(json!(u64::MAX)),
        Just(json!("")),
        Just(json!([])),
        Just(json!({})),
        Just(json!("x".repeat(100_000))),
        Just(json!(vec!["part-0001.csv"; 10_000])),
        Just(deep(500)),
        Just(json!("%")),
        Just(json!("%zz%C3%28+%ff")),
        Just(json!("data/train/%E2%82")),
        Just(json!("\u{0}\u{202e}\u{feff}\u{1f600}\u{10ffff}")),
        Just(json!("../../etc/passwd")),
        Just(json!("sha256:")),
        Just(json!("2026-13-45T99:99:99Z")),
        ".{0,40}".prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
    ]
}

fn deep(levels: usize) -> Value {
    (0..levels).fold(json!("bottom"), |inner, i| {
        if i % 2 == 0 {
            json!([inner])
        } else {
            json!({ "detail": inner })
        }
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => Just(Mutation::Remove),
        3 => bad_value().prop_map(Mutation::Replace),
    ]
}

fn apply(mut payload: Value, path: &[PathStep], mutation: &Mutation) -> Value {
    match (mutation, path.split_last()) {
        (Mutation::Replace(value), _) => *node(&mut payload, path) = value.clone(),
        (Mutation::Remove, None) => payload = Value::Null,
        (Mutation::Remove, Some((last, parent))) => match (node(&mut payload, parent), last) {
            (Value::Object(map), PathStep::Key(key)) => {
                map.remove(key);
            }
            (Value::Array(items), PathStep::Index(i)) => {
                items.remove(*i);
            }
            _ => unreachable!("paths() only walks objects and arrays"),
        },
    }
    payload
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// One field of one sample mutated at a time, anywhere in the event.
    #[test]
    fn a_mutated_sample_never_panics_and_is_rejected_clearly(
        which in any::<Index>(),
        at in any::<Index>(),
        mutation in mutation(),
    ) {
        thread_local! {
            static SETUP: (tokio::runtime::Runtime, Vec<(String, Value)>, Handlers) = {
                let runtime = runtime();
                let handlers = Handlers::new(&runtime);
                (runtime, samples(), handlers)
            };
        }
        SETUP.with(|(runtime, samples, handlers)| {
            let (name, sample) = which.get(samples);
            let all = paths(sample);
            let path = at.get(&all);
            let payload = apply(sample.clone(), path, &mutation);
            let outcome = runtime.block_on(handlers.handle(Function::of(name), payload));
            check(name, outcome)
        })?;
    }
}

/// Whole-event shapes no sample has: null, nothing, arrays, scalars, every
/// leaf null, and `Records` empty or holding nonsense.
#[test]
fn degenerate_events_are_rejected_by_every_handler() {
    let runtime = runtime();
    let handlers = Handlers::new(&runtime);
    let mut payloads = vec![
        Value::Null,
        json!({}),
        json!([]),
        json!("event"),
        json!(42),
        json!({"Records": []}),
        json!({"Records": null}),
        json!({"Records": [null]}),
        json!({"Records": [{}]}),
        json!({"Records": "x"}),
        json!({"detail-type": null, "detail": null}),
        deep(120),
    ];
    for (_, sample) in samples() {
        payloads.push(all_leaves_null(sample));
    }
    for function in [
        Function::Trigger,
        Function::Retrain,
        Function::Evaluate,
        Function::Register,
        Function::Deploy,
    ] {
        for payload in &payloads {
            let outcome = runtime.block_on(handlers.handle(function, payload.clone()));
            let err = match outcome {
                Err(err) => err,
                Ok(answer) => panic!("{function:?} accepted {payload}: {answer}"),
            };
            assert_eq!(
                err.error_type(),
                "NonRetryable.InvalidEvent",
                "{function:?} on {payload}: {err}"
            );
        }
    }
}

fn all_leaves_null(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, all_leaves_null(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(all_leaves_null).collect()),
        _ => Value::Null,
    }
}

/// A required field removed is named in the error.
#[test]
fn a_missing_required_field_is_named() {
    let runtime = runtime();
    let handlers = Handlers::new(&runtime);
    let cases = [
        (
            "ecr-push.json",
            "/detail/repository-name",
            "repository-name",
        ),
        ("ecr-push.json", "/detail/image-digest", "image-digest"),
        ("ecr-push.json", "/account", "account"),
        (
            "s3-notification-put.json",
            "/Records/0/eventTime",
            "eventTime",
        ),
        (
            "s3-notification-put.json",
            "/Records/0/s3/object/key",
            "key",
        ),
        ("s3-object-created.json", "/detail/object/key", "key"),
        ("s3-object-created.json", "/time", "time"),
        (
            "training-job-completed.json",
            "/detail/TrainingJobName",
            "TrainingJobName",
        ),
        (
            "training-job-completed.json",
            "/detail/TrainingJobStatus",
            "TrainingJobStatus",
        ),
        ("evaluation-passed.json", "/detail/passed", "passed"),
        (
            "evaluation-passed.json",
            "/detail/training_job_name",
            "training_job_name",
        ),
        (
            "model-package-approved.json",
            "/detail/ModelPackageArn",
            "ModelPackageArn",
        ),
        (
            "model-package-approved.json",
            "/detail/ModelApprovalStatus",
            "ModelApprovalStatus",
        ),
        (
            "endpoint-in-service.json",
            "/detail/EndpointName",
            "EndpointName",
        ),
    ];
    let samples = samples();
    for (sample, pointer, field) in cases {
        let (_, payload) = samples.iter().find(|(name, _)| name == sample).unwrap();
        let mut payload = payload.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = payload
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{sample}{pointer}"));
        let removed = match parent {
            Value::Object(map) => map.remove(key),
            _ => None,
        };
        assert!(removed.is_some(), "{sample}: no {pointer}");
        let err = runtime
            .block_on(handlers.handle(Function::of(sample), payload))
            .expect_err(sample);
        assert_eq!(
            err.error_type(),
            "NonRetryable.InvalidEvent",
            "{sample}: {err}"
        );
        assert!(
            err.to_string().contains(field),
            "{sample}: {err} does not name {field}"
        );
    }
}
