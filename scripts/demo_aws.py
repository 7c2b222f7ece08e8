"""The AWS side of scripts/demo.sh: what the user, SageMaker and the user's
infrastructure do between the pipeline's Lambda invocations.

Usage: .venv/bin/python scripts/demo_aws.py <command> [arguments]

Every command talks to whatever AWS_ENDPOINT_URL points at (the local emulator
in scripts/demo.sh), prints a few indented lines for the demo's output, and
exits non-zero with a one-line reason on stderr when something is not as
expected.

Routing between the stages is template.yaml's: `rules` reads every EventBridge
rule from the template (scripts/template_rules.py), creates it in the
emulator's EventBridge with the template's pattern and one SQS queue per rule
standing in for its target, and records them in a state file. An AWS-side
event is then put on the bus (`route`) or made by the emulator itself (S3's
"Object Created" on `upload`, a function's PutEvents for `delivered`,
SageMaker's state changes as the emulator trains and serves for `awaited`); every
rule queue is drained, and the event must have been delivered by exactly the
rules that target the expected function (or by none), nothing else may have
arrived anywhere, and what the rule delivered is written out: that is what
the function is invoked with. A rule whose target is a queue (the
new-training-data rule's RetrainQueue) has its stand-in queue play that queue:
`sqs-batch` makes a batch of what it delivered, as the queue's event source
mapping invokes the function, and the retraining schedules (EventBridge
Scheduler, in the emulator) send to it when due, which `quiet-period` makes
happen on the scheduler's clock.

Commands, in the order the demo uses them:

  data-bucket BUCKET PREFIX [SMOKE_KEY]  create the data bucket (versioned, EventBridge
                                   notifications on) and upload the first part of the example's data
                                   set under PREFIX (and its smoke-test requests as SMOKE_KEY)
  rules TEMPLATE STATE NAME=VALUE...  the template's rules, for these parameter values, created
                                   in the emulator (one SQS queue each); STATE records them
  schedule-group NAME              create the EventBridge Scheduler group of the retraining
                                   schedules (template.yaml's RetrainScheduleGroup)
  queue-arn STATE TARGET           print the ARN of the queue standing in for TARGET, a rule target's
                                   label (e.g. "SQS queue RetrainQueue")
  route STATE EVENT EXPECT OUT     put EVENT (a JSON file) on its bus as AWS would; EXPECT is the
                                   function whose rule must deliver it, or "none"; OUT gets what
                                   the rule delivered
  delivered STATE EVENT_ID EXPECT OUT  the same for an event a function put on the bus itself
  awaited STATE EXPECT KEY=VALUE[,KEY=VALUE] OUT [SECONDS]  wait for an event the emulator
                                   makes itself (SageMaker's state changes) whose detail has each
                                   KEY=VALUE, delivered by EXPECT's rule(s) only
  alerted STATE TEXT OUT           wait for the alert topic's message naming TEXT
  upload STATE BUCKET KEY EXPECT OUT  put a CSV object (a part of the data set); S3 sends "Object
                                   Created" to EventBridge; EXPECT as for route, or a target's label
                                   ("SQS queue RetrainQueue")
  sqs-batch STATE TARGET OUT EVENT...  the EVENT files (what a rule delivered to TARGET's queue) as
                                   one batch of Lambda's SQS event source (Records: messageId,
                                   receiptHandle, body = the event's JSON text, attributes, ...,
                                   eventSourceARN = the stand-in queue), into OUT
  schedules GROUP COUNT            show the schedule group's schedules; check there are COUNT
  quiet-period STATE TARGET DUE OUT [SECONDS]  the quiet period passes: nothing waits in any rule's
                                   queue yet; the emulator's scheduler clock goes to DUE + 1 s; the
                                   schedule's message (retraining_due for DUE) must arrive in
                                   TARGET's queue within SECONDS (15), nothing else anywhere; OUT
                                   gets it as an SQS batch; then the clock is real time again
  past-burst DUE MINUTES           wait until an object uploaded now falls after the burst due at
                                   DUE (its S3 time after DUE - MINUTES, the quiet period): the
                                   quiet periods pass on the scheduler's clock, S3's times are real
  push REPOSITORY TAG SOURCE OUT   PutImage in the emulator's ECR, and ECR's push event like SOURCE
  processing-job NAME RAW_ROWS SUMMARY  show a Completed processing job, each output's rows; check
                                   its ExitMessage's counts are S3's and add up to RAW_ROWS with the
                                   duplicates dropped; the counts into SUMMARY
  exit-message NAME                print a processing job's status and ExitMessage
  training-job NAME JOBS [ROWS]    show a training job; check that JOBS jobs exist in all (and that
                                   its input channels hold ROWS rows)
  metrics NAME SUMMARY             one line of the job's final metrics into the file SUMMARY
  evaluation EVENT                 show the "Model Evaluation Completed" event in the file EVENT
  model-package ARN                show a model package version
  register-image IMAGE MODEL_OF OUT  a version registered by hand: IMAGE with the model archive
                                   of the version MODEL_OF; its ARN into OUT
  approve ARN                      UpdateModelPackage ModelApprovalStatus=Approved, as a user does
  package-event ARN TEMPLATE OUT   SageMaker's "Model Package State Change" for the version
  endpoint NAME PACKAGE_ARN        show the endpoint; check it is InService and serves PACKAGE_ARN
  predict NAME REQUEST SUMMARY     InvokeEndpoint with the CSV rows in REQUEST; predictions into SUMMARY
  bad-request NAME                 a malformed request: SageMaker's ModelError with the model's 4xx
  api URL REQUEST VERSION SUMMARY [--errors]  the inference API (serve_predictions at URL): POST
                                   /predictions with REQUEST must give SUMMARY's predictions, GET
                                   /model must name VERSION; --errors: a malformed row (the
                                   model's 400) and an unsupported Content-Type (415)
  deployment NAME UPDATES [SUMMARY] the last blue/green deployment UpdateEndpoint asked for (emulator
                                   control endpoint); check there were UPDATES updates; a one-line
                                   summary of it into the file SUMMARY
  autoscaling NAME                 show the endpoint variant's scalable target and policy
  census                           one line: how many jobs, package versions, endpoints exist

and some that read files only (no AWS calls):

  expect ANSWER KEY=VALUE...       check fields of ANSWER (VALUE read as JSON when it parses;
                                   KEY may be a dotted path, e.g. training_jobs.0.action);
                                   KEY~=TEXT: the field is a string containing TEXT
  field ANSWER KEY                 print one field of ANSWER (a dotted path too)
  emf LOG STAGE...                 the CloudWatch metrics the functions wrote to LOG (Embedded Metric
                                   Format lines, each checked), summed per stage; each STAGE must
                                   have some
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import inspect
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable


class Problem(Exception):
    """Something is not as the demo expects: the message says what."""


# ---------------------------------------------------------------------------
# output helpers


def rows(pairs: list[tuple[str, Any]]) -> None:
    """Prints label/value rows, aligned; a list value takes several lines."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values or ["(none)"]):
            print(f"    {label if i == 0 else '':<{width}}  {item}")


def say(text: str) -> None:
    print(f"    {text}")


