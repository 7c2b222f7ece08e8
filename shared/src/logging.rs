//! Logging setup for every function.
//!
//! lambda_runtime's subscriber follows Lambda's logging controls: JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, level from `AWS_LAMBDA_LOG_LEVEL`, else
//! `RUST_LOG`, else INFO. The runtime wraps each invocation in a span carrying
//! `requestId`, and handlers add the identity they work on as span fields, so
//! every line of an invocation names both.

pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
