"""The AWS side of scripts/demo.sh: what the user, SageMaker and the user's
infrastructure do between the pipeline's Lambda invocations.

Usage: .venv/bin/python scripts/demo_aws.py <command> [arguments]

Every command talks to whatever AWS_ENDPOINT_URL points at (the local emulator
in scripts/demo.sh), prints a few indented lines for the demo's output, and
exits non-zero with a one-line reason on stderr when something is not as
expected. Commands, in the order the demo uses them:

  seed-data BUCKET PREFIX          upload a small CSV training set (creates the bucket)
  subscribe QUEUE RULE             SQS queue + EventBridge rule (default bus) for passed evaluations
  push-event SOURCE OUT TAG        an ECR push event like SOURCE, for another image (new digest, TAG)
  training-job NAME JOBS           show a training job; check that JOBS jobs exist in all
  job-output NAME RMSE R2          upload what the job would have written: model.tar.gz, output.tar.gz
  training-event NAME TEMPLATE OUT SageMaker's "Training Job State Change" for the job (Completed)
  receive QUEUE EVENT_ID OUT       take the event EVENT_ID off the queue, write it to OUT
  model-package ARN                show a model package version
  approve ARN                      UpdateModelPackage ModelApprovalStatus=Approved, as a user does
  package-event ARN TEMPLATE OUT   SageMaker's "Model Package State Change" for the version
  endpoint NAME PACKAGE_ARN        show the endpoint; check it is InService and serves PACKAGE_ARN
  deployment NAME UPDATES [SUMMARY] the last blue/green deployment UpdateEndpoint asked for (emulator
                                   control endpoint); check there were UPDATES updates; a one-line
                                   summary of it into the file SUMMARY
  census                           one line: how many jobs, package versions, endpoints exist

and two that read a function's JSON answer (no AWS calls):

  expect ANSWER KEY=VALUE...       check fields of ANSWER (VALUE read as JSON when it parses)
  field ANSWER KEY                 print one field of ANSWER
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import inspect
import io
import json
import os
import random
import sys
import tarfile
import time
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


def sample_csv(rows_wanted: int = 200, seed: int = 7) -> str:
    # y = 3*x1 - 2*x2 + 0.5*x3 + noise, deterministic for a given seed; the
    # headerless "label first" layout SageMaker's built-in algorithms read.
    rng = random.Random(seed)
    lines = []
    for _ in range(rows_wanted):
        x = [round(rng.uniform(-1, 1), 4) for _ in range(3)]
        y = 3 * x[0] - 2 * x[1] + 0.5 * x[2] + rng.gauss(0, 0.1)
        lines.append(",".join(str(v) for v in [round(y, 4), *x]))
    return "\n".join(lines) + "\n"


def seed_data(bucket: str, prefix: str) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    key = f"{prefix.strip('/')}/train.csv"
    body = sample_csv().encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    lines = body.count(b"\n")
    say(f"s3://{bucket}/{key} ({lines} rows, {len(body)} bytes)")


# What a user's infrastructure subscribes to: this pipeline's passed evaluations.
PASSED_EVALUATIONS = {
    "source": ["mlops.pipeline"],
    "detail-type": ["Model Evaluation Completed"],
    "detail": {"passed": [True]},
}


def subscribe(queue: str, rule: str) -> None:
    sqs, events = client("sqs"), client("events")
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    pattern = json.dumps(PASSED_EVALUATIONS, separators=(",", ":"))
    events.put_rule(Name=rule, EventBusName="default", EventPattern=pattern, State="ENABLED")
    answer = events.put_targets(
        Rule=rule, EventBusName="default", Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    if answer.get("FailedEntryCount"):
        raise Problem(f"PutTargets failed: {answer['FailedEntryEntries']}")
    rows([("rule", f"{rule} on the default bus: {pattern}"), ("target", f"SQS {queue_arn}")])


def push_event(source: str, out: str, tag: str) -> None:
    event = json.loads(Path(source).read_text())
    digest = "sha256:" + hashlib.sha256(f"{event['detail']['repository-name']}:{tag}".encode()).hexdigest()
    event["id"] = str(uuid.uuid4())
    event["time"] = event_time()
    event["detail"]["image-digest"] = digest
    event["detail"]["image-tag"] = tag
    write_json(out, event)
    say(f"{out}: {event['detail']['repository-name']}:{tag} pushed, digest {digest}")


# ---------------------------------------------------------------------------
# training


def channel_line(s3, channel: dict) -> str:
    source = channel["DataSource"]["S3DataSource"]
    bucket, prefix = s3_parts(source["S3Uri"])
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0)
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
    return f"{channel['ChannelName']}: {source['S3Uri']} ({details}; {objects} object(s) there)"


def training_jobs(sagemaker) -> list[str]:
    return [
        job["TrainingJobName"]
        for page in sagemaker.get_paginator("list_training_jobs").paginate()
        for job in page["TrainingJobSummaries"]
    ]


def training_job(name: str, expected_jobs: str) -> None:
    sagemaker, s3 = client("sagemaker"), client("s3")
    names = training_jobs(sagemaker)
    if len(names) != int(expected_jobs):
        raise Problem(f"expected {expected_jobs} training job(s) in all, found {len(names)}: {names}")
    job = sagemaker.describe_training_job(TrainingJobName=name)
    tags = sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    algorithm, resources = job["AlgorithmSpecification"], job["ResourceConfig"]
    stopping = job.get("StoppingCondition", {})
    rows(
        [
            ("name", job["TrainingJobName"]),
            ("status", f"{job['TrainingJobStatus']} (the emulator completes jobs at once)"),
            ("arn", job["TrainingJobArn"]),
            ("image", algorithm["TrainingImage"]),
            ("role", job["RoleArn"]),
            ("input channels", [channel_line(s3, c) for c in job.get("InputDataConfig", [])]),
            ("output path", job["OutputDataConfig"]["S3OutputPath"]),
            (
                "resources",
                f"{resources['InstanceCount']} x {resources['InstanceType']}, "
                f"{resources['VolumeSizeInGB']} GB volume",
            ),
            ("max runtime", f"{stopping.get('MaxRuntimeInSeconds', '-')} s"),
            ("spot training", str(job.get("EnableManagedSpotTraining", False))),
            ("hyperparameters", [f"{k} = {v}" for k, v in sorted(job.get("HyperParameters", {}).items())]),
            ("metrics", [f"{m['Name']}  /{m['Regex']}/" for m in algorithm.get("MetricDefinitions", [])]),
            ("tags", [f"{t['Key']} = {t['Value']}" for t in tags]),
        ]
    )


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzip-compressed tar of the given files, as SageMaker uploads its output."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


def job_output(name: str, rmse: str, r2: str) -> None:
    """Uploads what the training container would have left behind.

    SageMaker uploads /opt/ml/model as <S3OutputPath>/<job>/output/model.tar.gz
    and /opt/ml/output/data as .../output/output.tar.gz; the evaluation report
    is evaluation.json in the latter. The emulator trains nothing, so a
    stand-in model and a report with the given metrics take their place.
    """
    sagemaker, s3 = client("sagemaker"), client("s3")
    job = sagemaker.describe_training_job(TrainingJobName=name)
    bucket, prefix = s3_parts(job["OutputDataConfig"]["S3OutputPath"])
    folder = f"{prefix.rstrip('/')}/{name}/output/".lstrip("/")
    report = {"regression_metrics": {"rmse": {"value": float(rmse)}, "r2": {"value": float(r2)}}}
    model = {"note": "stand-in for the trained model: the emulator runs no training", "job": name}
    uploads = {
        "model.tar.gz": tar_gz({"model.json": json.dumps(model).encode()}),
        "output.tar.gz": tar_gz({"evaluation.json": json.dumps(report).encode()}),
    }
    for file, body in uploads.items():
        s3.put_object(Bucket=bucket, Key=folder + file, Body=body, ContentType="application/gzip")
    rows(
        [
            ("model", f"s3://{bucket}/{folder}model.tar.gz (model.json, a stand-in)"),
            ("report", f"s3://{bucket}/{folder}output.tar.gz: evaluation.json {json.dumps(report)}"),
        ]
    )


def training_event(name: str, template: str, out: str) -> None:
    """SageMaker's event for the job, from the sample: the real job's name,
    ARN and resources, and the fields SageMaker copies from the job."""
    sagemaker = client("sagemaker")
    job = sagemaker.describe_training_job(TrainingJobName=name)
    event = json.loads(Path(template).read_text())
    event["id"], event["time"] = str(uuid.uuid4()), event_time()
    event["resources"] = [job["TrainingJobArn"]]
    detail = event["detail"]
    detail["TrainingJobName"] = job["TrainingJobName"]
    detail["TrainingJobArn"] = job["TrainingJobArn"]
    detail["TrainingJobStatus"] = job["TrainingJobStatus"]
    detail["AlgorithmSpecification"]["TrainingImage"] = job["AlgorithmSpecification"]["TrainingImage"]
    detail["HyperParameters"] = job.get("HyperParameters", {})
    detail["InputDataConfig"] = job.get("InputDataConfig", [])
    detail["OutputDataConfig"] = {"KmsKeyId": "", **job["OutputDataConfig"]}
    detail["ModelArtifacts"] = job["ModelArtifacts"]
    tags = sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    detail["Tags"] = {t["Key"]: t["Value"] for t in tags}
    write_json(out, event)
    say(f"{out}: {detail['TrainingJobStatus']}, {detail['TrainingJobArn']}")


# ---------------------------------------------------------------------------
# evaluation and registry


def receive(queue: str, event_id: str, out: str, seconds: float = 15) -> None:
    sqs = client("sqs")
    queue_url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            if event.get("id") != event_id:
                say(f"(ignored another event on the queue: {event.get('id')})")
                continue
            write_json(out, event)
            detail = event["detail"]
            verdicts = [
                f"{t['metric']} = {t.get('actual')}  {t['comparison']} {t['threshold']}: "
                f"{'pass' if t['passed'] else 'FAIL'}"
                for t in detail.get("thresholds", [])
            ]
            rows(
                [
                    ("event", f"{event['detail-type']} from {event['source']}, id {event['id']} -> {out}"),
                    ("passed", str(detail["passed"])),
                    ("thresholds", verdicts),
                    ("model", detail.get("model_artifacts", "-")),
                    ("report copy", detail.get("evaluation_report", "-")),
                ]
            )
            return
    raise Problem(f"no event {event_id} arrived on queue {queue} within {seconds:.0f} s")


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


def census() -> None:
    sagemaker = client("sagemaker")
    packages = sum(
        len(page["ModelPackageSummaryList"])
        for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageType="Versioned")
    )
    endpoints = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    print(
        f"{len(training_jobs(sagemaker))} training jobs, {packages} model package versions, "
        f"{len(endpoints)} endpoint ({', '.join(endpoints)})"
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


def expect(answer: str, *checks: str) -> None:
    document = parse_answer(answer)
    for check in checks:
        key, _, raw = check.partition("=")
        try:
            wanted = json.loads(raw)
        except json.JSONDecodeError:
            wanted = raw
        if document.get(key) != wanted:
            raise Problem(f"expected {key}={json.dumps(wanted)}, the answer has {key}={json.dumps(document.get(key))}")


def field(answer: str, key: str) -> None:
    value = parse_answer(answer).get(key)
    if value is None:
        raise Problem(f"the answer has no {key}")
    print(value)


COMMANDS: dict[str, Callable[..., None]] = {
    "seed-data": seed_data,
    "subscribe": subscribe,
    "push-event": push_event,
    "training-job": training_job,
    "job-output": job_output,
    "training-event": training_event,
    "receive": receive,
    "model-package": model_package,
    "approve": approve,
    "package-event": package_event,
    "endpoint": endpoint,
    "deployment": deployment,
    "census": census,
    "expect": expect,
    "field": field,
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
