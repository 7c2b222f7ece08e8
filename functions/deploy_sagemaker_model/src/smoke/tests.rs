use std::time::Duration;

use serde_json::json;

use super::*;

fn settings(tolerance: Option<f64>) -> SmokeTest {
    SmokeTest {
        requests: shared::s3::S3Uri::parse("s3://bucket/requests.jsonl").unwrap(),
        p99_budget_ms: 100.0,
        tolerance,
    }
}

fn answer(content_type: &str, body: &str, ms: u64) -> Answer {
    Answer {
        outcome: Ok((content_type.into(), body.as_bytes().to_vec())),
        elapsed: Duration::from_millis(ms),
    }
}

fn request(expected: Option<serde_json::Value>) -> SampleRequest {
    SampleRequest {
        body: "1,2".into(),
        content_type: "text/csv".into(),
        accept: "application/json".into(),
        expected,
    }
}

#[test]
fn requests_are_json_lines_with_defaults_and_problems_name_the_line() {
    let requests = parse_requests(
        "{\"body\": \"1,2\"}\n\n{\"body\": \"[[1,2]]\", \"content_type\": \"application/json\", \"expected\": [3]}\n",
    )
    .unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], request(None));
    assert_eq!(requests[1].expected, Some(json!([3])));

    assert_eq!(parse_requests("\n \n").unwrap_err(), "no request in it");
    let err = parse_requests("{\"body\": \"1\"}\n{\"bdy\": \"1\"}").unwrap_err();
    assert!(err.starts_with("line 2: unknown field `bdy`"), "{err}");
    let many = "{\"body\": \"1\"}\n".repeat(MAX_REQUESTS + 1);
    assert!(parse_requests(&many).unwrap_err().contains("at most 500"));
}

#[test]
fn answers_must_be_2xx_and_parse_as_json_or_csv() {
    let requests = [request(None)];
    let judged = |answer: Answer| judge(&settings(None), &requests, &[answer]);
    assert!(judged(answer("application/json", "{\"predictions\": [1.5]}", 5)).is_ok());
    assert!(judged(answer("application/json; charset=utf-8", "[1]", 5)).is_ok());
    assert!(judged(answer("text/csv", "1.5\n2.5\n", 5)).is_ok());

    let err = judged(answer("application/json", "{\"predictions\": [1.0,", 5)).unwrap_err();
    assert!(
        err.starts_with("smoke test request 1: the answer is not JSON"),
        "{err}"
    );
    let err = judged(answer("text/csv", "oops,1", 5)).unwrap_err();
    assert!(err.contains("not CSV of numbers"), "{err}");
    let err = judged(answer("text/html", "<p>hi</p>", 5)).unwrap_err();
    assert!(err.contains("neither JSON nor CSV"), "{err}");
    let err = judged(Answer {
        outcome: Err("the model answered HTTP 500: boom".into()),
        elapsed: Duration::from_millis(5),
    })
    .unwrap_err();
    assert_eq!(
        err,
        "smoke test request 1: the model answered HTTP 500: boom"
    );
}

#[test]
fn expected_answers_are_compared_only_with_a_tolerance() {
    let requests = [request(Some(json!({"predictions": [100.0, 0.0]})))];
    let got = |body: &str, tolerance| {
        judge(
            &settings(tolerance),
            &requests,
            &[answer("application/json", body, 5)],
        )
    };
    let far = "{\"predictions\": [150.0, 0.0]}";
    assert!(got(far, None).is_ok());
    assert!(got(far, Some(0.6)).is_ok());
    let err = got(far, Some(0.1)).unwrap_err();
    assert!(err.contains("was expected (tolerance 0.1)"), "{err}");
    // Below 1 the tolerance is absolute.
    assert!(got("{\"predictions\": [105.0, 0.09]}", Some(0.1)).is_ok());
    // The shape must match.
    assert!(got("{\"predictions\": [100.0]}", Some(0.1)).is_err());
    assert!(got("{\"other\": [100.0, 0.0]}", Some(0.1)).is_err());
    // CSV answers compare as rows.
    let csv = [request(Some(json!([[100.0]])))];
    assert!(judge(
        &settings(Some(0.1)),
        &csv,
        &[answer("text/csv", "104\n", 5)]
    )
    .is_ok());
}

#[test]
fn the_p99_latency_must_be_within_the_budget() {
    let requests = vec![request(None); 100];
    let mut answers: Vec<Answer> = (0..100).map(|_| answer("text/csv", "1", 10)).collect();
    let report = judge(&settings(None), &requests, &answers).unwrap();
    assert_eq!(report.requests, 100);
    assert_eq!(report.p99_ms, 10.0);

    // One slow answer in a hundred is the 100th percentile, not the 99th.
    answers[7].elapsed = Duration::from_millis(500);
    assert!(judge(&settings(None), &requests, &answers).is_ok());
    answers[8].elapsed = Duration::from_millis(500);
    let err = judge(&settings(None), &requests, &answers).unwrap_err();
    assert_eq!(
        err,
        "smoke test p99 latency 500.0 ms is over the budget of 100 ms"
    );
}
