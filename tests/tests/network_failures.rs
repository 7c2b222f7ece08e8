//! Network failures are retryable: a connection refused, a call that times
//! out, and an answer that cannot be read each end, after the SDK's retries,
//! as `Retryable.AwsTransient` (docs/architecture.md, Errors), so Lambda's retries and the
//! dead-letter queue carry the event on instead of dropping it.
//!
//! The handler runs whole (trigger_model_training, on events/ecr-push.json)
//! against a misbehaving server on 127.0.0.1, with the functions' own HTTP
//! client and retry mode and short timeouts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use shared::PipelineError;

mod common;

/// How a server on a loopback port misbehaves.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Accepts, reads the request, never answers.
    Silent,
    /// Answers 200 with a body that is not SageMaker's JSON.
    Unreadable,
    /// Answers bytes that are not HTTP at all, then closes.
    NotHttp,
}

/// Serves `misbehaviour` on every connection until the test process ends;
/// the port it listens on.
fn misbehaving_server(misbehaviour: Misbehaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer(stream, misbehaviour));
        }
    });
    port
}

fn answer(mut stream: TcpStream, misbehaviour: Misbehaviour) {
    let mut request = [0u8; 16 * 1024];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.read(&mut request);
    match misbehaviour {
        Misbehaviour::Silent => thread::sleep(Duration::from_secs(5)),
        Misbehaviour::Unreadable => {
            let body = "<html>a proxy's error page</html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
        Misbehaviour::NotHttp => {
            let _ = stream.write_all(b"\x00\x01 this is not HTTP\r\n\r\n");
        }
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    listener.local_addr().unwrap().port()
}

/// The functions' HTTP client and standard retries (three attempts), with
/// timeouts short enough for a test.
fn sdk_config(port: u16) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "test",
                "test",
                None,
                None,
                "network-failures",
            )),
        )
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .http_client(shared::aws::https_client())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(Duration::from_millis(300))
                .operation_timeout(Duration::from_secs(3))
                .build(),
        )
        .build()
}

async fn trigger_against(port: u16) -> PipelineError {
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk_config(port));
    trigger_model_training::handle(
        &sagemaker,
        &common::trigger_config(),
        common::invocation(&common::push_event()),
    )
    .await
    .expect_err("no answer from AWS cannot be a success")
}

fn assert_transient(err: &PipelineError, code: &str) {
    assert_eq!(err.error_type(), "Retryable.AwsTransient", "{err}");
    assert_eq!(err.aws_code(), Some(code), "{err}");
    assert!(
        err.to_string()
            .starts_with("CreateTrainingJob failed transiently"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let err = trigger_against(closed_port()).await;
    assert_transient(&err, "DispatchFailure");
}

#[tokio::test]
async fn a_call_that_times_out_is_retryable() {
    let err = trigger_against(misbehaving_server(Misbehaviour::Silent)).await;
    assert_transient(&err, "Timeout");
}

#[tokio::test]
async fn an_answer_that_cannot_be_read_is_retryable() {
    let err = trigger_against(misbehaving_server(Misbehaviour::Unreadable)).await;
    assert_transient(&err, "ResponseError");
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_retryable() {
    let err = trigger_against(misbehaving_server(Misbehaviour::NotHttp)).await;
    assert_transient(&err, "DispatchFailure");
}
