"""Local SageMaker Processing: a processing job whose image is a local example
runs that example's program for real, as ``local_sagemaker`` runs training.

``CreateProcessingJob`` with an ``AppSpecification.ImageUri`` of a repository
in the local-images configuration (``local_sagemaker``): the job is
``InProgress`` (a "SageMaker Processing Job State Change" event goes onto the
default bus), and in a thread, under a temporary ``/opt/ml``:

* each ``ProcessingInputs[].S3Input`` (``S3DataType`` ``S3Prefix``, ``File``
  mode) is copied from the emulator's S3 into its ``LocalPath``, which must
  lie under ``/opt/ml/processing/`` as SageMaker requires; an object's path
  below the prefix's last ``/`` is kept;
* the program runs: the first word of ``AppSpecification.ContainerEntrypoint``
  names one of the example's programs (on the image's ``PATH``, like
  ``train``; ``python3 <path>`` names it by its path), followed by the rest of
  the entry point and ``ContainerArguments``; the environment is the tag's
  defaults, then the job's ``Environment``, and ``OPT_ML`` (the examples take
  ``/opt/ml`` from it). Its output goes to the emulator's stderr, prefixed
  with the job's name;
* the first KiB of ``/opt/ml/output/message`` becomes ``ExitMessage``, as
  SageMaker does whatever the outcome (a message that is not UTF-8 fails the
  job with ``ClientError``, as SageMaker does);
* exit 0: each ``ProcessingOutputConfig.Outputs[].S3Output`` folder
  (``LocalPath``) is uploaded under its ``S3Uri`` (a file's path below the
  folder kept) and the job is ``Completed``; otherwise ``Failed`` with
  ``FailureReason`` ``AlgorithmError: See job logs for more information``
  (SageMaker's words; the reason is in ``ExitMessage``). Past
  ``StoppingCondition.MaxRuntimeInSeconds`` the program is killed and the job
  ``Stopped``. ``StopProcessingJob`` makes it ``Stopping`` and kills the
  program; it is then ``Stopped``, nothing uploaded. A second state-change
  event goes onto the bus.

The event's detail is the job's ``DescribeProcessingJob`` answer without tags,
as AWS's documented example shows it. Every other image keeps the rules'
behaviour: the job stays ``InProgress`` until a test sets its state
(``control.py``).
"""

from __future__ import annotations

import copy
import functools
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import local_sagemaker
import sagemaker_rules
from local_sagemaker import LocalImage

_MARK = "_project_emulator_local_processing"
# The programs running, by (account, region, job name) (None until started),
# and the jobs StopProcessingJob asked to stop. Guarded by the rules' lock.
_running: dict[tuple[str, str, str], subprocess.Popen | None] = {}
_stop_requested: set[tuple[str, str, str]] = set()
MESSAGE_LIMIT = 1024  # ExitMessage: the first KiB of /opt/ml/output/message
PROCESSING_ROOT = PurePosixPath("/opt/ml/processing")
# The longest a local processing job may run, whatever its MaxRuntimeInSeconds.
PROCESSING_TIMEOUT_CAP = 600.0


def _event(backend: Any, job: Any) -> None:
    with sagemaker_rules._LOCK:
        detail = copy.deepcopy(job.response_object)
    detail.pop("Tags", None)  # AWS's documented example has none
    local_sagemaker._put_event(
        backend.account_id, backend.region_name, "SageMaker Processing Job State Change", job.arn, detail
    )


def _local_path(opt_ml: Path, local_path: str) -> Path:
    """Where a container path under /opt/ml/processing/ lies in the local tree."""
    path = PurePosixPath(local_path)
    if not path.is_relative_to(PROCESSING_ROOT) or ".." in path.parts:
        raise ValueError(f"LocalPath {local_path} must be under {PROCESSING_ROOT}/")
    return opt_ml.joinpath(*path.relative_to("/opt/ml").parts)