def client(service: str):
    import boto3  # here, so that `expect` and `field` start fast

    return boto3.client(service)


def write_json(path: str, document: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(document, indent=2) + "\n")


def event_time() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(value: Any) -> Any:
    return int(value.timestamp() * 1000) if isinstance(value, datetime.datetime) else value


def s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


# ---------------------------------------------------------------------------
# before the pipeline runs


# The example model's data set (examples/diabetes-regression/data): the first
# part is there before the pipeline; the others arrive as new data, the last
# one as a multi-file data set (five files of 10 rows). Every row of the data
# set is in exactly one part.
DATASET = Path(__file__).resolve().parents[1] / "examples" / "diabetes-regression" / "data" / "diabetes.csv"
SMOKE_TEST_REQUESTS = DATASET.parents[1] / "smoke-test-requests.jsonl"
PARTS = {
    "diabetes-0001.csv": (0, 342),
    "diabetes-0002.csv": (342, 392),
    **{f"diabetes-0003-{n}.csv": (392 + 10 * (n - 1), 392 + 10 * n) for n in range(1, 6)},
}


def dataset_part(file: str) -> bytes:
    """Rows of the data set for a file name of PARTS (headerless CSV, target first)."""
    first, end = PARTS[file]
    lines = DATASET.read_text().splitlines()[first:end]
    return ("\n".join(lines) + "\n").encode()


def data_bucket(bucket: str, prefix: str, smoke_key: str | None = None) -> None:
    """The training data bucket as template.yaml's DataBucket has it (versioned,
    EventBridge notifications on), holding the first part of the data set and,
    with SMOKE_KEY, the example's smoke-test requests (outside PREFIX, so that
    they are not training data). Uploaded before the rules exist, as data that
    was there before the pipeline was deployed."""
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    key = f"{prefix.strip('/')}/diabetes-0001.csv"
    body = dataset_part("diabetes-0001.csv")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    uploaded = [
        ("bucket", f"s3://{bucket}: versioned, EventBridge notifications on (S3 -> default bus)"),
        ("data", f"s3://{bucket}/{key} ({len(body.splitlines())} rows of {DATASET.name}, {len(body)} bytes)"),
    ]
    if smoke_key:
        requests = SMOKE_TEST_REQUESTS.read_bytes()
        s3.put_object(Bucket=bucket, Key=smoke_key, Body=requests, ContentType="application/x-ndjson")
        uploaded.append(
            ("smoke test", f"s3://{bucket}/{smoke_key} ({len(requests.splitlines())} requests, from {SMOKE_TEST_REQUESTS.name})")
        )
    rows(uploaded)


def register_image(image: str, model_of: str, out: str) -> None:
    """A version registered by hand (as a user may, outside the pipeline) with
    IMAGE for inference and the model archive of the version MODEL_OF; its
    ARN into OUT."""
    sagemaker = client("sagemaker")
    source = sagemaker.describe_model_package(ModelPackageName=model_of)
    container = source["InferenceSpecification"]["Containers"][0]
    created = sagemaker.create_model_package(
        ModelPackageGroupName=source["ModelPackageGroupName"],
        ModelPackageDescription=f"registered by hand: {image}",
        InferenceSpecification={
            "Containers": [{"Image": image, "ModelDataUrl": container["ModelDataUrl"]}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="PendingManualApproval",
    )
    Path(out).write_text(created["ModelPackageArn"])
    say(f"{created['ModelPackageArn']}: {image}, the model archive of {model_of.rsplit('/', 1)[-1]}")


def push(repository: str, tag: str, source: str, out: str) -> None:
    """A CI build pushing the example image: PutImage in the emulator's ECR (a
    manifest of its own per tag; the registry computes its digest), and ECR's
    "ECR Image Action" event for it, from SOURCE."""
    ecr = client("ecr")
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    config_digest = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": config_digest},
            "layers": [],
        }
    )
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]
    digest = image["imageId"]["imageDigest"]
    event = json.loads(Path(source).read_text())
    event["id"], event["time"] = str(uuid.uuid4()), event_time()
    event["detail"].update({"repository-name": repository, "image-digest": digest, "image-tag": tag})
    write_json(out, event)
    say(f"PutImage {repository}:{tag} -> digest {digest}; ECR's push event: {out}")


# ---------------------------------------------------------------------------
# routing: template.yaml's EventBridge rules in the emulator

# How the demo reads a rule's target: the function by its binary, or what else it is.
TARGET_KINDS = {"AWS::SNS::Topic": "SNS topic", "AWS::SQS::Queue": "SQS queue"}


def target_label(target: dict) -> str:
    if target["function"]:
        return target["function"]
    return f"{TARGET_KINDS.get(target['kind'], target['kind'])} {target['resource']}"


def create_rules(template: str, state: str, *assignments: str) -> None:
    """Creates template.yaml's rules, resolved for these parameter values, in the
    emulator's EventBridge. Each rule's target is an SQS queue of its own that
    stands in for the function (or topic) the template names; `route` and
    `delivered` drain them. A disabled rule gets no target: moto would deliver
    through it anyway."""
    sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
    import template_rules

    parameters = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise Problem(f"rules: {assignment!r} is not NAME=VALUE")
        parameters[name] = value
    try:
        raw = template_rules.decode(template)
        rules = template_rules.load(template, parameters, template=raw)
        operators = template_rules.operators_in_template(raw)
    except template_rules.TemplateError as err:
        raise Problem(f"{template}: {err}") from None
    if not rules:
        raise Problem(f"{template} declares no EventBridge rule")

    sqs, events = client("sqs"), client("events")
    say(f"parameters: {' '.join(assignments)} (the rest: the template's defaults)")
    records = []
    for rule in rules:
        if rule.bus != "default":
            try:
                events.create_event_bus(Name=rule.bus)
            except events.exceptions.ResourceAlreadyExistsException:
                pass
        events.put_rule(
            Name=rule.name,
            EventBusName=rule.bus,
            EventPattern=json.dumps(rule.pattern, separators=(",", ":")),
            State=rule.state,
        )
        record = rule.to_json()
        queue_name = f"demo-rule-{rule.name}"[:80]
        queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        record["queue_url"] = queue_url
        record["queue_arn"] = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        if rule.state == "ENABLED":
            targets = []
            for target in rule.targets:
                entry = {"Id": target.id[:64], "Arn": record["queue_arn"]}
                if target.input_transformer:
                    entry["InputTransformer"] = target.input_transformer
                targets.append(entry)
            answer = events.put_targets(Rule=rule.name, EventBusName=rule.bus, Targets=targets)
            if answer.get("FailedEntryCount"):
                raise Problem(f"PutTargets for {rule.name} failed: {answer['FailedEntries']}")
        records.append(record)
        targets_text = ", ".join(target_label(t) for t in record["targets"])
        stand_in = "" if all(t["function"] for t in record["targets"]) else " (an SQS queue stands in)"
        disabled = "" if rule.state == "ENABLED" else " DISABLED"
        say(f"{rule.name}{disabled} -> {targets_text}{stand_in}")
        say(f"    {json.dumps(rule.pattern, separators=(',', ':'))}")
    unverified = sorted(operators - template_rules.EMULATOR_VERIFIED)
    say(
        f"(pattern operators in template.yaml: {', '.join(sorted(operators))}; the emulator's EventBridge, moto "
        f"5.2.5, matches {'each' if not unverified else 'the others'} as EventBridge does, "
        f"see tests/emulator/test_demo_chain.py)"
    )
    for operator in unverified:
        say(f"NOTE: moto's matching of {operator!r} is not checked against EventBridge's: the rules using it are not proven here")
    write_json(state, {"rules": records, "parameters": parameters, "template": template})


