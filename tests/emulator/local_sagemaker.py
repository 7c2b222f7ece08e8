"""Local SageMaker: the emulator trains and serves the local example models for real.

A training job or an endpoint whose image belongs to a repository named in the
emulator's local-images configuration runs that example's ``train`` or
``serve`` as a process, with SageMaker's ``/opt/ml`` layout under a temporary
directory (the examples take its root from ``OPT_ML``). Every other image
keeps the stock behaviour (a job is Completed at once, an endpoint InService
at once), so the tests that play SageMaker's part by hand are unchanged.

Configuration: a JSON file, named by the launcher's ``--local-images`` option
or the ``EMULATOR_LOCAL_IMAGES`` variable; paths in it are relative to the
file::

    {"repositories": {
        "mlops-training": {
            "example": "../../examples/diabetes-regression",
            "tags": {"v1.3.0": {"hyperparameters": {"n_estimators": "2"},
                                "environment": {"SOME_VAR": "x"}}}}},
     "serve_workers": 1}

``tags`` are an image's baked-in defaults: the job's own hyperparameters and
environment win over them. A training image is usually pinned by digest
(``<registry>/<repository>@sha256:...``); its tags are those the emulator's
ECR holds for that digest (``PutImage``), so an image pushed to the
emulator's ECR with tag ``v1.3.0`` trains with that tag's defaults. (The
emulator's ECR computes a digest as registries do, the SHA-256 of the
manifest; stock moto hashes only the layers' digests.)

Training (``CreateTrainingJob``): the job is ``InProgress`` (a "SageMaker
Training Job State Change" event goes onto the default bus), the channels are
copied from the emulator's S3 into ``input/data/<channel>/`` (``S3Prefix`` and
``ManifestFile``; a channel with no object is refused by ``CreateTrainingJob``
itself, ``ValidationException`` ``No S3 objects found under S3 URL ...``, as
SageMaker does), ``input/config/hyperparameters.json`` (all values strings),
``inputdataconfig.json`` and ``resourceconfig.json`` are written as SageMaker
writes them, and ``train`` runs. Its output goes to the emulator's stderr,
each line prefixed with the job's name. ``FinalMetricDataList`` is read from
that output with the job's ``MetricDefinitions`` (the last match of each, as
SageMaker reports the final value). Exit 0: ``/opt/ml/model`` is uploaded as
``<S3OutputPath>/<job>/output/model.tar.gz`` and ``/opt/ml/output/data`` as
``.../output/output.tar.gz``, and the job is ``Completed``. Otherwise it is
``Failed`` with ``FailureReason`` ``AlgorithmError: <the failure file>, exit
code: <n>``; past ``StoppingCondition.MaxRuntimeInSeconds`` it is killed and
``Stopped`` (``MaxRuntimeExceeded``). ``StopTrainingJob`` makes it
``Stopping`` and kills ``train``; it is then ``Stopped`` (``SecondaryStatus``
``Stopped``, no ``FailureReason``, no model uploaded). Either way a second
state-change event goes onto the bus.

Serving (``CreateEndpoint``, ``UpdateEndpoint``): when the endpoint
configuration's variant names a model whose container (or model package's
first container) has a local image, the model archive (``ModelDataUrl``) is
unpacked into ``/opt/ml/model`` and ``serve`` starts on a free loopback port
(``SERVE_HOST=127.0.0.1``, ``SAGEMAKER_BIND_TO_PORT``,
``SAGEMAKER_MODEL_SERVER_WORKERS`` = ``serve_workers``, default 1 so that
several endpoints fit on two cores). The endpoint is ``Creating``
(``Updating``) until ``GET /ping`` answers 200, then ``InService``, with a
"SageMaker Endpoint State Change" event; a server that exits or never answers
leaves it ``Failed`` (an update: back on the previous configuration,
``InService`` with a ``FailureReason``, as SageMaker rolls back). An update
moves traffic to the new process and stops the old one; ``DeleteEndpoint``
stops it. ``InvokeEndpoint`` (SageMaker Runtime, ``POST
/endpoints/<name>/invocations``) is forwarded to the endpoint's process; a
container answer that is not 2xx becomes SageMaker's ``ModelError`` (HTTP
424 with ``OriginalStatusCode`` and ``OriginalMessage``).

Everything started here is stopped by ``shutdown()`` (the launcher calls it).
"""

