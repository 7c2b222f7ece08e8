"""The emulator's call log and fault injection: every AWS call counted, any of them failed on demand.

`install()` wraps moto's threaded server (after control.install) in a WSGI
middleware that, for every AWS API request (not ``/_emulator/`` nor
``/moto-api/``):

* records ``{"service", "operation", "status", "fault"}`` in arrival order:
  ``service`` is the signing name from the SigV4 ``Authorization`` header
  (``sagemaker``, ``events``, ``sqs``, ``s3``, ``scheduler``,
  ``application-autoscaling``, ...), ``operation`` the API operation: the
  ``X-Amz-Target`` suffix for JSON protocols (SageMaker, EventBridge, SQS,
  Application Auto Scaling), ``Action=`` for the query protocol, for S3's REST
  API the ``x-id`` the SDKs send or else the operation the method, path and
  sub-resource name (``CreateBucket``, ``HeadObject``,
  ``PutBucketNotificationConfiguration``, ...), and for EventBridge
  Scheduler's REST API the operation of the method and path, as its API model
  routes them (``POST /schedules/<name>`` ``CreateSchedule``, ``GET``
  ``GetSchedule``, ``PUT`` ``UpdateSchedule``, ``DELETE`` ``DeleteSchedule``,
  ``GET /schedules`` ``ListSchedules``, and the schedule groups' and tags'
  operations). ``status`` is the HTTP status answered (``null`` while in
  flight), ``fault`` whether the answer was an injected fault;
* fails the call when an injected fault matches it, with the error the real
  service sends for that protocol, and without the call reaching moto.

Control API (plain HTTP/1.1, JSON, no signature):

    GET    /_emulator/calls    {"calls": [{"service", "operation", "status", "fault"}, ...]}
    DELETE /_emulator/calls    forgets them: {"calls": []}

    POST   /_emulator/faults   {"operation": "CreateTrainingJob", "status": 400,
                                "code": "ThrottlingException", "message": "Rate exceeded",
                                "count": 3}
    POST   /_emulator/faults   {"service": "scheduler", "rate": 10}
    GET    /_emulator/faults   {"faults": [...the active faults, with "remaining"...]}
    DELETE /_emulator/faults   clears them all: {"faults": []}

A fault's keys:

* ``operation`` and/or ``service`` (at least one): what it matches;
  ``operation`` alone matches that operation of any service.
* ``status``: the HTTP status, 400-599. Without ``status`` and ``code``: the
  service's throttling error (below). With ``code`` alone: the code's usual
  status (``InternalFailure`` 500, ``ServiceUnavailable`` 503, ``SlowDown``
  503, ``InternalError`` 500; the service's throttling code its throttling
  status), else 400.
* ``code``: the error code. Without it: by status, 500 ``InternalFailure``,
  503 ``ServiceUnavailable`` (for S3, 500 ``InternalError``, 503
  ``SlowDown``), otherwise ``ThrottlingException``.
* ``message``: the error message (default: the service's throttling message
  for its throttling code, ``Rate exceeded`` for another throttling code,
  else ``We encountered an internal error. Please try again.``).
* ``count``: how many matching calls fail; the fault is then removed. Absent:
  every matching call fails until ``DELETE /_emulator/faults``.
* ``skip``: how many matching calls go through first (default 0), e.g. to fail
  the second ``PutObject`` of an invocation only.
* ``after``: ``true`` makes the fault a lost answer: the call reaches moto and
  does its work, then the client gets the error instead of moto's answer (a
  5xx or a timeout after the service acted). Default ``false``: the call never
  reaches moto and changes nothing.
* ``rate``: requests per second, a number more than 0 and at most 1,000,000.
  The fault then fails only the matching calls beyond that rate: a token
  bucket of ``burst`` tokens (default ``max(1, rate)``), full when the fault is
  added and refilled at ``rate`` tokens per second; a matching call takes a
  token if there is one and passes the fault, else it fails. So over any
  ``t`` seconds at most ``burst + rate * t`` matching calls pass. ``count``
  then counts the calls that failed, ``skip`` calls pass without taking a
  token. Not with ``after``: throttling refuses a call before the service
  acts.
* ``burst``: the bucket's size, an integer of at least 1; only with ``rate``.

The service's throttling error (status, code, message), as it sends it:

* S3: 503 ``SlowDown`` ``Please reduce your request rate.``
* SQS: 400 ``RequestThrottled`` ``Rate exceeded``
* EventBridge Scheduler: 429 ``ThrottlingException`` ``Rate exceeded``
* other query-protocol services (``Action=``): 400 ``Throttling`` ``Rate
  exceeded``
* the other services (SageMaker, EventBridge, Application Auto Scaling, ...):
  400 ``ThrottlingException`` ``Rate exceeded``

Faults are checked in the order they were added; a call consumes at most one
(a call a rate fault lets through goes on to the next faults). POST answers
200 with the active faults (each as sent, with ``remaining``, the ``count``
left); 400 ``BadRequest`` for a body that is not such an object
(``FAULT_BODY``, a JSON Schema, then ``after`` with ``rate``; the message names
the field, e.g. ``status: 200 is less than the minimum of 400``, ``rate: 0 is
less than or equal to the minimum of 0``, ``body: 'rate' is a dependency of
'burst'``); 405 for another method.

Error answers, as the services send them (``x-amzn-RequestId`` on each):

* JSON protocols (a request with ``X-Amz-Target``): the request's
  ``Content-Type`` (``application/x-amz-json-1.1`` or ``-1.0``),
  ``x-amzn-ErrorType: <code>``, body ``{"__type": "<code>", "message": "..."}``;
  SQS also gets ``x-amzn-query-error: <code>;Sender`` (or ``Receiver`` for 5xx)
  as its query-compatible JSON protocol does.
* REST-JSON (EventBridge Scheduler, SageMaker Runtime's ``InvokeEndpoint``):
  ``application/json``, ``x-amzn-ErrorType: <code>``, body ``{"Message":
  "..."}`` (the error shapes' member; the SDKs take the code from the header).
* S3: ``application/xml``, ``<Error><Code>..</Code><Message>..</Message>
  <RequestId>..</RequestId><HostId>..</HostId></Error>``; no body for HEAD.
* Query protocol (``Action=``): ``text/xml``, ``<ErrorResponse><Error><Type>
  Sender|Receiver</Type><Code>..</Code><Message>..</Message></Error>
  <RequestId>..</RequestId></ErrorResponse>``.

The AWS SDKs' standard retry mode retries the throttling codes (whatever the
status) and the statuses 500, 502, 503 and 504, so both kinds are retried.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from control import BadBody, body_validator, check_body

CALLS = "/_emulator/calls"
FAULTS = "/_emulator/faults"
_SKIPPED_PREFIXES = ("/_emulator/", "/moto-api/")
_MARK = "_project_emulator_faults"

_lock = threading.Lock()
_calls: list[dict[str, Any]] = []
_faults: list[dict[str, Any]] = []

_CODE_STATUS = {
    "InternalFailure": 500,
    "InternalError": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "SlowDown": 503,
}
# Each service's throttling error: (status, code, message); by protocol otherwise.
_SERVICE_THROTTLING = {
    "s3": (503, "SlowDown", "Please reduce your request rate."),
    "sqs": (400, "RequestThrottled", "Rate exceeded"),
    "scheduler": (429, "ThrottlingException", "Rate exceeded"),
}
_PROTOCOL_THROTTLING = {"query": (400, "Throttling", "Rate exceeded")}
_THROTTLING = (400, "ThrottlingException", "Rate exceeded")
# X-Amz-Target prefixes, for a request without a SigV4 Authorization header.
_TARGET_SERVICES = {
    "SageMaker": "sagemaker",
    "AWSEvents": "events",
    "AmazonSQS": "sqs",
    "AnyScaleFrontendService": "application-autoscaling",
    "AmazonSSM": "ssm",
    "Logs_20140328": "logs",
}


# ---------------------------------------------------------------------------
# What a request is: service and operation


def _service(environ: dict[str, Any], query: dict[str, list[str]], target: str) -> str:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    credential = ""
    if "Credential=" in authorization:
        credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    elif "X-Amz-Credential" in query:  # a presigned URL
        credential = query["X-Amz-Credential"][0]
    scope = credential.strip().split("/")
    if len(scope) >= 5:  # AKID/date/region/service/aws4_request
        return scope[3]
    if target:
        return _TARGET_SERVICES.get(target.split(".", 1)[0], "unknown")
    return "s3" if "Action" not in query else "unknown"


_BUCKET_SUBRESOURCES = {
    "notification": "NotificationConfiguration",
    "lifecycle": "LifecycleConfiguration",
    "versioning": "Versioning",
    "policy": "Policy",
    "tagging": "Tagging",
    "acl": "Acl",
    "cors": "Cors",
    "encryption": "Encryption",
    "website": "Website",
    "logging": "Logging",
    "replication": "Replication",
    "ownershipControls": "OwnershipControls",
    "publicAccessBlock": "PublicAccessBlock",
    "object-lock": "ObjectLockConfiguration",
    "accelerate": "AccelerateConfiguration",
    "requestPayment": "RequestPayment",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}


def _s3_operation(method: str, path: str, query: dict[str, list[str]], environ: dict[str, Any]) -> str:
    if "x-id" in query:  # the SDKs name many S3 operations in the URL
        return query["x-id"][0]
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if key:
        if method == "HEAD":
            return "HeadObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            if "uploadId" in query:
                return "CompleteMultipartUpload"
            if "restore" in query:
                return "RestoreObject"
        if method == "PUT" and "uploadId" in query:
            return "UploadPartCopy" if "HTTP_X_AMZ_COPY_SOURCE" in environ else "UploadPart"
        if method == "GET" and "uploadId" in query:
            return "ListParts"
        if method == "DELETE" and "uploadId" in query:
            return "AbortMultipartUpload"
        for sub, name in (("tagging", "Tagging"), ("acl", "Acl"), ("attributes", "Attributes")):
            if sub in query and method in _VERBS:
                return f"{_VERBS[method]}Object{name}"
        if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ:
            return "CopyObject"
        if method in _VERBS:
            return f"{_VERBS[method]}Object"
        return f"{method} /{bucket}/{key}"
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "GET":
        if query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        if "versions" in query:
            return "ListObjectVersions"
        if "uploads" in query:
            return "ListMultipartUploads"
        if "location" in query:
            return "GetBucketLocation"
    for sub, name in _BUCKET_SUBRESOURCES.items():
        if sub in query and method in _VERBS:
            return f"{_VERBS[method]}Bucket{name}"
    if method == "PUT":
        return "CreateBucket"
    if method == "DELETE":
        return "DeleteBucket"
    if method == "GET":
        return "ListObjects"
    return f"{method} /{bucket}"


# EventBridge Scheduler's REST API, as its API model routes it: (method, the
# path's first segment, whether a name or ARN follows) -> operation.
_SCHEDULER_OPERATIONS = {
    ("POST", "schedules", True): "CreateSchedule",
    ("GET", "schedules", True): "GetSchedule",
    ("PUT", "schedules", True): "UpdateSchedule",
    ("DELETE", "schedules", True): "DeleteSchedule",
    ("GET", "schedules", False): "ListSchedules",
    ("POST", "schedule-groups", True): "CreateScheduleGroup",
    ("GET", "schedule-groups", True): "GetScheduleGroup",
    ("DELETE", "schedule-groups", True): "DeleteScheduleGroup",
    ("GET", "schedule-groups", False): "ListScheduleGroups",
    ("POST", "tags", True): "TagResource",
    ("GET", "tags", True): "ListTagsForResource",
    ("DELETE", "tags", True): "UntagResource",
}


def _scheduler_operation(method: str, path: str) -> str:
    collection, _, name = path.strip("/").partition("/")
    return _SCHEDULER_OPERATIONS.get((method, collection, bool(name)), f"{method} {path}")


def _form_action(environ: dict[str, Any]) -> str | None:
    """``Action=`` in a query-protocol body. The body is read and put back."""
    content_type = environ.get("CONTENT_TYPE", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else None


_INVOCATIONS = re.compile(r"^/endpoints/[^/]+/invocations$")


def describe(environ: dict[str, Any]) -> tuple[str, str, str]:
    """``(service, operation, protocol)`` of an AWS request; protocol is
    ``json``, ``query``, ``s3`` or ``rest``."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    service = _service(environ, query, target)
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    if "Action" in query:
        return service, query["Action"][0], "query"
    if service == "s3":
        return service, _s3_operation(method, path, query, environ), "s3"
    action = _form_action(environ)
    if action:
        return service, action, "query"
    if service == "sagemaker" and method == "POST" and _INVOCATIONS.match(path):
        return service, "InvokeEndpoint", "rest"  # SageMaker Runtime signs as sagemaker
    if service == "scheduler":
        return service, _scheduler_operation(method, path), "rest"
    return service, f"{method} {path}", "rest"


