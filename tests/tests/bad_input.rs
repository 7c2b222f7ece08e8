//! Bad input: every handler, fed every sample in events/ mutated (fields
//! removed, wrong types, nulls, huge strings, deep nesting, odd unicode,
//! invalid percent-encoding, empty `Records`), never panics, and every
//! rejection is a non-retryable error that names the problem.
//!
//! A field the handler needs ([`required`]: the non-Option fields of the
//! types the event is read into, and the fields the handler checks itself)
//! removed, or given a value of the wrong JSON type, is more than "no panic":
//! the answer is a `NonRetryable.InvalidEvent` error that names the field.
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
            Some("s3" | "sqs" | "retraining" | "processing") => Function::Retrain,
            Some("training") => Function::Evaluate,
            Some("evaluation") => Function::Register,
            Some("model" | "endpoint" | "scheduled") => Function::Deploy,
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
    retrain_clients: retrain_model_on_new_data::Clients,
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
            retrain_clients: retrain_model_on_new_data::Clients {
                sagemaker: aws_sdk_sagemaker::Client::new(&sdk),
                scheduler: aws_sdk_scheduler::Client::new(&sdk),
            },
            evaluate_clients: evaluate_model_function::Clients::new(&sdk),
            deploy_clients: deploy_sagemaker_model::Clients::new(&sdk),
            trigger: trigger_model_training::TriggerConfig::from_reader(env(&[])).unwrap(),
            retrain: retrain_model_on_new_data::RetrainConfig::from_reader(env(&[
                ("RETRAIN_DATA_S3_URI", "s3://mlops-data-123456789012-us-east-1/data/train/"),
                ("RETRAIN_FALLBACK_IMAGE", "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6"),
                ("RETRAIN_SCHEDULE_GROUP", "mlops-retraining"),
                ("RETRAIN_SCHEDULE_TARGET_ARN", "arn:aws:sqs:us-east-1:123456789012:mlops-retrain"),
                ("RETRAIN_SCHEDULE_ROLE_ARN", "arn:aws:iam::123456789012:role/mlops-retrain-scheduler"),
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
                json(
                    retrain_model_on_new_data::handle(&self.retrain_clients, &self.retrain, event)
                        .await,
                )
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
        // Not the inference API's HTTP requests (`apigw-*`): lambda_http reads
        // those, and serve_predictions answers a bad request with an HTTP
        // status (its handler tests), never with an error.
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| !file_name(path).starts_with("apigw-"))
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

/// The JSON type serde reads a required field from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `String`, an SDK enum (any string: a value the SDK does not know is
    /// kept) or an RFC 3339 time: a string. Which strings are right is not a
    /// matter of type.
    Str,
    Bool,
    /// An `i64`: an integer in its range.
    Int,
    /// An `f64`: any number.
    Num,
    /// A struct: an object, or an array, which serde reads as the fields in
    /// order (`[]` is a valid `S3UserIdentity`, whose fields are all optional).
    Struct,
    /// A `Vec`: an array.
    Seq,
}

impl Kind {
    /// Whether serde cannot read `value` as this kind at all.
    fn refuses(self, value: &Value) -> bool {
        match self {
            Kind::Str => !value.is_string(),
            Kind::Bool => !value.is_boolean(),
            Kind::Int => value.as_i64().is_none(),
            Kind::Num => !value.is_number(),
            Kind::Struct => !(value.is_object() || value.is_array()),
            Kind::Seq => !value.is_array(),
        }
    }

    /// Values of the wrong type, for [`every_required_field_broken_is_rejected_by_name`].
    fn wrong_values(self) -> Vec<Value> {
        let mut values = vec![Value::Null];
        values.extend(match self {
            Kind::Str => vec![json!(7), json!(["a"])],
            Kind::Bool => vec![json!("true"), json!(1)],
            Kind::Int => vec![json!("3"), json!(1.5), json!(u64::MAX)],
            Kind::Num => vec![json!("2.5"), json!(true)],
            Kind::Struct => vec![json!("x"), json!(7)],
            Kind::Seq => vec![json!({}), json!("x")],
        });
        values
    }
}

/// A field a handler needs, by its JSON pointer in the sample (`*`: any
/// array index), and the type it must have.
#[derive(Debug, Clone, Copy)]
struct Required {
    pointer: &'static str,
    kind: Kind,
}

const fn field(pointer: &'static str, kind: Kind) -> Required {
    Required { pointer, kind }
}

impl Required {
    fn is_at(&self, path: &[PathStep]) -> bool {
        let steps: Vec<&str> = self.pointer.split('/').skip(1).collect();
        steps.len() == path.len()
            && steps.iter().zip(path).all(|(step, at)| match at {
                PathStep::Key(key) => step == key,
                PathStep::Index(i) => *step == "*" || *step == i.to_string(),
            })
    }

    /// The field's name: the last key of its path.
    fn key(&self) -> &'static str {
        self.pointer.rsplit('/').next().unwrap_or_default()
    }
}