def _program(image: LocalImage, entrypoint: list[str]) -> tuple[list[str], list[str]]:
    """The example's program the entry point names, and the arguments after it."""
    words = list(entrypoint)
    if words and PurePosixPath(words[0]).name in ("python", "python3") and len(words) > 1:
        words = words[1:]
    if not words:
        raise ValueError("AppSpecification.ContainerEntrypoint is required to run a local image")
    name = PurePosixPath(words[0]).name
    if not (image.example / name).is_file():
        raise ValueError(f'exec: "{words[0]}": executable file not found in $PATH')
    return local_sagemaker._program(image.example, name), words[1:]


def _download(account: str, job: Any, opt_ml: Path) -> None:
    for given in job.processing_inputs or []:
        source = given.get("S3Input")
        if source is None:
            raise ValueError(f"input {given.get('InputName')}: only S3 inputs run locally")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix" or source.get("S3InputMode", "File") != "File":
            raise ValueError(f"input {given.get('InputName')}: only S3Prefix inputs in File mode run locally")
        into = _local_path(opt_ml, source["LocalPath"])
        into.mkdir(parents=True, exist_ok=True)
        bucket, key = local_sagemaker._split_s3(source["S3Uri"])
        base = key[: key.rfind("/") + 1]
        names = [n for n in local_sagemaker._s3_keys(account, bucket, key) if not n.endswith("/")]
        for name in names:
            target = into / name[len(base) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(local_sagemaker._s3_read(account, bucket, name))
        local_sagemaker._log(
            f"processing {job.processing_job_name}", f"input {given.get('InputName')}: {len(names)} object(s)"
        )


def _upload(account: str, job: Any, opt_ml: Path) -> None:
    for output in (job.processing_output_config or {}).get("Outputs", []):
        target = output.get("S3Output")
        if target is None:
            continue
        folder = _local_path(opt_ml, target["LocalPath"])
        uri = target["S3Uri"].rstrip("/")
        files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        for path in files:
            local_sagemaker._s3_write(account, f"{uri}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        local_sagemaker._log(
            f"processing {job.processing_job_name}", f"output {output.get('OutputName')}: {len(files)} file(s)"
        )


def _finish(backend: Any, job: Any, status: str, *, failure: str | None = None, message: str | None = None) -> None:
    if failure is not None:
        failure = failure[: local_sagemaker._FAILURE_REASON_LIMIT]
    sagemaker_rules.set_processing_job_state(
        backend, job.processing_job_name, status=status, failure_reason=failure, exit_message=message
    )
    local_sagemaker._log(f"processing {job.processing_job_name}", status + (f": {failure}" if failure else ""))
    _event(backend, job)


def _process(backend: Any, job: Any, image: LocalImage) -> None:
    """Runs one processing job to its end; every outcome is recorded on the job."""
    name, account = job.processing_job_name, backend.account_id
    key = (account, backend.region_name, name)
    workdir = Path(tempfile.mkdtemp(prefix=f"local-processing-{name[:40]}-"))
    opt_ml = workdir / "opt" / "ml"
    try:
        app = job.app_specification or {}
        try:
            program, arguments = _program(image, app.get("ContainerEntrypoint") or [])
            _download(account, job, opt_ml)
            (opt_ml / "output").mkdir(parents=True, exist_ok=True)
            for output in (job.processing_output_config or {}).get("Outputs", []):
                if output.get("S3Output"):
                    _local_path(opt_ml, output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        except Exception as error:
            return _finish(backend, job, "Failed", failure=f"ClientError: {error}")
        env = local_sagemaker._environment({**image.environment, **(job.environment or {}), "OPT_ML": str(opt_ml)})
        command = program + arguments + list(app.get("ContainerArguments") or [])
        process = local_sagemaker._spawn(command, env, workdir, f"processing {name}")
        with sagemaker_rules._LOCK:
            _running[key] = process
            stop_requested = key in _stop_requested
        if stop_requested:  # StopProcessingJob came while it started
            local_sagemaker._stop(process)
        limit = float((job.stopping_condition or {}).get("MaxRuntimeInSeconds") or PROCESSING_TIMEOUT_CAP)
        try:
            code = process.wait(timeout=min(limit, PROCESSING_TIMEOUT_CAP))
        except subprocess.TimeoutExpired:
            local_sagemaker._stop(process)
            which = "MaxRuntimeInSeconds" if limit <= PROCESSING_TIMEOUT_CAP else "the emulator's limit"
            return _finish(
                backend, job, "Stopped",
                failure=f"Processing job reached {which} ({int(min(limit, PROCESSING_TIMEOUT_CAP))} s) and was stopped",
            )
        local_sagemaker._stop(process)
        if key in _stop_requested:
            return _finish(backend, job, "Stopped")
        message_file = opt_ml / "output" / "message"
        message = None
        if message_file.is_file():
            try:
                message = message_file.read_bytes().decode("utf-8")[:MESSAGE_LIMIT]
            except UnicodeDecodeError:
                return _finish(backend, job, "Failed", failure="ClientError: /opt/ml/output/message is not UTF-8")
        if code != 0:
            return _finish(backend, job, "Failed", failure="AlgorithmError: See job logs for more information", message=message)
        _upload(account, job, opt_ml)
        _finish(backend, job, "Completed", message=message)
    except Exception as error:  # a defect here must not leave the job InProgress
        local_sagemaker._log(f"processing {name}", f"emulator error: {error!r}")
        _finish(backend, job, "Failed", failure=f"InternalServerError: {error}")
    finally:
        with sagemaker_rules._LOCK:
            _running.pop(key, None)
            _stop_requested.discard(key)
        shutil.rmtree(workdir, ignore_errors=True)


def _local_processing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_processing_job(self: Any, *args: Any, **kwargs: Any) -> Any:
        job = original(self, *args, **kwargs)
        image = local_sagemaker.local_image(
            (job.app_specification or {}).get("ImageUri"), self.account_id, self.region_name
        )
        if image is None:
            return job
        with sagemaker_rules._LOCK:
            _running[(self.account_id, self.region_name, job.processing_job_name)] = None
        sagemaker_rules.set_processing_job_state(self, job.processing_job_name, status="InProgress")
        _event(self, job)
        threading.Thread(target=_process, args=(self, job, image), daemon=True).start()
        return job

    setattr(create_processing_job, _MARK, True)
    return create_processing_job


def _local_stop(original: Callable[..., Any]) -> Callable[..., Any]:
    """StopProcessingJob of a running local job: Stopping, and its program
    killed (``_process`` then records it Stopped). Any other job: rule 27."""

    @functools.wraps(original)
    def stop_processing_job(self: Any, processing_job_name: str, *args: Any, **kwargs: Any) -> Any:
        key = (self.account_id, self.region_name, processing_job_name)
        with sagemaker_rules._LOCK:
            job = self.processing_jobs.get(processing_job_name)
            if key not in _running or job is None or job.processing_job_status != "InProgress":
                return original(self, processing_job_name, *args, **kwargs)
            _stop_requested.add(key)
            job.processing_job_status = "Stopping"
            process = _running[key]
        if process is not None:
            threading.Thread(target=local_sagemaker._stop, args=(process,), daemon=True).start()

    setattr(stop_processing_job, _MARK, True)
    return stop_processing_job


def install() -> None:
    """Wraps moto's CreateProcessingJob (after sagemaker_rules.install()). Idempotent."""
    from moto.sagemaker.models import SageMakerModelBackend

    backend = SageMakerModelBackend
    if getattr(backend.create_processing_job, _MARK, False):
        return
    backend.create_processing_job = _local_processing(backend.create_processing_job)  # type: ignore[method-assign]
    backend.stop_processing_job = _local_stop(backend.stop_processing_job)  # type: ignore[method-assign]
