"""Lambda's SQS event source mappings, played by the emulator: pollers that invoke a function with a queue's messages.

The emulator has no Lambda. A test runs the function itself behind a Lambda
Invoke API (``cargo lambda watch`` serves one: ``POST
/2015-03-31/functions/<name>/invocations``) and tells the emulator to poll a
queue for it, as Lambda's poller does for an SQS event source mapping
(https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, and its pages on
scaling and error handling). `install()` (launcher.py, after control.install
and before faults.install) routes the control paths below and fixes moto's
SQS for queues of 100,000 messages; ``test_lambda_pollers.py`` tests it.

Event source mappings
---------------------

    POST /_emulator/lambda/event-source-mappings
    Content-Type: application/json

    {"EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:retrain",
     "FunctionName": "retrain_model_on_new_data",
     "Endpoint": "http://127.0.0.1:9000",
     "BatchSize": 10000, "MaximumBatchingWindowInSeconds": 60,
     "ScalingConfig": {"MaximumConcurrency": 2},
     "FunctionResponseTypes": ["ReportBatchItemFailures"]}

* ``EventSourceArn`` (required): a standard queue of the emulator,
  ``arn:aws:sqs:<region>:<account>:<name>`` (a FIFO queue is refused).
* ``FunctionName`` (required): 1-64 of ``[A-Za-z0-9_-]``; the pollers POST
  each batch to ``<Endpoint>/2015-03-31/functions/<FunctionName>/invocations``.
* ``Endpoint`` (required): ``http://<host>:<port>``, the Invoke API.
* ``BatchSize``: 1-10,000 (default 10). ``MaximumBatchingWindowInSeconds``:
  0-300 (default 0); at least 1 when ``BatchSize`` is more than 10, as Lambda
  requires.
* ``ScalingConfig``: ``{"MaximumConcurrency": 2-1000}``; without it, at most
  5 invocations at once (the concurrency Lambda starts an SQS mapping with).
* ``FunctionResponseTypes``: ``[]`` (default) or ``["ReportBatchItemFailures"]``.

Or the settings come from the function's SQS event source mapping in a SAM
template (an ``AWS::Lambda::EventSourceMapping`` whose ``FunctionName`` is a
``!Ref`` of the function, or the function's ``Type: SQS`` event), resolved for
parameter values (scripts/template_rules.py
``event_source_mappings``: SAM's transform, then cloud-radar):

    {"Template": "/path/to/template.yaml",
     "FunctionLogicalId": "RetrainModelOnNewDataFunction",
     "Parameters": {"PipelineName": "mlops"},
     "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:retrain",
     "FunctionName": "retrain_model_on_new_data",
     "Endpoint": "http://127.0.0.1:9000"}

``Template`` is a path the emulator reads (absolute, or relative to the
directory the launcher was started in). ``BatchSize``,
``MaximumBatchingWindowInSeconds``, ``ScalingConfig`` and
``FunctionResponseTypes`` are then the template's (what it leaves out, the
defaults above) and may not be sent. ``EventSourceArn`` is still required: the
template's queue does not exist in the emulator under its CloudFormation name.
``Parameters``: strings or numbers. The function must have exactly one SQS
event source mapping; one that is not ``Enabled`` or has ``FilterCriteria``
(not modelled) is refused.

Answers: 200 with the mapping, ``{"UUID", "EventSourceArn", "FunctionName",
"Endpoint", "BatchSize", "MaximumBatchingWindowInSeconds", "ScalingConfig"?
(when set), "FunctionResponseTypes", "State": "Enabled", "Stats"}``; 400
``{"Code": "BadRequest", "Message": ...}`` for a bad body (``MAPPING_BODY`` or
``TEMPLATE_BODY``, JSON Schemas as in control.py; the message names the field,
e.g. ``BatchSize: 0 is less than the minimum of 1``, and for the template's
settings where the template sets them), a queue that does not exist, or a
template that cannot be read; 405 for another method.

    GET    /_emulator/lambda/event-source-mappings         {"EventSourceMappings": [mapping, ...]}
    GET    /_emulator/lambda/event-source-mappings/<UUID>  the mapping
    DELETE /_emulator/lambda/event-source-mappings/<UUID>  stops it, waits for its
                                                           invocations in flight, removes it:
                                                           the mapping, "State": "Deleted"
    GET    /_emulator/lambda/event-source-mappings/<UUID>/invocations
                                                           {"Invocations": [...the last 50]}

``Stats`` (since the mapping was created): ``Invocations``;
``MaxConcurrencySeen``, the most invocations in flight at once (never more than
the concurrency); ``Messages``, records delivered (a redelivered message counts
each time); ``LargestBatch``; ``FunctionErrors``, invocations that failed
(below); ``BatchItemFailures``, messages left in the queue by an answer that
reported them failed, or by an answer Lambda refuses; ``Deleted``, messages
deleted. Each invocation: ``{"Start", "End"`` (ISO 8601, milliseconds, ``Z``),
``"BatchSize", "PayloadBytes", "Outcome"`` (``Success``, ``FunctionError``,
``BatchItemFailures``, ``InvalidResponse``), ``"StatusCode"`` (``null``
without an answer), ``"FunctionError"?`` (the header), ``"Error"?`` (no
answer: why), ``"Answer"`` (the answer's JSON, or its first 4,096 characters
when it is not JSON), ``"Failed"?`` (the messageIds an answer reported
failed)}``. 404 ``NotFound`` for an unknown UUID or path, 405 for another
method.

How a mapping polls
-------------------

* A poller thread takes messages from moto's SQS backend in-process (not
  over HTTP: the call log holds only the function's own calls), as
  ``ReceiveMessage`` does with the queue's ``VisibilityTimeout``: each
  message's receive count goes up, it gets a new receipt handle and stays
  invisible that long. A message whose receive count has reached the
  queue's ``RedrivePolicy`` ``maxReceiveCount`` goes to its dead-letter queue
  instead (as stock moto's ``ReceiveMessage`` does; message retention is not
  enforced).
* A batch is gathered until it has ``BatchSize`` messages, or
  ``MaximumBatchingWindowInSeconds`` have passed since its first message (0:
  what is visible now), or the next message would make the event more than
  6 MB (6,291,456 bytes, Lambda's invocation payload limit; a batch's first
  message is taken whatever its size). An empty queue is looked at again
  every 0.05 s.
* At most ``MaximumConcurrency`` invocations are in flight at once; a batch is
  gathered only when one more may start.
* The event, as AWS's sample: ``{"Records": [{"messageId", "receiptHandle",
  "body", "attributes": {"ApproximateReceiveCount", "SentTimestamp",
  "SenderId", "ApproximateFirstReceiveTimestamp"}, "messageAttributes": {name:
  {"stringValue"?, "binaryValue"? (base64), "stringListValues": [],
  "binaryListValues": [], "dataType"}}, "md5OfMessageAttributes"? (with
  attributes), "md5OfBody", "eventSource": "aws:sqs", "eventSourceARN",
  "awsRegion"}]}`` in queue order, compact JSON.
* An answer with the header ``X-Amz-Function-Error``, an HTTP status of 400 or
  more, or no answer (connection refused, 900 s without one) is a function
  error: nothing is deleted. Otherwise every message is deleted, except, with
  ``ReportBatchItemFailures``, those the answer ``{"batchItemFailures":
  [{"itemIdentifier": "<messageId>"}, ...]}`` reports; an empty or ``null``
  list, ``{}``, ``null`` or an empty answer report none. An answer that is
  not JSON, not an object, a ``batchItemFailures`` that is not a list, or an
  item whose ``itemIdentifier`` is not a messageId of the batch fails the
  whole batch, as Lambda does (``InvalidResponse``).
* What is not deleted becomes visible again after the visibility timeout, and
  is delivered again, until the redrive policy moves it.

moto's SQS, fixed for the pollers' scale
----------------------------------------

Stock moto 5.2.5 builds a queue's whole attribute map, which counts its
messages three times over, on every ``SendMessage``, and tells whether a
message is visible or delayed through several datetime conversions: sending
10,000 messages to one queue took many minutes. Now ``SendMessage`` (and
``SendMessageBatch``) reads only ``ContentBasedDeduplication``, and a message's
visibility is one clock reading; the pollers receive and delete in bulk
(stock ``DeleteMessage`` scans and rebuilds the queue for each message).
``GetQueueAttributes`` still counts (tens of milliseconds for 100,000).
"""