use Kind::{Bool, Int, Num, Seq, Str, Struct};

/// `EventBridgeEvent`'s (aws_lambda_events) non-Option fields; every handler
/// checks `source` and `detail-type` too.
const EVENTBRIDGE: &[Required] = &[
    field("/detail-type", Str),
    field("/source", Str),
    field("/detail", Struct),
];
/// `EcrImageAction`'s (shared/src/events.rs).
const ECR_IMAGE_ACTION: &[Required] = &[
    field("/detail/action-type", Str),
    field("/detail/result", Str),
    field("/detail/repository-name", Str),
];
/// What trigger_model_training checks itself of a push that is to start a
/// job (`pushed_image`): the digest, and the image URI's account and region.
const ECR_PUSH_THAT_STARTS_A_JOB: &[Required] = &[
    field("/detail/image-digest", Str),
    field("/account", Str),
    field("/region", Str),
];
/// `TrainingJobStateChange`'s.
const TRAINING_JOB_STATE_CHANGE: &[Required] = &[
    field("/detail/TrainingJobName", Str),
    field("/detail/TrainingJobArn", Str),
    field("/detail/TrainingJobStatus", Str),
];
/// `ProcessingJobStateChange`'s, and the image of its (optional)
/// `AppSpecification`, which the samples have.
const PROCESSING_JOB_STATE_CHANGE: &[Required] = &[
    field("/detail/ProcessingJobName", Str),
    field("/detail/ProcessingJobArn", Str),
    field("/detail/ProcessingJobStatus", Str),
    field("/detail/AppSpecification/ImageUri", Str),
];
/// `ModelArtifacts`' one field, in the samples that have the (optional)
/// `ModelArtifacts`.
const TRAINING_JOB_ARTIFACTS: &[Required] =
    &[field("/detail/ModelArtifacts/S3ModelArtifacts", Str)];
/// `ModelEvaluation`'s (shared/src/evaluation.rs), and `ThresholdVerdict`'s in
/// each of its (optional) `thresholds`.
const MODEL_EVALUATION: &[Required] = &[
    field("/detail/pipeline", Str),
    field("/detail/training_job_name", Str),
    field("/detail/training_job_arn", Str),
    field("/detail/training_job_status", Str),
    field("/detail/passed", Bool),
    field("/detail/thresholds/*/metric", Str),
    field("/detail/thresholds/*/comparison", Str),
    field("/detail/thresholds/*/threshold", Num),
    field("/detail/thresholds/*/passed", Bool),
];
/// What register_model_in_registry checks itself of a passed evaluation
/// (`create_model_package_request`; INFERENCE_IMAGE is not set here).
const EVALUATION_THAT_PASSED: &[Required] = &[
    field("/detail/model_artifacts", Str),
    field("/detail/image", Str),
];
/// `ModelPackageStateChange`'s.
const MODEL_PACKAGE_STATE_CHANGE: &[Required] = &[
    field("/detail/ModelPackageGroupName", Str),
    field("/detail/ModelPackageVersion", Int),
    field("/detail/ModelPackageArn", Str),
    field("/detail/ModelApprovalStatus", Str),
];
/// `EndpointStateChange`'s.
const ENDPOINT_STATE_CHANGE: &[Required] = &[
    field("/detail/EndpointName", Str),
    field("/detail/EndpointStatus", Str),
];
/// `S3Event`'s (aws_lambda_events): `Records`, and each record's non-Option
/// fields; then what retrain_model_on_new_data checks itself of each record
/// (`from_notification`), whatever it then decides about the object.
const S3_NOTIFICATION: &[Required] = &[
    field("/Records", Seq),
    field("/Records/*/eventTime", Str),
    field("/Records/*/userIdentity", Struct),
    field("/Records/*/requestParameters", Struct),
    field("/Records/*/s3", Struct),
    field("/Records/*/s3/bucket", Struct),
    field("/Records/*/s3/object", Struct),
    field("/Records/*/eventVersion", Str),
    field("/Records/*/eventSource", Str),
    field("/Records/*/eventName", Str),
    field("/Records/*/s3/bucket/name", Str),
    field("/Records/*/s3/object/key", Str),
];
/// `S3ObjectCreated`'s, and the envelope's `time`, which retrain checks
/// itself (a burst's quiet period is measured on it).
const S3_OBJECT_CREATED: &[Required] = &[
    field("/detail/bucket", Struct),
    field("/detail/bucket/name", Str),
    field("/detail/object", Struct),
    field("/detail/object/key", Str),
    field("/time", Str),
];

