"""`make demo`'s chain as a test, and what it relies on.

* scripts/template_rules.py reads template.yaml's EventBridge rules (SAM's
  transform, then cloud-radar's rendering): every function's rule is found,
  parameters and conditions resolved as a deployment with those values would
  have them, and a malformed pattern is refused (no emulator).
* The emulator's EventBridge (moto 5.2.5) matches the operators the
  template's patterns use as EventBridge does: cases from EventBridge's
  documentation, put through a rule and an SQS queue. An operator the template
  starts using without cases here fails `test_template_uses_only_verified_operators`.
* scripts/demo_aws.py's `debounce` tells, from two "Object Created" events'
  own `time`, whether the second is in the first one's retraining window
  (skipped, the same job) or not (started, a job of its own), as the function
  derives the window; the demo checks the second upload's answer against it.
* scripts/demo.sh runs the whole chain (each function its real binary under
  cargo lambda watch, every event routed by the template's rules) and each
  stage's answer is checked; and a template with a wrong pattern (too narrow,
  too broad) fails the demo at that stage.

The demo builds the six functions' debug binaries first (minutes on a cold
target/, seconds after) and then takes about 30 s; the two broken-template
runs stop at the first stage.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
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
FUNCTIONS = [
    "trigger_model_training",
    "retrain_model_on_new_data",
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
    # The alert rules target the SNS topic, not a function.
    alerts = [rule for rule in rules.values() if not rule.functions]
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


# --- the retraining window, from the events' own time -----------------------------


def object_created(tmp_path: Path, name: str, time: str) -> str:
    """An "Object Created" event as the rule delivers it, with this `time`."""
    path = tmp_path / name
    path.write_text(json.dumps({"detail-type": "Object Created", "source": "aws.s3", "time": time, "detail": {}}))
    return str(path)


@pytest.mark.parametrize(
    "first, second, seconds, expected",
    [
        # The same window: the first one's job, so skipped.
        ("2026-11-23T09:15:00Z", "2026-11-23T09:15:04Z", 3600, ("skipped", "2026-11-23T09:00:00Z")),
        ("2026-11-23T09:00:00Z", "2026-11-23T09:59:59.999Z", 3600, ("skipped", "2026-11-23T09:00:00Z")),
        # A boundary between them: the second starts a job of its own.
        ("2026-11-23T09:59:58Z", "2026-11-23T10:00:02Z", 3600, ("started", "2026-11-23T10:00:00Z")),
        # A time exactly on a boundary starts the next window (window.rs).
        ("2026-11-23T09:59:59Z", "2026-11-23T10:00:00Z", 3600, ("started", "2026-11-23T10:00:00Z")),
        # Offsets count; windows need not divide an hour (multiples of 420 s since the epoch).
        ("2026-11-23T10:15:00+01:00", "2026-11-23T09:20:00Z", 3600, ("skipped", "2026-11-23T09:00:00Z")),
        ("2026-11-23T09:05:00Z", "2026-11-23T09:06:59Z", 420, ("skipped", "2026-11-23T09:00:00Z")),
        ("2026-11-23T09:06:59Z", "2026-11-23T09:07:00Z", 420, ("started", "2026-11-23T09:07:00Z")),
    ],
)
def test_debounce_follows_the_events_time(tmp_path, capsys, first, second, seconds, expected):
    at = demo_aws.time_of_event
    one, two = object_created(tmp_path, "1.json", first), object_created(tmp_path, "2.json", second)
    assert demo_aws.debounce_action(at(one), at(two), seconds) == expected
    # The command demo.sh reads, and the window of the first event.
    assert demo_aws.main(["debounce", one, two, str(seconds)]) == 0
    assert demo_aws.main(["window", one, str(seconds)]) == 0
    decision, first_window = capsys.readouterr().out.splitlines()
    assert decision == " ".join(expected)
    assert (first_window == expected[1]) == (expected[0] == "skipped")


def test_window_starts_match_the_functions_tests():
    # The cases of functions/retrain_model_on_new_data/src/window.rs.
    def at(text: str) -> datetime.datetime:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert demo_aws.window_start(at("2026-11-23T09:59:59.999Z"), 3600) == "2026-11-23T09:00:00Z"
    assert demo_aws.window_start(at("2026-11-23T10:00:00Z"), 3600) == "2026-11-23T10:00:00Z"
    assert demo_aws.window_start(at("1969-12-31T23:59:30Z"), 60) == "1969-12-31T23:59:00Z"


@pytest.mark.parametrize("time", [None, 1764400000, "yesterday", "2026-11-23T09:15:00"])
def test_debounce_refuses_an_event_without_a_usable_time(tmp_path, capsys, time):
    good = object_created(tmp_path, "good.json", "2026-11-23T09:15:00Z")
    bad = object_created(tmp_path, "bad.json", time)
    assert demo_aws.main(["debounce", good, bad, "3600"]) == 1
    assert "bad.json" in capsys.readouterr().err


# --- the demo ---------------------------------------------------------------------


def run_demo(tmp_path: Path, template: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DEMO_LOGS"] = str(tmp_path / "demo")
    if template is not None:
        env["DEMO_TEMPLATE"] = str(template)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,  # a cold target/ builds six functions first
    )


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_demo_runs_the_whole_chain(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, f"the demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    logs = tmp_path / "demo"
    # The second new-data upload: skipped in the first one's window (nearly
    # always: seconds apart), started when a window boundary fell between them.
    second_action, second_window = demo_aws.debounce_action(
        demo_aws.time_of_event(str(logs / "new-data" / "object-created-1.json")),
        demo_aws.time_of_event(str(logs / "new-data" / "object-created-2.json")),
        3600,
    )
    next_window = second_action == "started"

    answers = [(a["stage"], a["function"], a["answer"]) for a in lines(logs / "answers.jsonl")]
    assert [(stage, function, answer["action"]) for stage, function, answer in answers] == [
        ("first data", "retrain_model_on_new_data", "skipped"),
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
        ("retrain", "retrain_model_on_new_data", "started"),
        ("retrain", "evaluate_model_function", "evaluated"),
        ("retrain", "register_model_in_registry", "registered"),
        ("retrain", "retrain_model_on_new_data", second_action),
    ]
    by_stage = {}
    for stage, function, answer in answers:
        by_stage.setdefault(stage, []).append(answer)
    # Data before any approval: skipped with the reason, not an error.
    assert "no approved version" in by_stage["first data"][0]["reason"]
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
    assert check == {"action": "skipped", "reason": "live", "endpoint": "mlops--endpoint", "model_package_version": 2}
    # The one-stump model: real metrics, below the template's default gate.
    gated = by_stage["v1.4.0-experiment evaluate"][0]
    assert gated["passed"] is False and "validation:rmse" in gated["reason"], gated
    started, evaluated, registered, second = by_stage["retrain"]
    [job] = started["training_jobs"]
    assert job["action"] == "started" and job["data"] == "s3://mlops-demo-data/data/train/"
    assert job["image"] == by_stage["v1.3.0 trigger"][0]["image"]  # the approved, deployed image
    assert evaluated["passed"] is True and evaluated["training_job_name"] == job["training_job_name"]
    assert registered["version"] == 4
    [second_job] = second["training_jobs"]
    assert second_job["window_start"] == second_window
    if next_window:
        assert second_job["action"] == "started" and second_job["training_job_name"] != job["training_job_name"]
    else:
        assert second_job["window_start"] == job["window_start"]
        assert second_job == {**second_job, "action": "skipped", "reason": "already started", "training_job_name": job["training_job_name"]}

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
    assert routes == [
        ("retrain_model_on_new_data", ["mlops-new-training-data"]),  # before any approval
        ("none", []),  # another repository's push
        *release,
        ("none", []),  # PendingManualApproval
        *deployment,
        *release,
        *deployment,
        *broken,
        *release[:2],
        ("SNS topic AlertTopic", ["mlops-model-evaluation-failed"]),  # the gated model
        ("retrain_model_on_new_data", ["mlops-new-training-data"]),
        *release[1:],
        ("retrain_model_on_new_data", ["mlops-new-training-data"]),
        *(release[1:2] if next_window else []),  # the next window's job: its Completed event, taken off the queue
        ("none", []),  # notes.txt
    ]
    # What each function got is what its rule delivered: EventBridge's envelope.
    delivered = json.loads((logs / "v1.2.0" / "ecr-push.json").read_text())
    assert list(delivered) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    completed = json.loads((logs / "v1.2.0" / "training-job-completed.json").read_text())
    assert completed["source"] == "aws.sagemaker" and completed["detail"]["TrainingJobStatus"] == "Completed"

    summary = (logs / "summary.txt").read_text()
    assert "Demo complete in" in summary
    for label in ("v1.2.0 deploy", "v1.2.0 smoke test", "broken", "v1.2.0 trained", "v1.2.0 predict", "v1.2.0 API", "v1.3.0 API", "v1.3.0 rollout", "retrain", "routing"):
        assert f"    {label} " in summary
    # The inference API (serve_predictions as a function URL): the same
    # predictions as InvokeEndpoint, the live version, the model's 400 and a 415.
    assert "v1.2.0 API                 POST /predictions: the same predictions; GET /model: version 1; a malformed row 400, XML 415" in summary
    assert "v1.3.0 API                 POST /predictions: the same predictions; GET /model: version 2" in summary
    # Real predictions of disease progression (the data set's targets are 25-346).
    predictions = (logs / "v1.2.0" / "predictions.txt").read_text().split(", ")
    assert len(predictions) == 3 and all(25 <= float(p) <= 346 for p in predictions), predictions
    assert f"{4 + next_window} training jobs, 4 model package versions, 2 endpoints (" in summary


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
    # No push reached trigger_model_training (only the data before approval was handled).
    assert [a["function"] for a in lines(tmp_path / "demo" / "answers.jsonl")] == ["retrain_model_on_new_data"]


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
