//! serve_predictions against a real model: the real handler and the real AWS
//! SDK, over HTTP, to the emulator's local SageMaker (docs/local-sagemaker.md),
//! which serves the example model (examples/diabetes-regression) with its own
//! gunicorn.
//!
//! One setup for the file, the pipeline's own way: trigger_model_training's
//! handler starts a training job of the example (small hyperparameters, so it
//! trains in a second or two), register_model_in_registry's handler registers
//! the model, a user approves it, and deploy_sagemaker_model's handler creates
//! the endpoint and, on its state change (in service), tags it with the
//! version it serves. Then each test sends requests as
//! API Gateway (HTTP API, payload 2.0) hands them to the function.
//!
//! The tests take turns ([`live`]): faults and the call log belong to the one
//! emulator they share.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::types::{EndpointStatus, ModelApprovalStatus, TrainingJobStatus};
use integration::{repo_root, Emulator, Fault, MAX_ATTEMPTS};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Context, Request, RequestExt, Response};
use register_model_in_registry::RegisterOutcome;
use serde_json::{json, Value};
use serve_predictions::{handle, headers, Clients, ServeConfig, Service, MODEL, PREDICTIONS};
use shared::config::EnvReader;
use tokio::sync::{Mutex, MutexGuard, OnceCell};
use trigger_model_training::{TriggerConfig, TriggerOutcome};

mod common;
use common::{invocation, BUCKET, ENDPOINT};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:serve_predictions";
/// How long training, then the endpoint, may take (each ~2 s here).
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

/// The example's sample request: three rows of ten features, no header.
fn sample_rows() -> String {
    std::fs::read_to_string(
        repo_root()
            .join("examples")
            .join("diabetes-regression")
            .join("sample-request.csv"),
    )
    .expect("examples/diabetes-regression/sample-request.csv")
}

fn row_count(csv: &str) -> usize {
    csv.lines().filter(|line| !line.trim().is_empty()).count()
}

// --- the setup: one trained model, live on the pipeline's endpoint ----------

/// The emulator with the endpoint InService, and the version it serves.
struct Live {
    emulator: Emulator,
    model_package_arn: String,
    version: i64,
}

static LIVE: OnceCell<Live> = OnceCell::const_new();
static TURN: Mutex<()> = Mutex::const_new(());

/// The live endpoint (set up by the first test that asks), with no fault
/// left by an earlier test, and this test's turn.
async fn live() -> (&'static Live, MutexGuard<'static, ()>) {
    let turn = TURN.lock().await;
    let live = LIVE.get_or_init(set_up).await;
    live.emulator.clear_faults();
    (live, turn)
}

/// The local-images file: the pipeline's repository is the example.
fn local_images() -> std::path::PathBuf {
    let example = repo_root().join("examples").join("diabetes-regression");
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve_predictions-local-images.json");
    let document = json!({
        "repositories": {"mlops-training": {"example": example}},
        "serve_workers": 1,
    });
    std::fs::write(&file, document.to_string()).expect("write the local-images file");
    file
}

