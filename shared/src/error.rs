//! The one error type of the pipeline's handlers, and how it reaches Lambda.
//!
//! Every error is either retryable (throttling, 5xx, timeouts, a busy resource:
//! Lambda's retry and the dead-letter queue should carry the event on) or not
//! (a malformed event, bad configuration, a request AWS rejected: retrying the
//! same event cannot help). The `errorType` Lambda records says which, as a
//! stable string that alarms and dead-letter tooling can match on.

use std::fmt;

use aws_sdk_sagemaker::error::{ProvideErrorMetadata, SdkError};
use lambda_runtime::Diagnostic;

/// One configuration problem, naming the environment variable it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub variable: String,
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

/// All problems found in one configuration load, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

/// How much of a malformed event's error message is kept.
pub const MAX_EVENT_ERROR_CHARS: usize = 1000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    /// The event is not what the handler accepts: not retryable.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

    /// The function's environment is wrong: not retryable.
    #[error("invalid configuration: {0}")]
    InvalidConfig(ConfigProblems),

    /// AWS refused the request itself (validation, access, quota): not retryable.
    #[error("{operation} rejected by AWS ({code}): {message}")]
    AwsRejected {
        operation: &'static str,
        code: String,
        message: String,
    },

    /// A resource is in a state that lets nothing change it now (an endpoint
    /// Creating or Updating): retryable, a later delivery will find it ready.
    #[error("{0}")]
    ResourceBusy(String),

    /// A resource is broken in a way a retry will not fix (an endpoint in
    /// Failed): not retryable.
    #[error("{0}")]
    ResourceFailed(String),

    /// A failure of our own, not of the event, the configuration or AWS (a
    /// request or document we could not build or serialise): a defect to
    /// report, which a retry of the same event would meet again: not
    /// retryable.
    #[error("defect: {0}")]
    Defect(String),

    /// AWS could not be reached or did not answer in time, or asked us to slow
    /// down, after the SDK's own retries: retryable.
    #[error("{operation} failed transiently ({code}): {message}")]
    AwsTransient {
        operation: &'static str,
        code: String,
        message: String,
    },
}

/// Whether a service error means "try again later": a 5xx, or a code the
/// SDK's own retry classifier counts as throttling or transient (the lists
/// aws-runtime keeps, so they follow the SDK's).
fn is_transient(status: u16, code: &str) -> bool {
    use aws_runtime::retries::classifiers::TRANSIENT_ERRORS;
    status >= 500 || is_throttling(code) || TRANSIENT_ERRORS.contains(&code)
}

/// Whether `code` is one the SDK's retry classifier counts as throttling.
pub fn is_throttling(code: &str) -> bool {
    aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
}

impl PipelineError {
    /// Stable strings for Lambda's `errorType`; the prefix says whether a
    /// retry of the same event can succeed.
    pub fn error_type(&self) -> &'static str {
        match self {
            PipelineError::InvalidEvent(_) => "NonRetryable.InvalidEvent",
            PipelineError::InvalidConfig(_) => "NonRetryable.InvalidConfig",
            PipelineError::AwsRejected { .. } => "NonRetryable.AwsRejected",
            PipelineError::AwsTransient { .. } => "Retryable.AwsTransient",
            PipelineError::ResourceBusy(_) => "Retryable.ResourceBusy",
            PipelineError::ResourceFailed(_) => "NonRetryable.ResourceFailed",
            PipelineError::Defect(_) => "NonRetryable.Defect",
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.error_type().starts_with("Retryable.")
    }

    /// The service error code AWS sent, when this error came from AWS.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            PipelineError::AwsRejected { code, .. } | PipelineError::AwsTransient { code, .. } => {
                Some(code)
            }
            _ => None,
        }
    }

    /// A malformed event. The message is cut to [`MAX_EVENT_ERROR_CHARS`]: it
    /// may quote the event, and a megabyte field quoted whole would flood the
    /// logs and the dead-letter queue's error attributes.
    pub fn invalid_event(what: impl Into<String>) -> Self {
        let what = what.into();
        match what.char_indices().nth(MAX_EVENT_ERROR_CHARS) {
            Some((cut, _)) => PipelineError::InvalidEvent(format!(
                "{}… ({} bytes in all)",
                &what[..cut],
                what.len()
            )),
            None => PipelineError::InvalidEvent(what),
        }
    }

    /// Classifies an SDK error of `operation`, keeping the service's own code
    /// and message. Callers match the errors that mean something to them (for
    /// example `ResourceInUse` for our own name) before falling back to this.
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: HttpStatus + fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("Unknown").to_string();
                let message = service
                    .err()
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| service.err().to_string());
                let status = service.raw().status_code();
                if is_transient(status, &code) {
                    PipelineError::AwsTransient {
                        operation,
                        code,
                        message,
                    }
                } else {
                    PipelineError::AwsRejected {
                        operation,
                        code,
                        message,
                    }
                }
            }
            SdkError::TimeoutError(_) => PipelineError::AwsTransient {
                operation,
                code: "Timeout".into(),
                message: describe(&err),
            },
            SdkError::DispatchFailure(_) => PipelineError::AwsTransient {
                operation,
                code: "DispatchFailure".into(),
                message: describe(&err),
            },
            SdkError::ResponseError(_) => PipelineError::AwsTransient {
                operation,
                code: "ResponseError".into(),
                message: describe(&err),
            },
            // A request we could not even build is our bug, and it will not
            // build on a retry either.
            _ => PipelineError::Defect(format!(
                "{operation}: the request could not be built: {}",
                describe(&err)
            )),
        }
    }
}