def _load_state(state: str) -> dict:
    try:
        return json.loads(Path(state).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise Problem(f"cannot read the rules' state {state} ({err}): run the rules command first") from None


def _drain(sqs, queue_url: str) -> list[dict]:
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            try:
                body = json.loads(message["Body"])
            except json.JSONDecodeError:
                body = None
            # An input transformer's text (the alerts) is no event object.
            bodies.append(body if isinstance(body, dict) else {"(not JSON)": message["Body"]})


def _describe(event: dict) -> str:
    """One short phrase for an event: its type and what it is about."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    about = (
        detail.get("repository-name") and f"{detail['repository-name']}:{detail.get('image-tag', '(untagged)')}"
        or detail.get("TrainingJobName") and f"{detail['TrainingJobName']} {detail.get('TrainingJobStatus')}"
        or detail.get("training_job_name") and f"{detail['training_job_name']} passed={json.dumps(detail.get('passed'))}"
        or detail.get("ModelPackageArn") and f"{detail.get('ModelPackageName')} {detail.get('ModelApprovalStatus')}"
        or detail.get("EndpointName") and f"{detail['EndpointName']} {detail.get('EndpointStatus')}"
        or (detail.get("object") or {}).get("key") and f"s3://{detail['bucket']['name']}/{detail['object']['key']}"
        or ""
    )
    if isinstance(event.get("retraining_due"), dict):
        due = event["retraining_due"]
        return f"a retraining schedule's message ({due.get('schedule')}, due {due.get('due')})"
    kind = f"\"{event.get('detail-type')}\" from {event.get('source')}" if "detail-type" in event else "an event"
    return f"{kind} ({about})" if about else kind


def _check_delivery(
    state_file: str,
    ours: Callable[[dict], bool],
    expect: str,
    out: str,
    what: str,
    kind: tuple[str, str] | None = None,
    wait: float = 0.0,
) -> None:
    """Drains every rule's queue: the event `ours` picks must have been delivered
    exactly by the rule(s) targeting `expect` (a function binary, a target's
    label such as "SNS topic AlertTopic", or "none"), and nothing else may have
    arrived anywhere. Writes the delivered event to `out`. `wait`: seconds to
    wait for it (an event the emulator makes by itself, e.g. when a training
    job ends)."""
    state = _load_state(state_file)
    sqs = client("sqs")
    hits: list[tuple[dict, dict]] = []  # (rule, delivered body)
    strays: list[tuple[dict, dict]] = []
    deadline = time.monotonic() + wait
    while True:
        for rule in state["rules"]:
            for body in _drain(sqs, rule["queue_url"]):
                (hits if ours(body) else strays).append((rule, body))
        if hits or strays or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if wait and not hits and not strays:
        raise Problem(f"{what} did not arrive within {wait:.0f} s (see the emulator's log)")
    problems = []
    for rule in state["rules"]:
        unexpected = [body for stray_rule, body in strays if stray_rule is rule]
        if unexpected:
            more = f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""
            problems.append(
                f"rule {rule['name']} ({rule['where']}) delivered {_describe(unexpected[0])}{more} to "
                f"{', '.join(target_label(t) for t in rule['targets'])}, which no stage expects; "
                f"pattern {json.dumps(rule['pattern'], separators=(',', ':'))}"
            )
    expected_rules = [
        r for r in state["rules"] if expect != "none" and expect in [target_label(t) for t in r["targets"]]
    ]
    for rule, body in hits:
        if rule not in expected_rules:
            problems.append(
                f"rule {rule['name']} ({rule['where']}) delivered it to "
                f"{', '.join(target_label(t) for t in rule['targets'])}, "
                + ("where no rule should take it" if expect == "none" else f"and only {expect} should get it")
                + f"; pattern {json.dumps(rule['pattern'], separators=(',', ':'))}"
            )
    to_expected = [(rule, body) for rule, body in hits if rule in expected_rules]
    if expect != "none" and not to_expected:
        candidates = expected_rules or []
        detail = "; ".join(
            f"rule {r['name']} ({r['where']}), pattern {json.dumps(r['pattern'], separators=(',', ':'))}"
            for r in candidates
        ) or f"no rule of {state['template']} targets {expect}"
        problems.append(f"no rule delivered {what} to {expect}: {detail}")
    if len(to_expected) > 1:
        problems.append(
            f"{expect} got it {len(to_expected)} times, from {', '.join(r['name'] for r, _ in to_expected)}"
        )
    if problems:
        raise Problem(" | ".join(problems))

    log = Path(state_file).with_name("routes.jsonl")
    with log.open("a") as routes:
        routes.write(
            json.dumps(
                {"event": what, "expect": expect, "rules": [rule["name"] for rule, _ in to_expected], "out": out}
            )
            + "\n"
        )
    if expect == "none":
        # Which rules it was up against: those listening for this source and
        # detail-type (read off their patterns, for the message only).
        nearest = [
            r["name"]
            for r in state["rules"]
            if kind
            and kind[0] in (r["pattern"].get("source") or [])
            and kind[1] in (r["pattern"].get("detail-type") or [])
        ]
        say(f"no rule delivered it: {', '.join(nearest) or 'no rule'} filtered it out (as intended)")
        return
    (rule, body), = to_expected
    write_json(out, body)
    say(f"rule {rule['name']} -> {expect}: {out}")


def _put(event: dict) -> str:
    """Puts the event on the default bus as its AWS service would; its new id."""
    events = client("events")
    answer = events.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event.get("resources", []),
            }
        ]
    )
    result = answer["Entries"][0]
    if answer.get("FailedEntryCount") or "EventId" not in result:
        raise Problem(f"PutEvents refused {_describe(event)}: {result}")
    return result["EventId"]


def route(state: str, event_file: str, expect: str, out: str) -> None:
    """AWS's side: the event in event_file happens (put on the default bus, where
    AWS services send theirs); the template's rules route it."""
    event = json.loads(Path(event_file).read_text())
    what = _describe(event)
    say(f"{what} -> EventBridge (default bus)")
    event_id = _put(event)
    _check_delivery(
        state, lambda body: body.get("id") == event_id, expect, out, what, (event["source"], event["detail-type"])
    )


def delivered(state: str, event_id: str, expect: str, out: str) -> None:
    """An event a function put on the bus (PutEvents) itself: where did it go?"""
    _check_delivery(state, lambda body: body.get("id") == event_id, expect, out, f"event {event_id}")


