"""The emulator's test-control endpoint: what a test sets that no AWS API can.

`install()` makes moto's threaded server answer paths under ``/_emulator/``
itself (no AWS service uses that path; an S3 bucket name cannot start with
``_``). Plain HTTP/1.1 and JSON, no signature needed. Two resources: a
training job's outcome and an endpoint's state.

Training jobs
-------------

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
body that is not such a JSON object (``TRAINING_JOB_BODY``, a JSON Schema; the
message names the field, e.g. ``FinalMetricDataList[0].Value: True is not of
type 'number'``); 405 for a method other than POST.

Endpoints
---------

    GET  /_emulator/sagemaker/endpoints/<endpoint name>[?region=us-east-1]
    POST /_emulator/sagemaker/endpoints/<endpoint name>[?region=us-east-1]
    Content-Type: application/json

    {"EndpointStatus": "Updating", "FailureReason": "..."}

GET reads the endpoint; POST changes it, then answers the same. Both keys are
optional; a key that is not sent leaves that part as it is.

* ``EndpointStatus``: one of SageMaker's ``OutOfService``, ``Creating``,
  ``Updating``, ``SystemUpdating``, ``RollingBack``, ``InService``,
  ``Deleting``, ``Failed``, ``UpdateRollbackFailed``. ``DescribeEndpoint``
  then shows it, and ``UpdateEndpoint`` refuses an endpoint that is not
  ``InService`` (sagemaker_rules rule 10). Removes ``FailureReason`` unless the
  request sets one.
* ``FailureReason``: a string, or ``null`` to remove it.
* ``StatusAfterUpdate``: ``InService`` (the default: ``UpdateEndpoint``
  completes at once) or ``Updating``: each successful ``UpdateEndpoint`` then
  leaves the endpoint ``Updating``, as SageMaker does for the minutes a
  deployment takes, until a test posts ``{"EndpointStatus": "InService"}``.
  The check and the change are atomic, so of concurrent updates exactly one
  succeeds and the others are "Cannot update in-progress endpoint".

Answers: 200 ``{"EndpointName", "EndpointArn", "EndpointStatus",
"EndpointConfigName", "LastDeploymentConfig", "UpdateCount",
"FailureReason"?, "StatusAfterUpdate"?}`` (the last only when set to
``Updating``). ``LastDeploymentConfig`` is the ``DeploymentConfig`` of
the last ``UpdateEndpoint`` exactly as the request had it (``null`` before any
update, or after one without it), ``UpdateCount`` the number of successful
``UpdateEndpoint`` calls since ``CreateEndpoint``. 404 ``NotFound`` for an
endpoint that does not exist, 400 ``BadRequest`` for a bad body
(``ENDPOINT_BODY``), 405 for a method other than GET and POST.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Iterable

import jsonschema
from jsonschema.exceptions import best_match
from werkzeug.wrappers import Request, Response

import sagemaker_rules

PREFIX = "/_emulator/"
TRAINING_JOBS = "/_emulator/sagemaker/training-jobs/"
ENDPOINTS = "/_emulator/sagemaker/endpoints/"
DEFAULT_REGION = "us-east-1"
_MARK = "_project_emulator_control"
_STATUS_AFTER_UPDATE = "_project_emulator_status_after_update"
_STATUSES_AFTER_UPDATE = ("InService", "Updating")


# Request bodies are checked against JSON Schemas (draft 2020-12, declared beside
# each endpoint's handler; faults.py's control API uses the same checker).


class BadBody(ValueError):
    """A request body that does not fit its schema: 400 BadRequest."""


# JSON Schema counts 1.0 as an integer; here an integer is what Python's json
# module parses as one (never 1.0, never true/false), as the checks were before.
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def body_validator(schema: dict[str, Any]) -> Any:
    """A validator of request bodies against ``schema`` (itself checked now)."""
    _Validator.check_schema(schema)
    return _Validator(schema)


def check_body(validator: Any, body: Any) -> None:
    """Raises BadBody with ``<field path>: <what is wrong>`` (the most relevant
    error; the alternatives when none of several subschemas fits)."""
    error = best_match(validator.iter_errors(body))
    if error is None:
        return
    where = "body" if error.json_path == "$" else error.json_path.removeprefix("$.")
    message = error.message
    if error.context:  # anyOf/oneOf: say what each alternative wanted
        message += f" ({'; or '.join(sorted({e.message for e in error.context}))})"
    raise BadBody(f"{where}: {message}")


def _reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _reply(status, {"Code": code, "Message": message})


# Python's json parses 1e999 as infinity, which moto cannot send back as JSON.
_FINITE_NUMBER = {"type": "number", "minimum": -sys.float_info.max, "maximum": sys.float_info.max}
_REASON = {"type": ["string", "null"]}

TRAINING_JOB_BODY = {
    "type": "object",
    "properties": {
        "TrainingJobStatus": {"enum": sorted(sagemaker_rules.TRAINING_JOB_STATUSES)},
        "FailureReason": _REASON,
        "FinalMetricDataList": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"MetricName": {"type": "string"}, "Value": _FINITE_NUMBER},
                "required": ["MetricName", "Value"],
                "additionalProperties": False,
            },
        },
        "ModelArtifacts": {
            "type": ["object", "null"],
            "properties": {"S3ModelArtifacts": {"type": "string"}},
            "required": ["S3ModelArtifacts"],
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
_TRAINING_JOB_BODY = body_validator(TRAINING_JOB_BODY)


def _changes(body: Any) -> dict[str, Any]:
    """The keyword arguments of set_training_job_state, validated."""
    check_body(_TRAINING_JOB_BODY, body)
    keywords = {
        "TrainingJobStatus": "status",
        "FailureReason": "failure_reason",
        "FinalMetricDataList": "final_metrics",
        "ModelArtifacts": "model_artifacts",
    }
    changes = {keywords[key]: value for key, value in body.items()}
    if body.get("ModelArtifacts") is not None:
        changes["model_artifacts"] = body["ModelArtifacts"]["S3ModelArtifacts"]
    return changes


ENDPOINT_BODY = {
    "type": "object",
    "properties": {
        "EndpointStatus": {"enum": list(sagemaker_rules.ENDPOINT_STATUSES)},
        "FailureReason": _REASON,
        "StatusAfterUpdate": {"enum": list(_STATUSES_AFTER_UPDATE)},
    },
    "additionalProperties": False,
}
_ENDPOINT_BODY = body_validator(ENDPOINT_BODY)


def _endpoint_changes(body: Any) -> dict[str, Any]:
    """The keyword arguments of set_endpoint_state, validated."""
    check_body(_ENDPOINT_BODY, body)
    keywords = {
        "EndpointStatus": "status",
        "FailureReason": "failure_reason",
        "StatusAfterUpdate": "status_after_update",
    }
    return {keywords[key]: value for key, value in body.items()}


def _with_status_after_update(backend: Any, name: str, state: dict[str, Any]) -> dict[str, Any]:
    after = getattr(backend.endpoints.get(name), _STATUS_AFTER_UPDATE, "InService")
    if after != "InService":
        state["StatusAfterUpdate"] = after
    return state


def _set_endpoint_state(backend: Any, name: str, **changes: Any) -> dict[str, Any]:
    after = changes.pop("status_after_update", None)
    with sagemaker_rules._LOCK:  # an RLock: set_endpoint_state takes it again
        state = sagemaker_rules.set_endpoint_state(backend, name, **changes)
        if after is not None:
            setattr(backend.endpoints[name], _STATUS_AFTER_UPDATE, after)
        return _with_status_after_update(backend, name, state)


def _body(request: Request) -> Any:
    # Python's parser would accept NaN and Infinity, which moto cannot send back as JSON.
    return json.loads(request.get_data(as_text=True) or "{}", parse_constant=_no_constant)


def _backend(request: Request) -> tuple[Any, str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    region = request.args.get("region", DEFAULT_REGION)
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][region], f"{DEFAULT_ACCOUNT_ID}/{region}"


def _training_job(request: Request, name: str) -> Response:
    if request.method != "POST":
        return _error(405, "MethodNotAllowed", "use POST")
    try:
        changes = _changes(_body(request))
    except ValueError as error:  # not JSON, or BadBody
        return _error(400, "BadRequest", str(error))
    backend, where = _backend(request)
    try:
        state = sagemaker_rules.set_training_job_state(backend, name, **changes)
    except KeyError:
        return _error(404, "NotFound", f"no training job {name!r} in {where}")
    return _reply(200, state)


def _endpoint(request: Request, name: str) -> Response:
    if request.method not in ("GET", "POST"):
        return _error(405, "MethodNotAllowed", "use GET or POST")
    changes: dict[str, Any] = {}
    if request.method == "POST":
        try:
            changes = _endpoint_changes(_body(request))
        except ValueError as error:  # not JSON, or BadBody
            return _error(400, "BadRequest", str(error))
    backend, where = _backend(request)
    try:
        if request.method == "GET":
            state = sagemaker_rules.get_endpoint_state(backend, name)
            state = _with_status_after_update(backend, name, state)
        else:
            state = _set_endpoint_state(backend, name, **changes)
    except KeyError:
        return _error(404, "NotFound", f"no endpoint {name!r} in {where}")
    return _reply(200, state)


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application for paths under /_emulator/."""
    request = Request(environ)
    path = request.path  # already percent-decoded
    response = None
    for prefix, handle in ((TRAINING_JOBS, _training_job), (ENDPOINTS, _endpoint)):
        name = path[len(prefix) :] if path.startswith(prefix) else ""
        if name and "/" not in name:
            response = handle(request, name)
    if response is None:
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
    _install_status_after_update()

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "").startswith(PREFIX):
                return application(environ, start_response)
            return super().__call__(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]


def _install_status_after_update() -> None:
    """Wraps rule 10's UpdateEndpoint (sagemaker_rules.install must have run):
    an endpoint with ``StatusAfterUpdate`` ``Updating`` stays ``Updating``,
    set under the same lock as the update so that no other update slips in."""
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.update_endpoint  # type: ignore[attr-defined]

    def update_endpoint(self: Any, endpoint_name: str, *args: Any, **kwargs: Any) -> str:
        with sagemaker_rules._LOCK:
            arn = original(self, endpoint_name, *args, **kwargs)
            endpoint = self.endpoints[endpoint_name]
            endpoint.endpoint_status = getattr(endpoint, _STATUS_AFTER_UPDATE, "InService")
            return arn

    SageMakerModelBackend.update_endpoint = update_endpoint  # type: ignore[attr-defined]