# ---------------------------------------------------------------------------
# Faults


_NAME = {"type": "string", "minLength": 1}
FAULT_BODY = {
    "type": "object",
    "properties": {
        "operation": _NAME,
        "service": _NAME,
        "status": {"type": ["integer", "null"], "minimum": 400, "maximum": 599},
        "code": _NAME,
        "message": _NAME,
        "count": {"type": ["integer", "null"], "minimum": 1},
        "skip": {"type": ["integer", "null"], "minimum": 0},
        "after": {"type": "boolean"},
        "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000},
        "burst": {"type": "integer", "minimum": 1},
    },
    "anyOf": [{"required": ["operation"]}, {"required": ["service"]}],
    "dependentRequired": {"burst": ["rate"]},
    "additionalProperties": False,
}
_FAULT_BODY = body_validator(FAULT_BODY)
# What a rate fault keeps besides its keys: its token bucket (not shown).
_TOKENS, _REFILLED = "_tokens", "_refilled"


def _fault(body: Any) -> dict[str, Any]:
    check_body(_FAULT_BODY, body)
    rate = body.get("rate")
    if rate is not None and body.get("after"):
        raise BadBody("after: a rate fault refuses a call before the service acts; it cannot be after")
    fault = {
        "operation": body.get("operation"),
        "service": body.get("service"),
        "status": body.get("status"),
        "code": body.get("code"),
        "message": body.get("message"),
        "remaining": body.get("count"),
        "skip": body.get("skip") or 0,
        "after": body.get("after", False),
        "rate": rate,
    }
    if rate is not None:
        fault["burst"] = body.get("burst") or max(1, rate)
        fault[_TOKENS], fault[_REFILLED] = fault["burst"], time.monotonic()
    return fault


