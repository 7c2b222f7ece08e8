//! What the API answers when a prediction cannot be made: an HTTP status,
//! a stable code and a message that is safe to show (never a payload, never
//! a stack trace), from our own checks or from SageMaker's answer.

use aws_sdk_sagemakerruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;
use shared::error::is_throttling;

/// An answer other than a prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable, for programs: `UnsupportedMediaType`, `ModelError`, ...
    pub code: &'static str,
    pub message: String,
    /// Seconds, for the `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn retry_after(self, seconds: u32) -> Problem {
        Problem {
            retry_after: Some(seconds),
            ..self
        }
    }

    /// `{"code", "message", "request_id"}` as JSON.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let body = json!({"code": self.code, "message": self.message, "request_id": request_id});
        let mut response = Response::builder()
            .status(self.status)
            .header("content-type", "application/json");
        if let Some(seconds) = self.retry_after {
            response = response.header("retry-after", seconds.to_string());
        }
        response
            .body(Body::Text(body.to_string()))
            .expect("a status and plain headers make a response")
    }

    /// No endpoint, or one that is not in service: nothing to predict with.
    pub fn no_endpoint(endpoint: &str) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NoEndpoint",
            format!(
                "endpoint {endpoint} does not exist or is not in service yet: \
                 a model version goes live when it is approved"
            ),
        )
        .retry_after(60)
    }

    /// A call to SageMaker that failed on the way: unreachable, an unreadable
    /// answer, or no answer in time.
    fn transport<E, R>(err: &SdkError<E, R>, timeout: std::time::Duration) -> Problem {
        let timed_out = match err {
            SdkError::TimeoutError(_) => true,
            SdkError::DispatchFailure(failure) => failure.is_timeout(),
            _ => false,
        };
        if timed_out {
            Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "Timeout",
                format!("no answer from SageMaker within {} s", timeout.as_secs()),
            )
        } else {
            Problem::new(
                StatusCode::BAD_GATEWAY,
                "SageMakerUnreachable",
                "SageMaker could not be reached or its answer could not be read",
            )
        }
    }

    /// A service error that is not specific to one operation.
    fn service<E: ProvideErrorMetadata>(err: &E, endpoint: &str) -> Problem {
        let code = err.code().unwrap_or("Unknown");
        let message = err.message().unwrap_or_default();
        if is_throttling(code) {
            return Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Throttled",
                "SageMaker is throttling calls to the endpoint; retry later",
            )
            .retry_after(1);
        }
        if is_endpoint_missing(message, endpoint) {
            return Problem::no_endpoint(endpoint);
        }
        Problem::new(
            StatusCode::BAD_GATEWAY,
            "SageMakerError",
            format!("SageMaker answered {code}"),
        )
    }
}

/// SageMaker Runtime's answer for an endpoint that does not exist or is not
/// in service: "Endpoint <name> of account <account> not found."
fn is_endpoint_missing(message: &str, endpoint: &str) -> bool {
    message.starts_with(&format!("Endpoint {endpoint} ")) && message.contains("not found")
}

/// InvokeEndpoint's failure as an answer.
pub fn from_invoke(
    err: &SdkError<InvokeEndpointError, aws_smithy_runtime_api::http::Response>,
    endpoint: &str,
    timeout: std::time::Duration,
) -> Problem {
    let Some(service) = err.as_service_error() else {
        return Problem::transport(err, timeout);
    };
    match service {
        // The model's own answer: its 4xx goes to the caller as it was;
        // anything else is the model failing.
        InvokeEndpointError::ModelError(model) => match model.original_status_code() {
            Some(status @ 400..=499) => Problem::new(
                StatusCode::from_u16(status as u16).unwrap_or(StatusCode::BAD_REQUEST),
                "ModelRejected",
                model
                    .original_message()
                    .unwrap_or("the model refused the request"),
            ),
            status => Problem::new(
                StatusCode::BAD_GATEWAY,
                "ModelError",
                format!(
                    "the model failed (status {})",
                    status.map_or("none".to_string(), |s| s.to_string())
                ),
            ),
        },
        InvokeEndpointError::ModelNotReadyException(_)
        | InvokeEndpointError::ServiceUnavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NotReady",
            "the endpoint cannot take requests right now; retry shortly",
        )
        .retry_after(5),
        InvokeEndpointError::ValidationError(e) => {
            let message = e.message().unwrap_or("SageMaker refused the request");
            if is_endpoint_missing(message, endpoint) {
                return Problem::no_endpoint(endpoint);
            }
            // SageMaker's own words about the request (an unknown target
            // variant, ...): they quote no payload.
            Problem::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
        }
        other => Problem::service(other, endpoint),
    }
}

/// ListTags's failure (the model version route) as an answer.
pub fn from_list_tags<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
    endpoint: &str,
    timeout: std::time::Duration,
) -> Problem {
    match err.as_service_error() {
        // Tags of our own endpoint's ARN refused: it does not exist (yet).
        Some(service) if service.code() == Some("ValidationException") => {
            Problem::no_endpoint(endpoint)
        }
        Some(service) => Problem::service(service, endpoint),
        None => Problem::transport(err, timeout),
    }
}
