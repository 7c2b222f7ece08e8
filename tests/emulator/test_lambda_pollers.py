"""lambda_pollers.py: SQS event source mappings that invoke a function's Invoke
API as Lambda does (batch size, batching window, 6 MB, concurrency, partial
batch responses, function errors, the redrive policy, the event's shape, the
template form), and scripts/template_rules.py's `event_source_mappings`.

One emulator for the module; each test uses queues of its own and its own
fake Invoke API (`FakeLambda`: http.server on 127.0.0.1 in a thread), which
records every event and answers as the test says. Mappings a test made are
deleted after it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pytest

from harness import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree

import template_rules  # noqa: E402  (scripts/, put on the path above)

MAPPINGS = "lambda/event-source-mappings"
FUNCTION = "retrain_model_on_new_data"
Answer = tuple[int, dict, bytes]


class FakeLambda:
    """A Lambda Invoke API: each POST to /2015-03-31/functions/<name>/invocations
    is recorded (path, event, its size, when it arrived) and answered with
    ``answer(event)``: (status, headers, body). ``delay``: seconds each
    invocation takes. Counts the invocations in flight at once."""

    def __init__(self, answer: Callable[[dict], Answer] | None = None, delay: float = 0.0) -> None:
        self.answer = answer or (lambda event: (200, {}, b"null"))
        self.delay = delay
        self.invocations: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as cargo lambda watch

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                status, headers, body = fake.invoke(self.path, payload)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, path: str, payload: bytes) -> Answer:
        event = json.loads(payload)
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.invocations.append({"path": path, "event": event, "bytes": len(payload), "at": time.monotonic()})
        try:
            time.sleep(self.delay)
            return self.answer(event)
        finally:
            with self.lock:
                self.in_flight -= 1

    def records(self) -> list[dict]:
        with self.lock:
            return [record for invocation in self.invocations for record in invocation["event"]["Records"]]

    def batch_sizes(self) -> list[int]:
        with self.lock:
            return [len(invocation["event"]["Records"]) for invocation in self.invocations]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_lambda():
    """Makes FakeLambdas; closes them after the test."""
    made: list[FakeLambda] = []

    def make(answer: Callable[[dict], Answer] | None = None, delay: float = 0.0) -> FakeLambda:
        made.append(FakeLambda(answer, delay))
        return made[-1]

    yield make
    for fake in made:
        fake.close()


@pytest.fixture(scope="module")
def sqs(shared_emulator):
    return shared_emulator.client("sqs")


@pytest.fixture(autouse=True)
def no_mappings_left(shared_emulator):
    yield
    for mapping in shared_emulator.control(MAPPINGS, None, method="GET")[1]["EventSourceMappings"]:
        assert shared_emulator.control(f"{MAPPINGS}/{mapping['UUID']}", None, method="DELETE")[0] == 200


def queue(sqs, name: str, **attributes: str) -> tuple[str, str]:
    """A new standard queue: (URL, ARN). Visibility timeout 1 s unless told."""
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", **attributes})["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def send(sqs, url: str, bodies: list[str]) -> list[str]:
    """Sends the bodies (SendMessageBatch, 10 a call); their MessageIds in order."""
    ids = []
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not answer.get("Failed"), answer
        ids += [entry["MessageId"] for entry in sorted(answer["Successful"], key=lambda e: int(e["Id"]))]
    return ids


def create(emulator, **body) -> dict:
    status, mapping = emulator.control(MAPPINGS, body)
    assert status == 200, mapping
    return mapping


def get(emulator, mapping: dict) -> dict:
    status, answer = emulator.control(f"{MAPPINGS}/{mapping['UUID']}", None, method="GET")
    assert status == 200, answer
    return answer


def wait_until(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def left_in(sqs, url: str) -> int:
    """Messages still in the queue, visible or not."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drained(emulator, sqs, url: str, mapping: dict, deleted: int) -> dict:
    """The mapping's stats once it deleted ``deleted`` messages, the queue empty."""
    wait_until(lambda: get(emulator, mapping)["Stats"]["Deleted"] >= deleted, what=f"{deleted} deleted")
    assert left_in(sqs, url) == 0
    return get(emulator, mapping)["Stats"]


