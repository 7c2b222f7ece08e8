"""EventBridge fixes that stock moto 5.2.5 needs for the project's tests.

`install()` patches moto's events module in this process, before the server
starts; ``test_events_s3.py`` tests it and the stock behaviour the Rust tests
rely on.

What stock moto 5.2.5 does (read from moto/events/models.py and utils.py, and
checked against a running server):

* Custom buses, rules with an ``EventPattern`` and SQS queue targets work;
  ``PutEvents`` (to the bus's name or ARN) delivers each matching event to the
  queue, and non-matching events nowhere. Pattern matching handles exact
  strings, booleans (``"passed": [true]`` matches ``true``, not ``false`` or a
  missing field), nested ``detail`` fields and ``{"prefix": ...}`` (all four
  tested); moto also implements ``suffix``, ``equals-ignore-case``,
  ``numeric``, ``anything-but``, ``exists``, ``cidr``, ``wildcard`` and
  ``$or`` (read, not tested), and an operator it does not know matches any
  value that is present. One looseness: values compare with Python's ``==``, so ``[true]``
  also matches the number ``1`` (and ``[1]`` matches ``true``); EventBridge
  tells JSON booleans and numbers apart. Left alone: the pipeline's events
  carry JSON booleans.
* ``PutEvents`` answers HTTP 200 with ``FailedEntryCount`` and one result per
  entry, in order: ``{"EventId": ...}`` or ``{"ErrorCode", "ErrorMessage"}``.
  An entry without ``Source``, ``DetailType`` or ``Detail`` fails with
  ``InvalidArgument`` ("Parameter Detail is not valid. Reason: Detail is a
  required argument."), one whose ``Detail`` is not JSON with
  ``MalformedDetail``; the other entries still go through. A bus that does not
  exist fails the whole call: HTTP 400 ``ResourceNotFoundException``
  "Event bus <name> does not exist.". More than 10 entries:
  ``ValidationException``.
* Without an ``InputTransformer``, a target receives the event rebuilt from a
  fixed text template that has no ``account`` field (and into which
  ``source``/``detail-type`` are pasted without JSON escaping). ``Input`` and
  ``InputPath`` on a target are ignored. The queue's policy is not checked.

* S3 with EventBridge notifications turned on for a bucket
  (``PutBucketNotificationConfiguration`` with ``EventBridgeConfiguration``)
  sends an event for each new object, but not S3's: ``detail.object.eTag``
  instead of ``etag``, ``reason`` ``ObjectCreated`` instead of ``PutObject``,
  ``version-id`` ``null`` in an unversioned bucket, the same fixed ``id`` for
  every event, and it goes to every bus of the region instead of the default
  bus only. Its targets get it without the envelope fix below.

Fixes added here:

1. A target without an ``InputTransformer`` receives the whole event, as
   EventBridge sends it: ``{"version": "0", "id", "detail-type", "source",
   "account", "time" ("YYYY-MM-DDTHH:MM:SSZ"), "region", "resources",
   "detail"}`` (the SQS message body is this JSON object; ``detail`` is an
   object, not a string).
2. S3's "Object Created" event (PutObject, POST, CopyObject,
   CompleteMultipartUpload into a bucket with EventBridge notifications on)
   has the shape of AWS's documentation
   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html):
   a fresh ``id``; ``resources`` the bucket ARN; ``detail`` ``{"version":
   "0", "bucket": {"name"}, "object": {"key", "size", "etag",
   "version-id" (versioned buckets only), "sequencer"}, "request-id",
   "requester", "source-ip-address", "reason"}`` with ``reason``
   ``PutObject``, ``POST Object``, ``CopyObject`` or
   ``CompleteMultipartUpload``. The key is written as stored (no URL
   encoding). It goes to the default bus of the bucket's region only, through
   the rules' targets like a ``PutEvents`` event (fix 1, input transformers).
   A multipart upload sends one event (moto stores the object with an inner
   PutObject, which sent a second). Other S3 event types are left to moto
   (which also sends "Object Tags Added" for every new object, to every bus).
3. An ``InputTransformer`` whose template fills in to text rather than JSON
   (an alert's sentence, as the template's alert rules have) delivers that
   text as it is, as EventBridge does: an SQS target's message body is the
   text. Stock moto parses the filled-in template as JSON and fails the whole
   ``PutEvents`` (HTTP 500).
4. ``PutEvents`` whose entries add up to more than 256 KB fails whole with
   ``ValidationException`` "Total size of the entries in the request is over
   the limit.", as EventBridge does; an entry's size is counted as AWS
   documents it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html):
   the UTF-8 bytes of ``Source``, ``DetailType``, ``Detail`` and each of
   ``Resources``, and 14 for ``Time``. Stock moto takes any size.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import string
import threading
import time
import uuid
from typing import Any

import moto.s3.notifications as s3_notifications
from moto.core.utils import unix_time
from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend, Rule
from moto.events.utils import EventTemplateParser

_MARK = "_project_emulator_rule"
# EventBridge's envelope, in its order ("replay-name" only on replayed events).
ENVELOPE_KEYS = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
    "replay-name",
)


def install() -> None:
    """Applies the fix to moto's events module. Idempotent."""
    original = EventTemplateParser.parse  # a staticmethod: a plain function here
    if getattr(original, _MARK, False):
        return

    def parse(input_template: Any, input_paths_map: Any, event: Any) -> Any:
        if not input_template and not input_paths_map:
            # moto's targets convert "time" (epoch seconds) to text on this copy.
            return {key: copy.deepcopy(event[key]) for key in ENVELOPE_KEYS if key in event}
        try:
            return original(input_template, input_paths_map, event)
        except json.JSONDecodeError as not_json:
            # Fix 3: a template that fills in to text (an alert's sentence) is
            # delivered as that text; moto parses it as JSON and fails PutEvents.
            return TransformedText(not_json.doc)

    setattr(parse, _MARK, True)
    EventTemplateParser.parse = staticmethod(parse)  # type: ignore[method-assign]
    original_send = Rule._send_to_sqs_queue

    def send_to_sqs_queue(self: Any, resource_id: str, event: Any, group_id: str | None = None) -> None:
        if not isinstance(event, TransformedText):
            return original_send(self, resource_id, event, group_id)
        from moto.sqs import sqs_backends

        sqs_backends[self.account_id][self.region_name].send_message(
            queue_name=resource_id, message_body=str(event), group_id=group_id
        )

    Rule._send_to_sqs_queue = send_to_sqs_queue  # type: ignore[method-assign]
    _install_s3_object_created()
    _install_entry_size_limit()


