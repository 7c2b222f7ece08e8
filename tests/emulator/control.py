"""The emulator's test-control endpoint: what a test sets that no AWS API can.

`install()` makes moto's threaded server answer paths under ``/_emulator/``
itself (no AWS service uses that path; an S3 bucket name cannot start with
``_``). Plain HTTP/1.1 and JSON, no signature needed. Four resources: a
training job's outcome, a processing job's, an endpoint's state, and the
region's defaults for held endpoint creates and updates.

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

Processing jobs
---------------

    POST /_emulator/sagemaker/processing-jobs/<processing job name>[?region=us-east-1]
    Content-Type: application/json

    {"ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: ...",
     "ExitMessage": "raw data: a.csv line 3 has 4 columns"}

``ProcessingJobStatus`` (required): ``InProgress``, ``Completed``, ``Failed``,
``Stopping`` or ``Stopped`` (a terminal one sets ``ProcessingEndTime``);
``FailureReason`` and ``ExitMessage``: strings of at most 1024 characters, or
left out (then the job has none). No event is sent: the test sends the
state-change event it needs. Answers: 200 with the job's
``DescribeProcessingJob`` answer; 404 for a job that does not exist; 400 for
a body that does not fit (``PROCESSING_JOB_BODY``); 405 for a method other
than POST.

Endpoints
---------

    GET  /_emulator/sagemaker/endpoints/<endpoint name>[?region=us-east-1]
    POST /_emulator/sagemaker/endpoints/<endpoint name>[?region=us-east-1]
    Content-Type: application/json

    {"EndpointStatus": "Updating", "FailureReason": "...",
     "UpdateSeconds": 5, "UpdateOutcome": "RolledBack"}

GET reads the endpoint; POST changes it, then answers the same. Every key is
optional; a key that is not sent leaves that part as it is.

* ``EndpointStatus``: one of SageMaker's ``OutOfService``, ``Creating``,
  ``Updating``, ``SystemUpdating``, ``RollingBack``, ``InService``,
  ``Deleting``, ``Failed``, ``UpdateRollbackFailed``. ``DescribeEndpoint``
  then shows it, and ``UpdateEndpoint`` refuses an endpoint that is not
  ``InService`` (sagemaker_rules rule 10). Removes ``FailureReason`` unless the
  request sets one. A held create or update (below) pending on the endpoint
  is cancelled: the test has decided its status.
* ``FailureReason``: a string, or ``null`` to remove it.
* ``StatusAfterUpdate``: ``InService`` (the default: ``UpdateEndpoint``
  completes at once) or ``Updating``: each successful ``UpdateEndpoint`` then
  leaves the endpoint ``Updating``, as SageMaker does for the minutes a
  deployment takes, until a test posts ``{"EndpointStatus": "InService"}``.
  The check and the change are atomic, so of concurrent updates exactly one
  succeeds and the others are "Cannot update in-progress endpoint". No event
  is sent, and ``UpdateSeconds`` does not apply while this is ``Updating``.
* ``UpdateSeconds``: a number, more than 0 and at most 600, or ``null`` to
  remove it. Each successful ``UpdateEndpoint`` of the endpoint leaves it
  ``Updating`` (already on the new configuration, as the emulator's other
  updates) for that long and sends a "SageMaker Endpoint State Change" event
  with ``EndpointStatus`` ``UPDATING``; then a timer thread (never the
  request) completes the update as ``UpdateOutcome`` says and sends a second
  event. Meanwhile another update is "Cannot update in-progress endpoint".
  If the endpoint is deleted meanwhile (even if created again), or a test
  posts its ``EndpointStatus``, the timer does nothing. Endpoints that
  local_sagemaker serves (a local image) are never held this way: their
  update lasts until the model server answers ``/ping``, as before.
* ``UpdateOutcome``: ``InService`` (the default) or ``RolledBack``, or
  ``null`` to remove it. ``InService``: the endpoint is ``InService`` on the
  new configuration, without ``FailureReason``; the event says
  ``IN_SERVICE``. ``RolledBack`` (SageMaker's alarm rollback of a blue/green
  deployment): the endpoint is back on the configuration it had before the
  update (``EndpointConfigName``, variants, data capture), ``InService``,
  with ``FailureReason`` = ``RollbackReason`` or else "Deployment was rolled
  back: CloudWatch alarm(s) <the update's
  ``DeploymentConfig.AutoRollbackConfiguration`` alarm names, joined with ",
  "; or "of the deployment"> went into ALARM state."; the event says
  ``IN_SERVICE`` and carries that ``FailureReason``. ``UpdateCount`` and
  ``LastDeploymentConfig`` still count and show the rolled-back update.
* ``RollbackReason``: a string of 1-1024 characters, or ``null`` to remove it.

``UpdateSeconds``, ``UpdateOutcome`` and ``RollbackReason`` are the endpoint's
own; each one it lacks comes from the region's defaults (below). They belong
to the endpoint: a deleted and re-created endpoint starts without them.

The events are local_sagemaker's (``endpoint_event``): source
``aws.sagemaker``, detail-type "SageMaker Endpoint State Change", on the
region's default bus, ``resources`` the endpoint ARN, ``detail``
``{"EndpointName", "EndpointArn", "EndpointConfigName", "ProductionVariants",
"EndpointStatus" (upper snake case), "CreationTime", "LastModifiedTime"
(epoch milliseconds), "Tags" ({key: value}), "FailureReason"?}``.

Answers: 200 ``{"EndpointName", "EndpointArn", "EndpointStatus",
"EndpointConfigName", "LastDeploymentConfig", "UpdateCount",
"FailureReason"?, "StatusAfterUpdate"?, "UpdateSeconds"?, "UpdateOutcome"?,
"RollbackReason"?}`` (``StatusAfterUpdate`` only when set to ``Updating``,
the other three when the endpoint has its own). ``LastDeploymentConfig`` is
the ``DeploymentConfig`` of the last ``UpdateEndpoint`` exactly as the request
had it (``null`` before any update, or after one without it), ``UpdateCount``
the number of successful ``UpdateEndpoint`` calls since ``CreateEndpoint``.
404 ``NotFound`` for an endpoint that does not exist, 400 ``BadRequest`` for a
bad body (``ENDPOINT_BODY``; the message names the field), 405 for a method
other than GET and POST.

Held creates and updates: the region's defaults
-----------------------------------------------

    GET  /_emulator/sagemaker/endpoint-defaults[?region=us-east-1]
    POST /_emulator/sagemaker/endpoint-defaults[?region=us-east-1]
    Content-Type: application/json

    {"UpdateSeconds": 5, "UpdateOutcome": "InService", "RollbackReason": "...",
     "CreateSeconds": 5}

A create cannot be held by a setting on the endpoint (it does not exist
yet), and a test may want every update held. POST replaces the region's
defaults whole (``{}`` clears them); every key is optional:
``UpdateSeconds``, ``UpdateOutcome`` and ``RollbackReason`` as above, for
every endpoint of the region that lacks its own; ``CreateSeconds`` (more than 0,
at most 600): each ``CreateEndpoint`` afterwards (of an endpoint local_sagemaker
does not serve) leaves the endpoint ``Creating`` that long, with a
``CREATING`` event, then ``InService`` with an ``IN_SERVICE`` event. Without
it, ``CreateEndpoint`` stays stock moto's: ``InService`` at once, no event.

Answers: 200 with the defaults now in force (``{}`` when none); 400
``BadRequest`` for a bad body (``ENDPOINT_DEFAULTS_BODY``), 404 ``NotFound``
for a region moto does not know, 405 for a method other than GET and POST.

The timers are daemon threads; `shutdown()` (registered with ``atexit``)
cancels the ones still pending.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import sys
import threading
from typing import Any, Callable, Iterable

import jsonschema
from jsonschema.exceptions import best_match
from moto.core.utils import utcnow
from werkzeug.wrappers import Request, Response

import local_sagemaker
import sagemaker_rules

PREFIX = "/_emulator/"
TRAINING_JOBS = "/_emulator/sagemaker/training-jobs/"
PROCESSING_JOBS = "/_emulator/sagemaker/processing-jobs/"
ENDPOINTS = "/_emulator/sagemaker/endpoints/"
ENDPOINT_DEFAULTS = "/_emulator/sagemaker/endpoint-defaults"
DEFAULT_REGION = "us-east-1"
_MARK = "_project_emulator_control"
_STATUS_AFTER_UPDATE = "_project_emulator_status_after_update"
_STATUSES_AFTER_UPDATE = ("InService", "Updating")
# Held changes: an endpoint's own UpdateSeconds/UpdateOutcome/RollbackReason
# ({key: value}, an attribute of the FakeEndpoint, so a deleted endpoint's go
# with it); the region's defaults (an attribute of the backend); the token of
# the timer that will complete the endpoint's held create or update.
_UPDATE_SETTINGS = "_project_emulator_update_settings"
_DEFAULTS = "_project_emulator_endpoint_defaults"
_HOLD = "_project_emulator_hold"
_UPDATE_KEYS = ("UpdateSeconds", "UpdateOutcome", "RollbackReason")
_UPDATE_OUTCOMES = ("InService", "RolledBack")


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


_MESSAGE = {"type": "string", "maxLength": 1024}
PROCESSING_JOB_BODY = {
    "type": "object",
    "properties": {
        "ProcessingJobStatus": {"enum": list(sagemaker_rules.PROCESSING_JOB_STATUSES)},
        "FailureReason": _MESSAGE,
        "ExitMessage": _MESSAGE,
    },
    "required": ["ProcessingJobStatus"],
    "additionalProperties": False,
}
_PROCESSING_JOB_BODY = body_validator(PROCESSING_JOB_BODY)


# How long a held create or update takes: more than 0, at most 10 minutes.
_HOLD_SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": 600}
# SageMaker's FailureReason is at most 1024 characters.
_ROLLBACK_REASON = {"type": "string", "minLength": 1, "maxLength": 1024}

ENDPOINT_BODY = {
    "type": "object",
    "properties": {
        "EndpointStatus": {"enum": list(sagemaker_rules.ENDPOINT_STATUSES)},
        "FailureReason": _REASON,
        "StatusAfterUpdate": {"enum": list(_STATUSES_AFTER_UPDATE)},
        # null removes the endpoint's own setting (the region's default applies again)
        "UpdateSeconds": {**_HOLD_SECONDS, "type": ["number", "null"]},
        "UpdateOutcome": {"enum": [*_UPDATE_OUTCOMES, None]},
        "RollbackReason": {**_ROLLBACK_REASON, "type": ["string", "null"]},
    },
    "additionalProperties": False,
}
_ENDPOINT_BODY = body_validator(ENDPOINT_BODY)

ENDPOINT_DEFAULTS_BODY = {
    "type": "object",
    "properties": {
        "UpdateSeconds": _HOLD_SECONDS,
        "UpdateOutcome": {"enum": list(_UPDATE_OUTCOMES)},
        "RollbackReason": _ROLLBACK_REASON,
        "CreateSeconds": _HOLD_SECONDS,
    },
    "additionalProperties": False,
}
_ENDPOINT_DEFAULTS_BODY = body_validator(ENDPOINT_DEFAULTS_BODY)


def _endpoint_changes(body: Any) -> dict[str, Any]:
    """The keyword arguments of `_set_endpoint_state`, validated."""
    check_body(_ENDPOINT_BODY, body)
    keywords = {
        "EndpointStatus": "status",
        "FailureReason": "failure_reason",
        "StatusAfterUpdate": "status_after_update",
    }
    changes = {keywords[key]: value for key, value in body.items() if key in keywords}
    settings = {key: body[key] for key in _UPDATE_KEYS if key in body}
    if settings:
        changes["update_settings"] = settings
    return changes


def _control_view(backend: Any, name: str, state: dict[str, Any]) -> dict[str, Any]:
    """sagemaker_rules' view of the endpoint plus what this module keeps on it:
    StatusAfterUpdate when it is Updating, the endpoint's own held-update keys."""
    endpoint = backend.endpoints.get(name)
    after = getattr(endpoint, _STATUS_AFTER_UPDATE, "InService")
    if after != "InService":
        state["StatusAfterUpdate"] = after
    state.update(getattr(endpoint, _UPDATE_SETTINGS, {}))
    return state