def failures(*bodies: str) -> Callable[[dict], Answer]:
    """A ReportBatchItemFailures answer reporting the records with these bodies."""

    def answer(event: dict) -> Answer:
        failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in bodies]
        return 200, {"Content-Type": "application/json"}, json.dumps({"batchItemFailures": failed}).encode()

    return answer


# ---------------------------------------------------------------------------
# Batches


def test_batches_hold_at_most_batch_size_messages(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-batch-size")
    bodies = [f"m{i}" for i in range(10)]
    send(sqs, url, bodies)
    fake = fake_lambda()
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        BatchSize=4,
        MaximumBatchingWindowInSeconds=1,
    )
    assert mapping == {
        "UUID": mapping["UUID"],
        "EventSourceArn": arn,
        "FunctionName": FUNCTION,
        "Endpoint": fake.endpoint,
        "BatchSize": 4,
        "MaximumBatchingWindowInSeconds": 1,
        "FunctionResponseTypes": [],
        "State": "Enabled",
        "Stats": mapping["Stats"],
    }
    stats = drained(shared_emulator, sqs, url, mapping, 10)
    # Two full batches at once; the rest when the window since its first message ends.
    assert sorted(fake.batch_sizes()) == [2, 4, 4]
    assert sorted(r["body"] for r in fake.records()) == sorted(bodies)
    assert stats == {
        "Invocations": 3,
        "MaxConcurrencySeen": stats["MaxConcurrencySeen"],
        "Messages": 10,
        "LargestBatch": 4,
        "FunctionErrors": 0,
        "BatchItemFailures": 0,
        "Deleted": 10,
    }
    assert {i["path"] for i in fake.invocations} == {f"/2015-03-31/functions/{FUNCTION}/invocations"}


def test_the_batching_window_gathers_messages_sent_meanwhile(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-window")
    fake = fake_lambda()
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        BatchSize=100,
        MaximumBatchingWindowInSeconds=2,
    )
    sent = time.monotonic()
    send(sqs, url, ["a", "b", "c"])
    time.sleep(0.7)
    send(sqs, url, ["d", "e"])
    drained(shared_emulator, sqs, url, mapping, 5)
    [invocation] = fake.invocations
    assert [r["body"] for r in invocation["event"]["Records"]] == ["a", "b", "c", "d", "e"]
    assert 1.9 < invocation["at"] - sent < 3.5

    # Without a window: what is visible at once.
    url, arn = queue(sqs, "poll-no-window")
    fake = fake_lambda()
    create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint, BatchSize=10)
    sent = time.monotonic()
    send(sqs, url, ["now"])
    wait_until(lambda: fake.invocations, what="an invocation")
    assert fake.invocations[0]["at"] - sent < 0.5


def test_a_batch_stops_before_6_mb(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-6mb")
    bodies = [f"{i:03d}" + "x" * 199_997 for i in range(40)]  # 200,000 characters each
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    fake = fake_lambda()
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        BatchSize=100,
        MaximumBatchingWindowInSeconds=1,
    )
    drained(shared_emulator, sqs, url, mapping, 40)
    sizes = fake.batch_sizes()
    assert sorted(sizes, reverse=True) == [31, 9]  # 31 records of ~200.7 kB fit in 6,291,456 bytes
    assert all(invocation["bytes"] <= 6_291_456 for invocation in fake.invocations)
    biggest = max(fake.invocations, key=lambda invocation: invocation["bytes"])
    record = len(json.dumps(biggest["event"]["Records"][0], separators=(",", ":")))
    assert biggest["bytes"] + record + 1 > 6_291_456  # one more would not have fitted
    assert sorted(r["body"] for r in fake.records()) == bodies


