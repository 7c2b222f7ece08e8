"""EventBridge Scheduler as AWS runs it: schedules fire, on a clock tests can move.

Stock moto 5.2.5 stores schedules (``CreateSchedule``, ``GetSchedule``,
``UpdateSchedule``, ``DeleteSchedule``, ``ListSchedules``, schedule groups,
tags) and never runs them. `install()` (launcher.py, after control.install and
before faults.install) patches moto's scheduler in this process and starts a
background thread that fires them; ``test_scheduler.py`` tests all of it.

The scheduler's clock
---------------------

    GET  /_emulator/clock
    POST /_emulator/clock
    Content-Type: application/json

    {"offset_seconds": -30}   the scheduler's now = real time (UTC) - 30 s
    {"now": "2030-01-01T00:00:00Z"}   now = that instant, advancing with real time
    {}                         real time again

At most one key. ``offset_seconds`` is a number, at most 10 years
(315,576,000 s) either way; ``now`` an ISO 8601 date and time with ``Z`` or a
numeric offset (``2030-01-01T00:00:00Z``, ``2030-01-01T09:00:00+09:00``,
fractions of a second allowed), at most 10 years from real time. Both methods
answer 200 ``{"now": "2030-01-01T00:00:00.000Z", "offset_seconds": n}`` (the
clock after the change); 400 ``{"Code": "BadRequest", "Message": "<field>:
<what is wrong>"}`` for a body that does not fit ``CLOCK_BODY`` (control.py's
JSON Schema checker); 405 for other methods. Only the scheduler reads this
clock: firing times, a rate schedule's start, the fired log's ``at``. Event
times, S3, SageMaker and moto's own timestamps (``CreationDate``) stay real.

Firing
------

A daemon thread looks every 0.2 s at every schedule of every account and
region (moto's ``scheduler_backends``), and fires those that are ``ENABLED``
and due by the scheduler's clock, all of them in that look, in order of due
time:

* ``at(yyyy-mm-ddThh:mm:ss)``: one time, at that wall-clock time in
  ``ScheduleExpressionTimezone`` (default ``UTC``; any IANA name zoneinfo
  knows, e.g. ``Europe/Paris``). Due once the clock reaches it, so a time
  already past when the schedule is created or updated fires at the next look
  (whether AWS accepts a past time was not established: do not rely on it).
  Fires once: the instant is remembered on the schedule, and an
  ``UpdateSchedule`` that leaves it at the same instant does not fire it again;
  one that moves it fires it again at the new instant. ``StartDate`` and
  ``EndDate`` are ignored, as AWS documents for one-time schedules.
* ``rate(value unit)`` (unit ``minute``, ``minutes``, ``hour``, ``hours``,
  ``day``, ``days``; value a positive integer; singular or plural accepted
  whatever the value): first at ``StartDate``, or, without one, at once (the
  clock's now when it was created: AWS "starts invoking the target
  immediately"), then every period, while the occurrence is before
  ``EndDate``. A jump of the clock over several periods fires once, for the
  latest occurrence due (a jump is not time that passed). An ``UpdateSchedule``
  that changes the expression or ``StartDate`` starts it again from the update;
  one that changes neither keeps its rhythm.
* ``cron(...)``: accepted (six fields) and stored, never fired.
* An occurrence that falls due while the schedule is ``DISABLED`` is skipped,
  not kept: enabling it later does not fire it.
* ``ActionAfterCompletion`` ``DELETE``: a one-time schedule is deleted right
  after it fires; a rate schedule once its ``EndDate`` has passed and its last
  occurrence fired. ``NONE`` (the default) leaves them.
* ``FlexibleTimeWindow`` ``FLEXIBLE`` fires at the start of the window; AWS's
  60-second precision is not imitated (the emulator fires within 0.2 s).

Delivery, by ``Target.Arn``, of ``Target.Input`` (``{}`` when absent, as AWS
sends it) with the context attributes ``<aws.scheduler.schedule-arn>``,
``<aws.scheduler.scheduled-time>`` (``2030-01-01T00:00:00Z``),
``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>``
(``1``) replaced, as AWS does:

* an SQS queue (``arn:aws:sqs:<region>:<account>:<name>``): ``SendMessage`` of
  the input to that moto queue, in-process (no HTTP request: faults.py's call
  log does not show it), the message body exactly the input, with
  ``Target.SqsParameters.MessageGroupId`` (a FIFO queue needs
  ``ContentBasedDeduplication``: no deduplication id is sent);
* anything else (a Lambda function, a universal target, ...): not invoked, only
  recorded. A test harness playing Lambda reads the log and invokes the
  function with the input.

If the SQS send fails (no such queue, a FIFO queue without a group id), the log
entry gets ``"error": "<code>: <message>"`` and, with
``Target.DeadLetterConfig.Arn`` (an SQS queue), the input goes there at once
(AWS sends it there after its retries; a missing queue is not retried), with
AWS's message attributes: ``ERROR_CODE``, ``ERROR_MESSAGE``, ``EXECUTION_ID``,
``IS_PAYLOAD_TRUNCATED`` (``false``), ``RETRY_ATTEMPTS`` (``0``),
``SCHEDULED_TIME``, ``SCHEDULE_ARN``, ``TARGET_ARN`` (all ``String``). The
entry then has ``"dead_letter": "<queue ARN>"``, and ``"dead_letter_error"``
if that send failed too.

The log of firings
------------------

    GET    /_emulator/scheduler/fired   {"fired": [...]} in firing order
    DELETE /_emulator/scheduler/fired   forgets them: {"fired": []}

Each entry: ``{"schedule": name, "group": group name, "arn": schedule ARN,
"target": Target.Arn, "input": the input delivered (context attributes
replaced), "at": the scheduler clock when it fired (ISO 8601, milliseconds,
``Z``), "scheduled_for": the occurrence's instant in UTC
(``2030-01-01T00:00:00Z``), "error"?, "dead_letter"?, "dead_letter_error"?}``.
Other methods: 405.

Scheduler API fixes (stock moto's answer in brackets)
-----------------------------------------------------

* ``CreateSchedule`` with an existing name: HTTP 409 ``ConflictException``
  ``Schedule <name> already exists.`` [HTTP 400]. In a group that does not
  exist: 404 ``ResourceNotFoundException`` ``Schedule group <group> does not
  exist.`` [HTTP 500, a KeyError].
* ``CreateSchedule`` honours ``ClientToken`` [ignored]: the same token with the
  same request (name and every parameter) answers the first call's
  ``ScheduleArn`` and changes nothing, even if the schedule was since changed
  or deleted; the same token with another request is 409 ``ConflictException``
  ``ClientToken <token> was already used with different parameters.`` (the
  emulator's wording). The SDKs put a random token in every call and keep it
  across their retries, so a retried create whose answer was lost succeeds.
  ``DeleteSchedule`` does the same [ignored]: a token already used to delete
  that schedule answers 200 again instead of 404. Tokens last for the
  emulator's life, per account and region; a failed call records none.
  ``UpdateSchedule``'s token is ignored (an update sent twice changes nothing
  more).
* ``UpdateSchedule`` replaces the whole definition, as AWS documents: a member
  not sent takes its default: ``State`` ``ENABLED`` [absent],
  ``ActionAfterCompletion`` ``NONE`` [the old value kept; also a new one was
  never stored], ``ScheduleExpressionTimezone`` ``UTC``, no ``Description``,
  ``StartDate``, ``EndDate``, ``KmsKeyArn``, ``Target.Input``. Of a missing
  schedule: 404 ``ResourceNotFoundException`` (stock).
* ``GetSchedule`` answers ``ActionAfterCompletion`` ``NONE`` when none was sent
  [absent], and leaves out members that are not set [``null``]. Stock:
  ``ScheduleExpression``, ``ScheduleExpressionTimezone``, ``State``,
  ``Target`` (as sent, ``Input`` included, plus AWS's default ``RetryPolicy``
  of 185 attempts over 86,400 s), ``FlexibleTimeWindow``, ``StartDate``,
  ``EndDate``, ``CreationDate``, ``LastModificationDate``; missing: 404
  ``ResourceNotFoundException`` ``Schedule <name> does not exist.``
* ``CreateSchedule`` and ``UpdateSchedule`` check, before anything changes,
  with HTTP 400 ``ValidationException`` [nothing checked; a missing
  ``Target`` was an HTTP 500]: the required members (``1 validation error
  detected: Value null at 'target' failed to satisfy constraint: Member must
  not be null``, likewise ``scheduleExpression``, ``flexibleTimeWindow``,
  ``target.arn``, ``target.roleArn``, ``flexibleTimeWindow.mode``); the
  expression (``Invalid Schedule Expression <expression>.``, the emulator's
  wording: at, rate or cron as above); the time zone (``Invalid
  ScheduleExpressionTimezone <name>.``, the emulator's wording).
* ``CreateScheduleGroup`` with an existing name: 409 ``ConflictException``
  ``Schedule group <name> already exists.`` [the group silently replaced, its
  schedules lost]. ``DeleteScheduleGroup`` of a missing group: 404
  ``ResourceNotFoundException`` [HTTP 500].
* ``ListSchedules`` (``GroupName``, ``NamePrefix``, ``State``, ``MaxResults``,
  ``NextToken``) answers the schedules of that group (of every group without
  one) whose names start with the prefix, in the state if given, ordered by
  group name then name, ``MaxResults`` (1-100, default 50) a page, with a
  ``NextToken`` while more follow [newest first, with a token naming the next
  schedule: a page after that schedule was deleted, e.g. by its
  ``ActionAfterCompletion``, was HTTP 400 ``InvalidToken``]. A token is the
  position after the last schedule answered, so schedules deleted meanwhile
  never break the paging, and one created meanwhile is listed if its name
  comes later. ``MaxResults`` out of range: 400 ``ValidationException`` ``1
  validation error detected: Value '0' at 'maxResults' failed to satisfy
  constraint: Member must have value greater than or equal to 1`` (``less than
  or equal to 100``); a token the emulator did not make: 400
  ``ValidationException`` ``Invalid NextToken.`` (the emulator's wording). A
  group that does not exist lists nothing (whether AWS answers 404 was not
  established). Each summary is moto's: ``Arn``, ``Name``, ``GroupName``,
  ``State``, ``Target`` (``{"Arn"}``), ``CreationDate``,
  ``LastModificationDate``, and the definition's other members that are set.

Not checked (stock moto): enum values (``State``, ``ActionAfterCompletion``,
``FlexibleTimeWindow.Mode``), string patterns and lengths (names, ARNs,
tokens), the target's role and permissions, ``KmsKeyArn``.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import datetime
import functools
import json
import re
import sys
import threading
import uuid
import zoneinfo
from typing import Any, Callable, Iterable
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from control import BadBody, body_validator, check_body

CLOCK = "/_emulator/clock"
FIRED = "/_emulator/scheduler/fired"
_MARK = "_project_emulator_scheduler"
_INTERVAL = 0.2  # seconds between two looks at the schedules
_TEN_YEARS = 315_576_000  # seconds: 10 Julian years
UTC = datetime.timezone.utc

# What the emulator keeps on a moto Schedule (attributes of the object, so a
# deleted and re-created schedule starts afresh).
_HANDLED = "_project_emulator_handled"  # at(): the UTC instants fired or skipped
_ANCHOR = "_project_emulator_anchor"  # rate(): the first occurrence
_LAST = "_project_emulator_last"  # rate(): the index of the last occurrence fired or skipped
_RATE_KEY = "_project_emulator_rate_key"  # rate(): (expression, StartDate) the anchor is for
# On a moto backend: ClientTokens used.
_CREATE_TOKENS = "_project_emulator_create_tokens"
_DELETE_TOKENS = "_project_emulator_delete_tokens"

# One lock for the scheduler: every change the API makes and every look the
# firing thread takes. Reentrant: the API wrappers call each other.
_LOCK = threading.RLock()

# ---------------------------------------------------------------------------
# The clock

_clock_lock = threading.Lock()
_offset = 0.0  # seconds added to real time


def real_now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def now() -> datetime.datetime:
    """The scheduler's now (UTC): real time plus the offset a test set."""
    with _clock_lock:
        offset = _offset
    return real_now() + datetime.timedelta(seconds=offset)


