//! The real binary's cold start, against a stand-in for the Lambda Runtime API
//! (`shared::test_support::runtime_api`): a bad environment is reported to
//! Lambda as the init error, `NonRetryable.InvalidConfig` naming the variable,
//! and the process exits with status 1 without asking for an event; it exits
//! so all the same when the report cannot be made; a good environment gets as
//! far as asking for its first event; and the metrics of the events it is
//! given are in its log.

use shared::test_support::runtime_api::{assert_metrics_in_log, not_an_event, ColdStartCases};
use shared::test_support::sample;

const BINARY: &str = env!("CARGO_BIN_EXE_evaluate_model_function");

/// A complete environment: the function's required variables.
const GOOD: &[(&str, &str)] = &[
    ("PIPELINE_NAME", "mlops"),
    ("EVALUATION_THRESHOLDS", "validation:rmse <= 3.5"),
];

/// Bad environments: a variable of `GOOD` unset (`None`) or set to a bad
/// value, and what the error message says about it.
const BAD: &[(&str, Option<&str>, &str)] = &[
    (
        "EVALUATION_THRESHOLDS",
        None,
        "EVALUATION_THRESHOLDS: is required",
    ),
    (
        "EVENT_SOURCE",
        Some("aws.mlops"),
        r#"EVENT_SOURCE: must not start with "aws.""#,
    ),
];

shared::cold_start_tests!(ColdStartCases {
    binary: BINARY,
    good: GOOD,
    bad: BAD,
});

/// Each invocation's metrics are in the log, as Embedded Metric Format
/// documents: a skip by its class, a malformed event as a failure by its error type.
#[test]
fn each_invocation_leaves_its_metrics_in_the_log() {
    let events = vec![sample("training-job-other-pipeline.json"), not_an_event()];
    assert_metrics_in_log(
        BINARY,
        GOOD,
        events,
        &[
            "evaluate Failed[ErrorType=NonRetryable.InvalidEvent]=1",
            "evaluate Skipped[Reason=not_applicable]=1",
        ],
    );
}