from __future__ import annotations

import copy
import datetime
import functools
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError

import sagemaker_rules

_MARK = "_project_emulator_local_sagemaker"
# The training jobs the local SageMaker runs, by (account, region, job name):
# the running `train` process (None until it starts), and those StopTrainingJob
# asked to stop. Kept here, not on the job: moto turns a job's attributes into
# its answers and events. Guarded by _LOCK.
_training: dict[tuple[str, str, str], subprocess.Popen | None] = {}
_stop_requested: set[tuple[str, str, str]] = set()
_LOCK = sagemaker_rules._LOCK
# How long an endpoint's server may take to answer /ping (SageMaker allows
# minutes; an example that imports scikit-learn needs a few seconds).
PING_TIMEOUT = float(os.environ.get("EMULATOR_PING_TIMEOUT", "60"))
# The longest a local training job may run, whatever its MaxRuntimeInSeconds.
TRAINING_TIMEOUT_CAP = 600.0
_FAILURE_REASON_LIMIT = 1024  # FailureReason's length limit in SageMaker's API
_IMAGE = re.compile(
    r"^(?P<registry>[^/]+)/(?P<repository>[^@:]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_INVOCATIONS = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")


# ---------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class LocalImage:
    """What a local image runs: an example folder and its tag's defaults."""

    repository: str
    example: Path
    hyperparameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Config:
    repositories: dict[str, dict[str, Any]] = field(default_factory=dict)
    serve_workers: int = 1


_config = Config()


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Reads the local-images file; ``None``: no local images. Raises
    ValueError naming the problem for a file that does not fit."""
    if path is None:
        return Config()
    file = Path(path).resolve()
    document = json.loads(file.read_text())
    if not isinstance(document, dict) or not isinstance(document.get("repositories"), dict):
        raise ValueError(f"{file}: expected an object with a 'repositories' object")
    repositories: dict[str, dict[str, Any]] = {}
    for name, entry in document["repositories"].items():
        example = (file.parent / str(entry.get("example", ""))).resolve()
        for program in ("train", "serve"):
            if not (example / program).is_file():
                raise ValueError(f"{file}: repository {name}: {example / program} does not exist")
        tags = entry.get("tags", {})
        for tag, defaults in tags.items():
            unknown = set(defaults) - {"hyperparameters", "environment"}
            if unknown:
                raise ValueError(f"{file}: {name}:{tag}: unknown keys {sorted(unknown)}")
            for key in ("hyperparameters", "environment"):
                values = defaults.get(key, {})
                if not all(isinstance(v, str) for v in values.values()):
                    raise ValueError(f"{file}: {name}:{tag}: {key} values must be strings")
        repositories[name] = {"example": example, "tags": tags}
    workers = int(document.get("serve_workers", 1))
    return Config(repositories=repositories, serve_workers=max(1, workers))


def _ecr_tags(account: str, region: str, repository: str, digest: str) -> list[str]:
    """The tags the emulator's ECR holds for an image digest."""
    from moto.ecr.models import ecr_backends

    try:
        repo = ecr_backends[account][region].repositories.get(repository)
    except KeyError:
        return []
    if repo is None:
        return []
    return [
        tag
        for image in repo.images
        if image.get_image_digest() == digest
        for tag in (image.image_tags or [])
    ]


def local_image(image: str | None, account: str, region: str) -> LocalImage | None:
    """The local example an image URI stands for, with its tag's defaults."""
    if not image:
        return None
    parsed = _IMAGE.match(image)
    if parsed is None or parsed["repository"] not in _config.repositories:
        return None
    entry = _config.repositories[parsed["repository"]]
    tags = [parsed["tag"]] if parsed["tag"] else []
    if parsed["digest"]:
        registry_account = parsed["registry"].split(".", 1)[0]
        tags += _ecr_tags(registry_account or account, region, parsed["repository"], parsed["digest"])
    defaults: dict[str, Any] = {}
    for tag in tags:
        if tag in entry["tags"]:
            defaults = entry["tags"][tag]
            break
    return LocalImage(
        repository=parsed["repository"],
        example=entry["example"],
        hyperparameters=dict(defaults.get("hyperparameters", {})),
        environment=dict(defaults.get("environment", {})),
    )


# ---------------------------------------------------------------------------
# the emulator's S3 and EventBridge, in process (not through the HTTP API: the
# call log counts the callers' requests only)