def set_offset(seconds: float) -> None:
    global _offset
    with _clock_lock:
        _offset = float(seconds)


def _iso(instant: datetime.datetime, timespec: str = "seconds") -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def clock_state() -> dict[str, Any]:
    with _clock_lock:
        offset = _offset
    current = real_now() + datetime.timedelta(seconds=offset)
    return {"now": _iso(current, "milliseconds"), "offset_seconds": offset}


_ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"

CLOCK_BODY = {
    "type": "object",
    "properties": {
        "offset_seconds": {"type": "number", "minimum": -_TEN_YEARS, "maximum": _TEN_YEARS},
        "now": {"type": "string", "pattern": _ISO_INSTANT},
    },
    "additionalProperties": False,
    "maxProperties": 1,
}
_CLOCK_BODY = body_validator(CLOCK_BODY)


def _offset_of(body: Any) -> float:
    """The offset a POST /_emulator/clock body asks for (BadBody if it cannot)."""
    check_body(_CLOCK_BODY, body)
    if "offset_seconds" in body:
        return float(body["offset_seconds"])
    if "now" in body:
        try:
            wanted = datetime.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))
        except ValueError:
            raise BadBody(f"now: {body['now']!r} is not a date and time") from None
        offset = (wanted - real_now()).total_seconds()
        if abs(offset) > _TEN_YEARS:
            raise BadBody(f"now: {body['now']!r} is more than 10 years from the real time")
        return offset
    return 0.0


