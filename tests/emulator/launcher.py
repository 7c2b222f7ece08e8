"""Starts the project's local AWS emulator: moto's server plus this directory's patches.

Usage (from the repository root, after tests/emulator/ensure-venv.sh):

    .venv/bin/python tests/emulator/launcher.py [--host 127.0.0.1] [--port 0]

* Binds 127.0.0.1 on a free port (port 0: the kernel picks one) unless told
  otherwise.
* Once the server accepts connections, prints exactly one line to stdout,
  ``READY <port>``, and flushes it. Nothing else is ever written to stdout.
* Stops cleanly (exit 0) on SIGTERM or SIGINT, or when its standard input
  reaches end-of-file: a test process that dies, however it dies, closes the
  pipe and so never leaves an emulator behind. Run it with ``--ignore-stdin``
  to keep it up in the background by hand.
* Applies sagemaker_rules and events_rules (what stock moto lacks, see their
  docstrings), local_sagemaker (training jobs and endpoints of the local example
  models run for real, with ``--local-images FILE``), control, the test-control endpoint under /_emulator/ (see
  control.py), scheduler_rules (EventBridge Scheduler's schedules fire, on a
  clock tests can move; see scheduler_rules.py), lambda_pollers (SQS event
  source mappings that invoke a function's Invoke API, and moto's SQS at
  scale; see lambda_pollers.py), and faults, the call log and fault injection
  (see faults.py), before the server starts.
* Request logging is off; set EMULATOR_VERBOSE=1 to log requests to stderr.
  Server errors (tracebacks) always go to stderr.

Clients use any region, dummy credentials (e.g. test/test) and the endpoint
``http://127.0.0.1:<port>`` (AWS_ENDPOINT_URL for the SDKs). Moto's default
account is 123456789012.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time


def _wait_accepting(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _watch_stdin(stop: threading.Event) -> None:
    # os.read on the raw descriptor, not sys.stdin: a daemon thread blocked in a
    # buffered read holds the buffer's lock and aborts the interpreter at exit.
    try:
        fd = sys.stdin.fileno()
        while os.read(fd, 4096):
            pass  # input is ignored; only its end matters
    except (OSError, ValueError):
        pass
    stop.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--local-images",
        help="JSON file mapping ECR repositories to local example models that "
        "training jobs and endpoints run for real (local_sagemaker.py); default: "
        "$EMULATOR_LOCAL_IMAGES, else none",
    )
    parser.add_argument(
        "--ignore-stdin",
        action="store_true",
        help="do not stop when standard input closes",
    )
    options = parser.parse_args()

    if os.environ.get("EMULATOR_VERBOSE") != "1":
        # werkzeug logs each request at INFO; it leaves a level that is set alone.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    # Beside this file; sys.path[0] is this script's directory.
    import control
    import events_rules
    import faults
    import lambda_pollers
    import local_processing
    import local_sagemaker
    import sagemaker_rules
    import scheduler_rules
    from moto.server import ThreadedMotoServer

    sagemaker_rules.install()
    events_rules.install()
    control.install()
    local_sagemaker.install(options.local_images)
    local_processing.install()
    scheduler_rules.install()
    lambda_pollers.install()
    faults.install()  # outermost: it sees every request first

    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = ThreadedMotoServer(ip_address=options.host, port=options.port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        _wait_accepting(host, port)
        if not options.ignore_stdin:
            threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
        print(f"READY {port}", flush=True)
        # Whatever else gets printed (moto, werkzeug) must not reach the pipe the
        # caller stops reading after READY: from here on, fd 1 is stderr.
        os.dup2(2, 1)
        while not stop.wait(0.1):
            pass
    finally:
        server.stop()
        scheduler_rules.shutdown()
        lambda_pollers.shutdown()
        local_sagemaker.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