async fn set_up() -> Live {
    let started = Instant::now();
    let emulator = Emulator::start_with_local_images(local_images()).await;
    let sdk = emulator.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(BUCKET)
        .key("data/train/diabetes.csv")
        .body(
            std::fs::read(
                repo_root()
                    .join("examples")
                    .join("diabetes-regression")
                    .join("data")
                    .join("diabetes.csv"),
            )
            .expect("the example's data set")
            .into(),
        )
        .send()
        .await
        .expect("PutObject diabetes.csv");
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);

    // An image pushed: trigger starts the job, which the emulator runs.
    let trigger = TriggerConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("ECR_REPOSITORY_NAME", "mlops-training"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data/data/train/","content_type":"text/csv"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-data/models/"),
        // A small model: it trains in a second, and predicts as well for these tests.
        (
            "TRAINING_HYPERPARAMETERS",
            r#"{"n_estimators":"20","max_depth":"2","learning_rate":"0.1"}"#,
        ),
    ]))
    .expect("valid trigger configuration");
    let outcome =
        trigger_model_training::handle(&sagemaker, &trigger, invocation(&common::push_event()))
            .await;
    let Ok(TriggerOutcome::Started {
        training_job_name: job,
        ..
    }) = outcome
    else {
        panic!("training did not start: {outcome:?}");
    };
    let (client, name) = (&sagemaker, job.as_str());
    let trained = wait_for(SETUP_TIMEOUT, "the training job", move || async move {
        let job = client
            .describe_training_job()
            .training_job_name(name)
            .send()
            .await
            .expect("DescribeTrainingJob");
        match job.training_job_status() {
            Some(TrainingJobStatus::InProgress) | Some(TrainingJobStatus::Stopping) => None,
            _ => Some(job),
        }
    })
    .await;
    assert_eq!(
        trained.training_job_status(),
        Some(&TrainingJobStatus::Completed),
        "{:?}",
        trained.failure_reason()
    );
    let image = trained
        .algorithm_specification()
        .and_then(|a| a.training_image())
        .expect("the job's image")
        .to_string();

    // It passed its evaluation: register makes a version, pending approval.
    let mut passed = common::evaluation_passed(&job);
    passed["detail"]["image"] = json!(image);
    let registered = register_model_in_registry::handle(
        &sagemaker,
        &common::register_config(),
        invocation(&passed),
    )
    .await;
    let Ok(RegisterOutcome::Registered {
        model_package_arn,
        version: Some(version),
        ..
    }) = registered
    else {
        panic!("not registered: {registered:?}");
    };

    // A user approves it; deploy creates the endpoint on it.
    sagemaker
        .update_model_package()
        .model_package_arn(&model_package_arn)
        .model_approval_status(ModelApprovalStatus::Approved)
        .send()
        .await
        .expect("UpdateModelPackage");
    let deployed = deploy_sagemaker_model::handle(
        &deploy_sagemaker_model::Clients::new(&sdk),
        &common::deploy_config(),
        invocation(&common::decision(&model_package_arn, version, "Approved")),
    )
    .await;
    assert!(
        matches!(
            deployed,
            Ok(deploy_sagemaker_model::DeployOutcome::Created { .. })
        ),
        "{deployed:?}"
    );
    let endpoint = wait_for(SETUP_TIMEOUT, "the endpoint", move || async move {
        let endpoint = client
            .describe_endpoint()
            .endpoint_name(ENDPOINT)
            .send()
            .await
            .expect("DescribeEndpoint");
        (endpoint.endpoint_status() != Some(&EndpointStatus::Creating)).then_some(endpoint)
    })
    .await;
    assert_eq!(
        endpoint.endpoint_status(),
        Some(&EndpointStatus::InService),
        "{:?}",
        endpoint.failure_reason()
    );
    // Its "Endpoint State Change" (IN_SERVICE), as the template's rule
    // delivers it: deploy tags the endpoint with the version it serves.
    let mut in_service = shared::test_support::sample("endpoint-in-service.json");
    in_service["detail"]["EndpointArn"] = json!(endpoint.endpoint_arn());
    in_service["detail"]["EndpointConfigName"] = json!(endpoint.endpoint_config_name());
    let tagged = deploy_sagemaker_model::handle(
        &deploy_sagemaker_model::Clients::new(&sdk),
        &common::deploy_config(),
        invocation(&in_service),
    )
    .await;
    assert!(tagged.is_ok(), "{tagged:?}");
    eprintln!(
        "serve_predictions: trained, registered, approved, deployed and InService in {:.1?}",
        started.elapsed()
    );
    Live {
        emulator,
        model_package_arn,
        version,
    }
}

/// Polls `check` every 200 ms until it answers, for at most `timeout`.
async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not finish within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// --- the function, as Lambda runs it ----------------------------------------

/// The function's service as its main builds it (the SDK's retries as the
/// functions make them, with short backoffs), for the pipeline `mlops` and
/// any extra configuration.
async fn service(live: &Live, vars: &[(&'static str, &'static str)]) -> Service {
    service_on(&live.emulator.sdk_config_fast_retries().await, vars)
}