# EventBridge's limit on the entries of one PutEvents request, in bytes.
PUT_EVENTS_MAX_BYTES = 256 * 1024


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it (fix 4)."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode())
    return size + sum(len(str(r).encode()) for r in entry.get("Resources") or [] if r is not None)


def _install_entry_size_limit() -> None:
    original = EventsBackend.put_events

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if sum(entry_size(entry) for entry in events) > PUT_EVENTS_MAX_BYTES:
            raise ValidationException("Total size of the entries in the request is over the limit.")
        return original(self, events)

    EventsBackend.put_events = put_events  # type: ignore[method-assign]


class TransformedText(str):
    """An input transformer's output that is not JSON: the target gets the text."""


# S3's "reason" for each way an object is created (s3:ObjectCreated:<kind>).
S3_CREATED_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}
_sequence = itertools.count(1)
_sequence_lock = threading.Lock()


def _sequencer() -> str:
    # S3's sequencer: hexadecimal, increasing for the events of one key.
    with _sequence_lock:
        step = next(_sequence)
    return f"{time.time_ns() // 1000 + step:018X}"


def _event_name(event_name: Any) -> str:
    # moto passes S3NotificationEvent members (a str Enum: str() is the member's name).
    return str(getattr(event_name, "value", event_name))


def s3_object_created_event(account_id: str, bucket: Any, event_name: str, key: Any) -> dict[str, Any]:
    """The "Object Created" event S3 sends to EventBridge for ``key``, as EventBridge
    hands it to rules (``time`` in epoch seconds, as moto's PutEvents has it)."""
    kind = _event_name(event_name).split(":")[-1]
    obj: dict[str, Any] = {"key": key.name, "size": key.size, "etag": key.etag.replace('"', "")}
    if bucket.is_versioned and key.version_id not in (None, "null"):
        obj["version-id"] = key.version_id
    obj["sequencer"] = _sequencer()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account_id,
        "time": unix_time(),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": "".join(random.choices(string.ascii_uppercase + string.digits, k=16)),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": S3_CREATED_REASONS.get(kind, kind),
        },
    }


def _install_s3_object_created() -> None:
    original = s3_notifications._send_event_bridge_message
    if getattr(original, _MARK, False):
        return

    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        name = _event_name(event_name)
        if not name.startswith("s3:ObjectCreated:"):
            original(account_id, bucket, event_name, key)
            return
        if name == "s3:ObjectCreated:Put" and getattr(key, "multipart", None) is not None:
            return  # moto's CompleteMultipartUpload stores the object with a PutObject first
        from moto.events.models import events_backends

        event = s3_object_created_event(account_id, bucket, event_name, key)
        backend = events_backends[account_id][bucket.region_name]
        bus = backend.event_buses.get("default")
        if bus is None:
            return
        for rule in list(bus.rules.values()):
            # Each target gets a copy: moto's SQS delivery rewrites "time" in place.
            rule.send_to_targets(copy.deepcopy(event))

    setattr(send, _MARK, True)
    s3_notifications._send_event_bridge_message = send
