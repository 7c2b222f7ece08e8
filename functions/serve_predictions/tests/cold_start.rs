//! The real binary's cold start, against a stand-in for the Lambda Runtime API
//! (`shared::test_support::runtime_api`): a bad environment is reported to
//! Lambda as the init error, `NonRetryable.InvalidConfig` naming the variable,
//! and the process exits with status 1 without asking for an event; it exits
//! so all the same when the report cannot be made; a good environment gets as
//! far as asking for its first event; and the metrics of the events it is
//! given are in its log.

use shared::test_support::runtime_api::{assert_metrics_in_log, ColdStartCases};
use shared::test_support::sample;

const BINARY: &str = env!("CARGO_BIN_EXE_serve_predictions");

/// A complete environment: the function's required variables.
const GOOD: &[(&str, &str)] = &[("PIPELINE_NAME", "mlops")];

/// Bad environments: a variable of `GOOD` unset (`None`) or set to a bad
/// value, and what the error message says about it.
const BAD: &[(&str, Option<&str>, &str)] = &[
    ("PIPELINE_NAME", None, "PIPELINE_NAME: is required"),
    (
        "PREDICTION_TIMEOUT_SECONDS",
        Some("30"),
        "PREDICTION_TIMEOUT_SECONDS: must be between 1 and 29, got 30",
    ),
];

shared::cold_start_tests!(ColdStartCases {
    binary: BINARY,
    good: GOOD,
    bad: BAD,
});

/// Each invocation's metrics are in the log, as Embedded Metric Format
/// documents: a request for an unknown route as a client error by its code.
#[test]
fn each_invocation_leaves_its_metrics_in_the_log() {
    let events = vec![{
        let mut request = sample("apigw-model.json");
        request["rawPath"] = "/no-such-route".into();
        request["requestContext"]["http"]["path"] = "/no-such-route".into();
        request
    }];
    assert_metrics_in_log(
        BINARY,
        GOOD,
        events,
        &["serve ClientErrors[ErrorType=NotFound]=1"],
    );
}