def _set_endpoint_state(backend: Any, name: str, **changes: Any) -> dict[str, Any]:
    after = changes.pop("status_after_update", None)
    settings = changes.pop("update_settings", {})
    with sagemaker_rules._LOCK:  # an RLock: set_endpoint_state takes it again
        state = sagemaker_rules.set_endpoint_state(backend, name, **changes)
        endpoint = backend.endpoints[name]
        if after is not None:
            setattr(endpoint, _STATUS_AFTER_UPDATE, after)
        if settings:
            own = dict(getattr(endpoint, _UPDATE_SETTINGS, {}))
            for key, value in settings.items():
                if value is None:
                    own.pop(key, None)
                else:
                    own[key] = value
            setattr(endpoint, _UPDATE_SETTINGS, own)
        if "status" in changes:  # the test decides the status: a held change will not
            setattr(endpoint, _HOLD, None)
        return _control_view(backend, name, state)


def _defaults(backend: Any) -> dict[str, Any]:
    """The region's held-change defaults (``ENDPOINT_DEFAULTS_BODY``), {} if none."""
    return backend.__dict__.get(_DEFAULTS, {})


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


def _processing_job(request: Request, name: str) -> Response:
    if request.method != "POST":
        return _error(405, "MethodNotAllowed", "use POST")
    try:
        body = _body(request)
        check_body(_PROCESSING_JOB_BODY, body)
    except ValueError as error:  # not JSON, or BadBody
        return _error(400, "BadRequest", str(error))
    backend, where = _backend(request)
    try:
        state = sagemaker_rules.set_processing_job_state(
            backend,
            name,
            status=body["ProcessingJobStatus"],
            failure_reason=body.get("FailureReason"),
            exit_message=body.get("ExitMessage"),
        )
    except KeyError:
        return _error(404, "NotFound", f"no processing job {name!r} in {where}")
    return _reply(200, json.loads(json.dumps(state, default=str)))


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
            with sagemaker_rules._LOCK:
                state = sagemaker_rules.get_endpoint_state(backend, name)
                state = _control_view(backend, name, state)
        else:
            state = _set_endpoint_state(backend, name, **changes)
    except KeyError:
        return _error(404, "NotFound", f"no endpoint {name!r} in {where}")
    return _reply(200, state)