fn service_on(sdk: &aws_config::SdkConfig, vars: &[(&'static str, &'static str)]) -> Service {
    let mut all = vec![("PIPELINE_NAME", "mlops")];
    all.extend_from_slice(vars);
    let config = ServeConfig::from_reader(EnvReader::from_vars(all)).expect("valid configuration");
    Service::new(Clients::new(sdk, &config), config)
}

static REQUESTS: AtomicU32 = AtomicU32::new(0);

/// A request as API Gateway (HTTP API, payload 2.0) hands it to the function,
/// with a request id of its own.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Body) -> (Request, String) {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let id = format!("apigw-{}", REQUESTS.fetch_add(1, Ordering::Relaxed));
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(id.clone());
    let mut lambda = Context::default();
    lambda.request_id = format!("lambda-{id}");
    lambda.invoked_function_arn = FUNCTION_ARN.into();
    let request = builder
        .body(body)
        .expect("a request")
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_lambda_context(lambda);
    (request, id)
}

fn post(content_type: &str, accept: &str, body: impl Into<String>) -> (Request, String) {
    request(
        "POST",
        PREDICTIONS,
        &[("content-type", content_type), ("accept", accept)],
        Body::Text(body.into()),
    )
}

/// Sends the request; the answer always carries its request id.
async fn send(service: &Service, (request, id): (Request, String)) -> Response<Body> {
    let response = handle(service, request).await.expect("the handler answers");
    assert_eq!(
        response.headers()[headers::REQUEST_ID],
        id.as_str(),
        "{response:?}"
    );
    response
}

fn text(response: &Response<Body>) -> &str {
    std::str::from_utf8(response.body().as_ref()).expect("a text body")
}

fn json_of(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(response)))
}

/// A problem's answer: its status, `code` and `Retry-After`; its JSON body.
#[track_caller]
fn assert_problem(
    response: &Response<Body>,
    status: StatusCode,
    code: &str,
    retry_after: Option<&str>,
) -> Value {
    let body = json_of(response);
    assert_eq!(
        (response.status(), body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{body}"
    );
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        retry_after,
        "{body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        response.headers()[headers::REQUEST_ID].to_str().ok()
    );
    body
}

/// CSV predictions: one number per row, each a plausible disease progression
/// (the data set's targets are 25-346).
#[track_caller]
fn predictions_of_csv(response: &Response<Body>, rows: usize) -> Vec<f64> {
    assert_eq!(response.status(), StatusCode::OK, "{}", text(response));
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{response:?}"
    );
    let predictions: Vec<f64> = text(response)
        .lines()
        .map(|line| line.trim().parse().expect("one number per line"))
        .collect();
    assert_eq!(predictions.len(), rows, "{}", text(response));
    assert!(
        predictions.iter().all(|p| (25.0..=350.0).contains(p)),
        "{predictions:?}"
    );
    predictions
}

/// The same predictions, read from CSV and from JSON: serde_json (without
/// its `float_roundtrip` feature) may read a number 1 ulp off.
#[track_caller]
fn assert_same(json: &[f64], csv: &[f64]) {
    assert_eq!(json.len(), csv.len(), "{json:?} {csv:?}");
    assert!(
        json.iter()
            .zip(csv)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs()),
        "the same model, the same rows: {json:?} {csv:?}"
    );
}

/// The AWS calls the emulator has received so far.
fn calls(live: &Live) -> usize {
    live.emulator.call_log().len()
}