def awaited(state: str, expect: str, match: str, out: str, seconds: str = "120") -> None:
    """An event AWS makes by itself (SageMaker's state changes, made by the
    emulator as jobs and endpoints change): waits until one whose detail has
    KEY=VALUE (MATCH; several joined by commas) is delivered, by the rule(s)
    of EXPECT only."""
    pairs = [part.partition("=")[::2] for part in match.split(",")]

    def ours(event: dict) -> bool:
        return all(str(lookup(event.get("detail"), key)) == value for key, value in pairs)

    _check_delivery(state, ours, expect, out, f"the event with {match}", wait=float(seconds))


def alerted(state: str, text: str, out: str) -> None:
    """The alert topic's message (the rule's input transformer makes text of
    the event) that names TEXT, waited for as `awaited` does."""

    def ours(body: dict) -> bool:
        return text in json.dumps(body)

    _check_delivery(state, ours, "SNS topic AlertTopic", out, f"an alert about {text}", wait=60.0)
    said = json.loads(Path(out).read_text())
    say(f"alert: {said.get('(not JSON)', said) if isinstance(said, dict) else said}")


def upload(state: str, bucket: str, key: str, expect: str, out: str) -> None:
    """New data: PutObject (the rows of the data set part the key's file name
    names, else a short text); S3 sends "Object Created" to EventBridge itself."""
    s3 = client("s3")
    file = key.rsplit("/", 1)[-1]
    body = dataset_part(file) if file in PARTS else b"notes about the data, not data\n"
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    say(
        f"PutObject s3://{bucket}/{key} ({len(body.splitlines())} rows, {len(body)} bytes, "
        f"version {put.get('VersionId', '-')}) -> S3 -> EventBridge"
    )

    def ours(event: dict) -> bool:
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        return (detail.get("object") or {}).get("key") == key and (detail.get("bucket") or {}).get("name") == bucket

    _check_delivery(state, ours, expect, out, f"\"Object Created\" s3://{bucket}/{key}", ("aws.s3", "Object Created"))


# ---------------------------------------------------------------------------
# training


def channel_line(s3, channel: dict) -> tuple[str, int]:
    """One line about a job's input channel, and how many rows (lines) the
    objects under its S3 URI hold."""
    source = channel["DataSource"]["S3DataSource"]
    bucket, prefix = s3_parts(source["S3Uri"])
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    lines = sum(len(s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()) for key in keys)
    details = ", ".join(
        part
        for part in (
            source.get("S3DataType"),
            channel.get("ContentType"),
            channel.get("InputMode"),
            source.get("S3DataDistributionType"),
        )
        if part
    )
    return f"{channel['ChannelName']}: {source['S3Uri']} ({details}; {len(keys)} object(s) there, {lines} rows)", lines


def processing_job(name: str, raw_rows: str, summary_file: str) -> None:
    """The processing job, Completed: its input, each output with the rows
    (lines) its objects hold, and its ExitMessage, whose counts (the
    example's preprocess writes them) must be the rows uploaded and add up to
    RAW_ROWS with the duplicates it dropped. One line of row counts into
    SUMMARY_FILE."""
    sagemaker, s3 = client("sagemaker"), client("s3")
    job = sagemaker.describe_processing_job(ProcessingJobName=name)
    if job["ProcessingJobStatus"] != "Completed":
        raise Problem(
            f"processing job {name} is {job['ProcessingJobStatus']}: "
            f"{job.get('FailureReason', '')} {job.get('ExitMessage', '')}".strip()
        )
    uploaded: dict[str, int] = {}
    lines = []
    for output in job["ProcessingOutputConfig"]["Outputs"]:
        bucket, prefix = s3_parts(output["S3Output"]["S3Uri"])
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        count = sum(len(s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()) for key in keys)
        uploaded[output["OutputName"]] = count
        lines.append(f"{output['OutputName']}: {output['S3Output']['S3Uri']} ({len(keys)} object(s), {count} rows)")
    try:
        message = json.loads(job.get("ExitMessage") or "")
        said = {key: int(value) for key, value in message["rows"].items()}
        dropped = int(message.get("duplicates_dropped", 0))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise Problem(f"processing job {name}'s ExitMessage is not the example's row counts: {job.get('ExitMessage')!r} ({err})") from err
    if said != uploaded:
        raise Problem(f"processing job {name} says it wrote {said} rows, S3 holds {uploaded}")
    if sum(said.values()) + dropped != int(raw_rows):
        raise Problem(f"processing job {name}'s sets hold {sum(said.values())} rows and dropped {dropped}, of {raw_rows} raw rows")
    [raw] = job["ProcessingInputs"]
    app = job["AppSpecification"]
    rows(
        [
            ("name", name),
            ("status", job["ProcessingJobStatus"]),
            ("image", app["ImageUri"]),
            ("entry point", " ".join(app.get("ContainerEntrypoint", []) + app.get("ContainerArguments", []))),
            ("input", f"{raw['InputName']}: {raw['S3Input']['S3Uri']} -> {raw['S3Input']['LocalPath']}"),
            ("outputs", lines),
            ("exit message", job.get("ExitMessage", "")),
        ]
    )
    counts = ", ".join(f"{output} {count}" for output, count in uploaded.items())
    Path(summary_file).write_text(f"{counts} rows (of {raw_rows} raw, {dropped} duplicates dropped)")


def exit_message(name: str) -> None:
    """Prints the processing job's status and ExitMessage (its reason, when it failed)."""
    job = client("sagemaker").describe_processing_job(ProcessingJobName=name)
    print(f"{job['ProcessingJobStatus']}: {job.get('ExitMessage') or job.get('FailureReason', '')}")


def training_jobs(sagemaker) -> list[str]:
    return [
        job["TrainingJobName"]
        for page in sagemaker.get_paginator("list_training_jobs").paginate()
        for job in page["TrainingJobSummaries"]
    ]


def training_job(name: str, expected_jobs: str, expected_rows: str | None = None) -> None:
    sagemaker, s3 = client("sagemaker"), client("s3")
    names = training_jobs(sagemaker)
    if len(names) != int(expected_jobs):
        raise Problem(f"expected {expected_jobs} training job(s) in all, found {len(names)}: {names}")
    job = sagemaker.describe_training_job(TrainingJobName=name)
    tags = sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    algorithm, resources = job["AlgorithmSpecification"], job["ResourceConfig"]
    stopping = job.get("StoppingCondition", {})
    channels = [channel_line(s3, c) for c in job.get("InputDataConfig", [])]
    rows(
        [
            ("name", job["TrainingJobName"]),
            ("status", job["TrainingJobStatus"] + (f": {job['FailureReason']}" if job.get("FailureReason") else "")),
            ("arn", job["TrainingJobArn"]),
            ("image", algorithm["TrainingImage"]),
            ("role", job["RoleArn"]),
            ("input channels", [line for line, _ in channels]),
            ("output path", job["OutputDataConfig"]["S3OutputPath"]),
            (
                "resources",
                f"{resources['InstanceCount']} x {resources['InstanceType']}, "
                f"{resources['VolumeSizeInGB']} GB volume",
            ),
            ("max runtime", f"{stopping.get('MaxRuntimeInSeconds', '-')} s"),
            ("spot training", str(job.get("EnableManagedSpotTraining", False))),
            ("hyperparameters", [f"{k} = {v}" for k, v in sorted(job.get("HyperParameters", {}).items())]),
            ("metric definitions", [f"{m['Name']}  /{m['Regex']}/" for m in algorithm.get("MetricDefinitions", [])]),
            ("final metrics", [f"{m['MetricName']} = {m['Value']:.4g}" for m in job.get("FinalMetricDataList", [])]),
            ("model", job.get("ModelArtifacts", {}).get("S3ModelArtifacts", "-")),
            ("tags", [f"{t['Key']} = {t['Value']}" for t in tags]),
        ]
    )
    data_rows = sum(count for _, count in channels)
    if expected_rows is not None and data_rows != int(expected_rows):
        raise Problem(f"{name}'s input channels hold {data_rows} rows, not the {expected_rows} expected")


