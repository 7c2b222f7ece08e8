"""The scripts run on Linux only, and say so up front: ensure-venv.sh, the
first step of every make target that tests or demonstrates and of
scripts/demo.sh, stops at once on another system, before it installs or
starts anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_another_system_is_refused_up_front(tmp_path: Path) -> None:
    uname = tmp_path / "uname"  # a Mac's answer
    uname.write_text("#!/bin/sh\necho Darwin\n")
    uname.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "PYTHON": "/nonexistent/python3"}
    result = subprocess.run(
        ["bash", str(ROOT / "tests" / "emulator" / "ensure-venv.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "run on Linux only, and this is Darwin" in result.stderr, result.stderr
    assert result.stdout == ""


def test_every_make_target_that_builds_or_runs_checks_first() -> None:
    """make's first step for test, demo and invoke is the venv's (ensure-venv.sh),
    so on another system they stop before compiling anything."""
    for target in ("test", "demo", "invoke"):
        result = subprocess.run(
            ["make", "--no-print-directory", "-n", target, "FN=trigger_model_training", "EVENT=events/ecr-push.json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        first = result.stdout.splitlines()[0]
        assert first == "bash tests/emulator/ensure-venv.sh", (target, first)