def _endpoint_defaults(request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return _error(405, "MethodNotAllowed", "use GET or POST")
    try:
        backend, _where = _backend(request)
    except KeyError:
        return _error(404, "NotFound", f"no region {request.args.get('region')!r}")
    if request.method == "POST":
        try:
            body = _body(request)
            check_body(_ENDPOINT_DEFAULTS_BODY, body)
        except ValueError as error:  # not JSON, or BadBody
            return _error(400, "BadRequest", str(error))
        with sagemaker_rules._LOCK:
            backend.__dict__[_DEFAULTS] = dict(body)  # replaces them all; {} clears
    with sagemaker_rules._LOCK:
        return _reply(200, dict(_defaults(backend)))


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application for paths under /_emulator/."""
    request = Request(environ)
    path = request.path  # already percent-decoded
    response = None
    for prefix, handle in ((TRAINING_JOBS, _training_job), (PROCESSING_JOBS, _processing_job), (ENDPOINTS, _endpoint)):
        name = path[len(prefix) :] if path.startswith(prefix) else ""
        if name and "/" not in name:
            response = handle(request, name)
    if path == ENDPOINT_DEFAULTS:
        response = _endpoint_defaults(request)
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
    _install_held_changes()
    atexit.register(shutdown)

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "").startswith(PREFIX):
                return application(environ, start_response)
            return super().__call__(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]


# --- held creates and updates -------------------------------------------------

_timers: set[threading.Timer] = set()
_timers_lock = threading.Lock()
_stopped = False


def _after(seconds: float, action: Callable[[], None]) -> None:
    """Runs ``action`` on a timer thread ``seconds`` from now: never in the
    request that started it. `shutdown` cancels what has not run yet."""

    def run() -> None:
        with _timers_lock:
            _timers.discard(timer)
            if _stopped:
                return
        try:
            action()
        except Exception as error:  # a defect here must not pass silently
            sys.stderr.write(f"[control] a held endpoint change failed: {error!r}\n")
            sys.stderr.flush()

    timer = threading.Timer(seconds, run)
    timer.daemon = True
    with _timers_lock:
        if _stopped:
            return
        _timers.add(timer)
    timer.start()


def shutdown() -> None:
    """Cancels the held creates and updates still pending (run at exit)."""
    global _stopped
    with _timers_lock:
        _stopped = True
        pending = list(_timers)
        _timers.clear()
    for timer in pending:
        timer.cancel()


def _served_locally(backend: Any, config_name: str) -> bool:
    """Whether local_sagemaker runs this configuration's model (its endpoints
    keep their own Creating/Updating, until the model server answers /ping)."""
    return local_sagemaker._served_image(backend, config_name) is not None


def _update_settings(backend: Any, endpoint: Any) -> dict[str, Any]:
    """UpdateSeconds, UpdateOutcome and RollbackReason for the endpoint: each
    its own when set, else the region's default, else None."""
    own, defaults = getattr(endpoint, _UPDATE_SETTINGS, {}), _defaults(backend)
    return {key: own.get(key, defaults.get(key)) for key in _UPDATE_KEYS}