def _within_rate(fault: dict[str, Any]) -> bool:
    """Whether a rate fault lets this call through: takes a token from its
    bucket, refilled at ``rate`` per second up to ``burst``. Under _lock."""
    now = time.monotonic()
    tokens = min(fault["burst"], fault[_TOKENS] + (now - fault[_REFILLED]) * fault["rate"])
    fault[_REFILLED] = now
    if tokens >= 1:
        fault[_TOKENS] = tokens - 1
        return True
    fault[_TOKENS] = tokens
    return False


def _take_fault(service: str, operation: str) -> dict[str, Any] | None:
    """The first active fault matching the call, consumed once; None if none."""
    with _lock:
        for fault in _faults:
            if fault["operation"] not in (None, operation) or fault["service"] not in (None, service):
                continue
            if fault["skip"] > 0:
                fault["skip"] -= 1
                continue
            if fault["rate"] is not None and _within_rate(fault):
                continue
            if fault["remaining"] is not None:
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    _faults.remove(fault)
            return dict(fault)
    return None


def _error(fault: dict[str, Any], service: str, protocol: str) -> tuple[int, str, str]:
    """The (status, code, message) a fault answers for a call of this service."""
    throttling = _SERVICE_THROTTLING.get(service) or _PROTOCOL_THROTTLING.get(protocol) or _THROTTLING
    status, code, message = fault["status"], fault["code"], fault["message"]
    if status is None and code is None:
        status, code = throttling[:2]
    elif status is None:
        status = _CODE_STATUS.get(code) or (throttling[0] if code == throttling[1] else 400)
    elif code is None:
        if service == "s3":
            code = {500: "InternalError", 503: "SlowDown"}.get(status, "ThrottlingException")
        else:
            code = {500: "InternalFailure", 503: "ServiceUnavailable"}.get(status, "ThrottlingException")
    if message is None:
        if code == throttling[1]:
            message = throttling[2]
        elif "Throttl" in code or code == "SlowDown":
            message = "Rate exceeded"
        else:
            message = "We encountered an internal error. Please try again."
    return status, code, message


