//! A failed cold start, told to Lambda.
//!
//! `lambda_runtime` reports a handler's errors to Lambda, with our
//! `errorType`, but only once `lambda_runtime::run` has started. A cold-start
//! step that fails before that (a bad environment) would only end the
//! process, and all Lambda would record is `Runtime.ExitError`. [`init`]
//! reports the error first to the Runtime API's initialization error endpoint,
//! as the Runtime API asks of a runtime that cannot start
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror>):
//!
//! ```text
//! POST http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/init/error
//! Lambda-Runtime-Function-Error-Type: NonRetryable.InvalidConfig
//! Content-Type: application/vnd.aws.lambda.error+json
//!
//! {"errorType": "NonRetryable.InvalidConfig", "errorMessage": "invalid configuration: PIPELINE_NAME: is required but not set"}
//! ```
//!
//! and `main` then returns the error, so the process exits with status 1.
//! (lambda_runtime 1.5 posts to that endpoint itself only for SnapStart hooks,
//! through private functions.)

use std::time::Duration;

use lambda_runtime::Diagnostic;
use lambda_runtime_api_client::{body::Body, build_request, PooledClient};

use crate::PipelineError;

/// The Runtime API's initialization error path (API version 2018-06-01).
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// The header carrying the error type, which Lambda records.
pub const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";

/// The content type of the Runtime API's standard error document.
pub const ERROR_CONTENT_TYPE: &str = "application/vnd.aws.lambda.error+json";

/// How long reporting may take. The Runtime API is local to the sandbox and
/// answers at once; this only keeps a process that cannot start from hanging
/// until Lambda's init timeout kills it.
const REPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// The value of a cold-start step; when the step failed, its error is logged,
/// reported to Lambda as the initialization error, and returned for `main` to
/// return, which ends the process with a non-zero status:
///
/// ```ignore
/// let config = shared::runtime::init(TriggerConfig::from_env()).await?;
/// ```
pub async fn init<T>(step: Result<T, PipelineError>) -> Result<T, lambda_runtime::Error> {
    match step {
        Ok(value) => Ok(value),
        Err(err) => {
            tracing::error!(error_type = err.error_type(), "cold start failed: {err}");
            report_init_error(&err).await;
            Err(err.into())
        }
    }
}

/// Posts `err` to the initialization error endpoint of the Runtime API named
/// by `AWS_LAMBDA_RUNTIME_API`. Never fails: when the variable is unset (not
/// in Lambda) or the post does not succeed, that is logged, and the caller
/// goes on to exit with its error all the same.
pub async fn report_init_error(err: &PipelineError) {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    report_init_error_to(&api, err).await;
}

async fn report_init_error_to(api: &str, err: &PipelineError) {
    if api.trim().is_empty() {
        tracing::warn!("AWS_LAMBDA_RUNTIME_API is not set: the init error is not reported");
        return;
    }
    match tokio::time::timeout(REPORT_TIMEOUT, post_init_error(api, err)).await {
        Ok(Ok(status)) if (200..300).contains(&status) => {
            tracing::debug!(status, "init error reported to the Runtime API");
        }
        Ok(Ok(status)) => {
            tracing::error!(status, "the Runtime API did not accept the init error");
        }
        Ok(Err(post_err)) => {
            tracing::error!(error = %post_err, "could not report the init error to the Runtime API");
        }
        Err(_) => {
            tracing::error!(
                timeout_seconds = REPORT_TIMEOUT.as_secs(),
                "the Runtime API did not answer the init error in time"
            );
        }
    }
}

/// The HTTP status the Runtime API answered (202 when accepted).
async fn post_init_error(api: &str, err: &PipelineError) -> Result<u16, lambda_runtime::Error> {
    let client = PooledClient::builder()
        .with_endpoint(format!("http://{}", api.trim()).parse()?)
        .build();
    let diagnostic = Diagnostic {
        error_type: err.error_type().to_string(),
        error_message: err.to_string(),
    };
    let request = build_request()
        .method("POST")
        .uri(INIT_ERROR_PATH)
        .header(ERROR_TYPE_HEADER, err.error_type())
        .header("Content-Type", ERROR_CONTENT_TYPE)
        .body(Body::from(serde_json::to_vec(&diagnostic)?))?;
    let response = client.call(request).await?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ConfigProblem, ConfigProblems};

    fn config_error() -> PipelineError {
        PipelineError::InvalidConfig(ConfigProblems(vec![ConfigProblem {
            variable: "PIPELINE_NAME".into(),
            problem: "is required but not set".into(),
        }]))
    }

    /// Whether the Runtime API is missing, unreachable or not an address, the
    /// step's own error comes back (the binary tests check a real post).
    #[tokio::test]
    async fn the_error_comes_back_whether_or_not_it_could_be_reported() {
        // A port that was free a moment ago: nothing listens there.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .to_string();
        for api in [
            "",
            "   ",
            closed.as_str(),
            "not an address",
            "/path",
            "127.0.0.1:1/x y",
        ] {
            report_init_error_to(api, &config_error()).await;
        }
        let err = init::<()>(Err(config_error())).await.unwrap_err();
        let err = err.downcast::<PipelineError>().unwrap();
        assert_eq!(err.error_type(), "NonRetryable.InvalidConfig");
        assert_eq!(init(Ok(7)).await.unwrap(), 7);
    }

    /// A Runtime API that takes the request but never answers holds the
    /// process up for [`REPORT_TIMEOUT`] at most.
    #[tokio::test]
    async fn a_runtime_api_that_does_not_answer_is_given_up_on() {
        // Connections complete in the backlog; nothing ever reads or answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let api = silent.local_addr().unwrap().to_string();
        let started = std::time::Instant::now();
        report_init_error_to(&api, &config_error()).await;
        let took = started.elapsed();
        assert!(took >= REPORT_TIMEOUT, "{took:?}");
        assert!(took < REPORT_TIMEOUT + Duration::from_secs(2), "{took:?}");
    }
}
