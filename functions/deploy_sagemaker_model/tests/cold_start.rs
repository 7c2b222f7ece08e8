//! The real binary's cold start, against a stand-in for the Lambda Runtime API
//! (`shared::test_support::runtime_api`): a bad environment is reported to
//! Lambda as the init error, `NonRetryable.InvalidConfig` naming the variable,
//! and the process exits with status 1 without asking for an event; it exits
//! so all the same when the report cannot be made; a good environment gets as
//! far as asking for its first event; and the metrics of the events it is
//! given are in its log.

use shared::test_support::runtime_api::{assert_metrics_in_log, not_an_event, ColdStartCases};
use shared::test_support::sample;

const BINARY: &str = env!("CARGO_BIN_EXE_deploy_sagemaker_model");

/// A complete environment: the function's required variables.
const GOOD: &[(&str, &str)] = &[
    ("PIPELINE_NAME", "mlops"),
    (
        "SAGEMAKER_ROLE_ARN",
        "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
    ),
];

/// Bad environments: a variable of `GOOD` unset (`None`) or set to a bad
/// value, and what the error message says about it.
const BAD: &[(&str, Option<&str>, &str)] = &[
    (
        "SAGEMAKER_ROLE_ARN",
        None,
        "SAGEMAKER_ROLE_ARN: is required",
    ),
    (
        "DEPLOYMENT_TRAFFIC_ROUTING",
        Some("BLUE_GREEN"),
        r#"DEPLOYMENT_TRAFFIC_ROUTING: must be ALL_AT_ONCE, CANARY or LINEAR, got "BLUE_GREEN""#,
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
    let events = vec![sample("model-package-other-group.json"), not_an_event()];
    assert_metrics_in_log(
        BINARY,
        GOOD,
        events,
        &[
            "deploy Failed[ErrorType=NonRetryable.InvalidEvent]=1",
            "deploy Skipped[Reason=not_applicable]=1",
        ],
    );
}
