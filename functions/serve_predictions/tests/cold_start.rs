//! The real binary's cold start, against a stand-in for the Lambda Runtime API
//! (`shared::test_support::runtime_api`): a bad environment is reported to
//! Lambda as the init error, `NonRetryable.InvalidConfig` naming the variable,
//! and the process exits with status 1 without asking for an event; it exits
//! so all the same when the report cannot be made; a good environment gets as
//! far as asking for its first event.

use shared::test_support::runtime_api::ColdStartCases;

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

const CASES: ColdStartCases = ColdStartCases {
    binary: BINARY,
    good: GOOD,
    bad: BAD,
};

#[test]
fn a_bad_environment_is_reported_to_lambda_as_the_init_error() {
    CASES.assert_bad_environments_are_init_errors();
}

#[test]
fn a_bad_environment_still_exits_when_the_runtime_api_is_unreachable() {
    CASES.assert_bad_environment_exits_without_runtime_api();
}

#[test]
fn a_good_environment_asks_for_the_first_event() {
    CASES.assert_good_environment_asks_for_an_event();
}
