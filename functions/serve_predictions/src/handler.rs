//! `POST /predictions` to the endpoint's model; `GET /model` for the version
//! that is live. Every answer carries the request id; no payload is logged.

use std::sync::Mutex;
use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_sagemakerruntime::config::timeout::TimeoutConfig;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput;
use aws_smithy_types::Blob;
use lambda_http::http::{HeaderMap, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use shared::metrics::{Emf, Measures, Stage};
use shared::sagemaker::endpoint::endpoint_arn;
use shared::tags::keys as tag_keys;
use tracing::{info, instrument};

use crate::answers::{from_invoke, from_list_tags, Problem};
use crate::ServeConfig;

pub const PREDICTIONS: &str = "/predictions";
pub const MODEL: &str = "/model";

/// Request headers passed to InvokeEndpoint, and the answer's back.
pub mod headers {
    pub const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";
    pub const TARGET_VARIANT: &str = "x-amzn-sagemaker-target-variant";
    pub const INVOKED_VARIANT: &str = "x-amzn-invoked-production-variant";
    pub const REQUEST_ID: &str = "x-request-id";
}

/// The AWS clients the function uses, built once at cold start.
pub struct Clients {
    pub runtime: aws_sdk_sagemakerruntime::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
}

impl Clients {
    /// InvokeEndpoint gets the configured timeout for the whole call,
    /// retries included, so that a slow model is our 504, not API Gateway's.
    pub fn new(sdk: &SdkConfig, config: &ServeConfig) -> Clients {
        let timeouts = TimeoutConfig::builder()
            .operation_timeout(config.timeout)
            .build();
        let runtime = aws_sdk_sagemakerruntime::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        Clients {
            runtime: aws_sdk_sagemakerruntime::Client::from_conf(runtime),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
        }
    }
}

/// The version live on the endpoint, from the tags deploy writes on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub endpoint: String,
    pub model_package_version: Option<i64>,
    pub model_package_arn: Option<String>,
}

/// Clients, configuration, the metrics writer, and the model info last read.
pub struct Service {
    pub clients: Clients,
    pub config: ServeConfig,
    metrics: Emf,
    model_info: Mutex<Option<(Instant, ModelInfo)>>,
}

impl Service {
    pub fn new(clients: Clients, config: ServeConfig) -> Service {
        Service {
            clients,
            metrics: Emf::new(&config.pipeline, Stage::Serve),
            config,
            model_info: Mutex::new(None),
        }
    }
}

/// A request's metrics: `Predictions` answered; a problem by its code, as
/// `Failed` (5xx, and SageMaker's throttling, 429) or `ClientErrors` (the
/// other 4xx: the caller's request).
fn measures(path: &str, answer: &Result<Response<Body>, Problem>) -> Measures {
    match answer {
        Ok(_) if path == PREDICTIONS => Measures::default().count("Predictions", 1),
        Ok(_) => Measures::default(),
        Err(problem)
            if problem.status.is_server_error()
                || problem.status == StatusCode::TOO_MANY_REQUESTS =>
        {
            Measures::default().failed(1, problem.code)
        }
        Err(problem) => Measures::default().count_by("ClientErrors", 1, "ErrorType", problem.code),
    }
}

/// The Lambda entry point: routes the request and answers, a problem
/// included; the function itself never fails an invocation.
#[instrument(skip_all, fields(method = %request.method(), path = %request.uri().path(), request_id = tracing::field::Empty, status = tracing::field::Empty))]
pub async fn handle(
    service: &Service,
    request: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let request_id = request_id(&request);
    tracing::Span::current().record("request_id", request_id.as_str());
    let answer = match (request.method(), request.uri().path()) {
        (&Method::POST, PREDICTIONS) => predict(service, &request, &request_id).await,
        (&Method::GET, MODEL) => model_info(service, &request).await,
        (_, PREDICTIONS | MODEL) => Err(Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{PREDICTIONS} takes POST, {MODEL} takes GET"),
        )),
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("routes: POST {PREDICTIONS}, GET {MODEL}"),
        )),
    };
    let measured = measures(request.uri().path(), &answer);
    service
        .metrics
        .write(&measured, &mut std::io::stdout().lock());
    let mut response = answer.unwrap_or_else(|problem| {
        // The code only: a model's message may quote the request's data.
        info!(code = problem.code, "problem");
        problem.into_response(&request_id)
    });
    if let Ok(value) = request_id.parse() {
        response.headers_mut().insert(headers::REQUEST_ID, value);
    }
    tracing::Span::current().record("status", response.status().as_u16());
    info!(bytes = response.body().len(), "answered");
    Ok(response)
}

/// API Gateway's request id (what its access log shows), else Lambda's.
fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) if context.request_id.is_some() => {
            context.request_id.clone().unwrap_or_default()
        }
        _ => request
            .lambda_context_ref()
            .map(|context| context.request_id.clone())
            .unwrap_or_default(),
    }
}

