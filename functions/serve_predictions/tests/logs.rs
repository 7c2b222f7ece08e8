//! The log of a refused prediction holds the route, the status and the code,
//! never the request's data, even when the model's message quotes it. A test
//! binary of its own: the subscriber is the process's, with no other test
//! running beside it.

use std::sync::{Arc, Mutex};

use aws_sdk_sagemakerruntime::config::retry::RetryConfig;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::types::error::ModelError;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use lambda_http::tracing::subscriber::fmt::MakeWriter;
use lambda_http::{Body, Context, RequestExt};
use serve_predictions::{handle, Clients, ServeConfig, Service};
use shared::config::EnvReader;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn no_payload_reaches_the_log() {
    let log = Captured::default();
    lambda_http::tracing::subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .init();

    let secret = "patient-4711";
    let rule = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(move || {
        InvokeEndpointError::ModelError(
            ModelError::builder()
                .original_status_code(400)
                .original_message(format!("line 1 column 1: '{secret}' is not a number"))
                .build(),
        )
    });
    let runtime = mock_client!(
        aws_sdk_sagemakerruntime,
        RuleMode::MatchAny,
        &[&rule],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let sagemaker = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, &[]);
    let config =
        ServeConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")])).unwrap();
    let service = Service::new(Clients { runtime, sagemaker }, config);

    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/predictions")
        .header("content-type", "text/csv")
        .body(Body::Text(format!("{secret},2\n")))
        .unwrap()
        .with_lambda_context(Context::default());
    let response = handle(&service, request).await.unwrap();

    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert!(body["message"].as_str().unwrap().contains(secret), "{body}");
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("ModelRejected") && log.contains("status=400"),
        "{log}"
    );
    assert!(!log.contains(secret), "{log}");
}