from __future__ import annotations

import atexit
import base64
import collections
import datetime
import functools
import http.client
import json
import re
import secrets
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlsplit

from werkzeug.wrappers import Request, Response

from control import BadBody, body_validator, check_body

MAPPINGS = "/_emulator/lambda/event-source-mappings"
_PREFIX = "/_emulator/lambda/"
_MARK = "_project_emulator_lambda_pollers"
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"

MAX_PAYLOAD = 6_291_456  # bytes: Lambda's limit for a synchronous invocation's payload
DEFAULT_CONCURRENCY = 5  # what Lambda starts an SQS event source mapping with
_IDLE = 0.05  # seconds between two looks at an empty queue
_KEPT = 50  # invocations kept per mapping
_INVOKE_TIMEOUT = 900.0  # seconds: Lambda's longest function timeout
_ANSWER_TEXT = 4096  # characters kept of an answer that is not JSON
_STATS = (
    "Invocations",
    "MaxConcurrencySeen",
    "Messages",
    "LargestBatch",
    "FunctionErrors",
    "BatchItemFailures",
    "Deleted",
)
_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$")

# ---------------------------------------------------------------------------
# Request bodies

_TARGET = {
    "EventSourceArn": {"type": "string", "pattern": _SQS_ARN.pattern},
    "FunctionName": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"},
    "Endpoint": {"type": "string", "pattern": r"^http://[^/?#\s]+/?$"},
}
MAPPING_BODY = {
    "type": "object",
    "properties": {
        **_TARGET,
        "BatchSize": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "MaximumBatchingWindowInSeconds": {"type": "integer", "minimum": 0, "maximum": 300},
        "ScalingConfig": {
            "type": "object",
            "properties": {"MaximumConcurrency": {"type": "integer", "minimum": 2, "maximum": 1000}},
            "additionalProperties": False,
        },
        "FunctionResponseTypes": {"type": "array", "items": {"enum": ["ReportBatchItemFailures"]}, "uniqueItems": True},
    },
    "required": list(_TARGET),
    "additionalProperties": False,
}
_MAPPING_BODY = body_validator(MAPPING_BODY)

