"""The emulator's test-control endpoint: what a test sets that no AWS API can.

`install()` makes moto's threaded server answer paths under ``/_emulator/``
itself (no AWS service uses that path; an S3 bucket name cannot start with
``_``). One endpoint so far, plain HTTP/1.1 and JSON, no signature needed:

    POST /_emulator/sagemaker/training-jobs/<training job name>[?region=us-east-1]
    Content-Type: application/json

    {"TrainingJobStatus": "Failed",
     "FailureReason": "AlgorithmError: out of memory",
     "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.91}],
     "ModelArtifacts": null}

Every key is optional; a key that is not sent leaves that part of the job as
it is.

* ``TrainingJobStatus``: ``InProgress``, ``Completed``, ``Failed``,
  ``Stopping`` or ``Stopped``. Also sets ``SecondaryStatus`` (``Training``
  for ``InProgress``, otherwise the same word), sets ``TrainingEndTime`` to now
  for ``Completed``/``Failed``/``Stopped`` and removes it for the other two,
  and removes ``FailureReason`` unless the request sets one.
* ``FailureReason``: a string, or ``null`` to remove it.
* ``FinalMetricDataList``: a list of ``{"MetricName": string, "Value": finite
  number}``; replaces the job's list (each entry gets ``Timestamp`` = now).
* ``ModelArtifacts``: ``{"S3ModelArtifacts": "s3://..."}``, or ``null`` for a
  job that produced no model (``DescribeTrainingJob`` then has no
  ``ModelArtifacts``).

The job is looked up in moto's default account (123456789012) and the region
given by ``?region=`` (default ``us-east-1``).

Answers: 200 with the job's new state, ``{"TrainingJobName", "TrainingJobArn",
"TrainingJobStatus", "SecondaryStatus", "FinalMetricDataList": [{"MetricName",
"Value"}], "FailureReason"?, "ModelArtifacts"?}``; 404 ``{"Code":
"NotFound", "Message": ...}`` for a job that does not exist (or any other path
under ``/_emulator/``); 400 ``{"Code": "BadRequest", "Message": ...}`` for a
body that is not such a JSON object; 405 for a method other than POST.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

import sagemaker_rules

PREFIX = "/_emulator/"
TRAINING_JOBS = "/_emulator/sagemaker/training-jobs/"
DEFAULT_REGION = "us-east-1"
_MARK = "_project_emulator_control"
_KEYS = {"TrainingJobStatus", "FailureReason", "FinalMetricDataList", "ModelArtifacts"}


class _BadRequest(Exception):
    pass


def _reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _reply(status, {"Code": code, "Message": message})


def _changes(body: Any) -> dict[str, Any]:
    """The keyword arguments of set_training_job_state, validated."""
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise _BadRequest(f"unknown keys {unknown}; known: {sorted(_KEYS)}")
    changes: dict[str, Any] = {}
    if "TrainingJobStatus" in body:
        status = body["TrainingJobStatus"]
        if status not in sagemaker_rules.TRAINING_JOB_STATUSES:
            raise _BadRequest(
                f"TrainingJobStatus must be one of {sorted(sagemaker_rules.TRAINING_JOB_STATUSES)}"
            )
        changes["status"] = status
    if "FailureReason" in body:
        reason = body["FailureReason"]
        if reason is not None and not isinstance(reason, str):
            raise _BadRequest("FailureReason must be a string or null")
        changes["failure_reason"] = reason
    if "FinalMetricDataList" in body:
        metrics = body["FinalMetricDataList"]
        if not isinstance(metrics, list):
            raise _BadRequest("FinalMetricDataList must be a list")
        for metric in metrics:
            ok = (
                isinstance(metric, dict)
                and set(metric) == {"MetricName", "Value"}
                and isinstance(metric["MetricName"], str)
                and isinstance(metric["Value"], (int, float))
                and not isinstance(metric["Value"], bool)
                and math.isfinite(metric["Value"])
            )
            if not ok:
                raise _BadRequest(
                    'each FinalMetricDataList entry must be {"MetricName": string, '
                    f'"Value": finite number}}, not {metric!r}'
                )
        changes["final_metrics"] = metrics
    if "ModelArtifacts" in body:
        artifacts = body["ModelArtifacts"]
        if artifacts is None:
            changes["model_artifacts"] = None
        elif (
            isinstance(artifacts, dict)
            and set(artifacts) == {"S3ModelArtifacts"}
            and isinstance(artifacts["S3ModelArtifacts"], str)
        ):
            changes["model_artifacts"] = artifacts["S3ModelArtifacts"]
        else:
            raise _BadRequest('ModelArtifacts must be {"S3ModelArtifacts": string} or null')
    return changes


def _training_job(request: Request, name: str) -> Response:
    if request.method != "POST":
        return _error(405, "MethodNotAllowed", "use POST")
    try:
        # Python's parser would accept NaN and Infinity, which moto cannot send back as JSON.
        body = json.loads(request.get_data(as_text=True) or "{}", parse_constant=_no_constant)
        changes = _changes(body)
    except (ValueError, _BadRequest) as error:
        return _error(400, "BadRequest", str(error))
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    region = request.args.get("region", DEFAULT_REGION)
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][region]
    try:
        state = sagemaker_rules.set_training_job_state(backend, name, **changes)
    except KeyError:
        return _error(404, "NotFound", f"no training job {name!r} in {DEFAULT_ACCOUNT_ID}/{region}")
    return _reply(200, state)


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application for paths under /_emulator/."""
    request = Request(environ)
    path = request.path  # already percent-decoded
    name = path[len(TRAINING_JOBS) :] if path.startswith(TRAINING_JOBS) else ""
    if name and "/" not in name:
        response = _training_job(request, name)
    else:
        response = _error(404, "NotFound", f"no emulator control endpoint {path}")
    return response(environ, start_response)


def install() -> None:
    """Routes /_emulator/ in moto's ThreadedMotoServer to `application`. Idempotent.

    Must run before ``ThreadedMotoServer.start()``: the server thread builds its
    WSGI application from the dispatcher class this replaces.
    """
    from moto.moto_server import threaded_moto_server

    base = threaded_moto_server.DomainDispatcherApplication
    if getattr(base, _MARK, False):
        return

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "").startswith(PREFIX):
                return application(environ, start_response)
            return super().__call__(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]
