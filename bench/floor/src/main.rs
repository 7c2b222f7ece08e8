//! The floor `make bench` compares every function with: what a Rust Lambda
//! costs before any AWS SDK is involved. It is shaped like the functions'
//! `main` minus the SDK: lambda_runtime's logging setup, a single-threaded
//! tokio runtime, and a handler that answers with the event it was given.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
