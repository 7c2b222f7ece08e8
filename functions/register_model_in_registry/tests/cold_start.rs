//! The real binary's cold start, against a stand-in for the Lambda Runtime API
//! (`shared::test_support::runtime_api`): a bad environment is reported to
//! Lambda as the init error, `NonRetryable.InvalidConfig` naming the variable,
//! and the process exits with status 1 without asking for an event; it exits
//! so all the same when the report cannot be made; a good environment gets as
//! far as asking for its first event; and the metrics of the events it is
//! given are in its log.

use shared::test_support::runtime_api::{assert_metrics_in_log, not_an_event, ColdStartCases};
use shared::test_support::sample;

const BINARY: &str = env!("CARGO_BIN_EXE_register_model_in_registry");

/// A complete environment: the function's required variables.
const GOOD: &[(&str, &str)] = &[("PIPELINE_NAME", "mlops")];

/// Bad environments: a variable of `GOOD` unset (`None`) or set to a bad
/// value, and what the error message says about it.
const BAD: &[(&str, Option<&str>, &str)] = &[
    ("PIPELINE_NAME", None, "PIPELINE_NAME: is required"),
    (
        "MODEL_APPROVAL_STATUS",
        Some("approved"),
        r#"MODEL_APPROVAL_STATUS: must be PendingManualApproval or Approved, got "approved""#,
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
    let events = vec![sample("evaluation-failed.json"), not_an_event()];
    assert_metrics_in_log(
        BINARY,
        GOOD,
        events,
        &[
            "register Failed[ErrorType=NonRetryable.InvalidEvent]=1",
            "register Skipped[Reason=not_applicable]=1",
        ],
    );
}
