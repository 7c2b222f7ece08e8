"""make bench: every function's release binary measured as a process, against
the budgets in DESIGN.md (../shared/DESIGN.md, "Budgets").

Usage (from the repository root, after `cargo build --release`; `make bench`
does both):

    .venv/bin/python bench/bench.py [--runs 5] [--warmup 1] [--json target/bench/results.json]
                                    [--only SCENARIO...] [--bin-dir DIR] [--env NAME=VALUE...]
                                    [--overhead-requests 500] [--bursts 1000 10000 100000]

(--only: some scenarios, the floor always; --bin-dir: other binaries, e.g. an
earlier build kept for comparison; --env: an extra variable for every function,
for experiments such as SSL_CERT_FILE=...)

What it does:

1. Starts the project's AWS emulator (tests/emulator/launcher.py, moto on a
   free loopback port; local images for serve_predictions' endpoint only, see
   bench/serve_overhead.py) and a local Lambda Runtime API
   (bench/runtime_api.py) in this process. With the `serve` scenario, trains
   the example model and serves it on a local endpoint first (~5 s).
2. For each scenario below, and for the floor (bench/floor: lambda_runtime
   with an echo handler, no AWS SDK, the same release profile), `--runs`
   times, interleaved so that every binary sees the same machine load:
   seeds what the scenario's event needs in the emulator (through boto3,
   before the clock starts), forgets the emulator's call log, starts the
   release binary with the environment Lambda gives a function (plus
   AWS_ENDPOINT_URL), serves it the event, and records
   * cold start: process start -> its first GET .../invocation/next (ready for
     the first event), and -> its POST .../response (first answer);
   * peak RSS: VmHWM of the process when it asks for the next event, i.e.
     after its first invocation (read before it is killed);
   * CPU time (user + system, from wait4) until then;
   * the AWS calls the invocation made (the emulator's GET /_emulator/calls);
   * that the answer is the expected one (a run that did not do the work does
     not count).
   `--warmup` runs per scenario come first and are not counted (they put the
   binary and its libraries in the page cache for every binary alike).
3. Sizes: the bootstrap (target/release/<name>) and its zip as Lambda takes
   it (one file named `bootstrap`, mode 755, deflated); also the arm64 zip
   of target/lambda/<name>/bootstrap when `make build` has produced it.
   (target/: cargo's target directory, $CARGO_TARGET_DIR when it is set.)
4. serve_predictions' overhead (bench/serve_overhead.py; with the `serve`
   scenario, unless --overhead-requests 0): --overhead-requests predictions
   through the warm release binary and as many direct InvokeEndpoint calls
   (bench/floor's invoke_direct, the function's own SDK client), interleaved,
   to the same local endpoint; p50/p99 of each and their difference, beside
   the floor's Runtime API round trip for the same event. Goal: under 2 ms
   added at p50.
5. Retraining bursts (--bursts, default 1,000, 10,000 and 100,000 objects):
   the integration test tests/tests/retrain_model_on_new_data.rs (its ignored
   `bench_burst`, debug build, RETRAIN_BURST_OBJECTS) sends that many "Object
   Created" events over a simulated 10 minutes to the function's queue, the
   emulator's event source mapping (the template's settings, batching window
   1 s) delivers them to the real handler, SageMaker and the Scheduler
   throttled at 10 calls/s; its `BURST {...}` line: invocations, the largest
   batch, invocations at once, AWS calls, schedules fired, the simulated time
   from the last object to the job's due time, the real time from then to the
   job.
6. Prints one table of medians with a verdict per budget, and writes the same
   (plus every run, and the bursts) as JSON to --json.

Budgets: cold start (ready) within 2x of the floor's; peak RSS under 16 MiB on
the first invocation; zip under 6 MiB (arm64 release; the host's zip stands in,
marked, when there is no arm64 build); exactly the AWS calls the scenario
needs (listed with each scenario, with the reason for each).
Exit status: 0 when every run worked (budget misses are reported, not
failures), 1 when a run failed (no answer, wrong answer, init error).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True

sys.path.insert(0, str(ROOT / "tests" / "emulator"))
import example_latency  # noqa: E402
import serve_overhead  # noqa: E402
from emulator_process import EmulatorError, EmulatorProcess  # noqa: E402
from runtime_api import RuntimeApi  # noqa: E402

MIB = 1024 * 1024
BUDGET_COLD_FACTOR = 2.0
BUDGET_RSS_KIB = 16 * 1024
BUDGET_ZIP_BYTES = 6 * MIB

ACCOUNT = "123456789012"
REGION = "us-east-1"
PIPELINE = "mlops"
BUCKET = "mlops-bench-data"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlops-sagemaker-execution"
REPOSITORY = "mlops-training"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@sha256:" + "ab" * 32
EVENTS = ROOT / "events"

# The functions' configuration, as template.yaml sets it (the demo's values):
# one environment serves them all, each reads its own variables.
FUNCTION_ENV = {
    "PIPELINE_NAME": PIPELINE,
    "SAGEMAKER_ROLE_ARN": ROLE_ARN,
    "ECR_REPOSITORY_NAME": REPOSITORY,
    "TRAINING_CHANNELS": json.dumps(
        [{"name": "train", "s3_uri": f"s3://{BUCKET}/data/train/", "content_type": "text/csv"}]
    ),
    "TRAINING_OUTPUT_S3_URI": f"s3://{BUCKET}/models/",
    "TRAINING_HYPERPARAMETERS": '{"epochs":"10"}',
    "TRAINING_METRIC_DEFINITIONS": '[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]',
    "EVALUATION_THRESHOLDS": "regression_metrics.rmse <= 3.5, regression_metrics.r2 >= 0.8",
    "EVENT_BUS_NAME": "default",
    "EVENT_SOURCE": "mlops.pipeline",
    "DEPLOYMENT_TRAFFIC_ROUTING": "CANARY",
    "DEPLOYMENT_CANARY_PERCENT": "10",
    "DEPLOYMENT_WAIT_SECONDS": "300",
    "DEPLOYMENT_ROLLBACK_ALARMS": "mlops-endpoint-5xx",
    "RETRAIN_DATA_S3_URI": f"s3://{BUCKET}/data/train/",
    "RETRAIN_KEY_SUFFIX": ".csv",
    "RETRAIN_DATA_CHANNEL": "dataset",
    "RETRAIN_CHANNEL_NAME": "train",
    "RETRAIN_QUIET_MINUTES": "5",
    "RETRAIN_MAX_DELAY_MINUTES": "60",
    "RETRAIN_SCHEDULE_GROUP": "mlops-retraining",
    "RETRAIN_SCHEDULE_TARGET_ARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:mlops-retrain",
    "RETRAIN_SCHEDULE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/mlops-retrain-scheduler",
}
RETRAIN_DATA = f"s3://{BUCKET}/data/train/"


# --env NAME=VALUE: for experiments only.
EXTRA_ENV: dict[str, str] = {}


# Retraining bursts (tests/tests/retrain_model_on_new_data.rs, its ignored
# bench_burst test, run with RETRAIN_BURST_OBJECTS): objects per burst.
BURSTS = [1_000, 10_000, 100_000]

# The example model's /invocations latency series (bench/example_latency.py).
EXAMPLE_REQUESTS = 200
# serve_predictions' overhead: requests each way (bench/serve_overhead.py).
OVERHEAD_REQUESTS = 500


class Failed(Exception):
    """A run that did not do what the scenario expects."""


# ---------------------------------------------------------------------------
# the emulator


class Emulator(EmulatorProcess):
    """The emulator, its log in target/bench/emulator.log, and its call log."""

    def __init__(self) -> None:
        # Local images for serve_predictions' endpoint only (its own repository):
        # the other scenarios' images complete at once, as without the option.
        images = serve_overhead.local_images_file(ROOT / "target" / "bench" / "local-images.json")
        try:
            super().__init__(
                ["--local-images", str(images)], stderr=open(ROOT / "target" / "bench" / "emulator.log", "w")
            )
        except EmulatorError as error:
            raise SystemExit(f"bench: {error} (target/bench/emulator.log)") from None
        self.url = self.endpoint_url
        self.counts_calls = self.request("DELETE", "/_emulator/calls")[0] == 200

    def reset_calls(self) -> None:
        if self.counts_calls:
            self.request("DELETE", "/_emulator/calls")

    def calls(self) -> list[str] | None:
        if not self.counts_calls:
            return None
        return [f"{c['service']}:{c['operation']}" for c in self.request("GET", "/_emulator/calls")[1]["calls"]]

    def client(self, service: str):
        return super().client(service, REGION)


# ---------------------------------------------------------------------------
# scenarios: what each function is given, what it must answer, what it needs


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


@dataclass
class Context:
    emulator: Emulator
    nonce: str
    sagemaker: Any = None
    s3: Any = None
    state: dict = field(default_factory=dict)  # what one scenario leaves for a later one

    def unique(self, label: str, run: int) -> str:
        """A name part unique to this benchmark, scenario and run."""
        return hashlib.sha256(f"{self.nonce}/{label}/{run}".encode()).hexdigest()[:10]


@dataclass
class Scenario:
    key: str
    binary: str
    title: str
    prepare: Callable[[Context, int], tuple[dict, dict[str, str]]]  # -> (event, extra env)
    expect: dict[str, Any]  # fields the answer must have
    needed: list[tuple[str, str]]  # (service:operation, why), in order


def approved_package(ctx: Context, group: str, image: str, job: str) -> dict:
    """An Approved version in GROUP, as register_model_in_registry makes them."""
    sagemaker = ctx.sagemaker
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    except sagemaker.exceptions.ClientError as error:
        if "already exists" not in str(error):
            raise
    model_data = f"s3://{BUCKET}/models/{job}/output/model.tar.gz"
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": image, "ModelDataUrl": model_data}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="Approved",
        CustomerMetadataProperties={"training_image": image, "training_job_name": job},
    )["ModelPackageArn"]
    return sagemaker.describe_model_package(ModelPackageName=arn)


def package_event(package: dict) -> dict:
    event = sample("model-package-approved.json")
    group, version = package["ModelPackageGroupName"], package["ModelPackageVersion"]
    event["id"] = str(uuid.uuid4())
    event["resources"] = [package["ModelPackageArn"]]
    event["detail"].update(
        ModelPackageArn=package["ModelPackageArn"],
        ModelPackageVersion=version,
        ModelPackageName=f"{group}/{version}",
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification=package["InferenceSpecification"],
    )
    return event


def prepare_trigger(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # A push of a new digest: its training job does not exist yet.
    event = sample("ecr-push.json")
    event["id"] = str(uuid.uuid4())
    event["detail"]["image-digest"] = "sha256:" + hashlib.sha256(ctx.unique("push", run).encode()).hexdigest()
    event["detail"]["image-tag"] = f"bench-{run}"
    return event, {}


def retrain_time(ctx: Context, run: int) -> datetime.datetime:
    """Each run's objects an hour after the last's (years ahead: a due time in
    the past would be moved to now), so that no two runs share a schedule."""
    return datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        hours=1000 * (int(ctx.nonce[:4], 16) % 8) + run
    )


def object_created(key: str, when: datetime.datetime) -> dict:
    event = sample("s3-object-created.json")
    event["id"] = str(uuid.uuid4())
    event["time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:s3:::{BUCKET}"]
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"]["key"] = key
    return event


def retrain_batch(ctx: Context, run: int) -> dict:
    """Ten new objects over a minute, one SQS batch from retrain's queue."""
    start = retrain_time(ctx, run)
    record = sample("sqs-s3-object-created.json")["Records"][0]
    records = []
    for i in range(10):
        body = object_created(f"data/train/part-{run:03d}-{i}.csv", start + datetime.timedelta(seconds=6 * i))
        records.append({**record, "messageId": str(uuid.uuid4()), "body": json.dumps(body)})
    return {"Records": records}