def metrics(name: str, summary_file: str) -> None:
    """One line of the job's final metrics (the summary's), into SUMMARY_FILE."""
    job = client("sagemaker").describe_training_job(TrainingJobName=name)
    line = ", ".join(f"{m['MetricName']} {m['Value']:.4g}" for m in job.get("FinalMetricDataList", []))
    Path(summary_file).write_text(line or "(no metrics)")
    say(f"{name}: {job['TrainingJobStatus']}; {line}")


# ---------------------------------------------------------------------------
# evaluation and registry


def evaluation(path: str) -> None:
    """Shows a "Model Evaluation Completed" event as its rule delivered it."""
    event = json.loads(Path(path).read_text())
    detail = event["detail"]
    verdicts = [
        f"{t['metric']} = {t.get('actual')}  {t['comparison']} {t['threshold']}: "
        f"{'pass' if t['passed'] else 'FAIL'}"
        for t in detail.get("thresholds", [])
    ]
    rows(
        [
            ("event", f"{event['detail-type']} from {event['source']}, id {event['id']}"),
            ("passed", str(detail["passed"])),
            ("thresholds", verdicts),
            ("model", detail.get("model_artifacts", "-")),
            ("report copy", detail.get("evaluation_report", "-")),
        ]
    )


def model_package(arn: str) -> None:
    package = client("sagemaker").describe_model_package(ModelPackageName=arn)
    containers = package["InferenceSpecification"]["Containers"]
    metadata = package.get("CustomerMetadataProperties", {})
    metrics = [f"{k.removeprefix('metric:')} = {v}" for k, v in sorted(metadata.items()) if k.startswith("metric:")]
    quality = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    rows(
        [
            ("group", package["ModelPackageGroupName"]),
            ("version", str(package["ModelPackageVersion"])),
            ("arn", package["ModelPackageArn"]),
            ("status", f"{package['ModelPackageStatus']}, {package['ModelApprovalStatus']}"),
            ("image", [c["Image"] for c in containers]),
            ("model data", [c.get("ModelDataUrl", "-") for c in containers]),
            ("trained by", metadata.get("training_job_name", "-")),
            ("metrics", metrics),
            ("model quality", quality.get("S3Uri", "(none)")),
        ]
    )


def approve(arn: str) -> None:
    sagemaker = client("sagemaker")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    status = sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
    if status != "Approved":
        raise Problem(f"{arn} is {status} after the approval")
    say(f"{arn}: {status}")


def package_event(arn: str, template: str, out: str) -> None:
    """SageMaker's event for the version, from the sample: the real version's
    ARN, version, name, group and resources, and what it describes."""
    package = client("sagemaker").describe_model_package(ModelPackageName=arn)
    group, version = package["ModelPackageGroupName"], package["ModelPackageVersion"]
    event = json.loads(Path(template).read_text())
    event["id"], event["time"] = str(uuid.uuid4()), event_time()
    event["resources"] = [package["ModelPackageArn"]]
    detail = event["detail"]
    detail.update(
        ModelPackageArn=package["ModelPackageArn"],
        ModelPackageVersion=version,
        ModelPackageName=f"{group}/{version}",
        ModelPackageGroupName=group,
        ModelApprovalStatus=package["ModelApprovalStatus"],
        InferenceSpecification=package["InferenceSpecification"],
        CreationTime=epoch_ms(package.get("CreationTime")),
        LastModifiedTime=epoch_ms(package.get("LastModifiedTime", package.get("CreationTime"))),
    )
    if "ModelMetrics" in package:
        detail["ModelMetrics"] = package["ModelMetrics"]
    training_job_arn = package.get("CustomerMetadataProperties", {}).get("training_job_arn")
    if training_job_arn:
        detail["MetadataProperties"] = {"GeneratedBy": training_job_arn}
    write_json(out, event)
    say(f"{out}: {detail['ModelPackageName']} {detail['ModelApprovalStatus']}")


# ---------------------------------------------------------------------------
# deployment


def endpoint(name: str, package_arn: str) -> None:
    sagemaker = client("sagemaker")
    described = sagemaker.describe_endpoint(EndpointName=name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    variants, models = [], []
    serving = set()
    live = {v["VariantName"]: v for v in described.get("ProductionVariants", [])}
    for variant in config["ProductionVariants"]:
        now = live.get(variant["VariantName"], {})
        capacity = (
            f"{now.get('CurrentInstanceCount', '?')} x {variant['InstanceType']}"
            if "InstanceType" in variant
            else f"serverless {variant.get('ServerlessConfig')}"
        )
        variants.append(f"{variant['VariantName']}: {capacity}, model {variant['ModelName']}")
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        for container in model.get("Containers") or [model.get("PrimaryContainer", {})]:
            package = container.get("ModelPackageName", "-")
            serving.add(package)
            models.append(f"{variant['ModelName']} -> model package {package}")
    rows(
        [
            ("name", described["EndpointName"]),
            ("status", described["EndpointStatus"]),
            ("config", described["EndpointConfigName"]),
            ("variant", variants),
            ("model", models),
        ]
    )
    if described["EndpointStatus"] != "InService":
        raise Problem(f"endpoint {name} is {described['EndpointStatus']}, not InService")
    if serving != {package_arn}:
        raise Problem(f"endpoint {name} serves {sorted(serving)}, not {package_arn}")


def deployment(name: str, updates: str, summary_file: str | None = None) -> None:
    base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    with urllib.request.urlopen(f"{base}/_emulator/sagemaker/endpoints/{name}", timeout=10) as answer:
        state = json.load(answer)
    deployment_config = state.get("LastDeploymentConfig") or {}
    policy = deployment_config.get("BlueGreenUpdatePolicy", {})
    routing = policy.get("TrafficRoutingConfiguration", {})
    step = routing.get("CanarySize") or routing.get("LinearStepSize")
    alarms = deployment_config.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    optional = [
        ("termination wait", policy.get("TerminationWaitInSeconds"), " s"),
        ("max execution", policy.get("MaximumExecutionTimeoutInSeconds"), " s"),
    ]
    rows(
        [
            ("endpoint", f"{state['EndpointName']}: {state['EndpointStatus']}, {state['UpdateCount']} update(s)"),
            ("config", state["EndpointConfigName"]),
            ("traffic routing", routing.get("Type", "(no deployment config)")),
            ("step", f"{step['Value']} {step['Type']}" if step else "-"),
            ("wait", f"{routing.get('WaitIntervalInSeconds', '-')} s between shifts"),
            *[(label, f"{value}{unit}") for label, value, unit in optional if value is not None],
            ("rollback alarms", [a["AlarmName"] for a in alarms]),
        ]
    )
    if summary_file and routing:
        shift = f"{step['Value']}{'%' if step['Type'] == 'CAPACITY_PERCENT' else ' instance(s)'}" if step else "all"
        Path(summary_file).write_text(
            f"{routing['Type']}: {shift} first, {routing.get('WaitIntervalInSeconds')} s between shifts, "
            f"rollback on {', '.join(a['AlarmName'] for a in alarms) or 'no alarm'}\n"
        )
    if state["UpdateCount"] != int(updates):
        raise Problem(f"expected {updates} UpdateEndpoint call(s) on {name}, the emulator counted {state['UpdateCount']}")
    if not deployment_config:
        raise Problem(f"the last UpdateEndpoint on {name} carried no DeploymentConfig")


def predict(name: str, request_file: str, summary_file: str) -> None:
    """InvokeEndpoint with the example's sample request, as an application calls
    the model; the predictions into SUMMARY_FILE."""
    body = Path(request_file).read_bytes()
    answer = client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Accept="text/csv", Body=body
    )
    predictions = answer["Body"].read().decode().split()
    requests = [line for line in body.decode().splitlines() if line.strip()]
    if len(predictions) != len(requests):
        raise Problem(f"{len(requests)} rows sent to {name}, {len(predictions)} predictions back: {predictions}")
    for row, prediction in zip(requests, predictions):
        say(f"{row}  ->  {float(prediction):.1f}")
    Path(summary_file).write_text(", ".join(f"{float(p):.1f}" for p in predictions))
    say(f"(variant {answer.get('InvokedProductionVariant', '-')}, {answer['ContentType']})")