@pytest.mark.parametrize("scaling, concurrency", [({"MaximumConcurrency": 2}, 2), ({"MaximumConcurrency": 3}, 3), (None, 5)])
def test_never_more_invocations_at_once_than_the_maximum_concurrency(
    shared_emulator, sqs, fake_lambda, scaling, concurrency
):
    url, arn = queue(sqs, f"poll-concurrency-{concurrency}")
    send(sqs, url, [f"m{i}" for i in range(4 * concurrency)])
    fake = fake_lambda(delay=0.3)
    body = dict(EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint, BatchSize=1)
    mapping = create(shared_emulator, **body, **({"ScalingConfig": scaling} if scaling else {}))
    assert mapping.get("ScalingConfig") == scaling
    stats = drained(shared_emulator, sqs, url, mapping, 4 * concurrency)
    assert fake.max_in_flight == concurrency
    assert stats["MaxConcurrencySeen"] == concurrency
    assert stats["Invocations"] == 4 * concurrency


# ---------------------------------------------------------------------------
# Failures


def test_reported_failures_come_back_until_the_dead_letter_queue(shared_emulator, sqs, fake_lambda):
    dlq_url, dlq_arn = queue(sqs, "poll-failures-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    url, arn = queue(sqs, "poll-failures", RedrivePolicy=redrive)
    [bad_id] = send(sqs, url, ["ok-1", "ok-2", "bad", "ok-3"])[2:3]
    fake = fake_lambda(failures("bad"))
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    wait_until(lambda: left_in(sqs, url) == 0, timeout=15, what="the queue empty")
    records = fake.records()
    assert sorted(r["body"] for r in records if r["body"] != "bad") == ["ok-1", "ok-2", "ok-3"]  # once each
    bad = [r for r in records if r["body"] == "bad"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in bad] == ["1", "2", "3"]
    assert {r["messageId"] for r in bad} == {bad_id}
    [moved] = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert (moved["MessageId"], moved["Body"]) == (bad_id, "bad")
    stats = get(shared_emulator, mapping)["Stats"]
    assert (stats["Invocations"], stats["BatchItemFailures"], stats["Deleted"], stats["FunctionErrors"]) == (3, 3, 3, 0)

    status, answer = shared_emulator.control(f"{MAPPINGS}/{mapping['UUID']}/invocations", None, method="GET")
    assert status == 200
    first = answer["Invocations"][0]
    assert first == {
        "Start": first["Start"],
        "End": first["End"],
        "BatchSize": 4,
        "PayloadBytes": first["PayloadBytes"],
        "StatusCode": 200,
        "Outcome": "BatchItemFailures",
        "Answer": {"batchItemFailures": [{"itemIdentifier": bad_id}]},
        "Failed": [bad_id],
    }
    assert first["Start"].endswith("Z") and first["Start"] <= first["End"]


@pytest.mark.parametrize(
    "failure, response_types, outcome",
    [
        ((200, {"X-Amz-Function-Error": "Unhandled"}, b'{"errorType": "E", "errorMessage": "boom"}'), [], "FunctionError"),
        ((500, {}, b"{}"), [], "FunctionError"),
        ((502, {}, b"not json"), ["ReportBatchItemFailures"], "FunctionError"),
        ((200, {}, b'{"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}'), ["ReportBatchItemFailures"], "InvalidResponse"),
        ((200, {}, b'{"batchItemFailures": [{"itemIdentifier": ""}]}'), ["ReportBatchItemFailures"], "InvalidResponse"),
        ((200, {}, b'{"batchItemFailures": [{"id": "x"}]}'), ["ReportBatchItemFailures"], "InvalidResponse"),
        ((200, {}, b'{"batchItemFailures": "all"}'), ["ReportBatchItemFailures"], "InvalidResponse"),
        ((200, {}, b"[]"), ["ReportBatchItemFailures"], "InvalidResponse"),
        ((200, {}, b"{not json"), ["ReportBatchItemFailures"], "InvalidResponse"),
    ],
    ids=[
        "function-error-header",
        "status-500",
        "status-502",
        "unknown-id",
        "empty-id",
        "bad-key",
        "not-a-list",
        "not-an-object",
        "not-json",
    ],
)
def test_a_failed_invocation_redelivers_the_whole_batch(
    shared_emulator, sqs, fake_lambda, failure, response_types, outcome, request
):
    url, arn = queue(sqs, f"poll-error-{request.node.callspec.id}")
    answers = [failure]
    fake = fake_lambda(lambda event: answers.pop() if answers else (200, {}, b"null"))
    send(sqs, url, ["a", "b", "c"])
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        FunctionResponseTypes=response_types,
    )
    stats = drained(shared_emulator, sqs, url, mapping, 3)
    first, second = (invocation["event"]["Records"] for invocation in fake.invocations)
    assert [r["messageId"] for r in first] == [r["messageId"] for r in second]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in second] == ["2", "2", "2"]
    assert second[0]["receiptHandle"] != first[0]["receiptHandle"]
    assert stats["FunctionErrors"] == (outcome == "FunctionError")
    assert stats["BatchItemFailures"] == (3 if outcome == "InvalidResponse" else 0)
    invocations = shared_emulator.control(f"{MAPPINGS}/{mapping['UUID']}/invocations", None, method="GET")[1]
    assert [i["Outcome"] for i in invocations["Invocations"]] == [outcome, "Success"]
    assert invocations["Invocations"][0]["StatusCode"] == failure[0]


