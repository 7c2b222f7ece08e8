//! The handler against mocked SageMaker clients (aws-smithy-mocks): every
//! answer of InvokeEndpoint and ListTags as an HTTP status, our own checks
//! before any call, and what passes through in both directions.

use std::time::Duration;

use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::types::Tag;
use aws_sdk_sagemakerruntime::config::retry::RetryConfig;
use aws_sdk_sagemakerruntime::error::SdkError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::{
    InvokeEndpointError, InvokeEndpointOutput,
};
use aws_sdk_sagemakerruntime::types::error::{
    InternalDependencyException, InternalFailure, ModelError, ModelNotReadyException,
    ServiceUnavailable, ValidationError,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::result::ConnectorError;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::{Context, RequestExt};
use serde_json::Value;
use shared::config::EnvReader;
use shared::test_support::aws_error;

use super::*;
use crate::answers::from_invoke;

const ENDPOINT: &str = "mlops--endpoint";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:serve_predictions";
const ENDPOINT_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/mlops--endpoint";

fn config(extra: &[(&'static str, &'static str)]) -> ServeConfig {
    let mut vars = vec![("PIPELINE_NAME", "mlops")];
    vars.extend_from_slice(extra);
    ServeConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
}

fn service(invoke: &[&Rule], tags: &[&Rule], config: ServeConfig) -> Service {
    let runtime = mock_client!(aws_sdk_sagemakerruntime, RuleMode::MatchAny, invoke, |c| c
        .retry_config(RetryConfig::disabled()));
    let sagemaker = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, tags, |c| c
        .retry_config(aws_sdk_sagemaker::config::retry::RetryConfig::disabled()));
    Service::new(Clients { runtime, sagemaker }, config)
}

/// A request as API Gateway (payload 2.0) hands it over, with its request id.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Body) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some("apigw-request-1".into());
    let mut lambda = Context::default();
    lambda.request_id = "lambda-request-1".into();
    lambda.invoked_function_arn = FUNCTION_ARN.into();
    builder
        .body(body)
        .unwrap()
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_lambda_context(lambda)
}

fn csv_request(body: &str) -> Request {
    request(
        "POST",
        PREDICTIONS,
        &[("content-type", "text/csv"), ("accept", "application/json")],
        Body::Text(body.into()),
    )
}

