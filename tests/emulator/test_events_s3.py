"""EventBridge (events_rules plus the stock behaviour the Rust tests rely on) and
the S3 calls of the evaluate stage.

One emulator for the module (`shared_emulator`); each test uses buses, queues
and buckets of its own.
"""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, error_of

SOURCE = "mlops.pipeline"
DETAIL_TYPE = "Model Evaluation Completed"
PATTERN = {
    "source": [SOURCE],
    "detail-type": [DETAIL_TYPE],
    "detail": {"passed": [True], "pipeline": [{"prefix": "mlops--"}]},
}


@pytest.fixture(scope="module")
def events(shared_emulator):
    return shared_emulator.client("events")


@pytest.fixture(scope="module")
def sqs(shared_emulator):
    return shared_emulator.client("sqs")


@pytest.fixture(scope="module")
def s3(shared_emulator):
    return shared_emulator.client("s3")


def bus_with_queue(events, sqs, name: str, pattern: dict = PATTERN) -> str:
    """A custom bus `name`, a rule with `pattern` and an SQS queue target; the queue's URL."""
    assert events.create_event_bus(Name=name)["EventBusArn"] == (
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
    )
    queue_url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=f"{name}-rule", EventBusName=name, EventPattern=json.dumps(pattern))
    answer = events.put_targets(
        Rule=f"{name}-rule", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    assert answer["FailedEntryCount"] == 0
    return queue_url


def entry(bus: str, detail: dict, source: str = SOURCE, detail_type: str = DETAIL_TYPE, **extra) -> dict:
    return dict(
        EventBusName=bus, Source=source, DetailType=detail_type, Detail=json.dumps(detail), **extra
    )


def drain(sqs, queue_url: str) -> list[dict]:
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


# --- EventBridge ---------------------------------------------------------------


def test_rule_delivers_only_matching_events_as_full_envelopes(events, sqs):
    queue_url = bus_with_queue(events, sqs, "mlops-bus")
    detail = {
        "pipeline": "mlops--churn",
        "training_job_name": "mlops--churn-train-1",
        "passed": True,
        "metrics": {"validation:auc": 0.91},
        "reason": None,
    }
    answer = events.put_events(
        Entries=[
            entry("mlops-bus", detail, Resources=["arn:aws:sagemaker:us-east-1:1:training-job/x"]),
            entry("mlops-bus", {**detail, "passed": False}),  # not passed
            entry("mlops-bus", {k: v for k, v in detail.items() if k != "passed"}),  # no field
            entry("mlops-bus", {**detail, "passed": "true"}),  # a string, not a boolean
            entry("mlops-bus", {**detail, "pipeline": "other--churn"}),  # prefix does not match
            entry("mlops-bus", detail, source="mlops.other"),
            entry("mlops-bus", detail, detail_type="Model Training Started"),
            # The bus by ARN works too.
            entry(f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/mlops-bus", {**detail, "n": 2}),
        ]
    )
    assert answer["FailedEntryCount"] == 0
    ids = [result["EventId"] for result in answer["Entries"]]
    assert len(ids) == 8

    bodies = drain(sqs, queue_url)
    assert [body["id"] for body in bodies] == [ids[0], ids[7]]
    first = bodies[0]
    # events_rules: the whole envelope, in EventBridge's order, account included.
    assert list(first) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert first["version"] == "0"
    assert first["detail-type"] == DETAIL_TYPE
    assert first["source"] == SOURCE
    assert first["account"] == ACCOUNT
    assert first["region"] == REGION
    assert first["resources"] == ["arn:aws:sagemaker:us-east-1:1:training-job/x"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"])
    assert first["detail"] == detail
    assert bodies[1]["resources"] == []


def test_default_bus_and_other_rules_see_nothing_of_a_custom_bus(events, sqs):
    queue_url = bus_with_queue(events, sqs, "quiet-bus")
    default_queue = sqs.create_queue(QueueName="default-bus-queue")["QueueUrl"]
    default_arn = sqs.get_queue_attributes(QueueUrl=default_queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="default-rule", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="default-rule", Targets=[{"Id": "q", "Arn": default_arn}])

    events.put_events(Entries=[entry("quiet-bus", {"pipeline": "mlops--a", "passed": True})])
    assert len(drain(sqs, queue_url)) == 1
    assert drain(sqs, default_queue) == []


def test_a_text_input_transformer_delivers_its_text(events, sqs):
    # events_rules fix 3: the template's alert rules fill a sentence in, not JSON.
    queue = sqs.create_queue(QueueName="alert-text")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="alert-bus")
    events.put_rule(Name="alert", EventBusName="alert-bus", EventPattern=json.dumps({"source": [SOURCE]}))
    transformer = {
        "InputPathsMap": {"job": "$.detail.pipeline"},
        "InputTemplate": '"Training job <job> failed."',
    }
    events.put_targets(
        Rule="alert", EventBusName="alert-bus", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": transformer}]
    )
    plain = dict(transformer, InputTemplate="Training job <job> failed; see its logs.")
    events.put_rule(Name="alert-plain", EventBusName="alert-bus", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(
        Rule="alert-plain", EventBusName="alert-bus", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": plain}]
    )

    answer = events.put_events(Entries=[entry("alert-bus", {"pipeline": "mlops--a", "passed": False})])
    assert answer["FailedEntryCount"] == 0
    bodies = sorted(
        m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    )
    assert bodies == ['"Training job mlops--a failed."', "Training job mlops--a failed; see its logs."]


def test_put_events_reports_failed_entries(events, sqs):
    queue_url = bus_with_queue(events, sqs, "partial-bus")
    good = entry("partial-bus", {"pipeline": "mlops--a", "passed": True})
    answer = events.put_events(
        Entries=[
            {"EventBusName": "partial-bus", "Source": SOURCE, "DetailType": DETAIL_TYPE},
            good,
            {**good, "Detail": "not json"},
        ]
    )
    assert answer["FailedEntryCount"] == 2
    results = answer["Entries"]
    assert results[0] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument.",
    }
    assert set(results[1]) == {"EventId"}
    assert results[2] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert [body["id"] for body in drain(sqs, queue_url)] == [results[1]["EventId"]]


def test_put_events_to_missing_bus_fails_the_call(events):
    with pytest.raises(ClientError) as excinfo:
        events.put_events(Entries=[entry("no-such-bus", {"passed": True})])
    assert error_of(excinfo) == (
        400,
        "ResourceNotFoundException",
        "Event bus no-such-bus does not exist.",
    )


def test_put_events_over_256_kb_fails_the_call(events, sqs):
    bus_with_queue(events, sqs, "size-bus")
    base = entry("size-bus", {"pad": ""})
    overhead = len(SOURCE) + len(DETAIL_TYPE) + len(base["Detail"]) + sum(
        len(r) for r in base.get("Resources", [])
    )
    # Exactly the limit goes through; one byte more fails the whole call.
    at_limit = entry("size-bus", {"pad": "x" * (256 * 1024 - overhead)})
    answer = events.put_events(Entries=[at_limit])
    assert answer["FailedEntryCount"] == 0 and "EventId" in answer["Entries"][0]
    half = entry("size-bus", {"pad": "x" * (128 * 1024)})
    with pytest.raises(ClientError) as excinfo:
        events.put_events(Entries=[half, half])
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


# --- S3 ----------------------------------------------------------------------


def test_s3_put_get_and_missing_key(s3):
    s3.create_bucket(Bucket="eval-artifacts")
    report = json.dumps({"metrics": {"validation:auc": 0.91}}).encode()
    s3.put_object(
        Bucket="eval-artifacts",
        Key="churn/job-1/output/evaluation.json",
        Body=report,
        ContentType="application/json",
    )
    got = s3.get_object(Bucket="eval-artifacts", Key="churn/job-1/output/evaluation.json")
    assert got["Body"].read() == report
    assert got["ContentType"] == "application/json"

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="eval-artifacts", Key="churn/job-1/output/missing.json")
    error = excinfo.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Code"] == "NoSuchKey"
    assert error["Error"]["Message"] == "The specified key does not exist."

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="no-such-bucket", Key="x")
    assert error_of(excinfo)[:2] == (404, "NoSuchBucket")