def test_success_answers_delete_everything(shared_emulator, sqs, fake_lambda):
    # ReportBatchItemFailures: an empty or null list, {}, null or no body at all.
    answers = [b'{"batchItemFailures": []}', b'{"batchItemFailures": null}', b"{}", b"null", b""]
    url, arn = queue(sqs, "poll-success")
    fake = fake_lambda(lambda event: (200, {}, answers.pop()))
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        BatchSize=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    send(sqs, url, [f"m{i}" for i in range(5)])
    stats = drained(shared_emulator, sqs, url, mapping, 5)
    assert (stats["Invocations"], stats["BatchItemFailures"]) == (5, 0)

    # Without ReportBatchItemFailures, the answer is not read.
    url, arn = queue(sqs, "poll-ignored-answer")
    send(sqs, url, ["x", "y"])
    fake = fake_lambda(failures("x"))
    mapping = create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint)
    assert drained(shared_emulator, sqs, url, mapping, 2)["Invocations"] == 1


def test_no_answer_is_a_function_error(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-unreachable", VisibilityTimeout="30")
    fake = fake_lambda()
    fake.close()  # nothing listens there any more
    mapping = create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint)
    send(sqs, url, ["lost"])
    wait_until(lambda: get(shared_emulator, mapping)["Stats"]["FunctionErrors"] == 1, what="a function error")
    [invocation] = shared_emulator.control(f"{MAPPINGS}/{mapping['UUID']}/invocations", None, method="GET")[1][
        "Invocations"
    ]
    assert (invocation["Outcome"], invocation["StatusCode"]) == ("FunctionError", None)
    assert invocation["Error"].startswith("ConnectionRefusedError")
    assert left_in(sqs, url) == 1  # invisible for the visibility timeout, not deleted


# ---------------------------------------------------------------------------
# The event