def bad_request(name: str) -> None:
    """A malformed request: the model's 4xx comes back as SageMaker's ModelError."""
    runtime = client("sagemaker-runtime")
    try:
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"not,a,number\n")
    except runtime.exceptions.ModelError as error:
        response = error.response
        say(f"ModelError, the model answered {response.get('OriginalStatusCode')}: {response.get('OriginalMessage', '').strip()}")
        return
    raise Problem(f"{name} accepted a malformed request")


def _http(method: str, url: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request to the inference API: (status, headers, body), errors included."""
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def api(url: str, request_file: str, version: str, summary_file: str, *flags: str) -> None:
    """The inference API as an application calls it: the same predictions as
    InvokeEndpoint gave (SUMMARY), the live VERSION, and with --errors the
    model's 400 and a 415, each with the request id."""
    body = Path(request_file).read_bytes()
    status, headers, answer = _http("POST", f"{url}/predictions", body, "text/csv")
    if status != 200:
        raise Problem(f"POST {url}/predictions answered {status}: {answer[:300]!r}")
    predictions = ", ".join(f"{float(p):.1f}" for p in answer.decode().split())
    if predictions != Path(summary_file).read_text():
        raise Problem(f"the API predicted {predictions}, InvokeEndpoint {Path(summary_file).read_text()}")
    say(f"POST /predictions -> 200 {headers.get('content-type')}: {predictions} (x-request-id {headers.get('x-request-id')})")
    status, _, answer = _http("GET", f"{url}/model")
    live = json.loads(answer) if status == 200 else {}
    if str(live.get("model_package_version")) != version:
        raise Problem(f"GET {url}/model answered {status} {answer[:300]!r}, expected version {version}")
    say(f"GET /model -> 200: version {version} live on {live.get('endpoint')}")
    if "--errors" not in flags:
        return
    for what, request, content_type, expected in (
        ("a malformed row", b"not,a,number\n", "text/csv", 400),
        ("an XML body", b"<rows/>", "application/xml", 415),
    ):
        status, headers, answer = _http("POST", f"{url}/predictions", request, content_type)
        problem = json.loads(answer)
        if status != expected or problem.get("request_id") != headers.get("x-request-id"):
            raise Problem(f"{what}: expected {expected} with the request id, got {status} {answer[:300]!r}")
        say(f"{what} -> {status} {problem['code']}: {problem['message'].strip()}")


def autoscaling(name: str) -> None:
    scaling = client("application-autoscaling")
    resource_id = f"endpoint/{name}/variant/AllTraffic"
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource_id])
    policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource_id)
    if not targets["ScalableTargets"]:
        raise Problem(f"no scalable target {resource_id} in Application Auto Scaling")
    target = targets["ScalableTargets"][0]
    rows(
        [
            ("scalable target", f"{resource_id}: {target['MinCapacity']}-{target['MaxCapacity']} instances"),
            (
                "policies",
                [
                    f"{p['PolicyName']}: {p['PolicyType']} "
                    f"{p['TargetTrackingScalingPolicyConfiguration']['TargetValue']:g} "
                    f"{p['TargetTrackingScalingPolicyConfiguration']['PredefinedMetricSpecification']['PredefinedMetricType']}"
                    for p in policies["ScalingPolicies"]
                ],
            ),
        ]
    )


def census() -> None:
    sagemaker = client("sagemaker")
    packages = sum(
        len(page["ModelPackageSummaryList"])
        for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageType="Versioned")
    )
    endpoints = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    print(
        f"{len(training_jobs(sagemaker))} training jobs, {packages} model package versions, "
        f"{len(endpoints)} endpoint{'' if len(endpoints) == 1 else 's'} ({', '.join(sorted(endpoints))})"
    )


# ---------------------------------------------------------------------------
# a function's answer


def parse_answer(answer: str) -> dict:
    try:
        document = json.loads(answer)
    except json.JSONDecodeError as err:
        raise Problem(f"the answer is not JSON ({err}): {answer!r}") from None
    if not isinstance(document, dict):
        raise Problem(f"the answer is not a JSON object: {answer!r}")
    return document


def lookup(document: Any, path: str) -> Any:
    """document's value at a dotted path (list items by index); None when absent."""
    for part in path.split("."):
        if isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif isinstance(document, dict):
            document = document.get(part)
        else:
            return None
    return document


def expect(answer: str, *checks: str) -> None:
    document = parse_answer(answer)
    for check in checks:
        key, _, raw = check.partition("=")
        if key.endswith("~"):
            value = lookup(document, key[:-1])
            if not isinstance(value, str) or raw not in value:
                raise Problem(f"expected {key[:-1]} to contain {json.dumps(raw)}, the answer has {json.dumps(value)}")
            continue
        try:
            wanted = json.loads(raw)
        except json.JSONDecodeError:
            wanted = raw
        if lookup(document, key) != wanted:
            raise Problem(
                f"expected {key}={json.dumps(wanted)}, the answer has {key}={json.dumps(lookup(document, key))}"
            )


def field(answer: str, key: str) -> None:
    value = lookup(parse_answer(answer), key)
    if value is None:
        raise Problem(f"the answer has no {key}")
    print(value if isinstance(value, str) else json.dumps(value))