fn json_of(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

/// The model answers: what came in is what the endpoint got, and its answer
/// goes back with its content type and headers.
fn answering() -> Rule {
    mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .match_requests(|req| {
            req.endpoint_name() == Some(ENDPOINT)
                && req.content_type() == Some("text/csv")
                && req.accept() == Some("application/json")
                && req.body().map(|b| b.as_ref()) == Some(b"0.03,0.05\n".as_slice())
                && req.inference_id() == Some("apigw-request-1")
        })
        .then_output(|| {
            InvokeEndpointOutput::builder()
                .body(Blob::new(r#"{"predictions":[151.2]}"#))
                .content_type("application/json")
                .invoked_production_variant("AllTraffic")
                .custom_attributes("trace=1")
                .build()
        })
}

#[tokio::test]
async fn a_prediction_is_the_models_answer() {
    let invoke = answering();
    let service = service(&[&invoke], &[], config(&[]));
    let response = handle(&service, csv_request("0.03,0.05\n")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()[headers::INVOKED_VARIANT], "AllTraffic");
    assert_eq!(response.headers()[headers::CUSTOM_ATTRIBUTES], "trace=1");
    assert_eq!(response.headers()[headers::REQUEST_ID], "apigw-request-1");
    assert_eq!(json_of(&response)["predictions"][0], 151.2);
    assert_eq!(invoke.num_calls(), 1);
}

#[tokio::test]
async fn custom_attributes_and_target_variant_pass_through() {
    let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .match_requests(|req| {
            req.custom_attributes() == Some("c000b4f9-df62-4c85-a0bf-7c525f9104a4")
                && req.target_variant() == Some("Canary")
                && req.accept().is_none()
                && req.content_type() == Some("application/json; charset=utf-8")
        })
        .then_output(|| {
            InvokeEndpointOutput::builder()
                .body(Blob::new(vec![0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]))
                .content_type("application/x-npy")
                .build()
        });
    let service = service(&[&invoke], &[], config(&[]));
    let response = handle(
        &service,
        request(
            "POST",
            PREDICTIONS,
            &[
                ("content-type", "application/json; charset=utf-8"),
                (
                    headers::CUSTOM_ATTRIBUTES,
                    "c000b4f9-df62-4c85-a0bf-7c525f9104a4",
                ),
                (headers::TARGET_VARIANT, "Canary"),
            ],
            Body::Text("[[0.03, 0.05]]".into()),
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-npy");
    // Not UTF-8: binary, which API Gateway base64-encodes on the way out.
    assert_eq!(
        response.body(),
        &Body::Binary(vec![0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])
    );
    assert_eq!(invoke.num_calls(), 1);
}

#[tokio::test]
async fn a_binary_body_goes_to_the_endpoint_as_it_is() {
    let bytes = vec![0u8, 159, 146, 150, 255];
    let expected = bytes.clone();
    let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .match_requests(move |req| req.body().map(|b| b.as_ref()) == Some(expected.as_slice()))
        .then_output(|| {
            InvokeEndpointOutput::builder()
                .body(Blob::new("1\n"))
                .content_type("text/csv")
                .build()
        });
    let service = service(
        &[&invoke],
        &[],
        config(&[("PREDICTION_CONTENT_TYPES", "application/x-npy")]),
    );
    let response = handle(
        &service,
        request(
            "POST",
            PREDICTIONS,
            &[("content-type", "application/x-npy")],
            Body::Binary(bytes),
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), &Body::Text("1\n".into()));
    assert_eq!(invoke.num_calls(), 1);
}

/// Refused before any call: too large, unsupported or missing content type,
/// empty, unknown route, wrong method.
#[tokio::test]
async fn our_own_checks_answer_before_any_aws_call() {
    let invoke = answering();
    let tags = mock!(aws_sdk_sagemaker::Client::list_tags)
        .then_output(|| ListTagsOutput::builder().build());
    let service = service(
        &[&invoke],
        &[&tags],
        config(&[("PREDICTION_MAX_BODY_BYTES", "16")]),
    );
    let cases = [
        (csv_request(&"1,".repeat(9)), 413, "PayloadTooLarge"),
        (
            request(
                "POST",
                PREDICTIONS,
                &[("content-type", "application/xml")],
                Body::Text("<x/>".into()),
            ),
            415,
            "UnsupportedMediaType",
        ),
        (
            request("POST", PREDICTIONS, &[], Body::Text("1,2".into())),
            415,
            "UnsupportedMediaType",
        ),
        (csv_request(""), 400, "EmptyBody"),
        (
            request("GET", PREDICTIONS, &[], Body::Empty),
            405,
            "MethodNotAllowed",
        ),
        (
            request("POST", MODEL, &[], Body::Empty),
            405,
            "MethodNotAllowed",
        ),
        (request("GET", "/", &[], Body::Empty), 404, "NotFound"),
    ];
    for (request, status, code) in cases {
        let response = handle(&service, request).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{code}");
        let body = json_of(&response);
        assert_eq!(body["code"], code);
        assert_eq!(body["request_id"], "apigw-request-1");
        assert_eq!(response.headers()[headers::REQUEST_ID], "apigw-request-1");
    }
    assert_eq!(invoke.num_calls(), 0);
    assert_eq!(tags.num_calls(), 0);
}

/// Every InvokeEndpoint error the API declares, and the undeclared ones that
/// matter, as the status the caller gets.
#[tokio::test]
async fn every_invoke_endpoint_error_has_its_status() {
    let model_error = |status: i32, message: &str| {
        let message = message.to_string();
        move || {
            InvokeEndpointError::ModelError(
                ModelError::builder()
                    .message(format!("Received client error ({status}) from primary"))
                    .original_status_code(status)
                    .original_message(message.clone())
                    .build(),
            )
        }
    };
    let cases: Vec<(Rule, u16, &str, Option<&str>)> = vec![
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .then_error(model_error(400, "row 1: expected 10 features, got 2")),
            400,
            "ModelRejected",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .then_error(model_error(406, "cannot answer text/xml")),
            406,
            "ModelRejected",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .then_error(model_error(500, "Traceback (most recent call last): ...")),
            502,
            "ModelError",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::ValidationError(
                    ValidationError::builder()
                        .message("Endpoint mlops--endpoint of account 123456789012 not found.")
                        .build(),
                )
            }),
            503,
            "NoEndpoint",
            Some("60"),
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::ValidationError(
                    ValidationError::builder()
                        .message("Endpoint variant Canary not found for endpoint mlops--endpoint")
                        .build(),
                )
            }),
            400,
            "InvalidRequest",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::ValidationError(
                    ValidationError::builder()
                        .message("Inference id is not valid")
                        .build(),
                )
            }),
            400,
            "InvalidRequest",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::ModelNotReadyException(
                    ModelNotReadyException::builder().message("loading").build(),
                )
            }),
            503,
            "NotReady",
            Some("5"),
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::ServiceUnavailable(
                    ServiceUnavailable::builder().message("unavailable").build(),
                )
            }),
            503,
            "NotReady",
            Some("5"),
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::InternalFailure(InternalFailure::builder().build())
            }),
            502,
            "SageMakerError",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
                InvokeEndpointError::InternalDependencyException(
                    InternalDependencyException::builder().build(),
                )
            }),
            502,
            "SageMakerError",
            None,
        ),
        (
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .then_http_response(|| aws_error(400, "ThrottlingException", "Rate exceeded")),
            429,
            "Throttled",
            Some("1"),
        ),
    ];
    for (rule, status, code, retry_after) in cases {
        let service = service(&[&rule], &[], config(&[]));
        let response = handle(&service, csv_request("0.03,0.05\n")).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{code}");
        let body = json_of(&response);
        assert_eq!(body["code"], code);
        assert_eq!(body["request_id"], "apigw-request-1");
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after,
            "{code}"
        );
        assert!(!body["message"].as_str().unwrap().contains("Traceback"));
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn the_models_4xx_message_reaches_the_caller() {
    let rule = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
        InvokeEndpointError::ModelError(
            ModelError::builder()
                .original_status_code(400)
                .original_message("row 1: expected 10 features, got 2")
                .build(),
        )
    });
    let service = service(&[&rule], &[], config(&[]));
    let response = handle(&service, csv_request("0.03,0.05\n")).await.unwrap();
    assert_eq!(
        json_of(&response)["message"],
        "row 1: expected 10 features, got 2"
    );
}