TEMPLATE_BODY = {
    "type": "object",
    "properties": {
        **_TARGET,
        "Template": {"type": "string", "minLength": 1},
        "FunctionLogicalId": {"type": "string", "minLength": 1},
        "Parameters": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
    },
    "required": ["Template", "FunctionLogicalId", *_TARGET],
    "additionalProperties": False,
}
_TEMPLATE_BODY = body_validator(TEMPLATE_BODY)


def _template_settings(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The settings of the function's one SQS event source mapping in the
    template, and where the template declares it."""
    if str(SCRIPTS) not in sys.path:
        sys.path.append(str(SCRIPTS))
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
    try:
        import template_rules
    finally:
        sys.dont_write_bytecode = previous
    function = body["FunctionLogicalId"]
    try:
        found = template_rules.event_source_mappings(body["Template"], body.get("Parameters") or {})
    except template_rules.TemplateError as error:
        raise BadBody(f"Template: {error}") from None
    mappings = found.get(function, [])
    if len(mappings) != 1:
        names = ", ".join(m.where for m in mappings) or "none"
        raise BadBody(f"FunctionLogicalId: {function} must have exactly one SQS event source mapping ({names})")
    mapping = mappings[0]
    if not mapping.enabled:
        raise BadBody(f"{mapping.where}: Enabled is false: Lambda would not poll the queue")
    if mapping.filter_criteria:
        raise BadBody(f"{mapping.where}: FilterCriteria is not modelled by the emulator's pollers")
    return mapping.settings, mapping.where


def _check_mapping(body: Any) -> None:
    check_body(_MAPPING_BODY, body)
    if body.get("BatchSize", 10) > 10 and body.get("MaximumBatchingWindowInSeconds", 0) < 1:
        raise BadBody(
            "MaximumBatchingWindowInSeconds: must be at least 1 when BatchSize is more than 10, as Lambda requires"
        )


def _settings(body: Any) -> dict[str, Any]:
    """A mapping's settings, validated, with the defaults (BadBody if wrong)."""
    if isinstance(body, dict) and "Template" in body:
        check_body(_TEMPLATE_BODY, body)
        from_template, where = _template_settings(body)
        body = {**from_template, **{key: body[key] for key in _TARGET}}
        try:
            _check_mapping(body)
        except BadBody as error:
            raise BadBody(f"{where}: {error}") from None
    else:
        _check_mapping(body)
    settings = {
        **{key: body[key] for key in _TARGET},
        "BatchSize": body.get("BatchSize", 10),
        "MaximumBatchingWindowInSeconds": body.get("MaximumBatchingWindowInSeconds", 0),
        "FunctionResponseTypes": list(body.get("FunctionResponseTypes", [])),
    }
    if "MaximumConcurrency" in (body.get("ScalingConfig") or {}):
        settings["ScalingConfig"] = {"MaximumConcurrency": body["ScalingConfig"]["MaximumConcurrency"]}
    return settings


def _queue_backend(arn: str) -> tuple[Any, str, str]:
    """(moto's SQS backend, the queue's name, its region) of a standard queue
    that exists; BadBody otherwise."""
    from moto.sqs.models import sqs_backends

    region, account, name = _SQS_ARN.match(arn).groups()  # type: ignore[union-attr]
    try:
        backend = sqs_backends[account][region]
    except KeyError:
        raise BadBody(f"EventSourceArn: no region {region}") from None
    queue = backend.queues.get(name)
    if queue is None:
        raise BadBody(f"EventSourceArn: no queue {arn} in the emulator")
    if queue.fifo_queue:
        raise BadBody(f"EventSourceArn: {arn} is a FIFO queue; the emulator's pollers take standard queues only")
    return backend, name, region


# ---------------------------------------------------------------------------
# Receiving and deleting in moto's SQS backend


class _Batch:
    """The messages of one invocation and their records (JSON text)."""

    _EMPTY = len('{"Records":[]}')

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.records: list[str] = []
        self.ids: set[int] = set()  # id() of the messages
        self.size = self._EMPTY
        self.full = False  # the next message did not fit in MAX_PAYLOAD

    def fits(self, record: str) -> bool:
        """Whether the event stays within MAX_PAYLOAD with this record too (a
        first record always fits: Lambda would refuse it, not skip it)."""
        return not self.records or self.size + len(record) + 1 <= MAX_PAYLOAD

    def add(self, message: Any, record: str) -> None:
        self.size += len(record) + (1 if self.records else 0)
        self.messages.append(message)
        self.records.append(record)
        self.ids.add(id(message))

    def event(self) -> bytes:
        return ('{"Records":[' + ",".join(self.records) + "]}").encode()


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda's SQS event has it."""
    converted: dict[str, Any] = {}
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        converted["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return {**converted, "stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType")}


def _record(message: Any, receipt_handle: str, receive_count: int, first_receive: int, arn: str, region: str) -> str:
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": receipt_handle,
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": message.sender_id,
            "ApproximateFirstReceiveTimestamp": str(first_receive),
        },
        "messageAttributes": {name: _attribute(value) for name, value in message.message_attributes.items()},
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    record.update(md5OfBody=message.body_md5, eventSource="aws:sqs", eventSourceARN=arn, awsRegion=region)
    return json.dumps(record, separators=(",", ":"))


def _remove(messages: list[Any], doomed: set[int]) -> list[Any]:
    """Removes from ``messages`` (a queue's list, in place) those whose id() is
    in ``doomed``; answers them. Scans only until all are found: the pollers'
    messages are near the front."""
    kept: list[Any] = []
    found: list[Any] = []
    end = 0
    for message in messages:
        if len(found) == len(doomed):
            break
        end += 1
        (found if id(message) in doomed else kept).append(message)
    messages[:end] = kept
    return found


def _receive(queue: Any, batch: _Batch, count: int, arn: str, region: str) -> None:
    """Receives up to ``count`` visible messages of the queue into ``batch``, as
    ReceiveMessage does with the queue's visibility timeout; stops at the first
    that does not fit (``batch.full``). Moves those past the redrive policy's
    maxReceiveCount to the dead-letter queue."""
    now = time.time() * 1000
    redrive = queue.redrive_policy if queue.dead_letter_queue is not None else None
    to_dead_letter: list[Any] = []
    with queue._messages_lock:
        for message in queue._messages:
            if count <= 0:
                break
            if message.visible_at >= now or message.delayed_until > now or id(message) in batch.ids:
                continue
            if redrive and message.approximate_receive_count >= redrive["maxReceiveCount"]:
                to_dead_letter.append(message)
                continue
            handle = secrets.token_hex(92)
            receive_count = message.approximate_receive_count + 1
            first_receive = message.approximate_first_receive_timestamp or int(now)
            record = _record(message, handle, receive_count, first_receive, arn, region)
            if not batch.fits(record):
                batch.full = True
                break
            message.approximate_receive_count = receive_count
            message.approximate_first_receive_timestamp = first_receive
            if queue.visibility_timeout:
                message.visible_at = now + queue.visibility_timeout * 1000
            message._old_receipt_handles.append(message.receipt_handle)
            message.receipt_handle = handle
            batch.add(message, record)
            count -= 1
        moved = _remove(queue._messages, {id(message) for message in to_dead_letter})
    for message in moved:
        queue.dead_letter_queue.add_message(message)


def _delete(queue: Any, messages: list[Any]) -> int:
    """Deletes these messages from the queue (those still there); how many."""
    with queue._messages_lock:
        found = _remove(queue._messages, {id(message) for message in messages})
        for message in found:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
    return len(found)


def _release(queue: Any, messages: list[Any]) -> None:
    """Makes received messages visible again at once (a batch never invoked)."""
    with queue._messages_lock:
        for message in messages:
            message.visible_at = 0.0


# ---------------------------------------------------------------------------
# The function's answer


def _reported_failures(answer: bytes, ids: set[str]) -> set[str] | None:
    """The messageIds a ReportBatchItemFailures answer reports failed; None
    when Lambda fails the whole batch for it."""
    try:
        parsed = json.loads(answer) if answer.strip() else None
    except ValueError:
        return None
    if parsed is None:
        return set()
    if not isinstance(parsed, dict):
        return None
    items = parsed.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


def _shown(answer: bytes) -> Any:
    """An answer as the invocation log shows it: its JSON, else its text."""
    text = answer.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text[:_ANSWER_TEXT]


def _iso(seconds: float) -> str:
    instant = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)
    return instant.isoformat(timespec="milliseconds") + "Z"