# ---------------------------------------------------------------------------
# retraining: RetrainQueue's batches and the bursts' schedules
#
# The new-training-data rule targets the SQS queue RetrainQueue, whose event
# source mapping invokes retrain_model_on_new_data with batches of messages;
# the function's one-time EventBridge Scheduler schedules send their input to
# that queue when due. In the demo the rule's stand-in queue plays RetrainQueue
# (the schedules' target), the demo invokes the function with each batch as the
# event source mapping would, and the quiet period passes on the emulator's
# scheduler clock (tests/emulator/scheduler_rules.py).


def _stand_in(state: dict, target: str) -> dict:
    """The rule whose queue stands in for TARGET (a target's label, e.g. "SQS
    queue RetrainQueue"). Each rule has its own queue, so that a delivery is
    told by its rule; when several rules target TARGET (RetrainQueue: the
    new-training-data and processing-job-completed rules), the first in the
    template's order plays it: the schedules send there, and the batches name
    its ARN."""
    rules = [r for r in state["rules"] if target in [target_label(t) for t in r["targets"]]]
    if not rules:
        raise Problem(f"no rule of {state['template']} targets {target}")
    return rules[0]


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _instant(text: str) -> datetime.datetime:
    """A time as the function writes them (RFC 3339, "2026-11-23T09:21:00Z")."""
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(f"{text!r} is not a time like 2026-11-23T09:21:00Z") from None
    if when.tzinfo is None:
        raise Problem(f"{text!r} has no offset (Z)")
    return when


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _emulator(method: str, path: str, body: Any = None) -> Any:
    """A request to the emulator's own endpoints (/_emulator/PATH): its JSON answer."""
    base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    request = urllib.request.Request(
        f"{base}/_emulator/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise Problem(f"{method} /_emulator/{path} answered {error.code}: {error.read()[:300]!r}") from None


def _sqs_record(body: str, queue_arn: str, message: dict | None = None) -> dict:
    """One record of Lambda's SQS event, as an event source mapping delivers a
    message with this body (the shape of events/sqs-s3-object-created.json):
    MESSAGE's own id, receipt handle and attributes when it was received from
    the queue, else made up as SQS makes them."""
    message = message or {}
    sent = str(int(time.time() * 1000))
    return {
        "messageId": message.get("MessageId") or str(uuid.uuid4()),
        "receiptHandle": message.get("ReceiptHandle") or base64.b64encode(os.urandom(48)).decode(),
        "body": body,
        "attributes": message.get("Attributes")
        or {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def queue_arn(state: str, target: str) -> None:
    print(_stand_in(_load_state(state), target)["queue_arn"])


def schedule_group(name: str) -> None:
    """The schedule group of the retraining schedules (template.yaml's
    RetrainScheduleGroup, <pipeline>-retraining)."""
    arn = client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    say(f"EventBridge Scheduler group {name} (RetrainScheduleGroup): {arn}")


def sqs_batch(state: str, target: str, out: str, *events: str) -> None:
    """The events a rule delivered to TARGET's queue (the files `upload` wrote),
    as that queue's event source mapping delivers them to the function: one
    batch, a record per message, each body the event's JSON text."""
    if not events:
        raise Problem("sqs-batch: no event file given")
    arn = _stand_in(_load_state(state), target)["queue_arn"]
    records, described = [], []
    for path in events:
        try:
            event = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise Problem(f"cannot read the event {path} ({err})") from None
        records.append(_sqs_record(json.dumps(event, separators=(",", ":")), arn))
        described.append(_describe(event))
    write_json(out, {"Records": records})
    say(f"one batch of {len(records)} message(s) from {_queue_name(arn)} (for {target}), as its event source mapping delivers it: {out}")
    for line in described:
        say(f"    {line}")


def schedules(group: str, count: str) -> None:
    """Shows the group's schedules (when due, target, the burst they stand for);
    checks there are COUNT."""
    scheduler = client("scheduler")
    names = [
        summary["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group)
        for summary in page["Schedules"]
    ]
    lines = []
    for name in names:
        schedule = scheduler.get_schedule(GroupName=group, Name=name)
        try:
            due = json.loads(schedule["Target"].get("Input") or "{}").get("retraining_due") or {}
        except json.JSONDecodeError:
            due = {}
        first = due.get("first_object") or {}
        lines.append(
            f"{name}: {schedule['ScheduleExpression']} {schedule.get('ScheduleExpressionTimezone', 'UTC')}, "
            f"{schedule.get('State')}, -> {_queue_name(schedule['Target']['Arn'])}; retraining_due {due.get('due', '?')}, "
            f"burst from s3://{first.get('bucket', '?')}/{first.get('key', '?')} ({first.get('time', '?')})"
        )
    rows([(f"group {group}", lines)])
    if len(names) != int(count):
        raise Problem(f"expected {count} schedule(s) in {group}, found {len(names)}: {names}")


def _receive_all(sqs, queue_url: str) -> list[dict]:
    """Every message the queue holds now, received (with the attributes Lambda
    passes on) and deleted."""
    found = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"],
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        found.extend(messages)


def _body(message: dict) -> dict:
    try:
        body = json.loads(message["Body"])
    except json.JSONDecodeError:
        body = None
    return body if isinstance(body, dict) else {"(not JSON)": message["Body"]}


def quiet_period(state_file: str, target: str, due: str, out: str, seconds: str = "15") -> None:
    """The quiet period passes, on the emulator's scheduler clock: nothing is
    waiting in any rule's queue yet and no schedule has fired since the last
    quiet period; the clock is set to DUE + 1 s; the schedule's message (a
    `retraining_due` for DUE) must arrive in TARGET's queue within SECONDS,
    and nothing else anywhere, and it must be the only firing. It goes to OUT
    as an SQS batch (as `sqs-batch`). The firing is appended to
    scheduler-fired.jsonl next to STATE and the emulator's log of firings
    emptied. The clock is real time again afterwards, so that later S3 times
    and due times agree."""
    state = _load_state(state_file)
    rule = _stand_in(state, target)
    arn = rule["queue_arn"]
    due_at = _instant(due)
    sqs = client("sqs")

    waiting = [(r, body) for r in state["rules"] for body in _drain(sqs, r["queue_url"])]
    if waiting:
        r, body = waiting[0]
        raise Problem(
            f"before the quiet period, {_describe(body)} was already waiting in the queue of rule {r['name']}"
            + (f" and {len(waiting) - 1} more" if len(waiting) > 1 else "")
        )
    fired = _emulator("GET", "scheduler/fired")["fired"]
    if fired:
        raise Problem(f"before the quiet period passed, {len(fired)} schedule(s) fired: {fired}")
    say(f"before {due}: nothing in {_queue_name(arn)}, no schedule fired: nothing starts yet")

    clock = _emulator("POST", "clock", {"now": _iso(due_at + datetime.timedelta(seconds=1))})
    say(f"the scheduler's clock jumps to {clock['now']} (POST /_emulator/clock; {clock['offset_seconds']:+.0f} s)")
    ours: list[dict] = []
    strays: list[tuple[dict, dict]] = []
    try:
        deadline = time.monotonic() + float(seconds)
        while True:
            for r in state["rules"]:
                for message in _receive_all(sqs, r["queue_url"]):
                    body = _body(message)
                    if r is rule and (body.get("retraining_due") or {}).get("due") == due:
                        ours.append(message)
                    else:
                        strays.append((r, body))
            if ours or strays or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # a second message (a schedule firing twice) would be here by now
        ours += _receive_all(sqs, rule["queue_url"])
    finally:
        _emulator("POST", "clock", {})
    entries = _emulator("GET", "scheduler/fired")["fired"]
    with Path(state_file).with_name("scheduler-fired.jsonl").open("a") as log:
        log.writelines(json.dumps(entry) + "\n" for entry in entries)
    _emulator("DELETE", "scheduler/fired")
    problems = [
        f"{_describe(body)} arrived in the queue of rule {r['name']} (for "
        f"{', '.join(target_label(t) for t in r['targets'])}), which no stage expects"
        for r, body in strays
    ]
    if not ours:
        problems.append(
            f"no message of the schedule due {due} arrived in {_queue_name(arn)} within {float(seconds):.0f} s "
            f"(the scheduler's fired log for it: {entries or 'nothing'})"
        )
    elif len(ours) > 1:
        problems.append(f"the schedule due {due} sent {len(ours)} messages to {_queue_name(arn)}")
    others = [e for e in entries if e.get("scheduled_for") != _iso(due_at) or e.get("target") != arn or "error" in e]
    if others or len(entries) > 1:
        problems.append(f"the scheduler's firings, where only the schedule due {due} was expected: {entries}")
    if problems:
        raise Problem(" | ".join(problems))
    [message] = ours
    write_json(out, {"Records": [_sqs_record(message["Body"], arn, message)]})
    sent = json.loads(message["Body"])["retraining_due"]
    for entry in entries:
        say(f"schedule {entry['schedule']} ({entry['group']}) fired at {entry['at']} (scheduler time) -> {_queue_name(entry['target'])}")
    say(f"its message: retraining_due {sent.get('schedule')}, due {sent.get('due')}, data {sent.get('data')}; as a batch: {out}")
    say("(the scheduler's clock is real time again)")


def past_burst(due: str, minutes: str) -> None:
    """Waits until an object uploaded now falls after the burst due at DUE:
    its S3 event time (whole seconds) later than DUE minus the quiet period
    (MINUTES), so that its own quiet period ends after DUE. The demo needs it
    because its quiet periods pass on the scheduler's clock while S3's event
    times stay real: a file uploaded "after the job started" may otherwise still
    be inside that burst's quiet period."""
    boundary = _instant(due) - datetime.timedelta(minutes=int(minutes))
    ready = boundary + datetime.timedelta(seconds=1.5)
    wait = (ready - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if wait > 90:
        raise Problem(f"an upload would be past the burst due {due} only in {wait:.0f} s")
    if wait > 0:
        say(f"waiting {wait:.1f} s, until S3's event times are past {_iso(boundary)} ({minutes} min before {due})")
        time.sleep(wait)
    say(f"now {event_time()}: a new object's quiet period ends after {due}, the started burst's due time")

STAGES_ORDER = ("trigger", "retrain", "evaluate", "register", "deploy", "serve")


def _emf_problem(document: Any) -> str | None:
    """What is wrong with an Embedded Metric Format document, if anything (the
    format's required structure; the Rust tests check its limits too)."""
    aws = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(aws, dict) or not isinstance(aws.get("Timestamp"), int):
        return "no _aws with an integer Timestamp"
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return "no CloudWatchMetrics"
    for directive in directives:
        if not isinstance(directive.get("Namespace"), str) or not directive["Namespace"]:
            return "a directive without Namespace"
        for dimensions in directive.get("Dimensions", []):
            for name in dimensions:
                if not isinstance(document.get(name), str):
                    return f"dimension {name} is not a string member"
        for metric in directive.get("Metrics") or [None]:
            name = (metric or {}).get("Name")
            if not isinstance(document.get(name), (int, float)):
                return f"metric {name} is not a number member"
    return None


def _emf_value(value: Any) -> str:
    """A count's sum, or a value's series ("57.88 / 56.83")."""
    return " / ".join(f"{v:.4g}" for v in value) if isinstance(value, list) else f"{value:g}"


def emf(log: str, *stages: str) -> None:
    """Sums the counts of the Embedded Metric Format documents in LOG per
    stage and metric (a class dimension, Reason, ErrorType, Cause or Metric,
    in brackets), lists the values of the others (ModelQuality), and prints
    them; every document must be well formed and each STAGE must have
    written some."""
    totals: dict[str, dict[str, Any]] = {}
    count = 0
    for line in Path(log).read_text(errors="replace").splitlines():
        start = line.find('{"')
        if start < 0 or '"_aws"' not in line:
            continue
        try:
            document = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        problem = _emf_problem(document)
        if problem:
            raise Problem(f"not an EMF document ({problem}): {line[start:][:200]}")
        count += 1
        stage = totals.setdefault(document.get("Stage", "?"), {})
        for directive in document["_aws"]["CloudWatchMetrics"]:
            longest = max(directive["Dimensions"], key=len, default=[])
            extra = "".join(f"[{d}={document[d]}]" for d in longest if d not in ("Pipeline", "Stage"))
            for metric in directive["Metrics"]:
                key, value = metric["Name"] + extra, document[metric["Name"]]
                if metric.get("Unit") == "Count":
                    stage[key] = stage.get(key, 0) + value
                else:  # a value (a model's metric): each one, in order
                    stage.setdefault(key, []).append(value)
    missing = [s for s in stages if s not in totals]
    if missing:
        raise Problem(f"no metrics from {', '.join(missing)} in {log}")
    order = {name: i for i, name in enumerate(STAGES_ORDER)}
    rows(
        [
            (stage, ", ".join(f"{k} {_emf_value(v)}" for k, v in sorted(totals[stage].items())))
            for stage in sorted(totals, key=lambda s: order.get(s, len(order)))
        ]
    )
    say(f"({count} EMF documents, namespace MLOpsPipeline, dimensions Pipeline and Stage)")


COMMANDS: dict[str, Callable[..., None]] = {
    "data-bucket": data_bucket,
    "rules": create_rules,
    "schedule-group": schedule_group,
    "queue-arn": queue_arn,
    "route": route,
    "delivered": delivered,
    "upload": upload,
    "sqs-batch": sqs_batch,
    "schedules": schedules,
    "quiet-period": quiet_period,
    "past-burst": past_burst,
    "push": push,
    "awaited": awaited,
    "alerted": alerted,
    "processing-job": processing_job,
    "exit-message": exit_message,
    "training-job": training_job,
    "metrics": metrics,
    "evaluation": evaluation,
    "model-package": model_package,
    "register-image": register_image,
    "approve": approve,
    "package-event": package_event,
    "endpoint": endpoint,
    "predict": predict,
    "bad-request": bad_request,
    "api": api,
    "autoscaling": autoscaling,
    "deployment": deployment,
    "census": census,
    "expect": expect,
    "field": field,
    "emf": emf,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command = COMMANDS[argv[0]]
    try:
        inspect.signature(command).bind(*argv[1:])
    except TypeError as err:
        print(f"{argv[0]}: {err}\n{__doc__}", file=sys.stderr)
        return 2
    try:
        command(*argv[1:])
    except Problem as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