/// The request's body to the endpoint; the model's answer back.
async fn predict(
    service: &Service,
    request: &Request,
    request_id: &str,
) -> Result<Response<Body>, Problem> {
    let config = &service.config;
    let content_type = supported_content_type(config, request.headers())?;
    let body: &[u8] = request.body().as_ref();
    if body.len() > config.max_body_bytes {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!(
                "the body is {} bytes; at most {} are taken",
                body.len(),
                config.max_body_bytes
            ),
        ));
    }
    if body.is_empty() {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "EmptyBody",
            "the body is empty: send the rows to predict",
        ));
    }
    let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
    let output = service
        .clients
        .runtime
        .invoke_endpoint()
        .endpoint_name(&config.endpoint_name)
        .content_type(content_type)
        .set_accept(header("accept").map(str::to_string))
        .set_custom_attributes(header(headers::CUSTOM_ATTRIBUTES).map(str::to_string))
        .set_target_variant(header(headers::TARGET_VARIANT).map(str::to_string))
        .inference_id(request_id)
        .body(Blob::new(body))
        .send()
        .await
        .map_err(|err| from_invoke(&err, &config.endpoint_name, config.timeout))?;
    prediction(output)
}

/// The request's `Content-Type` when its media type is one the model takes
/// (415 otherwise), as the caller wrote it (parameters such as `charset` kept).
fn supported_content_type<'a>(
    config: &ServeConfig,
    headers: &'a HeaderMap,
) -> Result<&'a str, Problem> {
    let given = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = given.split(';').next().unwrap_or_default().trim();
    if config
        .content_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(media_type))
    {
        return Ok(given);
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
        format!(
            "Content-Type {:?} is not one the model takes: {}",
            given,
            config.content_types.join(", ")
        ),
    ))
}

/// The model's answer as it came: its content type, body, custom attributes
/// and the variant that served it. Text stays text; anything else is binary
/// (API Gateway base64-encodes it on the way out). A header that cannot go
/// back as it came (not a valid HTTP header value) is the model failing.
fn prediction(output: InvokeEndpointOutput) -> Result<Response<Body>, Problem> {
    let content_type = output
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", &content_type);
    if let Some(attributes) = output.custom_attributes() {
        response = response.header(headers::CUSTOM_ATTRIBUTES, attributes);
    }
    if let Some(variant) = output.invoked_production_variant() {
        response = response.header(headers::INVOKED_VARIANT, variant);
    }
    let bytes = output.body.map(Blob::into_inner).unwrap_or_default();
    let body = match String::from_utf8(bytes) {
        Ok(text) if is_text(&content_type) => Body::Text(text),
        Ok(text) => Body::Binary(text.into_bytes()),
        Err(not_text) => Body::Binary(not_text.into_bytes()),
    };
    response.body(body).map_err(|_| {
        Problem::new(
            StatusCode::BAD_GATEWAY,
            "ModelError",
            "the model's answer has a header that is not valid HTTP",
        )
    })
}

fn is_text(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.starts_with("text/")
        || media_type == "application/json"
        || media_type.ends_with("+json")
}

/// The live version, read from the endpoint's tags at most once per
/// `MODEL_INFO_CACHE_SECONDS`: no call per prediction.
async fn model_info(service: &Service, request: &Request) -> Result<Response<Body>, Problem> {
    let config = &service.config;
    let cached = service
        .model_info
        .lock()
        .ok()
        .and_then(|cached| cached.clone())
        .filter(|(read, _)| read.elapsed() < config.model_info_ttl);
    let info = match cached {
        Some((_, info)) => info,
        None => {
            let info = read_model_info(service, request).await?;
            if let Ok(mut cached) = service.model_info.lock() {
                *cached = Some((Instant::now(), info.clone()));
            }
            info
        }
    };
    let body = serde_json::to_string(&info).unwrap_or_default();
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header(
            "cache-control",
            format!("max-age={}", config.model_info_ttl.as_secs()),
        )
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty)))
}

/// ListTags on the endpoint: `ENDPOINT_ARN`, else the ARN made from the
/// function's own (partition, region, account) and the endpoint's name.
async fn read_model_info(service: &Service, request: &Request) -> Result<ModelInfo, Problem> {
    let config = &service.config;
    let function_arn = request
        .lambda_context_ref()
        .map(|context| context.invoked_function_arn.as_str())
        .unwrap_or_default();
    let arn = config
        .endpoint_arn
        .clone()
        .or_else(|| endpoint_arn(function_arn, &config.endpoint_name))
        .ok_or_else(|| {
            tracing::error!(%function_arn, "no ENDPOINT_ARN, and the function's ARN is not one");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Defect",
                "the endpoint's ARN is unknown: set ENDPOINT_ARN",
            )
        })?;
    let mut pages = service
        .clients
        .sagemaker
        .list_tags()
        .resource_arn(&arn)
        .into_paginator()
        .items()
        .send();
    let mut info = ModelInfo {
        endpoint: config.endpoint_name.clone(),
        model_package_version: None,
        model_package_arn: None,
    };
    while let Some(tag) = pages.next().await {
        let tag = tag.map_err(|err| from_list_tags(&err, &config.endpoint_name, config.timeout))?;
        match tag.key() {
            Some(tag_keys::MODEL_PACKAGE_VERSION) => {
                info.model_package_version = tag.value().and_then(|v| v.parse().ok());
            }
            Some(tag_keys::MODEL_PACKAGE_ARN) => {
                info.model_package_arn = tag.value().map(str::to_string);
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests;
