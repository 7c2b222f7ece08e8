"""serve_predictions' overhead, as `make bench` reports it: what a prediction
through the function costs on top of calling InvokeEndpoint directly.

Both go to the same local endpoint: the example model (examples/diabetes-
regression) trained and served by the emulator's local SageMaker
(docs/local-sagemaker.md), one gunicorn worker. bench.py starts the emulator
with :func:`local_images_file` and calls :func:`create_endpoint` once; then
:func:`measure`:

* **through the function**: the release binary (target/release/
  serve_predictions) started once with the environment Lambda gives it,
  served by a Runtime API stand-in that keeps it warm
  (``runtime_api.SteadyRuntimeApi``); each request is an API Gateway HTTP API
  event (payload 2.0) ``POST /predictions`` of the sample request (3 CSV
  rows), timed from the event handed over to the function's answer received;
* **direct**: ``invoke_direct`` (bench/floor, feature ``direct``): the same
  InvokeEndpoint from the Rust SDK with the very client the function builds,
  timed in-process;
* **Runtime API round trip**: the floor (bench/floor: lambda_runtime, echo
  handler) given the same event through the same stand-in: what any Rust
  function pays to get an event and hand its answer back, to read the
  overhead against.

``--requests`` of each (500), interleaved (the order rotates) after
``--warmup`` rounds that are not counted (20: all warm, connections open).
Every answer is checked: HTTP 200, the model's three predictions, the same
bytes through the function as direct, the floor's echo. Reported: p50 and p99
of each, and the overhead: p50 (p99) through the function minus p50 (p99)
direct. The goal is under 2 ms at p50 once warm.

The function's time includes this stand-in's share (its Python thread wakes,
writes the event, parses the answer's head), as the round trip's does;
the direct time has no such share. Nothing of API Gateway is included.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from example_latency import _percentile
from runtime_api import SteadyRuntimeApi

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "diabetes-regression"
SAMPLE = EXAMPLE / "sample-request.csv"

# A repository of its own, so that the other scenarios' images
# (mlops-training@...) keep completing at once.
REPOSITORY = "bench-serving"
ENDPOINT = "mlops--bench-serve"
GOAL_P50_MS = 2.0
FUNCTION = "serve_predictions"
DIRECT = "invoke_direct"
FLOOR = "floor"


def local_images_file(path: Path) -> Path:
    """The emulator's local-images configuration: REPOSITORY is the example."""
    path.write_text(json.dumps({"repositories": {REPOSITORY: {"example": str(EXAMPLE)}}, "serve_workers": 1}))
    return path


class NotServing(RuntimeError):
    """The endpoint could not be made (training or serving failed)."""


