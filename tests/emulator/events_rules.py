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

Fix added here:

1. A target without an ``InputTransformer`` receives the whole event, as
   EventBridge sends it: ``{"version": "0", "id", "detail-type", "source",
   "account", "time" ("YYYY-MM-DDTHH:MM:SSZ"), "region", "resources",
   "detail"}`` (the SQS message body is this JSON object; ``detail`` is an
   object, not a string).
"""

from __future__ import annotations

import copy
from typing import Any

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

    def parse(input_template: Any, input_paths_map: Any, event: Any) -> dict[str, Any]:
        if not input_template and not input_paths_map:
            # moto's targets convert "time" (epoch seconds) to text on this copy.
            return {key: copy.deepcopy(event[key]) for key in ENVELOPE_KEYS if key in event}
        return original(input_template, input_paths_map, event)

    setattr(parse, _MARK, True)
    EventTemplateParser.parse = staticmethod(parse)  # type: ignore[method-assign]