/// An SQS batch: `Records` (each message's body is read on its own).
const SQS_BATCH: &[Required] = &[field("/Records", Seq)];
/// What a burst's schedule sends to retrain when it falls due.
const RETRAINING_DUE: Required = field("/retraining_due", Struct);
const RETRAINING_DUE_FIELDS: &[Required] = &[
    RETRAINING_DUE,
    field("/retraining_due/schedule", Str),
    field("/retraining_due/data", Str),
    field("/retraining_due/due", Str),
    field("/retraining_due/first_object", Struct),
    field("/retraining_due/first_object/bucket", Str),
    field("/retraining_due/first_object/key", Str),
    field("/retraining_due/first_object/time", Str),
];

/// The fields of `sample` its handler needs. A sample of events/ without an
/// entry here fails the tests: each new one is looked at.
fn required(sample: &str) -> Vec<Required> {
    let parts: &[&[Required]] = match sample {
        "ecr-push.json" | "ecr-push-untagged.json" | "ecr-push-untagged-empty-tag.json" => {
            &[EVENTBRIDGE, ECR_IMAGE_ACTION, ECR_PUSH_THAT_STARTS_A_JOB]
        }
        // Skipped before the image is looked at: not a push, a failed one,
        // another repository.
        "ecr-delete.json" | "ecr-push-failure.json" | "ecr-push-other-repository.json" => {
            &[EVENTBRIDGE, ECR_IMAGE_ACTION]
        }
        "s3-notification-delete.json"
        | "s3-notification-encoded-key.json"
        | "s3-notification-folder-marker.json"
        | "s3-notification-many-records.json"
        | "s3-notification-other-prefix.json"
        | "s3-notification-put.json" => &[S3_NOTIFICATION],
        "s3-object-created.json" | "s3-object-created-success-marker.json" => {
            &[EVENTBRIDGE, S3_OBJECT_CREATED]
        }
        // A batch from retrain's queue: a bad message body is that message's
        // failure (`batchItemFailures`), not the invocation's error.
        "sqs-s3-object-created.json" => &[SQS_BATCH],
        "retraining-due.json" => &[RETRAINING_DUE_FIELDS],
        "processing-job-completed.json" | "processing-job-failed.json" => {
            &[EVENTBRIDGE, PROCESSING_JOB_STATE_CHANGE]
        }
        // Known by its `Event`; without it, it is no event retrain takes, and
        // the error names the two forms it does take, not `Event`.
        "s3-test-event.json" => &[],
        "training-job-completed.json"
        | "training-job-completed-string-times.json"
        | "training-job-other-pipeline.json"
        | "training-job-stopped.json" => &[
            EVENTBRIDGE,
            TRAINING_JOB_STATE_CHANGE,
            TRAINING_JOB_ARTIFACTS,
        ],
        "training-job-failed.json" | "training-job-in-progress.json" => {
            &[EVENTBRIDGE, TRAINING_JOB_STATE_CHANGE]
        }
        "evaluation-passed.json" => &[EVENTBRIDGE, MODEL_EVALUATION, EVALUATION_THAT_PASSED],
        // Skipped as failed before its artifacts are looked at.
        "evaluation-failed.json" => &[EVENTBRIDGE, MODEL_EVALUATION],
        "model-package-approved.json"
        | "model-package-approved-string-times.json"
        | "model-package-other-group.json"
        | "model-package-pending.json"
        | "model-package-rejected-not-live.json"
        | "model-package-rejected.json" => &[EVENTBRIDGE, MODEL_PACKAGE_STATE_CHANGE],
        "endpoint-in-service.json" | "endpoint-updating.json" => {
            &[EVENTBRIDGE, ENDPOINT_STATE_CHANGE]
        }
        "scheduled-deployment-check.json" => &[EVENTBRIDGE],
        _ => panic!("{sample}: which of its fields are required? Add it to required()"),
    };
    parts.concat()
}

