"""The example model's `/invocations` latency, as `make bench` reports it.

Trains examples/diabetes-regression once into a temporary /opt/ml tree, starts
its `serve` on a free loopback port with one worker (as the emulator's local
SageMaker runs it), and times `--requests` sequential POSTs of the sample
request (text/csv, its rows), each on a new connection as SageMaker's front
end makes them. Prints p50/p99/max in milliseconds; `measure()` returns them.

Usage: .venv/bin/python bench/example_latency.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "diabetes-regression"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def measure(requests: int = 200) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-example-") as root:
        opt_ml = Path(root)
        train = opt_ml / "input" / "data" / "train"
        train.mkdir(parents=True)
        (train / "diabetes.csv").write_bytes((EXAMPLE / "data" / "diabetes.csv").read_bytes())
        env = dict(os.environ, OPT_ML=str(opt_ml), PYTHONUNBUFFERED="1")
        subprocess.run([sys.executable, str(EXAMPLE / "train")], env=env, check=True, capture_output=True)

        port = _free_port()
        env.update(SERVE_HOST="127.0.0.1", SAGEMAKER_BIND_TO_PORT=str(port), SAGEMAKER_MODEL_SERVER_WORKERS="1")
        server = subprocess.Popen(
            [sys.executable, str(EXAMPLE / "serve")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/ping", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the example's serve did not answer /ping")
                time.sleep(0.05)

            body = (EXAMPLE / "sample-request.csv").read_bytes()
            rows = len([line for line in body.splitlines() if line.strip()])
            timings = []
            for _ in range(requests):
                request = urllib.request.Request(
                    f"{base}/invocations", data=body, headers={"Content-Type": "text/csv"}, method="POST"
                )
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=10) as answer:
                    predictions = answer.read().split()
                timings.append((time.perf_counter() - started) * 1000)
                if len(predictions) != rows:
                    raise RuntimeError(f"{rows} rows sent, {len(predictions)} predictions back")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    timings.sort()
    return {
        "requests": requests,
        "rows_per_request": rows,
        "workers": 1,
        "p50_ms": round(_percentile(timings, 0.50), 2),
        "p99_ms": round(_percentile(timings, 0.99), 2),
        "max_ms": round(timings[-1], 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args(argv)
    print(json.dumps(measure(options.requests)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
