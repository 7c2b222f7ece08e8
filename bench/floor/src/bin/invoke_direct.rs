//! The baseline of serve_predictions' overhead (`make bench`,
//! bench/serve_overhead.py): InvokeEndpoint straight from the Rust SDK, with
//! the very client the function builds (`shared::aws::sdk_config`,
//! `serve_predictions::Clients`, its configuration from the same environment)
//! and the same request the function makes for a CSV body, timed in-process.
//!
//! Usage: `invoke_direct BODY_FILE`, with the function's environment
//! (`PIPELINE_NAME`, `ENDPOINT_NAME`, `AWS_ENDPOINT_URL`, ...). For each line
//! read on standard input (a request id), one InvokeEndpoint of the file's
//! bytes (`text/csv`, accepting `text/csv`); one line written back:
//! `ok <nanoseconds> <answer bytes>`, or `error <nanoseconds> <the SDK's error>`.
//! The time is from the request built to the answer's body in hand.

use std::io::{BufRead, Write};
use std::time::Instant;

use aws_sdk_sagemakerruntime::primitives::Blob;
use serve_predictions::{Clients, ServeConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: invoke_direct BODY_FILE")?;
    let body = std::fs::read(&path)?;
    let config = ServeConfig::from_env()?;
    let clients = Clients::new(&shared::aws::sdk_config().await, &config);
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let request_id = line?;
        let started = Instant::now();
        let answer = clients
            .runtime
            .invoke_endpoint()
            .endpoint_name(&config.endpoint_name)
            .content_type("text/csv")
            .accept("text/csv")
            .inference_id(request_id.trim())
            .body(Blob::new(body.as_slice()))
            .send()
            .await;
        let bytes = answer
            .as_ref()
            .map(|output| output.body().map_or(0, |b| b.as_ref().len()));
        let elapsed = started.elapsed().as_nanos();
        match bytes {
            Ok(bytes) => writeln!(out, "ok {elapsed} {bytes}")?,
            Err(err) => writeln!(out, "error {elapsed} {err:?}")?,
        }
        out.flush()?;
    }
    Ok(())
}
