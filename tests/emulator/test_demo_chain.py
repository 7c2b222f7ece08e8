"""`make demo`'s chain as a test, and what it relies on.

* scripts/template_rules.py reads template.yaml's EventBridge rules (SAM's
  transform, then cloud-radar's rendering): every function's rule is found,
  parameters and conditions resolved as a deployment with those values would
  have them, and a malformed pattern is refused (no emulator).
* The emulator's EventBridge (moto 5.2.5) matches the operators the
  template's patterns use as EventBridge does: cases from EventBridge's
  documentation, put through a rule and an SQS queue. An operator the template
  starts using without cases here fails `test_template_uses_only_verified_operators`.
* scripts/demo_aws.py's retraining side: the data set's parts use every row
  once (the new data is five files); `sqs-batch` makes what RetrainQueue's
  event source mapping delivers (events/sqs-s3-object-created.json's shape)
  from what the rule delivered; `quiet-period` fires a retraining schedule on
  the emulator's scheduler clock, takes its message off the queue standing in
  for RetrainQueue, and refuses anything else arriving.
* scripts/demo.sh runs the whole chain (each function its real binary under
  cargo lambda watch, every event routed by the template's rules) and each
  stage's answer is checked; and a template with a wrong pattern (too narrow,
  too broad) fails the demo at that stage.

The demo builds the six functions' debug binaries first (minutes on a cold
target/, seconds after) and then takes about 80 s, up to a minute more when
the late data waits for S3's clock (demo_aws.py `past-burst`); the two
broken-template runs stop at the first stage.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree

import demo_aws  # noqa: E402  (scripts/, put on the path above)
import template_rules  # noqa: E402

TEMPLATE = ROOT / "template.yaml"
DEMO_PARAMETERS = {
    "PipelineName": "mlops",
    "EcrRepositoryName": "mlops-training",
    "DataBucketName": "mlops-demo-data",
    "DataPrefix": "data/train/",
    "DataKeySuffix": ".csv",
    "AutoscalingMinInstances": "1",
    "AutoscalingMaxInstances": "4",
    "AutoscalingTargetInvocations": "100",
}
# The functions a rule targets (retrain_model_on_new_data's rule targets its
# queue, RetrainQueue, whose event source mapping invokes it).
FUNCTIONS = [
    "trigger_model_training",
    "evaluate_model_function",
    "register_model_in_registry",
    "deploy_sagemaker_model",
]


@pytest.fixture(scope="module")
def template() -> dict:
    return template_rules.decode(str(TEMPLATE))


def rules_by_name(template: dict, **parameters: str) -> dict[str, template_rules.Rule]:
    rules = template_rules.load(str(TEMPLATE), {**DEMO_PARAMETERS, **parameters}, template=template)
    return {rule.name: rule for rule in rules}


# --- template_rules ---------------------------------------------------------------


def test_every_function_has_its_rule_with_parameters_resolved(template):
    rules = rules_by_name(template)
    targets = sorted(f for rule in rules.values() for f in rule.functions)
    # deploy_sagemaker_model twice: model package decisions and endpoint state changes
    # (its third trigger, the scheduled check, is a schedule, not a pattern).
    assert targets == sorted(FUNCTIONS + ["deploy_sagemaker_model"])
    # New data goes to RetrainQueue (the demo's label for it: the rule's
    # deliveries are checked against it), and the queue to the function.
    [data_target] = rules["mlops-new-training-data"].targets
    assert (data_target.resource, data_target.kind, data_target.function) == ("RetrainQueue", "AWS::SQS::Queue", None)
    assert demo_aws.target_label(data_target.__dict__) == "SQS queue RetrainQueue"
    [mapping] = template_rules.event_source_mappings(str(TEMPLATE), DEMO_PARAMETERS, template=template)[
        "RetrainModelOnNewDataFunction"
    ]
    assert (mapping.queue, mapping.binary) == ("RetrainQueue", "retrain_model_on_new_data")
    push = rules["mlops-ecr-image-push"]
    assert push.bus == "default"
    assert push.pattern["source"] == ["aws.ecr"]
    assert push.pattern["detail"]["repository-name"] == ["mlops-training"]
    assert rules["mlops-training-job-finished"].pattern["detail"]["TrainingJobName"] == [{"prefix": "mlops--"}]
    assert rules["mlops-model-evaluation-passed"].pattern["detail"] == {"passed": [True], "pipeline": ["mlops"]}
    # Every value is plain JSON: nothing of the template's intrinsics is left.
    for rule in rules.values():
        assert "Fn::" not in json.dumps(rule.pattern) and '"Ref"' not in json.dumps(rule.pattern)
        assert rule.state == "ENABLED"
    # A completed processing job (preprocessing) goes to RetrainQueue too.
    processed = rules["mlops-processing-job-completed"]
    [processed_target] = processed.targets
    assert (processed_target.resource, processed_target.kind) == ("RetrainQueue", "AWS::SQS::Queue")
    assert processed.pattern["detail"] == {"ProcessingJobStatus": ["Completed"], "ProcessingJobName": [{"prefix": "mlops--"}]}
    assert rules["mlops-processing-job-failed"].pattern["detail"]["ProcessingJobStatus"] == ["Failed", "Stopped"]
    # The alert rules target the SNS topic, not a function.
    to_queue = (rules["mlops-new-training-data"], processed)
    alerts = [rule for rule in rules.values() if not rule.functions and rule not in to_queue]
    assert alerts and all(t.kind == "AWS::SNS::Topic" and t.input_transformer for r in alerts for t in r.targets)


def test_if_takes_the_branch_the_parameters_select(template):
    data = rules_by_name(template)["mlops-new-training-data"].pattern["detail"]
    assert data == {"bucket": {"name": ["mlops-demo-data"]}, "object": {"key": [{"wildcard": "data/train/*.csv"}]}}
    data = rules_by_name(template, DataKeySuffix="")["mlops-new-training-data"].pattern["detail"]
    assert data["object"] == {"key": [{"prefix": "data/train/"}]}
    decided = rules_by_name(template)["mlops-model-package-decided"].pattern["detail"]
    assert decided["ModelPackageGroupName"] == ["mlops--models"]
    decided = rules_by_name(template, ModelPackageGroupName="churn-models")["mlops-model-package-decided"]
    assert decided.pattern["detail"]["ModelPackageGroupName"] == ["churn-models"]
    # The endpoint rule: production, and staging only when it is on.
    changed = rules_by_name(template)["mlops-endpoint-state-changed"].pattern["detail"]
    assert changed["EndpointName"] == ["mlops--endpoint"]
    assert "IN_SERVICE" in changed["EndpointStatus"]
    changed = rules_by_name(template, StagingEnabled="true", SmokeTestRequestsS3Uri="s3://mlops-demo-data/smoke/requests.jsonl")[
        "mlops-endpoint-state-changed"
    ].pattern["detail"]
    assert changed["EndpointName"] == ["mlops--endpoint", "mlops--staging-endpoint"]
    # A resource's Condition that does not hold: no rule (no rule of the
    # template has one today; one is given one here).
    conditional = copy.deepcopy(template)
    conditional["Resources"]["DeploymentFailedAlert"]["Condition"] = "HasAutoscaling"
    rules = rules_by_name(
        conditional, AutoscalingMinInstances="", AutoscalingMaxInstances="", AutoscalingTargetInvocations=""
    )
    assert "mlops-model-deployment-failed" not in rules
    assert "mlops-model-deployment-failed" in rules_by_name(conditional)
    # The stack's own data bucket: a resource the demo cannot name by itself.
    with pytest.raises(template_rules.TemplateError, match="DataBucket"):
        rules_by_name(template, DataBucketName="")
    rules = template_rules.load(
        str(TEMPLATE), {**DEMO_PARAMETERS, "DataBucketName": ""}, {"DataBucket": "stack-data"}, template=template
    )
    assert {r.name: r for r in rules}["mlops-new-training-data"].pattern["detail"]["bucket"] == {"name": ["stack-data"]}


def test_parameters_must_exist_be_given_and_be_allowed(template):
    with pytest.raises(template_rules.TemplateError, match="NoSuchParameter"):
        rules_by_name(template, NoSuchParameter="x")
    parameters = {k: v for k, v in DEMO_PARAMETERS.items() if k != "EcrRepositoryName"}
    with pytest.raises(template_rules.TemplateError, match='parameter "EcrRepositoryName" that does not have a default'):
        template_rules.load(str(TEMPLATE), parameters, template=template)
    # CloudFormation refuses a value its AllowedPattern does not match.
    with pytest.raises(template_rules.TemplateError, match="AllowedPattern for parameter PipelineName"):
        rules_by_name(template, PipelineName="Not_A_Name")


def test_intrinsic_functions_and_pseudo_parameters():
    # A plain CloudFormation rule, rendered the same way: the forms the template may use.
    template = {
        "Parameters": {"P": {"Type": "String", "Default": "p"}, "Items": {"Type": "String", "Default": "a,p,c"}},
        "Conditions": {"SecondIsP": {"Fn::Equals": [{"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Items"}]}]}, {"Ref": "P"}]}},
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": {"Fn::Sub": "${P}-${AWS::Region}-${AWS::AccountId}"},
                    "EventPattern": {
                        "source": [{"Fn::Join": ["-", ["a", {"Ref": "P"}]]}],
                        "detail": {
                            "x": {"Fn::If": ["SecondIsP", ["yes"], ["no"]]},
                            "y": [{"Ref": "AWS::NoValue"}, "kept"],
                        },
                    },
                    "Targets": [
                        {
                            "Id": "t",
                            "Arn": {"Ref": "Topic"},
                            "InputTransformer": {"InputTemplate": {"Fn::Sub": ["${X} ${!Literal}", {"X": {"Ref": "P"}}]}},
                        }
                    ],
                },
            },
        },
    }
    [rule] = template_rules.load("", {}, template=template)
    assert rule.name == "p-us-east-1-123456789012"
    assert rule.pattern == {"source": ["a-p"], "detail": {"x": ["yes"], "y": ["kept"]}}
    [target] = rule.targets
    assert (target.resource, target.kind, target.function) == ("Topic", "AWS::SNS::Topic", None)
    assert target.input_transformer == {"InputTemplate": "p ${Literal}"}
    [rule] = template_rules.load("", {"Items": "a,b"}, template=template)
    assert rule.pattern["detail"]["x"] == ["no"]


@pytest.mark.parametrize(
    "pattern, problem",
    [
        ({"source": "aws.ecr"}, "must be an object or an array"),
        ({"source": []}, "empty arrays are not allowed"),
        ({"detail": {"key": [{"prefixx": "data/"}]}}, "unknown operator 'prefixx'"),
        ({"detail": {"key": [{"prefix": "a", "suffix": "b"}]}}, "neither a value nor one operator"),
        ({"detail": {"key": [{"prefix": ["a"]}]}}, "prefix takes a string"),
        ({"detail": {"key": [{"exists": "yes"}]}}, "exists takes true or false"),
        ({"$or": [{"source": ["a"]}]}, "at least two patterns"),
    ],
)
def test_malformed_patterns_are_refused(pattern, problem):
    # moto accepts all of these (an unknown operator even matches every value).
    with pytest.raises(template_rules.TemplateError, match=problem):
        template_rules.check_pattern(pattern, "here")


def test_template_uses_only_verified_operators(template):
    used = template_rules.operators_in_template(template)
    assert used >= {"exact", "prefix", "wildcard"}
    assert used <= template_rules.EMULATOR_VERIFIED, (
        f"template.yaml uses {sorted(used - template_rules.EMULATOR_VERIFIED)}: add EventBridge's cases for "
        "it to OPERATOR_CASES below (or, where moto matches it differently, say so in the demo and test the "
        "rule another way), then to template_rules.EMULATOR_VERIFIED"
    )
    assert set(OPERATOR_CASES) == template_rules.EMULATOR_VERIFIED


# --- the emulator's EventBridge matches as EventBridge does -------------------------

# operator: (the "detail" part of a rule's pattern, [(an event's detail, delivered?)]),
# from "Content filtering in Amazon EventBridge event patterns" (EventBridge user guide).
OPERATOR_CASES: dict[str, tuple[dict, list[tuple[dict, bool]]]] = {
    "exact": (
        {"value": ["mlops", True]},
        [
            ({"value": "mlops"}, True),
            ({"value": True}, True),
            ({"value": "mlops2"}, False),
            ({"value": "MLOPS"}, False),
            ({"value": False}, False),
            ({"value": "true"}, False),  # a string is not a boolean
            ({"value": ["other", "mlops"]}, True),  # an array in the event: any element
            ({}, False),
        ],
    ),
    "prefix": (
        {"value": [{"prefix": "mlops--"}]},
        [
            ({"value": "mlops--job-1"}, True),
            ({"value": "mlops-job"}, False),
            ({"value": "other--mlops--"}, False),
            ({"value": "MLOPS--x"}, False),
            ({}, False),
        ],
    ),
    "suffix": (
        {"value": [{"suffix": ".csv"}]},
        [({"value": "data/a.csv"}, True), ({"value": "data/a.csv.gz"}, False), ({"value": "data/a.CSV"}, False), ({}, False)],
    ),
    "wildcard": (
        {"value": [{"wildcard": "data/train/*.csv"}]},
        [
            ({"value": "data/train/a.csv"}, True),
            ({"value": "data/train/sub/a.csv"}, True),  # * crosses "/"
            ({"value": "data/train/.csv"}, True),  # * matches nothing too
            ({"value": "data/train/notes.txt"}, False),
            ({"value": "data/train/a.csv.bak"}, False),
            ({"value": "models/data/train/a.csv"}, False),
            ({}, False),
        ],
    ),
    "anything-but": (
        {"value": [{"anything-but": ["Rejected", "PendingManualApproval"]}]},
        [({"value": "Approved"}, True), ({"value": "Rejected"}, False), ({"value": "PendingManualApproval"}, False), ({}, False)],
    ),
    "exists": (
        {"value": [{"exists": True}], "other": [{"exists": False}]},
        [({"value": "x"}, True), ({"value": "x", "other": "y"}, False), ({}, False)],
    ),
    "equals-ignore-case": (
        {"value": [{"equals-ignore-case": "Approved"}]},
        [({"value": "APPROVED"}, True), ({"value": "approved"}, True), ({"value": "Approve"}, False), ({}, False)],
    ),
    "$or": (
        {"$or": [{"value": ["a"]}, {"other": ["b"]}]},
        [({"value": "a"}, True), ({"value": "c", "other": "b"}, True), ({"value": "c"}, False)],
    ),
}


@pytest.fixture(scope="module")
def bus(shared_emulator):
    events, sqs = shared_emulator.client("events"), shared_emulator.client("sqs")
    events.create_event_bus(Name="operator-cases")
    return events, sqs


def deliveries(events, sqs, name: str, detail_pattern: dict, details: list[dict]) -> list[bool]:
    """Which of the events (their detail objects) a rule with this detail pattern delivers."""
    url = sqs.create_queue(QueueName=f"op-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["demo.operators"], "detail-type": [name]}
    if "$or" in detail_pattern:
        pattern["$or"] = [{"detail": alternative} for alternative in detail_pattern["$or"]]
    else:
        pattern["detail"] = detail_pattern
    events.put_rule(Name=f"op-{name}", EventBusName="operator-cases", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"op-{name}", EventBusName="operator-cases", Targets=[{"Id": "q", "Arn": arn}])
    ids = []
    for start in range(0, len(details), 10):
        answer = events.put_events(
            Entries=[
                {"EventBusName": "operator-cases", "Source": "demo.operators", "DetailType": name, "Detail": json.dumps(d)}
                for d in details[start : start + 10]
            ]
        )
        assert answer["FailedEntryCount"] == 0
        ids += [entry["EventId"] for entry in answer["Entries"]]
    got = set()
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            got.add(json.loads(message["Body"])["id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [event_id in got for event_id in ids]


@pytest.mark.parametrize("operator", sorted(OPERATOR_CASES))
def test_emulator_matches_operator_as_eventbridge_does(bus, operator):
    detail_pattern, cases = OPERATOR_CASES[operator]
    got = deliveries(*bus, operator.strip("$"), detail_pattern, [detail for detail, _ in cases])
    assert list(zip([detail for detail, _ in cases], got)) == cases


def test_numeric_is_not_verified_moto_matches_booleans(bus):
    # EventBridge's numeric matching takes JSON numbers only; moto 5.2.5 also
    # lets true (Python's 1) through. Hence "numeric" is not in EMULATOR_VERIFIED.
    got = deliveries(*bus, "numeric", {"value": [{"numeric": [">", 0, "<=", 5]}]}, [{"value": 3}, {"value": 7}, {"value": True}])
    assert got == [True, False, True]
    assert "numeric" not in template_rules.EMULATOR_VERIFIED


# --- retraining: the new data, RetrainQueue's batches, the quiet period ------------


def test_the_parts_use_every_row_of_the_data_set_once():
    rows = demo_aws.DATASET.read_text().splitlines()
    spans = sorted(demo_aws.PARTS.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(rows) == 442
    assert all(end == next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    # The new data: a data set of five files of 10 rows.
    parts = [f"diabetes-0003-{n}.csv" for n in range(1, 6)]
    assert [len(demo_aws.dataset_part(part).splitlines()) for part in parts] == [10] * 5
    assert b"".join(demo_aws.dataset_part(f) for f in demo_aws.PARTS) == ("\n".join(rows) + "\n").encode()


RETRAIN_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:demo-rule-mlops-new-training-data"


def state_file(tmp_path: Path, **queues: tuple[str, str]) -> Path:
    """A `rules` state file: per rule name, (queue URL, queue ARN); the rule
    mlops-new-training-data targets RetrainQueue, the others a function."""
    rules = []
    for name, (url, arn) in queues.items():
        target = (
            {"id": "RetrainQueue", "resource": "RetrainQueue", "function": None, "kind": "AWS::SQS::Queue"}
            if name == "mlops-new-training-data"
            else {"id": "t", "resource": "F", "function": "evaluate_model_function", "kind": "AWS::Serverless::Function"}
        )
        rules.append(
            {"name": name, "where": f"Resources.{name}", "pattern": {}, "queue_url": url, "queue_arn": arn, "targets": [target]}
        )
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": rules, "template": "template.yaml"}))
    return path


def test_sqs_batch_is_what_the_event_source_mapping_delivers(tmp_path, capsys):
    state = state_file(tmp_path, **{"mlops-new-training-data": ("http://queue", RETRAIN_QUEUE_ARN)})
    sample = json.loads((ROOT / "events" / "sqs-s3-object-created.json").read_text())["Records"][0]
    events = []
    for n in (1, 2):
        event = json.loads(sample["body"])
        event["detail"]["object"]["key"] = f"data/train/diabetes-0003-{n}.csv"
        (tmp_path / f"{n}.json").write_text(json.dumps(event, indent=2))
        events.append(event)
    out = tmp_path / "batch.json"
    assert demo_aws.main(["sqs-batch", str(state), "SQS queue RetrainQueue", str(out), str(tmp_path / "1.json"), str(tmp_path / "2.json")]) == 0
    records = json.loads(out.read_text())["Records"]
    assert len(records) == 2 and records[0]["messageId"] != records[1]["messageId"]
    for record, event in zip(records, events):
        assert list(record) == list(sample)  # the fields Lambda's SQS event has, in its order
        assert list(record["attributes"]) == list(sample["attributes"])
        assert json.loads(record["body"]) == event and ": " not in record["body"]  # EventBridge's compact JSON
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", RETRAIN_QUEUE_ARN, "us-east-1")
    assert "one batch of 2 message(s) from demo-rule-mlops-new-training-data" in capsys.readouterr().out
    # Only a target some rule has.
    assert demo_aws.main(["sqs-batch", str(state), "SQS queue OtherQueue", str(out), str(tmp_path / "1.json")]) == 1
    assert "no rule of template.yaml targets SQS queue OtherQueue" in capsys.readouterr().err


def test_expect_checks_values_and_contained_text(capsys):
    answer = json.dumps({"action": "skipped", "reason": "no approved version in model package group mlops--models", "n": [5]})
    assert demo_aws.main(["expect", answer, "action=skipped", "reason~=no approved version", "n.0=5"]) == 0
    assert demo_aws.main(["expect", answer, "reason~=already started"]) == 1
    assert 'expected reason to contain "already started"' in capsys.readouterr().err
    assert demo_aws.main(["expect", answer, "n~=5"]) == 1  # not a string


@pytest.fixture
def scheduler_env(shared_emulator, monkeypatch):
    """demo_aws's clients and control requests go to the module's emulator;
    its scheduler clock is real time again after the test."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", shared_emulator.endpoint_url)
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
                       "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(key, value)
    yield shared_emulator
    assert shared_emulator.control("clock", {})[0] == 200
    shared_emulator.control("scheduler/fired", None, method="DELETE")