// --- predictions ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_prediction_is_one_number_per_row_as_csv_or_json() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let rows = sample_rows();

    let response = send(&service, post("text/csv", "text/csv", &rows)).await;
    let csv = predictions_of_csv(&response, row_count(&rows));
    assert_eq!(response.headers()[headers::INVOKED_VARIANT], "AllTraffic");

    let response = send(&service, post("text/csv", "application/json", &rows)).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text(&response));
    assert_eq!(response.headers()["content-type"], "application/json");
    let json: Vec<f64> = serde_json::from_value(json_of(&response)["predictions"].clone())
        .expect("{\"predictions\": [numbers]}");
    assert_same(&json, &csv);

    // No Accept: the model's default, CSV.
    let (request, id) = request(
        "POST",
        PREDICTIONS,
        &[("content-type", "text/csv; charset=utf-8")],
        Body::Text(rows.clone()),
    );
    let response = send(&service, (request, id)).await;
    assert_eq!(predictions_of_csv(&response, row_count(&rows)), csv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_is_predicted_as_csv_is() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let rows = sample_rows();
    let csv = predictions_of_csv(
        &send(&service, post("text/csv", "text/csv", &rows)).await,
        row_count(&rows),
    );

    let instances: Vec<Vec<f64>> = rows
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let body = json!({ "instances": instances }).to_string();
    let response = send(&service, post("application/json", "text/csv", body)).await;
    assert_eq!(predictions_of_csv(&response, csv.len()), csv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_row_is_the_models_400_with_its_message() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let body = "59,2,32.1,101,157,93.2,38,4,4.8598,87\n48,1,abc,87,183,103.2,70,3,3.8918,69\n";
    let before = live.emulator.call_log().len();

    let response = send(&service, post("text/csv", "text/csv", body)).await;
    let problem = assert_problem(&response, StatusCode::BAD_REQUEST, "ModelRejected", None);
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains("line 2 column 3: 'abc' is not a number"),
        "{problem}"
    );

    // A row of nine values: the model's own words again.
    let response = send(
        &service,
        post("text/csv", "text/csv", "1,2,3,4,5,6,7,8,9\n"),
    )
    .await;
    let problem = assert_problem(&response, StatusCode::BAD_REQUEST, "ModelRejected", None);
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("line 1 has 9 values; the model takes 10"),
        "{problem}"
    );

    // Each a single InvokeEndpoint, answered with SageMaker's ModelError (424),
    // which the SDK does not retry.
    let invocations: Vec<_> = live.emulator.call_log()[before..]
        .iter()
        .map(|call| (call.operation.clone(), call.status))
        .collect();
    assert_eq!(
        invocations,
        [
            ("InvokeEndpoint".to_string(), Some(424)),
            ("InvokeEndpoint".to_string(), Some(424))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_content_type_is_415_before_any_call() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let before = calls(live);
    let response = send(&service, post("text/plain", "text/csv", sample_rows())).await;
    let problem = assert_problem(
        &response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
        None,
    );
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("text/csv, application/json"),
        "{problem}"
    );
    assert_eq!(calls(live), before, "{:?}", live.emulator.call_log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_before_any_call() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let limit = service.config.max_body_bytes;
    assert_eq!(limit, 4_194_304, "the default");
    let rows = sample_rows();
    let mut body = rows.repeat(limit / rows.len() + 1);
    body.truncate(limit + 1);
    let before = calls(live);
    let response = send(&service, post("text/csv", "text/csv", body)).await;
    assert_problem(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        None,
    );
    assert_eq!(calls(live), before, "{:?}", live.emulator.call_log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_endpoint_is_503_with_retry_after() {
    let (live, _turn) = live().await;
    let service = service(live, &[("ENDPOINT_NAME", "mlops--not-deployed")]).await;
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    let problem = assert_problem(
        &response,
        StatusCode::SERVICE_UNAVAILABLE,
        "NoEndpoint",
        Some("60"),
    );
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with("endpoint mlops--not-deployed does not exist"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_that_outlasts_the_retries_is_429() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let emulator = &live.emulator;
    let before = emulator.call_log().len();
    emulator.inject_fault(
        Fault::throttling("InvokeEndpoint")
            .service("sagemaker")
            .count(MAX_ATTEMPTS),
    );
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    assert_problem(
        &response,
        StatusCode::TOO_MANY_REQUESTS,
        "Throttled",
        Some("1"),
    );
    // Every attempt the SDK makes was throttled, and no more were made.
    let attempts: Vec<_> = emulator.call_log()[before..]
        .iter()
        .map(|call| (call.operation.clone(), call.fault))
        .collect();
    assert_eq!(
        attempts,
        vec![("InvokeEndpoint".to_string(), true); MAX_ATTEMPTS as usize]
    );

    // Throttled fewer times than the SDK tries: the caller never knows.
    emulator.inject_fault(
        Fault::throttling("InvokeEndpoint")
            .service("sagemaker")
            .count(MAX_ATTEMPTS - 1),
    );
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    predictions_of_csv(&response, 3);
    assert!(emulator.faults().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sagemaker_500_is_502() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    live.emulator.inject_fault(
        Fault::server_error("InvokeEndpoint", 500)
            .service("sagemaker")
            .count(MAX_ATTEMPTS),
    );
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    let problem = assert_problem(&response, StatusCode::BAD_GATEWAY, "SageMakerError", None);
    assert_eq!(problem["message"], "SageMaker answered InternalFailure");
    assert!(live.emulator.faults().is_empty(), "every attempt failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_sagemaker_is_502_and_no_answer_in_time_is_504() {
    let (live, _turn) = live().await;
    let sdk = live.emulator.sdk_config_fast_retries().await;

    // Nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = sdk
        .to_builder()
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .build();
    let service = service_on(&unreachable, &[]);
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    assert_problem(
        &response,
        StatusCode::BAD_GATEWAY,
        "SageMakerUnreachable",
        None,
    );

    // A listener that never answers: the function's timeout (1 s here) is a 504.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging = sdk
        .to_builder()
        .endpoint_url(format!("http://{}", silent.local_addr().unwrap()))
        .build();
    let service = service_on(&hanging, &[("PREDICTION_TIMEOUT_SECONDS", "1")]);
    let started = Instant::now();
    let response = send(&service, post("text/csv", "text/csv", sample_rows())).await;
    assert_problem(&response, StatusCode::GATEWAY_TIMEOUT, "Timeout", None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_through_one_service_all_succeed() {
    let (live, _turn) = live().await;
    let service = Arc::new(service(live, &[]).await);
    let rows = sample_rows();
    let expected = predictions_of_csv(
        &send(&service, post("text/csv", "text/csv", &rows)).await,
        row_count(&rows),
    );
    let before = live.emulator.count_calls("InvokeEndpoint");

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let service = Arc::clone(&service);
        let rows = rows.clone();
        requests.spawn(async move { send(&service, post("text/csv", "text/csv", rows)).await });
    }
    let mut answered = 0;
    while let Some(response) = requests.join_next().await {
        let response = response.expect("a request task");
        assert_eq!(predictions_of_csv(&response, expected.len()), expected);
        answered += 1;
    }
    assert_eq!(answered, 16);
    assert_eq!(live.emulator.count_calls("InvokeEndpoint") - before, 16);
}

// --- the live version -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_route_names_the_live_version_from_deploys_tags() {
    let (live, _turn) = live().await;
    let service = service(live, &[]).await;
    let before = live.emulator.count_calls("ListTags");
    let get = || request("GET", MODEL, &[], Body::Empty);

    let response = send(&service, get()).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text(&response));
    assert_eq!(response.headers()["cache-control"], "max-age=60");
    assert_eq!(
        json_of(&response),
        json!({
            "endpoint": ENDPOINT,
            "model_package_version": live.version,
            "model_package_arn": live.model_package_arn,
        })
    );
    // Read once, then from the cache.
    let again = send(&service, get()).await;
    assert_eq!(json_of(&again), json_of(&response));
    assert_eq!(live.emulator.count_calls("ListTags") - before, 1);
}

// SageMaker answers ListTags of an ARN that names nothing with HTTP 400
// ValidationException "Resource does not exist." (the emulator too: rule 17
// of tests/emulator/sagemaker_rules.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_route_of_an_endpoint_that_does_not_exist_is_503() {
    let (live, _turn) = live().await;
    let service = service(live, &[("ENDPOINT_NAME", "mlops--not-deployed")]).await;
    let response = send(&service, request("GET", MODEL, &[], Body::Empty)).await;
    assert_problem(
        &response,
        StatusCode::SERVICE_UNAVAILABLE,
        "NoEndpoint",
        Some("60"),
    );
}