# ---------------------------------------------------------------------------
# A mapping


class Mapping:
    """One event source mapping: a poller thread, and a thread per invocation."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.uuid = str(uuid.uuid4())
        self._backend, self._queue_name, self._region = _queue_backend(settings["EventSourceArn"])
        self._report_failures = "ReportBatchItemFailures" in settings["FunctionResponseTypes"]
        self._concurrency = settings.get("ScalingConfig", {}).get("MaximumConcurrency", DEFAULT_CONCURRENCY)
        endpoint = urlsplit(settings["Endpoint"])
        self._host, self._port = endpoint.hostname, endpoint.port or 80
        self._path = f"/2015-03-31/functions/{quote(settings['FunctionName'], safe='')}/invocations"
        self._slots = threading.Semaphore(self._concurrency)
        self._lock = threading.Condition()
        self._in_flight = 0
        self._state = "Enabled"
        self._stats = dict.fromkeys(_STATS, 0)
        self._invocations: collections.deque[dict[str, Any]] = collections.deque(maxlen=_KEPT)
        self._connections: list[http.client.HTTPConnection] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller-{self.uuid}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def view(self) -> dict[str, Any]:
        with self._lock:
            return {"UUID": self.uuid, **self.settings, "State": self._state, "Stats": dict(self._stats)}

    def invocations(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._invocations)

    def stop(self, timeout: float | None = None) -> None:
        """Stops polling, then waits for the invocations in flight (at most
        ``timeout`` seconds for each of the two, if given)."""
        self._stop.set()
        self._thread.join(timeout)
        with self._lock:
            self._lock.wait_for(lambda: self._in_flight == 0, timeout)
            self._state = "Deleted"
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    # --- polling

    def _queue(self) -> Any:
        return self._backend.queues.get(self._queue_name)  # None once deleted

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=_IDLE):
                continue
            try:
                batch = self._gather()
            except Exception as error:  # a defect here must not pass silently, nor stop the poller
                sys.stderr.write(f"[lambda_pollers] polling {self.settings['EventSourceArn']} failed: {error!r}\n")
                sys.stderr.flush()
                batch = None
            if batch is None:
                self._slots.release()
                self._stop.wait(_IDLE)
                continue
            with self._lock:
                self._in_flight += 1
                self._stats["MaxConcurrencySeen"] = max(self._stats["MaxConcurrencySeen"], self._in_flight)
            threading.Thread(target=self._invoke, args=(batch,), name=f"invoke-{self.uuid}", daemon=True).start()

    def _gather(self) -> _Batch | None:
        """The next batch (None when the queue has no visible message): until
        BatchSize, the batching window since its first message, or 6 MB."""
        batch = _Batch()
        size, window = self.settings["BatchSize"], self.settings["MaximumBatchingWindowInSeconds"]
        deadline = None
        while True:
            queue = self._queue()
            if queue is not None:
                _receive(queue, batch, size - len(batch.messages), self.settings["EventSourceArn"], self._region)
            if batch.full or len(batch.messages) >= size:
                return batch
            if not batch.messages:
                return None
            if deadline is None:
                deadline = time.monotonic() + window
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return batch
            if self._stop.wait(min(_IDLE, remaining)):
                if queue is not None:
                    _release(queue, batch.messages)
                return None

    # --- invoking

    def _invoke(self, batch: _Batch) -> None:
        started = time.time()
        try:
            answered = self._post(batch.event())
            self._complete(batch, started, *answered)
        except Exception as error:  # a defect here must not pass silently
            sys.stderr.write(f"[lambda_pollers] an invocation of {self.settings['FunctionName']} failed: {error!r}\n")
            sys.stderr.flush()
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()
            self._slots.release()

    def _post(self, event: bytes) -> tuple[int | None, str | None, bytes, str | None]:
        """POSTs the event to the Invoke API: (status, X-Amz-Function-Error,
        answer, the error when there was no answer)."""
        with self._lock:
            connection = self._connections.pop() if self._connections else None
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=_INVOKE_TIMEOUT)
        reused = connection.sock is not None
        try:
            try:
                response = self._request(connection, event)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                connection.close()  # the server closed the idle connection: once more on a new one
                response = self._request(connection, event)
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            return None, None, b"", f"{type(error).__name__}: {error}"
        with self._lock:
            self._connections.append(connection)
        return response.status, response.getheader("X-Amz-Function-Error"), answer, None

    def _request(self, connection: http.client.HTTPConnection, event: bytes) -> http.client.HTTPResponse:
        headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"}
        connection.request("POST", self._path, body=event, headers=headers)
        return connection.getresponse()

    def _complete(
        self,
        batch: _Batch,
        started: float,
        status: int | None,
        function_error: str | None,
        answer: bytes,
        error: str | None,
    ) -> None:
        """Deletes what the answer says succeeded; counts and logs the invocation."""
        ids = [message.id for message in batch.messages]
        invocation: dict[str, Any] = {
            "Start": _iso(started),
            "BatchSize": len(ids),
            "PayloadBytes": batch.size,
            "StatusCode": status,
        }
        if error is not None or function_error is not None or (status or 0) >= 400:
            outcome, failed = "FunctionError", set(ids)
            invocation.update({"FunctionError": function_error} if function_error else {})
            invocation.update({"Error": error} if error else {})
        elif self._report_failures:
            reported = _reported_failures(answer, set(ids))
            outcome = "InvalidResponse" if reported is None else "BatchItemFailures" if reported else "Success"
            failed = set(ids) if reported is None else reported
        else:
            outcome, failed = "Success", set()
        succeeded = [message for message in batch.messages if message.id not in failed]
        queue = self._queue()
        deleted = _delete(queue, succeeded) if queue is not None and succeeded else 0
        invocation.update(End=_iso(time.time()), Outcome=outcome, Answer=_shown(answer))
        if outcome == "BatchItemFailures":
            invocation["Failed"] = sorted(failed)
        with self._lock:
            stats = self._stats
            stats["Invocations"] += 1
            stats["Messages"] += len(ids)
            stats["LargestBatch"] = max(stats["LargestBatch"], len(ids))
            stats["FunctionErrors"] += outcome == "FunctionError"
            if outcome in ("BatchItemFailures", "InvalidResponse"):
                stats["BatchItemFailures"] += len(failed)
            stats["Deleted"] += deleted
            self._invocations.append(invocation)


# ---------------------------------------------------------------------------
# The control endpoints

_mappings: dict[str, Mapping] = {}
_mappings_lock = threading.Lock()


def _reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _reply(status, {"Code": code, "Message": message})


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _create(request: Request) -> Response:
    try:
        body = json.loads(request.get_data(as_text=True) or "null", parse_constant=_no_constant)
        mapping = Mapping(_settings(body))
    except ValueError as error:  # not JSON, or BadBody
        return _error(400, "BadRequest", str(error))
    with _mappings_lock:
        _mappings[mapping.uuid] = mapping
    mapping.start()
    return _reply(200, mapping.view())


def _collection(request: Request) -> Response:
    if request.method == "POST":
        return _create(request)
    if request.method == "GET":
        with _mappings_lock:
            mappings = list(_mappings.values())
        return _reply(200, {"EventSourceMappings": [mapping.view() for mapping in mappings]})
    return _error(405, "MethodNotAllowed", "use GET or POST")


def _one(request: Request, mapping: Mapping) -> Response:
    if request.method == "GET":
        return _reply(200, mapping.view())
    if request.method == "DELETE":
        mapping.stop()
        with _mappings_lock:
            _mappings.pop(mapping.uuid, None)
        return _reply(200, mapping.view())
    return _error(405, "MethodNotAllowed", "use GET or DELETE")


def _invocations(request: Request, mapping: Mapping) -> Response:
    if request.method != "GET":
        return _error(405, "MethodNotAllowed", "use GET")
    return _reply(200, {"Invocations": mapping.invocations()})


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application for paths under /_emulator/lambda/."""
    request = Request(environ)
    path = request.path
    if path == MAPPINGS:
        response = _collection(request)
    else:
        rest = path.removeprefix(MAPPINGS + "/") if path.startswith(MAPPINGS + "/") else ""
        key, _, sub = rest.partition("/")
        with _mappings_lock:
            mapping = _mappings.get(key)
        handle = {"": _one, "invocations": _invocations}.get(sub)
        if mapping is None or handle is None:
            response = _error(404, "NotFound", f"no emulator control endpoint {path}")
        else:
            response = handle(request, mapping)
    return response(environ, start_response)


