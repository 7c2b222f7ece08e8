"""Fixtures of the example's tests: a temporary /opt/ml tree, `train` and
`serve` run as SageMaker runs them (plain processes here, OPT_ML pointing at
the tree), and helpers to talk to a server.

Servers bind to 127.0.0.1 on a free port and are always stopped.
"""

from __future__ import annotations

import http.client
import importlib.machinery
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
DATASET = EXAMPLE / "data" / "diabetes.csv"
SAMPLE_REQUEST = EXAMPLE / "sample-request.csv"

# model_server and data/make_dataset.py are imported by the tests too.
sys.path.insert(0, str(EXAMPLE))


@dataclass
class OptMl:
    """A /opt/ml tree under a temporary directory."""

    root: Path

    def channel(self, name: str) -> Path:
        path = self.root / "input" / "data" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_hyperparameters(self, values: dict) -> None:
        path = self.root / "input" / "config" / "hyperparameters.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")

    def write_input_data_config(self, channels: dict) -> None:
        path = self.root / "input" / "config" / "inputdataconfig.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(channels), encoding="utf-8")

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def evaluation(self) -> Path:
        return self.root / "output" / "data" / "evaluation.json"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    def run_train(self) -> subprocess.CompletedProcess:
        # Executed through its shebang, with this interpreter's directory first
        # on PATH so that `/usr/bin/env python3` finds the test's own Python.
        env = dict(os.environ, OPT_ML=str(self.root))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run([str(EXAMPLE / "train")], env=env, capture_output=True, text=True, timeout=60)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def train_in_process(monkeypatch, capsys):
    """`train`'s main() in this process: the same code as the script, without
    a Python start-up per case, for the many failure cases."""
    loader = importlib.machinery.SourceFileLoader("train_script", str(EXAMPLE / "train"))
    module = types.ModuleType(loader.name)
    loader.exec_module(module)

    def run(tree: OptMl) -> Outcome:
        monkeypatch.setenv("OPT_ML", str(tree.root))
        capsys.readouterr()
        code = module.main()
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return run


@pytest.fixture
def opt_ml(tmp_path) -> OptMl:
    """An empty /opt/ml tree."""
    return OptMl(tmp_path / "ml")


@pytest.fixture
def opt_ml_with_data(opt_ml) -> OptMl:
    """A /opt/ml tree whose train channel holds the example's data."""
    shutil.copy(DATASET, opt_ml.channel("train") / "diabetes.csv")
    return opt_ml


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One training run with the default hyperparameters, shared by the tests
    that only read its outputs (and by the server)."""
    tree = OptMl(tmp_path_factory.mktemp("trained") / "ml")
    shutil.copy(DATASET, tree.channel("train") / "diabetes.csv")
    started = time.monotonic()
    result = tree.run_train()
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    return tree, result, seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`serve` as a subprocess on 127.0.0.1, one worker."""

    def __init__(self, opt_ml_root: Path, **env):
        self.port = free_port()
        # A file, not a pipe: a pipe nobody reads would block a chatty server.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLE / "serve")],
            env={
                **os.environ,
                "OPT_ML": str(opt_ml_root),
                "SERVE_HOST": "127.0.0.1",
                "SAGEMAKER_BIND_TO_PORT": str(self.port),
                "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/ping")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not answer /ping within {timeout}s")

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output(self) -> str:
        """Everything it printed, once stopped."""
        self.stop()
        self.log.seek(0)
        return self.log.read()


@pytest.fixture(scope="module")
def server(trained):
    """One server for a module's tests. Stopping it checks SIGTERM: gunicorn
    finishes and exits 0."""
    tree, _, _ = trained
    running = Server(tree.root)
    try:
        running.wait_ready()
        yield running
    finally:
        code = running.stop()
    assert code == 0, f"serve exited with {code} on SIGTERM:\n{running.output()}"