def test_the_event_is_lambdas_sqs_event(shared_emulator, sqs, fake_lambda):
    calls = shared_emulator.control("calls", None, method="DELETE")
    assert calls[0] == 200
    url, arn = queue(sqs, "poll-shape")
    plain = sqs.send_message(QueueUrl=url, MessageBody='{"detail": {"object": {"key": "data/a.csv"}}}')
    with_attributes = sqs.send_message(
        QueueUrl=url,
        MessageBody="é ü 日本",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "retrain"},
            "n": {"DataType": "Number", "StringValue": "3"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    fake = fake_lambda()
    create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint)
    wait_until(lambda: len(fake.records()) == 2, what="two records")
    first, second = fake.records()
    assert first == {
        "messageId": plain["MessageId"],
        "receiptHandle": first["receiptHandle"],
        "body": '{"detail": {"object": {"key": "data/a.csv"}}}',
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": first["attributes"]["SentTimestamp"],
            "SenderId": first["attributes"]["SenderId"],
            "ApproximateFirstReceiveTimestamp": first["attributes"]["ApproximateFirstReceiveTimestamp"],
        },
        "messageAttributes": {},
        "md5OfBody": plain["MD5OfMessageBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
    assert first["md5OfBody"] == hashlib.md5(first["body"].encode()).hexdigest()
    assert len(first["receiptHandle"]) > 100
    attributes = first["attributes"]
    assert attributes["SentTimestamp"].isdigit() and attributes["SenderId"]
    assert int(attributes["SentTimestamp"]) <= int(attributes["ApproximateFirstReceiveTimestamp"]) <= time.time() * 1000

    assert second["body"] == "é ü 日本"
    assert second["md5OfBody"] == with_attributes["MD5OfMessageBody"]
    assert second["md5OfMessageAttributes"] == with_attributes["MD5OfMessageAttributes"]
    assert second["messageAttributes"] == {
        "kind": {"stringValue": "retrain", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "n": {"stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "raw": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    # Received and deleted in-process: the call log has the test's own calls only.
    logged = shared_emulator.control("calls", None, method="GET")[1]["calls"]
    assert {call["operation"] for call in logged if call["service"] == "sqs"} == {"CreateQueue", "SendMessage"}


# ---------------------------------------------------------------------------
# The control API


def test_mappings_are_listed_read_and_deleted(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-control")
    fake = fake_lambda(delay=1.0)
    mapping = create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint)
    path = f"{MAPPINGS}/{mapping['UUID']}"
    listed = shared_emulator.control(MAPPINGS, None, method="GET")[1]["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [mapping["UUID"]]
    assert get(shared_emulator, mapping) == listed[0]

    send(sqs, url, ["slow"])
    wait_until(lambda: fake.invocations, what="the invocation")
    started = time.monotonic()
    status, deleted = shared_emulator.control(path, None, method="DELETE")
    assert status == 200
    assert time.monotonic() - started > 0.5  # it waited for the invocation in flight
    assert deleted["State"] == "Deleted"
    assert (deleted["Stats"]["Invocations"], deleted["Stats"]["Deleted"]) == (1, 1)
    assert shared_emulator.control(path, None, method="GET")[0] == 404
    assert shared_emulator.control(path, None, method="DELETE")[0] == 404
    assert shared_emulator.control(MAPPINGS, None, method="GET")[1] == {"EventSourceMappings": []}
    send(sqs, url, ["not polled"])
    time.sleep(0.3)
    assert len(fake.invocations) == 1

    assert shared_emulator.control(MAPPINGS, {}, method="PUT")[0] == 405
    assert shared_emulator.control(f"{MAPPINGS}/nope/invocations", None, method="GET")[0] == 404
    assert shared_emulator.control("lambda/other", None, method="GET")[0] == 404


def test_the_last_50_invocations_are_kept(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-kept")
    fake = fake_lambda(lambda event: (200, {}, json.dumps({"seen": event["Records"][0]["body"]}).encode()))
    mapping = create(shared_emulator, EventSourceArn=arn, FunctionName=FUNCTION, Endpoint=fake.endpoint, BatchSize=1)
    send(sqs, url, [f"m{i}" for i in range(60)])
    drained(shared_emulator, sqs, url, mapping, 60)
    path = f"{MAPPINGS}/{mapping['UUID']}/invocations"
    invocations = shared_emulator.control(path, None, method="GET")[1]["Invocations"]
    assert len(invocations) == 50
    assert all(i["Outcome"] == "Success" and i["BatchSize"] == 1 for i in invocations)
    assert {i["Answer"]["seen"] for i in invocations} < {f"m{i}" for i in range(60)}
    assert shared_emulator.control(path, None, method="POST")[0] == 405


@pytest.mark.parametrize(
    "change, message",
    [
        ({"EventSourceArn": None}, "body: 'EventSourceArn' is a required property"),
        ({"EventSourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}, "EventSourceArn: 'arn:aws:sns:"),
        ({"EventSourceArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue"}, "EventSourceArn: no queue"),
        ({"FunctionName": "no/slash"}, "FunctionName: 'no/slash' does not match"),
        ({"Endpoint": "https://127.0.0.1:1"}, "Endpoint: 'https://127.0.0.1:1' does not match"),
        ({"BatchSize": 0}, "BatchSize: 0 is less than the minimum of 1"),
        ({"BatchSize": 10_001, "MaximumBatchingWindowInSeconds": 1}, "BatchSize: 10001 is greater than the maximum of 10000"),
        ({"BatchSize": 1.0}, "BatchSize: 1.0 is not of type 'integer'"),
        ({"BatchSize": 11}, "MaximumBatchingWindowInSeconds: must be at least 1 when BatchSize is more than 10"),
        ({"MaximumBatchingWindowInSeconds": 301}, "MaximumBatchingWindowInSeconds: 301 is greater than the maximum of 300"),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, "ScalingConfig.MaximumConcurrency: 1 is less than the minimum of 2"),
        ({"ScalingConfig": {"MaximumConcurrency": 1001}}, "ScalingConfig.MaximumConcurrency: 1001 is greater than"),
        ({"FunctionResponseTypes": ["Everything"]}, "FunctionResponseTypes[0]: 'Everything' is not one of"),
        ({"Enabled": False}, "body: Additional properties are not allowed ('Enabled' was unexpected)"),
        ({"Template": "t.yaml"}, "body: 'FunctionLogicalId' is a required property"),
    ],
)
def test_bad_bodies_are_refused(shared_emulator, sqs, change, message):
    _url, arn = queue(sqs, "poll-bad-bodies")
    body = {"EventSourceArn": arn, "FunctionName": FUNCTION, "Endpoint": "http://127.0.0.1:9"}
    body = {key: value for key, value in {**body, **change}.items() if value is not None}
    status, answer = shared_emulator.control(MAPPINGS, body)
    assert status == 400
    assert answer["Code"] == "BadRequest"
    assert answer["Message"].startswith(message), answer
    assert shared_emulator.control(MAPPINGS, None, method="GET")[1] == {"EventSourceMappings": []}


def test_fifo_queues_and_bad_json_are_refused(shared_emulator, sqs):
    sqs.create_queue(QueueName="poll.fifo", Attributes={"FifoQueue": "true"})
    body = {"EventSourceArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:poll.fifo", "FunctionName": FUNCTION, "Endpoint": "http://127.0.0.1:9"}
    status, answer = shared_emulator.control(MAPPINGS, body)
    assert status == 400
    assert answer["Message"] == (
        f"EventSourceArn: {body['EventSourceArn']} is a FIFO queue; the emulator's pollers take standard queues only"
    )
    assert shared_emulator.control(MAPPINGS, b"{not json")[0] == 400
    assert shared_emulator.control(MAPPINGS, b'{"BatchSize": NaN}')[1]["Message"] == "NaN is not a JSON number"


# ---------------------------------------------------------------------------
# The template form, and template_rules.event_source_mappings

TEMPLATE = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Parameters": {
        "Batch": {"Type": "Number", "Default": 100},
        "Concurrency": {"Type": "Number"},
        "Stage": {"Type": "String", "Default": "prod", "AllowedValues": ["prod", "dev"]},
    },
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Resources": {
        "Work": {"Type": "AWS::SQS::Queue"},
        "Worker": {
            "Type": "AWS::Serverless::Function",
            "Metadata": {"BuildProperties": {"Binary": "worker_bin"}},
            "Properties": {
                "CodeUri": ".",
                "Handler": "bootstrap",
                "Runtime": "provided.al2023",
                "Events": {
                    "FromWork": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["Work", "Arn"]},
                            "BatchSize": {"Ref": "Batch"},
                            "MaximumBatchingWindowInSeconds": {"Fn::If": ["IsProd", 2, 1]},
                            "ScalingConfig": {"MaximumConcurrency": {"Ref": "Concurrency"}},
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    },
                    "Hourly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}},
                },
            },
        },
        "Plain": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": ".",
                "Handler": "bootstrap",
                "Runtime": "provided.al2023",
                "Events": {
                    "FromArn": {"Type": "SQS", "Properties": {"Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:elsewhere"}},
                    "Disabled": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["Work", "Arn"]},
                            "Enabled": False,
                            "FilterCriteria": {"Filters": [{"Pattern": "{}"}]},
                        },
                    },
                },
            },
        },
        "DevOnly": {
            "Type": "AWS::Serverless::Function",
            "Condition": "IsDev",
            "Properties": {
                "CodeUri": ".",
                "Handler": "bootstrap",
                "Runtime": "provided.al2023",
                "Events": {"FromWork": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Work", "Arn"]}}}},
            },
        },
    },
}


