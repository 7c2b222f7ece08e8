//! The smoke test a version passes on the staging endpoint: the sample
//! requests (a JSON Lines object in S3), each answer 2xx and parseable,
//! optionally close to the expected answer, and the p99 latency within the
//! budget. Reading and judging are pure; [`run`] sends the requests.

use std::time::{Duration, Instant};

use aws_sdk_sagemakerruntime::error::SdkError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::primitives::Blob;
use serde::Deserialize;
use serde_json::Value;
use shared::s3::{get_object, Object};
use shared::PipelineError;
use tracing::info;

use crate::config::SmokeTest;

/// At most this many sample requests are sent (Lambda's time is bounded).
pub const MAX_REQUESTS: usize = 500;
/// The sample object's size limit.
pub const MAX_OBJECT_BYTES: u64 = 4 * 1024 * 1024;

/// One line of the sample requests object.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// The request body, as the model takes it (`"59,2,32.1,..."`).
    pub body: String,
    #[serde(default = "csv")]
    pub content_type: String,
    #[serde(default = "json")]
    pub accept: String,
    /// The answer expected, compared with `SMOKE_TEST_TOLERANCE` when set.
    #[serde(default)]
    pub expected: Option<Value>,
}

fn csv() -> String {
    "text/csv".into()
}

fn json() -> String {
    "application/json".into()
}

/// The sample requests: one JSON object per line, blank lines ignored.
/// A problem names its line.
pub fn parse_requests(text: &str) -> Result<Vec<SampleRequest>, String> {
    let mut requests = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let request: SampleRequest =
            serde_json::from_str(line).map_err(|err| format!("line {}: {err}", index + 1))?;
        requests.push(request);
    }
    match requests.len() {
        0 => Err("no request in it".into()),
        n if n > MAX_REQUESTS => Err(format!("{n} requests; at most {MAX_REQUESTS}")),
        _ => Ok(requests),
    }
}

/// What the endpoint answered one request, and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `Ok(content type, body)` for a 2xx; `Err(why)` for the model's error.
    pub outcome: Result<(String, Vec<u8>), String>,
    pub elapsed: Duration,
}

/// A passed smoke test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Report {
    pub requests: usize,
    pub p99_ms: f64,
}

/// The verdict on the answers (in the order of `requests`): a report, or the
/// reason the version failed, naming the first request that failed.
pub fn judge(
    settings: &SmokeTest,
    requests: &[SampleRequest],
    answers: &[Answer],
) -> Result<Report, String> {
    for (number, (request, answer)) in requests.iter().zip(answers).enumerate() {
        check(request, answer, settings.tolerance)
            .map_err(|why| format!("smoke test request {}: {why}", number + 1))?;
    }
    let p99_ms = p99_ms(answers);
    if p99_ms > settings.p99_budget_ms {
        return Err(format!(
            "smoke test p99 latency {p99_ms:.1} ms is over the budget of {} ms",
            settings.p99_budget_ms
        ));
    }
    Ok(Report {
        requests: answers.len(),
        p99_ms,
    })
}

fn check(request: &SampleRequest, answer: &Answer, tolerance: Option<f64>) -> Result<(), String> {
    let (content_type, body) = answer.outcome.as_ref().map_err(String::clone)?;
    let answer = parse_answer(content_type, body)?;
    match (&request.expected, tolerance) {
        (Some(expected), Some(tolerance)) if !close(expected, &answer, tolerance) => Err(format!(
            "answered {} where {} was expected (tolerance {tolerance})",
            cut(&answer.to_string()),
            cut(&expected.to_string())
        )),
        _ => Ok(()),
    }
}

/// The answer as JSON: a JSON document, or CSV whose every field is a
/// number (rows of numbers as arrays). Anything else is not parseable.
fn parse_answer(content_type: &str, body: &[u8]) -> Result<Value, String> {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
    if media_type == "application/json" || media_type.ends_with("+json") {
        return serde_json::from_str(text)
            .map_err(|err| format!("the answer is not JSON ({err}): {}", cut(text)));
    }
    if media_type == "text/csv" {
        let rows: Result<Vec<Value>, ()> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                line.split(',')
                    .map(|field| field.trim().parse::<f64>().map(Value::from).map_err(drop))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::from)
            })
            .collect();
        return match rows {
            Ok(rows) if !rows.is_empty() => Ok(Value::from(rows)),
            _ => Err(format!("the answer is not CSV of numbers: {}", cut(text))),
        };
    }
    Err(format!(
        "the answer's Content-Type {content_type:?} is neither JSON nor CSV"
    ))
}