def schedule_name(data: str, due: datetime.datetime) -> str:
    """retrain's schedule name for a channel and due minute (its burst.rs):
    16 hex digits of SHA-256 over the length-prefixed parts, then the minute."""
    digest = hashlib.sha256()
    for part in ("retraining", data):
        digest.update(len(part.encode()).to_bytes(8, "little") + part.encode())
    return f"{digest.hexdigest()[:16]}-{due:%Y%m%d-%H%M}"


def retrain_due(ctx: Context, run: int, later: bool) -> dict:
    """A burst's schedule as the function creates it (and, with LATER, a later
    one of the same burst), and the message it sends when due."""
    scheduler = ctx.emulator.client("scheduler")
    group = FUNCTION_ENV["RETRAIN_SCHEDULE_GROUP"]
    # One channel for every run: the earlier runs' schedules would be this
    # burst's beginning.
    for schedule in scheduler.list_schedules(GroupName=group)["Schedules"]:
        scheduler.delete_schedule(Name=schedule["Name"], GroupName=group)
    first = retrain_time(ctx, run)
    dues = [first + datetime.timedelta(minutes=6)] + ([first + datetime.timedelta(minutes=8)] if later else [])
    message = None
    for due in dues:
        due_message = {
            "retraining_due": {
                "schedule": schedule_name(RETRAIN_DATA, due),
                "data": RETRAIN_DATA,
                "due": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "first_object": {"bucket": BUCKET, "key": f"data/train/part-{run:03d}-0.csv", "time": first.strftime("%Y-%m-%dT%H:%M:%SZ")},
            }
        }
        scheduler.create_schedule(
            Name=due_message["retraining_due"]["schedule"],
            GroupName=group,
            ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="NONE",
            Target={
                "Arn": FUNCTION_ENV["RETRAIN_SCHEDULE_TARGET_ARN"],
                "RoleArn": FUNCTION_ENV["RETRAIN_SCHEDULE_ROLE_ARN"],
                "Input": json.dumps(due_message),
            },
        )
        message = message or due_message
    return message


