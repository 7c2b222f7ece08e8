"""EventBridge Scheduler in the emulator (scheduler_rules.py): the scheduler's
clock, schedules firing (one-time, moved, deleted after completion, disabled,
rate, time zones), delivery to SQS, to a dead-letter queue and to the fired
log, and the API answers stock moto got wrong.

One emulator for the module; each test uses schedules and queues of its own,
reads only its own schedules' entries of the fired log, and the clock is reset
to real time after each test. The clock is set a second or two before a
schedule's time, so that each test waits a few seconds at most.
"""

from __future__ import annotations

import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, error_of

ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mlops--reminder"
OFF = {"Mode": "OFF"}


@pytest.fixture(scope="module")
def scheduler(shared_emulator):
    return shared_emulator.client("scheduler")


@pytest.fixture(scope="module")
def sqs(shared_emulator):
    return shared_emulator.client("sqs")


@pytest.fixture(autouse=True)
def real_time(shared_emulator):
    yield
    assert shared_emulator.control("clock", {})[0] == 200


def queue(sqs, name: str) -> tuple[str, str]:
    """A new queue: (URL, ARN)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def messages(sqs, url: str) -> list[dict]:
    """What the queue holds now (received, then deleted)."""
    found = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found.extend(batch)


def set_clock(emulator, body: dict) -> dict:
    status, answer = emulator.control("clock", body)
    assert status == 200, answer
    return answer


def fired(emulator, name: str) -> list[dict]:
    status, answer = emulator.control("scheduler/fired", None, method="GET")
    assert status == 200
    return [entry for entry in answer["fired"] if entry["schedule"] == name]


def wait_fired(emulator, name: str, count: int, timeout: float = 5.0) -> list[dict]:
    """The schedule's entries once there are ``count`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = fired(emulator, name)
        if len(entries) >= count or time.monotonic() > deadline:
            assert len(entries) == count, entries
            return entries
        time.sleep(0.05)


def target(arn: str, **extra) -> dict:
    return {"Arn": arn, "RoleArn": ROLE, **extra}


def parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------
# The clock


def test_the_clock_is_real_time_until_set_offset_or_moved(shared_emulator):
    clock = shared_emulator.control("clock", None, method="GET")[1]
    assert clock["offset_seconds"] == 0
    assert abs((parse(clock["now"]) - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 2

    clock = set_clock(shared_emulator, {"offset_seconds": -3600})
    assert clock["offset_seconds"] == -3600
    real = datetime.datetime.now(datetime.timezone.utc)
    assert abs((parse(clock["now"]) - real).total_seconds() + 3600) < 2

    clock = set_clock(shared_emulator, {"now": "2030-01-01T00:00:00Z"})
    assert clock["now"].startswith("2030-01-01T00:00:0")
    assert clock["now"].endswith("Z")
    time.sleep(0.3)  # a fixed point that then advances with real time
    later = shared_emulator.control("clock", None, method="GET")[1]
    assert 0.2 < (parse(later["now"]) - parse("2030-01-01T00:00:00Z")).total_seconds() < 3
    assert later["offset_seconds"] == clock["offset_seconds"]

    clock = set_clock(shared_emulator, {"now": "2030-01-01T09:00:00+09:00"})  # the same instant
    assert clock["now"].startswith("2030-01-01T00:00:0")

    clock = set_clock(shared_emulator, {})
    assert clock["offset_seconds"] == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"offset_seconds": "60"}, "offset_seconds: '60' is not of type 'number'"),
        ({"offset_seconds": True}, "offset_seconds: True is not of type 'number'"),
        ({"offset_seconds": 315_576_001}, "offset_seconds: 315576001 is greater than the maximum"),
        ({"offset_seconds": -315_576_001}, "offset_seconds: -315576001 is less than the minimum"),
        ({"now": "tomorrow"}, "now: 'tomorrow' does not match"),
        ({"now": "2030-01-01T00:00:00"}, "now: '2030-01-01T00:00:00' does not match"),  # no zone
        ({"now": "2030-02-30T00:00:00Z"}, "now: '2030-02-30T00:00:00Z' is not a date and time"),
        ({"now": "2099-01-01T00:00:00Z"}, "now: '2099-01-01T00:00:00Z' is more than 10 years from the real time"),
        ({"now": "2030-01-01T00:00:00Z", "offset_seconds": 1}, "body: "),
        ({"later": 1}, "body: Additional properties are not allowed ('later' was unexpected)"),
        ([], "body: [] is not of type 'object'"),
        (b"{not json", "Expecting property name"),
        (b'{"offset_seconds": NaN}', "NaN is not a JSON number"),
    ],
)
def test_bad_clock_bodies_are_refused_and_change_nothing(shared_emulator, body, field):
    set_clock(shared_emulator, {"offset_seconds": 42})
    status, answer = shared_emulator.control("clock", body)
    assert status == 400
    assert answer["Code"] == "BadRequest"
    assert field in answer["Message"]
    assert shared_emulator.control("clock", None, method="GET")[1]["offset_seconds"] == 42