/// The HTTP status of a raw response, so `from_sdk` works for every SDK crate.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// The SDK's `Display` for errors is terse ("dispatch failure"); the source
/// chain says what actually happened.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<PipelineError> for Diagnostic {
    fn from(err: PipelineError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_errors_are_cut_to_a_readable_length() {
        let short = PipelineError::invalid_event("detail.image-digest is missing");
        assert_eq!(
            short.to_string(),
            "invalid event: detail.image-digest is missing"
        );
        let huge = PipelineError::invalid_event(format!("key {:?}", "é".repeat(50_000)));
        let message = huge.to_string();
        assert!(
            message.chars().count() < MAX_EVENT_ERROR_CHARS + 50,
            "{}",
            message.len()
        );
        assert!(message.ends_with("… (100006 bytes in all)"), "{message}");
    }

    #[test]
    fn error_types_are_stable_and_say_retryable() {
        let cases = [
            (
                PipelineError::invalid_event("x"),
                "NonRetryable.InvalidEvent",
                false,
            ),
            (
                PipelineError::InvalidConfig(ConfigProblems(vec![])),
                "NonRetryable.InvalidConfig",
                false,
            ),
            (
                PipelineError::AwsRejected {
                    operation: "Op",
                    code: "ValidationException".into(),
                    message: "m".into(),
                },
                "NonRetryable.AwsRejected",
                false,
            ),
            (
                PipelineError::AwsTransient {
                    operation: "Op",
                    code: "ThrottlingException".into(),
                    message: "m".into(),
                },
                "Retryable.AwsTransient",
                true,
            ),
            (
                PipelineError::ResourceBusy("endpoint busy".into()),
                "Retryable.ResourceBusy",
                true,
            ),
            (
                PipelineError::ResourceFailed("endpoint failed".into()),
                "NonRetryable.ResourceFailed",
                false,
            ),
            (
                PipelineError::Defect("a request could not be serialised".into()),
                "NonRetryable.Defect",
                false,
            ),
        ];
        for (err, error_type, retryable) in cases {
            assert_eq!(err.error_type(), error_type);
            assert_eq!(err.is_retryable(), retryable);
            let diagnostic = Diagnostic::from(err);
            assert_eq!(diagnostic.error_type, error_type);
        }
    }

    /// The codes the classification relies on: every throttling and
    /// transient code of the SDK's retry classifier is retryable at any
    /// status, a 5xx is whatever its code, and a 4xx with another code is not.
    #[test]
    fn throttling_and_transient_codes_follow_the_sdk() {
        use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
        for code in THROTTLING_ERRORS.iter().chain(TRANSIENT_ERRORS) {
            assert!(is_transient(400, code), "{code}");
        }
        for code in [
            "ThrottlingException",
            "SlowDown",
            "RequestTimeout",
            "TooManyRequestsException",
        ] {
            assert!(is_transient(400, code), "{code}");
        }
        for status in [500, 502, 503, 504] {
            assert!(is_transient(status, "InternalFailure"));
            assert!(is_transient(status, "Unknown"));
        }
        for code in [
            "ValidationException",
            "AccessDeniedException",
            "ResourceLimitExceeded",
            "ResourceInUse",
        ] {
            assert!(!is_transient(400, code), "{code}");
        }
    }

    #[test]
    fn config_problems_are_listed_together() {
        let err = PipelineError::InvalidConfig(ConfigProblems(vec![
            ConfigProblem {
                variable: "A".into(),
                problem: "is required".into(),
            },
            ConfigProblem {
                variable: "B".into(),
                problem: "must be a number".into(),
            },
        ]));
        assert_eq!(
            err.to_string(),
            "invalid configuration: A: is required; B: must be a number"
        );
    }
}