def _error_response(error: tuple[int, str, str], service: str, protocol: str, environ: dict[str, Any]) -> Response:
    status, code, message = error
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    fault_side = "Receiver" if status >= 500 else "Sender"
    if protocol == "json":
        content_type = environ.get("CONTENT_TYPE", "")
        if not content_type.startswith("application/x-amz-json"):
            content_type = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
        if service == "sqs":
            headers["x-amzn-query-error"] = f"{code};{fault_side}"
        body = json.dumps({"__type": code, "message": message})
        return Response(body, status=status, headers=headers, content_type=content_type)
    if protocol == "rest":
        headers["x-amzn-ErrorType"] = code
        body = json.dumps({"Message": message})
        return Response(body, status=status, headers=headers, content_type="application/json")
    if protocol == "s3":
        headers = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
        if environ.get("REQUEST_METHOD") == "HEAD":
            return Response(b"", status=status, headers=headers, content_type="application/xml")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        return Response(body, status=status, headers=headers, content_type="application/xml")
    body = (
        f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/">'
        f"<Error><Type>{fault_side}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, headers=headers, content_type="text/xml")


# ---------------------------------------------------------------------------
# The control API


def _reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _public(fault: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in fault.items()
        if ((value is not None and value is not False) or key == "remaining") and not key.startswith("_")
    }


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def control(request: Request) -> Response:
    """Answers /_emulator/calls and /_emulator/faults."""
    if request.path == CALLS:
        if request.method == "GET":
            with _lock:
                return _reply(200, {"calls": [dict(call) for call in _calls]})
        if request.method == "DELETE":
            with _lock:
                _calls.clear()
            return _reply(200, {"calls": []})
        return _reply(405, {"Code": "MethodNotAllowed", "Message": "use GET or DELETE"})
    if request.method == "GET":
        with _lock:
            return _reply(200, {"faults": [_public(f) for f in _faults]})
    if request.method == "DELETE":
        with _lock:
            _faults.clear()
        return _reply(200, {"faults": []})
    if request.method != "POST":
        return _reply(405, {"Code": "MethodNotAllowed", "Message": "use GET, POST or DELETE"})
    try:
        body = json.loads(request.get_data(as_text=True) or "null", parse_constant=_no_constant)
        fault = _fault(body)
    except ValueError as error:  # not JSON, or control.BadBody
        return _reply(400, {"Code": "BadRequest", "Message": str(error)})
    with _lock:
        _faults.append(fault)
        return _reply(200, {"faults": [_public(f) for f in _faults]})


def middleware(app: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a WSGI application with the call log and the faults."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in (CALLS, FAULTS):
            return control(Request(environ))(environ, start_response)
        if path.startswith(_SKIPPED_PREFIXES):
            return app(environ, start_response)
        service, operation, protocol = describe(environ)
        call: dict[str, Any] = {"service": service, "operation": operation, "status": None, "fault": False}
        with _lock:
            _calls.append(call)
        fault = _take_fault(service, operation)
        if fault is not None:
            error = _error(fault, service, protocol)
            call["fault"] = True
            call["status"] = error[0]
            if fault["after"]:
                # The work is done; its answer is lost.
                answer = app(environ, lambda *_args, **_kwargs: (lambda _data: None))
                try:
                    for _chunk in answer:
                        pass
                finally:
                    close = getattr(answer, "close", None)
                    if close is not None:
                        close()
            return _error_response(error, service, protocol, environ)(environ, start_response)

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            try:
                call["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                pass
            return start_response(status, headers, *args)

        return app(environ, recording_start_response)

    return wrapped


def install() -> None:
    """Wraps moto's ThreadedMotoServer application. Idempotent; run it after
    control.install() and before ``ThreadedMotoServer.start()``."""
    from moto.moto_server import threaded_moto_server

    base = threaded_moto_server.DomainDispatcherApplication
    if getattr(base, _MARK, False):
        return

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._with_faults = middleware(super().__call__)

        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self._with_faults(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]