def test_event_source_mappings_are_read_from_the_template():
    found = template_rules.event_source_mappings("", {"Concurrency": "3"}, template=TEMPLATE)
    assert list(found) == ["Worker", "Plain"]  # DevOnly's condition is false
    [worker] = found["Worker"]
    assert (worker.name, worker.function, worker.binary, worker.queue, worker.where) == (
        "WorkerFromWork",
        "Worker",
        "worker_bin",
        "Work",
        "Resources.Worker.Properties.Events.FromWork",
    )
    assert worker.settings == {
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 2,
        "ScalingConfig": {"MaximumConcurrency": 3},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    assert (worker.enabled, worker.filter_criteria) == (True, None)
    from_arn, disabled = found["Plain"]
    assert (from_arn.queue, from_arn.binary, from_arn.settings, from_arn.enabled) == (
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:elsewhere",
        None,
        {},
        True,
    )
    assert (disabled.enabled, disabled.filter_criteria) == (False, {"Filters": [{"Pattern": "{}"}]})

    found = template_rules.event_source_mappings("", {"Concurrency": "5", "Batch": "7", "Stage": "dev"}, template=TEMPLATE)
    assert found["Worker"][0].settings["BatchSize"] == 7
    assert found["Worker"][0].settings["MaximumBatchingWindowInSeconds"] == 1
    assert [m.name for m in found["DevOnly"]] == ["DevOnlyFromWork"]

    with pytest.raises(template_rules.TemplateError, match="Concurrency"):
        template_rules.event_source_mappings("", {}, template=TEMPLATE)  # no value, no default
    words = {**TEMPLATE, "Parameters": {**TEMPLATE["Parameters"], "Batch": {"Type": "String", "Default": "many"}}}
    with pytest.raises(template_rules.TemplateError, match="BatchSize: 'many' is not an integer"):
        template_rules.event_source_mappings("", {"Concurrency": "3"}, template=words)


def test_a_declared_event_source_mapping_is_read_like_sams():
    # template.yaml's form: the mapping as a resource of its own (so that the
    # function's role need not get SAM's AWSLambdaSQSQueueExecutionRole).
    template = copy.deepcopy(TEMPLATE)
    del template["Resources"]["Worker"]["Properties"]["Events"]["FromWork"]
    template["Resources"]["WorkerFromWork"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Work", "Arn"]},
            "FunctionName": {"Ref": "Worker"},
            "BatchSize": {"Ref": "Batch"},
            "MaximumBatchingWindowInSeconds": {"Fn::If": ["IsProd", 2, 1]},
            "ScalingConfig": {"MaximumConcurrency": {"Ref": "Concurrency"}},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    }
    template["Resources"]["DevWorkerFromWork"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Condition": "IsDev",
        "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Work", "Arn"]}, "FunctionName": {"Fn::GetAtt": ["Worker", "Arn"]}},
    }
    found = template_rules.event_source_mappings("", {"Concurrency": "3"}, template=template)
    [worker] = found["Worker"]  # the dev-only mapping's condition is false
    assert (worker.name, worker.function, worker.binary, worker.queue, worker.where) == (
        "WorkerFromWork",
        "Worker",
        "worker_bin",
        "Work",
        "Resources.WorkerFromWork",
    )
    assert worker.settings == {
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 2,
        "ScalingConfig": {"MaximumConcurrency": 3},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    found = template_rules.event_source_mappings("", {"Concurrency": "3", "Stage": "dev"}, template=template)
    assert [m.name for m in found["Worker"]] == ["WorkerFromWork", "DevWorkerFromWork"]
    assert found["Worker"][0].settings["MaximumBatchingWindowInSeconds"] == 1


def test_the_retraining_mapping_of_template_yaml_is_found():
    # The real template: retrain_model_on_new_data's one SQS event source mapping.
    found = template_rules.event_source_mappings(str(ROOT / "template.yaml"), {"EcrRepositoryName": "mlops-training"})
    [mapping] = found["RetrainModelOnNewDataFunction"]
    assert (mapping.binary, mapping.queue) == ("retrain_model_on_new_data", "RetrainQueue")
    assert mapping.settings["BatchSize"] == 10000
    assert mapping.settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_settings_can_come_from_a_template(shared_emulator, sqs, fake_lambda, tmp_path):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    url, arn = queue(sqs, "poll-template")
    fake = fake_lambda(failures())
    body = {
        "Template": str(path),
        "FunctionLogicalId": "Worker",
        "Parameters": {"Concurrency": 2, "Batch": "20"},
        "EventSourceArn": arn,
        "FunctionName": "worker_bin",
        "Endpoint": fake.endpoint,
    }
    mapping = create(shared_emulator, **body)
    assert {key: mapping[key] for key in ("BatchSize", "MaximumBatchingWindowInSeconds", "ScalingConfig", "FunctionResponseTypes")} == {
        "BatchSize": 20,
        "MaximumBatchingWindowInSeconds": 2,
        "ScalingConfig": {"MaximumConcurrency": 2},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    send(sqs, url, [f"m{i}" for i in range(25)])
    drained(shared_emulator, sqs, url, mapping, 25)
    assert sorted(fake.batch_sizes()) == [5, 20]

    text = tmp_path / "notes.yaml"
    text.write_text("just some words\n")

    for change, message in [
        ({"BatchSize": 5}, "body: Additional properties are not allowed ('BatchSize' was unexpected)"),
        ({"FunctionLogicalId": "Nobody"}, "FunctionLogicalId: Nobody must have exactly one SQS event source mapping (none)"),
        ({"FunctionLogicalId": "Plain"}, "FunctionLogicalId: Plain must have exactly one SQS event source mapping (Resources.Plain"),
        (
            {"Parameters": {"Concurrency": 2, "Batch": "20000"}},
            "Resources.Worker.Properties.Events.FromWork: BatchSize: 20000 is greater than the maximum of 10000",
        ),
        ({"Parameters": {"Concurrency": 2, "Stage": "test"}}, "Template: cloud-radar: "),
        ({"Parameters": {"Concurrency": True}}, "Parameters.Concurrency: True is not of type"),
        ({"Template": str(tmp_path / "missing.yaml")}, f"Template: {tmp_path / 'missing.yaml'} cannot be decoded"),
        ({"Template": str(text)}, f"Template: {text} is not a template: not a YAML or JSON object"),
    ]:
        status, answer = shared_emulator.control(MAPPINGS, {**body, **change})
        assert (status, answer["Code"]) == (400, "BadRequest"), (change, answer)
        assert answer["Message"].startswith(message), (change, answer)


# ---------------------------------------------------------------------------
# Scale


def test_ten_thousand_messages_are_delivered_once_each(shared_emulator, sqs, fake_lambda):
    url, arn = queue(sqs, "poll-scale", VisibilityTimeout="60")
    bodies = [json.dumps({"n": i, "key": f"data/train/{i:05d}.csv"}) for i in range(10_000)]
    started = time.monotonic()
    send(sqs, url, bodies)
    sent = time.monotonic() - started
    fake = fake_lambda(failures())
    mapping = create(
        shared_emulator,
        EventSourceArn=arn,
        FunctionName=FUNCTION,
        Endpoint=fake.endpoint,
        BatchSize=1000,
        MaximumBatchingWindowInSeconds=1,
        ScalingConfig={"MaximumConcurrency": 2},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    started = time.monotonic()
    wait_until(lambda: get(shared_emulator, mapping)["Stats"]["Deleted"] == 10_000, timeout=60, what="all deleted")
    polled = time.monotonic() - started
    records = fake.records()
    assert sorted(r["body"] for r in records) == sorted(bodies)
    assert max(fake.batch_sizes()) == 1000
    assert fake.max_in_flight <= 2
    assert left_in(sqs, url) == 0
    assert sent < 60 and polled < 30, (sent, polled)