/// Whether `actual` has `expected`'s shape, with every number within
/// `tolerance` of the expected one: relative to its size, absolute below 1.
fn close(expected: &Value, actual: &Value, tolerance: f64) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (
                e.as_f64().unwrap_or(f64::NAN),
                a.as_f64().unwrap_or(f64::NAN),
            );
            (a - e).abs() <= tolerance * e.abs().max(1.0)
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| close(e, a, tolerance))
        }
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(key, e)| a.get(key).is_some_and(|a| close(e, a, tolerance))),
        (e, a) => e == a,
    }
}

/// The nearest-rank 99th percentile of the answers' latencies, in ms (to
/// the microsecond).
fn p99_ms(answers: &[Answer]) -> f64 {
    let mut ms: Vec<f64> = answers
        .iter()
        .map(|a| a.elapsed.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let rank = (ms.len() * 99).div_ceil(100).max(1);
    let p99 = ms.get(rank - 1).copied().unwrap_or_default();
    (p99 * 1000.0).round() / 1000.0
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// Reads the sample requests from S3. A missing or unreadable object is the
/// configuration's problem, not the version's: an error, nothing is marked.
pub async fn requests(
    s3: &aws_sdk_s3::Client,
    settings: &SmokeTest,
) -> Result<Vec<SampleRequest>, PipelineError> {
    let uri = &settings.requests;
    let problem =
        |why: String| PipelineError::ResourceFailed(format!("smoke test requests {uri}: {why}"));
    let bytes = match get_object(s3, uri, MAX_OBJECT_BYTES).await? {
        Object::Bytes(bytes) => bytes,
        Object::Missing => return Err(problem("no such object".into())),
        Object::TooLarge => return Err(problem(format!("larger than {MAX_OBJECT_BYTES} bytes"))),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| problem("not UTF-8".into()))?;
    parse_requests(text).map_err(problem)
}

/// How long the requests may take in all: the function's timeout (300 s in
/// the template) leaves room for what follows (recording, production's step).
/// SageMaker ends each request at 60 s itself.
pub const TIME_LIMIT: Duration = Duration::from_secs(180);

/// Sends a warm-up request (the first sample, not counted) and then every
/// sample, one after the other, and judges the answers. Stops at the first
/// failed request, or when [`TIME_LIMIT`] is spent. `Ok(Err(reason))`: the
/// version failed; `Err`: SageMaker itself could not be asked.
pub async fn run(
    runtime: &aws_sdk_sagemakerruntime::Client,
    endpoint: &str,
    settings: &SmokeTest,
    requests: &[SampleRequest],
) -> Result<Result<Report, String>, PipelineError> {
    let started = Instant::now();
    let _warm_up = invoke(runtime, endpoint, &requests[0]).await?;
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        if started.elapsed() > TIME_LIMIT {
            return Ok(Err(format!(
                "smoke test: {} of {} requests answered in {} s, its time limit",
                answers.len(),
                requests.len(),
                TIME_LIMIT.as_secs()
            )));
        }
        let answer = invoke(runtime, endpoint, request).await?;
        let failed = answer.outcome.is_err();
        answers.push(answer);
        if failed {
            break;
        }
    }
    let verdict = judge(settings, requests, &answers);
    info!(requests = answers.len(), verdict = ?verdict, "smoke test");
    Ok(verdict)
}

async fn invoke(
    runtime: &aws_sdk_sagemakerruntime::Client,
    endpoint: &str,
    request: &SampleRequest,
) -> Result<Answer, PipelineError> {
    let started = Instant::now();
    let sent = runtime
        .invoke_endpoint()
        .endpoint_name(endpoint)
        .content_type(&request.content_type)
        .accept(&request.accept)
        .body(Blob::new(request.body.as_bytes()))
        .send()
        .await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(output) => Ok((
            output.content_type().unwrap_or_default().to_string(),
            output.body.map(Blob::into_inner).unwrap_or_default(),
        )),
        Err(err) => Err(model_failure(err)?),
    };
    Ok(Answer { outcome, elapsed })
}

/// The model's own failure (its non-2xx answer, or a request SageMaker
/// refused for it) as the reason; SageMaker being unreachable or busy is an
/// error, retried later.
fn model_failure(
    err: SdkError<InvokeEndpointError, aws_smithy_runtime_api::http::Response>,
) -> Result<String, PipelineError> {
    match err.as_service_error() {
        Some(InvokeEndpointError::ModelError(model)) => Ok(format!(
            "the model answered {}: {}",
            model
                .original_status_code()
                .map_or("an error".to_string(), |s| format!("HTTP {s}")),
            cut(model.original_message().unwrap_or_default())
        )),
        Some(InvokeEndpointError::ValidationError(refused)) => Ok(format!(
            "SageMaker refused the request: {}",
            refused.message().unwrap_or_default()
        )),
        _ => Err(PipelineError::from_sdk("InvokeEndpoint", err)),
    }
}

#[cfg(test)]
mod tests;
