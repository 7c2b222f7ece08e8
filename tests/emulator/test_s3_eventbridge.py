"""S3 "Object Created" events through EventBridge (events_rules fix 2): the
event the retraining rule of template.yaml receives when new data lands.

One emulator for the module; each test uses buckets, rules and queues of its own.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from harness import ACCOUNT, REGION


@pytest.fixture(scope="module")
def clients(shared_emulator):
    return shared_emulator.client("s3"), shared_emulator.client("events"), shared_emulator.client("sqs")


def queue_for(events, sqs, name: str, pattern: dict, bus: str = "default") -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    assert events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])["FailedEntryCount"] == 0
    return url


def drain(sqs, url: str) -> list[dict]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def bucket_with_eventbridge(s3, name: str, versioned: bool) -> None:
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )


def pattern(bucket: str, **key_filter) -> dict:
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [key_filter]}},
    }


def test_put_object_sends_s3s_object_created_event(clients):
    s3, events, sqs = clients
    bucket_with_eventbridge(s3, "retrain-versioned", versioned=True)
    url = queue_for(events, sqs, "retrain-versioned", pattern("retrain-versioned", prefix="data/"))

    body = b"1,2,3\n"
    put = s3.put_object(Bucket="retrain-versioned", Key="data/train/part-1.csv", Body=body)
    s3.put_object(Bucket="retrain-versioned", Key="models/job/output/model.tar.gz", Body=b"x")

    [event] = drain(sqs, url)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["version"] == "0"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event["id"])
    assert event["detail-type"] == "Object Created"
    assert event["source"] == "aws.s3"
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == ["arn:aws:s3:::retrain-versioned"]
    detail = event["detail"]
    assert list(detail) == ["version", "bucket", "object", "request-id", "requester", "source-ip-address", "reason"]
    assert detail["version"] == "0"
    assert detail["bucket"] == {"name": "retrain-versioned"}
    assert detail["object"]["key"] == "data/train/part-1.csv"
    assert detail["object"]["size"] == len(body)
    assert detail["object"]["etag"] == hashlib.md5(body).hexdigest() == put["ETag"].strip('"')
    assert detail["object"]["version-id"] == put["VersionId"]
    assert re.fullmatch(r"[0-9A-F]{18}", detail["object"]["sequencer"])
    assert re.fullmatch(r"[0-9A-Z]{16}", detail["request-id"])
    assert detail["requester"] == ACCOUNT
    assert detail["reason"] == "PutObject"


def test_each_event_has_its_own_id_and_increasing_sequencer(clients):
    s3, events, sqs = clients
    bucket_with_eventbridge(s3, "retrain-burst", versioned=False)
    url = queue_for(events, sqs, "retrain-burst", pattern("retrain-burst", prefix="data/"))
    for _ in range(3):
        s3.put_object(Bucket="retrain-burst", Key="data/same-key.csv", Body=b"x")
    got = drain(sqs, url)
    assert len({event["id"] for event in got}) == 3
    sequencers = [int(event["detail"]["object"]["sequencer"], 16) for event in got]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    # An unversioned bucket: no version-id, as S3 sends it.
    assert all("version-id" not in event["detail"]["object"] for event in got)


def test_copy_and_multipart_reasons_and_wildcard(clients):
    s3, events, sqs = clients
    bucket_with_eventbridge(s3, "retrain-reasons", versioned=False)
    url = queue_for(events, sqs, "retrain-reasons", pattern("retrain-reasons", wildcard="data/*.csv"))
    s3.put_object(Bucket="retrain-reasons", Key="data/a.csv", Body=b"a")
    s3.put_object(Bucket="retrain-reasons", Key="data/a.txt", Body=b"a")  # wildcard: no
    s3.copy_object(Bucket="retrain-reasons", Key="data/copy/b.csv", CopySource="retrain-reasons/data/a.csv")
    upload = s3.create_multipart_upload(Bucket="retrain-reasons", Key="data/big.csv")
    part = s3.upload_part(
        Bucket="retrain-reasons", Key="data/big.csv", UploadId=upload["UploadId"], PartNumber=1, Body=b"p" * 10
    )
    s3.complete_multipart_upload(
        Bucket="retrain-reasons",
        Key="data/big.csv",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    got = [(e["detail"]["object"]["key"], e["detail"]["reason"]) for e in drain(sqs, url)]
    assert got == [
        ("data/a.csv", "PutObject"),
        ("data/copy/b.csv", "CopyObject"),
        ("data/big.csv", "CompleteMultipartUpload"),
    ]


def test_only_the_default_bus_and_only_with_eventbridge_on(clients):
    s3, events, sqs = clients
    events.create_event_bus(Name="not-for-s3")
    custom = queue_for(
        events, sqs, "s3-custom-bus", {"source": ["aws.s3"], "detail-type": ["Object Created"]}, bus="not-for-s3"
    )
    default = queue_for(events, sqs, "s3-default-bus", pattern("retrain-quiet", prefix=""))
    s3.create_bucket(Bucket="retrain-quiet")  # EventBridge notifications off
    s3.put_object(Bucket="retrain-quiet", Key="data/x.csv", Body=b"x")
    assert drain(sqs, default) == []
    s3.put_bucket_notification_configuration(
        Bucket="retrain-quiet", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.put_object(Bucket="retrain-quiet", Key="data/y.csv", Body=b"y")
    assert [e["detail"]["object"]["key"] for e in drain(sqs, default)] == ["data/y.csv"]
    assert drain(sqs, custom) == []