/// The required field of `sample` that `mutation` at `path` removes or gives
/// a value of the wrong type, if any.
fn broken_field(sample: &str, path: &[PathStep], mutation: &Mutation) -> Option<Required> {
    required(sample).into_iter().find(|field| {
        field.is_at(path)
            && match mutation {
                Mutation::Remove => true,
                Mutation::Replace(value) => field.kind.refuses(value),
            }
    })
}

/// Whether `message` names `key` as a word of its own (`detail-type` does not
/// name `detail`): a path (`detail.repository-name:`, `Records[0].s3.object.key
/// is missing`), or serde's `` missing field `key` ``.
fn names(message: &str, key: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    message.match_indices(key).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + key.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// A mutation, shortly (a replacement of 100 000 characters is not shown whole).
fn describe(mutation: &Mutation) -> String {
    match mutation {
        Mutation::Remove => "removed".to_string(),
        Mutation::Replace(value) => {
            let text = value.to_string();
            match text.char_indices().nth(60) {
                Some((cut, _)) => format!("replaced by {}… ({} bytes)", &text[..cut], text.len()),
                None => format!("replaced by {text}"),
            }
        }
    }
}

/// What a handler must answer when a required field is missing or of the
/// wrong type: `NonRetryable.InvalidEvent`, naming the field (unless the
/// table says it is not named).
fn rejected_by_name(
    sample: &str,
    field: Required,
    mutation: &Mutation,
    outcome: &Result<Value, PipelineError>,
) -> Result<(), String> {
    let what = format!("{sample}: {} {}", field.pointer, describe(mutation));
    match outcome {
        Ok(answer) => Err(format!("{what}: accepted, answered {answer}")),
        Err(err) if err.error_type() != "NonRetryable.InvalidEvent" => {
            Err(format!("{what}: {} {err}", err.error_type()))
        }
        Err(err) if !names(&err.to_string(), field.key()) => Err(format!(
            "{what}: the error does not name {}: {err}",
            field.key()
        )),
        Err(_) => Ok(()),
    }
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
            if let Some(field) = broken_field(name, path, &mutation) {
                if let Err(problem) = rejected_by_name(name, field, &mutation, &outcome) {
                    return Err(TestCaseError::fail(problem));
                }
            }
            check(name, outcome)
        })?;
    }
}

/// The table of required fields fits the samples: each field is in its sample
/// (a renamed field would otherwise go unchecked), and each sample as it is
/// gets past validation, so that what a mutation breaks is the mutated field.
#[test]
fn the_required_fields_are_the_samples_own() {
    let runtime = runtime();
    let handlers = Handlers::new(&runtime);
    for (name, sample) in samples() {
        let all = paths(&sample);
        for field in required(&name) {
            assert!(
                all.iter().any(|path| field.is_at(path)),
                "{name} has no {}",
                field.pointer
            );
        }
        let outcome = runtime.block_on(handlers.handle(Function::of(&name), sample));
        if let Err(err) = outcome {
            assert_eq!(err.error_type(), "Retryable.AwsTransient", "{name}: {err}");
        }
    }
}

/// Every required field of every sample, removed and given each of a few
/// values of the wrong type, one at a time: rejected, by name.
#[test]
fn every_required_field_broken_is_rejected_by_name() {
    let runtime = runtime();
    let handlers = Handlers::new(&runtime);
    let mut problems = Vec::new();
    let mut cases = 0;
    for (name, sample) in samples() {
        let all = paths(&sample);
        for field in required(&name) {
            let mutations = std::iter::once(Mutation::Remove)
                .chain(field.kind.wrong_values().into_iter().map(Mutation::Replace));
            for mutation in mutations {
                for path in all.iter().filter(|path| field.is_at(path)) {
                    let payload = apply(sample.clone(), path, &mutation);
                    let outcome = runtime.block_on(handlers.handle(Function::of(&name), payload));
                    cases += 1;
                    if let Err(problem) = rejected_by_name(&name, field, &mutation, &outcome) {
                        problems.push(problem);
                    }
                }
            }
        }
    }
    assert!(cases > 500, "only {cases} cases");
    assert!(
        problems.is_empty(),
        "{} of {cases}:\n{}",
        problems.len(),
        problems.join("\n")
    );
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