/// Transport failures: no answer in time is 504, none at all 502.
#[test]
fn timeouts_and_unreachable_sagemaker() {
    let timeout = Duration::from_secs(25);
    let cases: Vec<(SdkError<InvokeEndpointError, _>, u16, &str)> = vec![
        (SdkError::timeout_error("operation timeout"), 504, "Timeout"),
        (
            SdkError::dispatch_failure(ConnectorError::timeout("read timeout".into())),
            504,
            "Timeout",
        ),
        (
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into())),
            502,
            "SageMakerUnreachable",
        ),
        (
            SdkError::response_error(
                "not HTTP",
                aws_smithy_runtime_api::http::Response::new(
                    200.try_into().unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                ),
            ),
            502,
            "SageMakerUnreachable",
        ),
    ];
    for (err, status, code) in cases {
        let problem = from_invoke(&err, ENDPOINT, timeout);
        assert_eq!((problem.status.as_u16(), problem.code), (status, code));
    }
    let problem = from_invoke(&SdkError::timeout_error("t"), ENDPOINT, timeout);
    assert_eq!(problem.message, "no answer from SageMaker within 25 s");
}

fn tagged(version: &'static str) -> Rule {
    mock!(aws_sdk_sagemaker::Client::list_tags)
        .match_requests(|req| req.resource_arn() == Some(ENDPOINT_ARN))
        .then_output(move || {
            ListTagsOutput::builder()
                .tags(Tag::builder().key("mlops:pipeline").value("mlops").build())
                .tags(
                    Tag::builder()
                        .key("mlops:model-package-version")
                        .value(version)
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("mlops:model-package-arn")
                        .value(format!(
                            "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/{version}"
                        ))
                        .build(),
                )
                .build()
        })
}