def burst_schedule(emulator, group: str, queue_arn: str, due: datetime.datetime) -> str:
    """A retraining schedule as the function creates one, due at DUE."""
    scheduler = emulator.client("scheduler")
    try:
        scheduler.create_schedule_group(Name=group)
    except scheduler.exceptions.ConflictException:
        pass
    name = f"cd2807458e687f96-{due:%Y%m%d-%H%M}"
    message = {"retraining_due": {"schedule": name, "data": "s3://b/data/train/", "due": f"{due:%Y-%m-%dT%H:%M:%SZ}",
                                  "first_object": {"bucket": "b", "key": "data/train/a.csv", "time": "2026-11-23T09:15:00Z"}}}
    scheduler.create_schedule(
        GroupName=group, Name=name, ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": queue_arn, "RoleArn": "arn:aws:iam::123456789012:role/scheduler", "Input": json.dumps(message)},
    )
    return name


def queues(emulator, *names: str) -> dict[str, tuple[str, str]]:
    sqs = emulator.client("sqs")
    found = {}
    for name in names:
        url = sqs.create_queue(QueueName=f"qp-{name}")["QueueUrl"]
        found[name] = (url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    return found


def test_quiet_period_fires_the_schedule_on_the_scheduler_clock(scheduler_env, tmp_path, capsys):
    emulator = scheduler_env
    made = queues(emulator, "mlops-new-training-data", "other")
    retrain_url, retrain_arn = made["mlops-new-training-data"]
    state = state_file(tmp_path, **made)
    now = datetime.datetime.now(datetime.timezone.utc)
    due = (now + datetime.timedelta(minutes=6)).replace(second=0, microsecond=0)
    name = burst_schedule(emulator, "qp-retraining", retrain_arn, due)
    due_text = f"{due:%Y-%m-%dT%H:%M:%SZ}"
    out = tmp_path / "due.json"
    assert demo_aws.main(["quiet-period", str(state), "SQS queue RetrainQueue", due_text, str(out)]) == 0, capsys.readouterr().err
    [record] = json.loads(out.read_text())["Records"]
    assert json.loads(record["body"])["retraining_due"]["schedule"] == name
    assert (record["eventSource"], record["eventSourceARN"]) == ("aws:sqs", retrain_arn)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert f"schedule {name} (qp-retraining) fired at " in capsys.readouterr().out
    # The clock is real time again; the firing is in the demo's log, not the emulator's any more.
    assert emulator.control("clock", None, method="GET")[1]["offset_seconds"] == 0
    assert emulator.control("scheduler/fired", None, method="GET")[1]["fired"] == []
    [fired] = [json.loads(line) for line in (tmp_path / "scheduler-fired.jsonl").read_text().splitlines()]
    assert (fired["schedule"], fired["target"], fired["scheduled_for"]) == (name, retrain_arn, due_text)
    sqs = emulator.client("sqs")
    assert sqs.receive_message(QueueUrl=retrain_url, WaitTimeSeconds=0).get("Messages", []) == []

    # Something already waiting before the quiet period: refused (nothing fires).
    later = due + datetime.timedelta(minutes=1)
    burst_schedule(emulator, "qp-retraining", retrain_arn, later)
    sqs.send_message(QueueUrl=retrain_url, MessageBody=json.dumps({"detail-type": "Object Created", "source": "aws.s3"}))
    assert demo_aws.main(["quiet-period", str(state), "SQS queue RetrainQueue", f"{later:%Y-%m-%dT%H:%M:%SZ}", str(out)]) == 1
    assert "before the quiet period" in capsys.readouterr().err

    # A message the schedule did not send arriving meanwhile: refused, and the clock reset all the same.
    emulator.client("scheduler").delete_schedule(GroupName="qp-retraining", Name=f"cd2807458e687f96-{later:%Y%m%d-%H%M}")
    stray_due = later + datetime.timedelta(minutes=1)
    burst_schedule(emulator, "qp-retraining", made["other"][1], stray_due)
    assert demo_aws.main(["quiet-period", str(state), "SQS queue RetrainQueue", f"{stray_due:%Y-%m-%dT%H:%M:%SZ}", str(out), "3"]) == 1
    err = capsys.readouterr().err
    assert "arrived in the queue of rule other" in err and "no message of the schedule due" in err, err
    assert emulator.control("clock", None, method="GET")[1]["offset_seconds"] == 0


# --- the demo ---------------------------------------------------------------------


def run_demo_script(command: list[str], logs: Path, **env: str) -> subprocess.CompletedProcess:
    """scripts/demo.sh (directly or through make) with its logs in `logs`, none
    of the shell's AWS settings, and `env` added."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(env, DEMO_LOGS=str(logs))
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,  # a cold target/ builds the functions first
    )


def run_demo(tmp_path: Path, template: Path | None = None) -> subprocess.CompletedProcess:
    extra = {} if template is None else {"DEMO_TEMPLATE": str(template)}
    return run_demo_script(["bash", str(ROOT / "scripts" / "demo.sh")], tmp_path / "demo", **extra)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def due_after(event_files: list[Path], minutes: int = 5) -> str:
    """When retrain_model_on_new_data wants the job of a batch of these events:
    the quiet period after the newest, rounded up to the minute (burst.rs)."""
    newest = max(
        datetime.datetime.fromisoformat(json.loads(path.read_text())["time"].replace("Z", "+00:00")) for path in event_files
    )
    due = newest + datetime.timedelta(minutes=minutes)
    if due.second or due.microsecond:
        due = due.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    return f"{due:%Y-%m-%dT%H:%M:%SZ}"


def test_demo_runs_the_whole_chain(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, f"the demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    logs = tmp_path / "demo"

    answers = [(a["stage"], a["function"], a["answer"]) for a in lines(logs / "answers.jsonl")]
    assert [(stage, function, answer["action"]) for stage, function, answer in answers] == [
        ("first data", "retrain_model_on_new_data", "scheduled"),
        ("first data", "retrain_model_on_new_data", "skipped"),  # when due: nothing approved yet
        ("v1.2.0 trigger", "trigger_model_training", "started"),
        ("v1.2.0 trigger", "trigger_model_training", "skipped"),
        ("v1.2.0 evaluate", "evaluate_model_function", "evaluated"),
        ("v1.2.0 register", "register_model_in_registry", "registered"),
        ("v1.2.0 staging", "deploy_sagemaker_model", "staged"),
        ("v1.2.0 staging", "deploy_sagemaker_model", "created"),
        ("v1.2.0 autoscaling", "deploy_sagemaker_model", "autoscaling_registered"),
        ("v1.3.0 trigger", "trigger_model_training", "started"),
        ("v1.3.0 evaluate", "evaluate_model_function", "evaluated"),
        ("v1.3.0 register", "register_model_in_registry", "registered"),
        ("v1.3.0 staging", "deploy_sagemaker_model", "staged"),
        ("v1.3.0 staging", "deploy_sagemaker_model", "updated"),
        ("v1.3.0 autoscaling", "deploy_sagemaker_model", "autoscaling_registered"),
        ("broken", "deploy_sagemaker_model", "staged"),
        ("broken", "deploy_sagemaker_model", "failed"),
        ("broken", "deploy_sagemaker_model", "skipped"),
        ("v1.4.0-experiment trigger", "trigger_model_training", "started"),
        ("v1.4.0-experiment evaluate", "evaluate_model_function", "evaluated"),
        ("new data", "retrain_model_on_new_data", "scheduled"),  # the 5 files, one batch
        ("preprocess", "retrain_model_on_new_data", "started"),  # the schedule's message: the processing job
        ("retrain", "retrain_model_on_new_data", "started"),  # its completion: the training job
        ("retrain", "retrain_model_on_new_data", "skipped"),  # the completion again
        ("retrain", "evaluate_model_function", "evaluated"),
        ("retrain", "register_model_in_registry", "registered"),
        ("corrupt data", "retrain_model_on_new_data", "scheduled"),
        ("corrupt data", "retrain_model_on_new_data", "started"),  # its processing job, which fails
        ("late data", "retrain_model_on_new_data", "scheduled"),  # a file after the jobs started
    ]
    by_stage = {}
    for stage, function, answer in answers:
        by_stage.setdefault(stage, []).append(answer)
    # Every batch of RetrainQueue was handled whole.
    for stage in ("first data", "new data", "preprocess", "retrain", "corrupt data", "late data"):
        for answer in by_stage[stage]:
            if "batchItemFailures" in answer:
                assert answer["batchItemFailures"] == [] and answer["failures"] == [], answer
    # Data before any approval: a schedule; when due, skipped with the reason, not an error.
    scheduled, skipped = by_stage["first data"]
    [first_schedule] = scheduled["schedules"]
    assert first_schedule["objects"] == 1 and first_schedule["created"] is True
    assert first_schedule["due"] == due_after([logs / "first-data" / "object-created.json"])
    assert "no approved version" in skipped["reason"]
    assert skipped["training_jobs"][0]["schedule"] == first_schedule["schedule"]
    first_job = by_stage["v1.2.0 trigger"][0]["training_job_name"]
    assert by_stage["v1.2.0 trigger"][1] == {**by_stage["v1.2.0 trigger"][1], "reason": "already started", "training_job_name": first_job}
    for tag, version in (("v1.2.0", 1), ("v1.3.0", 2)):
        evaluated = by_stage[f"{tag} evaluate"][0]
        assert evaluated["passed"] is True and evaluated["training_job_name"] == by_stage[f"{tag} trigger"][0]["training_job_name"]
        registered = by_stage[f"{tag} register"][0]
        assert registered["version"] == version
        assert registered["approval_status"] == "PendingManualApproval"
        assert registered["training_job_name"] == evaluated["training_job_name"]
        staged, promoted = by_stage[f"{tag} staging"]
        assert staged["endpoint"] == "mlops--staging-endpoint" and staged["model_package_version"] == version
        # The smoke test passed on staging (the example's four sample requests), then production.
        assert promoted["endpoint"] == "mlops--endpoint" and promoted["model_package_version"] == version
        assert promoted["smoke_test"]["requests"] == 4
        assert by_stage[f"{tag} autoscaling"][0]["min_instances"] == 1
    # A version whose model answers 500: stopped on staging, never in production.
    staged, failed, check = by_stage["broken"]
    assert staged["model_package_version"] == failed["model_package_version"] == 3
    assert failed["stage"] == "staging" and "HTTP 500" in failed["reason"], failed
    assert failed["cause"] == "smoke_test", failed
    assert check == {
        "action": "skipped",
        "reason": "live",
        "reason_class": "already_done",
        "endpoint": "mlops--endpoint",
        "model_package_version": 2,
    }
    # The one-stump model: real metrics, below the template's default gate.
    gated = by_stage["v1.4.0-experiment evaluate"][0]
    assert gated["passed"] is False and "validation:rmse" in gated["reason"], gated
    # The new data set, 5 files in one batch: one schedule, a quiet period after the newest.
    [batch] = by_stage["new data"]
    parts = [logs / "new-data" / f"object-created-{n}.json" for n in range(1, 6)]
    [schedule] = batch["schedules"]
    assert schedule["objects"] == 5 and schedule["data"] == "s3://mlops-demo-data/data/train/"
    assert schedule["due"] == due_after(parts)
    assert [(r["key"], r["action"], r["schedule"], r["due"]) for r in batch["records"]] == [
        (f"data/train/diabetes-0003-{n}.csv", "scheduled", schedule["schedule"], schedule["due"]) for n in range(1, 6)
    ]
    sent = json.loads((logs / "new-data" / "batch.json").read_text())["Records"]
    assert [json.loads(r["body"]) for r in sent] == [json.loads(p.read_text()) for p in parts]
    assert {r["eventSource"] for r in sent} == {"aws:sqs"}
    # Its message after the quiet period: one processing job, on the approved
    # (deployed) image, over all the data; its completion (delivered twice):
    # one training job on its train and validation sets.
    [preprocessed] = by_stage["preprocess"]
    started, again, evaluated, registered = by_stage["retrain"]
    [fired] = json.loads((logs / "new-data" / "retraining-due.json").read_text())["Records"]
    assert json.loads(fired["body"])["retraining_due"]["schedule"] == schedule["schedule"]
    [job] = preprocessed["training_jobs"]
    assert job["action"] == "started" and job["data"] == "s3://mlops-demo-data/data/train/"
    assert (job["schedule"], job["due"]) == (schedule["schedule"], schedule["due"])
    assert job["image"] == by_stage["v1.3.0 trigger"][0]["image"]  # the approved, deployed image
    processing = job["processing_job_name"]
    assert processing.startswith("mlops--proc-") and "training_job_arn" not in job
    [processed] = started["processed"]
    outputs = f"s3://mlops-demo-data/processed/{processing}"
    assert processed["processing_job_name"] == processing and processed["status"] == "Completed"
    assert processed["training_job_name"] == job["training_job_name"] and processed["image"] == job["image"]
    assert processed["channels"] == {"train": f"{outputs}/train/", "validation": f"{outputs}/validation/"}
    [redelivered] = again["processed"]
    assert (redelivered["action"], redelivered["reason"]) == ("skipped", "already started")
    completed_event = json.loads((logs / "new-data" / "processing-job-completed.json").read_text())
    assert completed_event["detail-type"] == "SageMaker Processing Job State Change"
    assert completed_event["detail"]["ProcessingJobStatus"] == "Completed"
    assert evaluated["passed"] is True and evaluated["training_job_name"] == job["training_job_name"]
    assert registered["version"] == 4
    # A corrupt file: its burst's processing job fails; the alert, no training.
    scheduled_corrupt, started_corrupt = by_stage["corrupt data"]
    [corrupt_schedule] = scheduled_corrupt["schedules"]
    [failed_job] = started_corrupt["training_jobs"]
    assert failed_job["processing_job_name"] not in (processing, None)
    alert = (logs / "new-data" / "alert-corrupt.txt").read_text()
    assert failed_job["processing_job_name"] in alert and "diabetes-0004-corrupt.csv line 1" in alert
    # A file after the job started: the next burst's schedule, not fired.
    [late] = by_stage["late data"]
    [next_schedule] = late["schedules"]
    assert next_schedule["schedule"] != schedule["schedule"] and next_schedule["due"] > corrupt_schedule["due"]
    # The scheduler fired exactly the schedules the quiet periods were for, into RetrainQueue's stand-in.
    firings = lines(logs / "scheduler-fired.jsonl")
    assert [(f["schedule"], f["scheduled_for"]) for f in firings] == [
        (first_schedule["schedule"], first_schedule["due"]),
        (schedule["schedule"], schedule["due"]),
        (corrupt_schedule["schedule"], corrupt_schedule["due"]),
    ]
    assert {f["target"] for f in firings} == {"arn:aws:sqs:us-east-1:123456789012:demo-rule-mlops-new-training-data"}

    routes = [(r["expect"], r["rules"]) for r in lines(logs / "routes.jsonl")]
    release = [
        ("trigger_model_training", ["mlops-ecr-image-push"]),
        ("evaluate_model_function", ["mlops-training-job-finished"]),  # the emulator's Completed event
        ("register_model_in_registry", ["mlops-model-evaluation-passed"]),
    ]
    deployment = [
        ("deploy_sagemaker_model", ["mlops-model-package-decided"]),
        ("deploy_sagemaker_model", ["mlops-endpoint-state-changed"]),  # staging IN_SERVICE: the smoke test
        ("deploy_sagemaker_model", ["mlops-endpoint-state-changed"]),  # production IN_SERVICE
    ]
    broken = [
        ("deploy_sagemaker_model", ["mlops-model-package-decided"]),
        ("deploy_sagemaker_model", ["mlops-endpoint-state-changed"]),  # staging IN_SERVICE: the smoke test fails
        ("SNS topic AlertTopic", ["mlops-model-deployment-failed"]),
    ]
    new_data = ("SQS queue RetrainQueue", ["mlops-new-training-data"])  # its event source mapping: retrain_model_on_new_data
    assert routes == [
        new_data,  # before any approval
        ("none", []),  # another repository's push
        *release,
        ("none", []),  # PendingManualApproval
        *deployment,
        *release,
        *deployment,
        *broken,
        *release[:2],
        ("SNS topic AlertTopic", ["mlops-model-evaluation-failed"]),  # the gated model
        *[new_data] * 5,  # the new data set's files
        ("SQS queue RetrainQueue", ["mlops-processing-job-completed"]),  # its processing job's completion
        *release[1:],
        new_data,  # the corrupt file
        ("SNS topic AlertTopic", ["mlops-processing-job-failed"]),  # its processing job failed
        new_data,  # the file after the jobs started
        ("none", []),  # notes.txt
    ]
    # What each function got is what its rule delivered: EventBridge's envelope.
    delivered = json.loads((logs / "v1.2.0" / "ecr-push.json").read_text())
    assert list(delivered) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    completed = json.loads((logs / "v1.2.0" / "training-job-completed.json").read_text())
    assert completed["source"] == "aws.sagemaker" and completed["detail"]["TrainingJobStatus"] == "Completed"

    summary = (logs / "summary.txt").read_text()
    assert "Demo complete in" in summary
    for label in ("first data", "v1.2.0 deploy", "v1.2.0 smoke test", "broken", "v1.2.0 trained", "v1.2.0 predict", "v1.2.0 API", "v1.3.0 API", "v1.3.0 rollout", "new data", "preprocess", "retrain", "corrupt data", "late data", "routing"):
        assert f"    {label} " in summary
    # The inference API (serve_predictions as a function URL): the same
    # predictions as InvokeEndpoint, the live version, the model's 400 and a 415.
    assert "v1.2.0 API                 POST /predictions: the same predictions; GET /model: version 1; a malformed row 400, XML 415" in summary
    assert "v1.3.0 API                 POST /predictions: the same predictions; GET /model: version 2" in summary
    # The example's preprocess: its row counts, every row of the data set in one set.
    counts = re.search(
        rf"{'preprocess':<26} one processing job for the 5 files: {processing}, train (\d+), validation (\d+), test (\d+) rows \(of 442 raw, 0 duplicates dropped\)",
        summary,
    )
    assert counts and sum(map(int, counts.groups())) == 442, summary
    assert f"{'retrain':<26} {job['training_job_name']} on the processed train and validation sets, the approved v1.3.0 image: " in summary
    assert f"{'late data':<26} diabetes-0002.csv after the jobs started: the next burst's schedule {next_schedule['schedule']}" in summary
    # Real predictions of disease progression (the data set's targets are 25-346).
    predictions = (logs / "v1.2.0" / "predictions.txt").read_text().split(", ")
    assert len(predictions) == 3 and all(25 <= float(p) <= 346 for p in predictions), predictions
    assert "4 training jobs, 4 model package versions, 2 endpoints (" in summary
    # What the functions wrote to their logs as metrics (EMF), per stage: the
    # counts follow from the demo's story; the models' values vary.
    metrics = {
        line.split()[0]: re.sub(r", ModelQuality\[[^]]*\] [^,]*", "", line.split(None, 1)[1])
        for line in (logs / "metrics.txt").read_text().splitlines()
        if not line.strip().startswith("(")
    }
    assert metrics == {
        "trigger": "Skipped[Reason=already_done] 1, Started 3",
        "retrain": "ObjectsReceived 8, ProcessingJobsStarted 2, SchedulesCreated 4, Skipped[Reason=already_done] 1, "
        "Skipped[Reason=blocked] 1, Started 1",
        "evaluate": "EvaluationsFailed 1, EvaluationsPassed 3, Started 4",
        "register": "Started 3",
        "deploy": "AutoscalingRegistered 2, DeploymentsCreated 1, DeploymentsFailed[Cause=smoke_test] 1, "
        "DeploymentsStaged 3, DeploymentsUpdated 1, Skipped[Reason=already_done] 1, SmokeTestsFailed 1, Started 5",
        "serve": "ClientErrors[ErrorType=ModelRejected] 1, ClientErrors[ErrorType=UnsupportedMediaType] 1, Predictions 2",
    }, metrics
    assert re.search(r"ModelQuality\[Metric=validation:rmse\] [0-9.]+( / [0-9.]+){3},", (logs / "metrics.txt").read_text())


def broken_template(tmp_path: Path, template: dict, change) -> Path:
    """template.yaml with one pattern changed, as JSON (cfn-lint decodes both)."""
    broken = copy.deepcopy(template)
    change(broken["Resources"])
    path = tmp_path / f"broken-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(broken, default=str))
    return path


def ecr_pattern(resources: dict) -> dict:
    return resources["TriggerModelTrainingFunction"]["Properties"]["Events"]["EcrImagePush"]["Properties"]["Pattern"]


def test_too_narrow_a_pattern_fails_the_demo(tmp_path, template):
    def change(resources):
        ecr_pattern(resources)["detail"]["action-type"] = ["PUSHED"]

    result = run_demo(tmp_path, broken_template(tmp_path, template, change))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "DEMO FAILED (v1.2.0 trigger): no rule delivered" in result.stderr
    assert 'mlops-ecr-image-push (Resources.TriggerModelTrainingFunction.Properties.Events.EcrImagePush), pattern {"source":["aws.ecr"]' in result.stderr
    # No push reached trigger_model_training (only the data before approval was handled: scheduled, then skipped).
    assert [a["function"] for a in lines(tmp_path / "demo" / "answers.jsonl")] == ["retrain_model_on_new_data"] * 2


def test_too_broad_a_pattern_fails_the_demo(tmp_path, template):
    def change(resources):
        del ecr_pattern(resources)["detail"]["repository-name"]

    result = run_demo(tmp_path, broken_template(tmp_path, template, change))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "DEMO FAILED (v1.2.0 trigger): rule mlops-ecr-image-push" in result.stderr
    assert "delivered it to trigger_model_training, where no rule should take it" in result.stderr


def test_a_disabled_rule_still_delivers_in_moto(bus):
    # Why the demo gives a DISABLED rule of the template no target.
    events, sqs = bus
    url = sqs.create_queue(QueueName="op-disabled")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="op-disabled", EventBusName="operator-cases", EventPattern='{"source":["demo.disabled"]}', State="DISABLED"
    )
    events.put_targets(Rule="op-disabled", EventBusName="operator-cases", Targets=[{"Id": "q", "Arn": arn}])
    events.put_events(
        Entries=[{"EventBusName": "operator-cases", "Source": "demo.disabled", "DetailType": "x", "Detail": "{}"}]
    )
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])) == 1


# --- make invoke: one function, once, with the demo's setup ----------------------------


def run_invoke(tmp_path: Path, *make_args: str) -> subprocess.CompletedProcess:
    return run_demo_script(["make", "--no-print-directory", "invoke", *make_args], tmp_path / "invoke")


def test_make_invoke_runs_one_function_on_a_sample(tmp_path):
    result = run_invoke(tmp_path, "FN=trigger_model_training", "EVENT=events/ecr-push.json")
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    answer = next(line for line in result.stdout.splitlines() if line.strip().startswith("answer: "))
    answer = json.loads(answer.strip().removeprefix("answer: "))
    assert answer["action"] == "started" and answer["training_job_name"].startswith("mlops--ecr-")
    assert "stopped everything the demo started" in result.stdout


def test_make_invoke_shows_the_error_of_a_stage_without_its_inputs(tmp_path):
    # No training job exists: evaluate's DescribeTrainingJob is refused, as AWS would.
    result = run_invoke(tmp_path, "FN=evaluate_model_function", "EVENT=events/training-job-completed.json")
    assert result.returncode != 0
    assert "the function failed" in result.stderr
    assert "NonRetryable.AwsRejected" in result.stderr, result.stderr[-3000:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "set FN=<function> and EVENT=<file>"),
        (("FN=trigger_model_training", "EVENT=events/no-such-event.json"), "no event file events/no-such-event.json"),
        (("FN=trigger_model_training evaluate_model_function", "EVENT=events/ecr-push.json"), "no function trigger_model_training evaluate_model_function;"),
        (("FN=no_such_function", "EVENT=events/ecr-push.json"), "no function no_such_function; the functions: "),
    ],
)
def test_make_invoke_refuses_what_does_not_exist(tmp_path, args, message):
    result = run_invoke(tmp_path, *args)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