# ---------------------------------------------------------------------------
# moto's SQS at scale

_sending = threading.local()


def _install_sqs_fixes() -> None:
    """SendMessage without counting the queue; a message's visibility from one
    clock reading (moto's own clock is time.time() too, through datetimes)."""
    from moto.sqs.models import Message, Queue, SQSBackend

    Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[assignment]
    Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[assignment]

    full_attributes = Queue.attributes.fget
    original_send = SQSBackend.send_message

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(_sending, "active", False):
            # All SendMessage reads of them (moto 5.2.5): not the message counts.
            return {"ContentBasedDeduplication": "true" if self.content_based_deduplication else "false"}
        return full_attributes(self)  # type: ignore[misc]

    @functools.wraps(original_send)
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    Queue.attributes = property(attributes)  # type: ignore[method-assign, assignment]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]


def install() -> None:
    """Fixes moto's SQS and routes /_emulator/lambda/ in moto's ThreadedMotoServer.
    Idempotent; run it before ``ThreadedMotoServer.start()``, after
    control.install() and before faults.install()."""
    from moto.moto_server import threaded_moto_server

    base = threaded_moto_server.DomainDispatcherApplication
    if getattr(base, _MARK, False):
        return
    _install_sqs_fixes()

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "").startswith(_PREFIX):
                return application(environ, start_response)
            return super().__call__(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]
    atexit.register(shutdown)


def shutdown(timeout: float = 5.0) -> None:
    """Stops every mapping, waiting at most about ``timeout`` seconds for
    invocations in flight (run by the launcher, and at exit)."""
    with _mappings_lock:
        mappings = list(_mappings.values())
        _mappings.clear()
    deadline = time.monotonic() + timeout
    for mapping in mappings:
        mapping.stop(max(0.0, deadline - time.monotonic()))