def prepare_retrain_batch(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    ctx.state[("retrain-batch", run)] = event = retrain_batch(ctx, run)
    return event, {}


def prepare_retrain_repeat(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # After retrain-batch's run: the same batch delivered again.
    return ctx.state[("retrain-batch", run)], {}


def prepare_retrain_due(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    if "retrain-package" not in ctx.state:  # the model in production, once
        ctx.state["retrain-package"] = approved_package(ctx, f"{PIPELINE}--models", IMAGE, "mlops--ecr-seed")
    # The runs of retrain-batch hold hours 0.., these a thousand hours on.
    return retrain_due(ctx, 1000 + run, later=False), {}


def prepare_retrain_wait(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    return retrain_due(ctx, 2000 + run, later=True), {}


# Preprocessing (issue 18): the same function with PREPROCESSING_ENABLED.
PREPROCESSING_ENV = {"PREPROCESSING_ENABLED": "true", "PROCESSING_OUTPUT_S3_URI": f"s3://{BUCKET}/processed/"}


def prepare_retrain_preprocess(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    if "retrain-package" not in ctx.state:
        ctx.state["retrain-package"] = approved_package(ctx, f"{PIPELINE}--models", IMAGE, "mlops--ecr-seed")
    return retrain_due(ctx, 3000 + run, later=False), PREPROCESSING_ENV


def prepare_trigger_preprocessed(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    event, _ = prepare_trigger(ctx, 1000 + run)
    return event, PREPROCESSING_ENV


def prepare_retrain_processed(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    """SageMaker's "Processing Job State Change" (Completed) of a burst's
    processing job, as the rule puts it on retrain's queue."""
    event = sample("processing-job-completed.json")
    name = f"{PIPELINE}--proc-bench-{ctx.unique('processed', run)}"
    event["id"] = str(uuid.uuid4())
    event["detail"].update(
        ProcessingJobName=name,
        ProcessingJobArn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{name}",
    )
    event["detail"]["AppSpecification"]["ImageUri"] = IMAGE
    return event, PREPROCESSING_ENV


def prepare_evaluate(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # A completed job of the pipeline whose output.tar.gz holds evaluation.json.
    name = f"{PIPELINE}--ecr-bench-{ctx.unique('evaluate', run)}"
    sagemaker = ctx.sagemaker
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    job = sagemaker.describe_training_job(TrainingJobName=name)
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    folder = artifacts.removeprefix(f"s3://{BUCKET}/").removesuffix("model.tar.gz")
    report = {"regression_metrics": {"rmse": {"value": 2.9}, "r2": {"value": 0.91}}}
    ctx.s3.put_object(
        Bucket=BUCKET,
        Key=folder + "output.tar.gz",
        Body=tar_gz({"evaluation.json": json.dumps(report).encode()}),
    )
    event = sample("training-job-completed.json")
    event["id"] = str(uuid.uuid4())
    event["resources"] = [job["TrainingJobArn"]]
    detail = event["detail"]
    detail["TrainingJobName"], detail["TrainingJobArn"] = name, job["TrainingJobArn"]
    detail["AlgorithmSpecification"]["TrainingImage"] = IMAGE
    detail["ModelArtifacts"] = job["ModelArtifacts"]
    return event, {}


def prepare_register(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # A passed evaluation of a new job; the group exists (after the first version).
    group = f"{PIPELINE}--bench-registry"
    if "registry-group" not in ctx.state:
        ctx.sagemaker.create_model_package_group(ModelPackageGroupName=group)
        ctx.state["registry-group"] = group
    name = f"{PIPELINE}--ecr-bench-{ctx.unique('register', run)}"
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}"
    event = sample("evaluation-passed.json")
    event["id"] = str(uuid.uuid4())
    event["resources"] = [arn]
    detail = event["detail"]
    detail.update(training_job_name=name, training_job_arn=arn, image=IMAGE)
    detail["model_artifacts"] = f"s3://{BUCKET}/models/{name}/output/model.tar.gz"
    detail["evaluation_report"] = f"s3://{BUCKET}/models/{name}/output/evaluation.json"
    return event, {"MODEL_PACKAGE_GROUP_NAME": group}


def prepare_deploy_create(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # An approved version, no endpoint yet (the first deployment).
    group = f"{PIPELINE}--bench-deploy"
    package = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-{ctx.unique('deploy-c', run)}")
    endpoint = f"{PIPELINE}--bench-create-{ctx.unique('deploy-c', run)}"
    return package_event(package), {"MODEL_PACKAGE_GROUP_NAME": group, "ENDPOINT_NAME": endpoint}


def prepare_deploy_update(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # An approved version while the endpoint serves an earlier one: blue/green.
    group = f"{PIPELINE}--bench-deploy"
    unique = ctx.unique("deploy-u", run)
    endpoint = f"{PIPELINE}--bench-update-{unique}"
    live_on_old(ctx, group, endpoint, unique)
    new = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-new-{unique}")
    return package_event(new), {"MODEL_PACKAGE_GROUP_NAME": group, "ENDPOINT_NAME": endpoint}


def prepare_deploy_check(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # The scheduled check right after deploy-create's run: its endpoint serves
    # the newest approved version of the group, nothing to do.
    event = sample("scheduled-deployment-check.json")
    event["id"] = str(uuid.uuid4())
    endpoint = f"{PIPELINE}--bench-create-{ctx.unique('deploy-c', run)}"
    return event, {"MODEL_PACKAGE_GROUP_NAME": f"{PIPELINE}--bench-deploy", "ENDPOINT_NAME": endpoint}


def prepare_deploy_busy(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # A version approved while deploy-create's endpoint is Updating (the
    # emulator's control sets the status): a skip, its state change continues.
    group = f"{PIPELINE}--bench-deploy"
    endpoint = f"{PIPELINE}--bench-create-{ctx.unique('deploy-c', run)}"
    ctx.emulator.request("POST", f"/_emulator/sagemaker/endpoints/{endpoint}", {"EndpointStatus": "Updating"})
    package = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-{ctx.unique('deploy-b', run)}")
    return package_event(package), {"MODEL_PACKAGE_GROUP_NAME": group, "ENDPOINT_NAME": endpoint}


def live_on_old(ctx: Context, group: str, endpoint: str, unique: str) -> None:
    """ENDPOINT in service on a configuration of an older approved version."""
    old = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-old-{unique}")
    sagemaker = ctx.sagemaker
    sagemaker.create_model(
        ModelName=f"{endpoint}-old",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"ModelPackageName": old["ModelPackageArn"]},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-old",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{endpoint}-old",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-old")


def prepare_deploy_failed(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # SageMaker rolled the newest version's update back: the endpoint is in
    # service on the old configuration, its tags name the new version as the
    # one it moved to, with SageMaker's FailureReason. Its IN_SERVICE event.
    group = f"{PIPELINE}--bench-deploy"
    unique = ctx.unique("deploy-f", run)
    endpoint = f"{PIPELINE}--bench-failed-{unique}"
    live_on_old(ctx, group, endpoint, unique)
    new = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-new-{unique}")
    arn = ctx.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    ctx.sagemaker.add_tags(
        ResourceArn=arn,
        Tags=[
            {"Key": "mlops:deploying-model-package-arn", "Value": new["ModelPackageArn"]},
            {"Key": "mlops:deploying-model-package-version", "Value": str(new["ModelPackageVersion"])},
        ],
    )
    reason = "Deployment was rolled back: CloudWatch alarm(s) mlops-endpoint-5xx went into ALARM state."
    ctx.emulator.request("POST", f"/_emulator/sagemaker/endpoints/{endpoint}", {"FailureReason": reason})
    event = sample("endpoint-in-service.json")
    event["id"] = str(uuid.uuid4())
    event["detail"].update(EndpointName=endpoint, EndpointArn=arn, EndpointConfigName=f"{endpoint}-old")
    return event, {"MODEL_PACKAGE_GROUP_NAME": group, "ENDPOINT_NAME": endpoint}


def prepare_deploy_staged(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # Staging on, a new approved version, no endpoint yet: staging first.
    group = f"{PIPELINE}--bench-deploy"
    unique = ctx.unique("deploy-s", run)
    package = approved_package(ctx, group, IMAGE, f"mlops--ecr-bench-{unique}")
    return package_event(package), {
        "MODEL_PACKAGE_GROUP_NAME": group,
        "ENDPOINT_NAME": f"{PIPELINE}--bench-prod-{unique}",
        "STAGING_ENABLED": "true",
        "STAGING_ENDPOINT_NAME": f"{PIPELINE}--bench-staging-{unique}",
        "SMOKE_TEST_REQUESTS_S3_URI": f"s3://{BUCKET}/smoke/requests.jsonl",
    }


def prepare_serve(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    # A prediction of the sample request (3 CSV rows) from the live local
    # endpoint (made once, before the runs: serve_overhead.create_endpoint).
    event = serve_overhead.http_api_event(serve_overhead.SAMPLE.read_bytes(), str(uuid.uuid4()))
    return event, {"ENDPOINT_NAME": serve_overhead.ENDPOINT}


def prepare_floor(ctx: Context, run: int) -> tuple[dict, dict[str, str]]:
    return sample("ecr-push.json"), {}


FLOOR = Scenario("floor", "floor", "floor: lambda_runtime, echo handler, no AWS SDK", prepare_floor, {}, [])

SCENARIOS = [
    FLOOR,
    Scenario(
        "trigger",
        "trigger_model_training",
        "ECR push of a new digest -> training job started",
        prepare_trigger,
        {"action": "started"},
        [("sagemaker:CreateTrainingJob", "the job itself; its name is the lock (ResourceInUse = already started)")],
    ),
    Scenario(
        "retrain-batch",
        "retrain_model_on_new_data",
        "SQS batch of 10 new objects -> their burst's schedule",
        prepare_retrain_batch,
        {"action": "scheduled"},
        [("scheduler:CreateSchedule", "the burst's schedule for the batch's minute (the batch's only call)")],
    ),
    Scenario(
        "retrain-repeat",
        "retrain_model_on_new_data",
        "the same batch again -> the same schedule (ConflictException)",
        prepare_retrain_repeat,
        {"action": "scheduled"},
        [("scheduler:CreateSchedule", "ConflictException: already asked for")],
    ),
    Scenario(
        "retrain-due",
        "retrain_model_on_new_data",
        "a quiet burst's schedule falls due -> training job on the approved image",
        prepare_retrain_due,
        {"action": "started"},
        [
            ("scheduler:ListSchedules", "the channel's schedules: none later, the burst is quiet"),
            ("sagemaker:ListModelPackages", "the newest Approved version of the group"),
            ("sagemaker:DescribeModelPackage", "its training image (customer metadata)"),
            ("sagemaker:CreateTrainingJob", "the job itself; its name is the lock"),
            ("scheduler:DeleteSchedule", "the schedule it settles"),
        ],
    ),
    Scenario(
        "retrain-wait",
        "retrain_model_on_new_data",
        "a schedule falls due, a later one is there -> waits for it",
        prepare_retrain_wait,
        {"action": "skipped"},
        [("scheduler:ListSchedules", "the channel's schedules: a later one, so this one waits")],
    ),
    Scenario(
        "retrain-preprocess",
        "retrain_model_on_new_data",
        "with preprocessing: a quiet burst's schedule falls due -> processing job",
        prepare_retrain_preprocess,
        {"action": "started"},
        [
            ("scheduler:ListSchedules", "the channel's schedules: none later, the burst is quiet"),
            ("sagemaker:ListModelPackages", "the newest Approved version of the group"),
            ("sagemaker:DescribeModelPackage", "its training image, which the processing job runs"),
            ("sagemaker:CreateProcessingJob", "the job itself; its name is the lock"),
            ("scheduler:DeleteSchedule", "the schedule it settles"),
        ],
    ),
    Scenario(
        "trigger-preprocessed",
        "trigger_model_training",
        "with preprocessing: ECR push -> the newest processed outputs looked up, training job started",
        prepare_trigger_preprocessed,
        {"action": "started"},
        [
            ("sagemaker:ListProcessingJobs", "the pipeline's newest Completed processing job (its outputs are the channels)"),
            ("sagemaker:CreateTrainingJob", "the job itself; its name is the lock"),
        ],
    ),
    Scenario(
        "retrain-processed",
        "retrain_model_on_new_data",
        "with preprocessing: its Completed event -> training job on the outputs",
        prepare_retrain_processed,
        {"action": "started"},
        [("sagemaker:CreateTrainingJob", "the job on the outputs, the image the processing job ran; its name is the lock")],
    ),
    Scenario(
        "evaluate",
        "evaluate_model_function",
        "Completed job, report in output.tar.gz -> passed, event published",
        prepare_evaluate,
        {"action": "evaluated", "passed": True},
        [
            ("sagemaker:DescribeTrainingJob", "final metrics, model artifacts, output location"),
            ("s3:GetObject", "output.tar.gz, for evaluation.json"),
            ("s3:PutObject", "the report's copy beside model.tar.gz (the registry points at it)"),
            ("events:PutEvents", "Model Evaluation Completed"),
        ],
    ),
    Scenario(
        "register",
        "register_model_in_registry",
        "passed evaluation -> new model package version (group exists)",
        prepare_register,
        {"action": "registered"},
        [
            ("sagemaker:DescribeModelPackageGroup", "does the group exist? (created when not)"),
            ("sagemaker:CreateModelPackage", "the version itself (ClientToken from the job ARN)"),
        ],
    ),
    Scenario(
        "deploy-create",
        "deploy_sagemaker_model",
        "Approved version, no endpoint yet -> endpoint created",
        prepare_deploy_create,
        {"action": "created"},
        [
            ("sagemaker:DescribeEndpoint", "missing, busy, failed, live on which configuration?"),
            ("sagemaker:ListModelPackages", "the desired version: newest approved, not failed"),
            ("sagemaker:CreateModel", "the model from the package"),
            ("sagemaker:CreateEndpointConfig", "the version's endpoint configuration"),
            ("sagemaker:CreateEndpoint", "the endpoint, tagged with the version"),
        ],
    ),
    Scenario(
        "deploy-check",
        "deploy_sagemaker_model",
        "scheduled check, the endpoint serves the desired version -> skipped",
        prepare_deploy_check,
        {"action": "skipped", "reason": "live"},
        [
            ("sagemaker:DescribeEndpoint", "on which configuration?"),
            ("sagemaker:ListModelPackages", "the desired version"),
        ],
    ),
    Scenario(
        "deploy-busy",
        "deploy_sagemaker_model",
        "Approved version, endpoint Updating -> skipped (its state change continues)",
        prepare_deploy_busy,
        {"action": "skipped"},
        [
            ("sagemaker:DescribeEndpoint", "busy"),
            ("sagemaker:ListModelPackages", "the desired version"),
        ],
    ),
    Scenario(
        "deploy-update",
        "deploy_sagemaker_model",
        "Approved version, endpoint live on another -> blue/green update",
        prepare_deploy_update,
        {"action": "updated"},
        [
            ("sagemaker:DescribeEndpoint", "missing, busy, failed, live on which configuration?"),
            ("sagemaker:ListModelPackages", "the desired version"),
            ("sagemaker:ListTags", "did the endpoint's last update (to another version) fail?"),
            ("sagemaker:CreateModel", "the model from the package"),
            ("sagemaker:CreateEndpointConfig", "the version's endpoint configuration"),
            ("sagemaker:UpdateEndpoint", "blue/green deployment"),
            ("sagemaker:AddTags", "the endpoint's tag: the version it moves to"),
        ],
    ),
    Scenario(
        "deploy-failed",
        "deploy_sagemaker_model",
        "IN_SERVICE after SageMaker rolled the new version back -> marked failed, alerted",
        prepare_deploy_failed,
        {"action": "failed", "stage": "production"},
        [
            ("sagemaker:DescribeEndpoint", "in service on the old configuration"),
            ("sagemaker:ListModelPackages", "the desired version (the new one)"),
            ("sagemaker:ListTags", "the endpoint moved to the new version: it failed"),
            ("events:PutEvents", "Model Deployment Failed (the alert rule)"),
            ("sagemaker:AddTags", "the endpoint's failed-version tag"),
            ("sagemaker:UpdateModelPackage", "the version's ModelLifeCycle: Failed (stops the loop)"),
        ],
    ),
    Scenario(
        "deploy-staged",
        "deploy_sagemaker_model",
        "staging on, Approved version, no endpoints -> staging endpoint created",
        prepare_deploy_staged,
        {"action": "staged"},
        [
            ("sagemaker:DescribeEndpoint", "production: missing"),
            ("sagemaker:ListModelPackages", "the desired version: not smoke-tested yet"),
            ("sagemaker:DescribeEndpoint", "staging: missing"),
            ("sagemaker:CreateModel", "the model from the package"),
            ("sagemaker:CreateEndpointConfig", "the version's staging configuration (serverless)"),
            ("sagemaker:CreateEndpoint", "the staging endpoint"),
        ],
    ),
    Scenario(
        "serve",
        "serve_predictions",
        "HTTP API POST /predictions (3 CSV rows) -> the live model's answer",
        prepare_serve,
        {"statusCode": 200},
        [("sagemaker:InvokeEndpoint", "the prediction itself (the live version's tags are read by GET /model only)")],
    ),
]


# ---------------------------------------------------------------------------
# one run


def lambda_env(binary: str, runtime_port: int, emulator_url: str, extra: dict[str, str]) -> dict[str, str]:
    """What Lambda's provided.al2023 runtime gives a function, plus the emulator's
    endpoint. Nothing of this shell's environment leaks in (no HOME, no ~/.aws)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime_port}",
        "AWS_LAMBDA_FUNCTION_NAME": binary,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{binary}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2030/01/01/[$LATEST]bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_ENDPOINT_URL": emulator_url,
    }
    env.update(FUNCTION_ENV)
    env.update(extra)
    env.update(EXTRA_ENV)
    return env


# Cargo's target directory, where `make bench` and `make build` leave the
# binaries: $CARGO_TARGET_DIR when it is set (relative to the current
# directory, as cargo takes it), else the repository's target/.
TARGET_DIR = Path(os.environ["CARGO_TARGET_DIR"]).resolve() if os.environ.get("CARGO_TARGET_DIR") else ROOT / "target"
# --bin-dir: where the release binaries are (default <TARGET_DIR>/release).
BIN_DIR = TARGET_DIR / "release"


def binary_path(binary: str) -> Path:
    return BIN_DIR / binary


def run_once(ctx: Context, api: RuntimeApi, scenario: Scenario, run: int, label: str) -> dict:
    event, extra_env = scenario.prepare(ctx, run)
    env = lambda_env(scenario.binary, api.port, ctx.emulator.url, extra_env)
    log_path = ROOT / "target" / "bench" / "logs" / f"{scenario.key}-{label}.log"
    ctx.emulator.reset_calls()
    invocation = api.arm(json.dumps(event).encode(), scenario.binary)
    with open(log_path, "wb") as log, tempfile.TemporaryDirectory() as cwd:
        started = time.monotonic()
        process = subprocess.Popen(
            [str(binary_path(scenario.binary))], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        invocation.pid = process.pid
        finished = invocation.finished.wait(60)
        os.kill(process.pid, signal.SIGKILL)
        _, _, usage = os.wait4(process.pid, 0)
        invocation.released.set()
    calls = ctx.emulator.calls()

    def ms(at: float | None) -> float | None:
        return None if at is None else round((at - started) * 1000, 2)

    record = {
        "run": label,
        "ready_ms": ms(invocation.ready_at),
        "first_response_ms": ms(invocation.answered_at),
        "peak_rss_kib": invocation.memory.get("VmHWM"),
        "rss_at_end_kib": invocation.memory.get("VmRSS"),
        "rss_anon_at_end_kib": invocation.memory.get("RssAnon"),
        "rss_file_at_end_kib": invocation.memory.get("RssFile"),
        "cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 1),
        "calls": calls,
        "log": str(log_path.relative_to(ROOT)),
    }
    problem = None
    if not finished:
        problem = "no answer within 60 s"
    elif invocation.init_error is not None:
        problem = f"init error: {invocation.init_error}"
    elif invocation.error is not None:
        problem = f"invocation error: {invocation.error}"
    else:
        answer = json.loads(invocation.response or b"null")
        record["answer"] = answer
        if scenario is FLOOR:
            if answer != event:
                problem = "the floor did not echo its event"
        else:
            wrong = {k: answer.get(k) for k, v in scenario.expect.items() if answer.get(k) != v}
            if wrong:
                problem = f"answer {json.dumps(answer)} has {wrong}, expected {scenario.expect}"
    if problem:
        raise Failed(f"{scenario.key} run {label}: {problem} (log: {record['log']})")
    return record


# ---------------------------------------------------------------------------
# sizes


def zip_size(binary: bytes) -> int:
    """The deployment package: `bootstrap` alone, executable, deflated (as SAM
    and cargo lambda zip it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap", date_time=(2030, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, binary)
    return len(buffer.getvalue())


def elf_machine(data: bytes) -> str:
    if data[:4] != b"\x7fELF":
        return "not ELF"
    machine = int.from_bytes(data[18:20], "little")
    return {62: "x86_64", 183: "aarch64"}.get(machine, f"e_machine {machine}")


def sizes(binary: str) -> dict:
    host = binary_path(binary).read_bytes()
    result = {
        "host_arch": elf_machine(host),
        "bootstrap_bytes": len(host),
        "zip_bytes": zip_size(host),
    }
    arm = TARGET_DIR / "lambda" / binary / "bootstrap"
    if arm.exists():
        data = arm.read_bytes()
        result.update(
            arm64_arch=elf_machine(data),
            arm64_bootstrap_bytes=len(data),
            arm64_zip_bytes=zip_size(data),
            arm64_built=datetime.datetime.fromtimestamp(arm.stat().st_mtime, datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
        )
    return result


# ---------------------------------------------------------------------------
# summary


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def summarise(scenario: Scenario, runs: list[dict], size: dict, floor_ready: float | None) -> dict:
    ready = median([r["ready_ms"] for r in runs])
    calls_per_run = [r["calls"] for r in runs]
    calls = calls_per_run[0] if calls_per_run and all(c == calls_per_run[0] for c in calls_per_run) else None
    needed = [op for op, _ in scenario.needed]
    zip_bytes = size.get("arm64_zip_bytes", size["zip_bytes"])
    summary = {
        "scenario": scenario.key,
        "binary": scenario.binary,
        "title": scenario.title,
        "runs": len(runs),
        "ready_ms": ready,
        "first_response_ms": median([r["first_response_ms"] for r in runs]),
        "ready_vs_floor": round(ready / floor_ready, 2) if ready and floor_ready else None,
        "peak_rss_kib": median([r["peak_rss_kib"] for r in runs]),
        "peak_rss_kib_max": max((r["peak_rss_kib"] or 0) for r in runs) if runs else None,
        "rss_anon_at_end_kib": median([r["rss_anon_at_end_kib"] for r in runs]),
        "rss_file_at_end_kib": median([r["rss_file_at_end_kib"] for r in runs]),
        "cpu_ms": median([r["cpu_ms"] for r in runs]),
        **size,
        "calls": calls if calls is not None else (calls_per_run if calls_per_run and calls_per_run[0] is not None else None),
        "calls_needed": [{"call": op, "why": why} for op, why in scenario.needed],
    }
    verdicts = {}
    if scenario is not FLOOR:
        verdicts["cold_start"] = (
            "pass" if ready is not None and floor_ready and ready <= BUDGET_COLD_FACTOR * floor_ready else "miss"
        )
        verdicts["calls"] = (
            "n/a" if calls_per_run and calls_per_run[0] is None
            else "pass" if calls is not None and sorted(calls) == sorted(needed) else "miss"
        )
    verdicts["peak_rss"] = "pass" if summary["peak_rss_kib"] is not None and summary["peak_rss_kib"] < BUDGET_RSS_KIB else "miss"
    verdicts["zip"] = ("pass" if zip_bytes < BUDGET_ZIP_BYTES else "miss") + (
        "" if "arm64_zip_bytes" in size else " (x86_64 zip; no arm64 build)"
    )
    summary["verdicts"] = verdicts
    return summary


def table(summaries: list[dict]) -> str:
    def mib(value: float | None) -> str:
        return "-" if value is None else f"{value / MIB:.2f}"

    def mark(verdict: str | None) -> str:
        if verdict is None:
            return ""
        return {"pass": " ok", "miss": " MISS", "n/a": " ?"}.get(verdict.split()[0], verdict)

    width = max([14] + [len(s["scenario"]) for s in summaries])
    header = (
        f"{'scenario':<{width}} {'ready ms':>9} {'x floor':>8} {'1st resp ms':>11} {'peak RSS MiB':>13}"
        f" {'cpu ms':>7} {'bootstrap MiB':>13} {'zip MiB':>8} {'arm64 zip MiB':>13} {'calls':>7}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        v = s["verdicts"]
        calls = s["calls"]
        count = "-" if calls is None else str(len(calls)) if isinstance(calls[0] if calls else "", str) else "varies"
        factor = "" if s["ready_vs_floor"] is None else f"{s['ready_vs_floor']:.2f}"
        lines.append(
            f"{s['scenario']:<{width}} {s['ready_ms']:>9.2f} {factor + mark(v.get('cold_start')):>8}"
            f" {s['first_response_ms']:>11.2f}"
            f" {(s['peak_rss_kib'] or 0) / 1024:>9.2f}{mark(v.get('peak_rss')):>4}"
            f" {s['cpu_ms']:>7.1f} {mib(s['bootstrap_bytes']):>13}"
            f" {mib(s['zip_bytes']) + ('' if 'arm64_zip_bytes' in s else mark(v['zip'])):>8}"
            f" {mib(s.get('arm64_zip_bytes')) + (mark(v['zip']) if 'arm64_zip_bytes' in s else ''):>13}"
            f" {count + mark(v.get('calls')):>7}"
        )
    return "\n".join(lines)


def cargo_target_env() -> dict:
    """CARGO_TARGET_DIR made absolute for a cargo run from ROOT (a relative one
    names a directory under bench.py's own current directory)."""
    return {"CARGO_TARGET_DIR": str(TARGET_DIR)} if os.environ.get("CARGO_TARGET_DIR") else {}


def measure_bursts(sizes: list[int]) -> list[dict]:
    """retrain_model_on_new_data's bursts, end to end through the emulator's
    queue poller and scheduler (the integration test's code, debug build):
    the figures its `BURST {...}` line reports, per size."""
    figures = []
    for objects in sizes:
        print(f"bench: a retraining burst of {objects} objects ...", file=sys.stderr, flush=True)
        run = subprocess.run(
            ["cargo", "test", "--quiet", "-p", "integration", "--test", "retrain_model_on_new_data",
             "bench_burst", "--", "--ignored", "--nocapture"],
            cwd=ROOT, env={**os.environ, **cargo_target_env(), "RETRAIN_BURST_OBJECTS": str(objects)},
            capture_output=True, text=True,
        )
        lines = [line for line in run.stdout.splitlines() if line.startswith("BURST ")]
        if run.returncode != 0 or not lines:
            raise Failed(f"the burst of {objects} objects failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        figures.append(json.loads(lines[-1][len("BURST "):]))
    return figures


def describe_bursts(figures: list[dict]) -> str:
    head = (
        "objects   invocations  largest batch  at once (max)  AWS calls  throttled  schedules fired"
        "  last object -> due (simulated)  due -> job (real)"
    )
    rows = [
        f"{f['objects']:>7}   {f['invocations']:>11}  {f['largest_batch']:>13}  "
        f"{f['most_at_once']:>4} ({f['maximum_concurrency']})      {f['control_plane_calls']:>9}  "
        f"{f['throttled_calls']:>9}  {f['schedules_fired']:>15}  {f['simulated_seconds_last_object_to_due']:>22} s"
        f"  {f['seconds_due_to_job']:>13.1f} s"
        for f in figures
    ]
    return "\n".join([head, *rows])


def main(argv: list[str]) -> int:
    global BIN_DIR
    parser = argparse.ArgumentParser(description="make bench (see the module docstring)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per scenario (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="runs per scenario first, not counted (default 1)")
    parser.add_argument("--json", default="target/bench/results.json", help="where the results go")
    parser.add_argument("--only", nargs="*", help="scenario keys to run (the floor always runs)")
    parser.add_argument(
        "--bin-dir", default=str(BIN_DIR),
        help=f"the binaries to measure (default {BIN_DIR}: $CARGO_TARGET_DIR/release when it is set, else target/release)",
    )
    parser.add_argument(
        "--overhead-requests", type=int, default=OVERHEAD_REQUESTS,
        help=f"serve_predictions' overhead: requests each way (default {OVERHEAD_REQUESTS}; 0: not measured)",
    )
    parser.add_argument(
        "--bursts", type=int, nargs="*", default=BURSTS,
        help="retraining burst sizes, in objects (default 1000 10000 100000; none: not measured; "
        "with --only, only when it names retrain-burst)",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE",
        help="an extra variable for every function (experiments, e.g. SSL_CERT_FILE=...)",
    )
    options = parser.parse_args(argv)
    EXTRA_ENV.update(item.split("=", 1) for item in options.env)
    BIN_DIR = Path(options.bin_dir).resolve()

    scenarios = [s for s in SCENARIOS if s is FLOOR or not options.only or s.key in options.only]
    bursts = options.bursts if not options.only or "retrain-burst" in options.only else []
    serving = any(s.key == "serve" for s in scenarios)
    overhead_requests = options.overhead_requests if serving else 0
    binaries = {s.binary for s in scenarios} | ({serve_overhead.DIRECT, FLOOR.binary} if overhead_requests else set())
    missing = sorted(str(binary_path(b)) for b in binaries if not binary_path(b).exists())
    if missing:
        print(f"bench: no release binary {', '.join(missing)}: run `make bench` (it builds them)", file=sys.stderr)
        return 1
    (ROOT / "target" / "bench" / "logs").mkdir(parents=True, exist_ok=True)

    emulator = Emulator()
    api = RuntimeApi()
    ctx = Context(emulator=emulator, nonce=uuid.uuid4().hex)
    ctx.sagemaker, ctx.s3 = emulator.client("sagemaker"), emulator.client("s3")
    ctx.s3.create_bucket(Bucket=BUCKET)
    emulator.client("scheduler").create_schedule_group(Name=FUNCTION_ENV["RETRAIN_SCHEDULE_GROUP"])
    emulator.client("sqs").create_queue(QueueName="mlops-retrain")
    if not emulator.counts_calls:
        print("bench: the emulator has no call log (GET /_emulator/calls): calls are not counted", file=sys.stderr)
    results: dict[str, list[dict]] = {s.key: [] for s in scenarios}
    try:
        if serving:
            print("bench: training the example and serving it (serve_predictions' endpoint) ...", file=sys.stderr, flush=True)
            ctx.state["serving"] = serve_overhead.create_endpoint(emulator, BUCKET, ACCOUNT, REGION, ROLE_ARN)
        total = options.warmup + options.runs
        for run in range(total):
            counted = run >= options.warmup
            label = f"run{run - options.warmup + 1}" if counted else f"warmup{run + 1}"
            print(f"bench: {label} ...", file=sys.stderr, flush=True)
            for scenario in scenarios:
                record = run_once(ctx, api, scenario, run, label)
                if counted:
                    results[scenario.key].append(record)
        overhead = None
        if overhead_requests:
            print(
                f"bench: serve_predictions' overhead, {overhead_requests} requests each way ...",
                file=sys.stderr,
                flush=True,
            )
            overhead = serve_overhead.measure(
                lambda port: lambda_env("serve_predictions", port, emulator.url, {"ENDPOINT_NAME": serve_overhead.ENDPOINT}),
                BIN_DIR,
                ROOT / "target" / "bench" / "logs",
                requests=overhead_requests,
            )
    except (Failed, serve_overhead.Failed, serve_overhead.NotServing) as failure:
        print(f"bench: {failure}", file=sys.stderr)
        return 1
    finally:
        api.close()
        emulator.stop()
    try:
        burst_figures = measure_bursts(bursts)
    except Failed as failure:
        print(f"bench: {failure}", file=sys.stderr)
        return 1

    size_of = {b: sizes(b) for b in {s.binary for s in scenarios}}
    floor_ready = median([r["ready_ms"] for r in results["floor"]])
    summaries = [summarise(s, results[s.key], size_of[s.binary], floor_ready) for s in scenarios]

    print(f"bench: the example model's /invocations, {EXAMPLE_REQUESTS} requests ...", file=sys.stderr, flush=True)
    example = example_latency.measure(EXAMPLE_REQUESTS)

    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    document = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "kernel": platform.release(), "rustc": rustc},
        "runs": options.runs,
        "warmup": options.warmup,
        "budgets": {
            "cold_start": f"ready within {BUDGET_COLD_FACTOR}x of the floor's",
            "peak_rss": f"under {BUDGET_RSS_KIB // 1024} MiB (VmHWM after the first invocation)",
            "zip": f"under {BUDGET_ZIP_BYTES // MIB} MiB, arm64 release",
            "calls": "exactly the calls the scenario needs",
        },
        "calls_counted": emulator.counts_calls,
        "example_invocations": example,
        "serve_overhead": overhead,
        "retraining_bursts": burst_figures,
        "summary": summaries,
        "runs_detail": results,
    }
    out = ROOT / options.json
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")

    print(f"\nmake bench: medians of {options.runs} runs ({options.warmup} warm-up not counted), {rustc}, {platform.machine()}")
    print(table(summaries))
    print("\nCalls per invocation (in order):")
    for s in summaries:
        if s["scenario"] != "floor":
            calls = s["calls"]
            shown = ", ".join(calls) if calls and isinstance(calls[0], str) else ("(not counted)" if calls is None else json.dumps(calls))
            print(f"  {s['scenario']:<20} {shown or '(none)'}")
    print(
        f"\nThe example model's /invocations (examples/diabetes-regression, {example['workers']} worker, "
        f"{example['rows_per_request']} CSV rows per request, {example['requests']} sequential requests): "
        f"p50 {example['p50_ms']} ms, p99 {example['p99_ms']} ms, max {example['max_ms']} ms"
    )
    if overhead is not None:
        print("\n" + serve_overhead.describe(overhead))
    if burst_figures:
        print("\nRetraining bursts (objects over a simulated 10 minutes, SageMaker and Scheduler at 10 calls/s):")
        print(describe_bursts(burst_figures))
    misses = [f"{s['scenario']}: {k}" for s in summaries for k, v in s["verdicts"].items() if v.startswith("miss")]
    if overhead is not None and overhead["verdict"] == "miss":
        misses.append("serve: overhead p50")
    print(f"\nBudgets: {'all met' if not misses else 'missed: ' + '; '.join(misses)}")
    print(f"JSON: {out.relative_to(ROOT)}; each run's function output: target/bench/logs/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