def test_other_methods_are_refused(shared_emulator):
    assert shared_emulator.control("clock", {}, method="PUT")[0] == 405
    assert shared_emulator.control("scheduler/fired", {}, method="POST")[0] == 405


# ---------------------------------------------------------------------------
# Firing


def test_a_one_time_schedule_fires_once_when_the_clock_passes_it(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-once")
    body = json.dumps({"reminder": "mlops--churn", "n": 1})
    schedule_arn = scheduler.create_schedule(
        Name="mlops--once",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(arn, Input=body),
        FlexibleTimeWindow=OFF,
    )["ScheduleArn"]
    time.sleep(0.5)
    assert fired(shared_emulator, "mlops--once") == []  # 2030 is not yet

    set_clock(shared_emulator, {"now": "2029-12-31T23:59:58.5Z"})
    time.sleep(0.5)
    assert fired(shared_emulator, "mlops--once") == []  # not before its time
    [entry] = wait_fired(shared_emulator, "mlops--once", 1)
    assert entry == {
        "schedule": "mlops--once",
        "group": "default",
        "arn": schedule_arn,
        "target": arn,
        "input": body,
        "at": entry["at"],
        "scheduled_for": "2030-01-01T00:00:00Z",
    }
    assert parse("2030-01-01T00:00:00Z") <= parse(entry["at"]) < parse("2030-01-01T00:00:02Z")
    [message] = messages(sqs, url)
    assert message["Body"] == body

    time.sleep(0.6)  # fired once, never again
    assert len(fired(shared_emulator, "mlops--once")) == 1
    assert messages(sqs, url) == []
    # ActionAfterCompletion NONE (the default): it stays.
    schedule = scheduler.get_schedule(Name="mlops--once")
    assert schedule["State"] == "ENABLED"
    assert schedule["ActionAfterCompletion"] == "NONE"


def test_a_schedule_moved_forward_fires_only_at_its_new_time(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-moved")
    definition = dict(Name="mlops--moved", Target=target(arn, Input='{"v": 1}'), FlexibleTimeWindow=OFF)
    scheduler.create_schedule(ScheduleExpression="at(2030-01-01T00:00:00)", **definition)
    scheduler.update_schedule(ScheduleExpression="at(2030-01-01T01:00:00)", **definition)

    set_clock(shared_emulator, {"now": "2030-01-01T00:00:01Z"})  # past the old time
    time.sleep(0.6)
    assert fired(shared_emulator, "mlops--moved") == []

    set_clock(shared_emulator, {"now": "2030-01-01T00:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--moved", 1)
    assert entry["scheduled_for"] == "2030-01-01T01:00:00Z"
    assert [m["Body"] for m in messages(sqs, url)] == ['{"v": 1}']

    # Updated again to the same time: it has fired, it does not fire again.
    scheduler.update_schedule(ScheduleExpression="at(2030-01-01T01:00:00)", **definition)
    time.sleep(0.6)
    assert len(fired(shared_emulator, "mlops--moved")) == 1

    # Moved to a later time: it fires again then.
    scheduler.update_schedule(ScheduleExpression="at(2030-01-01T02:00:00)", **definition)
    time.sleep(0.4)
    assert len(fired(shared_emulator, "mlops--moved")) == 1
    set_clock(shared_emulator, {"now": "2030-01-01T01:59:59.5Z"})
    entries = wait_fired(shared_emulator, "mlops--moved", 2)
    assert entries[1]["scheduled_for"] == "2030-01-01T02:00:00Z"
    assert len(messages(sqs, url)) == 1


def test_action_after_completion_delete_deletes_it_after_firing(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-delete")
    scheduler.create_schedule(
        Name="mlops--delete",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(arn),  # no Input: AWS sends {}
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
    )
    assert scheduler.get_schedule(Name="mlops--delete")["ActionAfterCompletion"] == "DELETE"
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--delete", 1)
    assert entry["input"] == "{}"
    assert [m["Body"] for m in messages(sqs, url)] == ["{}"]
    deadline = time.monotonic() + 2
    while True:
        try:
            scheduler.get_schedule(Name="mlops--delete")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline, "not deleted"
        time.sleep(0.05)
    # The name is free again; the new schedule is a new one and fires at its time.
    scheduler.create_schedule(
        Name="mlops--delete", ScheduleExpression="at(2030-01-01T00:00:00)", Target=target(arn), FlexibleTimeWindow=OFF
    )
    wait_fired(shared_emulator, "mlops--delete", 2)


def test_a_disabled_schedule_does_not_fire(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-disabled")
    definition = dict(
        Name="mlops--disabled",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(arn, Input='{"x": 1}'),
        FlexibleTimeWindow=OFF,
    )
    scheduler.create_schedule(State="DISABLED", **definition)
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    time.sleep(1.2)
    assert fired(shared_emulator, "mlops--disabled") == []
    assert messages(sqs, url) == []
    assert scheduler.get_schedule(Name="mlops--disabled")["State"] == "DISABLED"
    # Its time went by while it was disabled: enabling it later does not fire it.
    scheduler.update_schedule(State="ENABLED", **definition)
    time.sleep(0.6)
    assert fired(shared_emulator, "mlops--disabled") == []


def test_a_lambda_target_is_recorded_and_not_delivered(shared_emulator, scheduler, sqs):
    dlq_url, dlq_arn = queue(sqs, "sched-lambda-dlq")
    payload = '{"schedule": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>", "attempt": <aws.scheduler.attempt-number>}'
    schedule_arn = scheduler.create_schedule(
        Name="mlops--lambda",
        GroupName="default",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(LAMBDA, Input=payload, DeadLetterConfig={"Arn": dlq_arn}),
        FlexibleTimeWindow=OFF,
    )["ScheduleArn"]
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--lambda", 1)
    assert entry["target"] == LAMBDA
    assert "error" not in entry and "dead_letter" not in entry
    # The context attributes are replaced, as AWS does.
    assert json.loads(entry["input"]) == {
        "schedule": schedule_arn,
        "time": "2030-01-01T00:00:00Z",
        "attempt": 1,
    }
    assert messages(sqs, dlq_url) == []


def test_a_missing_sqs_target_goes_to_the_dead_letter_queue(shared_emulator, scheduler, sqs):
    dlq_url, dlq_arn = queue(sqs, "sched-dlq")
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:sched-no-such-queue"
    schedule_arn = scheduler.create_schedule(
        Name="mlops--missing",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(missing, Input='{"k": "v"}', DeadLetterConfig={"Arn": dlq_arn}),
        FlexibleTimeWindow=OFF,
    )["ScheduleArn"]
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--missing", 1)
    assert entry["error"] == "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."
    assert entry["dead_letter"] == dlq_arn
    assert "dead_letter_error" not in entry
    [message] = messages(sqs, dlq_url)
    assert message["Body"] == '{"k": "v"}'
    attributes = {key: value["StringValue"] for key, value in message["MessageAttributes"].items()}
    assert attributes == {
        "ERROR_CODE": "AWS.SimpleQueueService.NonExistentQueue",
        "ERROR_MESSAGE": "The specified queue does not exist.",
        "EXECUTION_ID": attributes["EXECUTION_ID"],
        "IS_PAYLOAD_TRUNCATED": "false",
        "RETRY_ATTEMPTS": "0",
        "SCHEDULED_TIME": "2030-01-01T00:00:00Z",
        "SCHEDULE_ARN": schedule_arn,
        "TARGET_ARN": missing,
    }

    # Without a dead-letter queue: recorded with the error, and nothing more.
    scheduler.create_schedule(
        Name="mlops--missing-no-dlq",
        ScheduleExpression="at(2030-01-01T00:00:01)",
        Target=target(missing),
        FlexibleTimeWindow=OFF,
    )
    [entry] = wait_fired(shared_emulator, "mlops--missing-no-dlq", 1)
    assert entry["error"].startswith("AWS.SimpleQueueService.NonExistentQueue")
    assert "dead_letter" not in entry


def test_a_fifo_queue_target_gets_the_message_group(shared_emulator, scheduler, sqs):
    url = sqs.create_queue(
        QueueName="sched.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:sched.fifo"
    scheduler.create_schedule(
        Name="mlops--fifo",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        Target=target(arn, Input='{"f": 1}', SqsParameters={"MessageGroupId": "churn"}),
        FlexibleTimeWindow=OFF,
    )
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--fifo", 1)
    assert "error" not in entry
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["MessageGroupId"])["Messages"]
    assert message["Body"] == '{"f": 1}'
    assert message["Attributes"]["MessageGroupId"] == "churn"


def test_a_one_time_schedule_is_read_in_its_time_zone(shared_emulator, scheduler, sqs):
    _url, arn = queue(sqs, "sched-zone")
    scheduler.create_schedule(
        Name="mlops--tokyo",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        ScheduleExpressionTimezone="Asia/Tokyo",  # UTC+9: 2029-12-31T15:00:00Z
        Target=target(arn),
        FlexibleTimeWindow=OFF,
    )
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59Z"})  # midnight UTC is past...
    [entry] = wait_fired(shared_emulator, "mlops--tokyo", 1)  # ...and so is Tokyo's midnight
    assert entry["scheduled_for"] == "2029-12-31T15:00:00Z"

    scheduler.create_schedule(
        Name="mlops--paris",
        ScheduleExpression="at(2030-07-01T12:00:00)",
        ScheduleExpressionTimezone="Europe/Paris",  # summer time, UTC+2
        Target=target(arn),
        FlexibleTimeWindow=OFF,
    )
    set_clock(shared_emulator, {"now": "2030-07-01T09:59:58.5Z"})
    time.sleep(0.4)
    assert fired(shared_emulator, "mlops--paris") == []
    set_clock(shared_emulator, {"now": "2030-07-01T10:00:00Z"})
    [entry] = wait_fired(shared_emulator, "mlops--paris", 1)
    assert entry["scheduled_for"] == "2030-07-01T10:00:00Z"


def test_a_rate_schedule_fires_at_once_then_every_period(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-rate")
    scheduler.create_schedule(
        Name="mlops--rate", ScheduleExpression="rate(1 minute)", Target=target(arn, Input='{"r": 1}'), FlexibleTimeWindow=OFF
    )
    [first] = wait_fired(shared_emulator, "mlops--rate", 1)  # no StartDate: at once
    time.sleep(0.5)
    assert len(fired(shared_emulator, "mlops--rate")) == 1

    set_clock(shared_emulator, {"offset_seconds": 61})
    second = wait_fired(shared_emulator, "mlops--rate", 2)[1]
    assert (parse(second["scheduled_for"]) - parse(first["scheduled_for"])).total_seconds() == 60

    set_clock(shared_emulator, {"offset_seconds": 301})  # a jump over four periods fires once
    third = wait_fired(shared_emulator, "mlops--rate", 3)[2]
    assert (parse(third["scheduled_for"]) - parse(first["scheduled_for"])).total_seconds() == 300
    time.sleep(0.5)
    assert len(fired(shared_emulator, "mlops--rate")) == 3
    assert [m["Body"] for m in messages(sqs, url)] == ['{"r": 1}'] * 3
    scheduler.delete_schedule(Name="mlops--rate")


def test_a_rate_schedule_keeps_to_its_start_and_end_dates(shared_emulator, scheduler, sqs):
    _url, arn = queue(sqs, "sched-rate-dates")
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    scheduler.create_schedule(
        Name="mlops--window",
        ScheduleExpression="rate(1 hour)",
        StartDate=start,
        EndDate=start + datetime.timedelta(hours=2),  # occurrences at 00:00 and 01:00
        Target=target(arn),
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
    )
    time.sleep(0.5)
    assert fired(shared_emulator, "mlops--window") == []  # before its StartDate
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    [entry] = wait_fired(shared_emulator, "mlops--window", 1)
    assert entry["scheduled_for"] == "2030-01-01T00:00:00Z"
    assert scheduler.get_schedule(Name="mlops--window")["State"] == "ENABLED"

    set_clock(shared_emulator, {"now": "2030-01-01T05:00:00Z"})  # past EndDate: the last one, then gone
    entries = wait_fired(shared_emulator, "mlops--window", 2)
    assert entries[1]["scheduled_for"] == "2030-01-01T01:00:00Z"
    time.sleep(0.5)
    assert len(fired(shared_emulator, "mlops--window")) == 2
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name="mlops--window")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")


def test_a_cron_schedule_is_stored_and_never_fires(shared_emulator, scheduler):
    scheduler.create_schedule(
        Name="mlops--cron", ScheduleExpression="cron(0 12 * * ? *)", Target=target(LAMBDA), FlexibleTimeWindow=OFF
    )
    assert scheduler.get_schedule(Name="mlops--cron")["ScheduleExpression"] == "cron(0 12 * * ? *)"
    set_clock(shared_emulator, {"offset_seconds": 86400 * 3})
    time.sleep(0.6)
    assert fired(shared_emulator, "mlops--cron") == []


def test_the_fired_log_can_be_cleared(shared_emulator, scheduler):
    scheduler.create_schedule(
        Name="mlops--cleared", ScheduleExpression="at(2020-01-01T00:00:00)", Target=target(LAMBDA), FlexibleTimeWindow=OFF
    )
    wait_fired(shared_emulator, "mlops--cleared", 1)  # a time already past fires at once
    assert shared_emulator.control("scheduler/fired", None, method="DELETE") == (200, {"fired": []})
    assert shared_emulator.control("scheduler/fired", None, method="GET") == (200, {"fired": []})


# ---------------------------------------------------------------------------
# The API


def test_get_schedule_answers_the_definition(scheduler):
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    arn = scheduler.create_schedule(
        Name="mlops--get",
        ScheduleExpression="at(2031-06-01T08:30:00)",
        ScheduleExpressionTimezone="Europe/Paris",
        Description="remind",
        Target=target(LAMBDA, Input='{"a": 1}', DeadLetterConfig={"Arn": dlq}),
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        ActionAfterCompletion="DELETE",
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/mlops--get"
    schedule = scheduler.get_schedule(Name="mlops--get")
    assert schedule["Arn"] == arn
    assert schedule["Name"] == "mlops--get"
    assert schedule["GroupName"] == "default"
    assert schedule["ScheduleExpression"] == "at(2031-06-01T08:30:00)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["State"] == "ENABLED"
    assert schedule["Description"] == "remind"
    assert schedule["Target"] == {
        "Arn": LAMBDA,
        "RoleArn": ROLE,
        "Input": '{"a": 1}',
        "DeadLetterConfig": {"Arn": dlq},
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert "KmsKeyArn" not in schedule and "StartDate" not in schedule


def test_update_schedule_replaces_the_whole_definition(scheduler):
    start = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
    scheduler.create_schedule(
        Name="mlops--replace",
        ScheduleExpression="rate(1 day)",
        ScheduleExpressionTimezone="Europe/Paris",
        StartDate=start,
        EndDate=start + datetime.timedelta(days=10),
        Description="before",
        State="DISABLED",
        Target=target(LAMBDA, Input='{"old": true}'),
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
        ActionAfterCompletion="DELETE",
    )
    assert scheduler.get_schedule(Name="mlops--replace")["StartDate"] == start
    scheduler.update_schedule(
        Name="mlops--replace",
        ScheduleExpression="at(2031-02-01T00:00:00)",
        Target=target(LAMBDA),
        FlexibleTimeWindow=OFF,
    )
    schedule = scheduler.get_schedule(Name="mlops--replace")
    assert schedule["ScheduleExpression"] == "at(2031-02-01T00:00:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["State"] == "ENABLED"
    assert schedule["ActionAfterCompletion"] == "NONE"
    assert schedule["FlexibleTimeWindow"] == OFF
    assert "Input" not in schedule["Target"]
    for gone in ("Description", "StartDate", "EndDate"):
        assert gone not in schedule, gone

    scheduler.update_schedule(
        Name="mlops--replace",
        ScheduleExpression="at(2031-02-01T00:00:00)",
        Target=target(LAMBDA),
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        State="DISABLED",
    )
    schedule = scheduler.get_schedule(Name="mlops--replace")
    assert (schedule["ActionAfterCompletion"], schedule["State"]) == ("DELETE", "DISABLED")


def test_conflict_and_not_found_answers(scheduler):
    definition = dict(ScheduleExpression="at(2031-01-01T00:00:00)", Target=target(LAMBDA), FlexibleTimeWindow=OFF)
    scheduler.create_schedule(Name="mlops--exists", **definition)
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(Name="mlops--exists", **{**definition, "Description": "second"})
    assert error_of(excinfo) == (409, "ConflictException", "Schedule mlops--exists already exists.")
    assert "Description" not in scheduler.get_schedule(Name="mlops--exists")  # left as it was

    for call in (
        lambda: scheduler.update_schedule(Name="mlops--nothing", **definition),
        lambda: scheduler.delete_schedule(Name="mlops--nothing"),
        lambda: scheduler.get_schedule(Name="mlops--nothing"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (404, "ResourceNotFoundException", "Schedule mlops--nothing does not exist.")

    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(Name="mlops--no-group", GroupName="no-such-group", **definition)
    assert error_of(excinfo) == (404, "ResourceNotFoundException", "Schedule group no-such-group does not exist.")

    scheduler.delete_schedule(Name="mlops--exists")
    scheduler.create_schedule(Name="mlops--exists", **definition)  # free again

    # Schedule groups
    scheduler.create_schedule_group(Name="mlops-group")
    scheduler.create_schedule(Name="in-group", GroupName="mlops-group", **definition)
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule_group(Name="mlops-group")
    assert error_of(excinfo) == (409, "ConflictException", "Schedule group mlops-group already exists.")
    assert scheduler.get_schedule(Name="in-group", GroupName="mlops-group")["GroupName"] == "mlops-group"
    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule_group(Name="no-such-group")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")


def test_client_token_makes_create_and_delete_idempotent(scheduler):
    definition = dict(
        Name="mlops--token", ScheduleExpression="at(2031-01-01T00:00:00)", Target=target(LAMBDA), FlexibleTimeWindow=OFF
    )
    arn = scheduler.create_schedule(ClientToken="token-1", **definition)["ScheduleArn"]
    # A retry (the answer was lost): the same ARN, no ConflictException.
    assert scheduler.create_schedule(ClientToken="token-1", **definition)["ScheduleArn"] == arn
    # Another token: a new request, and the name is taken.
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(ClientToken="token-2", **definition)
    assert error_of(excinfo)[:2] == (409, "ConflictException")
    # The same token with other parameters.
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(ClientToken="token-1", **{**definition, "Description": "other"})
    assert error_of(excinfo) == (
        409,
        "ConflictException",
        "ClientToken token-1 was already used with different parameters.",
    )

    scheduler.delete_schedule(Name="mlops--token", ClientToken="token-3")
    scheduler.delete_schedule(Name="mlops--token", ClientToken="token-3")  # a retry: 200 again
    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule(Name="mlops--token", ClientToken="token-4")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ScheduleExpression": "at(2031-01-01 00:00:00)"}, "Invalid Schedule Expression at(2031-01-01 00:00:00)."),
        ({"ScheduleExpression": "at(2031-02-30T00:00:00)"}, "Invalid Schedule Expression at(2031-02-30T00:00:00)."),
        ({"ScheduleExpression": "rate(0 minutes)"}, "Invalid Schedule Expression rate(0 minutes)."),
        ({"ScheduleExpression": "rate(5 weeks)"}, "Invalid Schedule Expression rate(5 weeks)."),
        ({"ScheduleExpression": "cron(0 12 * * ?)"}, "Invalid Schedule Expression cron(0 12 * * ?)."),
        ({"ScheduleExpressionTimezone": "Mars/Olympus"}, "Invalid ScheduleExpressionTimezone Mars/Olympus."),
        (
            {"Target": None},
            "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null",
        ),
        (
            {"Target": {"Arn": LAMBDA}},
            "1 validation error detected: Value null at 'target.roleArn' failed to satisfy constraint: Member must not be null",
        ),
        (
            {"FlexibleTimeWindow": None},
            "1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null",
        ),
    ],
)
def test_a_definition_the_scheduler_cannot_run_is_refused(shared_emulator, change, message):
    scheduler = shared_emulator.client("scheduler", validate=False)
    definition = {
        "Name": "mlops--invalid",
        "ScheduleExpression": "at(2031-01-01T00:00:00)",
        "Target": target(LAMBDA),
        "FlexibleTimeWindow": OFF,
    }
    definition.update(change)
    definition = {key: value for key, value in definition.items() if value is not None}
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(**definition)
    assert error_of(excinfo) == (400, "ValidationException", message)
    with pytest.raises(ClientError):
        scheduler.get_schedule(Name="mlops--invalid")  # nothing was created

    with pytest.raises(ClientError) as excinfo:
        scheduler.update_schedule(**{**definition, "Name": "mlops--valid-update"})
    assert error_of(excinfo) == (400, "ValidationException", message)  # checked before the lookup


def test_list_schedules_pages_through_a_groups_schedules_by_name(shared_emulator, scheduler):
    scheduler.create_schedule_group(Name="mlops-list")
    definition = dict(ScheduleExpression="at(2031-01-01T00:00:00)", Target=target(LAMBDA), FlexibleTimeWindow=OFF)
    names = [f"retrain--{i:03d}" for i in range(120)]
    for name in reversed(names):  # created in the reverse order of their names
        scheduler.create_schedule(Name=name, GroupName="mlops-list", **definition)
    scheduler.create_schedule(Name="other--000", GroupName="mlops-list", **definition)  # another prefix
    scheduler.create_schedule(Name="retrain--000", **definition)  # the default group
    scheduler.create_schedule(Name="retrain--disabled", GroupName="mlops-list", State="DISABLED", **definition)

    request = dict(GroupName="mlops-list", NamePrefix="retrain--", State="ENABLED")
    pages, token = [], None
    while True:
        page = scheduler.list_schedules(**request, MaxResults=50, **({"NextToken": token} if token else {}))
        pages.append(page["Schedules"])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(page) for page in pages] == [50, 50, 20]
    listed = [summary for page in pages for summary in page]
    assert [s["Name"] for s in listed] == names
    summary = listed[0]
    assert summary["Arn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/mlops-list/retrain--000"
    assert (summary["GroupName"], summary["State"], summary["Target"]) == ("mlops-list", "ENABLED", {"Arn": LAMBDA})
    assert "CreationDate" in summary and "LastModificationDate" in summary
    # The default page is 50; the SDK's paginator follows the tokens; no state: both.
    assert len(scheduler.list_schedules(GroupName="mlops-list", NamePrefix="retrain--")["Schedules"]) == 50
    paginator = scheduler.get_paginator("list_schedules")
    every = [s["Name"] for page in paginator.paginate(GroupName="mlops-list", NamePrefix="retrain--") for s in page["Schedules"]]
    assert every == [*names, "retrain--disabled"]
    assert [s["Name"] for s in scheduler.list_schedules(NamePrefix="other--")["Schedules"]] == ["other--000"]
    assert scheduler.list_schedules(GroupName="no-such-group")["Schedules"] == []

    # Schedules deleted between two pages (the last one answered among them) do not break the paging.
    first = scheduler.list_schedules(**request, MaxResults=10)
    for name in ("retrain--009", "retrain--010"):
        scheduler.delete_schedule(Name=name, GroupName="mlops-list")
    second = scheduler.list_schedules(**request, MaxResults=10, NextToken=first["NextToken"])
    assert [s["Name"] for s in second["Schedules"]] == names[11:21]

    # A missing schedule of the group, an existing name in it.
    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule(Name="retrain--010", GroupName="mlops-list")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule(Name="retrain--011", GroupName="mlops-list", **definition)
    assert error_of(excinfo) == (409, "ConflictException", "Schedule retrain--011 already exists.")


@pytest.mark.parametrize(
    "request_, message",
    [
        (
            {"MaxResults": 0},
            "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"MaxResults": 101},
            "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 100",
        ),
        ({"NextToken": "not-a-token"}, "Invalid NextToken."),
    ],
)
def test_list_schedules_refuses_a_bad_page_request(shared_emulator, request_, message):
    scheduler = shared_emulator.client("scheduler", validate=False)
    with pytest.raises(ClientError) as excinfo:
        scheduler.list_schedules(**request_)
    assert error_of(excinfo) == (400, "ValidationException", message)


def test_a_past_one_time_schedule_fires_at_the_next_look_once_and_stays(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-past")
    body = '{"bucket": "mlops-data",\n "keys": ["data/train/a b.csv", "é/日本.csv"],  "window": "2030-01-01T00:00:00Z"}'
    assert shared_emulator.control("calls", None, method="DELETE")[0] == 200
    created = time.monotonic()
    scheduler.create_schedule(
        Name="mlops--past",
        GroupName="default",
        ScheduleExpression="at(2020-01-01T00:00:00)",
        Target=target(arn, Input=body),
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="NONE",
    )
    [entry] = wait_fired(shared_emulator, "mlops--past", 1)
    assert time.monotonic() - created < 1.0  # the next look, every 0.2 s
    assert entry["scheduled_for"] == "2020-01-01T00:00:00Z"
    [message] = messages(sqs, url)
    assert message["Body"] == body  # the Input, exactly
    # Delivered in-process: the queue's SendMessage is not an HTTP call.
    logged = shared_emulator.control("calls", None, method="GET")[1]["calls"]
    assert ("sqs", "SendMessage") not in {(call["service"], call["operation"]) for call in logged}
    assert ("scheduler", "CreateSchedule") in {(call["service"], call["operation"]) for call in logged}

    time.sleep(0.6)  # ActionAfterCompletion NONE: it stays, and does not fire again
    assert len(fired(shared_emulator, "mlops--past")) == 1
    assert messages(sqs, url) == []
    schedule = scheduler.get_schedule(Name="mlops--past")
    assert (schedule["ActionAfterCompletion"], schedule["State"]) == ("NONE", "ENABLED")


def test_hundreds_of_schedules_due_at_once_are_all_delivered(shared_emulator, scheduler, sqs):
    url, arn = queue(sqs, "sched-many")
    scheduler.create_schedule_group(Name="mlops-many")
    count = 300
    for i in range(count):
        scheduler.create_schedule(
            Name=f"window--{i:03d}",
            GroupName="mlops-many",
            ScheduleExpression="at(2030-01-01T00:00:00)",
            Target=target(arn, Input=json.dumps({"window": i})),
            FlexibleTimeWindow=OFF,
            ActionAfterCompletion="NONE",
        )
    set_clock(shared_emulator, {"now": "2029-12-31T23:59:59.5Z"})
    received: list[str] = []
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        received += [m["Body"] for m in messages(sqs, url)]
    assert sorted(received) == sorted(json.dumps({"window": i}) for i in range(count))
    time.sleep(0.5)
    assert messages(sqs, url) == []  # each once
    status, answer = shared_emulator.control("scheduler/fired", None, method="GET")
    assert len([e for e in answer["fired"] if e["group"] == "mlops-many"]) == count
