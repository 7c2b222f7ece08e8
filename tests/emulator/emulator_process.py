"""The emulator as a child process, for Python callers: start it, wait for it,
reach it, stop it. The one implementation behind the emulator's tests
(harness.py), `make bench` (bench/bench.py) and `make demo` (scripts/demo.sh
runs the launcher with `--ignore-stdin` and reads the same READY line);
the Rust tests do the same in tests/src/lib.rs (`integration::Emulator`).

The protocol is launcher.py's: it prints ``READY <port>`` once it accepts
connections and stops when its standard input closes (or on SIGTERM), so a
caller that dies never leaves it behind.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, IO

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
REGION = "us-east-1"
START_TIMEOUT = 60.0


class EmulatorError(RuntimeError):
    """The emulator did not start."""


class EmulatorProcess:
    """One emulator with fresh state on a free loopback port.

    ``arguments``: extra launcher options (e.g. ``["--local-images", file]``);
    ``stderr``: where its log goes (default: this process's stderr).
    """

    def __init__(self, arguments: list[str] | None = None, stderr: IO[Any] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE")}
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--host", "127.0.0.1", *(arguments or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            raise EmulatorError(f"the emulator did not report READY within {START_TIMEOUT:.0f} s: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "sagemaker", region: str = REGION, **config: Any):
        """A boto3 client of the emulator (dummy credentials). ``config``:
        botocore Config options, e.g. ``retries``, ``parameter_validation``."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(**config) if config else None,
        )

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """A request to the emulator's own endpoints (/_emulator/...): (status,
        JSON answer). ``body``: bytes as they are, None for none, else JSON."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint_url + path, data=body, headers={"Content-Type": "application/json"}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self) -> None:
        """Closes its standard input (it stops itself), then waits; kills it
        if it has not stopped within 10 s."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
