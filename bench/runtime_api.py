"""A local stand-in for the Lambda Runtime API, for timing one cold start.

It serves what a Lambda sandbox's runtime endpoint serves to a custom runtime
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), for one
invocation at a time, and records when each request arrives:

* ``GET /2018-06-01/runtime/invocation/next``: the first one (the function is
  ready for its first event) gets the armed event with the usual headers
  (``Lambda-Runtime-Aws-Request-Id``, ``-Deadline-Ms``,
  ``-Invoked-Function-Arn``, ``-Trace-Id``). The second one (the first
  invocation is over and the runtime asks for more) is held without an answer,
  as Lambda freezes the sandbox; the process's peak RSS is read from
  ``/proc/<pid>/status`` (``VmHWM``) at that moment, before it is killed.
* ``POST /2018-06-01/runtime/invocation/<id>/response`` and ``.../error``:
  the first invocation's answer.
* ``POST /2018-06-01/runtime/init/error``: the function failed its cold start.

Times are ``time.monotonic()`` (CLOCK_MONOTONIC, the clock the benchmark reads
just before it starts the process), taken as soon as the request's head has
been parsed. The server runs in a thread of the benchmark; the benchmark waits
on events while the function runs, so the two do not compete for the GIL.

``SteadyRuntimeApi`` serves a warm function instead, invocation after
invocation (serve_predictions' overhead, bench/serve_overhead.py).
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM, VmRSS and its parts (RssAnon: heap and stacks, RssFile: the
    binary's and libraries' pages) of a live process, in KiB ({} once gone)."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


class Invocation:
    """One armed invocation: the event to serve and what happened."""

    def __init__(self, event: bytes, function_name: str):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.pid: int | None = None
        self.ready_at: float | None = None  # first GET .../next
        self.answered_at: float | None = None  # POST .../response or .../error
        self.next_again_at: float | None = None  # second GET .../next
        self.response: bytes | None = None
        self.error: Any = None  # the error document, or None
        self.init_error: Any = None
        self.memory: dict[str, int] = {}
        self.finished = threading.Event()  # the invocation is over, one way or another
        self.released = threading.Event()  # the benchmark is done with the process


class _Handler(BaseHTTPRequestHandler):
    """What both stand-ins' handlers share: keep-alive, as Lambda's endpoint,
    no request log, and JSON answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _serve(handler: type[_Handler]) -> tuple[ThreadingHTTPServer, int]:
    """The handler on a free loopback port, served by a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


class RuntimeApi:
    def __init__(self) -> None:
        self.invocation: Invocation | None = None
        api = self

        class Handler(_Handler):
            def do_GET(self) -> None:
                now = time.monotonic()
                invocation = api.invocation
                if self.path != f"{PREFIX}/invocation/next" or invocation is None:
                    return self._reply(404, b'{"errorMessage":"not found"}')
                if invocation.ready_at is None:
                    invocation.ready_at = now
                    deadline_ms = int(time.time() * 1000) + 60_000
                    return self._reply(
                        200,
                        invocation.event,
                        {
                            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                        },
                    )
                # Asking for the next event: the first invocation is over.
                invocation.next_again_at = now
                if invocation.pid is not None:
                    invocation.memory = proc_status(invocation.pid)
                invocation.finished.set()
                # Held, as a frozen sandbox's; the process is killed meanwhile.
                invocation.released.wait(120)
                self.close_connection = True

            def do_POST(self) -> None:
                now = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                invocation = api.invocation
                if invocation is None:
                    return self._reply(404, b'{"errorMessage":"not found"}')
                if self.path == f"{PREFIX}/init/error":
                    invocation.init_error = _json_or_text(body)
                    self._reply(202, b'{"status":"OK"}')
                    invocation.finished.set()
                    return
                base = f"{PREFIX}/invocation/{invocation.request_id}"
                if self.path == f"{base}/response":
                    invocation.answered_at = now
                    invocation.response = body
                elif self.path == f"{base}/error":
                    invocation.answered_at = now
                    invocation.error = _json_or_text(body)
                else:
                    return self._reply(404, b'{"errorMessage":"not found"}')
                self._reply(202, b'{"status":"OK"}')

        self.server, self.port = _serve(Handler)

    def arm(self, event: bytes, function_name: str) -> Invocation:
        self.invocation = Invocation(event, function_name)
        return self.invocation

    def close(self) -> None:
        if self.invocation is not None:
            self.invocation.released.set()
        self.server.shutdown()
        self.server.server_close()


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class Steady:
    """One invocation of a warm function: the event, and when it was handed
    over and answered (``time.perf_counter()``)."""

    def __init__(self, event: bytes, function_name: str):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.handed_at: float | None = None  # just before the event is written to the function
        self.answered_at: float | None = None  # POST .../response or .../error, its head parsed
        self.response: bytes | None = None
        self.error: Any = None
        self.done = threading.Event()


class SteadyRuntimeApi:
    """The Runtime API for a function kept warm: one process, invocation
    after invocation, as Lambda reuses a sandbox (``bench/serve_overhead.py``).

    ``GET .../invocation/next`` waits for the next :meth:`invoke` and answers
    with its event (the usual headers); ``time.perf_counter()`` is read just
    before the event is written (``handed_at``) and as soon as the head of the
    function's ``POST .../response`` (or ``.../error``) has been parsed
    (``answered_at``). The difference is the function's time for the event,
    this stand-in's own share included: parsing the answer's head, a Python
    thread's wake-up, a loopback round trip (Lambda's Runtime API sits in the
    sandbox too). ``POST .../init/error`` sets ``init_error``.
    """

    def __init__(self) -> None:
        self._pending: "queue.Queue[Steady]" = queue.Queue()
        self._current: dict[str, Steady] = {}
        self.init_error: Any = None
        self.failed = threading.Event()
        api = self

        class Handler(_Handler):
            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorMessage":"not found"}')
                invocation = api._pending.get()
                api._current[invocation.request_id] = invocation
                headers = {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
                    "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                }
                invocation.handed_at = time.perf_counter()
                self._reply(200, invocation.event, headers)

            def do_POST(self) -> None:
                now = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == f"{PREFIX}/init/error":
                    api.init_error = _json_or_text(body)
                    self._reply(202, b'{"status":"OK"}')
                    api.failed.set()
                    return
                parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
                invocation = api._current.pop(parts[0], None) if len(parts) == 2 else None
                if invocation is None or parts[1] not in ("response", "error"):
                    return self._reply(404, b'{"errorMessage":"not found"}')
                invocation.answered_at = now
                if parts[1] == "response":
                    invocation.response = body
                else:
                    invocation.error = _json_or_text(body)
                self._reply(202, b'{"status":"OK"}')
                invocation.done.set()

        self.server, self.port = _serve(Handler)

    def invoke(self, event: bytes, function_name: str, timeout: float = 30.0) -> Steady:
        """Hands the event to the function and waits for its answer (or an
        init error, or ``timeout``: then ``done`` is not set)."""
        invocation = Steady(event, function_name)
        self._pending.put(invocation)
        deadline = time.monotonic() + timeout
        while not invocation.done.wait(0.05):
            if self.failed.is_set() or time.monotonic() > deadline:
                break
        return invocation

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