def _wait(describe: Callable[[], dict], key: str, busy: tuple[str, ...], timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = describe()
        if answer[key] not in busy:
            return answer
        if time.monotonic() > deadline:
            raise NotServing(f"still {answer[key]} after {timeout:.0f} s")
        time.sleep(0.2)


def create_endpoint(emulator: Any, bucket: str, account: str, region: str, role_arn: str) -> dict:
    """Trains the example (its default hyperparameters, as bench/example_latency.py)
    and serves it on ENDPOINT; returns what was made. The bucket exists."""
    sagemaker, s3 = emulator.client("sagemaker"), emulator.client("s3")
    s3.put_object(Bucket=bucket, Key="serving/train/diabetes.csv", Body=(EXAMPLE / "data" / "diabetes.csv").read_bytes())
    image = f"{account}.dkr.ecr.{region}.amazonaws.com/{REPOSITORY}@sha256:" + "5e" * 32
    job = f"{ENDPOINT}-model"
    sagemaker.create_training_job(
        TrainingJobName=job,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn=role_arn,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/serving/train/"}},
                "ContentType": "text/csv",
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/serving/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    trained = _wait(lambda: sagemaker.describe_training_job(TrainingJobName=job), "TrainingJobStatus", ("InProgress",))
    if trained["TrainingJobStatus"] != "Completed":
        raise NotServing(f"training job {job}: {trained['TrainingJobStatus']}: {trained.get('FailureReason')}")
    sagemaker.create_model(
        ModelName=job,
        PrimaryContainer={"Image": image, "ModelDataUrl": trained["ModelArtifacts"]["S3ModelArtifacts"]},
        ExecutionRoleArn=role_arn,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=job,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": job, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=job)
    served = _wait(lambda: sagemaker.describe_endpoint(EndpointName=ENDPOINT), "EndpointStatus", ("Creating",))
    if served["EndpointStatus"] != "InService":
        raise NotServing(f"endpoint {ENDPOINT}: {served['EndpointStatus']}: {served.get('FailureReason')}")
    return {"endpoint": ENDPOINT, "training_job": job, "image": image}


def http_api_event(body: bytes, request_id: str, account: str = "123456789012") -> dict:
    """``POST /predictions`` as API Gateway's HTTP API hands it to the function
    (payload format 2.0), the body as text (CSV is not base64-encoded)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "version": "2.0",
        "routeKey": "POST /predictions",
        "rawPath": "/predictions",
        "rawQueryString": "",
        "headers": {
            "accept": "text/csv",
            "content-length": str(len(body)),
            "content-type": "text/csv",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "bench",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": account,
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/predictions",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "bench",
            },
            "requestId": request_id,
            "routeKey": "POST /predictions",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def check_prediction(answer: dict, rows: int) -> str | None:
    """What is wrong with the function's answer to the sample request, if anything."""
    if answer.get("statusCode") != 200:
        return f"status {answer.get('statusCode')}: {answer.get('body')}"
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    values = body.split()
    if len(values) != rows or not all(_is_number(v) for v in values):
        return f"{rows} rows sent, answer {body!r}"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


class Failed(Exception):
    """The measurement could not be made (a wrong answer, a process gone)."""


def _summary(timings: list[float]) -> dict:
    ordered = sorted(timings)
    return {
        "p50_ms": round(_percentile(ordered, 0.50), 3),
        "p99_ms": round(_percentile(ordered, 0.99), 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(sum(ordered) / len(ordered), 3),
    }


def measure(
    env_for: Callable[[int], dict[str, str]],
    bin_dir: Path,
    log_dir: Path,
    requests: int = 500,
    warmup: int = 20,
) -> dict:
    """``env_for(runtime_api_port)``: the function's environment (Lambda's,
    the emulator's endpoint, ENDPOINT_NAME); the direct caller gets the same."""
    body = SAMPLE.read_bytes()
    rows = len([line for line in body.splitlines() if line.strip()])
    api, floor_api = SteadyRuntimeApi(), SteadyRuntimeApi()
    env = env_for(api.port)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (
        open(log_dir / "serve-overhead-function.log", "wb") as function_log,
        open(log_dir / "serve-overhead-direct.log", "wb") as direct_log,
        open(log_dir / "serve-overhead-floor.log", "wb") as floor_log,
        tempfile.TemporaryDirectory() as cwd,
    ):
        function = subprocess.Popen(
            [str(bin_dir / FUNCTION)], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=function_log, stderr=function_log
        )
        floor = subprocess.Popen(
            [str(bin_dir / FLOOR)],
            env=env_for(floor_api.port),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=floor_log,
            stderr=floor_log,
        )
        direct = subprocess.Popen(
            [str(bin_dir / DIRECT), str(SAMPLE)],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=direct_log,
            text=True,
            bufsize=1,
        )
        series: dict[str, list[float]] = {"through_function": [], "direct": [], "runtime_api_round_trip": []}
        try:

            def via_function(n: int) -> tuple[float, int]:
                request_id = f"bench-{n}"
                invocation = api.invoke(json.dumps(http_api_event(body, request_id)).encode(), FUNCTION)
                if api.init_error is not None:
                    raise Failed(f"{FUNCTION}: init error {api.init_error}")
                if not invocation.done.is_set():
                    raise Failed(f"{FUNCTION}: no answer within 30 s (log: {function_log.name})")
                if invocation.error is not None:
                    raise Failed(f"{FUNCTION}: invocation error {invocation.error}")
                answer = json.loads(invocation.response or b"null")
                problem = check_prediction(answer, rows)
                if problem:
                    raise Failed(f"{FUNCTION}: {problem}")
                return (invocation.answered_at - invocation.handed_at) * 1000, len(answer["body"].encode())

            def via_sdk(n: int) -> tuple[float, int]:
                direct.stdin.write(f"direct-{n}\n")
                direct.stdin.flush()
                line = direct.stdout.readline().split(" ", 2)
                if len(line) < 3 or line[0] != "ok":
                    raise Failed(f"{DIRECT}: {' '.join(line) or 'exited'} (log: {direct_log.name})")
                return int(line[1]) / 1e6, int(line[2])

            def via_floor(n: int) -> tuple[float, int]:
                event = json.dumps(http_api_event(body, f"floor-{n}")).encode()
                invocation = floor_api.invoke(event, FLOOR)
                if not invocation.done.is_set() or json.loads(invocation.response or b"null") != json.loads(event):
                    raise Failed(f"{FLOOR}: no echo of the event (log: {floor_log.name})")
                return (invocation.answered_at - invocation.handed_at) * 1000, 0

            ways = [("through_function", via_function), ("direct", via_sdk), ("runtime_api_round_trip", via_floor)]
            for n in range(warmup + requests):
                rotated = ways[n % 3 :] + ways[: n % 3]
                measured = {name: way(n) for name, way in rotated}
                function_bytes, direct_bytes = measured["through_function"][1], measured["direct"][1]
                if function_bytes != direct_bytes:
                    raise Failed(f"request {n}: {function_bytes} bytes through the function, {direct_bytes} direct")
                if n >= warmup:
                    for name, (ms, _) in measured.items():
                        series[name].append(ms)
        finally:
            for process in (function, direct, floor):
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                process.wait()
            api.close()
            floor_api.close()

    function_summary, direct_summary = _summary(series["through_function"]), _summary(series["direct"])
    overhead = {
        "p50_ms": round(function_summary["p50_ms"] - direct_summary["p50_ms"], 3),
        "p99_ms": round(function_summary["p99_ms"] - direct_summary["p99_ms"], 3),
    }
    return {
        "requests": requests,
        "warmup": warmup,
        "rows_per_request": rows,
        "endpoint": ENDPOINT,
        "through_function": function_summary,
        "direct": direct_summary,
        "runtime_api_round_trip": _summary(series["runtime_api_round_trip"]),
        "overhead": overhead,
        "goal": f"under {GOAL_P50_MS} ms added at p50, warm",
        "verdict": "pass" if overhead["p50_ms"] < GOAL_P50_MS else "miss",
        "timings_ms": {name: [round(t, 3) for t in values] for name, values in series.items()},
    }


def describe(result: dict) -> str:
    f, d, r, o = result["through_function"], result["direct"], result["runtime_api_round_trip"], result["overhead"]

    def line(label: str, x: dict) -> str:
        return (
            f"  {label:<31} p50 {x['p50_ms']:.3f} ms  p99 {x['p99_ms']:.3f} ms"
            f"  (min {x['min_ms']:.3f}, max {x['max_ms']:.3f})\n"
        )

    return (
        f"serve_predictions' overhead (endpoint {result['endpoint']}, the example model, 1 worker, "
        f"{result['rows_per_request']} CSV rows; {result['requests']} requests each way, interleaved, "
        f"after {result['warmup']} warm-up rounds):\n"
        + line("through the function", f)
        + line("direct InvokeEndpoint", d)
        + f"  {'added':<31} p50 {o['p50_ms']:.3f} ms  p99 {o['p99_ms']:.3f} ms  "
        f"(goal {result['goal']}: {'ok' if result['verdict'] == 'pass' else 'MISS'})\n"
        + line("of it, a Runtime API round trip", r).rstrip("\n")
        + " (the floor echoing the same event)"
    )


if __name__ == "__main__":
    sys.exit("bench/serve_overhead.py runs inside `make bench` (bench/bench.py), which starts the emulator and the endpoint")