# ---------------------------------------------------------------------------
# Schedule expressions

_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_RATE = re.compile(r"^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(\S+( \S+){5}\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _zone(name: str | None) -> datetime.tzinfo:
    if not name or name == "UTC":
        return UTC
    return zoneinfo.ZoneInfo(name)  # ZoneInfoNotFoundError (a KeyError), ValueError


def at_instant(expression: str, timezone: str | None) -> datetime.datetime | None:
    """The UTC instant of an ``at(...)`` expression in its time zone; None if
    the expression is not one."""
    found = _AT.match(expression or "")
    if not found:
        return None
    local = datetime.datetime(*(int(part) for part in found.groups()))  # ValueError: no such date
    return local.replace(tzinfo=_zone(timezone)).astimezone(UTC)


def rate_period(expression: str) -> datetime.timedelta | None:
    found = _RATE.match(expression or "")
    if not found:
        return None
    value, unit = int(found.group(1)), found.group(2).rstrip("s")
    return datetime.timedelta(seconds=value * _UNIT_SECONDS[unit])


def _timestamp(value: Any) -> datetime.datetime | None:
    """A StartDate/EndDate as moto stores it (what the client sent: epoch
    seconds, or a string) as a UTC datetime; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        pass
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


# ---------------------------------------------------------------------------
# Checking a CreateSchedule/UpdateSchedule request


def _validation(message: str) -> Exception:
    from moto.scheduler.exceptions import ValidationException

    return ValidationException(message)


def _required(path: str) -> Exception:
    return _validation(
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
    )


def check_definition(body: dict[str, Any]) -> None:
    """Raises ValidationException for a definition the emulator cannot run."""
    expression = body.get("ScheduleExpression")
    if expression is None:
        raise _required("scheduleExpression")
    target = body.get("Target")
    if not isinstance(target, dict):
        raise _required("target")
    for member in ("Arn", "RoleArn"):
        if target.get(member) is None:
            raise _required(f"target.{member[0].lower()}{member[1:]}")
    window = body.get("FlexibleTimeWindow")
    if not isinstance(window, dict):
        raise _required("flexibleTimeWindow")
    if window.get("Mode") is None:
        raise _required("flexibleTimeWindow.mode")
    timezone = body.get("ScheduleExpressionTimezone")
    try:
        _zone(timezone)
    except (KeyError, ValueError):
        raise _validation(f"Invalid ScheduleExpressionTimezone {timezone}.") from None
    if not isinstance(expression, str):
        raise _validation(f"Invalid Schedule Expression {expression}.")
    try:
        if at_instant(expression, timezone) is None and rate_period(expression) is None:
            if not _CRON.match(expression):
                raise _validation(f"Invalid Schedule Expression {expression}.")
    except ValueError:  # at() of a date that does not exist
        raise _validation(f"Invalid Schedule Expression {expression}.") from None


# ---------------------------------------------------------------------------
# The API fixes


def _conflict(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("ConflictException", message)
    error.code = 409
    return error


def _body(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _name(response: Any) -> str:
    return unquote(response.uri.split("?")[0].split("/")[-1])


def _rate_key(schedule: Any) -> tuple[Any, ...]:
    return (schedule.schedule_expression, schedule.start_date)


def _start(schedule: Any) -> None:
    """(Re)starts what the firing thread keeps on a schedule whose expression or
    StartDate is new: a rate schedule's first occurrence and count."""
    key = _rate_key(schedule)
    if getattr(schedule, _RATE_KEY, None) == key:
        return
    setattr(schedule, _RATE_KEY, key)
    setattr(schedule, _ANCHOR, _timestamp(schedule.start_date) or now().replace(microsecond=0))
    setattr(schedule, _LAST, -1)


def _create_schedule(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def create_schedule(self: Any) -> str:
        body = _body(self)
        check_definition(body)
        name, token = _name(self), body.get("ClientToken")
        request = json.dumps({**{k: v for k, v in body.items() if k != "ClientToken"}, "Name": name}, sort_keys=True)
        backend = self.scheduler_backend
        with _LOCK:
            tokens = backend.__dict__.setdefault(_CREATE_TOKENS, {})
            if token and token in tokens:
                first_request, arn = tokens[token]
                if first_request != request:
                    raise _conflict(f"ClientToken {token} was already used with different parameters.")
                return json.dumps({"ScheduleArn": arn})
            backend.get_schedule_group(body.get("GroupName"))  # ResourceNotFoundException
            answer = original(self)
            schedule = backend.get_schedule(body.get("GroupName"), name)
            schedule.action_after_completion = body.get("ActionAfterCompletion") or "NONE"
            _start(schedule)
            if token:
                tokens[token] = (request, schedule.arn)
            return answer

    return create_schedule


def _update_schedule(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def update_schedule(self: Any) -> str:
        body = _body(self)
        check_definition(body)
        backend = self.scheduler_backend
        with _LOCK:
            answer = original(self)  # ResourceNotFoundException for a missing one
            schedule = backend.get_schedule(body.get("GroupName"), _name(self))
            # The whole definition is replaced: what was not sent takes its default.
            schedule.state = body.get("State") or "ENABLED"
            schedule.action_after_completion = body.get("ActionAfterCompletion") or "NONE"
            _start(schedule)
            return answer

    return update_schedule


def _delete_schedule(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def delete_schedule(self: Any) -> str:
        token = self._get_param("clientToken")
        backend = self.scheduler_backend
        deleted = (self._get_param("groupName") or "default", _name(self))
        with _LOCK:
            tokens = backend.__dict__.setdefault(_DELETE_TOKENS, {})
            if token and tokens.get(token) == deleted:
                return "{}"
            answer = original(self)
            if token:
                tokens[token] = deleted
            return answer

    return delete_schedule


_PAGE = 50  # ListSchedules' MaxResults when none is sent


def _next_token(schedule: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([schedule.group_name, schedule.name]).encode()).decode()


def _after(token: str | None) -> tuple[str, str] | None:
    """The (group, name) a NextToken continues after; ValidationException if
    the emulator did not make it."""
    if not token:
        return None
    try:
        group, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(group), str(name)
    except (ValueError, TypeError, binascii.Error):
        raise _validation("Invalid NextToken.") from None


def _list_schedules(self: Any) -> str:
    """ListSchedules: the matching schedules by group and name, a page at a time."""
    groups = self.querystring.get("ScheduleGroup")
    prefix = self._get_param("NamePrefix") or ""
    state = self._get_param("State")
    limit = self._get_int_param("MaxResults")
    limit = _PAGE if limit is None else limit
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        raise _validation(
            f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    after = _after(self._get_param("NextToken"))
    with _LOCK:
        found = sorted(
            (
                schedule
                for group in self.scheduler_backend.schedule_groups.values()
                if not groups or group.name in groups
                for schedule in group.schedules.values()
                if schedule.name.startswith(prefix) and (not state or schedule.state == state)
            ),
            key=lambda schedule: (schedule.group_name, schedule.name),
        )
        if after is not None:
            found = [schedule for schedule in found if (schedule.group_name, schedule.name) > after]
        page = found[:limit]
        answer: dict[str, Any] = {"Schedules": [schedule.to_dict(short=True) for schedule in page]}
    if len(found) > limit:
        answer["NextToken"] = _next_token(page[-1])
    return json.dumps(answer)


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    return locked


def _to_dict(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(original)
    def to_dict(self: Any, short: bool = False) -> dict[str, Any]:
        answer = original(self, short)
        if not short and not answer.get("ActionAfterCompletion"):
            answer["ActionAfterCompletion"] = "NONE"
        return {key: value for key, value in answer.items() if value is not None}

    return to_dict


def _install_api() -> None:
    from moto.scheduler import exceptions
    from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule
    from moto.scheduler.responses import EventBridgeSchedulerResponse as Responses

    exceptions.ScheduleExists.code = 409  # AWS's ConflictException is HTTP 409

    backend = EventBridgeSchedulerBackend
    original_create_group = backend.create_schedule_group
    original_delete_group = backend.delete_schedule_group

    def create_schedule_group(self: Any, name: str, tags: list[dict[str, str]]) -> Any:
        with _LOCK:
            if name in self.schedule_groups:
                raise _conflict(f"Schedule group {name} already exists.")
            return original_create_group(self, name, tags)

    def delete_schedule_group(self: Any, name: str | None) -> None:
        with _LOCK:
            self.get_schedule_group(name)  # ResourceNotFoundException
            original_delete_group(self, name)

    backend.create_schedule_group = create_schedule_group  # type: ignore[method-assign]
    backend.delete_schedule_group = delete_schedule_group  # type: ignore[method-assign]
    Responses.create_schedule = _create_schedule(Responses.create_schedule)  # type: ignore[method-assign]
    Responses.update_schedule = _update_schedule(Responses.update_schedule)  # type: ignore[method-assign]
    Responses.delete_schedule = _delete_schedule(Responses.delete_schedule)  # type: ignore[method-assign]
    Responses.get_schedule = _locked(Responses.get_schedule)  # type: ignore[method-assign]
    Responses.list_schedules = _list_schedules  # type: ignore[method-assign]
    Schedule.to_dict = _to_dict(Schedule.to_dict)  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Firing

_fired: list[dict[str, Any]] = []
_fired_lock = threading.Lock()
_stop = threading.Event()
_thread: threading.Thread | None = None


def fired() -> list[dict[str, Any]]:
    with _fired_lock:
        return [dict(entry) for entry in _fired]


def clear_fired() -> None:
    with _fired_lock:
        _fired.clear()


def _backends() -> list[Any]:
    """Every scheduler backend moto has made (never makes one)."""
    from moto.core.base_backend import backend_lock
    from moto.scheduler.models import scheduler_backends

    with backend_lock:
        accounts = list(dict.values(scheduler_backends))
        return [backend for account in accounts for backend in list(dict.values(account))]


def _due(schedule: Any, current: datetime.datetime) -> tuple[datetime.datetime | None, bool]:
    """(the occurrence to fire now or None, whether the schedule is complete
    afterwards). Marks the occurrence handled. Under _LOCK."""
    enabled = (schedule.state or "ENABLED") == "ENABLED"
    try:
        instant = at_instant(schedule.schedule_expression, schedule.schedule_expression_timezone)
    except (KeyError, ValueError):
        return None, False
    if instant is not None:
        handled = schedule.__dict__.setdefault(_HANDLED, set())
        if instant > current or instant in handled:
            return None, False
        handled.add(instant)
        return (instant, True) if enabled else (None, False)
    period = rate_period(schedule.schedule_expression)
    if period is None:
        return None, False  # cron(): not run
    _start(schedule)  # a schedule made before install(), or by moto directly
    anchor, last = getattr(schedule, _ANCHOR), getattr(schedule, _LAST)
    end = _timestamp(schedule.end_date)
    complete = end is not None and current >= end
    if current < anchor:
        return None, complete
    index = (current - anchor) // period
    if end is not None:  # the last occurrence is the last one before EndDate
        periods, remainder = divmod(end - anchor, period)
        index = min(index, periods if remainder else periods - 1)
    if index <= last:
        return None, complete
    setattr(schedule, _LAST, index)
    return (anchor + index * period, complete) if enabled else (None, complete)


def _substitute(text: str, schedule: Any, occurrence: datetime.datetime, execution_id: str) -> str:
    for keyword, value in (
        ("<aws.scheduler.schedule-arn>", schedule.arn),
        ("<aws.scheduler.scheduled-time>", _iso(occurrence)),
        ("<aws.scheduler.execution-id>", execution_id),
        ("<aws.scheduler.attempt-number>", "1"),
    ):
        text = text.replace(keyword, value)
    return text


_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:([^:]+):([0-9]{12}):([^:/]+)$")


def _send_sqs(arn: str, body: str, group_id: str | None = None, attributes: dict[str, Any] | None = None) -> None:
    """SendMessage to the moto queue of ``arn``; raises moto's error."""
    from moto.sqs.models import sqs_backends

    region, account, name = _SQS_ARN.match(arn).groups()  # type: ignore[union-attr]
    sqs_backends[account][region].send_message(name, body, message_attributes=attributes, group_id=group_id)


def _error_text(error: Exception) -> tuple[str, str]:
    code = getattr(error, "error_type", None) or getattr(error, "code", None) or type(error).__name__
    message = getattr(error, "message", None) or str(error)
    return str(code), str(message)


def _deliver(schedule: Any, occurrence: datetime.datetime) -> dict[str, Any]:
    """Fires the schedule once: delivers its input, answers the log entry."""
    target = dict(schedule.target or {})
    target_arn = target.get("Arn") or ""
    execution_id = uuid.uuid4().hex[:16]
    payload = _substitute(target.get("Input") or "{}", schedule, occurrence, execution_id)
    entry: dict[str, Any] = {
        "schedule": schedule.name,
        "group": schedule.group_name,
        "arn": schedule.arn,
        "target": target_arn,
        "input": payload,
        "at": _iso(now(), "milliseconds"),
        "scheduled_for": _iso(occurrence),
    }
    if not _SQS_ARN.match(target_arn):
        return entry  # a Lambda function or anything else: recorded, not invoked
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    try:
        _send_sqs(target_arn, payload, group_id=group_id)
        return entry
    except Exception as error:  # moto's SQS errors: no such queue, a FIFO without a group id
        code, message = _error_text(error)
    entry["error"] = f"{code}: {message}"
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter:
        entry["dead_letter"] = dead_letter
        attributes = {
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message,
            "EXECUTION_ID": execution_id,
            "IS_PAYLOAD_TRUNCATED": "false",
            "RETRY_ATTEMPTS": "0",
            "SCHEDULED_TIME": _iso(occurrence),
            "SCHEDULE_ARN": schedule.arn,
            "TARGET_ARN": target_arn,
        }
        try:
            if not _SQS_ARN.match(dead_letter):
                raise ValueError(f"{dead_letter} is not an SQS queue ARN")
            _send_sqs(
                dead_letter,
                payload,
                attributes={key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()},
            )
        except Exception as error:
            entry["dead_letter_error"] = "%s: %s" % _error_text(error)
    return entry


def tick() -> None:
    """One look at every schedule: fires what is due, in order of due time."""
    current = now()
    due: list[tuple[datetime.datetime, Any, Any, bool]] = []
    finished: list[tuple[Any, Any]] = []
    with _LOCK:
        for backend in _backends():
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    occurrence, complete = _due(schedule, current)
                    delete = complete and schedule.action_after_completion == "DELETE"
                    if occurrence is not None:
                        due.append((occurrence, group, schedule, delete))
                    elif delete:
                        finished.append((group, schedule))
    due.sort(key=lambda item: item[0])
    for occurrence, group, schedule, delete in due:
        entry = _deliver(schedule, occurrence)
        with _fired_lock:
            _fired.append(entry)
        if delete:
            finished.append((group, schedule))
    with _LOCK:
        for group, schedule in finished:
            if group.schedules.get(schedule.name) is schedule:  # not deleted or replaced meanwhile
                del group.schedules[schedule.name]


def _run() -> None:
    while not _stop.wait(_INTERVAL):
        try:
            tick()
        except Exception as error:  # a defect here must not pass silently, nor stop the thread
            sys.stderr.write(f"[scheduler] firing failed: {error!r}\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------
# The control endpoints


def _reply(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _no_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _clock(request: Request) -> Response:
    if request.method == "POST":
        try:
            body = json.loads(request.get_data(as_text=True) or "{}", parse_constant=_no_constant)
            set_offset(_offset_of(body))
        except ValueError as error:  # not JSON, or BadBody
            return _reply(400, {"Code": "BadRequest", "Message": str(error)})
    elif request.method != "GET":
        return _reply(405, {"Code": "MethodNotAllowed", "Message": "use GET or POST"})
    return _reply(200, clock_state())


def _fired_log(request: Request) -> Response:
    if request.method == "GET":
        return _reply(200, {"fired": fired()})
    if request.method == "DELETE":
        clear_fired()
        return _reply(200, {"fired": []})
    return _reply(405, {"Code": "MethodNotAllowed", "Message": "use GET or DELETE"})


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    request = Request(environ)
    handle = _clock if request.path == CLOCK else _fired_log
    return handle(request)(environ, start_response)


def install() -> None:
    """Patches moto's scheduler, routes the control endpoints and starts the
    firing thread. Idempotent; run it before ``ThreadedMotoServer.start()``,
    after control.install() and before faults.install()."""
    global _thread
    from moto.moto_server import threaded_moto_server

    base = threaded_moto_server.DomainDispatcherApplication
    if getattr(base, _MARK, False):
        return
    _install_api()

    class Dispatcher(base):  # type: ignore[valid-type, misc]
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "") in (CLOCK, FIRED):
                return application(environ, start_response)
            return super().__call__(environ, start_response)

    setattr(Dispatcher, _MARK, True)
    threaded_moto_server.DomainDispatcherApplication = Dispatcher  # type: ignore[misc]
    _stop.clear()
    _thread = threading.Thread(target=_run, name="scheduler", daemon=True)
    _thread.start()
    atexit.register(shutdown)


def shutdown() -> None:
    """Stops the firing thread (run by the launcher, and at exit)."""
    _stop.set()
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout=2.0)