def _s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _s3_keys(account: str, bucket: str, prefix: str) -> list[str]:
    stored = _s3(account).get_bucket(bucket)
    return sorted(name for name in list(stored.keys.keys()) if name.startswith(prefix))


def _s3_read(account: str, bucket: str, key: str) -> bytes:
    return _s3(account).get_object(bucket, key).value


def _s3_write(account: str, uri: str, body: bytes) -> None:
    bucket, key = _split_s3(uri)
    _s3(account).put_object(bucket, key, body)


def _epoch_ms(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_ms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_ms(v) for v in value]
    return value


def _put_event(account: str, region: str, detail_type: str, resource: str, detail: dict) -> None:
    """One event from aws.sagemaker onto the region's default bus."""
    from moto.events.models import events_backends

    entry = {
        "Source": "aws.sagemaker",
        "DetailType": detail_type,
        "Detail": json.dumps(_epoch_ms(detail), default=str),
        "Resources": [resource],
    }
    answer = events_backends[account][region].put_events([entry])
    if answer and "ErrorCode" in answer[0]:
        _log("events", f"PutEvents failed: {answer[0]}")


def _tags(resource: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in getattr(resource, "tags", None) or []}


def _log(who: str, line: str) -> None:
    sys.stderr.write(f"[{who}] {line.rstrip()}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# processes


_processes: set[subprocess.Popen] = set()
_processes_lock = threading.Lock()


def _spawn(command: list[str], env: dict[str, str], cwd: Path, label: str) -> subprocess.Popen:
    """A child in a process group of its own, its output pumped to stderr
    with ``label``; the lines are also kept on ``process.output``."""
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.output = []  # type: ignore[attr-defined]

    def pump() -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            process.output.append(line)  # type: ignore[attr-defined]
            _log(label, line)

    process.pump = threading.Thread(target=pump, daemon=True)  # type: ignore[attr-defined]
    process.pump.start()  # type: ignore[attr-defined]
    with _processes_lock:
        _processes.add(process)
    return process


def _stop(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process group, SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    process.pump.join(timeout=2)  # type: ignore[attr-defined]
    with _processes_lock:
        _processes.discard(process)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def _program(example: Path, name: str) -> list[str]:
    # The example's programs are Python scripts: run with this interpreter
    # (the project's venv, which holds the example's pinned requirements), as
    # the image runs them with its own.
    return [sys.executable, str(example / name)]


# ---------------------------------------------------------------------------
# training


def _set_job(job: Any, **changes: Any) -> None:
    with _LOCK:
        for key, value in changes.items():
            setattr(job, key, value)
        job.last_modified_time = utcnow()


def _transition(job: Any, status: str, message: str) -> None:
    """A new SecondaryStatus, recorded in SecondaryStatusTransitions."""
    now = utcnow()
    with _LOCK:
        transitions = list(getattr(job, "secondary_status_transitions", None) or [])
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1] = {**transitions[-1], "EndTime": now}
        transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        job.secondary_status_transitions = transitions
        job.secondary_status = status
        job.last_modified_time = now


def _training_event(backend: Any, job: Any) -> None:
    with _LOCK:
        detail = copy.deepcopy(job.response_object)
        detail["Tags"] = _tags(job)
    _put_event(
        backend.account_id, backend.region_name, "SageMaker Training Job State Change", job.arn, detail
    )


def _channel_objects(account: str, region: str, role: str, channel: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The channel's bucket and its objects as (key, path in the channel).
    Raises ValueError with SageMaker's words when there is nothing to read."""
    source = channel.get("DataSource", {}).get("S3DataSource")
    if source is None:
        raise ValueError(f"channel {channel.get('ChannelName')}: only S3 data sources run locally")
    uri, data_type = source["S3Uri"], source.get("S3DataType", "S3Prefix")
    bucket, key = _split_s3(uri)
    try:
        if data_type == "S3Prefix":
            base = key[: key.rfind("/") + 1]
            objects = [(name, name[len(base) :]) for name in _s3_keys(account, bucket, key) if not name.endswith("/")]
        elif data_type == "ManifestFile":
            manifest = json.loads(_s3_read(account, bucket, key))
            bucket, prefix = _split_s3(manifest[0]["prefix"])
            objects = [(prefix + relative, relative) for relative in manifest[1:]]
        else:
            raise ValueError(f"S3DataType {data_type} does not run locally")
    except ValueError:
        raise
    except Exception:  # no such bucket or manifest: nothing found, as SageMaker says
        objects = []
    if not objects:
        raise ValueError(
            f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the '
            f"bucket exists in the selected region ({region}), that objects exist under that S3 prefix, and "
            f'that the role "{role}" has "s3:ListBucket" permissions on bucket "{bucket}".'
        )
    return bucket, objects


def _download_channel(account: str, bucket: str, objects: list[tuple[str, str]], into: Path) -> None:
    for name, relative in objects:
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_s3_read(account, bucket, name))


def _tar_gz(folder: Path) -> bytes:
    """The folder's files at the archive's root, as SageMaker packs them."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return raw.getvalue()


def _final_metrics(definitions: list[dict[str, str]], log: str) -> list[dict[str, Any]]:
    now = utcnow()
    metrics = []
    for definition in definitions:
        values = []
        for match in re.finditer(definition["Regex"], log):
            try:
                values.append(float(match.group(1)))
            except (IndexError, ValueError):
                continue
        if values:
            metrics.append({"MetricName": definition["Name"], "Value": values[-1], "Timestamp": now})
    return metrics


def _write_config(opt_ml: Path, job: Any, image: LocalImage) -> None:
    config = opt_ml / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = {**image.hyperparameters, **(job.hyper_parameters or {})}
    (config / "hyperparameters.json").write_text(
        json.dumps({k: str(v) for k, v in hyperparameters.items()})
    )
    channels = {
        c["ChannelName"]: {
            "ContentType": c.get("ContentType", ""),
            "TrainingInputMode": c.get("InputMode", "File"),
            "S3DistributionType": c.get("DataSource", {})
            .get("S3DataSource", {})
            .get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": c.get("RecordWrapperType", "None"),
        }
        for c in job.input_data_config or []
    }
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"})
    )


def _train(backend: Any, job: Any, image: LocalImage) -> None:
    """Runs one training job to its end; every outcome is recorded on the job."""
    name, account = job.training_job_name, backend.account_id
    key = (account, backend.region_name, name)
    workdir = Path(tempfile.mkdtemp(prefix=f"local-training-{name[:40]}-"))
    opt_ml = workdir / "opt" / "ml"
    try:
        _transition(job, "Downloading", "Downloading input data")
        _write_config(opt_ml, job, image)
        try:
            for channel in job.input_data_config or []:
                into = opt_ml / "input" / "data" / channel["ChannelName"]
                into.mkdir(parents=True, exist_ok=True)
                bucket, objects = _channel_objects(account, backend.region_name, job.role_arn, channel)
                _download_channel(account, bucket, objects, into)
                _log(f"training {name}", f"channel {channel['ChannelName']}: {len(objects)} object(s)")
        except Exception as error:  # the data changed since the job was created
            said = str(getattr(error, "message", "") or error)
            return _finish(backend, job, "Failed", "Failed", failure=f"ClientError: Data download failed: {said}")
        for folder in ("model", "output/data"):
            (opt_ml / folder).mkdir(parents=True, exist_ok=True)
        if key in _stop_requested:
            return _finish(backend, job, "Stopped", "Stopped")

        _transition(job, "Training", "Training image download completed. Training in progress.")
        limit = float((job.stopping_condition or {}).get("MaxRuntimeInSeconds") or TRAINING_TIMEOUT_CAP)
        env = _environment({**image.environment, "OPT_ML": str(opt_ml)})
        process = _spawn(_program(image.example, "train"), env, workdir, f"training {name}")
        with _LOCK:
            _training[key] = process
            stop_requested = key in _stop_requested
        if stop_requested:  # StopTrainingJob came while it started
            _stop(process)
        try:
            code = process.wait(timeout=min(limit, TRAINING_TIMEOUT_CAP))
        except subprocess.TimeoutExpired:
            _stop(process)
            return _finish(
                backend, job, "Stopped", "MaxRuntimeExceeded",
                failure=f"Training job reached MaxRuntimeInSeconds ({int(limit)} s) and was stopped",
            )
        process.pump.join(timeout=5)  # type: ignore[attr-defined]
        _stop(process)
        log = "".join(process.output)  # type: ignore[attr-defined]
        definitions = (job.algorithm_specification or {}).get("MetricDefinitions") or []
        metrics = _final_metrics(definitions, log)
        if key in _stop_requested:
            return _finish(backend, job, "Stopped", "Stopped", metrics=metrics)
        if code != 0:
            failure_file = opt_ml / "output" / "failure"
            said = failure_file.read_text(errors="replace").strip() if failure_file.exists() else ""
            said = said or "the training program wrote no /opt/ml/output/failure; see its log"
            return _finish(
                backend, job, "Failed", "Failed",
                failure=f"AlgorithmError: {said}, exit code: {code}", metrics=metrics,
            )

        _transition(job, "Uploading", "Uploading generated training model")
        output = job.output_data_config["S3OutputPath"].rstrip("/")
        model_uri = f"{output}/{name}/output/model.tar.gz"
        _s3_write(account, model_uri, _tar_gz(opt_ml / "model"))
        if any((opt_ml / "output" / "data").iterdir()):
            _s3_write(account, f"{output}/{name}/output/output.tar.gz", _tar_gz(opt_ml / "output" / "data"))
        _finish(backend, job, "Completed", "Completed", metrics=metrics, model_uri=model_uri)
    except Exception as error:  # a defect here must not leave the job InProgress
        _log(f"training {name}", f"emulator error: {error!r}")
        _finish(backend, job, "Failed", "Failed", failure=f"InternalServerError: {error}")
    finally:
        with _LOCK:
            _training.pop(key, None)
            _stop_requested.discard(key)
        shutil.rmtree(workdir, ignore_errors=True)


def _finish(
    backend: Any,
    job: Any,
    status: str,
    secondary: str,
    *,
    failure: str | None = None,
    metrics: list[dict[str, Any]] | None = None,
    model_uri: str | None = None,
) -> None:
    messages = {"Completed": "Training job completed", "Failed": failure or "Training job failed"}
    _transition(job, secondary, messages.get(secondary, failure or secondary))
    _set_job(
        job,
        training_job_status=status,
        training_end_time=utcnow(),
        failure_reason=None if failure is None else failure[:_FAILURE_REASON_LIMIT],
        final_metric_data_list=metrics or [],
        model_artifacts=None if model_uri is None else {"S3ModelArtifacts": model_uri},
    )
    _log(f"training {job.training_job_name}", f"{status}" + (f": {failure}" if failure else ""))
    _training_event(backend, job)


def _local_training(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_training_job(self: Any, *args: Any, **kwargs: Any) -> Any:
        job = original(self, *args, **kwargs)
        image = local_image(
            (job.algorithm_specification or {}).get("TrainingImage"), self.account_id, self.region_name
        )
        if image is None:
            return job
        # SageMaker checks the channels' data when the job is created: no job then.
        for channel in job.input_data_config or []:
            try:
                _channel_objects(self.account_id, self.region_name, job.role_arn, channel)
            except ValueError as error:
                with _LOCK:
                    self.training_jobs.pop(job.training_job_name, None)
                raise ValidationError(message=str(error)) from None
        now = utcnow()
        with _LOCK:
            _training[(self.account_id, self.region_name, job.training_job_name)] = None
        _set_job(
            job,
            training_job_status="InProgress",
            secondary_status="Starting",
            training_start_time=now,
            training_end_time=None,
            model_artifacts=None,
            final_metric_data_list=[],
            secondary_status_transitions=[
                {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances for training"}
            ],
        )
        _training_event(self, job)
        threading.Thread(target=_train, args=(self, job, image), daemon=True).start()
        return job

    setattr(create_training_job, _MARK, True)
    return create_training_job


def _local_stop_training_job(original: Callable[..., Any]) -> Callable[..., Any]:
    """StopTrainingJob of a running local job: Stopping, and its `train` killed
    (``_train`` then records it Stopped). Any other job: sagemaker_rules' answer."""

    @functools.wraps(original)
    def stop_training_job(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        key = (self.account_id, self.region_name, training_job_name)
        with _LOCK:
            job = self.training_jobs.get(training_job_name)
            if key not in _training or job is None or job.training_job_status != "InProgress":
                return original(self, training_job_name, *args, **kwargs)
            _stop_requested.add(key)
            job.training_job_status = "Stopping"
            process = _training[key]
        _transition(job, "Stopping", "Stopping the training job")
        if process is not None:
            threading.Thread(target=_stop, args=(process,), daemon=True).start()

    setattr(stop_training_job, _MARK, True)
    return stop_training_job


# ---------------------------------------------------------------------------
# serving


@dataclass
class Server:
    """One endpoint's running ``serve``."""

    process: subprocess.Popen
    port: int
    workdir: Path
    config_name: str

    def stop(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


# (account, region, endpoint name) -> the server taking its traffic
_servers: dict[tuple[str, str, str], Server] = {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _container(backend: Any, model_name: str) -> dict[str, Any] | None:
    """The model's first container, resolved through its model package."""
    model = backend._models.get(model_name)
    if model is None:
        return None
    container = model.primary_container or (model.containers[0] if model.containers else None)
    if not container:
        return None
    package_name = container.get("ModelPackageName")
    if package_name:
        for package in backend.model_packages.values():
            if package.arn == package_name or package.model_package_name == package_name:
                containers = (package.inference_specification or {}).get("Containers") or []
                return containers[0] if containers else None
        return None
    return container


def _served_image(backend: Any, config_name: str) -> tuple[LocalImage, str] | None:
    """The local image and model archive the configuration's first variant serves."""
    config = backend.endpoint_configs.get(config_name)
    if config is None or not config.production_variants:
        return None
    container = _container(backend, config.production_variants[0]["ModelName"])
    if container is None:
        return None
    image = local_image(container.get("Image"), backend.account_id, backend.region_name)
    if image is None or not container.get("ModelDataUrl"):
        return None
    return image, container["ModelDataUrl"]


def _ping(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _start_server(backend: Any, name: str, config_name: str, image: LocalImage, model_url: str) -> Server:
    """Unpacks the model, starts ``serve``, waits for /ping. Raises
    RuntimeError with SageMaker's kind of reason when it never answers."""
    workdir = Path(tempfile.mkdtemp(prefix=f"local-endpoint-{name[:40]}-"))
    model_dir = workdir / "opt" / "ml" / "model"
    model_dir.mkdir(parents=True)
    try:
        bucket, key = _split_s3(model_url)
        archive = _s3_read(backend.account_id, bucket, key)
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(model_dir, filter="data")
    except Exception as error:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"Failed to download model data from {model_url}: {error}") from None
    port = _free_port()
    env = _environment(
        {
            **image.environment,
            "OPT_ML": str(workdir / "opt" / "ml"),
            "SERVE_HOST": "127.0.0.1",
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(_config.serve_workers),
        }
    )
    process = _spawn(_program(image.example, "serve"), env, workdir, f"endpoint {name}")
    server = Server(process=process, port=port, workdir=workdir, config_name=config_name)
    deadline = time.monotonic() + PING_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _ping(port):
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(
        "The primary container for production variant AllTraffic did not pass the ping health check. "
        "Please check CloudWatch logs for this endpoint."
    )


def endpoint_event(backend: Any, endpoint: Any) -> None:
    """A "SageMaker Endpoint State Change" event for the endpoint as it is now,
    onto the region's default bus. Also sent by control.py's held creates and
    updates of the other endpoints (one shape for every endpoint event the
    emulator sends)."""
    with _LOCK:
        status = re.sub(r"(?<!^)(?=[A-Z])", "_", endpoint.endpoint_status).upper()  # InService -> IN_SERVICE
        detail = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": [
                {
                    "VariantName": v.get("VariantName"),
                    "CurrentWeight": float(v.get("CurrentWeight", 1.0)),
                    "DesiredWeight": float(v.get("DesiredWeight", 1.0)),
                    "CurrentInstanceCount": float(v.get("CurrentInstanceCount", 1)),
                    "DesiredInstanceCount": float(v.get("DesiredInstanceCount", 1)),
                }
                for v in endpoint.production_variants or []
            ],
            "EndpointStatus": status,
            "CreationTime": float(_epoch_ms(endpoint.creation_time)),
            "LastModifiedTime": float(_epoch_ms(endpoint.last_modified_time)),
            "Tags": _tags(endpoint),
        }
        if endpoint.failure_reason:
            detail["FailureReason"] = endpoint.failure_reason
    _put_event(backend.account_id, backend.region_name, "SageMaker Endpoint State Change", endpoint.arn, detail)


def _bring_up(backend: Any, name: str, config_name: str, previous: dict[str, Any] | None) -> None:
    """Starts the configuration's server; the endpoint follows the outcome.
    ``previous``: the endpoint before an update, to roll back to."""
    key = (backend.account_id, backend.region_name, name)
    served = _served_image(backend, config_name)
    try:
        if served is None:
            raise RuntimeError(f"endpoint configuration {config_name} serves no local model")
        server = _start_server(backend, name, config_name, *served)
    except RuntimeError as error:
        with _LOCK:
            endpoint = backend.endpoints.get(name)
            if endpoint is None or endpoint.endpoint_config_name != config_name:
                return  # deleted or updated again meanwhile
            if previous is None:
                endpoint.endpoint_status = "Failed"
            else:  # SageMaker rolls a failed update back to the old fleet
                for attribute, value in previous.items():
                    setattr(endpoint, attribute, value)
                endpoint.endpoint_status = "InService"
            endpoint.failure_reason = str(error)
            endpoint.last_modified_time = utcnow()
        _log(f"endpoint {name}", f"{'rolled back' if previous else 'Failed'}: {error}")
        return endpoint_event(backend, endpoint)

    with _LOCK:
        endpoint = backend.endpoints.get(name)
        current = endpoint is not None and endpoint.endpoint_config_name == config_name
        if current:
            old = _servers.get(key)
            _servers[key] = server
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = None
            endpoint.last_modified_time = utcnow()
    if not current:  # deleted or updated again while this one started
        server.stop()
        return
    if old is not None:
        old.stop()
    _log(f"endpoint {name}", f"InService on {config_name}, port {server.port}")
    endpoint_event(backend, endpoint)


def _local_create_endpoint(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
        endpoint = original(self, endpoint_name, endpoint_config_name, *args, **kwargs)
        if _served_image(self, endpoint_config_name) is not None:
            with _LOCK:
                endpoint.endpoint_status = "Creating"
            threading.Thread(
                target=_bring_up, args=(self, endpoint_name, endpoint_config_name, None), daemon=True
            ).start()
        return endpoint

    setattr(create_endpoint, _MARK, True)
    return create_endpoint


def _local_update_endpoint(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            endpoint = self.endpoints.get(endpoint_name)
            previous = None
            if endpoint is not None:
                previous = {
                    "endpoint_config_name": endpoint.endpoint_config_name,
                    "production_variants": copy.deepcopy(endpoint.production_variants),
                    "data_capture_config": copy.deepcopy(endpoint.data_capture_config),
                }
            arn = original(self, endpoint_name, endpoint_config_name, *args, **kwargs)
            local = _served_image(self, endpoint_config_name) is not None
            if local:
                self.endpoints[endpoint_name].endpoint_status = "Updating"
        if local:
            threading.Thread(
                target=_bring_up, args=(self, endpoint_name, endpoint_config_name, previous), daemon=True
            ).start()
        return arn

    setattr(update_endpoint, _MARK, True)
    return update_endpoint


def _local_delete_endpoint(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_endpoint(self: Any, endpoint_name: str, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, endpoint_name, *args, **kwargs)
        with _LOCK:
            server = _servers.pop((self.account_id, self.region_name, endpoint_name), None)
        if server is not None:
            server.stop()
        return answer

    setattr(delete_endpoint, _MARK, True)
    return delete_endpoint


# ---------------------------------------------------------------------------
# InvokeEndpoint


def _region(environ: dict[str, Any]) -> str:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return scope[2] if len(scope) >= 5 else "us-east-1"


def _runtime_error(
    start_response: Callable[..., Any], status: int, code: str, message: str, **extra: Any
) -> Iterable[bytes]:
    body = json.dumps({"message": message, **extra}).encode()
    reasons = {400: "Bad Request", 424: "Failed Dependency", 503: "Service Unavailable", 500: "Internal Server Error"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("Content-Length", str(len(body)))],
    )
    return [body]


def invoke_endpoint(environ: dict[str, Any], start_response: Callable[..., Any], name: str) -> Iterable[bytes]:
    """SageMaker Runtime's InvokeEndpoint, forwarded to the endpoint's ``serve``."""
    from moto.sagemaker.models import sagemaker_backends

    region = _region(environ)
    account = DEFAULT_ACCOUNT_ID  # the emulator's one account, as for every other call
    backend = sagemaker_backends[account][region]
    with _LOCK:
        endpoint = backend.endpoints.get(name)
        server = _servers.get((account, region, name))
        status = endpoint.endpoint_status if endpoint is not None else None
    if endpoint is None:
        return _runtime_error(start_response, 400, "ValidationError", f"Endpoint {name} of account {account} not found.")
    if server is None or status not in ("InService", "Updating"):
        return _runtime_error(
            start_response, 400, "ValidationError",
            f"Endpoint {name} of account {account} not found."
            if status != "InService"
            else f"Endpoint {name} has no local model server (its image is not a local example)",
        )
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {"Content-Type": environ.get("CONTENT_TYPE") or "application/octet-stream"}
    if environ.get("HTTP_ACCEPT"):
        headers["Accept"] = environ["HTTP_ACCEPT"]
    custom = environ.get("HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES")
    if custom:
        headers["X-Amzn-SageMaker-Custom-Attributes"] = custom
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/invocations", data=body, headers=headers, method="POST"
    )
    log_stream = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{name}"
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            payload = answer.read()
            reply = [
                ("Content-Type", answer.headers.get("Content-Type", "application/octet-stream")),
                ("Content-Length", str(len(payload))),
                ("x-Amzn-Invoked-Production-Variant", "AllTraffic"),
            ]
            if answer.headers.get("X-Amzn-SageMaker-Custom-Attributes"):
                reply.append(("X-Amzn-SageMaker-Custom-Attributes", answer.headers["X-Amzn-SageMaker-Custom-Attributes"]))
            start_response("200 OK", reply)
            return [payload]
    except urllib.error.HTTPError as error:
        said = error.read().decode("utf-8", "replace")
        kind = "client" if error.code < 500 else "server"
        return _runtime_error(
            start_response, 424, "ModelError",
            f'Received {kind} error ({error.code}) from primary with message "{said}". '
            f"See {log_stream} in account {account} for more information.",
            OriginalStatusCode=error.code, OriginalMessage=said, LogStreamArn=log_stream,
        )
    except (OSError, urllib.error.URLError) as error:
        return _runtime_error(
            start_response, 424, "ModelError",
            f"Received server error (0) from primary: {error}. See {log_stream} in account {account} for more information.",
            OriginalStatusCode=0, OriginalMessage=str(error), LogStreamArn=log_stream,
        )


# ---------------------------------------------------------------------------


def install(config_path: str | os.PathLike[str] | None = None) -> None:
    """Reads the configuration and wraps moto's SageMaker backend and server.
    Run after sagemaker_rules.install() and control.install(), before
    faults.install() (so that faults and the call log see InvokeEndpoint)."""
    global _config
    _config = load_config(config_path or os.environ.get("EMULATOR_LOCAL_IMAGES") or None)
    from moto.moto_server import threaded_moto_server
    from moto.sagemaker.models import SageMakerModelBackend

    backend = SageMakerModelBackend
    if getattr(backend.create_training_job, _MARK, False):
        return
    backend.create_training_job = _local_training(backend.create_training_job)  # type: ignore[method-assign]
    backend.create_endpoint = _local_create_endpoint(backend.create_endpoint)  # type: ignore[method-assign]
    backend.update_endpoint = _local_update_endpoint(backend.update_endpoint)  # type: ignore[attr-defined]
    backend.delete_endpoint = _local_delete_endpoint(backend.delete_endpoint)  # type: ignore[method-assign]
    backend.stop_training_job = _local_stop_training_job(backend.stop_training_job)  # type: ignore[attr-defined]

    _install_ecr_digest()

    base = threaded_moto_server.DomainDispatcherApplication

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            found = _INVOCATIONS.match(environ.get("PATH_INFO", ""))
            if found and environ.get("REQUEST_METHOD") == "POST":
                return invoke_endpoint(environ, start_response, found["name"])
            return super().__call__(environ, start_response)

    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]


def _install_ecr_digest() -> None:
    """An image's digest is the SHA-256 of its manifest, as a registry computes
    it; stock moto hashes the layer digests only (an empty list: the same
    digest for every manifest without layers), or a random number."""
    import hashlib

    from moto.ecr.models import Image

    def _create_digest(self: Any) -> None:
        self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode("utf-8")).hexdigest()

    Image._create_digest = _create_digest  # type: ignore[method-assign]


def shutdown() -> None:
    """Stops every server and training process started here."""
    with _LOCK:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()
    with _processes_lock:
        remaining = list(_processes)
    for process in remaining:
        _stop(process, grace=2.0)
