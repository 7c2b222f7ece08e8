//! Helpers for the functions' tests (feature `test-util`): the sample events
//! in `events/`, a Lambda invocation around a payload, and AWS error
//! responses for aws-smithy-mocks.

use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// The sample event `events/<name>`, parsed.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An invocation of the handler with `payload`, as the runtime makes it.
pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// An AWS JSON-protocol error response: HTTP `status`, error `code`, `message`.
pub fn aws_error(status: u16, code: &str, message: &str) -> Response {
    Response::new(
        StatusCode::try_from(status).expect("a valid HTTP status"),
        SdkBody::from(serde_json::json!({"__type": code, "message": message}).to_string()),
    )
}