def _alarm_rollback_reason(deployment_config: dict[str, Any] | None) -> str:
    """The emulator's FailureReason for an update rolled back by its alarms."""
    alarms = ((deployment_config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    names = [alarm["AlarmName"] for alarm in alarms if isinstance(alarm, dict) and alarm.get("AlarmName")]
    which = ", ".join(names) if names else "of the deployment"
    return f"Deployment was rolled back: CloudWatch alarm(s) {which} went into ALARM state."


def _hold(backend: Any, endpoint: Any, status: str, seconds: float, finish: Callable[[Any], None]) -> None:
    """Leaves the endpoint in ``status`` (Creating, Updating) with an event; in
    ``seconds`` it becomes InService with another, after ``finish(endpoint)``,
    unless it was deleted, or a test set its status, meanwhile. Under the
    rules' lock, so that the events of one endpoint go out in order."""
    token = object()
    endpoint.endpoint_status = status
    setattr(endpoint, _HOLD, token)
    local_sagemaker.endpoint_event(backend, endpoint)
    name = endpoint.endpoint_name

    def complete() -> None:
        with sagemaker_rules._LOCK:
            current = backend.endpoints.get(name)
            if current is None or getattr(current, _HOLD, None) is not token:
                return  # deleted (perhaps created again), or its status set by a test
            setattr(current, _HOLD, None)
            finish(current)
            current.endpoint_status = "InService"
            current.last_modified_time = utcnow()
            local_sagemaker.endpoint_event(backend, current)

    _after(seconds, complete)


def _in_service(endpoint: Any) -> None:
    """How a held change ends by default: on its new configuration, no reason."""
    endpoint.failure_reason = None


def _rolled_back(previous: dict[str, Any], reason: str) -> Callable[[Any], None]:
    """How a held update with UpdateOutcome RolledBack ends: back on
    ``previous`` (the endpoint's attributes before the update), with ``reason``."""

    def finish(endpoint: Any) -> None:
        for attribute, value in previous.items():
            setattr(endpoint, attribute, value)
        endpoint.failure_reason = reason

    return finish


def _install_held_changes() -> None:
    """Wraps CreateEndpoint and rule 10's UpdateEndpoint (sagemaker_rules.install
    must have run; local_sagemaker wraps them again, outside):

    * an endpoint with ``StatusAfterUpdate`` ``Updating`` stays ``Updating``,
      set under the same lock as the update so that no other update slips in;
    * otherwise, with ``UpdateSeconds`` (the endpoint's or the region's
      default), an update of an endpoint local_sagemaker does not serve is held
      ``Updating`` that long, then completes by itself as ``UpdateOutcome``
      says, with a state-change event at each end;
    * with the region's ``CreateSeconds``, such a CreateEndpoint is held
      ``Creating`` the same way, then ``InService``.
    """
    from moto.sagemaker.models import SageMakerModelBackend

    lock = sagemaker_rules._LOCK
    original_update = SageMakerModelBackend.update_endpoint  # type: ignore[attr-defined]
    original_create = SageMakerModelBackend.create_endpoint

    @functools.wraps(original_update)
    def update_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, *args: Any, **kwargs: Any) -> str:
        with lock:
            endpoint = self.endpoints.get(endpoint_name)
            previous = None
            if endpoint is not None:  # what a rollback returns to (as local_sagemaker keeps it)
                previous = {
                    "endpoint_config_name": endpoint.endpoint_config_name,
                    "production_variants": copy.deepcopy(endpoint.production_variants),
                    "data_capture_config": copy.deepcopy(endpoint.data_capture_config),
                }
            arn = original_update(self, endpoint_name, endpoint_config_name, *args, **kwargs)
            endpoint = self.endpoints[endpoint_name]
            endpoint.endpoint_status = getattr(endpoint, _STATUS_AFTER_UPDATE, "InService")
            settings = _update_settings(self, endpoint)
            seconds = settings["UpdateSeconds"]
            if endpoint.endpoint_status != "InService" or not seconds or _served_locally(self, endpoint_config_name):
                return arn
            finish = _in_service
            if settings["UpdateOutcome"] == "RolledBack" and previous is not None:
                reason = settings["RollbackReason"] or _alarm_rollback_reason(
                    getattr(endpoint, "last_deployment_config", None)
                )
                finish = _rolled_back(previous, reason)
            _hold(self, endpoint, "Updating", seconds, finish)
            return arn

    @functools.wraps(original_create)
    def create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            endpoint = original_create(self, endpoint_name, endpoint_config_name, *args, **kwargs)
            seconds = _defaults(self).get("CreateSeconds")
            if seconds and not _served_locally(self, endpoint_config_name):
                _hold(self, endpoint, "Creating", seconds, _in_service)
            return endpoint

    SageMakerModelBackend.update_endpoint = update_endpoint  # type: ignore[attr-defined]
    SageMakerModelBackend.create_endpoint = create_endpoint  # type: ignore[method-assign]