#[tokio::test]
async fn the_live_version_is_read_from_the_tags_and_cached() {
    let tags = tagged("3");
    let service = service(&[], &[&tags], config(&[]));
    for _ in 0..3 {
        let response = handle(&service, request("GET", MODEL, &[], Body::Empty))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "max-age=60");
        let body = json_of(&response);
        assert_eq!(body["endpoint"], ENDPOINT);
        assert_eq!(body["model_package_version"], 3);
        assert_eq!(
            body["model_package_arn"],
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3"
        );
    }
    assert_eq!(tags.num_calls(), 1, "read once, then cached");
}

#[tokio::test]
async fn without_a_cache_every_request_reads_the_tags() {
    let tags = tagged("4");
    let service = service(&[], &[&tags], config(&[("MODEL_INFO_CACHE_SECONDS", "0")]));
    for _ in 0..2 {
        let response = handle(&service, request("GET", MODEL, &[], Body::Empty))
            .await
            .unwrap();
        assert_eq!(json_of(&response)["model_package_version"], 4);
    }
    assert_eq!(tags.num_calls(), 2);
}

#[tokio::test]
async fn model_info_errors_have_their_status_and_are_not_cached() {
    let cases = [
        (400, "ValidationException", 503, "NoEndpoint"),
        (400, "ThrottlingException", 429, "Throttled"),
        (500, "InternalFailure", 502, "SageMakerError"),
    ];
    for (http_status, aws_code, status, code) in cases {
        let tags = mock!(aws_sdk_sagemaker::Client::list_tags)
            .sequence()
            .http_response(move || aws_error(http_status, aws_code, "refused"))
            .output(|| ListTagsOutput::builder().build())
            .build();
        let service = service(&[], &[&tags], config(&[]));
        let response = handle(&service, request("GET", MODEL, &[], Body::Empty))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{code}");
        assert_eq!(json_of(&response)["code"], code);
        let again = handle(&service, request("GET", MODEL, &[], Body::Empty))
            .await
            .unwrap();
        assert_eq!(
            again.status(),
            StatusCode::OK,
            "{code}: a failure is not cached"
        );
        assert_eq!(tags.num_calls(), 2);
    }
}

/// The sample in events/ (an HTTP API request, as lambda_http reads it) is
/// a prediction the handler takes: its CSV rows reach the endpoint.
#[tokio::test]
async fn the_sample_event_is_a_prediction() {
    let path = format!(
        "{}/../../events/apigw-predictions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let rows = std::fs::read(format!(
        "{}/../../examples/diabetes-regression/sample-request.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let request = lambda_http::request::from_str(&text)
        .unwrap()
        .with_lambda_context(Context::default());
    let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
        .match_requests(move |req| {
            req.body().map(|b| b.as_ref()) == Some(rows.as_slice())
                && req.content_type() == Some("text/csv")
                && req.accept() == Some("text/csv")
                && req.inference_id() == Some("Hs4-ggY2oAMEV9g=")
        })
        .then_output(|| {
            InvokeEndpointOutput::builder()
                .body(Blob::new("195.7\n72.3\n186.9\n"))
                .content_type("text/csv")
                .build()
        });
    let service = service(&[&invoke], &[], config(&[]));
    let response = handle(&service, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[headers::REQUEST_ID], "Hs4-ggY2oAMEV9g=");
    assert_eq!(invoke.num_calls(), 1);
}

/// A model answer whose headers cannot be passed on is no prediction: 502,
/// never an empty 200.
#[tokio::test]
async fn an_answer_with_a_header_that_cannot_go_back_is_a_model_error() {
    let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_output(|| {
        InvokeEndpointOutput::builder()
            .body(Blob::new("151.2\n"))
            .content_type("text/csv\r\nx-injected: 1")
            .build()
    });
    let service = service(&[&invoke], &[], config(&[]));
    let response = handle(&service, csv_request("0.03,0.05\n")).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(json_of(&response)["code"], "ModelError");
    assert!(response.headers().get("x-injected").is_none());
}
